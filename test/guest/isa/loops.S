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

  // 3: iterations 2 to 5 of the outer loop run an inner loop; the rest do not. A path
  // recorded from outer3 during one of them comes round the inner loop (a cycle) before
  // it returns to outer3: the head must be recorded again later, when the path is the
  // common one (run with --no-trace-at inner3, so that the inner loop is no trace head).
  li TESTNUM, 3
  li a2, 0
  li s0, 0
  li s1, 40
outer3:
  addi t0, s0, -2
  sltiu t0, t0, 4
  beqz t0, skip3
  li t1, 6
inner3:
  addi a2, a2, 3
  addi t1, t1, -1
  bnez t1, inner3
skip3:
  addi a2, a2, 1
  addi s0, s0, 1
  blt s0, s1, outer3
  CHECK_IMM(a2, 4 * 6 * 3 + 40)

  RVTEST_PASS
