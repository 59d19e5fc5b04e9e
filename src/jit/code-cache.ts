// The code cache (QEMU's tb-maint): blocks by physical start, blocks and traces by physical
// page, the virtual-pc jump cache in front, and invalidation when a store or DMA writes
// code (DESIGN.md I6), which unlinks what it drops.

import type { Hart } from '../cpu/hart.js';
import { PAGE_CODE, PAGE_SHIFT } from '../cpu/memory.js';
import { TLB_MASK } from '../cpu/mmu.js';
import { heatIndex, SLOT_HANDOVER } from '../cpu/decode-cache.js';
import { scanBlock } from './block-compiler.js';
import type { FaultInjector } from './faults.js';
import type { JitSettings, JitStats } from './jit.js';
import type { Linker } from './linker.js';
import type { Block, Trace } from './unit.js';

const JC_SIZE = 4096;
const JC_MASK = JC_SIZE - 1;

export class CodeCache {
  /** Blocks by buffer offset of their first instruction (chained by `sameStart`). */
  private readonly byStart = new Map<number, Block>();
  /** Blocks and traces by physical page, for invalidation. */
  private readonly blocksOnPage = new Map<number, Block[]>();
  private readonly tracesOnPage = new Map<number, Trace[]>();
  private readonly jumpCache: (Block | null)[] = new Array<Block | null>(JC_SIZE).fill(null);

  // No flush listener: a jump-cache hit is only taken while the fetch TLB maps the block's
  // page, so flushing the TLBs (satp, sfence.vma) is flushing the jump cache.
  constructor(
    private readonly hart: Hart,
    private readonly settings: JitSettings,
    private readonly stats: JitStats,
    private readonly linker: Linker,
    private readonly faults: FaultInjector,
  ) {}

  /** The block at virtual pc for the current privilege (may throw TRAP on a fetch fault). */
  lookup(pc: number): Block {
    const hart = this.hart;
    this.stats.lookups++;
    const j = (pc >>> 1) & JC_MASK;
    let b = this.jumpCache[j];
    const vpn = pc >>> 12;
    const i = vpn & TLB_MASK;
    const mmu = hart.mmu;
    // A hit also needs the fetch TLB to map the page where the block is, so every tier
    // sees exactly the translations the interpreter would.
    if (b !== null && b.vpc === pc && b.priv === hart.priv && mmu.xTag[i] === vpn && mmu.xOff[i] === b.pageOff) {
      this.stats.jumpCacheHits++;
      return b;
    }
    const pageOff = mmu.xTag[i] === vpn ? mmu.xOff[i] : hart.fetchSlow(pc) & ~4095;
    const off = pageOff + (pc & 4095);
    b = this.blockAt(pc, off, hart.priv);
    this.jumpCache[j] = b;
    return b;
  }

  /** True when the fetch TLB maps the block's virtual page to its physical page now. */
  mapped(b: Block): boolean {
    const vpn = b.vpc >>> 12;
    const i = vpn & TLB_MASK;
    const mmu = this.hart.mmu;
    return mmu.xTag[i] === vpn && mmu.xOff[i] === b.pageOff;
  }

  /** The block at virtual `pc` (buffer offset `off`) for privilege `priv`, found or made. */
  blockAt(pc: number, off: number, priv: number): Block {
    let b: Block | null = this.byStart.get(off) ?? null;
    while (b !== null && (b.vpc !== pc || b.priv !== priv)) b = b.sameStart;
    return b ?? this.discover(pc, off, priv);
  }

  private discover(pc: number, off: number, priv: number): Block {
    const hart = this.hart;
    const mem = hart.mem;
    const b = scanBlock(mem, off, pc, priv, this.settings.maxBlockInsns, hart.debug);
    b.sameStart = this.byStart.get(off) ?? null;
    this.byStart.set(off, b);
    const page = off >>> PAGE_SHIFT;
    let list = this.blocksOnPage.get(page);
    if (!list) this.blocksOnPage.set(page, (list = []));
    list.push(b);
    if (!(mem.pageFlags[page] & PAGE_CODE)) {
      mem.pageFlags[page] |= PAGE_CODE;
      hart.mmu.dropWritePage(off);
    }
    if (this.settings.noTraceAt.has(pc)) b.noTrace = true;
    return b;
  }

  /** A trace was installed: stores to its pages drop it. */
  addTrace(t: Trace): void {
    for (const p of t.pages()) {
      let list = this.tracesOnPage.get(p);
      if (!list) this.tracesOnPage.set(p, (list = []));
      list.push(t);
    }
  }

  /**
   * A store or DMA wrote bytes [from, to) of a physical page with code (I6): drop the
   * blocks made from those bytes and every trace that contains one. Blocks elsewhere on
   * the page stay (data next to code must not cost retranslation), and the page keeps
   * its code flag while any remain. True if it dropped any.
   */
  codeWritten(page: number, from: number, to: number): boolean {
    const blocks = this.blocksOnPage.get(page);
    if (!blocks) return false;
    // A page whose blocks are all cold gives them all up: they cost nothing to find again,
    // and the page's later stores (often the page being reused for data) stay fast.
    const hot = blocks.some((b) => b.fn !== null);
    const hit = hot ? blocks.filter((b) => b.off < to && b.off + b.bytes > from) : blocks;
    if (hit.length === 0) {
      this.hart.mem.pageFlags[page] |= PAGE_CODE;
      return false;
    }
    this.stats.invalidations++;
    const traces = this.tracesOnPage.get(page);
    if (traces) for (const t of [...traces]) if (hit.some((b) => t.blocks.includes(b))) this.dropTrace(t);
    for (const b of hit) this.dropBlock(b);
    const rest = blocks.filter((b) => b.valid);
    if (rest.length) {
      this.blocksOnPage.set(page, rest);
      this.hart.mem.pageFlags[page] |= PAGE_CODE;
    } else this.blocksOnPage.delete(page);
    // The running unit may be one of these: it leaves after this store.
    this.hart.attention = true;
    return true;
  }

  private dropBlock(b: Block): void {
    b.valid = false;
    const page = this.hart.decodeCache.pages[b.off >>> PAGE_SHIFT];
    if (page) {
      page[heatIndex(b.off)] = 0;
      if (page[b.off & 4094] === SLOT_HANDOVER) page[b.off & 4094] = 0; // decoded again when next run
    }
    if (b.trace) this.dropTrace(b.trace);
    // (Under --jit-fault stale-link, the links into one dropped block survive.)
    if (!this.faults.keepsLinks(b)) this.linker.unlinkIncoming(b);
    this.linker.unlinkOutgoing(b);
    let p: Block | null = this.byStart.get(b.off) ?? null;
    if (p === b) {
      if (b.sameStart) this.byStart.set(b.off, b.sameStart);
      else this.byStart.delete(b.off);
    } else {
      while (p && p.sameStart !== b) p = p.sameStart;
      if (p) p.sameStart = b.sameStart;
    }
    const j = (b.vpc >>> 1) & JC_MASK;
    if (this.jumpCache[j] === b) this.jumpCache[j] = null;
  }

  /** Drops a trace (its code was written, or it is replaced by a grown one): the head runs as a block again. */
  dropTrace(t: Trace): void {
    if (!t.valid) return;
    t.valid = false;
    this.stats.traceUnlinks++;
    if (t.head.trace === t) {
      t.head.trace = null;
      this.linker.refreshIncoming(t.head);
    }
    this.linker.unlinkOutgoing(t);
    for (const p of t.pages()) {
      const list = this.tracesOnPage.get(p);
      if (!list) continue;
      const i = list.indexOf(t);
      if (i >= 0) list.splice(i, 1);
      if (!list.length) this.tracesOnPage.delete(p);
    }
  }
}
