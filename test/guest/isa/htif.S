// HTIF tohost/fromhost as riscv-tests and Spike use them: a 64-bit tohost word with the
// device in bits 63:56 and the command in 55:48. Device 1 command 1 is console putchar:
// the host prints the low byte, clears tohost and answers in fromhost (same device and
// command, payload 0x100 | byte). An rv32 guest writes the two halves in either order,
// and a putchar whose low word is odd must not be taken for an exit (device 0, command
// 0, bit 0 set) just because the high word has not been written yet. The program ends
// with a lone low-word write of 1 (the high word is already 0): an exit with code 0.
// (On QEMU, which has no HTIF on virt, only the syscon exit is checked.)
#include "macros.h"

#define PUTCHAR_HI 0x01010000

// Checks that the host took a putchar of `ch`: tohost clear, fromhost answered (then
// clears fromhost for the next one). Clobbers x7, x14.
#ifdef QEMU_SYSCON
#define EXPECT_PUTCHAR(ch)
#else
#define EXPECT_PUTCHAR(ch) \
  lw x14, 0(s0); bnez x14, fail; lw x14, 4(s0); bnez x14, fail; \
  lw x14, 0(s1); CHECK_IMM(x14, 0x100 | (ch)); lw x14, 4(s1); CHECK_IMM(x14, PUTCHAR_HI); \
  sw zero, 0(s1); sw zero, 4(s1);
#endif

RVTEST_CODE_BEGIN

  la s0, tohost
  la s1, fromhost
  li a1, PUTCHAR_HI

  // low word first, then high (the order of riscv-tests' syscalls): 'o' is odd
  li TESTNUM, 2
  li a0, 'o'
  sw a0, 0(s0)
  sw a1, 4(s0)
  EXPECT_PUTCHAR('o')

  // high word first, then low: 'k' is odd too
  li TESTNUM, 3
  sw a1, 4(s0)
  li a0, 'k'
  sw a0, 0(s0)
  EXPECT_PUTCHAR('k')

  // low word first with a few instructions before the high word
  li TESTNUM, 4
  li a0, '\n'
  sw a0, 0(s0)
  nop
  nop
  nop
  sw a1, 4(s0)
  EXPECT_PUTCHAR('\n')

  // the end: a lone low-word write, the high word already 0
  li TESTNUM, 5
#ifndef QEMU_SYSCON
  lw x14, 4(s0)
  bnez x14, fail
#endif
  li TESTNUM, 0
  fence
  RVTEST_EXIT_PASS
  li t5, 1
  sw t5, 0(s0)
1:
  j 1b
