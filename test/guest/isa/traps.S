// Exceptions: illegal instructions with mtval = the instruction's bits (32-bit,
// compressed, FP without F, unknown and read-only CSRs, privileged CSRs and xRET from
// lower modes, wfi in U-mode), ecall from M, S and U with the right mcause, ebreak and
// c.ebreak (cause 3), access faults for unmapped addresses, vectored mtvec (exceptions
// still go to the base), and the boot state (a0 = hartid 0, a1 = the device tree, misa).
#include "macros.h"

RVTEST_CODE_BEGIN

  // ---- boot state ----
  // a0 = mhartid = 0; a1 points at a device tree (magic d00dfeed, big-endian)
  li TESTNUM, 2
  bnez a0, fail
  csrr x14, mhartid
  bnez x14, fail
  li TESTNUM, 3
  lbu x14, 0(a1)
  CHECK_IMM(x14, 0xd0)
  lbu x14, 1(a1)
  CHECK_IMM(x14, 0x0d)
  lbu x14, 2(a1)
  CHECK_IMM(x14, 0xfe)
  lbu x14, 3(a1)
  CHECK_IMM(x14, 0xed)
  // misa: MXL = 1 (RV32), and A, C, I, M, S, U
  li TESTNUM, 4
  csrr x14, misa
  srli x15, x14, 30
  CHECK_IMM(x15, 1)
  li x7, (1 << 0) | (1 << 2) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20)
  and x15, x14, x7
  bne x15, x7, fail

  // ---- illegal instructions in M-mode: mtval holds the instruction ----
  TEST_TRAP(10, CAUSE_ILLEGAL_INSN, .word 0x1234500b)          // custom-0 opcode
  EXPECT_MTVAL(0x1234500b)
  TEST_TRAP(11, CAUSE_ILLEGAL_INSN, csrr a0, 0x7c0)             // no such CSR
  EXPECT_MTVAL_INSN(test_11_insn)
  EXPECT_MTVAL(0x7c002573)
  TEST_TRAP(12, CAUSE_ILLEGAL_INSN, csrw 0x7c0, a0)
  EXPECT_MTVAL_INSN(test_12_insn)
  // mhpmcounter19: like QEMU 7.2's virt, this hart has 16 HPM counters (3..18) and no
  // more (OpenSBI counts them by trapping on 19..31)
  TEST_TRAP(13, CAUSE_ILLEGAL_INSN, csrr a0, mhpmcounter19)
  EXPECT_MTVAL_INSN(test_13_insn)
  EXPECT_MTVAL(0xb1302573)
  TEST_TRAP(14, CAUSE_ILLEGAL_INSN, csrw mvendorid, a0)        // read-only CSR
  EXPECT_MTVAL_INSN(test_14_insn)
  li a0, 1
  TEST_TRAP(15, CAUSE_ILLEGAL_INSN, csrs mhartid, a0)          // a write, even of set bits
  EXPECT_MTVAL_INSN(test_15_insn)
  TEST_TRAP(16, CAUSE_ILLEGAL_INSN, csrw cycle, a0)
  EXPECT_MTVAL_INSN(test_16_insn)
  TEST_TRAP(17, CAUSE_ILLEGAL_INSN, csrwi instret, 0)
  EXPECT_MTVAL_INSN(test_17_insn)
  // reading a read-only CSR (csrrs with rs1 = x0) is fine
  li TESTNUM, 18
  csrrs x14, mhartid, x0
  csrrsi x14, mvendorid, 0
  csrr x14, cycle
  // an FP instruction: there is no F extension
  TEST_TRAP(19, CAUSE_ILLEGAL_INSN, .word 0x00052007)          // flw f0, 0(a0)
  EXPECT_MTVAL(0x00052007)

  // compressed illegal encodings: mtval is the 16-bit instruction
  TEST_TRAP(20, CAUSE_ILLEGAL_INSN, .half 0x6501; .half 0x0001) // c.lui a0, 0 (reserved)
  EXPECT_MTVAL(0x6501)
  EXPECT_MTVAL_INSN16(test_20_insn)
  TEST_TRAP(21, CAUSE_ILLEGAL_INSN, .half 0x6101; .half 0x0001) // c.addi16sp sp, 0 (reserved)
  EXPECT_MTVAL(0x6101)
  TEST_TRAP(22, CAUSE_ILLEGAL_INSN, .half 0x0004; .half 0x0001) // c.addi4spn s1, sp, 0 (reserved)
  EXPECT_MTVAL(0x0004)
  TEST_TRAP(23, CAUSE_ILLEGAL_INSN, .half 0x8002; .half 0x0001) // c.jr x0 (reserved)
  EXPECT_MTVAL(0x8002)
  TEST_TRAP(24, CAUSE_ILLEGAL_INSN, .half 0x6000; .half 0x0001) // c.flw: no F
  EXPECT_MTVAL(0x6000)
  TEST_TRAP(25, CAUSE_ILLEGAL_INSN, .half 0x0000; .half 0x0001) // all zeros
  EXPECT_MTVAL(0)
  // a compressed illegal at an address that is 2 mod 4, after a c.nop
  li TESTNUM, 27
  ARM_TRAP(2f)
  .half 0x0001
1:
  .half 0x6501
  .half 0x0001
  j fail
2:
  EXPECT_MCAUSE(CAUSE_ILLEGAL_INSN)
  EXPECT_MEPC(1b)
  EXPECT_MTVAL(0x6501)

  // ---- ecall and ebreak in M-mode ----
  TEST_TRAP(30, CAUSE_MACHINE_ECALL, ecall)
  EXPECT_MTVAL(0)
  EXPECT_MPP(PRV_M)
  TEST_TRAP(31, CAUSE_BREAKPOINT, ebreak)
  EXPECT_MPP(PRV_M)
  // mtval is 0 or the breakpoint's address
  TRAP_FIELD(x14, TS_TVAL)
  beqz x14, 1f
  la x7, test_31_insn
  bne x14, x7, fail
1:
  TEST_TRAP(32, CAUSE_BREAKPOINT, .half 0x9002; .half 0x0001)  // c.ebreak

  // ---- ecall and ebreak from S and U ----
  TEST_TRAP_IN_MODE(40, PRV_S, CAUSE_SUPERVISOR_ECALL, ecall)
  EXPECT_MTVAL(0)
  TEST_TRAP_IN_MODE(41, PRV_U, CAUSE_USER_ECALL, ecall)
  EXPECT_MTVAL(0)
  TEST_TRAP_IN_MODE(42, PRV_U, CAUSE_BREAKPOINT, ebreak)
  TEST_TRAP_IN_MODE(43, PRV_S, CAUSE_BREAKPOINT, ebreak)

  // ---- privileged instructions and CSRs from lower modes ----
  TEST_TRAP_IN_MODE(50, PRV_S, CAUSE_ILLEGAL_INSN, csrr a0, mstatus)
  EXPECT_MTVAL_INSN(test_50_insn)
  TEST_TRAP_IN_MODE(51, PRV_S, CAUSE_ILLEGAL_INSN, csrw mscratch, a0)
  EXPECT_MTVAL_INSN(test_51_insn)
  TEST_TRAP_IN_MODE(52, PRV_U, CAUSE_ILLEGAL_INSN, csrr a0, sstatus)
  EXPECT_MTVAL_INSN(test_52_insn)
  TEST_TRAP_IN_MODE(53, PRV_U, CAUSE_ILLEGAL_INSN, csrr a0, mepc)
  EXPECT_MTVAL_INSN(test_53_insn)
  TEST_TRAP_IN_MODE(54, PRV_S, CAUSE_ILLEGAL_INSN, mret)
  EXPECT_MTVAL(0x30200073)
  TEST_TRAP_IN_MODE(55, PRV_U, CAUSE_ILLEGAL_INSN, mret)
  EXPECT_MTVAL(0x30200073)
  TEST_TRAP_IN_MODE(56, PRV_U, CAUSE_ILLEGAL_INSN, sret)
  EXPECT_MTVAL(0x10200073)
  TEST_TRAP_IN_MODE(57, PRV_U, CAUSE_ILLEGAL_INSN, wfi)
  EXPECT_MTVAL(0x10500073)
  TEST_TRAP_IN_MODE(58, PRV_U, CAUSE_ILLEGAL_INSN, sfence.vma)
  EXPECT_MTVAL(0x12000073)
  TEST_TRAP_IN_MODE(59, PRV_S, CAUSE_ILLEGAL_INSN, csrr a0, 0x7c0)
  EXPECT_MTVAL(0x7c002573)
  // S may use its own CSRs, U the unprivileged ones it is given
  RUN_IN_MODE(60, PRV_S, csrr a0, sstatus; csrw sscratch, a0; csrr a0, sscratch; csrr a0, stvec)

  // ---- access faults: nothing at physical address 0 ----
  li a0, 0x8
  TEST_TRAP(70, CAUSE_LOAD_ACCESS, lw a1, 0(a0))
  EXPECT_MTVAL(0x8)
  TEST_TRAP(71, CAUSE_STORE_ACCESS, sw a1, 4(a0))
  EXPECT_MTVAL(0xc)
  li TESTNUM, 72
  ARM_TRAP(1f)
  li a0, 0x10
  jalr ra, a0
  j fail
1:
  EXPECT_MCAUSE(CAUSE_FETCH_ACCESS)
  EXPECT_MEPC(0x10)
  EXPECT_MTVAL(0x10)

  // ---- vectored mtvec: exceptions still go to the base address ----
  li TESTNUM, 80
  la t0, trap_vector
  ori t0, t0, 1
  csrw mtvec, t0
  csrr x14, mtvec
  bne x14, t0, fail
  TEST_TRAP(81, CAUSE_ILLEGAL_INSN, .word 0x1234500b)
  TEST_TRAP(82, CAUSE_MACHINE_ECALL, ecall)
  la t0, trap_vector
  csrw mtvec, t0

  // ---- mscratch, mepc and mtval are plain read/write registers (mepc[0] = 0) ----
  li TESTNUM, 90
  li a0, 0x12345678
  csrw mscratch, a0
  csrr x14, mscratch
  bne x14, a0, fail
  csrrw x14, mscratch, zero
  bne x14, a0, fail
  csrr x14, mscratch
  bnez x14, fail
#ifndef QEMU_SYSCON
  // (QEMU 7.2 keeps mepc[0] as written.)
  li TESTNUM, 91
  li a0, 0x80001235
  csrw mepc, a0
  csrr x14, mepc
  CHECK_IMM(x14, 0x80001234)
#endif
  li TESTNUM, 92
  csrrsi x14, mscratch, 5
  bnez x14, fail
  csrrci x14, mscratch, 1
  CHECK_IMM(x14, 5)
  csrr x14, mscratch
  CHECK_IMM(x14, 4)

  // the number of traps taken is exactly the number expected
  li TESTNUM, 99
  EXPECT_MCOUNT(39)

  RVTEST_PASS
