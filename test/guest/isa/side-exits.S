// Loops whose side paths are taken a known number of times, for the trace tier's branch
// growth: under low thresholds a trace tree is compact and an exit grows its first branch
// only after 16 times the trace threshold; once promoted (65536 loop passes) its exits
// count afresh at the threshold.

#include "macros.h"

RVTEST_CODE_BEGIN

  // 2: 200 passes, a side path on 6 of them (i & 31 == 31)
  li TESTNUM, 2
  li s0, 0
  li s1, 200
  li a0, 0
loopA:
  andi t0, s0, 31
  li t1, 31
  bne t0, t1, 1f
  addi a0, a0, 7
1:
  add a0, a0, s0
  addi s0, s0, 1
  blt s0, s1, loopA
  CHECK_IMM(a0, 0x4de6)

  // 3: 200 passes, a side path on 50 of them (i & 3 == 3)
  li TESTNUM, 3
  li s0, 0
  li s1, 200
  li a0, 0
loopB:
  andi t0, s0, 3
  li t1, 3
  bne t0, t1, 1f
  addi a0, a0, 7
1:
  add a0, a0, s0
  addi s0, s0, 1
  blt s0, s1, loopB
  CHECK_IMM(a0, 0x4f1a)

  // 4: 90000 passes, a side path on 10 of them (i & 8191 == 8191): 8 before the 65536th
  // pass, 2 after
  li TESTNUM, 4
  li s0, 0
  li s1, 90000
  li a0, 0
  li t2, 8191
loopC:
  and t0, s0, t2
  bne t0, t2, 1f
  addi a0, a0, 7
1:
  add a0, a0, s0
  addi s0, s0, 1
  blt s0, s1, loopC
  CHECK_IMM(a0, 0xf16568fe)

  RVTEST_PASS
