// Interrupts: the machine timer through CLINT mtimecmp (taken only when both mie.MTIE and
// mstatus.MIE allow it, right after the instruction that enables it); wfi wakes on a
// pending interrupt even with MIE = 0, and virtual time jumps to the deadline; the
// software interrupt through CLINT msip; priority (MSI before MTI); vectored mtvec; the
// supervisor timer set by M-mode in mip.STIP, delegated with mideleg (and not, and from
// U-mode); the supervisor software interrupt raised through sip.
#include "macros.h"

#define POLL_LIMIT 2000000

// Polls until (csr & mask) != 0, failing after POLL_LIMIT rounds. Clobbers a5, a6.
#define WAIT_FOR(csr, mask) \
  li a5, POLL_LIMIT; \
8: csrr a6, csr; andi a6, a6, mask; bnez a6, 9f; addi a5, a5, -1; bnez a5, 8b; j fail; 9:

// mtimecmp = mtime + ticks, with the privileged spec's sequence for RV32 (low word to -1
// first, so the compare value never drops below the old and the new value on the way).
// (mtime stays below 2^32 ticks in these programs.) Clobbers a5-a7.
#define TIMER_IN(ticks) \
  li a5, CLINT_MTIME; lw a6, 0(a5); li a7, ticks; add a6, a6, a7; \
  li a5, CLINT_MTIMECMP; li a7, -1; sw a7, 0(a5); sw zero, 4(a5); sw a6, 0(a5);
// mtimecmp = 0: the timer is due at once
#define TIMER_NOW \
  li a5, CLINT_MTIMECMP; li a7, -1; sw a7, 0(a5); sw zero, 4(a5); sw zero, 0(a5);
// mtimecmp = 2^64 - 1: never
#define TIMER_OFF \
  li a5, CLINT_MTIMECMP; li a7, -1; sw a7, 0(a5); sw a7, 4(a5);

#define LOG_RESET la a5, irq_log; sw zero, 0(a5);
// the n-th logged mcause/scause (0-based) into reg
#define LOG_ENTRY(reg, n) la reg, irq_log; lw reg, 4 + 4 * (n)(reg);
#define EXPECT_LOG_COUNT(n) la x14, irq_log; lw x14, 0(x14); li x7, n; bne x14, x7, fail;

RVTEST_CODE_BEGIN

  SET_TRAP_HOOK(m_irq_hook)
  SET_STRAP_HOOK(s_irq_hook)

  // ---- mtimecmp is a 64-bit register: both halves read back as written ----
  li TESTNUM, 1
  li a5, CLINT_MTIMECMP
  li a6, 0x12345678
  sw a6, 0(a5)
  li a6, 0x9abcdef0
  sw a6, 4(a5)
  lw x14, 0(a5)
  CHECK_IMM(x14, 0x12345678)
  lw x14, 4(a5)
  CHECK_IMM(x14, 0x9abcdef0)
  TIMER_OFF
  lw x14, 0(a5)
  CHECK_IMM(x14, 0xffffffff)
  lw x14, 4(a5)
  CHECK_IMM(x14, 0xffffffff)
  // and the sequence the spec recommends leaves exactly the new value
  TIMER_IN(0x1234)
  li a5, CLINT_MTIMECMP
  lw x14, 4(a5)
  CHECK_IMM(x14, 0)
  lw x14, 0(a5)
  bne x14, a6, fail
  TIMER_OFF

  // ---- machine timer ----
  // pending with MTIE but MIE = 0: not taken
  li TESTNUM, 2
  LOG_RESET
  li a0, MIP_MTIP
  csrw mie, a0
  TIMER_IN(50)
  WAIT_FOR(mip, MIP_MTIP)
  EXPECT_MCOUNT(0)
  // MIE = 1 but MTIE = 0: not taken either
  li TESTNUM, 3
  csrw mie, zero
  csrsi mstatus, MSTATUS_MIE
  nop
  nop
  csrci mstatus, MSTATUS_MIE
  EXPECT_MCOUNT(0)
  // MTIP is not writable by software
  li TESTNUM, 4
  li a0, MIP_MTIP
  csrc mip, a0
  csrr x14, mip
  andi x14, x14, MIP_MTIP
  beqz x14, fail
  // both: taken at once, after the instruction that enabled it
  li TESTNUM, 5
  li a0, MIP_MTIP
  csrw mie, a0
  csrsi mstatus, MSTATUS_MIE
5:
  nop
  csrci mstatus, MSTATUS_MIE
  EXPECT_MCOUNT(1)
  EXPECT_MCAUSE(INTERRUPT(IRQ_M_TIMER))
  EXPECT_MEPC(5b)
  EXPECT_MPP(PRV_M)
  EXPECT_MTVAL(0)
  // the handler moved mtimecmp away: MTIP is clear again
  li TESTNUM, 6
  csrr x14, mip
  andi x14, x14, MIP_MTIP
  bnez x14, fail
  // the handler's mret put MIE back as it was (1), through MPIE
  TRAP_FIELD(x14, TS_STATUS)
  andi x15, x14, MSTATUS_MPIE
  beqz x15, fail
  andi x15, x14, MSTATUS_MIE
  bnez x15, fail

  // a timer that expires while a loop runs with interrupts on
  li TESTNUM, 7
  LOG_RESET
  csrsi mstatus, MSTATUS_MIE
  TIMER_IN(30)
  li a5, POLL_LIMIT
1:
  la a6, irq_log
  lw a6, 0(a6)
  bnez a6, 2f
  addi a5, a5, -1
  bnez a5, 1b
  j fail
2:
  csrci mstatus, MSTATUS_MIE
  LOG_ENTRY(x14, 0)
  CHECK_IMM(x14, INTERRUPT(IRQ_M_TIMER))
  // it was taken inside the loop
  TRAP_FIELD(x14, TS_EPC)
  la x7, 1b
  bltu x14, x7, fail
  la x7, 2b
  bgeu x14, x7, fail

  // ---- wfi ----
  // wfi with MIE = 0 wakes when the timer is pending, without taking it; a deadline far
  // in the future is reached by a jump of virtual time, not by instructions
  li TESTNUM, 10
  LOG_RESET
  li a0, MIP_MTIP
  csrw mie, a0
  TIMER_IN(2000000)
  li a5, CLINT_MTIMECMP
  lw s1, 0(a5)
  wfi
  csrr x14, mip
  andi x14, x14, MIP_MTIP
  beqz x14, fail
  EXPECT_LOG_COUNT(0)
  li TESTNUM, 11
  li a5, CLINT_MTIME
  lw x14, 0(a5)
  bltu x14, s1, fail
  // wfi with MIE = 1: the interrupt is taken right after the wfi
  li TESTNUM, 12
  LOG_RESET
  TIMER_IN(1000)
  csrsi mstatus, MSTATUS_MIE
  wfi
12:
  csrci mstatus, MSTATUS_MIE
  EXPECT_LOG_COUNT(1)
  EXPECT_MCAUSE(INTERRUPT(IRQ_M_TIMER))
  EXPECT_MEPC(12b)
  // wfi retires at once if an interrupt is already pending (MTIP, MIE = 0)
  li TESTNUM, 13
  TIMER_NOW
  WAIT_FOR(mip, MIP_MTIP)
  wfi
  wfi
  TIMER_OFF

  // ---- machine software interrupt: CLINT msip ----
  li TESTNUM, 20
  LOG_RESET
  li a0, MIP_MSIP
  csrw mie, a0
  // MSIP is not writable through mip
  csrs mip, a0
  csrr x14, mip
  andi x14, x14, MIP_MSIP
  bnez x14, fail
  li TESTNUM, 21
  csrsi mstatus, MSTATUS_MIE
  li a5, CLINT_MSIP
  li a6, 1
  sw a6, 0(a5)
21:
  li a5, POLL_LIMIT         // (QEMU may take it a few instructions on)
1:
  la a6, irq_log
  lw a6, 0(a6)
  bnez a6, 2f
  addi a5, a5, -1
  bnez a5, 1b
  j fail
2:
  csrci mstatus, MSTATUS_MIE
  EXPECT_LOG_COUNT(1)
  EXPECT_MCAUSE(INTERRUPT(IRQ_M_SOFT))
#ifndef QEMU_SYSCON
  // taken right after the store that raised it
  EXPECT_MEPC(21b)
#endif
  li TESTNUM, 22
  li a5, CLINT_MSIP
  lw x14, 0(a5)
  bnez x14, fail
  csrr x14, mip
  andi x14, x14, MIP_MSIP
  bnez x14, fail
  // msip raised with MIE = 0 stays pending and shows in mip
  li TESTNUM, 23
  li a5, CLINT_MSIP
  li a6, 1
  sw a6, 0(a5)
  lw x14, 0(a5)
  CHECK_IMM(x14, 1)
  csrr x14, mip
  andi x14, x14, MIP_MSIP
  beqz x14, fail
  sw zero, 0(a5)
  csrr x14, mip
  andi x14, x14, MIP_MSIP
  bnez x14, fail

  // ---- priority: MSI before MTI ----
  li TESTNUM, 30
  LOG_RESET
  li a0, MIP_MSIP | MIP_MTIP
  csrw mie, a0
  li a5, CLINT_MSIP
  li a6, 1
  sw a6, 0(a5)
  TIMER_NOW
  WAIT_FOR(mip, MIP_MTIP)
  csrsi mstatus, MSTATUS_MIE
  nop
  nop
  csrci mstatus, MSTATUS_MIE
  EXPECT_LOG_COUNT(2)
  LOG_ENTRY(x14, 0)
  CHECK_IMM(x14, INTERRUPT(IRQ_M_SOFT))
  LOG_ENTRY(x14, 1)
  CHECK_IMM(x14, INTERRUPT(IRQ_M_TIMER))

  // ---- vectored mtvec: interrupt n goes to base + 4n ----
  li TESTNUM, 40
  LOG_RESET
  la a0, vector_table
  ori a0, a0, 1
  csrw mtvec, a0
  li a0, MIP_MSIP | MIP_MTIP
  csrw mie, a0
  li a5, CLINT_MSIP
  li a6, 1
  sw a6, 0(a5)
  csrsi mstatus, MSTATUS_MIE
  nop
  csrci mstatus, MSTATUS_MIE
  la a0, vector_hit
  lw x14, 0(a0)
  CHECK_IMM(x14, IRQ_M_SOFT)
  li TESTNUM, 41
  csrsi mstatus, MSTATUS_MIE
  TIMER_NOW
  li a5, POLL_LIMIT
  la a0, vector_hit
1:
  lw x14, 0(a0)
  li x7, IRQ_M_TIMER
  beq x14, x7, 2f
  addi a5, a5, -1
  bnez a5, 1b
  j fail
2:
  csrci mstatus, MSTATUS_MIE
  EXPECT_LOG_COUNT(2)
  // an exception in vectored mode goes to the base (entry 0)
  TEST_TRAP(42, CAUSE_MACHINE_ECALL, ecall)
  la a0, vector_hit
  lw x14, 0(a0)
  CHECK_IMM(x14, 0x100)
  la a0, trap_vector
  csrw mtvec, a0
  csrw mie, zero

  // ---- supervisor timer: M sets mip.STIP ----
  // delegated: not taken in M-mode, even with MIE = 1
  li TESTNUM, 50
  LOG_RESET
  li a0, MIP_STIP
  csrw mideleg, a0
  csrw mie, a0
  csrs mip, a0
  csrr x14, mip
  andi x14, x14, MIP_STIP
  beqz x14, fail
  csrsi mstatus, MSTATUS_MIE
  nop
  nop
  csrci mstatus, MSTATUS_MIE
  EXPECT_LOG_COUNT(0)
  // S sees it in sip
  li TESTNUM, 51
  csrr x14, sip
  andi x14, x14, MIP_STIP
  beqz x14, fail
  // in S with SIE = 0: pending, not taken
  csrci mstatus, MSTATUS_SIE
  RUN_IN_MODE(52, PRV_S, csrr s0, sip; nop; nop)
  andi s0, s0, MIP_STIP
  beqz s0, fail
  EXPECT_LOG_COUNT(0)
  EXPECT_SCOUNT(0)
  // in S with SIE = 1: taken in S at once
  li TESTNUM, 53
  li a0, MSTATUS_SPIE
  csrs mstatus, a0
  csrsi mstatus, MSTATUS_SIE
  ARM_TRAP(2f)
  GOTO_MODE(PRV_S, 1f)
1:
  nop
  ecall
2:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_LOG_COUNT(1)
  LOG_ENTRY(x14, 0)
  CHECK_IMM(x14, INTERRUPT(IRQ_S_TIMER))
  EXPECT_SCAUSE(INTERRUPT(IRQ_S_TIMER))
  EXPECT_SEPC(1b)
  EXPECT_SPP(1)
  EXPECT_STVAL(0)
  // the S hook masked it in sie; M clears it
  li a0, MIP_STIP
  csrc mip, a0
  csrr x14, mip
  andi x14, x14, MIP_STIP
  bnez x14, fail
  csrci mstatus, MSTATUS_SIE

  // delegated and pending, from U: taken in S whatever SIE says
  li TESTNUM, 54
  LOG_RESET
  li a0, MIP_STIP
  csrw mie, a0
  csrs mip, a0
  ARM_TRAP(2f)
  GOTO_MODE(PRV_U, 1f)
1:
  nop
  ecall
2:
  EXPECT_MCAUSE(CAUSE_USER_ECALL)
  EXPECT_LOG_COUNT(1)
  EXPECT_SCAUSE(INTERRUPT(IRQ_S_TIMER))
  EXPECT_SEPC(1b)
  EXPECT_SPP(0)
  li a0, MIP_STIP
  csrc mip, a0

  // not delegated: in S it is an M-mode interrupt (taken whatever MIE says)
  li TESTNUM, 55
  LOG_RESET
  csrw mideleg, zero
  li a0, MIP_STIP
  csrw mie, a0
  csrs mip, a0
  ARM_TRAP(2f)
  GOTO_MODE(PRV_S, 1f)
1:
  nop
  ecall
2:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_LOG_COUNT(1)
  LOG_ENTRY(x14, 0)
  CHECK_IMM(x14, INTERRUPT(IRQ_S_TIMER))
  // (the hook cleared STIP; the last M trap is the ecall)
  csrr x14, mip
  andi x14, x14, MIP_STIP
  bnez x14, fail
  csrw mie, zero

  // ---- supervisor software interrupt, raised by S through sip ----
  li TESTNUM, 60
  LOG_RESET
  li a0, MIP_SSIP
  csrw mideleg, a0
  csrw mie, a0
  li a0, MSTATUS_SPIE
  csrs mstatus, a0
  csrsi mstatus, MSTATUS_SIE
  ARM_TRAP(2f)
  GOTO_MODE(PRV_S, 1f)
1:
  li a0, MIP_SSIP
  csrs sip, a0
3:
  nop
  ecall
2:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_LOG_COUNT(1)
  EXPECT_SCAUSE(INTERRUPT(IRQ_S_SOFT))
  EXPECT_SEPC(3b)
  csrr x14, mip
  andi x14, x14, MIP_SSIP
  bnez x14, fail
  csrci mstatus, MSTATUS_SIE
  csrw mie, zero
  csrw mideleg, zero

  RVTEST_PASS

// ---- handlers ----

// Appends xcause to irq_log (clobbers t5, t6; saves a0 in mscratch/sscratch).
#define LOG_CAUSE(scratch, cause) \
  csrw scratch, a0; la t6, irq_log; lw t5, 0(t6); addi a0, t5, 1; sw a0, 0(t6); \
  andi t5, t5, 15; slli t5, t5, 2; add t6, t6, t5; csrr a0, cause; sw a0, 4(t6); csrr a0, scratch;

// M-mode interrupts (after trap_vector recorded them): log, silence the source, mret.
m_irq_hook:
  csrr t5, mcause
  bgez t5, unexpected_trap
  LOG_CAUSE(mscratch, mcause)
  csrr t5, mcause
  andi t5, t5, 31
  li t6, IRQ_M_TIMER
  beq t5, t6, 1f
  li t6, IRQ_M_SOFT
  beq t5, t6, 2f
  li t6, IRQ_S_TIMER
  beq t5, t6, 3f
  j unexpected_trap
1:
  li t5, CLINT_MTIMECMP
  li t6, -1
  sw t6, 4(t5)
  sw t6, 0(t5)
  mret
2:
  li t5, CLINT_MSIP
  sw zero, 0(t5)
  mret
3:
  li t5, MIP_STIP
  csrc mip, t5
  mret

// S-mode interrupts: log, mask or clear, sret.
s_irq_hook:
  csrr t5, scause
  bgez t5, fail
  LOG_CAUSE(sscratch, scause)
  csrr t5, scause
  andi t5, t5, 31
  li t6, IRQ_S_TIMER
  beq t5, t6, 1f
  li t6, IRQ_S_SOFT
  beq t5, t6, 2f
  j fail
1:
  li t5, MIP_STIP
  csrc sie, t5
  sret
2:
  li t5, MIP_SSIP
  csrc sip, t5
  sret

// Vectored mtvec: slot n notes n in vector_hit (0x100 for exceptions, slot 0), then the
// common handler does the rest.
  .balign 256
vector_table:
  j vector_exception        // 0: exceptions
  j unexpected_trap         // 1
  j unexpected_trap         // 2
  j vector_msi              // 3: machine software
  j unexpected_trap         // 4
  j unexpected_trap         // 5
  j unexpected_trap         // 6
  j vector_mti              // 7: machine timer
  j unexpected_trap         // 8
  j unexpected_trap         // 9
  j unexpected_trap         // 10
  j unexpected_trap         // 11
vector_exception:
  li t5, 0x100
  j 1f
vector_msi:
  li t5, IRQ_M_SOFT
  j 1f
vector_mti:
  li t5, IRQ_M_TIMER
1:
  la t6, vector_hit
  sw t5, 0(t6)
  j trap_vector

  .data
  .align 4
irq_log:    .fill 17, 4, 0
vector_hit: .word 0
