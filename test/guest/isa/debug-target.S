// A program to debug (test/gdb): a loop that calls `step_fn` 3000 times, which folds its
// argument into `accum` (a store every call); every 1000th call also stores to `target`
// (at `store_target`), so the last store to `target` is at a known place. A debugger's
// watchpoint on `target` then finds three writers, and a breakpoint on `step_fn` 3000 hits.
#include "macros.h"

RVTEST_CODE_BEGIN

  li TESTNUM, 2
  li s0, 0
  li s1, 3000
outer:
  mv a0, s0
  jal ra, step_fn
  addi s0, s0, 1
  blt s0, s1, outer
  la t0, target
  lw a0, 0(t0)
  CHECK_IMM(a0, 2999)
  la t0, accum
  lw a0, 0(t0)
  CHECK_IMM(a0, 0x842af380)

  RVTEST_PASS

  .globl step_fn
step_fn:
  la t0, accum
  lw t1, 0(t0)
  slli t2, t1, 5
  add t1, t1, t2
  xor t1, t1, a0
  sw t1, 0(t0)
  li t2, 1000
  remu t2, a0, t2
  li t3, 999
  bne t2, t3, 1f
  la t0, target
  .globl store_target
store_target:
  sw a0, 0(t0)
  .globl after_store
after_store:
  nop
1:
  ret

  .data
  .align 4
  .globl accum
accum: .word 0
  .globl target
target: .word 0
