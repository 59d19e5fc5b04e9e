// Privilege transitions: exception delegation with medeleg (to the S handler, with
// scause/sepc/stval and SPP/SPIE), what is never delegated (traps taken in M-mode),
// mret and sret with MPP/SPP/MPIE/SPIE/MPRV handling, mstatus.TW (wfi), TSR (sret) and
// TVM (satp, sfence.vma) in S-mode, sstatus as a view of mstatus, and WARL masks of
// medeleg and mideleg.
#include "macros.h"

#define MSTATUS_FIELD(reg, mask, shift) csrr reg, mstatus; li x7, mask; and reg, reg, x7; srli reg, reg, shift;

RVTEST_CODE_BEGIN

  // ---- medeleg / mideleg WARL ----
  // ecall from M (bit 11) can never be delegated; M-level interrupts neither
  li TESTNUM, 2
  li a0, -1
  csrw medeleg, a0
#ifndef QEMU_SYSCON
  // (QEMU 7.2 lets medeleg[11] be set, though it never has an effect.)
  csrr x14, medeleg
  li x7, 1 << CAUSE_MACHINE_ECALL
  and x14, x14, x7
  bnez x14, fail
#endif
  li TESTNUM, 3
  csrr x14, medeleg
  li x7, (1 << CAUSE_ILLEGAL_INSN) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_USER_ECALL) | (1 << CAUSE_LOAD_PAGE_FAULT)
  and x15, x14, x7
  bne x15, x7, fail
  li TESTNUM, 4
  csrw mideleg, a0
  csrr x14, mideleg
  li x7, MIP_SSIP | MIP_STIP | MIP_SEIP
  and x15, x14, x7
  bne x15, x7, fail
  li x7, MIP_MSIP | MIP_MTIP | MIP_MEIP
  and x15, x14, x7
  bnez x15, fail
  csrw medeleg, zero
  csrw mideleg, zero

  // ---- delegated exceptions go to the S handler ----
  // an illegal instruction in U-mode, delegated: scause 2, sepc, stval = the bits, SPP = U
  li TESTNUM, 10
  li a0, 1 << CAUSE_ILLEGAL_INSN
  csrw medeleg, a0
  SARM_TRAP(10f)
  ARM_TRAP(11f)
  GOTO_MODE(PRV_U, 1f)
1:
  csrr a0, sstatus            // illegal in U
  j fail
10:                           // S-mode, through sret from the S handler
  ecall                       // ecall from S is not delegated: back to M
  j fail
11:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_MEPC(10b)
  EXPECT_SCAUSE(CAUSE_ILLEGAL_INSN)
  EXPECT_SEPC(1b)
  EXPECT_STVAL_INSN(1b)
  EXPECT_SPP(0)
  EXPECT_SCOUNT(1)
  EXPECT_MCOUNT(1)

  // an illegal instruction in S-mode, delegated: SPP = S
  li TESTNUM, 12
  SARM_TRAP(10f)
  ARM_TRAP(11f)
  GOTO_MODE(PRV_S, 1f)
1:
  csrr a0, mstatus            // illegal in S
  j fail
10:
  ecall
  j fail
11:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_SCAUSE(CAUSE_ILLEGAL_INSN)
  EXPECT_SEPC(1b)
  EXPECT_STVAL_INSN(1b)
  EXPECT_SPP(1)
  EXPECT_SCOUNT(2)

  // the same exception in M-mode is never delegated
  TEST_TRAP(13, CAUSE_ILLEGAL_INSN, .word 0x1234500b)
  EXPECT_SCOUNT(2)
  EXPECT_MPP(PRV_M)

  // ecall from U delegated (bit 8): scause 8, stval 0
  li TESTNUM, 14
  li a0, 1 << CAUSE_USER_ECALL
  csrw medeleg, a0
  SARM_TRAP(10f)
  ARM_TRAP(11f)
  GOTO_MODE(PRV_U, 1f)
1:
  ecall
  j fail
10:
  ecall
  j fail
11:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_SCAUSE(CAUSE_USER_ECALL)
  EXPECT_SEPC(1b)
  EXPECT_STVAL(0)
  EXPECT_SPP(0)

  // ecall from S delegated (bit 9) stays in S
  li TESTNUM, 15
  li a0, 1 << CAUSE_SUPERVISOR_ECALL
  csrw medeleg, a0
  SARM_TRAP(10f)
  ARM_TRAP(11f)
  GOTO_MODE(PRV_S, 1f)
1:
  ecall
  j fail
10:
  csrw medeleg, zero          // illegal in S: M takes it, resumes at 11 in M
  j fail
11:
  EXPECT_MCAUSE(CAUSE_ILLEGAL_INSN)
  EXPECT_MEPC(10b)
  EXPECT_MPP(PRV_S)
  EXPECT_SCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_SEPC(1b)
  EXPECT_SPP(1)

  // breakpoint delegated from U
  li TESTNUM, 16
  li a0, 1 << CAUSE_BREAKPOINT
  csrw medeleg, a0
  SARM_TRAP(10f)
  ARM_TRAP(11f)
  GOTO_MODE(PRV_U, 1f)
1:
  ebreak
  j fail
10:
  ecall
11:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_SCAUSE(CAUSE_BREAKPOINT)
  EXPECT_SEPC(1b)
  csrw medeleg, zero

  // a delegated trap taken with SIE = 1 leaves SPIE = 1, SIE = 0
  li TESTNUM, 17
  li a0, 1 << CAUSE_ILLEGAL_INSN
  csrw medeleg, a0
  li a0, MSTATUS_SIE
  csrs mstatus, a0
  SARM_TRAP(10f)
  ARM_TRAP(11f)
  GOTO_MODE(PRV_S, 1f)
1:
  .word 0x1234500b
  j fail
10:
  ecall
11:
  TRAP_FIELD(x14, TS_SSTATUS)
  andi x15, x14, MSTATUS_SPIE
  beqz x15, fail
  andi x15, x14, MSTATUS_SIE
  bnez x15, fail
  csrw medeleg, zero

  // ---- traps to M record the previous mode and MIE ----
  li TESTNUM, 20
  li a0, MSTATUS_MIE          // mie = 0: nothing can interrupt
  csrs mstatus, a0
  TEST_TRAP(21, CAUSE_MACHINE_ECALL, ecall)
  TRAP_FIELD(x14, TS_STATUS)
  andi x15, x14, MSTATUS_MPIE
  beqz x15, fail
  andi x15, x14, MSTATUS_MIE
  bnez x15, fail
  EXPECT_MPP(PRV_M)
  // the handler's mret restored MIE from MPIE
  li TESTNUM, 22
  csrr x14, mstatus
  andi x14, x14, MSTATUS_MIE
  beqz x14, fail
  csrci mstatus, MSTATUS_MIE
  TEST_TRAP(23, CAUSE_MACHINE_ECALL, ecall)
  TRAP_FIELD(x14, TS_STATUS)
  andi x15, x14, MSTATUS_MPIE
  bnez x15, fail

  // ---- mret ----
  // MPP = M, MPIE = 1, MIE = 0  ->  M-mode, MIE = 1, MPIE = 1, MPP = U
  li TESTNUM, 30
  li a0, MSTATUS_MPP | MSTATUS_MPIE
  csrs mstatus, a0
  csrci mstatus, MSTATUS_MIE
  la a0, 1f
  csrw mepc, a0
  mret
  j fail
1:
  csrr x14, mstatus
  csrci mstatus, MSTATUS_MIE
  andi x15, x14, MSTATUS_MIE
  beqz x15, fail
  andi x15, x14, MSTATUS_MPIE
  beqz x15, fail
  li x7, MSTATUS_MPP
  and x15, x14, x7
  bnez x15, fail
  // a real M-mode instruction works: still in M
  csrr x14, mscratch

  // MPP = M, MPIE = 0, MIE = 1  ->  MIE = 0, MPIE = 1
  li TESTNUM, 31
  li a0, MSTATUS_MPP
  csrs mstatus, a0
  li a0, MSTATUS_MPIE
  csrc mstatus, a0
  csrsi mstatus, MSTATUS_MIE
  la a0, 1f
  csrw mepc, a0
  mret
  j fail
1:
  csrr x14, mstatus
  andi x15, x14, MSTATUS_MIE
  bnez x15, fail
  andi x15, x14, MSTATUS_MPIE
  beqz x15, fail

  // mret to S clears MPRV; the mode is S (ecall says so)
  li TESTNUM, 32
  li a0, MSTATUS_MPRV
  csrs mstatus, a0
  RUN_IN_MODE(33, PRV_S, nop)
#ifndef QEMU_SYSCON
  // (QEMU 7.2 predates the rule that leaving M-mode clears MPRV.)
  li TESTNUM, 34
  csrr x14, mstatus
  li x7, MSTATUS_MPRV
  and x14, x14, x7
  bnez x14, fail
#endif
  li a0, MSTATUS_MPRV
  csrc mstatus, a0
  // mret to U
  RUN_IN_MODE(35, PRV_U, nop)

  // ---- sret ----
  // from M with SPP = S, SPIE = 1, SIE = 0: lands in S with SIE = 1, SPIE = 1, SPP = U
  li TESTNUM, 40
  li a0, MSTATUS_SPP | MSTATUS_SPIE
  csrs mstatus, a0
  csrci mstatus, MSTATUS_SIE
  la a0, 1f
  csrw sepc, a0
  ARM_TRAP(2f)
  sret
  j fail
1:
  csrr s0, sstatus
  ecall
  j fail
2:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  andi x15, s0, MSTATUS_SIE
  beqz x15, fail
  andi x15, s0, MSTATUS_SPIE
  beqz x15, fail
  andi x15, s0, MSTATUS_SPP
  bnez x15, fail
  csrci mstatus, MSTATUS_SIE

  // sret with SPP = U lands in U; sret clears MPRV too
  li TESTNUM, 41
  li a0, MSTATUS_SPP
  csrc mstatus, a0
  li a0, MSTATUS_MPRV
  csrs mstatus, a0
  la a0, 1f
  csrw sepc, a0
  ARM_TRAP(2f)
  sret
  j fail
1:
  ecall
  j fail
2:
  EXPECT_MCAUSE(CAUSE_USER_ECALL)
#ifndef QEMU_SYSCON
  csrr x14, mstatus
  li x7, MSTATUS_MPRV
  and x14, x14, x7
  bnez x14, fail
#endif
  li a0, MSTATUS_MPRV
  csrc mstatus, a0

  // sret from S with SPP = S stays in S (TSR = 0)
  li TESTNUM, 42
  ARM_TRAP(2f)
  GOTO_MODE(PRV_S, 1f)
1:
  li a0, MSTATUS_SPP
  csrs sstatus, a0
  la a0, 3f
  csrw sepc, a0
  sret
  j fail
3:
  ecall
2:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_MEPC(3b)

  // ---- sstatus is a view of mstatus ----
  li TESTNUM, 50
  csrw mstatus, zero
  RUN_IN_MODE(51, PRV_S, li a0, MSTATUS_SUM | MSTATUS_SPIE; csrs sstatus, a0; li a0, MSTATUS_MPIE | MSTATUS_TVM; csrs sstatus, a0)
  li TESTNUM, 52
  TRAP_FIELD(x14, TS_STATUS)          // mstatus as the ecall found it
  li x7, MSTATUS_SUM | MSTATUS_SPIE
  and x15, x14, x7
  bne x15, x7, fail
  li x7, MSTATUS_MPIE | MSTATUS_TVM   // not visible through sstatus
  and x15, x14, x7
  bnez x15, fail
  li a0, MSTATUS_SUM | MSTATUS_SPIE
  csrc mstatus, a0

  // ---- mstatus.TW ----
  // wfi in S with TW = 1: illegal
  li a0, MSTATUS_TW
  csrs mstatus, a0
  TEST_TRAP_IN_MODE(60, PRV_S, CAUSE_ILLEGAL_INSN, wfi)
  EXPECT_MTVAL(0x10500073)
  li a0, MSTATUS_TW
  csrc mstatus, a0
  // wfi in S with TW = 0 retires when an interrupt is pending in mie (SSIP, delegated,
  // with SIE = 0, so it is not taken)
  li TESTNUM, 61
  li a0, MIP_SSIP
  csrw mideleg, a0
  csrw mie, a0
  csrs mip, a0
  RUN_IN_MODE(62, PRV_S, wfi)
  EXPECT_SCOUNT(6)
  // M-mode is not affected by TW
  li TESTNUM, 63
  li a0, MSTATUS_TW
  csrs mstatus, a0
  wfi
  li a0, MSTATUS_TW
  csrc mstatus, a0
  li a0, MIP_SSIP
  csrc mip, a0
  csrw mie, zero
  csrw mideleg, zero

  // ---- mstatus.TSR ----
  li a0, MSTATUS_TSR
  csrs mstatus, a0
  TEST_TRAP_IN_MODE(70, PRV_S, CAUSE_ILLEGAL_INSN, sret)
  EXPECT_MTVAL(0x10200073)
  // M-mode may still sret with TSR = 1
  li TESTNUM, 71
  li a0, MSTATUS_SPP
  csrs mstatus, a0
  la a0, 1f
  csrw sepc, a0
  ARM_TRAP(2f)
  sret
1:
  ecall
2:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  li a0, MSTATUS_TSR
  csrc mstatus, a0

  // ---- mstatus.TVM ----
  li a0, MSTATUS_TVM
  csrs mstatus, a0
  TEST_TRAP_IN_MODE(80, PRV_S, CAUSE_ILLEGAL_INSN, csrr a0, satp)
  EXPECT_MTVAL_INSN(test_80_insn)
  TEST_TRAP_IN_MODE(81, PRV_S, CAUSE_ILLEGAL_INSN, csrw satp, zero)
  EXPECT_MTVAL_INSN(test_81_insn)
  TEST_TRAP_IN_MODE(82, PRV_S, CAUSE_ILLEGAL_INSN, sfence.vma)
  EXPECT_MTVAL(0x12000073)
  TEST_TRAP_IN_MODE(83, PRV_S, CAUSE_ILLEGAL_INSN, sfence.vma a0, zero)
  EXPECT_MTVAL_INSN(test_83_insn)
  // M-mode is not affected by TVM
  li TESTNUM, 84
  csrr x14, satp
  sfence.vma
  li a0, MSTATUS_TVM
  csrc mstatus, a0
  // and with TVM = 0, S may use them
  RUN_IN_MODE(85, PRV_S, csrr a0, satp; csrw satp, zero; sfence.vma; sfence.vma a0, zero)

  RVTEST_PASS
