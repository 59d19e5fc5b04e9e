// Loads and stores of every width: sign and zero extension, offsets of both signs, stores
// that touch only their bytes, and misaligned loads and stores, which this hart performs
// in place (no trap), including ones that straddle a page boundary.
#include "macros.h"

RVTEST_CODE_BEGIN

  // lb / lbu (tdat bytes: ff 00 ff 00  00 ff 00 ff  f0 0f f0 0f  0f f0 0f f0)
  TEST_LD_OP(2,  lb,  0xffffffff, 0, tdat)
  TEST_LD_OP(3,  lb,  0x00000000, 1, tdat)
  TEST_LD_OP(4,  lb,  0xfffffff0, 8, tdat)
  TEST_LD_OP(5,  lb,  0x0000000f, 9, tdat)
  TEST_LD_OP(6,  lb,  0x0000000f, -3, tdat4)
  TEST_LD_OP(7,  lb,  0x0000000f, -1, tdat4)
  TEST_LD_OP(8,  lbu, 0x000000ff, 0, tdat)
  TEST_LD_OP(9,  lbu, 0x00000000, 1, tdat)
  TEST_LD_OP(10, lbu, 0x000000f0, 8, tdat)
  TEST_LD_OP(11, lbu, 0x0000000f, 9, tdat)
  TEST_LD_OP(12, lbu, 0x000000f0, -4, tdat4)
  TEST_LD_OP(13, lb,  0xffffff80, 0, tbyte80)
  TEST_LD_OP(14, lbu, 0x00000080, 0, tbyte80)
  TEST_LD_OP(15, lb,  0x0000007f, 1, tbyte80)

  // lh / lhu
  TEST_LD_OP(20, lh,  0x000000ff, 0, tdat)
  TEST_LD_OP(21, lh,  0xffffff00, 4, tdat)
  TEST_LD_OP(22, lh,  0x00000ff0, 8, tdat)
  TEST_LD_OP(23, lh,  0xfffff00f, 12, tdat)
  TEST_LD_OP(24, lh,  0x00000ff0, -2, tdat4)
  TEST_LD_OP(25, lhu, 0x000000ff, 0, tdat)
  TEST_LD_OP(26, lhu, 0x0000ff00, 4, tdat)
  TEST_LD_OP(27, lhu, 0x00000ff0, 8, tdat)
  TEST_LD_OP(28, lhu, 0x0000f00f, 12, tdat)
  TEST_LD_OP(29, lhu, 0x0000ff00, -6, tdat4)
  TEST_LD_OP(30, lh,  0xffff8000, 0, thalf8000)
  TEST_LD_OP(31, lhu, 0x00008000, 0, thalf8000)
  TEST_LD_OP(32, lh,  0x00007fff, 2, thalf8000)

  // lw
  TEST_LD_OP(40, lw, 0x00ff00ff, 0, tdat)
  TEST_LD_OP(41, lw, 0xff00ff00, 4, tdat)
  TEST_LD_OP(42, lw, 0x0ff00ff0, 8, tdat)
  TEST_LD_OP(43, lw, 0xf00ff00f, 12, tdat)
  TEST_LD_OP(44, lw, 0x0ff00ff0, -4, tdat4)
  TEST_LD_OP(45, lw, 0xff00ff00, -8, tdat4)
  TEST_CASE(46, x0, 0, la x1, tdat; lw x0, 0(x1))

  // stores, read back with the same width
  TEST_ST_OP(50, lb,  sb, 0xffffffaa, 0, sdat)
  TEST_ST_OP(51, lb,  sb, 0x00000000, 1, sdat)
  TEST_ST_OP(52, lbu, sb, 0x000000a0, 2, sdat)
  TEST_ST_OP(53, lb,  sb, 0x0000000a, 3, sdat)
  TEST_ST_OP(54, lh,  sh, 0x000000aa, 0, sdat + 8)
  TEST_ST_OP(55, lh,  sh, 0xffffaa00, 2, sdat + 8)
  TEST_ST_OP(56, lhu, sh, 0x0000a00a, 4, sdat + 8)
  TEST_ST_OP(57, lh,  sh, 0xffffa00a, -2, sdat + 16)
  TEST_ST_OP(58, lw,  sw, 0xaabbccdd, 0, sdat + 16)
  TEST_ST_OP(59, lw,  sw, 0x12345678, -4, sdat + 24)
  TEST_ST_OP(60, lw,  sw, 0xa00aa00a, 4, sdat + 24)

  // a byte store changes that byte only
  li TESTNUM, 70
  la x1, sdat + 32
  li x2, 0x11223344
  sw x2, 0(x1)
  li x2, 0xee
  sb x2, 1(x1)
  lw x14, 0(x1)
  CHECK_IMM(x14, 0x1122ee44)
  // only the low byte of rs2 is stored
  li TESTNUM, 71
  li x2, 0x123456ab
  sb x2, 3(x1)
  lw x14, 0(x1)
  CHECK_IMM(x14, 0xab22ee44)
  // a halfword store changes those two bytes only
  li TESTNUM, 72
  li x2, 0xcafebeef
  sh x2, 2(x1)
  lw x14, 0(x1)
  CHECK_IMM(x14, 0xbeefee44)
  // and its bytes are little-endian
  li TESTNUM, 73
  lbu x14, 2(x1)
  CHECK_IMM(x14, 0xef)
  lbu x14, 3(x1)
  CHECK_IMM(x14, 0xbe)

  // a store and a load through the same base register (rd == base)
  li TESTNUM, 74
  la x1, sdat + 40
  la x2, sdat + 44
  sw x2, 0(x1)
  lw x1, 0(x1)
  bne x1, x2, fail

  // ---- misaligned, in place ----
  // mdat: 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff
  TEST_LD_OP(100, lw,  0x44332211, 1, mdat)
  TEST_LD_OP(101, lw,  0x55443322, 2, mdat)
  TEST_LD_OP(102, lw,  0x66554433, 3, mdat)
  TEST_LD_OP(103, lw,  0xccbbaa99, 9, mdat)
  TEST_LD_OP(104, lh,  0x00002211, 1, mdat)
  TEST_LD_OP(105, lh,  0x00004433, 3, mdat)
  TEST_LD_OP(106, lh,  0xffffaa99, 9, mdat)
  TEST_LD_OP(107, lhu, 0x0000aa99, 9, mdat)
  TEST_LD_OP(108, lhu, 0x0000ccbb, 11, mdat)
  TEST_LD_OP(109, lh,  0xffffeedd, 13, mdat)

  // misaligned stores, checked with aligned loads
  li TESTNUM, 110
  la x1, mst
  sw zero, 0(x1)
  sw zero, 4(x1)
  li x2, 0xa1b2c3d4
  sw x2, 1(x1)
  lw x14, 0(x1)
  CHECK_IMM(x14, 0xb2c3d400)
  lw x14, 4(x1)
  CHECK_IMM(x14, 0x000000a1)
  li TESTNUM, 111
  li x2, 0x01020304
  sw x2, 3(x1)
  lw x14, 0(x1)
  CHECK_IMM(x14, 0x04c3d400)
  lw x14, 4(x1)
  CHECK_IMM(x14, 0x00010203)
  li TESTNUM, 112
  li x2, 0xbeef
  sh x2, 1(x1)
  lw x14, 0(x1)
  CHECK_IMM(x14, 0x04beef00)
  li TESTNUM, 113
  li x2, 0x5a6b
  sh x2, 3(x1)
  lw x14, 0(x1)
  CHECK_IMM(x14, 0x6bbeef00)
  lw x14, 4(x1)
  CHECK_IMM(x14, 0x0001025a)
  // and read back misaligned
  li TESTNUM, 114
  lw x14, 3(x1)
  CHECK_IMM(x14, 0x01025a6b)
  lh x14, 3(x1)
  CHECK_IMM(x14, 0x5a6b)
  lhu x14, 1(x1)
  CHECK_IMM(x14, 0xbeef)
  lh x14, 1(x1)
  CHECK_IMM(x14, 0xffffbeef)

  // misaligned across a page boundary
  li TESTNUM, 120
  la x1, page_edge
  li x2, 0x8899aabb
  sw x2, -2(x1)
  lw x14, -2(x1)
  CHECK_IMM(x14, 0x8899aabb)
  lhu x14, -4(x1)
  CHECK_IMM(x14, 0)
  lhu x14, -2(x1)
  CHECK_IMM(x14, 0xaabb)
  lhu x14, 0(x1)
  CHECK_IMM(x14, 0x8899)
  li TESTNUM, 121
  li x2, 0x7766
  sh x2, -1(x1)
  lw x14, -4(x1)
  CHECK_IMM(x14, 0x66bb0000)
  lw x14, 0(x1)
  CHECK_IMM(x14, 0x00008877)
  lh x14, -1(x1)
  CHECK_IMM(x14, 0x7766)
  li TESTNUM, 122
  lw x14, -3(x1)
  CHECK_IMM(x14, 0x7766bb00)
  lw x14, -1(x1)
  CHECK_IMM(x14, 0x00887766)

  // no trap was taken on the way
  li TESTNUM, 130
  EXPECT_MCOUNT(0)

  RVTEST_PASS

  .data
  .align 4
tdat:
  .word 0x00ff00ff
  .word 0xff00ff00
  .word 0x0ff00ff0
tdat4:
  .word 0xf00ff00f
tbyte80:
  .byte 0x80, 0x7f, 0, 0
thalf8000:
  .half 0x8000, 0x7fff
  .align 4
sdat:
  .fill 16, 4, 0xdeadbeef
mdat:
  .byte 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77
  .byte 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
mst:
  .word 0, 0, 0, 0
  .balign 4096
  .fill 1023, 4, 0
  .word 0
page_edge:
  .word 0
