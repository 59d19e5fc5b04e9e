// A program to debug atomics and traps (test/gdb): 50 rounds of an ecall taken by the
// M-mode handler, an lr.w/sc.w increment of `counter` and an amoadd.w on `amoword`. A
// watchpoint on an sc must not make it fail when it runs again; a breakpoint on the
// handler stops at the trapping instruction's icount.
#include "macros.h"
RVTEST_CODE_BEGIN
  li TESTNUM, 2
  li s0, 0
  li s1, 50
loop:
  ARM_TRAP(back)
  .globl do_ecall
do_ecall:
  ecall
  .globl back
back:
  la t0, counter
  .globl do_lr
do_lr:
  lr.w t1, (t0)
  addi t1, t1, 1
  .globl do_sc
do_sc:
  sc.w t2, t1, (t0)
  bnez t2, do_lr
  la t0, amoword
  li t1, 3
  .globl do_amo
do_amo:
  amoadd.w t2, t1, (t0)
  addi s0, s0, 1
  blt s0, s1, loop
  la t0, counter
  lw a0, 0(t0)
  CHECK_IMM(a0, 50)
  RVTEST_PASS
  .data
  .align 4
  .globl counter
counter: .word 0
  .globl amoword
amoword: .word 0
