// A loop long enough (about 9 M instructions) for a JIT tier at its default thresholds,
// where the interpreter is sampled (every 2^20 instructions) rather than counted: the
// loop and the helper it calls must be found hot and compiled, and entered from the
// interpreter at their first instruction.
#include "macros.h"

RVTEST_CODE_BEGIN

  // 2: a = a * 31 + (i ^ (i >> 3)) for i below 900000, in a helper
  li TESTNUM, 2
  li a0, 0
  li s0, 0
  li s1, 900000
loop2:
  mv a1, s0
  jal ra, mix
  addi s0, s0, 1
  blt s0, s1, loop2
  CHECK_IMM(a0, 0xb9437b00)

  RVTEST_PASS

mix:
  slli t0, a0, 5
  sub t0, t0, a0
  srli t1, a1, 3
  xor t1, t1, a1
  add a0, t0, t1
  ret
