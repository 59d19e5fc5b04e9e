// Loops inside loops for the trace tier. An outer loop whose rare side exit runs an inner
// loop before it returns to the outer head: a branch grown at that side exit stops where
// the inner loop comes round again (a cycle that is not the trace's own loop), and that
// branch's end must not grow again, or every growth would unroll the inner loop once more.
#include "macros.h"

RVTEST_CODE_BEGIN

  // 2: one iteration in 8 runs the inner loop six times
  li TESTNUM, 2
  li a2, 0
  li s0, 0
  li s1, 400
outer2:
  andi t0, s0, 7
  bnez t0, skip2
  li t1, 6
inner2:
  addi a2, a2, 7
  addi t1, t1, -1
  bnez t1, inner2
skip2:
  addi s0, s0, 1
  blt s0, s1, outer2
  CHECK_IMM(a2, 50 * 6 * 7)

  RVTEST_PASS
