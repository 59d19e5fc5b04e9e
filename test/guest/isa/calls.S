// Calls and returns in hot loops: a helper called twice in one loop body, a helper that
// calls another, an indirect call through a register, and a loop that calls two helpers
// in turn (one return instruction, two return addresses). The block tier links the blocks
// after a call to the callee's return, and traces run through calls (a helper met twice
// under different return addresses is not a cycle).
#include "macros.h"

RVTEST_CODE_BEGIN

  // 2: twice the same helper per iteration
  li TESTNUM, 2
  li a0, 0
  li s0, 0
  li s1, 200
loop2:
  jal ra, add3
  jal ra, add3
  addi s0, s0, 1
  blt s0, s1, loop2
  CHECK_IMM(a0, 200 * 6)

  // 3: a helper that calls another (ra saved on the stack)
  li TESTNUM, 3
  li a0, 0
  li s0, 0
  li s1, 150
loop3:
  jal ra, add3_then_double
  addi s0, s0, 1
  blt s0, s1, loop3
  // a0 = ((a0 + 3) * 2) repeated: compare with the same computed in registers
  li a1, 0
  li s0, 0
ref3:
  addi a1, a1, 3
  slli a1, a1, 1
  addi s0, s0, 1
  blt s0, s1, ref3
  mv x14, a0
  mv x7, a1
  bne x14, x7, fail

  // 4: an indirect call through a register, alternating between two helpers
  li TESTNUM, 4
  li a0, 0
  li s0, 0
  li s1, 300
  la s2, add3
  la s3, add5
loop4:
  andi t0, s0, 1
  mv t1, s2
  beqz t0, 1f
  mv t1, s3
1:jalr ra, 0(t1)
  addi s0, s0, 1
  blt s0, s1, loop4
  CHECK_IMM(a0, 150 * 3 + 150 * 5)

  // 5: two call sites of one helper in turn, from two loops' bodies nested
  li TESTNUM, 5
  li a0, 0
  li s0, 0
  li s1, 40
outer5:
  li s4, 0
  li s5, 5
inner5:
  jal ra, add3
  addi s4, s4, 1
  blt s4, s5, inner5
  jal ra, add5
  addi s0, s0, 1
  blt s0, s1, outer5
  CHECK_IMM(a0, 40 * (5 * 3 + 5))

  RVTEST_PASS

add3:
  addi a0, a0, 3
  ret

add5:
  addi a0, a0, 5
  ret

add3_then_double:
  addi sp, sp, -16
  sw ra, 12(sp)
  jal ra, add3
  slli a0, a0, 1
  lw ra, 12(sp)
  addi sp, sp, 16
  ret

