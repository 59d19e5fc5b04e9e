// Physical memory protection: with PMP entries configured, S- and U-mode accesses
// outside every region fault (load 5, store 7, fetch 1) with mtval = the address, M-mode
// ones do not; the lowest-numbered matching entry decides; NAPOT, TOR and NA4 regions;
// R, W and X permissions separately; a change takes effect (after sfence.vma) even for a
// page accessed before; a locked entry binds M-mode too and ignores writes.
#include "macros.h"

#define OUTSIDE 0x80400000                        // RAM past the 4 MiB region below
#define REGION_4M ((0x80000000 >> 2) | ((0x400000 >> 3) - 1))

// pmpaddr for the NAPOT 4 KiB page at `label`
#define LA_NAPOT4K(reg, label) la reg, label; srli reg, reg, 2; ori reg, reg, (4096 >> 3) - 1;

#define PMP_SYNC sfence.vma zero, zero

RVTEST_CODE_BEGIN

  // a marker past the region, written by M
  li t0, OUTSIDE
  li t1, 0x0d0d0d0d
  sw t1, 0(t0)

  // ---- one region: the first 4 MiB of RAM ----
  li TESTNUM, 2
  li t0, REGION_4M
  csrw pmpaddr0, t0
  li t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
  csrw pmpcfg0, t0
  csrw pmpcfg1, zero
  csrw pmpcfg2, zero
  csrw pmpcfg3, zero
  PMP_SYNC
  csrr x14, pmpaddr0
  CHECK_IMM(x14, REGION_4M)
  csrr x14, pmpcfg0
  CHECK_IMM(x14, PMP_NAPOT | PMP_R | PMP_W | PMP_X)
  // inside: fine
  la a0, pmp_page
  RUN_IN_MODE(3, PRV_S, lw s0, 0(a0); sw s0, 4(a0))
  CHECK_IMM(s0, 0xa5a5a5a5)
  RUN_IN_MODE(4, PRV_U, lw s0, 0(a0))
  // outside: access faults from S and U
  li a0, OUTSIDE
  TEST_TRAP_IN_MODE(5, PRV_S, CAUSE_LOAD_ACCESS, lw a1, 0(a0))
  EXPECT_MTVAL(OUTSIDE)
  TEST_TRAP_IN_MODE(6, PRV_S, CAUSE_STORE_ACCESS, sw a1, 0(a0))
  EXPECT_MTVAL(OUTSIDE)
  TEST_TRAP_IN_MODE(7, PRV_U, CAUSE_LOAD_ACCESS, lb a1, 3(a0))
  EXPECT_MTVAL(OUTSIDE + 3)
  TEST_TRAP_IN_MODE(8, PRV_U, CAUSE_STORE_ACCESS, sh a1, 2(a0))
  EXPECT_MTVAL(OUTSIDE + 2)
  // an AMO outside: store/AMO access fault
  TEST_TRAP_IN_MODE(9, PRV_S, CAUSE_AMO_ACCESS, amoor.w a1, a1, (a0))
  EXPECT_MTVAL(OUTSIDE)
  // fetch outside
  li TESTNUM, 10
  ARM_TRAP(1f)
  GOTO_MODE(PRV_S, 2f)
2:
  jalr a0
  j fail
1:
  EXPECT_MCAUSE(CAUSE_FETCH_ACCESS)
  EXPECT_MEPC(OUTSIDE)
  EXPECT_MTVAL(OUTSIDE)
  // MMIO is outside too: the UART
  li a0, UART_BASE
  TEST_TRAP_IN_MODE(11, PRV_S, CAUSE_LOAD_ACCESS, lbu a1, UART_LSR(a0))
  EXPECT_MTVAL(UART_BASE + UART_LSR)
  // the marker is unchanged, and M-mode reads it (no entry matches: M is allowed)
  li TESTNUM, 12
  li a0, OUTSIDE
  lw x14, 0(a0)
  CHECK_IMM(x14, 0x0d0d0d0d)

  // ---- the lowest-numbered matching entry decides ----
  // entry 0: pmp_page, R only; entry 1: the 4 MiB region, RWX
  li TESTNUM, 20
  LA_NAPOT4K(t0, pmp_page)
  csrw pmpaddr0, t0
  li t0, REGION_4M
  csrw pmpaddr1, t0
  li t0, (PMP_NAPOT | PMP_R) | ((PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 8)
  csrw pmpcfg0, t0
  PMP_SYNC
  la a0, pmp_page
  RUN_IN_MODE(21, PRV_S, lw s0, 8(a0))
  CHECK_IMM(s0, 0x5a5a5a5a)
  TEST_TRAP_IN_MODE(22, PRV_S, CAUSE_STORE_ACCESS, sw a1, 8(a0))
  la x15, pmp_page + 8
  EXPECT_MTVAL_REG(x15)
  // fetch from the R-only page
  li TESTNUM, 23
  ARM_TRAP(1f)
  GOTO_MODE(PRV_S, 2f)
2:
  jalr a0
  j fail
1:
  EXPECT_MCAUSE(CAUSE_FETCH_ACCESS)
  EXPECT_MTVAL_REG(a0)
  // M-mode is not bound by an unlocked entry
  li TESTNUM, 24
  li a1, 0x77
  sw a1, 12(a0)
  lw x14, 12(a0)
  CHECK_IMM(x14, 0x77)
  // the page next to it is in entry 1: fine
  la a0, pmp_page + 4096
  RUN_IN_MODE(25, PRV_S, sw a1, 0(a0))

  // entry 0: an X-only page of code: S may run it but not read it
  li TESTNUM, 30
  LA_NAPOT4K(t0, pmp_xpage)
  csrw pmpaddr0, t0
  li t0, (PMP_NAPOT | PMP_X) | ((PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 8)
  csrw pmpcfg0, t0
  PMP_SYNC
  la a0, pmp_xroutine
  RUN_IN_MODE(31, PRV_S, li s0, 0; jalr a0)
  CHECK_IMM(s0, 42)
  TEST_TRAP_IN_MODE(32, PRV_S, CAUSE_LOAD_ACCESS, lw a1, 0(a0))
  EXPECT_MTVAL_REG(a0)

  // ---- a change applies to a page used just before ----
  // pmp_page RWX through entry 1, read by S (any cached translation now allows it) ...
  li TESTNUM, 40
  csrw pmpcfg0, zero
  li t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
  csrw pmpcfg0, t0
  li t0, REGION_4M
  csrw pmpaddr0, t0
  PMP_SYNC
  la a0, pmp_page
  RUN_IN_MODE(41, PRV_S, lw s0, 0(a0); sw s0, 16(a0))
  // ... then entry 0 takes every permission away from it
  LA_NAPOT4K(t0, pmp_page)
  csrw pmpaddr0, t0
  li t0, REGION_4M
  csrw pmpaddr1, t0
  li t0, (PMP_NAPOT) | ((PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 8)
  csrw pmpcfg0, t0
  PMP_SYNC
  la a0, pmp_page
  TEST_TRAP_IN_MODE(42, PRV_S, CAUSE_LOAD_ACCESS, lw a1, 0(a0))
  TEST_TRAP_IN_MODE(43, PRV_S, CAUSE_STORE_ACCESS, sw a1, 16(a0))

  // ---- TOR: entry 3 covers [pmpaddr2, pmpaddr3) = pmp_page, R only ----
  li TESTNUM, 50
  la t0, pmp_page
  srli t0, t0, 2
  csrw pmpaddr2, t0
  la t0, pmp_page + 4096
  srli t0, t0, 2
  csrw pmpaddr3, t0
  li t0, REGION_4M
  csrw pmpaddr4, t0
  li t0, (PMP_TOR | PMP_R) << 24
  csrw pmpcfg0, t0
  li t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
  csrw pmpcfg1, t0
  PMP_SYNC
  la a0, pmp_page
  la a2, pmp_page + 4092
  RUN_IN_MODE(51, PRV_S, lw s0, 0(a0); lw s0, 0(a2))
  TEST_TRAP_IN_MODE(52, PRV_S, CAUSE_STORE_ACCESS, sw a1, 0(a2))
  EXPECT_MTVAL_REG(a2)
  TEST_TRAP_IN_MODE(53, PRV_S, CAUSE_STORE_ACCESS, sb a1, 0(a0))
  // just below and just above: entry 4
  RUN_IN_MODE(54, PRV_S, sw a1, -4(a0); li a2, 4096; add a2, a0, a2; sw a1, 0(a2))

  // ---- NA4: entry 0 covers one word with no permission ----
  li TESTNUM, 60
  la t0, pmp_page + 32
  srli t0, t0, 2
  csrw pmpaddr0, t0
  li t0, REGION_4M
  csrw pmpaddr1, t0
  li t0, (PMP_NA4) | ((PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 8)
  csrw pmpcfg0, t0
  csrw pmpcfg1, zero
  PMP_SYNC
  la a0, pmp_page + 32
  RUN_IN_MODE(61, PRV_S, lw s0, 4(a0); lw s0, -4(a0); sw s0, 4(a0))
  TEST_TRAP_IN_MODE(62, PRV_S, CAUSE_LOAD_ACCESS, lw a1, 0(a0))
  la x15, pmp_page + 32
  EXPECT_MTVAL_REG(x15)
  TEST_TRAP_IN_MODE(63, PRV_S, CAUSE_LOAD_ACCESS, lbu a1, 2(a0))
  RUN_IN_MODE(64, PRV_S, lw s0, 8(a0))

  // ---- a locked entry binds M-mode and cannot be changed ----
  li TESTNUM, 70
  LA_NAPOT4K(t0, pmp_lpage)
  csrw pmpaddr0, t0
  li t0, REGION_4M
  csrw pmpaddr1, t0
  li t0, (PMP_L | PMP_NAPOT | PMP_R) | ((PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 8)
  csrw pmpcfg0, t0
  PMP_SYNC
  la a0, pmp_lpage
  lw x14, 0(a0)
  CHECK_IMM(x14, 0x1ced1ced)
  TEST_TRAP(71, CAUSE_STORE_ACCESS, sw a1, 0(a0))
  EXPECT_MTVAL_REG(a0)
  EXPECT_MPP(PRV_M)
  // writes to the locked entry's cfg byte and address are ignored
  li TESTNUM, 72
  csrr s1, pmpaddr0
  li t0, -1
  csrw pmpaddr0, t0
  csrr x14, pmpaddr0
  bne x14, s1, fail
  li t0, (PMP_NAPOT | PMP_R | PMP_W | PMP_X) | ((PMP_NAPOT | PMP_R | PMP_W | PMP_X) << 8)
  csrw pmpcfg0, t0
  csrr x14, pmpcfg0
  andi x14, x14, 0xff
  CHECK_IMM(x14, PMP_L | PMP_NAPOT | PMP_R)
  PMP_SYNC
  la a0, pmp_lpage
  TEST_TRAP(73, CAUSE_STORE_ACCESS, sw a1, 0(a0))
  // and S and U are bound by it as before
  TEST_TRAP_IN_MODE(74, PRV_S, CAUSE_STORE_ACCESS, sw a1, 0(a0))
  RUN_IN_MODE(75, PRV_U, lw s0, 0(a0))
  CHECK_IMM(s0, 0x1ced1ced)

  RVTEST_PASS

  .balign 4096
pmp_xpage:
pmp_xroutine:
  li s0, 42
  ret
  .balign 4096

  .data
  .balign 4096
pmp_page:
  .word 0xa5a5a5a5, 0, 0x5a5a5a5a
  .balign 4096
  .word 0
  .balign 4096
pmp_lpage:
  .word 0x1ced1ced
  .balign 4096
