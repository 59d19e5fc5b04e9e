// Sv32 paging, with page tables this program builds: 4 KiB pages through a second-level
// table and 4 MiB superpages; R/W/X permission faults with the right cause (12 fetch,
// 13 load, 15 store) and tval = the faulting virtual address; U pages and U-mode, SUM,
// MXR, MPRV; the reserved W-without-R encoding; a misaligned superpage; invalid PTEs;
// the A and D bits set by the hardware on access (read back from the PTE); delegation of
// page faults to S-mode (scause/stval); sfence.vma after a PTE change.
#include "macros.h"

#define VA_BASE   0x40000000          // the 4 KiB pages, through pt_l0
#define VA_RW     (VA_BASE + 0x0000)  // pg_rw:      R W       (A = D = 0 at first)
#define VA_RO     (VA_BASE + 0x1000)  // pg_ro:      R         A
#define VA_XO     (VA_BASE + 0x2000)  // pg_xo:          X     A
#define VA_USER   (VA_BASE + 0x3000)  // pg_user:    R W   U   A D
#define VA_INVAL  (VA_BASE + 0x4000)  // (V = 0)
#define VA_RWX    (VA_BASE + 0x5000)  // pg_rwx:     R W X     A D
#define VA_WO     (VA_BASE + 0x6000)  // pg_wo:        W       A D   (reserved: W without R)
#define VA_SCODE  (VA_BASE + 0x7000)  // scode_page: R   X     A
#define VA_UCODE  (VA_BASE + 0x8000)  // ucode_page: R   X U   A
#define VA_URO    (VA_BASE + 0x9000)  // pg_uro:     R     U   A
#define VA_AD     (VA_BASE + 0xa000)  // pg_ad:      R W       A     (D = 0)
#define VA_ALIAS  (VA_BASE + 0xb000)  // pg_rw again: R W      A D
#define VA_SUPER  0xc0000000          // a 4 MiB superpage onto 0x80000000, R W (A = D = 0)
#define VA_BADSUP 0xc0400000          // a superpage whose PPN[0] is not 0: misaligned

// reg = the virtual address of a label in ucode_page / scode_page, or the superpage's view
// of a label (clobbers x7)
#define LA_U(reg, label) la reg, label; la x7, ucode_page; sub reg, reg, x7; li x7, VA_UCODE; add reg, reg, x7;
#define LA_S(reg, label) la reg, label; la x7, scode_page; sub reg, reg, x7; li x7, VA_SCODE; add reg, reg, x7;
#define LA_SUPER(reg, label) la reg, label; li x7, VA_SUPER - 0x80000000; add reg, reg, x7;

// table[index] = PTE(target, flags)
#define SET_PTE(table, index, target, flags) \
  la t0, target; srli t0, t0, 2; ori t0, t0, flags; la t1, table; li t2, (index) * 4; add t1, t1, t2; sw t0, 0(t1);
// reg = table[index]
#define GET_PTE(reg, table, index) \
  la reg, table; li t2, (index) * 4; add reg, reg, t2; lw reg, 0(reg);

// Runs the U-mode routine `label` (at its U virtual address); it must ecall back.
#define RUN_U(testnum, label) \
  li TESTNUM, testnum; \
  ARM_TRAP(test_ ## testnum ## _back) \
  li t5, MSTATUS_MPP; csrc mstatus, t5; \
  LA_U(t5, label) csrw mepc, t5; mret; \
test_ ## testnum ## _back: \
  EXPECT_MCAUSE(CAUSE_USER_ECALL)

// The U-mode routine `label` must fault with `cause` at its first instruction.
#define TEST_U_FAULT(testnum, cause, label) \
  li TESTNUM, testnum; \
  ARM_TRAP(test_ ## testnum ## _back) \
  li t5, MSTATUS_MPP; csrc mstatus, t5; \
  LA_U(t5, label) csrw mepc, t5; mret; \
test_ ## testnum ## _back: \
  EXPECT_MCAUSE(cause) \
  LA_U(x15, label) \
  EXPECT_FIELD_REG(TS_EPC, x15) \
  EXPECT_MPP(PRV_U)

RVTEST_CODE_BEGIN

  // ---- build the page tables ----
  // root: identity megapage over the program (S only), the L0 table, superpages
  SET_PTE(pt_root, 0x200, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
  SET_PTE(pt_root, VA_BASE >> 22, pt_l0, PTE_V)
  SET_PTE(pt_root, VA_SUPER >> 22, 0x80000000, PTE_V | PTE_R | PTE_W)
  SET_PTE(pt_root, VA_BADSUP >> 22, 0x80001000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  SET_PTE(pt_l0, 0x0, pg_rw, PTE_V | PTE_R | PTE_W)
  SET_PTE(pt_l0, 0x1, pg_ro, PTE_V | PTE_R | PTE_A)
  SET_PTE(pt_l0, 0x2, pg_xo, PTE_V | PTE_X | PTE_A)
  SET_PTE(pt_l0, 0x3, pg_user, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D)
  SET_PTE(pt_l0, 0x5, pg_rwx, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
  SET_PTE(pt_l0, 0x6, pg_wo, PTE_V | PTE_W | PTE_A | PTE_D)
  SET_PTE(pt_l0, 0x7, scode_page, PTE_V | PTE_R | PTE_X | PTE_A)
  SET_PTE(pt_l0, 0x8, ucode_page, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)
  SET_PTE(pt_l0, 0x9, pg_uro, PTE_V | PTE_R | PTE_U | PTE_A)
  SET_PTE(pt_l0, 0xa, pg_ad, PTE_V | PTE_R | PTE_W | PTE_A)
  SET_PTE(pt_l0, 0xb, pg_rw, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

  // satp = Sv32 | root PPN, and it reads back
  li TESTNUM, 2
  la t0, pt_root
  srli t0, t0, 12
  li t1, SATP_MODE_SV32
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  csrr x14, satp
  bne x14, t0, fail
  // M-mode is not translated
  li TESTNUM, 3
  la a0, pg_rw
  lw x14, 0(a0)
  CHECK_IMM(x14, 0x11111111)

  // ---- S-mode runs translated ----
  RUN_IN_MODE(4, PRV_S, li a0, VA_RW; lw s0, 0(a0))
  li TESTNUM, 5
  CHECK_IMM(s0, 0x11111111)
  // the read set A, not D
  li TESTNUM, 6
  GET_PTE(x14, pt_l0, 0)
  andi x15, x14, PTE_A
  beqz x15, fail
  andi x15, x14, PTE_D
  bnez x15, fail
  // a write lands in the physical page, and sets D
  RUN_IN_MODE(7, PRV_S, li a0, VA_RW; li a1, 0xabcd0123; sw a1, 4(a0))
  li TESTNUM, 8
  la a0, pg_rw
  lw x14, 4(a0)
  CHECK_IMM(x14, 0xabcd0123)
  GET_PTE(x14, pt_l0, 0)
  andi x15, x14, PTE_D
  beqz x15, fail
  andi x15, x14, PTE_A
  beqz x15, fail
  // a page mapped twice: a write through one VA is read through the other
  RUN_IN_MODE(9, PRV_S, li a0, VA_ALIAS; li a1, 0x600df00d; sw a1, 8(a0); li a0, VA_RW; lw s0, 8(a0))
  li TESTNUM, 10
  CHECK_IMM(s0, 0x600df00d)

  // a write to a page whose PTE has A but not D sets D (and leaves A)
  RUN_IN_MODE(11, PRV_S, li a0, VA_AD; lw s0, 0(a0))
  li TESTNUM, 12
  CHECK_IMM(s0, 0x77777777)
  GET_PTE(x14, pt_l0, 0xa)
  andi x15, x14, PTE_D
  bnez x15, fail
  RUN_IN_MODE(13, PRV_S, li a0, VA_AD; li a1, 5; sw a1, 0(a0))
  li TESTNUM, 14
  GET_PTE(x14, pt_l0, 0xa)
  andi x15, x14, PTE_D | PTE_A
  CHECK_IMM(x15, PTE_D | PTE_A)

  // ---- permission faults (taken in M: medeleg = 0) ----
  // store to a read-only page
  li a0, VA_RO + 8
  TEST_TRAP_IN_MODE(20, PRV_S, CAUSE_STORE_PAGE_FAULT, sw a1, 0(a0))
  EXPECT_MTVAL(VA_RO + 8)
  RUN_IN_MODE(21, PRV_S, li a0, VA_RO; lw s0, 0(a0))
  CHECK_IMM(s0, 0x22222222)
  // an AMO needs W: store/AMO page fault
  li a0, VA_RO
  TEST_TRAP_IN_MODE(22, PRV_S, CAUSE_STORE_PAGE_FAULT, amoadd.w a1, a1, (a0))
  EXPECT_MTVAL(VA_RO)
  // read an execute-only page: fault unless MXR
  li a0, VA_XO + 0x10
  TEST_TRAP_IN_MODE(23, PRV_S, CAUSE_LOAD_PAGE_FAULT, lw a1, 0(a0))
  EXPECT_MTVAL(VA_XO + 0x10)
  li t0, MSTATUS_MXR
  csrs mstatus, t0
  RUN_IN_MODE(24, PRV_S, li a0, VA_XO; lw s0, 0(a0))
  CHECK_IMM(s0, 0x33333333)
  // MXR does not make it writable
  li a0, VA_XO
  TEST_TRAP_IN_MODE(25, PRV_S, CAUSE_STORE_PAGE_FAULT, sw a1, 0(a0))
  li t0, MSTATUS_MXR
  csrc mstatus, t0
  // and without MXR again it faults again
  li a0, VA_XO
  TEST_TRAP_IN_MODE(26, PRV_S, CAUSE_LOAD_PAGE_FAULT, lw a1, 0(a0))
  // invalid PTE: load, store
  li a0, VA_INVAL + 0x123
  TEST_TRAP_IN_MODE(27, PRV_S, CAUSE_LOAD_PAGE_FAULT, lbu a1, 0(a0))
  EXPECT_MTVAL(VA_INVAL + 0x123)
  TEST_TRAP_IN_MODE(28, PRV_S, CAUSE_STORE_PAGE_FAULT, sb a1, 0(a0))
  EXPECT_MTVAL(VA_INVAL + 0x123)
  // W without R is reserved: every access faults
  li a0, VA_WO
  TEST_TRAP_IN_MODE(29, PRV_S, CAUSE_LOAD_PAGE_FAULT, lw a1, 0(a0))
  TEST_TRAP_IN_MODE(30, PRV_S, CAUSE_STORE_PAGE_FAULT, sw a1, 0(a0))
  // nothing mapped at all there
  li a0, 0x00400000
  TEST_TRAP_IN_MODE(31, PRV_S, CAUSE_LOAD_PAGE_FAULT, lw a1, 0(a0))
  EXPECT_MTVAL(0x00400000)

  // ---- U pages from S: SUM ----
  li a0, VA_USER
  TEST_TRAP_IN_MODE(40, PRV_S, CAUSE_LOAD_PAGE_FAULT, lw a1, 0(a0))
  EXPECT_MTVAL(VA_USER)
  TEST_TRAP_IN_MODE(41, PRV_S, CAUSE_STORE_PAGE_FAULT, sw a1, 0(a0))
  li t0, MSTATUS_SUM
  csrs mstatus, t0
  RUN_IN_MODE(42, PRV_S, li a0, VA_USER; lw s0, 0(a0); li a1, 0x5eed; sw a1, 4(a0))
  CHECK_IMM(s0, 0x44444444)
  li TESTNUM, 43
  la a0, pg_user
  lw x14, 4(a0)
  CHECK_IMM(x14, 0x5eed)
  // SUM does not allow S to execute U pages
  li TESTNUM, 44
  ARM_TRAP(1f)
  GOTO_MODE(PRV_S, 2f)
2:
  LA_U(a0, u_nop)
  jalr a0
  j fail
1:
  EXPECT_MCAUSE(CAUSE_FETCH_PAGE_FAULT)
  LA_U(x15, u_nop)
  EXPECT_FIELD_REG(TS_EPC, x15)
  EXPECT_MTVAL_REG(x15)
  EXPECT_MPP(PRV_S)
  // SUM can be set from S through sstatus
  li t0, MSTATUS_SUM
  csrc mstatus, t0
  RUN_IN_MODE(45, PRV_S, li a1, MSTATUS_SUM; csrs sstatus, a1; li a0, VA_USER; lw s0, 0(a0); csrc sstatus, a1)
  CHECK_IMM(s0, 0x44444444)

  // ---- execution through a mapping ----
  // S runs code at a virtual address that is not its physical one
  LA_S(a0, s_routine)
  RUN_IN_MODE(50, PRV_S, jalr a0)
  li TESTNUM, 51
  CHECK_IMM(a0, 0x5c0de)
  LA_S(x15, s_routine_ret)
  addi x15, x15, -4
  bne s0, x15, fail
  // S cannot execute a page without X
  li TESTNUM, 52
  ARM_TRAP(1f)
  GOTO_MODE(PRV_S, 2f)
2:
  li a0, VA_RW
  jalr a0
  j fail
1:
  EXPECT_MCAUSE(CAUSE_FETCH_PAGE_FAULT)
  EXPECT_FIELD_IMM(TS_EPC, VA_RW)
  EXPECT_MTVAL(VA_RW)
  // nor an invalid one
  li TESTNUM, 53
  ARM_TRAP(1f)
  GOTO_MODE(PRV_S, 2f)
2:
  li a0, VA_INVAL
  jalr a0
  j fail
1:
  EXPECT_MCAUSE(CAUSE_FETCH_PAGE_FAULT)
  EXPECT_MTVAL(VA_INVAL)

  // ---- U-mode ----
  // U runs from its U page and reads and writes U data
  li a0, VA_USER
  RUN_U(60, u_load)
  li TESTNUM, 61
  CHECK_IMM(a1, 0x44444444)
  li a0, VA_USER + 8
  li a1, 0xfeedbeef
  RUN_U(62, u_store)
  li TESTNUM, 63
  la a0, pg_user
  lw x14, 8(a0)
  CHECK_IMM(x14, 0xfeedbeef)
  // U may not touch S pages, even with SUM set
  li a0, VA_RWX
  TEST_U_FAULT(64, CAUSE_LOAD_PAGE_FAULT, u_load)
  EXPECT_MTVAL(VA_RWX)
  li t0, MSTATUS_SUM
  csrs mstatus, t0
  TEST_U_FAULT(65, CAUSE_STORE_PAGE_FAULT, u_store)
  EXPECT_MTVAL(VA_RWX)
  li t0, MSTATUS_SUM
  csrc mstatus, t0
  // nor the identity-mapped program
  la a0, pg_rw
  TEST_U_FAULT(66, CAUSE_LOAD_PAGE_FAULT, u_load)
  EXPECT_MTVAL_REG(a0)
  // a read-only U page
  li a0, VA_URO
  RUN_U(67, u_load)
  CHECK_IMM(a1, 0x66666666)
  TEST_U_FAULT(68, CAUSE_STORE_PAGE_FAULT, u_store)
  EXPECT_MTVAL(VA_URO)
  // U cannot execute an S page
  li TESTNUM, 69
  LA_S(a0, s_routine)
  ARM_TRAP(1f)
  li t5, MSTATUS_MPP
  csrc mstatus, t5
  LA_U(t5, u_jump)
  csrw mepc, t5
  mret
1:
  EXPECT_MCAUSE(CAUSE_FETCH_PAGE_FAULT)
  LA_S(x15, s_routine)
  EXPECT_FIELD_REG(TS_EPC, x15)
  EXPECT_MTVAL_REG(x15)
  EXPECT_MPP(PRV_U)

  // ---- 4 MiB superpage ----
  // reads the program's data through VA_SUPER; sets A (not D) on the root PTE
  LA_SUPER(a0, pg_rw)
  RUN_IN_MODE(70, PRV_S, lw s0, 0(a0))
  CHECK_IMM(s0, 0x11111111)
  li TESTNUM, 71
  GET_PTE(x14, pt_root, VA_SUPER >> 22)
  andi x15, x14, PTE_A | PTE_D
  CHECK_IMM(x15, PTE_A)
  // a write through it sets D and reaches the physical page
  LA_SUPER(a0, pg_rw)
  addi a0, a0, 12
  RUN_IN_MODE(72, PRV_S, li a1, 0x5a5aa5a5; sw a1, 0(a0))
  li TESTNUM, 73
  GET_PTE(x14, pt_root, VA_SUPER >> 22)
  andi x15, x14, PTE_A | PTE_D
  CHECK_IMM(x15, PTE_A | PTE_D)
  la a0, pg_rw
  lw x14, 12(a0)
  CHECK_IMM(x14, 0x5a5aa5a5)
  // the superpage covers 4 MiB: its last word maps to 0x803ffffc
  li TESTNUM, 74
  li a0, 0x803ffffc
  li a1, 0x13579bdf
  sw a1, 0(a0)
  li a0, VA_SUPER + 0x3ffffc
  RUN_IN_MODE(75, PRV_S, lw s0, 0(a0))
  CHECK_IMM(s0, 0x13579bdf)
  // and nothing lies just past it
  li a0, VA_SUPER + 0x400000 + 0x800000
  TEST_TRAP_IN_MODE(76, PRV_S, CAUSE_LOAD_PAGE_FAULT, lw a1, 0(a0))
  // a misaligned superpage (PPN[0] != 0) is a page fault
  li a0, VA_BADSUP
  TEST_TRAP_IN_MODE(77, PRV_S, CAUSE_LOAD_PAGE_FAULT, lw a1, 0(a0))
  EXPECT_MTVAL(VA_BADSUP)

  // ---- MPRV: M-mode loads and stores translated as MPP's ----
  li TESTNUM, 80
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, (PRV_S << 11) | MSTATUS_MPRV
  csrs mstatus, t0
  li a0, VA_RW
  lw x14, 0(a0)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  CHECK_IMM(x14, 0x11111111)

  // ---- page faults delegated to S ----
  li t0, (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT) | (1 << CAUSE_FETCH_PAGE_FAULT)
  csrw medeleg, t0
  li TESTNUM, 90
  li a0, VA_INVAL + 0x44
  ARM_TRAP(2f)
  SARM_TRAP(3f)
  GOTO_MODE(PRV_S, 1f)
1:
  lw a1, 0(a0)
  j fail
3:
  ecall
2:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_SCAUSE(CAUSE_LOAD_PAGE_FAULT)
  EXPECT_SEPC(1b)
  EXPECT_STVAL(VA_INVAL + 0x44)
  EXPECT_SPP(1)
  // a store fault from U, delegated
  li TESTNUM, 91
  li a0, VA_URO + 0x20
  ARM_TRAP(2f)
  SARM_TRAP(3f)
  li t5, MSTATUS_MPP
  csrc mstatus, t5
  LA_U(t5, u_store)
  csrw mepc, t5
  mret
3:
  ecall
2:
  EXPECT_MCAUSE(CAUSE_SUPERVISOR_ECALL)
  EXPECT_SCAUSE(CAUSE_STORE_PAGE_FAULT)
  LA_U(x15, u_store)
  EXPECT_FIELD_REG(TS_SEPC, x15)
  EXPECT_STVAL(VA_URO + 0x20)
  EXPECT_SPP(0)
  // a fetch fault, delegated, at an address inside the page
  li TESTNUM, 92
  li a0, VA_RW + 0x40
  ARM_TRAP(2f)
  SARM_TRAP(3f)
  GOTO_MODE(PRV_S, 1f)
1:
  jalr a0
  j fail
3:
  ecall
2:
  EXPECT_SCAUSE(CAUSE_FETCH_PAGE_FAULT)
  EXPECT_FIELD_IMM(TS_SEPC, VA_RW + 0x40)
  EXPECT_STVAL(VA_RW + 0x40)
  csrw medeleg, zero

  // ---- a PTE change takes effect after sfence.vma ----
  li a0, VA_RO + 0x30
  TEST_TRAP_IN_MODE(100, PRV_S, CAUSE_STORE_PAGE_FAULT, sw a1, 0(a0))
  SET_PTE(pt_l0, 0x1, pg_ro, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
  sfence.vma
  li a0, VA_RO + 0x30
  RUN_IN_MODE(101, PRV_S, li a1, 0x31; sw a1, 0(a0))
  li TESTNUM, 102
  la a0, pg_ro
  lw x14, 0x30(a0)
  CHECK_IMM(x14, 0x31)
  // and the other way, with sfence.vma of that one address from S
  SET_PTE(pt_l0, 0x1, pg_ro, PTE_V | PTE_R | PTE_A)
  li a0, VA_RO + 0x30
  RUN_IN_MODE(103, PRV_S, sfence.vma a0, zero)
  li a0, VA_RO + 0x30
  TEST_TRAP_IN_MODE(104, PRV_S, CAUSE_STORE_PAGE_FAULT, sw a1, 0(a0))
  // paging off again: S sees physical memory
  csrw satp, zero
  sfence.vma
  la a0, pg_rw
  RUN_IN_MODE(105, PRV_S, lw s0, 0(a0))
  CHECK_IMM(s0, 0x11111111)

  RVTEST_PASS

  // ---- code that runs at other virtual addresses ----
  .balign 4096
scode_page:
s_routine:
  li a0, 0x5c0de
  auipc s0, 0           // its own (virtual) pc
s_routine_ret:
  ret

  .balign 4096
ucode_page:
u_load:
  lw a1, 0(a0)
  ecall
u_store:
  sw a1, 0(a0)
  ecall
u_jump:
  jalr a0
  ecall
u_nop:
  nop
  ecall
  .balign 4096

  .data
  .balign 4096
pt_root: .fill 1024, 4, 0
pt_l0:   .fill 1024, 4, 0
pg_rw:   .word 0x11111111
  .balign 4096
pg_ro:   .word 0x22222222
  .balign 4096
pg_xo:   .word 0x33333333
  .balign 4096
pg_user: .word 0x44444444
  .balign 4096
pg_rwx:  .word 0x55555555
  .balign 4096
pg_wo:   .word 0
  .balign 4096
pg_uro:  .word 0x66666666
  .balign 4096
pg_ad:   .word 0x77777777
  .balign 4096
