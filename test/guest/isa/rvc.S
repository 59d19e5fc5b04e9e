// Compressed instructions: every RV32C form (c.addi4spn, c.lw, c.sw, c.nop, c.addi,
// c.jal, c.li, c.addi16sp, c.lui, c.srli, c.srai, c.andi, c.sub, c.xor, c.or, c.and, c.j,
// c.beqz, c.bnez, c.slli, c.lwsp, c.jr, c.mv, c.ebreak, c.jalr, c.add, c.swsp), links of
// 2-byte jumps (pc + 2), and 32-bit instructions at 2-byte-aligned addresses, including
// one that straddles a page boundary.
#include "macros.h"

// A test whose code is compressed: the mnemonics are explicit c.* forms, so the
// assembler cannot silently use a 32-bit encoding. (The whole file assembles with
// .option rvc, so the frame's own instructions may be compressed too.)
#define TEST_C(testnum, testreg, correctval, code...) \
  TEST_CASE(testnum, testreg, correctval, code)

RVTEST_CODE_BEGIN
  .option rvc
  mv x20, sp

  // ---- quadrant 1: immediates and ALU ----
  TEST_C(2,  a0, 0x00000001, li a0, 0; c.li a0, 1)
  TEST_C(3,  a0, 0xffffffe0, li a0, 0; c.li a0, -32)
  TEST_C(4,  a0, 0x0000001f, li a0, 0; c.li a0, 31)
  TEST_C(5,  a0, 0x00000010, li a0, 1; c.addi a0, 15)
  TEST_C(6,  a0, 0xfffffff0, li a0, 0; c.addi a0, -16)
  TEST_C(7,  a0, 0x7fffffe1, li a0, 0x80000001; c.addi a0, -32)
  TEST_C(8,  s0, 0x00001000, li s0, 0; c.lui s0, 1)
  TEST_C(9,  s0, 0x0001f000, li s0, 0; c.lui s0, 31)
  TEST_C(10, s0, 0xfffe0000, li s0, 0; c.lui s0, 0xfffe0)
  TEST_C(11, s0, 0xfffff000, li s0, 0; c.lui s0, 0xfffff)
  TEST_C(12, t0, 0xfffe1000, li t0, 0; c.lui t0, 0xfffe1)
  TEST_C(13, a1, 0x01234567, li a1, 0x02468ace; c.srli a1, 1)
  TEST_C(14, a1, 0x00000001, li a1, 0x80000000; c.srli a1, 31)
  TEST_C(15, a1, 0xc0000000, li a1, 0x80000000; c.srai a1, 1)
  TEST_C(16, a1, 0xffffffff, li a1, 0x80000000; c.srai a1, 31)
  TEST_C(17, a1, 0x00002468, li a1, 0x000048d0; c.srai a1, 1)
  TEST_C(18, a2, 0x0000000a, li a2, 0x1234567a; c.andi a2, 15)
  TEST_C(19, a2, 0x12345660, li a2, 0x1234567a; c.andi a2, -32)
  TEST_C(20, a2, 0x00000000, li a2, 0x1234567a; c.andi a2, 0)
  TEST_C(21, a3, 0x0000000a, li a3, 17; li a4, 7; c.sub a3, a4)
  TEST_C(22, a3, 0x80000000, li a3, 0x7fffffff; li a4, -1; c.sub a3, a4)
  TEST_C(23, a3, 0xf00ff00f, li a3, 0xff00ff00; li a4, 0x0f0f0f0f; c.xor a3, a4)
  TEST_C(24, a3, 0xff0fff0f, li a3, 0xff00ff00; li a4, 0x0f0f0f0f; c.or a3, a4)
  TEST_C(25, a3, 0x0f000f00, li a3, 0xff00ff00; li a4, 0x0f0f0f0f; c.and a3, a4)
  TEST_C(26, a5, 0x0000000a, li a5, 3; c.nop; c.addi a5, 7)

  // ---- quadrant 2: shifts, moves, adds ----
  TEST_C(30, t1, 0x80000000, li t1, 1; c.slli t1, 31)
  TEST_C(31, t1, 0x48484848, li t1, 0x12121212; c.slli t1, 2)
  TEST_C(32, s2, 0xdeadbeef, li s2, 0; li t2, 0xdeadbeef; c.mv s2, t2)
  TEST_C(33, t2, 0xdeadbeef, li s2, 0; li t2, 0xdeadbeef; c.mv s2, t2)
  TEST_C(34, s2, 0x00000003, li s2, 1; li t2, 2; c.add s2, t2)
  TEST_C(35, s2, 0x00000000, li s2, 0xffffffff; li t2, 1; c.add s2, t2)
  TEST_C(36, s3, 0x00000008, li s3, 4; c.add s3, s3)

  // ---- stack-pointer forms ----
  la sp, cstack + 128
  TEST_C(40, sp, 0, la x7, cstack + 64; c.addi16sp sp, -64; sub sp, sp, x7)
  la sp, cstack + 128
  TEST_C(41, sp, 0, la x7, cstack + 128 + 496; c.addi16sp sp, 496; sub sp, sp, x7)
  la sp, cstack + 1024
  TEST_C(42, sp, 0, la x7, cstack + 1024 - 512; c.addi16sp sp, -512; sub sp, sp, x7)
  la sp, cstack + 128
  TEST_C(43, s0, 0, la x7, cstack + 128 + 4; c.addi4spn s0, sp, 4; sub s0, s0, x7)
  TEST_C(44, s1, 0, la x7, cstack + 128 + 1020; c.addi4spn s1, sp, 1020; sub s1, s1, x7)
  TEST_C(45, a0, 0x12345678, li a1, 0x12345678; c.swsp a1, 0(sp); c.lwsp a0, 0(sp))
  TEST_C(46, a0, 0xcafef00d, li a1, 0xcafef00d; c.swsp a1, 252(sp); c.lwsp a0, 252(sp))
  // c.lwsp and c.swsp use the whole register file
  TEST_C(47, t3, 0x0badf00d, li t4, 0x0badf00d; c.swsp t4, 16(sp); c.lwsp t3, 16(sp))
  // check the memory that c.swsp wrote with a 32-bit load
  TEST_CASE(48, a0, 0xcafef00d, lw a0, 252(sp))

  // ---- c.lw / c.sw ----
  la s0, cdata
  TEST_C(50, a0, 0x00ff00ff, c.lw a0, 0(s0))
  TEST_C(51, a0, 0xf00ff00f, c.lw a0, 12(s0))
  TEST_C(52, a1, 0x89abcdef, li a0, 0x89abcdef; c.sw a0, 124(s0); c.lw a1, 124(s0))
  TEST_C(53, a1, 0x13572468, li a0, 0x13572468; c.sw a0, 4(s0); lw a1, 4(s0))
  mv sp, x20

  // ---- jumps and branches ----
  // c.j forward and back
  li TESTNUM, 60
  c.j 2f
1:
  c.j 3f
  j fail
2:
  c.j 1b
  j fail
3:

  // c.jal links pc + 2
  li TESTNUM, 61
1:
  c.jal 2f
3:
  j fail
2:
  la x7, 3b
  bne ra, x7, fail
  la x7, 1b
  addi x7, x7, 2
  bne ra, x7, fail

  // c.jr: no link
  li TESTNUM, 62
  la a0, 2f
  li ra, 99
  c.jr a0
  j fail
2:
  li x7, 99
  bne ra, x7, fail

  // c.jalr links pc + 2 and jumps to the old value when rs1 is ra
  li TESTNUM, 63
  la a0, 2f
1:
  c.jalr a0
3:
  j fail
2:
  la x7, 3b
  bne ra, x7, fail
  li TESTNUM, 64
  la ra, 2f
1:
  c.jalr ra
3:
  j fail
2:
  la x7, 3b
  bne ra, x7, fail

  // c.beqz / c.bnez, taken and not taken
  li TESTNUM, 65
  li s0, 0
  c.beqz s0, 2f
  j fail
2:
  li TESTNUM, 66
  li s0, 1
  c.beqz s0, 9f
  j 8f
9:
  j fail
8:
  li TESTNUM, 67
  li s1, -1
  c.bnez s1, 2f
  j fail
2:
  li TESTNUM, 68
  li s1, 0
  c.bnez s1, 9f
  j 8f
9:
  j fail
8:
  // backwards: count down with c.bnez
  li TESTNUM, 69
  li a5, 10
  li a4, 0
1:
  c.addi a4, 3
  c.addi a5, -1
  c.bnez a5, 1b
  li x7, 30
  bne a4, x7, fail

  // ---- c.ebreak: breakpoint, mepc at the 2-byte instruction ----
  TEST_TRAP(70, CAUSE_BREAKPOINT, c.ebreak)
  // and a 32-bit ebreak for comparison
  TEST_TRAP(71, CAUSE_BREAKPOINT, .option norvc; ebreak; .option rvc)

  // ---- 32-bit instructions at 2-byte-aligned addresses ----
  li TESTNUM, 80
  .option rvc
  .balign 4
  c.nop
  addi a0, zero, 0x123     // at 4n + 2
  c.nop
  li x7, 0x123
  bne a0, x7, fail

  // a c.jr to a 2-byte-aligned 32-bit instruction
  li TESTNUM, 81
  la a1, 2f
  andi a2, a1, 3
  li x7, 2
  bne a2, x7, fail
  c.jr a1
  .balign 4
  c.nop
2:
  .option norvc
  lui a0, 0x54321
  .option rvc
  li x7, 0x54321000
  bne a0, x7, fail

  // a 32-bit instruction whose two halves are on two pages
  li TESTNUM, 82
  la a1, straddle
  li x7, 0xffe
  li a2, 0xfff
  and a2, a1, a2
  bne a2, x7, fail
  li a0, 0
  jalr ra, a1
  li x7, 0x7ab
  bne a0, x7, fail

  li TESTNUM, 90
  EXPECT_MCOUNT(2)   // the two ebreaks, nothing else

  RVTEST_PASS

  // a page-sized stretch of code: c.nop up to offset 4094 of the page, then a
  // 32-bit addi across the boundary, then c.jr ra
  .balign 4096
  .rept 2047
  c.nop
  .endr
straddle:
  .option norvc
  addi a0, zero, 0x7ab
  .option rvc
  c.jr ra

  .data
  .align 4
cdata:
  .word 0x00ff00ff, 0xff00ff00, 0x0ff00ff0, 0xf00ff00f
  .fill 32, 4, 0
  .align 4
cstack:
  .fill 512, 4, 0
