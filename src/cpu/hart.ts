// The hart: architectural state, CSRs, traps and interrupts, memory slow paths, and the
// `system` helper that executes every instruction a compiled unit must end after.

import {
  CSR, Cause, IRQ_PRIORITY, MEDELEG_MASK, MIDELEG_MASK, MIP_ALL, MIP_SW_MASK, MISA, MSTATUS_MIE,
  MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP,
  MSTATUS_MXR, MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW, MSTATUS_WRITABLE, MSTATUS_TLB_SELECT, PRIV_M, PRIV_S, PRIV_U, SSTATUS_MASK,
} from './constants.js';
import { PhysMemory } from './memory.js';
import { DecodeCache } from './decode-cache.js';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, Mmu, TRAP, TLB_MASK } from './mmu.js';
import { Triggers, WATCH_LOAD, WATCH_STORE } from './triggers.js';
import type { DebugStops } from './debug-stops.js';
import { AMO_FUNCS, OP_INDEX } from '../isa/semantics.js';
import type { Width } from '../machine/bus.js';

/** Virtual time source: mtime (10 MHz ticks) at a given instruction count. */
export interface Clock {
  mtime(icount: number): number;
}

/** Why the hart asks its run loop to return early. */
export enum StopReason {
  None = 0,
  Wfi = 1,
  Requested = 2,
}

const OP = OP_INDEX;

/**
 * Initial value of fields that will hold values outside V8's small-integer range (pc,
 * icount, CSRs): starting them as a heap number keeps the hart's hidden class stable, where
 * a change of field representation later would deoptimize every compiled unit.
 */
const F64 = -0;

/** Breakpoints in a row that service() takes before it gives up (a trigger on its own handler). */
const TRIGGER_STORM = 1000;

export class Hart {
  /** x0..x31, and x[32]: a sink the interpreter writes x0's results to, so x[0] stays 0. */
  readonly x = new Int32Array(33);
  pc = F64;
  /** Retired instructions (DESIGN.md I2). */
  icount = F64;
  priv = PRIV_M;

  mstatus = F64;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** mip bits software writes (SSIP, STIP, SEIP); devices drive `mipHw`. */
  mipSw = 0;
  mipHw = 0;
  mtvec = F64;
  mscratch = F64;
  mepc = F64;
  mcause = F64;
  mtval = F64;
  mcounteren = 0;
  mcountinhibit = 0;
  stvec = F64;
  sscratch = F64;
  sepc = F64;
  scause = F64;
  stval = F64;
  scounteren = 0;
  satp = F64;
  /** mcycle = icount + cycleOffset and minstret = icount + instretOffset, unless inhibited. */
  cycleOffset = F64;
  instretOffset = F64;
  /** The values mcountinhibit froze mcycle (CY, bit 0) and minstret (IR, bit 2) at. */
  cycleFrozen = F64;
  instretFrozen = F64;
  /**
   * mhpmcounter3..18 (low and high halves) and mhpmevent3..31, as on QEMU 7.2's virt
   * (pmu-num = 16): writable, but no event is ever counted, so they hold what was written.
   */
  readonly hpmLo = new Int32Array(32);
  readonly hpmHi = new Int32Array(32);
  readonly hpmEvent = new Int32Array(32);
  /** LR reservation: a physical address, or negative for none. */
  reservation = -0.5;
  /** The word lr loaded: an sc succeeds only if memory still holds it (QEMU's cmpxchg). */
  reservedValue = 0;
  /** The debug triggers (tselect, tdata1-3, tinfo). */
  readonly triggers = new Triggers();
  /** Whether the trigger CSRs exist (a machine without them makes them illegal, as before Sdtrig). */
  hasTriggers = true;
  /** A debugger's breakpoints and watchpoints (debug-stops.ts); set by attachDebugger. */
  debug: DebugStops | null = null;

  /**
   * Set whenever something may need the run loop's attention before the next instruction:
   * interrupt state changed (DESIGN.md I5), a wfi is waiting, or a stop was requested.
   */
  attention = true;
  stop: StopReason = StopReason.None;
  /** Traps taken (wraps): lets a run loop tell whether a stretch of code trapped. */
  traps = 0;
  /**
   * Exceptions taken in the current run, toward a trap storm (TRAP_STORM): counted here, as
   * each is taken, so every tier ends a storm after as many. Not guest state: whoever starts
   * a run sets it to 0.
   */
  stormTraps = 0;
  /** Ask the run loop to return after every trap (`deja diff` steps one instruction or trap at a time). */
  stopOnTrap = false;

  readonly mmu: Mmu;
  /** Decoded instructions for the interpreter. */
  readonly decodeCache: DecodeCache;

  constructor(
    readonly mem: PhysMemory,
    readonly clock: Clock,
  ) {
    this.mmu = new Mmu(mem, this);
    this.decodeCache = new DecodeCache(mem, this.mmu, this);
  }

  reset(pc: number): void {
    this.x.fill(0);
    this.pc = pc >>> 0;
    this.priv = PRIV_M;
    this.mstatus = 0;
    this.mie = this.mipSw = this.medeleg = this.mideleg = 0;
    this.satp = 0;
    this.mmu.select();
    this.mmu.pmpcfg.fill(0);
    this.mmu.pmpaddr.fill(0);
    this.mmu.pmpChanged();
    this.triggers.reset();
    this.triggersChanged();
    this.attention = true;
  }

  mip(): number {
    return this.mipSw | this.mipHw;
  }

  /** Devices raise or lower their interrupt lines here. */
  setIrqLine(bit: number, level: boolean): void {
    const before = this.mipHw;
    this.mipHw = level ? before | bit : before & ~bit;
    if (this.mipHw !== before) this.attention = true;
  }

  requestStop(): void {
    this.stop = StopReason.Requested;
    this.attention = true;
  }

  /** The highest-priority interrupt that is pending and enabled now, or -1. */
  pendingInterrupt(): number {
    const pending = this.mip() & this.mie;
    if (pending === 0) return -1;
    const m = pending & ~this.mideleg;
    const s = pending & this.mideleg;
    const mOn = this.priv < PRIV_M || (this.mstatus & MSTATUS_MIE) !== 0;
    const sOn = this.priv < PRIV_S || (this.priv === PRIV_S && (this.mstatus & MSTATUS_SIE) !== 0);
    const take = (m && mOn ? m : 0) || (s && sOn ? s : 0);
    if (!take) return -1;
    for (const irq of IRQ_PRIORITY) if (take & (1 << irq)) return irq;
    return -1;
  }

  /**
   * Puts a debugger's stops on this hart, before a tier is attached (the tier then runs the
   * interpreter that checks breakpoints); the MMU keeps watched pages out of its TLBs.
   */
  attachDebugger(stops: DebugStops): void {
    this.debug = stops;
    this.mmu.watchPages = stops.watchPages;
  }

  /**
   * Called by every run loop before an instruction when `attention` is set. Takes a pending
   * interrupt (pc moves to the handler) and returns true if the loop must return instead.
   */
  service(): boolean {
    this.attention = false;
    if (this.stop !== StopReason.None) {
      this.attention = true;
      return true;
    }
    const irq = this.pendingInterrupt();
    if (irq >= 0) this.takeTrap(irq, 0, true);
    return this.triggers.armed !== 0 && this.checkExecTriggers();
  }

  /**
   * While a trigger is armed, run loops come here before every instruction (attention stays
   * set, and the JIT tiers run no compiled code): an execute trigger that matches pc takes a
   * breakpoint before the instruction runs, so it does not retire (I2); the handler's first
   * instruction is checked in turn, as QEMU checks every pc it goes to. Interrupts are taken
   * first, as in QEMU. True if the run loop must return.
   */
  private checkExecTriggers(): boolean {
    this.attention = true;
    for (let n = 0; this.triggers.execHit(this.pc, this.priv); ) {
      this.takeTrap(Cause.Breakpoint, 0, false);
      if (this.stop !== StopReason.None || ++n === TRIGGER_STORM) return true;
    }
    return false;
  }

  takeTrap(cause: number, tval: number, interrupt: boolean): void {
    this.traps = (this.traps + 1) | 0;
    if (!interrupt) this.stormTraps++;
    if (this.stopOnTrap) this.requestStop();
    const bit = 1 << cause;
    const pc = this.pc;
    if (this.priv <= PRIV_S && ((interrupt ? this.mideleg : this.medeleg) & bit) !== 0) {
      this.scause = interrupt ? (cause | 0x80000000) >>> 0 : cause;
      this.sepc = pc;
      this.stval = tval >>> 0;
      let st = this.mstatus & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP);
      if (this.mstatus & MSTATUS_SIE) st |= MSTATUS_SPIE;
      if (this.priv === PRIV_S) st |= MSTATUS_SPP;
      this.mstatus = st;
      this.pc = this.vector(this.stvec, cause, interrupt);
      this.setPriv(PRIV_S);
    } else {
      this.mcause = interrupt ? (cause | 0x80000000) >>> 0 : cause;
      this.mepc = pc;
      this.mtval = tval >>> 0;
      let st = this.mstatus & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP);
      if (this.mstatus & MSTATUS_MIE) st |= MSTATUS_MPIE;
      st |= this.priv << MSTATUS_MPP_SHIFT;
      this.mstatus = st;
      this.pc = this.vector(this.mtvec, cause, interrupt);
      this.setPriv(PRIV_M);
    }
    this.attention = true;
  }

  /** Takes the trap a fault left on the MMU (after catching TRAP). */
  takeFault(): void {
    this.takeTrap(this.mmu.faultCause, this.mmu.faultTval, false);
  }

  private vector(tvec: number, cause: number, interrupt: boolean): number {
    const base = tvec & ~3;
    return ((tvec & 3) === 1 && interrupt ? base + 4 * cause : base) >>> 0;
  }

  private setPriv(p: number): void {
    this.priv = p;
    this.mmu.select();
  }

  // ---- memory slow paths: called with pc and icount exact, may throw TRAP ----

  loadSlow(va: number, width: Width, signed: boolean): number {
    if ((va & (width - 1)) !== 0 && width > 1) {
      if (this.triggers.watching & WATCH_LOAD) {
        // QEMU translates the first page, then loads the two aligned words around va.
        this.mmu.translate(va, ACCESS_READ);
        const first = (va & -width) >>> 0;
        this.watch(first, first + 2 * width - 1, WATCH_LOAD);
      }
      // Misaligned: done in place, byte by byte (each byte translated on its own).
      let v = 0;
      for (let i = width - 1; i >= 0; i--) v = (v << 8) | this.loadSlow((va + i) | 0, 1, false);
      return signed ? (width === 2 ? (v << 16) >> 16 : v | 0) : width === 4 ? v | 0 : v;
    }
    const pa = this.mmu.translate(va, ACCESS_READ);
    if (this.triggers.watching & WATCH_LOAD) this.watch(va >>> 0, (va >>> 0) + width - 1, WATCH_LOAD);
    if (this.debug !== null) this.debug.checkAccess(va >>> 0, width, false);
    const off = this.mem.offsetOf(pa);
    let v: number;
    if (off >= 0) v = this.mem.readOff(off, width);
    else v = this.mmioRead(pa, width, va, Cause.LoadAccessFault);
    if (signed) return width === 1 ? (v << 24) >> 24 : width === 2 ? (v << 16) >> 16 : v | 0;
    return width === 4 ? v | 0 : v;
  }

  storeSlow(va: number, width: Width, value: number): void {
    if ((va & (width - 1)) !== 0 && width > 1) {
      // Check every byte's translation first so a faulting store writes nothing.
      for (let i = 0; i < width; i++) this.mmu.translate((va + i) | 0, ACCESS_WRITE);
      if (this.triggers.watching & WATCH_STORE) this.watchMisalignedStore(va >>> 0, width);
      if (this.debug !== null) this.debug.checkAccess(va >>> 0, width, true);
      for (let i = 0; i < width; i++) this.storeSlow((va + i) | 0, 1, value >>> (8 * i));
      return;
    }
    const pa = this.mmu.translate(va, ACCESS_WRITE);
    if (this.triggers.watching & WATCH_STORE) this.watch(va >>> 0, (va >>> 0) + width - 1, WATCH_STORE);
    if (this.debug !== null) this.debug.checkAccess(va >>> 0, width, true);
    const off = this.mem.offsetOf(pa);
    // A store leaves the LR reservation alone: whether it comes this way or through a TLB
    // entry is not architectural, so it must not decide an sc. An sc compares the word
    // with what lr loaded instead, as QEMU's does.
    if (off >= 0) {
      if (!this.mem.isRom(off)) this.mem.writeOff(off, width, value);
    } else this.mmioWrite(pa, width, value, va);
  }

  /**
   * The two parts QEMU 7.2 checks of a misaligned store: from va to the start of the page
   * holding its end, and from there to its last byte. Within one page the first part is
   * "va to the byte before this page" (first past last), which QEMU still matches against
   * a watchpoint that starts on an earlier page and reaches va; the second part is the page
   * from its start, so a watchpoint anywhere below the store on its page fires.
   */
  private watchMisalignedStore(va: number, width: number): void {
    const end = (va + width) >>> 0;
    const page = (end & -4096) >>> 0;
    const firstLast = va + width - (end & 4095) - 1;
    this.watch(va, firstLast < 0 ? Infinity : firstLast, WATCH_STORE);
    this.watch(page, page + (end & 4095) - 1, WATCH_STORE);
  }

  /** A load or store trigger's hit: a breakpoint exception (tval 0) before the access is done, as QEMU stops before it. */
  private watch(first: number, last: number, kind: number): void {
    if (this.triggers.dataHit(first, last, kind, this.priv)) this.mmu.fault(Cause.Breakpoint, 0);
  }

  private mmioRead(pa: number, width: Width, va: number, cause: number): number {
    const dev = this.mem.device(pa);
    if (!dev || !dev.widths.includes(width)) this.mmu.fault(cause, va);
    const v = dev.read(pa - dev.base, width);
    this.attention = true; // a read can change device and interrupt state (PLIC claim)
    return v;
  }

  private mmioWrite(pa: number, width: Width, value: number, va: number): void {
    const dev = this.mem.device(pa);
    if (!dev || !dev.widths.includes(width)) this.mmu.fault(Cause.StoreAccessFault, va);
    dev.write(pa - dev.base, width, width === 4 ? value | 0 : value & ((1 << (8 * width)) - 1));
    this.attention = true;
  }

  /** Buffer offset of the instruction halfword at va (fills the fetch TLB). */
  fetchSlow(va: number): number {
    const pa = this.mmu.translate(va, ACCESS_FETCH);
    const off = this.mem.offsetOf(pa);
    if (off < 0) this.mmu.fault(Cause.InsnAccessFault, va);
    return off;
  }

  /** The instruction bits at pc (16 or 32), through the fetch TLB. */
  fetch(pc: number): number {
    const vpn = pc >>> 12;
    const i = vpn & TLB_MASK;
    const off = this.mmu.xTag[i] === vpn ? this.mmu.xOff[i] + (pc & 4095) : this.fetchSlow(pc);
    const lo = this.mem.u16[off >>> 1];
    if ((lo & 3) !== 3) return lo;
    if ((pc & 4095) !== 4094) return lo | (this.mem.u16[(off >>> 1) + 1] << 16);
    return lo | (this.mem.u16[this.fetchSlow((pc + 2) | 0) >>> 1] << 16);
  }

  // ---- A extension (helpers shared by every tier) ----

  lr(va: number): number {
    if (va & 3) this.mmu.fault(Cause.LoadMisaligned, va);
    const v = this.loadSlow(va, 4, true);
    this.reservation = this.mmu.translate(va, ACCESS_READ);
    this.reservedValue = v;
    return v;
  }

  sc(va: number, value: number): number {
    if (va & 3) this.mmu.fault(Cause.StoreMisaligned, va);
    const pa = this.mmu.translate(va, ACCESS_WRITE, true);
    const off = this.mem.offsetOf(pa);
    const ok = pa === this.reservation && off >= 0 && this.mem.readOff(off, 4) === this.reservedValue;
    // QEMU's sc is a compare-and-swap, a load and a store: triggers on either stop it
    // before it drops the reservation.
    if (ok && this.triggers.watching !== 0) {
      const a = va >>> 0;
      if (this.triggers.watching & WATCH_LOAD) this.watch(a, a + 3, WATCH_LOAD);
      if (this.triggers.watching & WATCH_STORE) this.watch(a, a + 3, WATCH_STORE);
    }
    // So does a debugger's watchpoint: the sc runs again after the stop, and must succeed.
    if (ok && this.debug !== null) this.debug.checkAccess(va >>> 0, 4, true);
    this.reservation = -1;
    if (!ok) return 1;
    this.storeSlow(va, 4, value);
    return 0;
  }

  amo(op: number, va: number, value: number): number {
    if (va & 3) this.mmu.fault(Cause.StoreMisaligned, va);
    this.mmu.translate(va, ACCESS_WRITE, true);
    const old = this.loadSlow(va, 4, true);
    this.storeSlow(va, 4, AMO_FUNCS[op](old, value));
    return old;
  }

  // ---- system instructions: retire (pc += len, icount++) or trap ----

  /**
   * Executes a `system` instruction (CSR access, xRET, ecall, ebreak, wfi, fences).
   * Called with pc and icount of the instruction itself.
   */
  system(op: number, rd: number, rs1: number, imm: number, csr: number, len: number, raw: number): void {
    switch (op) {
      case OP.csrrw:
      case OP.csrrs:
      case OP.csrrc:
      case OP.csrrwi:
      case OP.csrrsi:
      case OP.csrrci:
        return this.csrOp(op, rd, rs1, imm, csr, len, raw);
      case OP.ecall:
        return this.takeTrap(Cause.EcallU + this.priv, 0, false);
      case OP.ebreak:
        return this.takeTrap(Cause.Breakpoint, this.pc, false);
      case OP.mret: {
        if (this.priv !== PRIV_M) return this.illegal(raw);
        const mpp = (this.mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
        let st = this.mstatus & ~(MSTATUS_MIE | MSTATUS_MPP);
        if (this.mstatus & MSTATUS_MPIE) st |= MSTATUS_MIE;
        st |= MSTATUS_MPIE;
        if (mpp !== PRIV_M) st &= ~MSTATUS_MPRV;
        this.mstatus = st;
        return this.xret(this.mepc, mpp);
      }
      case OP.sret: {
        if (this.priv === PRIV_U || (this.priv === PRIV_S && this.mstatus & MSTATUS_TSR)) return this.illegal(raw);
        const spp = this.mstatus & MSTATUS_SPP ? PRIV_S : PRIV_U;
        let st = this.mstatus & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
        if (this.mstatus & MSTATUS_SPIE) st |= MSTATUS_SIE;
        st |= MSTATUS_SPIE;
        this.mstatus = st;
        return this.xret(this.sepc, spp);
      }
      case OP.wfi:
        if (this.priv === PRIV_U || (this.priv === PRIV_S && this.mstatus & MSTATUS_TW)) return this.illegal(raw);
        this.retire(len);
        // Sleep until an interrupt is pending in mie, whatever the global enables say.
        if ((this.mip() & this.mie) === 0) this.stop = StopReason.Wfi;
        this.attention = true;
        return;
      case OP['sfence.vma']:
        if (this.priv === PRIV_U || (this.priv === PRIV_S && this.mstatus & MSTATUS_TVM)) return this.illegal(raw);
        if (rs1 !== 0) this.mmu.flushPage(this.x[rs1]);
        else this.mmu.flush();
        return this.retire(len);
      case OP['fence.i']:
        // Stores to code pages already invalidated what they touched (I6); the unit ends here.
        return this.retire(len);
      default:
        return this.illegal(raw);
    }
  }

  private xret(target: number, priv: number): void {
    this.icount++;
    this.pc = target >>> 0;
    this.setPriv(priv);
    this.attention = true;
  }

  private retire(len: number): void {
    this.pc = (this.pc + len) >>> 0;
    this.icount++;
  }

  illegal(raw: number): void {
    this.takeTrap(Cause.IllegalInsn, raw, false);
  }

  private csrOp(op: number, rd: number, rs1: number, imm: number, csr: number, len: number, raw: number): void {
    const isImm = op === OP.csrrwi || op === OP.csrrsi || op === OP.csrrci;
    const src = isImm ? imm : this.x[rs1];
    const isRw = op === OP.csrrw || op === OP.csrrwi;
    const writes = isRw || (isImm ? imm !== 0 : rs1 !== 0);
    if (this.priv < ((csr >>> 8) & 3) || (writes && csr >>> 10 === 3)) return this.illegal(raw);
    const old = this.csrRead(csr);
    if (old === null) return this.illegal(raw);
    if (writes) {
      // A read-modify-write of mip/sip works on the software-written bits only: the
      // device-driven lines (MTIP, SEIP from the PLIC, ...) must not be latched into them.
      const base = csr === CSR.mip || csr === CSR.sip ? this.mipSw : old;
      const value = isRw ? src : op === OP.csrrs || op === OP.csrrsi ? base | src : base & ~src;
      if (!this.csrWrite(csr, value | 0)) return this.illegal(raw);
    }
    if (rd !== 0) this.x[rd] = old;
    this.retire(len);
    this.attention = true;
  }

  private counterAllowed(csr: number): boolean {
    const bit = 1 << (csr & 31);
    if (this.priv < PRIV_M && !(this.mcounteren & bit)) return false;
    if (this.priv < PRIV_S && !(this.scounteren & bit)) return false;
    return true;
  }

  /** A CSR's value (int32), or null if it does not exist or may not be read now. */
  csrRead(csr: number): number | null {
    switch (csr) {
      case CSR.cycle:
      case CSR.instret:
      case CSR.time:
      case CSR.cycleh:
      case CSR.instreth:
      case CSR.timeh: {
        if (!this.counterAllowed(csr)) return null;
        const v = csr === CSR.time || csr === CSR.timeh ? this.clock.mtime(this.icount)
          : csr === CSR.cycle || csr === CSR.cycleh ? this.mcycle() : this.minstret();
        return csr >= 0xc80 ? Math.floor(v / 4294967296) | 0 : v % 4294967296 | 0;
      }
      case CSR.mcycle: return this.mcycle() % 4294967296 | 0;
      case CSR.minstret: return this.minstret() % 4294967296 | 0;
      case CSR.mcycleh: return Math.floor(this.mcycle() / 4294967296) | 0;
      case CSR.minstreth: return Math.floor(this.minstret() / 4294967296) | 0;
      case CSR.sstatus: return this.mstatus & SSTATUS_MASK;
      case CSR.sie: return this.mie & this.mideleg;
      case CSR.stvec: return this.stvec | 0;
      case CSR.scounteren: return this.scounteren;
      case CSR.senvcfg: return 0;
      case CSR.sscratch: return this.sscratch | 0;
      case CSR.sepc: return this.sepc | 0;
      case CSR.scause: return this.scause | 0;
      case CSR.stval: return this.stval | 0;
      case CSR.sip: return this.mip() & this.mideleg;
      case CSR.satp:
        if (this.priv === PRIV_S && this.mstatus & MSTATUS_TVM) return null;
        return this.satp | 0;
      case CSR.mvendorid:
      case CSR.marchid:
      case CSR.mimpid:
      case CSR.mhartid:
      case CSR.mconfigptr:
        return 0;
      case CSR.mstatus: return this.mstatus | 0;
      case CSR.misa: return MISA | 0;
      case CSR.medeleg: return this.medeleg;
      case CSR.mideleg: return this.mideleg;
      case CSR.mie: return this.mie;
      case CSR.mtvec: return this.mtvec | 0;
      case CSR.mcounteren: return this.mcounteren;
      case CSR.menvcfg:
      case CSR.menvcfgh:
      case CSR.mstatush:
        return 0;
      case CSR.mcountinhibit: return this.mcountinhibit;
      case CSR.mscratch: return this.mscratch | 0;
      case CSR.mepc: return this.mepc | 0;
      case CSR.mcause: return this.mcause | 0;
      case CSR.mtval: return this.mtval | 0;
      case CSR.mip: return this.mip();
      case CSR.tselect:
      case CSR.tdata1:
      case CSR.tdata2:
      case CSR.tdata3:
      case CSR.tinfo:
        return this.hasTriggers ? this.triggers.read(csr) : null;
    }
    if (csr >= CSR.pmpcfg0 && csr < CSR.pmpcfg0 + 4) {
      const c = this.mmu.pmpcfg, b = (csr - CSR.pmpcfg0) * 4;
      return c[b] | (c[b + 1] << 8) | (c[b + 2] << 16) | (c[b + 3] << 24);
    }
    if (csr >= CSR.pmpaddr0 && csr < CSR.pmpaddr0 + 16) return this.mmu.pmpaddr[csr - CSR.pmpaddr0] | 0;
    const n = csr & 31, group = csr & ~31;
    if (n >= 3) {
      if (group === MHPMEVENT_BASE) return this.hpmEvent[n];
      if (n < HPM_END) {
        if (group === CSR.mcycle) return this.hpmLo[n];
        if (group === CSR.mcycleh) return this.hpmHi[n];
        // hpmcounterN/hpmcounterNh: read-only views, gated like cycle/instret
        if (group === CSR.cycle || group === CSR.cycleh) {
          if (!this.counterAllowed(csr)) return null;
          return group === CSR.cycle ? this.hpmLo[n] : this.hpmHi[n];
        }
      }
    }
    return null;
  }

  /** Writes a CSR (WARL fields masked); false if it does not exist. */
  csrWrite(csr: number, v: number): boolean {
    switch (csr) {
      case CSR.sstatus:
        return this.writeMstatus((this.mstatus & ~SSTATUS_MASK) | (v & SSTATUS_MASK)), true;
      case CSR.sie:
        this.mie = (this.mie & ~this.mideleg) | (v & this.mideleg);
        return true;
      case CSR.stvec: this.stvec = (v & ~2) >>> 0; return true;
      case CSR.scounteren: this.scounteren = v & COUNTEREN_MASK; return true;
      case CSR.senvcfg: return true;
      case CSR.sscratch: this.sscratch = v >>> 0; return true;
      case CSR.sepc: this.sepc = (v & ~1) >>> 0; return true;
      case CSR.scause: this.scause = v >>> 0; return true;
      case CSR.stval: this.stval = v >>> 0; return true;
      case CSR.sip: {
        const m = this.mideleg & 2; // only SSIP is writable through sip
        this.mipSw = (this.mipSw & ~m) | (v & m);
        return true;
      }
      case CSR.satp:
        if (this.priv === PRIV_S && this.mstatus & MSTATUS_TVM) return false;
        this.satp = (v & 0x803fffff) >>> 0; // ASIDLEN = 0
        this.mmu.flush();
        return true;
      case CSR.mstatus: this.writeMstatus(v); return true;
      case CSR.misa: return true;
      case CSR.medeleg: this.medeleg = v & MEDELEG_MASK; return true;
      case CSR.mideleg: this.mideleg = v & MIDELEG_MASK; return true;
      case CSR.mie: this.mie = v & MIP_ALL; return true;
      case CSR.mtvec: this.mtvec = (v & ~2) >>> 0; return true;
      case CSR.mcounteren: this.mcounteren = v & COUNTEREN_MASK; return true;
      case CSR.menvcfg:
      case CSR.menvcfgh:
      case CSR.mstatush:
        return true;
      case CSR.mcountinhibit: {
        // An inhibited counter stands still from the next instruction on (the write that
        // sets a bit does not count; the write that clears it does).
        const inh = v & COUNTINHIBIT_MASK, changed = inh ^ this.mcountinhibit;
        if (changed & 1) {
          if (inh & 1) this.cycleFrozen = this.icount + this.cycleOffset;
          else this.cycleOffset = this.cycleFrozen - this.icount;
        }
        if (changed & 4) {
          if (inh & 4) this.instretFrozen = this.icount + this.instretOffset;
          else this.instretOffset = this.instretFrozen - this.icount;
        }
        this.mcountinhibit = inh;
        return true;
      }
      case CSR.mscratch: this.mscratch = v >>> 0; return true;
      case CSR.mepc: this.mepc = (v & ~1) >>> 0; return true;
      case CSR.mcause: this.mcause = v >>> 0; return true;
      case CSR.mtval: this.mtval = v >>> 0; return true;
      case CSR.mip: this.mipSw = v & MIP_SW_MASK; return true;
      case CSR.mcycle: this.setMcycle(setLow(this.mcycle(), v)); return true;
      case CSR.minstret: this.setMinstret(setLow(this.minstret(), v)); return true;
      case CSR.mcycleh: this.setMcycle(setHigh(this.mcycle(), v)); return true;
      case CSR.minstreth: this.setMinstret(setHigh(this.minstret(), v)); return true;
      case CSR.tselect:
      case CSR.tdata1:
      case CSR.tdata2:
      case CSR.tdata3:
      case CSR.tinfo:
        if (!this.hasTriggers) return false;
        this.triggers.write(csr, v);
        this.triggersChanged();
        return true;
    }
    if (csr >= CSR.pmpcfg0 && csr < CSR.pmpcfg0 + 4) {
      const c = this.mmu.pmpcfg, b = (csr - CSR.pmpcfg0) * 4;
      for (let i = 0; i < 4; i++) {
        if (c[b + i] & 0x80) continue; // locked
        let cfg = (v >>> (8 * i)) & 0x9f;
        if ((cfg & 3) === 2) cfg &= ~3; // W without R is reserved
        c[b + i] = cfg;
      }
      this.mmu.pmpChanged();
      return true;
    }
    if (csr >= CSR.pmpaddr0 && csr < CSR.pmpaddr0 + 16) {
      const i = csr - CSR.pmpaddr0;
      const c = this.mmu.pmpcfg;
      const locked = c[i] & 0x80 || (i < 15 && c[i + 1] & 0x80 && ((c[i + 1] >>> 3) & 3) === 1);
      if (!locked) this.mmu.pmpaddr[i] = v >>> 0;
      this.mmu.pmpChanged();
      return true;
    }
    const n = csr & 31, group = csr & ~31;
    if (n >= 3) {
      if (group === MHPMEVENT_BASE) return (this.hpmEvent[n] = v), true;
      if (n < HPM_END && group === CSR.mcycle) return (this.hpmLo[n] = v), true;
      if (n < HPM_END && group === CSR.mcycleh) return (this.hpmHi[n] = v), true;
    }
    return false;
  }

  /** mcycle (64 bits) as the current instruction reads it. In deja cycle counts like instret. */
  mcycle(): number {
    return this.mcountinhibit & 1 ? this.cycleFrozen : this.icount + this.cycleOffset;
  }

  /** minstret (64 bits) as the current instruction reads it. */
  minstret(): number {
    return this.mcountinhibit & 4 ? this.instretFrozen : this.icount + this.instretOffset;
  }

  /**
   * A CSR write of mcycle/minstret (or a high half): the write is done instead of the
   * writing instruction's own increment, so the next instruction reads exactly `v`.
   */
  private setMcycle(v: number): void {
    if (this.mcountinhibit & 1) this.cycleFrozen = v;
    else this.cycleOffset = v - (this.icount + 1);
  }

  private setMinstret(v: number): void {
    if (this.mcountinhibit & 4) this.instretFrozen = v;
    else this.instretOffset = v - (this.icount + 1);
  }

  /**
   * While a load or store trigger is armed the data TLBs stay empty, so every access reaches
   * the slow paths, which check it (the run loops pay nothing while none is).
   */
  private triggersChanged(): void {
    this.mmu.watching = this.triggers.watching !== 0;
    if (this.mmu.watching) this.mmu.flush();
  }

  private writeMstatus(v: number): void {
    const old = this.mstatus;
    let st = (old & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE);
    const mpp = (st & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
    if (mpp === 2) st = (st & ~MSTATUS_MPP) | (old & MSTATUS_MPP); // reserved encoding: keep
    this.mstatus = st >>> 0;
    if ((old ^ st) & MSTATUS_MXR) this.mmu.flush();
    if ((old ^ st) & MSTATUS_TLB_SELECT) this.mmu.select();
  }

  /**
   * The hart's whole state as plain data (DESIGN.md I8): what checkpoints hash, `diff`
   * compares and snapshots keep. Caches (TLBs, decoded instructions, PMP answers) are not
   * state: restore drops them. A stop the run loop asked for is not state either; a wfi the
   * hart waits in is.
   */
  save(): HartState {
    const s: HartState = { pc: this.pc >>> 0, icount: this.icount, priv: this.priv, x: Array.from(this.x.subarray(0, 32)), wfi: this.stop === StopReason.Wfi };
    for (const k of HART_SCALARS) s[k] = this[k];
    Object.assign(s, {
      hpmLo: [...this.hpmLo], hpmHi: [...this.hpmHi], hpmEvent: [...this.hpmEvent],
      pmpcfg: [...this.mmu.pmpcfg], pmpaddr: [...this.mmu.pmpaddr],
      triggers: this.triggers.save(),
    });
    return s;
  }

  restore(s: HartState): void {
    this.x.fill(0);
    this.x.set(s.x as number[]);
    this.pc = s.pc as number;
    this.icount = s.icount as number;
    this.priv = s.priv as number;
    for (const k of HART_SCALARS) (this as Record<HartScalar, number>)[k] = s[k] as number;
    this.hpmLo.set(s.hpmLo as number[]);
    this.hpmHi.set(s.hpmHi as number[]);
    this.hpmEvent.set(s.hpmEvent as number[]);
    this.mmu.pmpcfg.set(s.pmpcfg as number[]);
    this.mmu.pmpaddr.set(s.pmpaddr as number[]);
    this.mmu.pmpChanged(); // drops the PMP answers and flushes the TLBs
    this.triggers.restore(s.triggers as ReturnType<Triggers['save']>);
    this.triggersChanged();
    this.mmu.select();
    this.decodeCache.clear();
    this.stop = s.wfi ? StopReason.Wfi : StopReason.None;
    this.attention = true;
  }

  /** The registers and CSRs a divergence report shows, by name. */
  archState(): Record<string, number> {
    const s: Record<string, number> = { pc: this.pc >>> 0, priv: this.priv };
    for (let i = 1; i < 32; i++) s[`x${i}`] = this.x[i];
    Object.assign(s, {
      mstatus: this.mstatus, medeleg: this.medeleg, mideleg: this.mideleg, mie: this.mie, mip: this.mip(),
      mtvec: this.mtvec, mscratch: this.mscratch, mepc: this.mepc, mcause: this.mcause, mtval: this.mtval,
      stvec: this.stvec, sscratch: this.sscratch, sepc: this.sepc, scause: this.scause, stval: this.stval,
      satp: this.satp, mcounteren: this.mcounteren, scounteren: this.scounteren,
    });
    for (const k of TRIGGER_FIELDS) s[k] = this[k];
    return s;
  }

  // The trigger registers as fields (diff reads the state by these names).
  get tselect(): number { return this.triggers.select; }
  get trig0tdata1(): number { return this.triggers.tdata1[0]; }
  get trig0tdata2(): number { return this.triggers.tdata2[0]; }
  get trig1tdata1(): number { return this.triggers.tdata1[1]; }
  get trig1tdata2(): number { return this.triggers.tdata2[1]; }
}

/** The hart's number-valued fields, saved and restored by name. */
export const HART_SCALARS = [
  'mstatus', 'medeleg', 'mideleg', 'mie', 'mipSw', 'mipHw', 'mtvec', 'mscratch', 'mepc', 'mcause', 'mtval',
  'mcounteren', 'mcountinhibit', 'stvec', 'sscratch', 'sepc', 'scause', 'stval', 'scounteren', 'satp',
  'cycleOffset', 'instretOffset', 'cycleFrozen', 'instretFrozen', 'reservation', 'reservedValue',
] as const;
type HartScalar = (typeof HART_SCALARS)[number];

/** Hart.save()'s form: plain data, by field name. */
export type HartState = Record<string, number | boolean | number[] | ReturnType<Triggers['save']>>;

/** The trigger registers in archState, by name (QEMU 7.2 has two triggers). */
export const TRIGGER_FIELDS = ['tselect', 'trig0tdata1', 'trig0tdata2', 'trig1tdata1', 'trig1tdata2'] as const;

/** One past the last implemented mhpmcounter: 3..18, 16 counters as QEMU 7.2's virt has. */
const HPM_END = 3 + 16;
/** mhpmevent3..31 are 0x323..0x33f (0x320 is mcountinhibit). */
const MHPMEVENT_BASE = 0x320;
/** mcounteren/scounteren: CY, TM, IR and the implemented HPM counters. */
const COUNTEREN_MASK = (1 << HPM_END) - 1;
/** mcountinhibit: CY, IR and the HPM counters (bit 1, TM, is read-only zero). */
const COUNTINHIBIT_MASK = COUNTEREN_MASK & ~2;

function setLow(v: number, low: number): number {
  return Math.floor(v / 4294967296) * 4294967296 + (low >>> 0);
}

function setHigh(v: number, high: number): number {
  return (high >>> 0) * 4294967296 + (v % 4294967296);
}

export { TRAP, ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE };
