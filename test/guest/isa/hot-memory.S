// A hot loop with a load and a store in every pass (about 1 M instructions): under the
// trace tier at low thresholds its trace starts as compact code (accesses call the shared
// helpers) and is compiled again with inline accesses once its loop has run 65536 passes.

#include "macros.h"

RVTEST_CODE_BEGIN

  // 2: 100000 passes over a 64-word array: w[i & 63] = (w[i & 63] + i) ^ a; a += w[i & 63]
  li TESTNUM, 2
  la s2, words
  li s0, 0
  li s1, 100000
  li a0, 0
loop2:
  andi t0, s0, 63
  slli t0, t0, 2
  add t0, s2, t0
  lw t1, 0(t0)
  add t1, t1, s0
  xor t1, t1, a0
  sw t1, 0(t0)
  add a0, a0, t1
  addi s0, s0, 1
  blt s0, s1, loop2
  CHECK_IMM(a0, 0x9eeddc10)

  RVTEST_PASS

  .data
  .align 4
words:
  .fill 64, 4, 0
