// Common frame for deja's bare-metal ISA test programs (in the style of riscv-tests).
//
// A program is:
//
//     #include "macros.h"
//     RVTEST_CODE_BEGIN
//       TEST_RR_OP(2, add, 3, 1, 2)
//       ...
//     RVTEST_PASS
//
// It starts in M-mode at _start (the boot ROM jumps there with a0 = hartid, a1 = dtb).
// Every check that fails jumps to `fail`, which writes (TESTNUM << 1) | 1 to the HTIF word
// `tohost` (the emulator stops with exit reason 'fail' and that code); `pass` writes 1.
//
// Register conventions:
//   gp (x3)   TESTNUM, the number of the test being run (the failure code)
//   t5, t6    owned by the trap handlers: never live across an instruction that may trap
//   x7, x14   expected and actual value of a check (clobbered by every check)
//   sp        a 4 KiB stack in .bss
//
// Traps: the M-mode handler `trap_vector` (mtvec) and the S-mode handler `strap_vector`
// (stvec) record cause, epc, tval and status in `trap_state` and count traps. A test that
// expects a trap arms the handler first (ARM_TRAP(label)): the next trap then resumes at
// `label` in M-mode (or, for the S handler, SARM_TRAP: in S-mode). A trap nobody armed
// prints its cause, epc and tval on the UART and fails the current test. A test may also
// set a hook (SET_TRAP_HOOK(label)) that runs after the recording with t5/t6 free and
// returns with mret itself (used by the interrupt tests).
//
// Build with -DQEMU_SYSCON to end through the virt board's test finisher as well (to
// check a program against qemu-system-riscv32 -M virt -bios none -kernel prog.elf).

#ifndef DEJA_ISA_MACROS_H
#define DEJA_ISA_MACROS_H

#define TESTNUM gp

// ---- architectural constants ----------------------------------------------------------

#define MSTATUS_SIE   0x00000002
#define MSTATUS_MIE   0x00000008
#define MSTATUS_SPIE  0x00000020
#define MSTATUS_MPIE  0x00000080
#define MSTATUS_SPP   0x00000100
#define MSTATUS_MPP   0x00001800
#define MSTATUS_MPRV  0x00020000
#define MSTATUS_SUM   0x00040000
#define MSTATUS_MXR   0x00080000
#define MSTATUS_TVM   0x00100000
#define MSTATUS_TW    0x00200000
#define MSTATUS_TSR   0x00400000

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define CAUSE_MISALIGNED_FETCH   0
#define CAUSE_FETCH_ACCESS       1
#define CAUSE_ILLEGAL_INSN       2
#define CAUSE_BREAKPOINT         3
#define CAUSE_MISALIGNED_LOAD    4
#define CAUSE_LOAD_ACCESS        5
#define CAUSE_MISALIGNED_STORE   6
#define CAUSE_STORE_ACCESS       7
#define CAUSE_USER_ECALL         8
#define CAUSE_SUPERVISOR_ECALL   9
#define CAUSE_MACHINE_ECALL      11
#define CAUSE_FETCH_PAGE_FAULT   12
#define CAUSE_LOAD_PAGE_FAULT    13
#define CAUSE_STORE_PAGE_FAULT   15

// An AMO's address-misaligned and access faults are store/AMO faults (6, 7). QEMU 7.2
// reports them as load faults (4, 5); the QEMU build of the programs expects that.
#ifdef QEMU_SYSCON
#define CAUSE_AMO_MISALIGNED CAUSE_MISALIGNED_LOAD
#define CAUSE_AMO_ACCESS     CAUSE_LOAD_ACCESS
#else
#define CAUSE_AMO_MISALIGNED CAUSE_MISALIGNED_STORE
#define CAUSE_AMO_ACCESS     CAUSE_STORE_ACCESS
#endif

#define IRQ_S_SOFT   1
#define IRQ_M_SOFT   3
#define IRQ_S_TIMER  5
#define IRQ_M_TIMER  7
#define IRQ_S_EXT    9
#define IRQ_M_EXT    11
#define INTERRUPT(irq) (0x80000000 | (irq))

#define MIP_SSIP (1 << IRQ_S_SOFT)
#define MIP_MSIP (1 << IRQ_M_SOFT)
#define MIP_STIP (1 << IRQ_S_TIMER)
#define MIP_MTIP (1 << IRQ_M_TIMER)
#define MIP_SEIP (1 << IRQ_S_EXT)
#define MIP_MEIP (1 << IRQ_M_EXT)

#define SATP_MODE_SV32 0x80000000

#define PTE_V 0x001
#define PTE_R 0x002
#define PTE_W 0x004
#define PTE_X 0x008
#define PTE_U 0x010
#define PTE_G 0x020
#define PTE_A 0x040
#define PTE_D 0x080

// PMP configuration byte
#define PMP_R     0x01
#define PMP_W     0x02
#define PMP_X     0x04
#define PMP_TOR   0x08
#define PMP_NA4   0x10
#define PMP_NAPOT 0x18
#define PMP_L     0x80

// ---- the virt board ------------------------------------------------------------------

#define SYSCON_BASE     0x00100000
#define CLINT_BASE      0x02000000
#define CLINT_MSIP      0x02000000
#define CLINT_MTIMECMP  0x02004000
#define CLINT_MTIME     0x0200bff8
#define PLIC_BASE       0x0c000000
#define PLIC_PRIORITY(irq)   (PLIC_BASE + 4 * (irq))
#define PLIC_PENDING         (PLIC_BASE + 0x1000)
#define PLIC_ENABLE(ctx)     (PLIC_BASE + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx)  (PLIC_BASE + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)      (PLIC_BASE + 0x200004 + 0x1000 * (ctx))
#define PLIC_CTX_M 0
#define PLIC_CTX_S 1
#define UART_BASE  0x10000000
#define UART_IRQ   10
#define UART_THR   0
#define UART_RBR   0
#define UART_DLL   0
#define UART_IER   1
#define UART_DLM   1
#define UART_IIR   2
#define UART_FCR   2
#define UART_LCR   3
#define UART_MCR   4
#define UART_LSR   5
#define UART_SCR   7
#define UART_IER_THRI 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

// ---- trap_state layout ---------------------------------------------------------------

#define TS_CAUSE    0
#define TS_EPC      4
#define TS_TVAL     8
#define TS_STATUS   12
#define TS_COUNT    16
#define TS_RESUME   20
#define TS_HOOK     24
#define TS_SCAUSE   32
#define TS_SEPC     36
#define TS_STVAL    40
#define TS_SSTATUS  44
#define TS_SCOUNT   48
#define TS_SRESUME  52
#define TS_SHOOK    56
#define TS_SIZE     64

// ---- the frame -------------------------------------------------------------------------

#ifdef QEMU_SYSCON
#define RVTEST_EXIT_PASS  li t5, SYSCON_BASE; li t6, 0x5555; sw t6, 0(t5);
#define RVTEST_EXIT_FAIL  li t5, SYSCON_BASE; slli t6, TESTNUM, 16; li a0, 0x3333; or t6, t6, a0; sw t6, 0(t5);
#else
#define RVTEST_EXIT_PASS
#define RVTEST_EXIT_FAIL
#endif

.macro RVTEST_CODE_BEGIN
        .pushsection .tohost, "aw", @progbits
        .align 6
        .globl tohost
tohost: .dword 0
        .align 6
        .globl fromhost
fromhost: .dword 0
        .popsection

        .pushsection .data
        .align 6
        .globl trap_state
trap_state: .fill TS_SIZE / 4, 4, 0
        .popsection

        .pushsection .bss
        .align 4
stack_bottom: .skip 4096
stack_top:
        .popsection

        .section .text.init, "ax", @progbits
        .option norvc
        .option norelax         /* label differences stay assembly-time constants */
        .option nopic           /* la is pc-relative, never through a GOT */
        .align 6
        .globl _start
_start:
        j reset_vector

// M-mode trap handler: record, then resume where armed, run the hook, or fail.
        .align 6
        .globl trap_vector
trap_vector:
        la t6, trap_state
        csrr t5, mcause
        sw t5, TS_CAUSE(t6)
        csrr t5, mepc
        sw t5, TS_EPC(t6)
        csrr t5, mtval
        sw t5, TS_TVAL(t6)
        csrr t5, mstatus
        sw t5, TS_STATUS(t6)
        lw t5, TS_COUNT(t6)
        addi t5, t5, 1
        sw t5, TS_COUNT(t6)
        lw t5, TS_RESUME(t6)
        bnez t5, 1f
        lw t5, TS_HOOK(t6)
        bnez t5, 2f
        j unexpected_trap
1:      sw zero, TS_RESUME(t6)
        csrw mepc, t5
        li t5, MSTATUS_MPP
        csrs mstatus, t5
        mret
2:      jr t5

// S-mode trap handler (reached through medeleg/mideleg): the same, resuming in S-mode.
        .align 6
        .globl strap_vector
strap_vector:
        la t6, trap_state
        csrr t5, scause
        sw t5, TS_SCAUSE(t6)
        csrr t5, sepc
        sw t5, TS_SEPC(t6)
        csrr t5, stval
        sw t5, TS_STVAL(t6)
        csrr t5, sstatus
        sw t5, TS_SSTATUS(t6)
        lw t5, TS_SCOUNT(t6)
        addi t5, t5, 1
        sw t5, TS_SCOUNT(t6)
        lw t5, TS_SRESUME(t6)
        bnez t5, 1f
        lw t5, TS_SHOOK(t6)
        bnez t5, 2f
        j fail
1:      sw zero, TS_SRESUME(t6)
        csrw sepc, t5
        li t5, MSTATUS_SPP
        csrs sstatus, t5
        sret
2:      jr t5

// An M-mode trap nobody expected: say what it was, then fail the current test.
unexpected_trap:
        la a0, msg_trap
        jal print_str
        csrr a0, mcause
        jal print_hex
        la a0, msg_epc
        jal print_str
        csrr a0, mepc
        jal print_hex
        la a0, msg_tval
        jal print_str
        csrr a0, mtval
        jal print_hex
        la a0, msg_test
        jal print_str
        mv a0, TESTNUM
        jal print_hex
        li a0, 10
        jal print_char
        j fail

// UART output, M-mode only (clobbers a0-a2).
print_char:
        li a1, UART_BASE
        sb a0, UART_THR(a1)
        ret
print_str:
        li a1, UART_BASE
1:      lbu a2, 0(a0)
        beqz a2, 2f
        sb a2, UART_THR(a1)
        addi a0, a0, 1
        j 1b
2:      ret
print_hex:
        li a1, UART_BASE
        li a2, 28
1:      srl t5, a0, a2
        andi t5, t5, 15
        addi t5, t5, 48         /* '0' */
        li t6, 57               /* '9' */
        ble t5, t6, 2f
        addi t5, t5, 39         /* 'a' - '9' - 1 */
2:      sb t5, UART_THR(a1)
        addi a2, a2, -4
        bgez a2, 1b
        ret

        .globl pass
pass:
        fence
        RVTEST_EXIT_PASS
        la t6, tohost
        li t5, 1
        sw zero, 4(t6)
        sw t5, 0(t6)
1:      j 1b

        .globl fail
fail:
        fence
        bnez TESTNUM, 1f
        li TESTNUM, 0x7ff
1:      RVTEST_EXIT_FAIL
        la t6, tohost
        slli t5, TESTNUM, 1
        ori t5, t5, 1
        sw zero, 4(t6)
        sw t5, 0(t6)
1:      j 1b

reset_vector:
        li x1, 0
        li x2, 0
        li x3, 0
        li x4, 0
        li x5, 0
        li x6, 0
        li x7, 0
        li x8, 0
        li x9, 0
        /* a0 (hartid) and a1 (dtb) are left as the boot ROM set them */
        li x12, 0
        li x13, 0
        li x14, 0
        li x15, 0
        li x16, 0
        li x17, 0
        li x18, 0
        li x19, 0
        li x20, 0
        li x21, 0
        li x22, 0
        li x23, 0
        li x24, 0
        li x25, 0
        li x26, 0
        li x27, 0
        li x28, 0
        li x29, 0
        li x30, 0
        li x31, 0
        la t0, trap_vector
        csrw mtvec, t0
        la t0, strap_vector
        csrw stvec, t0
        csrw medeleg, zero
        csrw mideleg, zero
        csrw mie, zero
        csrw satp, zero
        csrw mstatus, zero
        /* PMP: one NAPOT entry over the whole address space, RWX, so S and U may run */
        li t0, -1
        csrw pmpaddr0, t0
        li t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
        csrw pmpcfg0, t0
        la sp, stack_top
        li TESTNUM, 0
        j rvtest_main

        .data
msg_trap: .asciz "unexpected trap: mcause="
msg_epc:  .asciz " mepc="
msg_tval: .asciz " mtval="
msg_test: .asciz " test="

        .text
        .option norvc
rvtest_main:
.endm

#define RVTEST_PASS  li TESTNUM, 0; j pass;
#define RVTEST_FAIL  j fail;

// ---- checks ----------------------------------------------------------------------------

#define TEST_CASE(testnum, testreg, correctval, code...) \
test_ ## testnum: \
        li TESTNUM, testnum; \
        code; \
        li x7, correctval; \
        bne testreg, x7, fail;

// Checks that reg == val (both registers) under the current test number.
#define CHECK_EQ(reg, val) bne reg, val, fail;
#define CHECK_IMM(reg, imm) li x7, imm; bne reg, x7, fail;

// ---- ALU -------------------------------------------------------------------------------

#define TEST_IMM_OP(testnum, inst, result, val1, imm) \
        TEST_CASE(testnum, x14, result, li x1, val1; inst x14, x1, imm)
#define TEST_IMM_SRC1_EQ_DEST(testnum, inst, result, val1, imm) \
        TEST_CASE(testnum, x1, result, li x1, val1; inst x1, x1, imm)
#define TEST_IMM_ZEROSRC1(testnum, inst, result, imm) \
        TEST_CASE(testnum, x1, result, inst x1, x0, imm)
#define TEST_IMM_ZERODEST(testnum, inst, val1, imm) \
        TEST_CASE(testnum, x0, 0, li x1, val1; inst x0, x1, imm)

#define TEST_RR_OP(testnum, inst, result, val1, val2) \
        TEST_CASE(testnum, x14, result, li x1, val1; li x2, val2; inst x14, x1, x2)
#define TEST_RR_SRC1_EQ_DEST(testnum, inst, result, val1, val2) \
        TEST_CASE(testnum, x1, result, li x1, val1; li x2, val2; inst x1, x1, x2)
#define TEST_RR_SRC2_EQ_DEST(testnum, inst, result, val1, val2) \
        TEST_CASE(testnum, x2, result, li x1, val1; li x2, val2; inst x2, x1, x2)
#define TEST_RR_SRC12_EQ_DEST(testnum, inst, result, val1) \
        TEST_CASE(testnum, x1, result, li x1, val1; inst x1, x1, x1)
#define TEST_RR_ZEROSRC1(testnum, inst, result, val) \
        TEST_CASE(testnum, x2, result, li x1, val; inst x2, x0, x1)
#define TEST_RR_ZEROSRC2(testnum, inst, result, val) \
        TEST_CASE(testnum, x2, result, li x1, val; inst x2, x1, x0)
#define TEST_RR_ZERODEST(testnum, inst, val1, val2) \
        TEST_CASE(testnum, x0, 0, li x1, val1; li x2, val2; inst x0, x1, x2)

// ---- loads and stores ------------------------------------------------------------------

#define TEST_LD_OP(testnum, inst, result, offset, base) \
        TEST_CASE(testnum, x14, result, la x1, base; inst x14, offset(x1))

// Stores `result` with `sinst` at offset(base), reads it back with `linst`.
#define TEST_ST_OP(testnum, linst, sinst, result, offset, base) \
        TEST_CASE(testnum, x14, result, la x1, base; li x2, result; sinst x2, offset(x1); linst x14, offset(x1))

// ---- branches --------------------------------------------------------------------------

#define TEST_BR2_TAKEN(testnum, inst, val1, val2) \
test_ ## testnum: \
        li TESTNUM, testnum; \
        li x1, val1; \
        li x2, val2; \
        inst x1, x2, 2f; \
        j fail; \
1:      j 3f; \
2:      inst x1, x2, 1b; \
        j fail; \
3:

#define TEST_BR2_NOTTAKEN(testnum, inst, val1, val2) \
test_ ## testnum: \
        li TESTNUM, testnum; \
        li x1, val1; \
        li x2, val2; \
        inst x1, x2, 1f; \
        j 2f; \
1:      j fail; \
2:      inst x1, x2, 1b; \
3:

// ---- traps -----------------------------------------------------------------------------

// The next M-mode trap resumes at `label` (in M-mode); its cause reads -1 until then.
#define ARM_TRAP(label) \
        la t5, label; la t6, trap_state; sw t5, TS_RESUME(t6); li t5, -1; sw t5, TS_CAUSE(t6);
// The next S-mode trap resumes at `label` (in S-mode).
#define SARM_TRAP(label) \
        la t5, label; la t6, trap_state; sw t5, TS_SRESUME(t6); li t5, -1; sw t5, TS_SCAUSE(t6);
#define DISARM_TRAPS \
        la t6, trap_state; sw zero, TS_RESUME(t6); sw zero, TS_SRESUME(t6);
#define SET_TRAP_HOOK(label)  la t5, label; la t6, trap_state; sw t5, TS_HOOK(t6);
#define SET_STRAP_HOOK(label) la t5, label; la t6, trap_state; sw t5, TS_SHOOK(t6);
#define CLEAR_TRAP_HOOKS      la t6, trap_state; sw zero, TS_HOOK(t6); sw zero, TS_SHOOK(t6);

// Loads a trap_state field into reg.
#define TRAP_FIELD(reg, field) la reg, trap_state; lw reg, field(reg);

#define EXPECT_FIELD_IMM(field, val)  TRAP_FIELD(x14, field) li x7, val; bne x14, x7, fail;
#define EXPECT_FIELD_ADDR(field, label) TRAP_FIELD(x14, field) la x7, label; bne x14, x7, fail;
#define EXPECT_FIELD_REG(field, reg)  TRAP_FIELD(x14, field) bne x14, reg, fail;
// The 32-bit (or 16-bit) instruction stored at label: what mtval must hold for it.
#define EXPECT_FIELD_INSN32(field, label) TRAP_FIELD(x14, field) la x7, label; lw x7, 0(x7); bne x14, x7, fail;
#define EXPECT_FIELD_INSN16(field, label) TRAP_FIELD(x14, field) la x7, label; lhu x7, 0(x7); bne x14, x7, fail;

#define EXPECT_MCAUSE(cause)      EXPECT_FIELD_IMM(TS_CAUSE, cause)
#define EXPECT_MEPC(label)        EXPECT_FIELD_ADDR(TS_EPC, label)
#define EXPECT_MTVAL(val)         EXPECT_FIELD_IMM(TS_TVAL, val)
#define EXPECT_MTVAL_ADDR(label)  EXPECT_FIELD_ADDR(TS_TVAL, label)
#define EXPECT_MTVAL_REG(reg)     EXPECT_FIELD_REG(TS_TVAL, reg)
#define EXPECT_MTVAL_INSN(label)  EXPECT_FIELD_INSN32(TS_TVAL, label)
#define EXPECT_MTVAL_INSN16(label) EXPECT_FIELD_INSN16(TS_TVAL, label)
#define EXPECT_SCAUSE(cause)      EXPECT_FIELD_IMM(TS_SCAUSE, cause)
#define EXPECT_SEPC(label)        EXPECT_FIELD_ADDR(TS_SEPC, label)
#define EXPECT_STVAL(val)         EXPECT_FIELD_IMM(TS_STVAL, val)
#define EXPECT_STVAL_ADDR(label)  EXPECT_FIELD_ADDR(TS_STVAL, label)
#define EXPECT_STVAL_REG(reg)     EXPECT_FIELD_REG(TS_STVAL, reg)
#define EXPECT_STVAL_INSN(label)  EXPECT_FIELD_INSN32(TS_STVAL, label)
// The privilege the last M trap came from (mstatus.MPP as the handler saw it).
#define EXPECT_MPP(mode) \
        TRAP_FIELD(x14, TS_STATUS) srli x14, x14, 11; andi x14, x14, 3; li x7, mode; bne x14, x7, fail;
// Whether the last S trap came from S (1) or U (0): sstatus.SPP as the handler saw it.
#define EXPECT_SPP(spp) \
        TRAP_FIELD(x14, TS_SSTATUS) srli x14, x14, 8; andi x14, x14, 1; li x7, spp; bne x14, x7, fail;
#define EXPECT_MCOUNT(n) EXPECT_FIELD_IMM(TS_COUNT, n)
#define EXPECT_SCOUNT(n) EXPECT_FIELD_IMM(TS_SCOUNT, n)

// One instruction (sequence) that must trap to M-mode with `cause`; mepc must be the
// first instruction of `code`. Checks of mtval follow the macro.
#define TEST_TRAP(testnum, cause, code...) \
test_ ## testnum: \
        li TESTNUM, testnum; \
        ARM_TRAP(test_ ## testnum ## _resume) \
test_ ## testnum ## _insn: \
        code; \
        j fail; \
test_ ## testnum ## _resume: \
        EXPECT_MCAUSE(cause) \
        EXPECT_MEPC(test_ ## testnum ## _insn)

// ---- privilege -------------------------------------------------------------------------

// Leaves M-mode for `mode` at `label` (mret). Clobbers t5.
#define GOTO_MODE(mode, label) \
        li t5, MSTATUS_MPP; csrc mstatus, t5; li t5, (mode) << 11; csrs mstatus, t5; \
        la t5, label; csrw mepc, t5; mret;

// Runs `code` in `mode` (U or S), then ecall back to M; checks the ecall's cause, so a
// fault in `code` fails the test. Registers other than t5/t6 carry in and out.
#define RUN_IN_MODE(testnum, mode, code...) \
        li TESTNUM, testnum; \
        ARM_TRAP(test_ ## testnum ## _back) \
        GOTO_MODE(mode, test_ ## testnum ## _lower) \
test_ ## testnum ## _lower: \
        code; \
        ecall; \
test_ ## testnum ## _back: \
        EXPECT_MCAUSE(CAUSE_USER_ECALL + (mode))

// `code` in `mode` must trap to M-mode with `cause` at its label `test_N_insn`
// (mepc is checked; check mtval after the macro).
#define TEST_TRAP_IN_MODE(testnum, mode, cause, code...) \
test_ ## testnum: \
        li TESTNUM, testnum; \
        ARM_TRAP(test_ ## testnum ## _resume) \
        GOTO_MODE(mode, test_ ## testnum ## _insn) \
test_ ## testnum ## _insn: \
        code; \
        j fail; \
test_ ## testnum ## _resume: \
        EXPECT_MCAUSE(cause) \
        EXPECT_MEPC(test_ ## testnum ## _insn) \
        EXPECT_MPP(mode)

#endif
