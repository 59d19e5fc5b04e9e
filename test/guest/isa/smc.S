// Self-modifying code: stores that rewrite instructions the hart is about to run, in the
// running block, in the next block (already run and translated), inside hot loops
// (traced, and entered by a block's direct call) and in the block a trace's exit leads to,
// with and without fence.i. deja's fetch always sees memory (DESIGN.md I6), so the new
// instruction runs in every case, whatever the tier.
#include "macros.h"

#define ADDI_A0_1   0x00150513   // addi a0, a0, 1
#define ADDI_A0_2   0x00250513   // addi a0, a0, 2
#define ADDI_A0_4   0x00450513   // addi a0, a0, 4
#define ADDI_A0_100 0x06450513   // addi a0, a0, 100

RVTEST_CODE_BEGIN

  // 2: a later instruction of the running block, no fence.i. Without fence.i the ISA lets
  // a hart run the stale instruction, and QEMU 7.2 does; deja's fetch always sees memory,
  // so this test runs only in deja's build.
#ifndef QEMU_SYSCON
  li TESTNUM, 2
  li a0, 0
  la t0, 1f
  li t1, ADDI_A0_2
  sw t1, 0(t0)
1:addi a0, a0, 1
  CHECK_IMM(a0, 2)
#endif

  // 3: the same with fence.i between the store and the instruction
  li TESTNUM, 3
  li a0, 0
  la t0, 1f
  li t1, ADDI_A0_4
  sw t1, 0(t0)
  fence.i
1:addi a0, a0, 1
  CHECK_IMM(a0, 4)

  // 4: a called block that has run 20 times is rewritten; the next 30 calls run the new code
  li TESTNUM, 4
  li a0, 0
  li s0, 0
  li s1, 50
  la t0, sub4
  li t1, ADDI_A0_100
loop4:
  jal ra, sub4
  addi s0, s0, 1
  li t2, 20
  bne s0, t2, 2f
  sw t1, 0(t0)
2:blt s0, s1, loop4
  CHECK_IMM(a0, 20 + 30 * 100)

  // 5: the next block inside a hot loop is rewritten at iteration 20 (with fence.i)
  li TESTNUM, 5
  li a0, 0
  li s0, 0
  li s1, 50
  la t0, 5f
  li t1, ADDI_A0_2
loop5:
  li t2, 20
  bne s0, t2, 4f
  sw t1, 0(t0)
  fence.i
4:
5:addi a0, a0, 1
  addi s0, s0, 1
  blt s0, s1, loop5
  CHECK_IMM(a0, 20 + 30 * 2)

  // 6: every iteration of a hot loop rewrites an instruction later in its own block (no
  // fence.i: deja's build only, as test 2)
#ifndef QEMU_SYSCON
  li TESTNUM, 6
  li a0, 0
  li s0, 0
  li s1, 50
  la t0, 6f
  li t1, ADDI_A0_2
  li t3, ADDI_A0_1
  sw t3, 0(t0)
loop6:
  sw t1, 0(t0)
6:addi a0, a0, 1
  sw t3, 0(t0)
  addi s0, s0, 1
  blt s0, s1, loop6
  CHECK_IMM(a0, 50 * 2)
#endif

  // 7: a hot loop (traced) with four rare exits; the block its fourth exit leads to is
  // rewritten between runs of that exit (with fence.i), and the next runs run the new
  // code. The trace stays: only its link at that exit goes (a trace's slot 3 is an
  // ordinary exit, where a block's is its return link).
  li TESTNUM, 7
  li a0, 0
  li s0, 0
  li s1, 120
  li s2, -1
  li s3, -1
  li s4, -1
  li s5, -1
loop7:
  addi s0, s0, 1
  andi t2, s0, 15
  beq t2, s2, fail
  beq t2, s3, fail
  beq t2, s4, fail
  beq t2, s5, exit7
back7:
  li t3, 40
  bne s0, t3, 1f
  li s5, 7                 // from here the fourth exit runs at s0 = 55, 71, 87, 103, 119
1:li t3, 80
  bne s0, t3, 2f
  la t0, exit7
  li t1, ADDI_A0_100
  sw t1, 0(t0)
  fence.i
2:blt s0, s1, loop7
  CHECK_IMM(a0, 2 * 1 + 3 * 100)

  // 8: a block outside a traced inner loop enters it by a direct call (its link holds the
  // trace); the loop's first instruction is rewritten after outer pass 10 (with fence.i):
  // the trace and that link go, and later passes run the new code.
  li TESTNUM, 8
  li a0, 0
  li s0, 0
  li s1, 30
  la t0, inner8
  li t1, ADDI_A0_2
outer8:
  li s2, 8
  j inner8
inner8:
  addi a0, a0, 1
  addi s2, s2, -1
  andi t2, s2, 1
  beqz t2, 1f              // two blocks: a loop the trace tier traces
1:bnez s2, inner8
  addi s0, s0, 1
  li t3, 10
  bne s0, t3, 2f
  sw t1, 0(t0)
  fence.i
2:blt s0, s1, outer8
  CHECK_IMM(a0, 10 * 8 * 1 + 20 * 8 * 2)

  RVTEST_PASS

exit7:
  addi a0, a0, 1
  j back7

sub4:
  addi a0, a0, 1
  ret
