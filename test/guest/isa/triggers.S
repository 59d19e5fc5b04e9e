// Debug triggers (Sdtrig) as QEMU 7.2 has them: two triggers (tselect keeps 0 and 1),
// tdata1 at reset an mcontrol (type 2) that matches nothing, WARL writes (types other than
// 2 and 6 ignored, mcontrol keeps only sizelo, the mode bits and load/store/execute),
// tdata3 reads 0, tinfo reads 0x44, no tcontrol/mcontext/scontext, and none of them from
// S or U. Execute, load and store triggers raise a breakpoint (cause 3, tval 0) before the
// instruction retires or the access is done, in the modes their U/S/M bits enable, also when
// delegated; what they match follows QEMU's watchpoints (the watched length is the size
// field's encoding; a misaligned load is checked as the two aligned words around it, a
// misaligned store from the start of its page). A trigger without a mode or an access kind
// never fires.
#include "macros.h"

#define MCONTROL   0x20000000
#define MCONTROL6  0x60000000
#define MC_LOAD    0x01
#define MC_STORE   0x02
#define MC_EXEC    0x04
#define MC_U       0x08
#define MC_S       0x10
#define MC_M       0x40
#define MC_SIZE(n) ((n) << 16)
#define TINFO_2_6  0x44

#define CSR_TCONTROL 0x7a5
#define CSR_MCONTEXT 0x7a8
#define CSR_SCONTEXT 0x5a8

// Trigger n (0 or 1) with tdata1 = ctl at the address in register `addr`. Clobbers t0.
#define SET_TRIGGER(n, ctl, addr) csrwi tselect, n; csrw tdata2, addr; li t0, ctl; csrw tdata1, t0;
// Trigger n back to its reset value (matches nothing). Clobbers t0.
#define CLEAR_TRIGGER(n) csrwi tselect, n; li t0, MCONTROL; csrw tdata1, t0; csrw tdata2, zero;
#define CHECK_CSR(csr, val) csrr x14, csr; li x7, val; bne x14, x7, fail;
// tdata1 of the selected trigger after writing `val`.
#define CHECK_TDATA1(val, expect) li t0, val; csrw tdata1, t0; CHECK_CSR(tdata1, expect)

// `code` in M-mode must take a breakpoint at its first instruction (mepc), with mtval 0.
#define TEST_BREAK(testnum, code...) \
        TEST_TRAP(testnum, CAUSE_BREAKPOINT, code) \
        EXPECT_MTVAL(0) \
        DISARM_TRAPS
// `code` in S-mode, with breakpoints delegated (medeleg bit 3), must take a breakpoint to
// the S handler at its first instruction (sepc), with stval 0.
#define TEST_BREAK_IN_S(testnum, code...) \
test_ ## testnum: \
        li TESTNUM, testnum; \
        li t0, 1 << CAUSE_BREAKPOINT; \
        csrw medeleg, t0; \
        SARM_TRAP(test_ ## testnum ## _s) \
        ARM_TRAP(test_ ## testnum ## _m) \
        GOTO_MODE(PRV_S, test_ ## testnum ## _insn) \
test_ ## testnum ## _insn: \
        code; \
        j fail; \
test_ ## testnum ## _s: \
        ecall; \
        j fail; \
test_ ## testnum ## _m: \
        csrw medeleg, zero; \
        EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL) \
        EXPECT_SCAUSE(CAUSE_BREAKPOINT) \
        EXPECT_SEPC(test_ ## testnum ## _insn) \
        EXPECT_STVAL(0) \
        EXPECT_SPP(1)
// `code` in M-mode must not trap.
#define TEST_NO_BREAK(testnum, code...) \
        li TESTNUM, testnum; \
        code;
// Execute trigger n with tdata1 = ctl at `li a0, testnum`, in M-mode: it must break there
// (the li does not retire), or with _NO_BREAK not (the li runs). Both leave it cleared.
#define TEST_EXEC_BREAK(testnum, n, ctl) \
        li a0, 0; \
        la t1, test_ ## testnum ## _insn; \
        SET_TRIGGER(n, ctl, t1) \
        TEST_BREAK(testnum, li a0, testnum) \
        bnez a0, fail; \
        CLEAR_TRIGGER(n)
#define TEST_EXEC_NO_BREAK(testnum, n, ctl) \
        la t1, 1f; \
        SET_TRIGGER(n, ctl, t1) \
        TEST_NO_BREAK(testnum, 1: li a0, testnum) \
        CHECK_IMM(a0, testnum) \
        CLEAR_TRIGGER(n)

RVTEST_CODE_BEGIN

  // ---- the CSRs ----
  // two triggers: tselect takes 0 and 1; 2 and -1 are ignored
  li TESTNUM, 2
  CHECK_CSR(tselect, 0)
  csrwi tselect, 1
  CHECK_CSR(tselect, 1)
  csrwi tselect, 2
  CHECK_CSR(tselect, 1)
  li t0, -1
  csrw tselect, t0
  CHECK_CSR(tselect, 1)

  // at reset both are mcontrol triggers that match nothing; tinfo says types 2 and 6
  li TESTNUM, 3
  CHECK_CSR(tdata1, MCONTROL)
  CHECK_CSR(tdata2, 0)
  CHECK_CSR(tdata3, 0)
  CHECK_CSR(tinfo, TINFO_2_6)
  csrwi tselect, 0
  CHECK_CSR(tdata1, MCONTROL)
  CHECK_CSR(tdata2, 0)
  CHECK_CSR(tinfo, TINFO_2_6)

  // tdata1 WARL: mcontrol keeps sizelo, U/S/M and load/store/execute (dmode, match,
  // chain, action, timing, select and hit read 0)
  li TESTNUM, 4
  CHECK_TDATA1(0x2fffffff, 0x2003005f)
  // a type other than 2 or 6 is ignored (0: none, 3: icount, 15: unavailable)
  li TESTNUM, 5
  CHECK_TDATA1(0x00000044, 0x2003005f)
  CHECK_TDATA1(0x30000044, 0x2003005f)
  CHECK_TDATA1(0xf0000044, 0x2003005f)
  CHECK_TDATA1(0x28000000, MCONTROL)
  // mcontrol6 (type 6): keeps VU/VS and a size of 0, 1, 2, 3 or 5
  li TESTNUM, 6
  CHECK_TDATA1(0x6fffffff, 0x6180005f)
  CHECK_TDATA1(0x60050000, 0x60050000)
  CHECK_TDATA1(0x600f0000, MCONTROL6)
  CHECK_TDATA1(MCONTROL, MCONTROL)
  // tdata2 holds any address; tdata3 ignores writes
  li TESTNUM, 7
  li t0, 0x12345679
  csrw tdata2, t0
  CHECK_CSR(tdata2, 0x12345679)
  csrw tdata3, t0
  CHECK_CSR(tdata3, 0)
  csrw tinfo, zero
  CHECK_CSR(tinfo, TINFO_2_6)
  csrw tdata2, zero
  // the other trigger was left alone
  csrwi tselect, 1
  CHECK_CSR(tdata1, MCONTROL)
  csrwi tselect, 0

  // tcontrol, mcontext and scontext do not exist
  TEST_TRAP(8, CAUSE_ILLEGAL_INSN, csrr a0, CSR_TCONTROL)
  TEST_TRAP(9, CAUSE_ILLEGAL_INSN, csrr a0, CSR_MCONTEXT)
  TEST_TRAP(10, CAUSE_ILLEGAL_INSN, csrr a0, CSR_SCONTEXT)
  // the trigger CSRs are M-mode only
  TEST_TRAP_IN_MODE(11, PRV_S, CAUSE_ILLEGAL_INSN, csrr a0, tselect)
  EXPECT_MTVAL_INSN(test_11_insn)
  TEST_TRAP_IN_MODE(12, PRV_U, CAUSE_ILLEGAL_INSN, csrw tdata1, zero)
  TEST_TRAP_IN_MODE(13, PRV_S, CAUSE_ILLEGAL_INSN, csrr a0, tinfo)

  // ---- execute triggers ----
  // M-mode: the breakpoint comes before the instruction, which does not retire
  TEST_EXEC_BREAK(20, 0, MCONTROL | MC_M | MC_EXEC)
  // without the M bit it does not fire in M-mode; without a mode bit or without an
  // access kind it never fires
  TEST_EXEC_NO_BREAK(21, 0, MCONTROL | MC_U | MC_S | MC_EXEC)
  TEST_EXEC_NO_BREAK(22, 0, MCONTROL | MC_EXEC)
  TEST_EXEC_NO_BREAK(23, 0, MCONTROL | MC_M)
  // trigger 1 works the same, and so does an mcontrol6 trigger
  TEST_EXEC_BREAK(24, 1, MCONTROL | MC_M | MC_EXEC)
  TEST_EXEC_BREAK(25, 0, MCONTROL6 | MC_M | MC_EXEC)

  // U-mode: fires with the U bit (mepc and MPP say where), not with S and M only
  la t1, test_27_insn
  SET_TRIGGER(0, MCONTROL | MC_U | MC_EXEC, t1)
  TEST_TRAP_IN_MODE(27, PRV_U, CAUSE_BREAKPOINT, nop)
  EXPECT_MTVAL(0)
  la t1, test_28_lower
  SET_TRIGGER(0, MCONTROL | MC_S | MC_M | MC_EXEC, t1)
  RUN_IN_MODE(28, PRV_U, nop)
  // delegated, an S-mode breakpoint goes to the S handler
  la t1, test_29_insn
  SET_TRIGGER(0, MCONTROL | MC_S | MC_EXEC, t1)
  li a0, 0
  TEST_BREAK_IN_S(29, li a0, 11)
  bnez a0, fail
  CLEAR_TRIGGER(0)

  // As QEMU 7.2: a breakpoint is taken at an execute trigger's address when any execute
  // trigger fires in the current mode, not necessarily the one there (trigger 0 is for
  // U-mode only, trigger 1, elsewhere, for M-mode).
  la t1, test_30_insn
  SET_TRIGGER(0, MCONTROL | MC_U | MC_EXEC, t1)
  la t1, watched
  SET_TRIGGER(1, MCONTROL | MC_M | MC_EXEC, t1)
  TEST_BREAK(30, nop)
  CLEAR_TRIGGER(0)
  CLEAR_TRIGGER(1)

  // ---- load triggers ----
  // size "any" watches 4 bytes at tdata2; the load does not happen (a0 keeps its value)
  la s0, watched
  SET_TRIGGER(0, MCONTROL | MC_M | MC_LOAD, s0)
  li a0, -1
  TEST_BREAK(40, lw a0, 0(s0))
  CHECK_IMM(a0, -1)
  TEST_BREAK(41, lbu a0, 3(s0))
  TEST_NO_BREAK(42, lbu a0, 4(s0); lbu a0, -1(s0); lw a0, 4(s0); lw a0, -4(s0); lh a0, 4(s0))
  // a load trigger does not see stores
  li a1, 0x11223344
  TEST_NO_BREAK(43, sw a1, 0(s0))
  // a misaligned load is checked as the two aligned words around it
  TEST_BREAK(44, lw a0, -2(s0))
  TEST_NO_BREAK(45, lw a0, 6(s0); lw a0, -6(s0))
  // the watched length is the size field's encoding: 1, 2, 3 bytes (so "4 bytes" is 3)
  li t0, MCONTROL | MC_M | MC_LOAD | MC_SIZE(1)
  csrw tdata1, t0
  TEST_BREAK(46, lb a0, 0(s0))
  TEST_NO_BREAK(47, lb a0, 1(s0))
  TEST_BREAK(48, lh a0, 1(s0))  // misaligned: the word at s0 is checked
  li t0, MCONTROL | MC_M | MC_LOAD | MC_SIZE(2)
  csrw tdata1, t0
  TEST_BREAK(49, lb a0, 1(s0))
  TEST_NO_BREAK(50, lb a0, 2(s0))
  li t0, MCONTROL | MC_M | MC_LOAD | MC_SIZE(3)
  csrw tdata1, t0
  TEST_BREAK(51, lb a0, 2(s0))
  TEST_NO_BREAK(52, lb a0, 3(s0))
  // mcontrol6 of size "any" watches 8 bytes
  li t0, MCONTROL6 | MC_M | MC_LOAD
  csrw tdata1, t0
  TEST_BREAK(53, lb a0, 7(s0))
  TEST_NO_BREAK(54, lb a0, 8(s0))
  // lr, sc (after a reservation) and AMOs load
  li t0, MCONTROL | MC_M | MC_LOAD
  csrw tdata1, t0
  TEST_BREAK(55, lr.w a0, (s0))
  TEST_BREAK(56, amoadd.w a0, zero, (s0))
  CLEAR_TRIGGER(0)
  lr.w a0, (s0)
  SET_TRIGGER(0, MCONTROL | MC_M | MC_LOAD, s0)
  TEST_BREAK(57, sc.w a0, zero, (s0))
  // disarmed, the load runs
  CLEAR_TRIGGER(0)
  TEST_NO_BREAK(58, lw a0, 0(s0))
  CHECK_IMM(a0, 0x11223344)

  // ---- store triggers ----
  // the store does not happen
  SET_TRIGGER(1, MCONTROL | MC_M | MC_STORE, s0)
  li a0, 0x55
  TEST_BREAK(60, sw a0, 0(s0))
  TEST_BREAK(61, sb a0, 3(s0))
  TEST_BREAK(62, amoswap.w a0, a0, (s0))
  TEST_NO_BREAK(63, lw a0, 0(s0); sw a0, 4(s0); sw a0, -4(s0); sh a0, -2(s0))
  CHECK_IMM(a0, 0x11223344)
  // As QEMU 7.2: a misaligned store within a page is checked from the page's start to its
  // last byte, so it fires above the trigger and not below
  TEST_BREAK(64, sw a0, 0x102(s0))
  TEST_BREAK(65, sh a0, 0x203(s0))
  TEST_NO_BREAK(66, sw a0, -0x102(s0))
  // disarmed, the store runs
  CLEAR_TRIGGER(1)
  li a0, 0x66
  TEST_NO_BREAK(67, sw a0, 0(s0); lw a0, 0(s0))
  CHECK_IMM(a0, 0x66)

  // ---- loads and stores in lower modes ----
  // U-mode, U bit: fires; M bit only: does not
  SET_TRIGGER(0, MCONTROL | MC_U | MC_LOAD | MC_STORE, s0)
  TEST_TRAP_IN_MODE(70, PRV_U, CAUSE_BREAKPOINT, sw zero, 0(s0))
  EXPECT_MTVAL(0)
  SET_TRIGGER(0, MCONTROL | MC_M | MC_LOAD | MC_STORE, s0)
  RUN_IN_MODE(71, PRV_U, lw a0, 0(s0); sw a0, 0(s0))
  CHECK_IMM(a0, 0x66)
  // S-mode, delegated: the S handler sees scause 3, stval 0
  SET_TRIGGER(0, MCONTROL | MC_S | MC_LOAD, s0)
  li a0, -1
  TEST_BREAK_IN_S(72, lw a0, 0(s0))
  CHECK_IMM(a0, -1)
  CLEAR_TRIGGER(0)

  RVTEST_PASS

  .data
  .align 12
  .skip 0x200
watched:
  .word 0x11223344, 0x55667788
  .skip 0x400
