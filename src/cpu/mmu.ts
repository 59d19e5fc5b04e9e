// Sv32 translation, PMP checks and the software TLBs every tier's fast path reads.
//
// Direct-mapped TLBs (read, write, fetch) map a virtual page number to the page's offset in
// PhysMemory.buf. Only RAM/ROM pages that PMP treats uniformly are cached; a write entry is
// never made for ROM or for a page with flags (code, watched), so stores there always
// reach the slow path (DESIGN.md I6). There is one set of TLBs per translation context
// (U, S, S with SUM, M): a privilege change or a SUM toggle only selects another set, so
// the kernel's traps and user-access windows cost no flush. satp, sfence.vma, MXR, PMP
// and MPRV/MPP changes flush.

import { Cause, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SUM, PRIV_M, PRIV_S, PRIV_U } from './constants.js';
import { PAGE_SHIFT, type PhysMemory } from './memory.js';

export const TLB_BITS = 10;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;

export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_FETCH = 2;
export type Access = 0 | 1 | 2;

const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_A = 64, PTE_D = 128;

/** Thrown (by identity) when an access faults; the cause and tval are on the Mmu. */
export const TRAP = { trap: true } as const;

export interface MmuState {
  priv: number;
  mstatus: number;
  satp: number;
}

/** What walk returns, not committing, where the access would fault. */
const LEAF_PAGE_FAULT = -1;
const LEAF_ACCESS_FAULT = -2;

/**
 * What `peek` found: the physical address, or the cause the access would trap with and
 * whether the page tables map the page at all (a page fault may be the leaf's permissions).
 */
export type Peeked = { pa: number; fault?: undefined } | { fault: number; mapped: boolean; pa?: undefined };

/** pmpPage's answer: known, and the same for the whole page (then bits 0-2 are R, W, X). */
const PMP_KNOWN = 0x80;
const PMP_UNIFORM = 0x40;

const PAGE_FAULT = [Cause.LoadPageFault, Cause.StorePageFault, Cause.InsnPageFault];
const ACCESS_FAULT = [Cause.LoadAccessFault, Cause.StoreAccessFault, Cause.InsnAccessFault];

export class Mmu {
  private readonly sets: TlbSet[] = Array.from({ length: 4 }, () => new TlbSet());
  /** The current data (read, write) and fetch TLBs; compiled code reloads them after helpers. */
  rTag: Int32Array;
  rOff: Int32Array;
  wTag: Int32Array;
  wOff: Int32Array;
  xTag: Int32Array;
  xOff: Int32Array;

  readonly pmpcfg = new Uint8Array(16);
  readonly pmpaddr = new Uint32Array(16);

  /** Set when an access faults; read by whoever catches TRAP. */
  faultCause = 0;
  faultTval = 0;
  /** Notified on every flush (the JIT drops its virtual-pc jump cache). */
  flushListener: (() => void) | null = null;
  /** Set while a load or store trigger is armed: no data entry is made, so every access reaches the hart's slow path, which checks it. */
  watching = false;
  /** Virtual pages a debugger watches (debug-stops.ts): no data entry is made for them either. */
  watchPages: ReadonlySet<number> | null = null;

  constructor(
    private readonly mem: PhysMemory,
    private readonly st: MmuState,
  ) {
    this.pmpCache = new Uint8Array(2 * mem.pageFlags.length);
    this.writeMapped = new Uint8Array(mem.pageFlags.length);
    const s = this.sets[3];
    this.rTag = s.rTag; this.rOff = s.rOff; this.wTag = s.wTag; this.wOff = s.wOff; this.xTag = s.xTag; this.xOff = s.xOff;
  }

  private setIndex(priv: number, forData: boolean): number {
    if (priv === PRIV_S) return forData && this.st.mstatus & MSTATUS_SUM ? 2 : 1;
    return priv === PRIV_M ? 3 : 0;
  }

  /** Points the current TLBs at the sets for the hart's privilege and mstatus. */
  select(): void {
    const d = this.sets[this.setIndex(this.dataPriv(), true)];
    const x = this.sets[this.setIndex(this.st.priv, false)];
    this.rTag = d.rTag; this.rOff = d.rOff; this.wTag = d.wTag; this.wOff = d.wOff;
    this.xTag = x.xTag; this.xOff = x.xOff;
  }

  flush(): void {
    for (const s of this.sets) s.flush();
    this.writeMapped.fill(0);
    this.flushListener?.();
  }

  /** Drops every write entry, so the next store to each page is seen (PhysMemory.dirty). */
  dropWriteEntries(): void {
    for (const s of this.sets) s.wTag.fill(-1);
    this.writeMapped.fill(0);
  }

  /** sfence.vma with an address: drops that page from every set. */
  flushPage(va: number): void {
    const vpn = va >>> PAGE_SHIFT;
    const i = vpn & TLB_MASK;
    for (const s of this.sets) {
      if (s.rTag[i] === vpn) s.rTag[i] = -1;
      if (s.wTag[i] === vpn) s.wTag[i] = -1;
      if (s.xTag[i] === vpn) s.xTag[i] = -1;
    }
    this.flushListener?.();
  }

  /** Drops write entries that point at a page which just became flagged (e.g. code). */
  dropWritePage(off: number): void {
    const page = off >>> PAGE_SHIFT;
    // Most pages that become code never had a write entry: no scan of the TLBs for them.
    if (this.writeMapped[page] === 0) return;
    this.writeMapped[page] = 0;
    const pageOff = page << PAGE_SHIFT;
    for (const s of this.sets) {
      for (let i = 0; i < TLB_SIZE; i++) if (s.wTag[i] !== -1 && s.wOff[i] === pageOff) s.wTag[i] = -1;
    }
  }

  fault(cause: number, tval: number): never {
    this.faultCause = cause;
    this.faultTval = tval | 0;
    throw TRAP;
  }

  /** Privilege that loads and stores are checked with (MPRV). */
  dataPriv(): number {
    const s = this.st;
    return s.priv === PRIV_M && s.mstatus & MSTATUS_MPRV ? (s.mstatus & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT : s.priv;
  }

  /** Translates and checks one access; returns the physical address and fills the TLB. */
  translate(va: number, access: Access, isAmo = false): number {
    va >>>= 0;
    const s = this.st;
    const priv = access === ACCESS_FETCH ? s.priv : this.dataPriv();
    let pa: number;
    let writable = true;
    let cacheable = true;
    if (priv === PRIV_M || (s.satp & 0x80000000) === 0) {
      pa = va;
    } else {
      pa = this.walk(va, access, priv, isAmo, true);
      writable = this.walkDirty;
      cacheable = this.walkCacheable;
    }
    const off = this.mem.offsetOf(pa);
    if (off < 0) {
      if (!this.pmpAllows(pa, 1, access, priv)) this.fault(ACCESS_FAULT[access], va);
      return pa;
    }
    const pmp = this.pmpPage(off >>> PAGE_SHIFT, pa, priv);
    if (pmp & PMP_UNIFORM) {
      if (((pmp >>> access) & 1) === 0) this.fault(ACCESS_FAULT[access], va);
      if (cacheable) this.fill(va, off, access, writable);
    } else if (!this.pmpAllows(pa, 1, access, priv)) this.fault(ACCESS_FAULT[access], va);
    // Every write translation marks its page, whether or not an entry is made (pages with
    // code get none, and which pages hold code depends on the tier): the dirty set is then a
    // function of the guest's accesses alone. Stores through an entry are covered by its fill.
    if (access === ACCESS_WRITE) this.mem.markDirty(off >>> PAGE_SHIFT);
    return pa;
  }

  /** Caches a translation whose page PMP treats uniformly (`priv` is the one it was made for). */
  private fill(va: number, off: number, access: Access, writable: boolean): void {
    if (this.watching && access !== ACCESS_FETCH) return;
    const vpn = va >>> PAGE_SHIFT;
    if (this.watchPages !== null && access !== ACCESS_FETCH && this.watchPages.has(vpn)) return;
    const i = vpn & TLB_MASK;
    const pageOff = off - (off & 4095);
    if (access === ACCESS_READ) {
      this.rTag[i] = vpn;
      this.rOff[i] = pageOff;
    } else if (access === ACCESS_FETCH) {
      this.xTag[i] = vpn;
      this.xOff[i] = pageOff;
    } else if (writable && !this.mem.isRom(off) && this.mem.pageFlags[off >>> PAGE_SHIFT] === 0) {
      this.wTag[i] = vpn;
      this.wOff[i] = pageOff;
      this.writeMapped[off >>> PAGE_SHIFT] = 1;
    }
  }

  /** Set by walk with its result: whether the page is dirty, and whether the TLB may cache it. */
  private walkDirty = false;
  private walkCacheable = false;

  /**
   * The physical address of `va` by the page tables (walkDirty, walkCacheable set too).
   * `commit` false (peek): sets no A/D bit and returns LEAF_PAGE_FAULT or LEAF_ACCESS_FAULT
   * instead of faulting. One walk serves both, so their rules cannot drift apart.
   */
  private walk(va: number, access: Access, priv: number, isAmo: boolean, commit: boolean): number {
    const s = this.st;
    let table = (s.satp & 0x3fffff) * 4096;
    for (let level = 1; level >= 0; level--) {
      const vpnPart = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
      const pteAddr = table + vpnPart * 4;
      const pteOff = this.mem.offsetOf(pteAddr);
      if (pteOff < 0) return commit ? this.fault(ACCESS_FAULT[access], va) : LEAF_ACCESS_FAULT;
      const pmp = this.pmpPage(pteOff >>> PAGE_SHIFT, pteAddr, PRIV_S);
      if (pmp & PMP_UNIFORM ? (pmp & 1) === 0 : !this.pmpAllows(pteAddr, 4, ACCESS_READ, PRIV_S)) return commit ? this.fault(ACCESS_FAULT[access], va) : LEAF_ACCESS_FAULT;
      let pte = this.mem.readOff(pteOff, 4);
      if (!(pte & PTE_V) || (!(pte & PTE_R) && pte & PTE_W)) break;
      if (!(pte & (PTE_R | PTE_X))) {
        table = (pte >>> 10) * 4096;
        continue;
      }
      // Leaf: permission checks.
      if (priv === PRIV_U && !(pte & PTE_U)) break;
      if (priv === PRIV_S && pte & PTE_U && (access === ACCESS_FETCH || !(s.mstatus & MSTATUS_SUM))) break;
      if (access === ACCESS_FETCH && !(pte & PTE_X)) break;
      if (access === ACCESS_READ && !(pte & PTE_R) && !(s.mstatus & MSTATUS_MXR && pte & PTE_X)) break;
      if (access === ACCESS_WRITE && (!(pte & PTE_W) || (isAmo && !(pte & PTE_R)))) break;
      const ppn = pte >>> 10;
      if (level === 1 && ppn & 0x3ff) break; // misaligned superpage
      const pa = level === 1 ? (ppn >>> 10) * 4194304 + (va & 0x3fffff) : ppn * 4096 + (va & 0xfff);
      if (!commit) return pa;
      // Hardware A/D update, as QEMU does.
      const want = PTE_A | (access === ACCESS_WRITE ? PTE_D : 0);
      if ((pte & want) !== want) {
        pte |= want;
        this.mem.writeOff(pteOff, 4, pte);
      }
      // A read allowed only through MXR is not cached, so MXR changes need no flush.
      this.walkCacheable = access !== ACCESS_READ || (pte & PTE_R) !== 0;
      this.walkDirty = (pte & PTE_D) !== 0;
      return pa;
    }
    return commit ? this.fault(PAGE_FAULT[access], va) : LEAF_PAGE_FAULT;
  }

  /**
   * Where an access to `va` by `priv` (default: the hart's, MPRV included for data) would
   * go, by the same rules as `translate` but with no side effect: no A/D bit set, no TLB
   * filled, no fault taken (only PMP's memo of whole pages may be filled, which the PMP
   * registers alone decide). For debuggers and `deja state`.
   */
  peek(va: number, access: Access, priv = access === ACCESS_FETCH ? this.st.priv : this.dataPriv()): Peeked {
    va >>>= 0;
    let pa = va;
    if (priv !== PRIV_M && (this.st.satp & 0x80000000) !== 0) {
      pa = this.walk(va, access, priv, false, false);
      if (pa === LEAF_ACCESS_FAULT) return { fault: ACCESS_FAULT[access], mapped: false };
      if (pa < 0) return { fault: PAGE_FAULT[access], mapped: this.hasLeaf(va) };
    }
    return this.pmpAllows(pa, 1, access, priv) ? { pa } : { fault: ACCESS_FAULT[access], mapped: true };
  }

  /**
   * Whether a valid leaf maps `va` for anyone: it allows a read or a fetch (it has R or X),
   * and walk's checks of the U bit concern S and U only.
   */
  private hasLeaf(va: number): boolean {
    return this.walk(va, ACCESS_READ, PRIV_M, false, false) >= 0 || this.walk(va, ACCESS_FETCH, PRIV_M, false, false) >= 0;
  }

  /** Whether PMP lets `priv` make this access to [pa, pa+size). */
  pmpAllows(pa: number, size: number, access: Access, priv: number): boolean {
    const n = this.pmpActive;
    for (let k = 0; k < n; k++) {
      const i = this.pmpOrder[k];
      const lo = this.pmpLo[i], hi = this.pmpHi[i];
      if (pa >= hi || pa + size <= lo) continue;
      if (pa < lo || pa + size > hi) return false; // straddles the region
      const cfg = this.pmpcfg[i];
      if (priv === PRIV_M && !(cfg & 0x80)) return true;
      return ((cfg >>> access) & 1) === 1; // cfg bits R, W, X match access 0, 1, 2
    }
    return priv === PRIV_M;
  }

  /**
   * PMP's answer for a whole RAM or ROM page (by buffer page index; `pa` lies in it) for M
   * or for S and U: PMP_UNIFORM and the allowed accesses as bits R, W, X, or 0 (check each
   * access) when entries split the page. Cached until PMP changes.
   */
  private pmpPage(page: number, pa: number, priv: number): number {
    const k = 2 * page + (priv === PRIV_M ? 1 : 0);
    const cached = this.pmpCache[k];
    if (cached !== 0) return cached;
    const base = pa - (pa % 4096);
    let v = PMP_KNOWN;
    if (this.pmpUniform(base)) {
      v |= PMP_UNIFORM;
      for (let a = 0; a < 3; a++) if (this.pmpAllows(base, 4096, a as Access, priv)) v |= 1 << a;
    }
    return (this.pmpCache[k] = v);
  }

  /** Whether every address in the page at `base` matches the same PMP entry (or none). */
  private pmpUniform(base: number): boolean {
    for (let k = 0; k < this.pmpActive; k++) {
      const i = this.pmpOrder[k];
      const lo = this.pmpLo[i], hi = this.pmpHi[i];
      if (base < hi && base + 4096 > lo) return base >= lo && base + 4096 <= hi;
    }
    return true;
  }

  /** pmpPage's answers, two per page (S/U, M); 0 is not yet known. */
  private readonly pmpCache: Uint8Array;
  /** Pages with a write entry in some TLB since the last full flush (dropWritePage). */
  private readonly writeMapped: Uint8Array;

  private readonly pmpLo = new Float64Array(16);
  private readonly pmpHi = new Float64Array(16);
  /** Indices of the active entries, in priority order. */
  private readonly pmpOrder = new Uint8Array(16);
  private pmpActive = 0;

  /** Recomputes the PMP regions after a pmpcfg or pmpaddr write, and flushes the TLBs. */
  pmpChanged(): void {
    this.pmpActive = 0;
    for (let i = 0; i < 16; i++) {
      const a = (this.pmpcfg[i] >>> 3) & 3;
      if (a === 0) continue;
      const addr = this.pmpaddr[i];
      let lo: number, hi: number;
      if (a === 1) {
        lo = i === 0 ? 0 : this.pmpaddr[i - 1] * 4; // TOR
        hi = addr * 4;
      } else if (a === 2) {
        lo = addr * 4; // NA4
        hi = lo + 4;
      } else {
        let t = 0; // NAPOT: the trailing ones of addr give the size
        while (t < 32 && ((addr >>> t) & 1) === 1) t++;
        lo = t >= 32 ? 0 : (addr - (addr % 2 ** t)) * 4;
        hi = lo + 2 ** (t + 3);
      }
      this.pmpLo[i] = lo;
      this.pmpHi[i] = hi;
      this.pmpOrder[this.pmpActive++] = i;
    }
    this.pmpCache.fill(0);
    this.flush();
  }
}

/** One translation context's TLBs. */
class TlbSet {
  readonly rTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly rOff = new Int32Array(TLB_SIZE);
  readonly wTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly wOff = new Int32Array(TLB_SIZE);
  readonly xTag = new Int32Array(TLB_SIZE).fill(-1);
  readonly xOff = new Int32Array(TLB_SIZE);

  flush(): void {
    this.rTag.fill(-1);
    this.wTag.fill(-1);
    this.xTag.fill(-1);
  }
}
