// Counters: rdcycle, rdtime, rdinstret and their high halves; instret counts retired
// instructions exactly; a write to minstret replaces that instruction's increment; time
// advances and agrees with the CLINT's mtime; mcounteren and scounteren gate S- and
// U-mode reads (illegal instruction otherwise); mcountinhibit, if writable, stops instret
// (and, in deja, cycle); mhpmcounter3..18 and mhpmevent3..31 exist and hold what is
// written (no event counts), as on QEMU 7.2's virt (16 HPM counters).
#include "macros.h"

RVTEST_CODE_BEGIN

  // ---- instret: exact ----
  // two reads k instructions apart differ by k + 1
  li TESTNUM, 2
  rdinstret a0
  nop
  nop
  nop
  rdinstret a1
  sub x14, a1, a0
#ifdef QEMU_SYSCON
  // (QEMU without -icount counts host time, not instructions.)
  blez x14, fail
#else
  CHECK_IMM(x14, 4)
#endif
  // over a loop of 100 iterations x 2 instructions, plus li: 202 + 1 apart
  li TESTNUM, 3
  rdinstret a0
  li a2, 100
1:
  addi a2, a2, -1
  bnez a2, 1b
  rdinstret a1
  sub x14, a1, a0
#ifdef QEMU_SYSCON
  blez x14, fail
#else
  CHECK_IMM(x14, 202)
#endif
  // minstret and instret are the same counter
  li TESTNUM, 4
  csrr a0, minstret
  rdinstret a1
  sub x14, a1, a0
#ifdef QEMU_SYSCON
  bltz x14, fail
#else
  CHECK_IMM(x14, 1)
#endif
  // a trap does not retire the trapping instruction; the handler's instructions count
  // an ecall does not retire; the handler's instructions and its mret do
  li TESTNUM, 5
  la a0, skip_handler
  csrw mtvec, a0
  rdinstret s0
  ecall
  rdinstret a1
  la a0, trap_vector
  csrw mtvec, a0
  sub x14, a1, s0
#ifdef QEMU_SYSCON
  blez x14, fail
#else
  // rdinstret + the 4 instructions of skip_handler: the ecall itself is not counted
  CHECK_IMM(x14, 5)
#endif

  // high halves are zero this early in a run
  li TESTNUM, 6
#ifndef QEMU_SYSCON
  rdinstreth x14
  bnez x14, fail
  rdcycleh x14
  bnez x14, fail
#endif
  rdtimeh x14
  bnez x14, fail

  // ---- writes to minstret / minstreth / mcycle ----
#ifndef QEMU_SYSCON
  // the write is done instead of the increment: the next instruction reads the value
  li TESTNUM, 10
  li a0, 0x1000
  csrw minstret, a0
  csrr x14, minstret
  CHECK_IMM(x14, 0x1000)
  li TESTNUM, 11
  li a0, 0x2000
  csrw minstret, a0
  nop
  rdinstret x14
  CHECK_IMM(x14, 0x2001)
#endif
#ifndef QEMU_SYSCON
  // minstreth: a 64-bit counter (QEMU's counts host ticks, so it may carry any time)
  li TESTNUM, 12
  li a0, 0xfffffff0
  csrw minstret, a0
  li a0, 5
  csrw minstreth, a0
  rdinstreth x14
  CHECK_IMM(x14, 5)
  // carry from the low half into the high half
  li TESTNUM, 13
  li a0, 0xffffffff
  csrw minstret, a0
  li a0, 7
  csrw minstreth, a0
  nop
  nop
  rdinstreth x14
  CHECK_IMM(x14, 7)
  li a0, 0xfffffff0
  csrw minstret, a0
  li a0, 7
  csrw minstreth, a0
  .rept 20
  nop
  .endr
  rdinstreth x14
  CHECK_IMM(x14, 8)
#endif
  csrw minstreth, zero
  // mcycle
  li TESTNUM, 14
  li a0, 0x10000
  csrw mcycle, a0
  rdcycle x14
  sub x14, x14, a0
  bltz x14, fail
#ifndef QEMU_SYSCON
  li x7, 100
  bge x14, x7, fail
  // exactly like minstret: the write is done instead of the increment
  li TESTNUM, 15
  li a0, 0x30000
  csrw mcycle, a0
  csrr x14, mcycle
  CHECK_IMM(x14, 0x30000)
  li TESTNUM, 16
  li a0, 0x40000
  csrw mcycle, a0
  nop
  nop
  rdcycle x14
  CHECK_IMM(x14, 0x40002)
  li TESTNUM, 17
  li a0, 3
  csrw mcycleh, a0
  rdcycleh x14
  CHECK_IMM(x14, 3)
  csrw mcycleh, zero
#endif

  // ---- cycle and time advance ----
  li TESTNUM, 20
  rdcycle a0
  li a2, 1000
1:
  addi a2, a2, -1
  bnez a2, 1b
  rdcycle a1
  sub x14, a1, a0
  li x7, 1000
  blt x14, x7, fail
  li TESTNUM, 21
  rdtime a0
  li a2, 5000
1:
  addi a2, a2, -1
  bnez a2, 1b
  rdtime a1
  ble a1, a0, fail
  // rdtime agrees with the CLINT's mtime: t0 <= mtime <= t1
  li TESTNUM, 22
  li a3, CLINT_MTIME
  rdtime a0
  lw a2, 0(a3)
  rdtime a1
  bltu a2, a0, fail
  bltu a1, a2, fail
  lw x14, 4(a3)
  bnez x14, fail

  // ---- mcounteren / scounteren ----
  li TESTNUM, 30
  csrw mcounteren, zero
  csrw scounteren, zero
  li a0, -1
  csrw mcounteren, a0
  csrr x14, mcounteren
  andi x14, x14, 7
  CHECK_IMM(x14, 7)
  csrw scounteren, a0
  csrr x14, scounteren
  andi x14, x14, 7
  CHECK_IMM(x14, 7)

  // mcounteren = 0: S may read none
  csrw mcounteren, zero
  csrw scounteren, zero
  TEST_TRAP_IN_MODE(31, PRV_S, CAUSE_ILLEGAL_INSN, rdcycle a0)
  EXPECT_MTVAL_INSN(test_31_insn)
  TEST_TRAP_IN_MODE(32, PRV_S, CAUSE_ILLEGAL_INSN, rdtime a0)
  EXPECT_MTVAL_INSN(test_32_insn)
  TEST_TRAP_IN_MODE(33, PRV_S, CAUSE_ILLEGAL_INSN, rdinstret a0)
  EXPECT_MTVAL_INSN(test_33_insn)
  TEST_TRAP_IN_MODE(34, PRV_S, CAUSE_ILLEGAL_INSN, rdcycleh a0)
  EXPECT_MTVAL_INSN(test_34_insn)
  TEST_TRAP_IN_MODE(35, PRV_S, CAUSE_ILLEGAL_INSN, rdtimeh a0)
  // M-mode reads them whatever mcounteren says
  li TESTNUM, 36
  rdcycle a0
  rdtime a0
  rdinstret a0
  // and S never reads the M-mode counters
  TEST_TRAP_IN_MODE(37, PRV_S, CAUSE_ILLEGAL_INSN, csrr a0, mcycle)
  li a0, 7
  csrw mcounteren, a0
  TEST_TRAP_IN_MODE(38, PRV_S, CAUSE_ILLEGAL_INSN, csrr a0, minstret)

  // mcounteren = CY: S reads cycle only
  li a0, 1
  csrw mcounteren, a0
  RUN_IN_MODE(40, PRV_S, rdcycle a0; rdcycleh a0)
  TEST_TRAP_IN_MODE(41, PRV_S, CAUSE_ILLEGAL_INSN, rdtime a0)
  TEST_TRAP_IN_MODE(42, PRV_S, CAUSE_ILLEGAL_INSN, rdinstret a0)
  // mcounteren = TM | IR
  li a0, 6
  csrw mcounteren, a0
  RUN_IN_MODE(43, PRV_S, rdtime a0; rdinstret a0; rdtimeh a0; rdinstreth a0)
  TEST_TRAP_IN_MODE(44, PRV_S, CAUSE_ILLEGAL_INSN, rdcycle a0)

  // U needs both: mcounteren = 7, scounteren = 0
  li a0, 7
  csrw mcounteren, a0
  csrw scounteren, zero
  TEST_TRAP_IN_MODE(50, PRV_U, CAUSE_ILLEGAL_INSN, rdcycle a0)
  EXPECT_MTVAL_INSN(test_50_insn)
  TEST_TRAP_IN_MODE(51, PRV_U, CAUSE_ILLEGAL_INSN, rdtime a0)
  TEST_TRAP_IN_MODE(52, PRV_U, CAUSE_ILLEGAL_INSN, rdinstret a0)
  RUN_IN_MODE(53, PRV_S, rdcycle a0; rdtime a0; rdinstret a0)
  // scounteren = TM: U reads time only
  li a0, 2
  csrw scounteren, a0
  RUN_IN_MODE(54, PRV_U, rdtime a0; rdtimeh a0)
  TEST_TRAP_IN_MODE(55, PRV_U, CAUSE_ILLEGAL_INSN, rdcycle a0)
  TEST_TRAP_IN_MODE(56, PRV_U, CAUSE_ILLEGAL_INSN, rdinstret a0)
  // scounteren = 7 but mcounteren = TM: U reads time only
  li a0, 7
  csrw scounteren, a0
  li a0, 2
  csrw mcounteren, a0
  RUN_IN_MODE(57, PRV_U, rdtime a0)
  TEST_TRAP_IN_MODE(58, PRV_U, CAUSE_ILLEGAL_INSN, rdcycle a0)
  TEST_TRAP_IN_MODE(59, PRV_U, CAUSE_ILLEGAL_INSN, rdinstreth a0)
  // mcounteren = 0, scounteren = 7: U reads nothing
  csrw mcounteren, zero
  TEST_TRAP_IN_MODE(60, PRV_U, CAUSE_ILLEGAL_INSN, rdtime a0)
  // all open: U reads everything, and the value is live
  li a0, 7
  csrw mcounteren, a0
  RUN_IN_MODE(61, PRV_U, rdinstret s0; nop; rdinstret s1)
  li TESTNUM, 62
  sub x14, s1, s0
#ifdef QEMU_SYSCON
  blez x14, fail
#else
  CHECK_IMM(x14, 2)
#endif
  csrw mcounteren, zero
  csrw scounteren, zero

  // ---- mcountinhibit: if IR reads back as set, instret must stand still ----
  li TESTNUM, 70
  li a0, 4
  csrw mcountinhibit, a0
  csrr a1, mcountinhibit
  andi a1, a1, 4
  beqz a1, 1f
  rdinstret a0
  nop
  nop
  rdinstret a1
  bne a0, a1, fail
1:
  csrw mcountinhibit, zero
#ifndef QEMU_SYSCON
  // deja: both CY and IR are writable; an inhibited counter stands still from the
  // instruction after the write, a write to it is kept, and clearing the bit resumes
  // counting from there (the clearing write counts)
  li TESTNUM, 71
  li a0, 5
  csrw mcountinhibit, a0
  csrr x14, mcountinhibit
  CHECK_IMM(x14, 5)
  li TESTNUM, 72
  rdcycle a0
  nop
  nop
  rdcycle a1
  bne a0, a1, fail
  li TESTNUM, 73
  li a0, 0x5000
  csrw minstret, a0
  nop
  rdinstret x14
  CHECK_IMM(x14, 0x5000)
  li TESTNUM, 74
  csrw mcountinhibit, zero
  rdinstret x14
  CHECK_IMM(x14, 0x5001)
  li TESTNUM, 75
  li a0, 4
  rdinstret s0
  csrw mcountinhibit, a0
  rdinstret s1
  csrw mcountinhibit, zero
  rdinstret x14
  sub s1, s1, s0
  CHECK_IMM(s1, 1)
  sub x14, x14, s0
  CHECK_IMM(x14, 2)
#endif

  // ---- hardware performance monitor (QEMU 7.2 virt: 16 counters, 3..18) ----
  // mhpmcounter3..18 (and their high halves) hold what is written: no event counts
  li TESTNUM, 80
  li a0, 0x12345
  csrw mhpmcounter3, a0
  nop
  nop
  csrr x14, mhpmcounter3
  CHECK_IMM(x14, 0x12345)
  li TESTNUM, 81
  li a0, 0x77
  csrw mhpmcounter18h, a0
  csrr x14, mhpmcounter18h
  CHECK_IMM(x14, 0x77)
  csrw mhpmcounter18h, zero
  // mhpmevent3..31 are all there
  li TESTNUM, 82
  li a0, 9
  csrw mhpmevent3, a0
  csrr x14, mhpmevent3
  CHECK_IMM(x14, 9)
  csrw mhpmevent31, a0
  csrr x14, mhpmevent31
  CHECK_IMM(x14, 9)
  csrw mhpmevent3, zero
  csrw mhpmevent31, zero
  // hpmcounter3 is a read-only view of mhpmcounter3; M reads it whatever mcounteren says
  li TESTNUM, 83
  csrr x14, hpmcounter3
  CHECK_IMM(x14, 0x12345)
  TEST_TRAP(84, CAUSE_ILLEGAL_INSN, csrw hpmcounter3, a0)
  // counters past 18 do not exist (QEMU 7.2 makes them illegal)
  TEST_TRAP(85, CAUSE_ILLEGAL_INSN, csrr a0, mhpmcounter19)
  TEST_TRAP(86, CAUSE_ILLEGAL_INSN, csrr a0, mhpmcounter31h)
  TEST_TRAP(87, CAUSE_ILLEGAL_INSN, csrr a0, hpmcounter19)
  // S reads hpmcounter3 only with mcounteren.HPM3
  csrw mcounteren, zero
  TEST_TRAP_IN_MODE(88, PRV_S, CAUSE_ILLEGAL_INSN, csrr a0, hpmcounter3)
  li a0, 8
  csrw mcounteren, a0
  csrr x14, mcounteren
  CHECK_IMM(x14, 8)
  RUN_IN_MODE(89, PRV_S, csrr s0, hpmcounter3; csrr s1, hpmcounter3h)
  li TESTNUM, 90
  CHECK_IMM(s0, 0x12345)
  CHECK_IMM(s1, 0)
  csrw mcounteren, zero
  csrw mhpmcounter3, zero

  RVTEST_PASS

  // a trap handler that skips the 4-byte instruction that trapped
  .p2align 2
skip_handler:
  csrr t5, mepc
  addi t5, t5, 4
  csrw mepc, t5
  mret
