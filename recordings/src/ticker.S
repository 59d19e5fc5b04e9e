// ticker: the bare-metal guest behind recordings/ticker-panic.deja.
//
// M-mode only. It takes two kinds of interrupt:
//   - the CLINT machine timer: one "tick" line per period on the console;
//   - UART receive, through the PLIC's M-mode context: every byte is echoed and folded
//     into a running checksum (FNV-1a).
// Between interrupts the main loop does a round of busy work (a small PRNG writing a
// buffer) and then sleeps in wfi, so idle time jumps are part of the recording. Every
// fourth tick also arms an extra tick SHORT_TICKS ahead and asks for a long work round:
// the extra tick lands in the middle of the loop, on an exact instruction, and the handler
// folds the interrupted pc and loop counter into a "timing" hash. A tier that delivers an
// interrupt one instruction early or late changes that hash and the console.
//
// It ends in a panic-like failure: on the byte '!' ("operator panic", code 66) or after
// MAX_TICKS ticks ("watchdog", code 67) it prints
//     PANIC: <why>: ticks N rx N cksum 0x... timing 0x...
// and writes 0x3333 | code << 16 to the syscon test finisher (deja: exit reason "fail").
//
// Registers: s2/s3 belong to the work loop (accumulator, remaining iterations); the
// handler runs on its own stack and saves what it uses.

#include "macros.h"

#define PERIOD_TICKS   100000       /* 10 ms of virtual time at 10 MHz */
#define SHORT_TICKS    700          /* 70,000 instructions: inside a long work round */
#define MAX_TICKS      400
#define NORMAL_ITERS   1500
#define LONG_ITERS     12000
#define PANIC_BYTE     '!'
#define CODE_OPERATOR  66
#define CODE_WATCHDOG  67
#define FNV_PRIME      16777619
#define FNV_OFFSET     0x811c9dc5

#define UART_IER_RDI   0x01
#define UART_LSR_DR    0x01

// the `state` words
#define ST_TICKS  0
#define ST_RX     4
#define ST_CKSUM  8
#define ST_TIMING 12

        .section .text.init, "ax", @progbits
        .option norvc
        .option norelax
        .option nopic
        .globl _start
_start:
        la sp, stack_top
        la t0, trap_entry
        csrw mtvec, t0
        csrw mie, zero
        csrw mstatus, zero
        csrw mscratch, zero

        // UART: 8N1, no FIFO (one byte at a time), receive interrupts on.
        li s0, UART_BASE
        li t0, 0x03
        sb t0, UART_LCR(s0)
        sb zero, UART_FCR(s0)
        li t0, UART_IER_RDI
        sb t0, UART_IER(s0)

        // PLIC: UART source priority 1, enabled for the M context, threshold 0.
        li t0, PLIC_PRIORITY(UART_IRQ)
        li t1, 1
        sw t1, 0(t0)
        li t0, PLIC_ENABLE(PLIC_CTX_M)
        li t1, 1 << UART_IRQ
        sw t1, 0(t0)
        li t0, PLIC_THRESHOLD(PLIC_CTX_M)
        sw zero, 0(t0)

        la a0, msg_banner
        call puts

        // First deadline: now + PERIOD.
        call read_mtime
        li t0, PERIOD_TICKS
        add a0, a0, t0
        sltu t4, a0, t0
        add a1, a1, t4
        call set_deadline

        li s2, 1
        li s3, 0
        li t0, MIP_MTIP | MIP_MEIP
        csrw mie, t0
        csrsi mstatus, MSTATUS_MIE

main_loop:
        la t0, long_round
        amoswap.w t1, zero, (t0)
        li s3, NORMAL_ITERS
        beqz t1, 2f
        li s3, LONG_ITERS
2:      la t0, work_buf
3:      li t1, 1103515245
        mul s2, s2, t1
        li t1, 12345
        add s2, s2, t1
        srli t1, s2, 13
        xor s2, s2, t1
        andi t1, s3, 63
        slli t1, t1, 2
        add t1, t0, t1
        lw t2, 0(t1)
        add t2, t2, s2
        sw t2, 0(t1)
        addi s3, s3, -1
        bnez s3, 3b
        wfi
        j main_loop

// read_mtime: a0 = low word, a1 = high word of the 64-bit mtime (hi, lo, hi again).
// Clobbers t0, t1.
read_mtime:
        li t0, CLINT_MTIME
1:      lw a1, 4(t0)
        lw a0, 0(t0)
        lw t1, 4(t0)
        bne a1, t1, 1b
        ret

// set_deadline(a0 = lo, a1 = hi): the next regular tick; remembers it, then
// write_mtimecmp. Clobbers t0, t1.
set_deadline:
        la t0, deadline
        sw a0, 0(t0)
        sw a1, 4(t0)
// write_mtimecmp(a0 = lo, a1 = hi), without a spurious early match (hi to all ones first).
write_mtimecmp:
        li t0, CLINT_MTIMECMP
        li t1, -1
        sw t1, 4(t0)
        sw a0, 0(t0)
        sw a1, 4(t0)
        ret

// ---- trap handler ------------------------------------------------------------------------

        .align 4
trap_entry:
        csrw mscratch, sp
        la sp, irq_stack_top
        addi sp, sp, -64
        sw ra, 0(sp)
        sw t0, 4(sp)
        sw t1, 8(sp)
        sw t2, 12(sp)
        sw t3, 16(sp)
        sw t4, 20(sp)
        sw a0, 24(sp)
        sw a1, 28(sp)
        sw a2, 32(sp)
        sw a3, 36(sp)
        sw a4, 40(sp)
        sw a5, 44(sp)
        sw s0, 48(sp)
        sw s1, 52(sp)
        csrr t0, mcause
        bgez t0, exception
        andi t0, t0, 31
        li t1, IRQ_M_TIMER
        beq t0, t1, on_timer
        li t1, IRQ_M_EXT
        beq t0, t1, on_uart
        j exception

trap_return:
        lw ra, 0(sp)
        lw t0, 4(sp)
        lw t1, 8(sp)
        lw t2, 12(sp)
        lw t3, 16(sp)
        lw t4, 20(sp)
        lw a0, 24(sp)
        lw a1, 28(sp)
        lw a2, 32(sp)
        lw a3, 36(sp)
        lw a4, 40(sp)
        lw a5, 44(sp)
        lw s0, 48(sp)
        lw s1, 52(sp)
        csrr sp, mscratch
        mret

// Timer: count the tick, fold where it landed into the timing hash, print a line, arm the
// next deadline (from the previous one, so the schedule does not drift).
on_timer:
        la s0, state
        lw t0, ST_TICKS(s0)
        addi t0, t0, 1
        sw t0, ST_TICKS(s0)
        lw t1, ST_TIMING(s0)
        csrr t2, mepc
        xor t1, t1, t2
        xor t1, t1, s3
        li t2, FNV_PRIME
        mul t1, t1, t2
        sw t1, ST_TIMING(s0)

        la a0, msg_tick
        call puts
        lw a0, ST_TICKS(s0)
        call putdec
        la a0, msg_rx
        call puts
        lw a0, ST_RX(s0)
        call putdec
        la a0, msg_cksum
        call puts
        lw a0, ST_CKSUM(s0)
        call puthex
        // mid-loop ticks say where they landed
        beqz s3, 1f
        la a0, msg_landed
        call puts
        csrr a0, mepc
        call puthex
        la a0, msg_left
        call puts
        mv a0, s3
        call putdec
1:      li a0, '\n'
        call putc

        lw t0, ST_TICKS(s0)
        li t1, MAX_TICKS
        bgeu t0, t1, watchdog

        andi t1, t0, 3
        bnez t1, 2f
        // every fourth tick: one extra tick soon (SHORT_TICKS from now), during a long
        // work round; the regular schedule stays where it is
        la t1, long_round
        li t3, 1
        sw t3, 0(t1)
        call read_mtime
        li t2, SHORT_TICKS
        add a0, a0, t2
        sltu t3, a0, t2
        add a1, a1, t3
        call write_mtimecmp
        j trap_return
        // otherwise the next regular tick, PERIOD_TICKS after the last one
2:      la t0, deadline
        lw a0, 0(t0)
        lw a1, 4(t0)
        li t2, PERIOD_TICKS
        add a0, a0, t2
        sltu t3, a0, t2
        add a1, a1, t3
        call set_deadline
        j trap_return

// UART: claim, drain the receive buffer (echo, checksum, count), complete.
on_uart:
        la s0, state
        li s1, PLIC_CLAIM(PLIC_CTX_M)
        lw a5, 0(s1)
1:      li t0, UART_BASE
        lbu t1, UART_LSR(t0)
        andi t1, t1, UART_LSR_DR
        beqz t1, 2f
        lbu a4, UART_RBR(t0)
        mv a0, a4
        call putc
        lw t1, ST_CKSUM(s0)
        xor t1, t1, a4
        li t2, FNV_PRIME
        mul t1, t1, t2
        sw t1, ST_CKSUM(s0)
        lw t1, ST_RX(s0)
        addi t1, t1, 1
        sw t1, ST_RX(s0)
        li t1, PANIC_BYTE
        beq a4, t1, operator_panic
        j 1b
2:      beqz a5, 3f
        sw a5, 0(s1)
3:      j trap_return

operator_panic:
        la a1, msg_operator
        li a2, CODE_OPERATOR
        j panic
watchdog:
        la a1, msg_watchdog
        li a2, CODE_WATCHDOG
        j panic

// An exception is a bug in this program: say so and fail with code 1.
exception:
        la a0, msg_exception
        call puts
        csrr a0, mcause
        call puthex
        la a0, msg_epc
        call puts
        csrr a0, mepc
        call puthex
        li a0, '\n'
        call putc
        li a2, 1
        j finish

// panic(a1 = why, a2 = code): the last words, then the test finisher.
panic:
        la s0, state
        la a0, msg_panic
        call puts
        mv a0, a1
        call puts
        la a0, msg_ticks
        call puts
        lw a0, ST_TICKS(s0)
        call putdec
        la a0, msg_rx
        call puts
        lw a0, ST_RX(s0)
        call putdec
        la a0, msg_cksum
        call puts
        lw a0, ST_CKSUM(s0)
        call puthex
        la a0, msg_timing
        call puts
        lw a0, ST_TIMING(s0)
        call puthex
        li a0, '\n'
        call putc
finish:
        slli t0, a2, 16
        li t1, 0x3333
        or t0, t0, t1
        li t1, SYSCON_BASE
        sw t0, 0(t1)
1:      wfi
        j 1b

// ---- console output (polls THRE; clobber a0, a3, t0-t4) -----------------------------------

putc:
        li t0, UART_BASE
1:      lbu t1, UART_LSR(t0)
        andi t1, t1, UART_LSR_THRE
        beqz t1, 1b
        sb a0, UART_THR(t0)
        ret

puts:
        mv t4, ra
        mv a3, a0
1:      lbu a0, 0(a3)
        beqz a0, 2f
        call putc
        addi a3, a3, 1
        j 1b
2:      mv ra, t4
        ret

// putdec(a0): unsigned decimal, through a 12-byte buffer on the stack.
putdec:
        addi sp, sp, -16
        sw ra, 12(sp)
        addi a3, sp, 11
        sb zero, 0(a3)
        li t2, 10
1:      remu t3, a0, t2
        divu a0, a0, t2
        addi t3, t3, '0'
        addi a3, a3, -1
        sb t3, 0(a3)
        bnez a0, 1b
        mv a0, a3
        call puts
        lw ra, 12(sp)
        addi sp, sp, 16
        ret

// puthex(a0): "0x" and eight hex digits.
puthex:
        mv t4, ra
        mv a3, a0
        li a0, '0'
        call putc
        li a0, 'x'
        call putc
        li t2, 28
1:      srl a0, a3, t2
        andi a0, a0, 15
        addi a0, a0, '0'
        li t3, '9'
        ble a0, t3, 2f
        addi a0, a0, 'a' - '9' - 1
2:      call putc
        addi t2, t2, -4
        bgez t2, 1b
        mv ra, t4
        ret

// ---- data ----------------------------------------------------------------------------------

        .data
        .align 4
state:      .word 0, 0, FNV_OFFSET, FNV_OFFSET
deadline:   .word 0, 0
long_round: .word 0
msg_banner:    .asciz "ticker: timer every 10 ms, UART echo; '!' panics\n"
msg_tick:      .asciz "tick "
msg_rx:        .asciz " rx "
msg_cksum:     .asciz " cksum "
msg_landed:    .asciz " landed at "
msg_left:      .asciz " left "
msg_panic:     .asciz "\nPANIC: "
msg_operator:  .asciz "operator panic"
msg_watchdog:  .asciz "watchdog"
msg_ticks:     .asciz ": ticks "
msg_timing:    .asciz " timing "
msg_exception: .asciz "\nunexpected exception: mcause "
msg_epc:       .asciz " mepc "

        .bss
        .align 4
work_buf:   .skip 256
stack:      .skip 1024
stack_top:
irq_stack:  .skip 1024
irq_stack_top:
