// Conditional branches (taken and not taken, forward and backward, signed and unsigned
// edges), jal and jalr: link register = next pc, jalr clears bit 0 of the target,
// rd == rs1, negative offsets, x0 as link.
#include "macros.h"

RVTEST_CODE_BEGIN

  TEST_BR2_TAKEN(2, beq, 0, 0)
  TEST_BR2_TAKEN(3, beq, 1, 1)
  TEST_BR2_TAKEN(4, beq, -1, -1)
  TEST_BR2_NOTTAKEN(5, beq, 0, 1)
  TEST_BR2_NOTTAKEN(6, beq, 1, 0)
  TEST_BR2_NOTTAKEN(7, beq, -1, 1)
  TEST_BR2_NOTTAKEN(8, beq, 0x80000000, 0)

  TEST_BR2_TAKEN(10, bne, 0, 1)
  TEST_BR2_TAKEN(11, bne, 1, 0)
  TEST_BR2_TAKEN(12, bne, -1, 1)
  TEST_BR2_TAKEN(13, bne, 0x80000000, 0)
  TEST_BR2_NOTTAKEN(14, bne, 0, 0)
  TEST_BR2_NOTTAKEN(15, bne, -1, -1)

  TEST_BR2_TAKEN(20, blt, 0, 1)
  TEST_BR2_TAKEN(21, blt, -1, 1)
  TEST_BR2_TAKEN(22, blt, -2, -1)
  TEST_BR2_TAKEN(23, blt, 0x80000000, 0x7fffffff)
  TEST_BR2_NOTTAKEN(24, blt, 1, 0)
  TEST_BR2_NOTTAKEN(25, blt, 1, -1)
  TEST_BR2_NOTTAKEN(26, blt, -1, -2)
  TEST_BR2_NOTTAKEN(27, blt, 1, 1)
  TEST_BR2_NOTTAKEN(28, blt, 0x7fffffff, 0x80000000)

  TEST_BR2_TAKEN(30, bge, 0, 0)
  TEST_BR2_TAKEN(31, bge, 1, 1)
  TEST_BR2_TAKEN(32, bge, -1, -1)
  TEST_BR2_TAKEN(33, bge, 1, 0)
  TEST_BR2_TAKEN(34, bge, 1, -1)
  TEST_BR2_TAKEN(35, bge, -1, -2)
  TEST_BR2_TAKEN(36, bge, 0x7fffffff, 0x80000000)
  TEST_BR2_NOTTAKEN(37, bge, 0, 1)
  TEST_BR2_NOTTAKEN(38, bge, -1, 1)
  TEST_BR2_NOTTAKEN(39, bge, -2, -1)
  TEST_BR2_NOTTAKEN(40, bge, 0x80000000, 0x7fffffff)

  TEST_BR2_TAKEN(50, bltu, 0x00000000, 0x00000001)
  TEST_BR2_TAKEN(51, bltu, 0xfffffffe, 0xffffffff)
  TEST_BR2_TAKEN(52, bltu, 0x00000000, 0xffffffff)
  TEST_BR2_TAKEN(53, bltu, 0x7fffffff, 0x80000000)
  TEST_BR2_NOTTAKEN(54, bltu, 0x00000001, 0x00000000)
  TEST_BR2_NOTTAKEN(55, bltu, 0xffffffff, 0xfffffffe)
  TEST_BR2_NOTTAKEN(56, bltu, 0xffffffff, 0x00000000)
  TEST_BR2_NOTTAKEN(57, bltu, 0x80000000, 0x7fffffff)
  TEST_BR2_NOTTAKEN(58, bltu, 0x80000000, 0x80000000)

  TEST_BR2_TAKEN(60, bgeu, 0x00000000, 0x00000000)
  TEST_BR2_TAKEN(61, bgeu, 0xffffffff, 0xffffffff)
  TEST_BR2_TAKEN(62, bgeu, 0x00000001, 0x00000000)
  TEST_BR2_TAKEN(63, bgeu, 0xffffffff, 0xfffffffe)
  TEST_BR2_TAKEN(64, bgeu, 0xffffffff, 0x00000000)
  TEST_BR2_TAKEN(65, bgeu, 0x80000000, 0x7fffffff)
  TEST_BR2_NOTTAKEN(66, bgeu, 0x00000000, 0x00000001)
  TEST_BR2_NOTTAKEN(67, bgeu, 0xfffffffe, 0xffffffff)
  TEST_BR2_NOTTAKEN(68, bgeu, 0x00000000, 0xffffffff)
  TEST_BR2_NOTTAKEN(69, bgeu, 0x7fffffff, 0x80000000)

  // A branch on x0 and a branch over a long distance (beyond +-2 KiB)
  li TESTNUM, 70
  li x1, 0
  beq x0, x1, 1f
  j fail
1:
  li TESTNUM, 71
  bnez TESTNUM, far_forward
  j fail
far_back:
  j 2f
  .skip 3000
far_forward:
  li TESTNUM, 72
  beqz x0, far_back
  j fail
2:

  // jal: link = address of the next instruction; jal x0 links nothing
  li TESTNUM, 80
  li ra, 0
1:
  jal ra, 2f
3:
  j fail
2:
  la x7, 3b
  bne ra, x7, fail
  la x7, 1b
  addi x7, x7, 4
  bne ra, x7, fail

  li TESTNUM, 81
  li x1, 1234
  jal x0, 2f
  j fail
2:
  li x7, 1234
  bne x1, x7, fail

  // jal backwards
  li TESTNUM, 82
  j 3f
1:
  la x7, 4f
  bne x5, x7, fail
  j 5f
3:
  jal x5, 1b
4:
  j fail
5:

  // jalr: target = (rs1 + imm) & ~1, link = next pc
  li TESTNUM, 90
  la x6, 2f
  jalr x5, 0(x6)
1:
  j fail
2:
  la x7, 1b
  bne x5, x7, fail

  // bit 0 of the sum is cleared: rs1 odd
  li TESTNUM, 91
  la x6, 2f
  addi x6, x6, 1
  jalr x5, 0(x6)
1:
  j fail
2:
  la x7, 1b
  bne x5, x7, fail

  // bit 0 of the sum is cleared: rs1 even, immediate odd
  li TESTNUM, 92
  la x6, 2f
  addi x6, x6, -3
  jalr x5, 3(x6)
1:
  j fail
2:
  la x7, 1b
  bne x5, x7, fail

  // negative immediate, odd sum
  li TESTNUM, 93
  la x6, 2f
  addi x6, x6, 2000
  jalr x5, -1999(x6)
1:
  j fail
2:
  la x7, 1b
  bne x5, x7, fail

  // rd == rs1: the target is computed from the old value
  li TESTNUM, 94
  la x6, 2f
  jalr x6, 0(x6)
1:
  j fail
2:
  la x7, 1b
  bne x6, x7, fail

  // rd == x0 (jr) links nothing
  li TESTNUM, 95
  la x6, 2f
  li x1, 77
  jalr x0, 0(x6)
  j fail
2:
  li x7, 77
  bne x1, x7, fail

  // call and return through a real subroutine, twice
  li TESTNUM, 96
  li a0, 5
  call add_ten
  call add_ten
  li x7, 25
  bne a0, x7, fail

  // a loop: sum 1..100 with a backward branch
  li TESTNUM, 97
  li x1, 0
  li x2, 100
1:
  add x1, x1, x2
  addi x2, x2, -1
  bnez x2, 1b
  li x7, 5050
  bne x1, x7, fail

  RVTEST_PASS

add_ten:
  addi a0, a0, 10
  ret
