// HTIF exit as riscv-tests' write_tohost does it on rv32: the low word (code << 1 | 1),
// then the high word (0), in a loop. The emulator must take the exit when the high word
// is written, not wait on or misread the low word. One putchar first ('!', odd) in the
// same order.
#include "macros.h"

RVTEST_CODE_BEGIN

  la s0, tohost
  li TESTNUM, 2
  li a0, '!'
  li a1, 0x01010000
  sw a0, 0(s0)
  sw a1, 4(s0)
#ifndef QEMU_SYSCON
  lw x14, 0(s0)
  bnez x14, fail
#endif
  li TESTNUM, 0
  fence
  RVTEST_EXIT_PASS
  li a0, 1
write_tohost:
  sw a0, 0(s0)
  sw zero, 4(s0)
  j write_tohost
