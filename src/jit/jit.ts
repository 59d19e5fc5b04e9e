// The block and trace tiers: a code cache keyed by physical address, a virtual-pc jump
// cache in front, links between units (linker.ts), invalidation on stores to code, heat
// counting and compilation, trace formation, and the dispatcher that runs it all with
// exact icount budgets (DESIGN.md I2, I4-I7).

import { StopReason, type Hart } from '../cpu/hart.js';
import { PAGE_CODE, PAGE_SHIFT } from '../cpu/memory.js';
import { TLB_MASK, TRAP } from '../cpu/mmu.js';
import { interpreter, TRAP_STORM, type RunFn } from '../cpu/interpreter.js';
import { heatIndex, HEAT_HOT, HEAT_NEVER, SLOT_HANDOVER } from '../cpu/decode-cache.js';
import { blockListing, blockSource, compileBlock, returnPc, scanBlock, SLOT_INDIRECT } from './block-compiler.js';
import { hex, isCall, kindOf } from './emit.js';
import { blockEligible, FAULT_UNIT, type FaultSite, type FaultSpec } from './faults.js';
import { buildTrace, compileTrace, siteKey, SLOT_DYNAMIC, slotOfExit, traceListing, traceOfExit, type ExitSite, type TracePath } from './trace-compiler.js';
import { Block, Trace, type Unit } from './unit.js';
import { Linker } from './linker.js';

export interface JitSettings {
  /** 'block' runs blocks only; 'trace' also forms traces. */
  tier: 'block' | 'trace';
  /** Executions before a block is translated (0: on first execution). */
  blockThreshold: number;
  maxBlockInsns: number;
  /** Compile only the first N blocks (in their deterministic order); the rest stay interpreted. */
  blockLimit: number;
  traceThreshold: number;
  maxTraceBlocks: number;
  /** Compile only the first N traces formed. */
  traceLimit: number;
  /** Heads (virtual pcs) where no trace is formed. */
  noTraceAt: Set<number>;
  /** Virtual pcs whose blocks are printed when compiled. */
  dumpBlocks: Set<number>;
  /** Trace ids or head pcs printed when compiled. */
  dumpTraces: Set<number>;
  /** A deliberate bug to inject (testing diff and bisect), or null. */
  fault: FaultSpec | null;
}

export const DEFAULT_JIT: JitSettings = {
  tier: 'trace',
  // From measured boots (median of 11): a block that reaches 5000 or 50000 executions in
  // a boot does not pay for itself, since each costs V8 about a millisecond to compile and
  // tier up, more than it saves before the code goes cold. Block tier boot 0.65 and 0.58 s
  // at those, 0.48 s at 100000; trace tier 0.65, 0.50 and 0.46 s. The full bench under the
  // trace tier gave up 2.7% for it (3.87 s against 3.77 s at 5000: code between traces left
  // the interpreter later), and gained that back with ENTRY_WEIGHT (3.70 s).
  blockThreshold: 100000,
  maxBlockInsns: 64,
  blockLimit: Infinity,
  traceThreshold: 20000,
  maxTraceBlocks: 16,
  traceLimit: Infinity,
  noTraceAt: new Set(),
  dumpBlocks: new Set(),
  dumpTraces: new Set(),
  fault: null,
};

export interface JitStats {
  blocksCompiled: number;
  blockCompileMs: number;
  lookups: number;
  jumpCacheHits: number;
  linksMade: number;
  linksBroken: number;
  invalidations: number;
  tracesCompiled: number;
  traceCompileMs: number;
  loopIterations: number;
  sideExits: number;
  traceUnlinks: number;
  /** Samples of the interpreter taken to find hot blocks (runCold). */
  samples: number;
  insns: { interp: number; block: number; trace: number };
}

const JC_SIZE = 4096;
const JC_MASK = JC_SIZE - 1;

/**
 * A path being recorded: the blocks run since it started and the exits they took. A new
 * trace starts at its head; a branch starts at a hot side exit of `tree`.
 */
interface Recording {
  head: Block;
  blocks: Block[];
  path: number[];
  tree: Trace | null;
  site: ExitSite | null;
  /** Return addresses of the calls the path has made and not returned from. */
  calls: number[];
  /** The call stack (as a key) each recorded block ran under. */
  contexts: string[];
}

/** A new recording from `head` (a new trace) or from a side exit of `tree`. */
function recordingAt(head: Block, tree: Trace | null, site: ExitSite | null): Recording {
  return { head, blocks: [], path: [], tree, site, calls: [], contexts: [] };
}

/** Tracks calls and returns across a recorded block's end (a return pops, a call pushes). */
function followCall(calls: number[], b: Block): void {
  const last = b.insns[b.insns.length - 1];
  if (isCall(last.d)) calls.push((last.pc + last.d.len) >>> 0);
  else if (dynamicEnd(b) === 'indirect') calls.pop(); // an indirect jump that does not link
}

/** The exit slot a block left by, from the pc it left for: -1 if not a fixed exit. */
function exitSlotOf(b: Block, pc: number): number {
  const e = b.exitPcs;
  if (e.length > 0 && e[0] === pc) return 0;
  if (e.length > 1 && e[1] === pc) return 1;
  return -1;
}

/** Why a block left by exit -1: a system instruction, an indirect jump, or a slow path mid-block. */
function dynamicEnd(b: Block): 'system' | 'indirect' | 'slow' {
  const k = kindOf(b.insns[b.insns.length - 1].d);
  return k === 'system' ? 'system' : k === 'jump' && b.exitPcs.length === 0 ? 'indirect' : 'slow';
}

/** Blocks a compiled block may run on into by direct calls before it returns to the dispatcher. */
const CHAIN_DEPTH = 32;

/**
 * How many executions a cold block's entry from compiled code counts as. Such an entry
 * costs a return to the dispatcher and an interpreter run of one block, where a block
 * reached inside the interpreter costs nothing extra; so code next to compiled code
 * compiles 100 times sooner (full bench: block tier 7.02 -> 6.74 s, trace tier 4.10 ->
 * 3.70 s; boot unchanged, as it compiles almost nothing).
 */
const ENTRY_WEIGHT = 100;

/**
 * Counting every block head in the interpreter costs it about 4% (boot: 0.377 s against
 * 0.363 s, median of 25), paid mostly on code that never gets hot. From a threshold of
 * SAMPLED_FROM on, the JIT runs the plain interpreter (the interpreter tier's, which hands
 * compiled blocks over by their slots) and samples it instead (runCold). Samples fall at
 * icounts alone, never host times, so two replays under the same settings compile alike.
 * Lower thresholds (tests use 0, 1 and 50) count every head exactly.
 */
const SAMPLE_PERIOD = 1 << 20;
const SAMPLE_INSNS = 256;
export const SAMPLED_FROM = 4096;

/** Times a head whose recording ran into a cycle is recorded again (see finishTrace). */
const CYCLE_RETRIES = 3;

/** Branches a trace may grow (bounds the size of its function). */
const MAX_BRANCHES = 8;

export class Jit {
  readonly stats: JitStats = {
    blocksCompiled: 0, blockCompileMs: 0, lookups: 0, jumpCacheHits: 0, linksMade: 0, linksBroken: 0,
    invalidations: 0, tracesCompiled: 0, traceCompileMs: 0, loopIterations: 0, sideExits: 0, traceUnlinks: 0, samples: 0,
    insns: { interp: 0, block: 0, trace: 0 },
  };
  /** Blocks by buffer offset of their first instruction (chained by `sameStart`). */
  private readonly byStart = new Map<number, Block>();
  /** Blocks and traces by physical page, for invalidation. */
  private readonly blocksOnPage = new Map<number, Block[]>();
  private readonly tracesOnPage = new Map<number, Trace[]>();
  private readonly jumpCache: (Block | null)[] = new Array<Block | null>(JC_SIZE).fill(null);
  /** Runs cold code: the counting interpreter, or where heads are sampled, the plain one. */
  private readonly interp: RunFn;
  /** Whether heads are sampled (runCold) rather than counted. */
  private readonly sampled: boolean;
  /** The heat counters of the heads a sample met (a page's slots, an index). */
  private readonly sampleHeats: Int32Array[] = [];
  private readonly sampleAt: number[] = [];
  private recording: Recording | null = null;
  private traceCount = 0;
  readonly traces: Trace[] = [];
  /** Where dumps go (the CLI passes stderr). */
  dump: (text: string) => void = () => {};
  /** Host clock for compile-time statistics only (never guest-visible). */
  now: () => number = () => 0;
  /** Called once, before the first block is compiled (the CLI tunes V8 for generated code there). */
  onFirstCompile: (() => void) | null = null;
  /** Compiled blocks in compile order (index = block id). */
  readonly blocks: Block[] = [];
  /**
   * Called before every compiled unit runs, with the icount it starts at (for `deja diff`,
   * which needs to know which unit ran an instruction). Null in normal runs.
   */
  onUnit: ((u: Block | Trace, icount: number) => void) | null = null;
  /** Where an injected fault landed (null: none, or not yet). */
  faultSite: FaultSite | null = null;
  /** The unit that ran last and the slot it left by, for `describe` in divergence reports. */
  last: Unit | null = null;

  private readonly startIcount: number;
  /** Links between units, and the direct calls compiled blocks make along them. */
  private readonly linker: Linker;

  constructor(
    private readonly hart: Hart,
    readonly settings: JitSettings,
  ) {
    this.startIcount = hart.icount;
    hart.decodeCache.heatThreshold = Math.min(settings.blockThreshold, HEAT_HOT);
    this.sampled = settings.blockThreshold >= SAMPLED_FROM;
    this.interp = interpreter(!this.sampled, hart);
    this.linker = new Linker(this.stats, settings.tier === 'trace');
    // No flush listener: a jump-cache hit is only taken while the fetch TLB maps the
    // block's page, so flushing the TLBs (satp, sfence.vma) is flushing the jump cache.
  }

  /**
   * A store or DMA wrote bytes [from, to) of a physical page with code (I6): drop the
   * blocks made from those bytes and every trace that contains one. Blocks elsewhere on
   * the page stay (data next to code must not cost retranslation), and the page keeps
   * its code flag while any remain.
   */
  codeWritten(page: number, from: number, to: number): void {
    const blocks = this.blocksOnPage.get(page);
    if (!blocks) return;
    // A page whose blocks are all cold gives them all up: they cost nothing to find again,
    // and the page's later stores (often the page being reused for data) stay fast.
    const hot = blocks.some((b) => b.fn !== null);
    const hit = hot ? blocks.filter((b) => b.off < to && b.off + b.bytes > from) : blocks;
    if (hit.length === 0) {
      this.hart.mem.pageFlags[page] |= PAGE_CODE;
      return;
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
    this.recording = null;
  }

  private dropBlock(b: Block): void {
    b.valid = false;
    const page = this.hart.decodeCache.pages[b.off >>> PAGE_SHIFT];
    if (page) {
      page[heatIndex(b.off)] = 0;
      if (page[b.off & 4094] === SLOT_HANDOVER) page[b.off & 4094] = 0; // decoded again when next run
    }
    if (b.trace) this.dropTrace(b.trace);
    const f = this.settings.fault;
    if (f?.kind === 'stale-link' && this.faultSite === null && b.id >= f.from) {
      // Injected bug: the links into this block survive its invalidation.
      this.faultSite = { kind: f.kind, unit: 'block', id: b.id, pc: b.vpc };
      b.fault = f.kind;
    } else this.linker.unlinkIncoming(b);
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

  private dropTrace(t: Trace): void {
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

  /**
   * A block that ends in a call runs on into the block at the return address when the
   * callee's blocks return there (block-compiler.ts, leaveBy): that block is found (or
   * made) now, on the same physical page.
   */
  private linkReturn(b: Block): void {
    const pc = returnPc(b);
    if (pc === null) return;
    const r = this.blockAt(pc, b.off + b.bytes, b.priv);
    if (r.compilable) this.linker.linkReturn(b, r);
  }

  /** True when the fetch TLB maps the block's virtual page to its physical page now. */
  private mapped(b: Block): boolean {
    const vpn = b.vpc >>> 12;
    const i = vpn & TLB_MASK;
    const mmu = this.hart.mmu;
    return mmu.xTag[i] === vpn && mmu.xOff[i] === b.pageOff;
  }

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

  /** The block at virtual `pc` (buffer offset `off`) for privilege `priv`, found or made. */
  private blockAt(pc: number, off: number, priv: number): Block {
    let b: Block | null = this.byStart.get(off) ?? null;
    while (b !== null && (b.vpc !== pc || b.priv !== priv)) b = b.sameStart;
    return b ?? this.discover(pc, off, priv);
  }

  private discover(pc: number, off: number, priv: number): Block {
    const hart = this.hart;
    const mem = hart.mem;
    const b = scanBlock(mem, off, pc, priv, this.settings.maxBlockInsns);
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

  /** The heat counter of blocks starting at b's first byte: its page's slot (decode-cache.ts). */
  private heatPage(b: Block): Int32Array {
    return this.hart.decodeCache.page(b.off >>> PAGE_SHIFT);
  }

  /** A cold block is about to run: count it (as `weight` runs), and compile it once it is hot enough. */
  private warm(b: Block, weight: number): void {
    const page = this.heatPage(b);
    const i = heatIndex(b.off);
    const h = page[i];
    if (!b.compilable) page[i] = HEAT_NEVER;
    else if (h < this.settings.blockThreshold) page[i] = Math.min(h + weight, this.settings.blockThreshold);
    else if (this.stats.blocksCompiled < this.settings.blockLimit) this.compile(b);
    else page[i] = HEAT_NEVER; // past --block-limit: it stays interpreted
  }

  private compile(b: Block): void {
    if (this.onFirstCompile !== null) {
      this.onFirstCompile();
      this.onFirstCompile = null;
    }
    const t0 = this.now();
    const page = this.heatPage(b);
    // The interpreter hands it to the dispatcher: at its slot (the counting one, at a head, by its heat first).
    page[heatIndex(b.off)] = HEAT_HOT;
    page[b.off & 4094] = SLOT_HANDOVER;
    b.id = this.stats.blocksCompiled++;
    this.blocks.push(b);
    const f = this.settings.fault;
    if (f && this.faultSite === null && FAULT_UNIT[f.kind] === 'block' && b.id >= f.from && blockEligible(f.kind, b)) {
      b.fault = f.kind;
      this.faultSite = { kind: f.kind, unit: 'block', id: b.id, pc: b.vpc };
    }
    const { fn, link } = compileBlock(b, this.hart, b.fault);
    b.fn = fn;
    b.linkFn = link;
    for (let s = 0; s < b.links.length; s++) this.linker.setDirect(b, s);
    this.linkReturn(b);
    this.linker.refreshIncoming(b);
    this.stats.blockCompileMs += this.now() - t0;
    if (this.settings.dumpBlocks.has(b.vpc)) {
      this.dump(`block ${b.id} at ${hex(b.vpc)} (priv ${b.priv}, ${b.n} instructions)\n${blockListing(b)}\n--- generated ---\n${blockSource(b, true, b.fault)}\n`);
    }
  }

  /** Ends recording: compiles a new trace, or regrows a tree with the new branch. */
  private finishTrace(loops: boolean, cycle = false): void {
    const rec = this.recording!;
    this.recording = null;
    const path: TracePath = { blocks: rec.blocks, path: rec.path, loops, cycle, branches: new Map() };
    if (rec.tree !== null) return this.growTrace(rec.tree, rec.site!, path);
    const head = rec.head;
    if (!loops && cycle && head.cycleRetries < CYCLE_RETRIES) {
      // The path ran into another loop before it came back: which way a data-dependent
      // branch went while recording decides that, so the head counts again and retries.
      head.cycleRetries++;
      head.hot = 0;
      return;
    }
    head.noTrace = true; // one formation attempt per head; a dropped trace frees it again
    // Only a path that returns to its head gains from registers in locals: a straight
    // path pays for loading and writing them back on every run, more than linked blocks.
    const id = loops ? this.traceCount++ : -1;
    if (loops && id < this.settings.traceLimit) {
      head.noTrace = false;
      this.install(id, path, null);
    }
    // The head no longer counts toward a trace: blocks may now call it (or its trace) directly.
    this.linker.refreshIncoming(head);
  }

  private growTrace(old: Trace, site: ExitSite, branch: TracePath): void {
    if (!old.valid || old.head.trace !== old) return;
    if (branch.blocks.length === 0 && !branch.loops) return;
    site.path.branches.set(site.key, branch);
    this.install(old.id, old.root!, old);
  }

  private install(id: number, root: TracePath, old: Trace | null): void {
    const t0 = this.now();
    const f = this.settings.fault;
    let lost = false;
    if (f?.kind === 'lost-writeback' && id >= f.from && (this.faultSite === null || (this.faultSite.unit === 'trace' && this.faultSite.id === id))) {
      lost = true;
      this.faultSite = { kind: f.kind, unit: 'trace', id, pc: root.blocks[0].vpc };
    }
    const t = compileTrace(id, root, this.hart, lost);
    if (lost) t.fault = 'lost-writeback';
    this.stats.traceCompileMs += this.now() - t0;
    this.stats.tracesCompiled++;
    const head = root.blocks[0];
    if (old) {
      this.dropTrace(old);
      t.branchCount = old.branchCount + 1;
      t.loopIters = old.loopIters;
      t.runs = old.runs;
      t.insns = old.insns;
      t.sideExits = old.sideExits;
      this.traces[this.traces.indexOf(old)] = t;
    } else this.traces.push(t); // at index id: ids are given in install order, from 0
    head.trace = t;
    this.linker.refreshIncoming(head);
    for (const p of t.pages()) {
      let list = this.tracesOnPage.get(p);
      if (!list) this.tracesOnPage.set(p, (list = []));
      list.push(t);
    }
    if (this.settings.dumpTraces.has(id) || this.settings.dumpTraces.has(head.vpc)) {
      this.dump(`${traceListing(t)}\n--- generated ---\n${buildTrace(t.id, t.root!, true, t.fault === 'lost-writeback').body}\n`);
    }
  }

  /** Called with the block about to run while a path is being recorded. */
  private recordNext(b: Block): void {
    const rec = this.recording!;
    if (b === rec.head && (rec.blocks.length > 0 || rec.tree !== null)) return this.finishTrace(true);
    // A branch may run on through another trace's head (as blocks); a new path stops there.
    if (rec.blocks.length > 0) followCall(rec.calls, rec.blocks[rec.blocks.length - 1]);
    // A cycle is a block met again under the same calls: a loop the path does not close.
    // The same function called twice (a helper in a loop body) is not one.
    const context = rec.calls.join(',');
    const cycle = rec.blocks.some((p, i) => p === b && rec.contexts[i] === context);
    if ((b.trace !== null && rec.tree === null) || !b.compilable || cycle) {
      if (rec.blocks.length === 0) this.recording = null;
      else this.finishTrace(false, cycle);
      return;
    }
    rec.blocks.push(b);
    rec.contexts.push(context);
  }

  /** A trace left by `slot` for the threshold-th time: a hot side exit starts recording a branch there. */
  private exitTaken(tr: Trace, slot: number): void {
    if (tr.branchCount >= MAX_BRANCHES || this.recording !== null || !tr.valid) return;
    // The end of a path that stopped at a cycle: a branch there would only unroll the cycle
    // once more (and again each time its end got hot).
    const site = tr.sites[slot];
    if (site.path.cycle && site.key === siteKey.end(site.path)) return;
    this.recording = recordingAt(tr.head, tr, site);
  }

  /** Block `b` ran while a path is recorded and left by `slot` (-2: a slow path mid-block). */
  private recorded(b: Block, slot: number): void {
    const rec = this.recording!;
    rec.path.push(slot);
    const how = slot >= 0 ? 'fixed' : slot === -1 ? dynamicEnd(b) : 'slow';
    // A slow-path exit in the middle of a block does not describe a path.
    if (how === 'slow') this.recording = null;
    else if (how === 'system' || rec.blocks.length >= this.settings.maxTraceBlocks) this.finishTrace(false);
  }

  /** The run loop for the block and trace tiers (same contract as the interpreter's). */
  readonly run: RunFn = (hart, limit) => {
    const st = this.stats;
    const interp = this.interp;
    const settings = this.settings;
    const traceTier = settings.tier === 'trace';
    const traceThreshold = settings.traceThreshold;
    let prev: Unit | null = null;
    let slot = -1;
    let traps = 0;
    for (;;) {
      try {
        for (;;) {
          if (hart.attention) {
            prev = null;
            if (this.recording !== null) this.recording = null;
            if (hart.service()) return;
          }
          const ic = hart.icount;
          if (ic >= limit) return;
          let b: Block | null = null;
          if (prev !== null && slot >= 0) {
            b = prev.links[slot];
            if (b !== null && prev.cross[slot] === 1 && !this.mapped(b)) b = null;
          }
          if (b === null) {
            b = this.lookup(hart.pc);
            if (prev !== null && slot >= 0 && prev.valid) this.linker.link(prev, slot, b);
          }
          if (this.recording !== null) this.recordNext(b);
          const tr: Trace | null = b.trace;
          let r: number;
          if (tr !== null && ic + tr.iterLen <= limit && this.recording === null) {
            this.last = tr;
            if (this.onUnit !== null) this.onUnit(tr, ic);
            r = tr.fn(hart, limit);
          } else {
            // I4: a unit that would pass the limit is not entered; the interpreter finishes.
            const overBudget = ic + b.n > limit;
            if (overBudget) this.recording = null;
            else {
              if (traceTier && this.recording === null && b.loopHead && !b.noTrace && b.trace === null && ++b.hot >= traceThreshold) {
                this.recording = recordingAt(b, null, null);
                this.recordNext(b);
              }
              if (b.fn === null) this.warm(b, prev !== null ? ENTRY_WEIGHT : 1);
            }
            if (overBudget || (b.fn === null && this.recording === null)) {
              // Cold code (and the rest of the budget) runs in the interpreter until it reaches
              // a hot head (a block to compile, or compiled) or the limit: no dispatch per
              // cold block.
              prev = null;
              this.last = null;
              this.runCold(hart, limit);
              st.insns.interp += hart.icount - ic;
              // The interpreter returns without progress only from a trap storm: so does this loop.
              if (hart.icount === ic && hart.stop === StopReason.None && (traps += TRAP_STORM) > TRAP_STORM) return;
              continue;
            }
            this.last = b;
            if (b.fn === null) {
              // While a path is recorded, a cold block runs alone; if it ran to its end, its
              // exit is known from the pc, so it links and joins the path like a compiled one.
              const trapsBefore = hart.traps;
              interp(hart, ic + b.n);
              st.insns.interp += hart.icount - ic;
              const clean = hart.icount === ic + b.n && hart.traps === trapsBefore && !hart.attention && b.compilable;
              slot = clean ? exitSlotOf(b, hart.pc) : -2;
              // The interpreter returns without progress only from a trap storm: so does this loop.
              if (hart.icount === ic && hart.stop === StopReason.None && (traps += TRAP_STORM) > TRAP_STORM) return;
              prev = b;
              if (this.recording !== null) this.recorded(b, slot);
              continue;
            }
            if (this.onUnit !== null) this.onUnit(b, ic);
            // While a path is recorded, a self-looping block makes one pass at a time, and
            // blocks do not run on into their successors (the recorder sees each one).
            r = this.recording === null ? b.fn(hart, limit, this.onUnit === null ? CHAIN_DEPTH : 0) : b.fn(hart, Math.min(limit, ic + b.n), 0);
            // A block that retires nothing has trapped (or is broken, under --jit-fault):
            // count it toward the trap storm, as the interpreter counts traps.
            if (hart.icount === ic && ++traps > TRAP_STORM) return;
            if (r > -2) {
              // The block that left (the last of those that ran) and its exit.
              if (r >= 0) {
                b = this.blocks[r >> 2];
                slot = r & 3;
                if (slot === SLOT_INDIRECT) slot = -1; // looked up, never linked
              } else slot = r;
              this.last = b;
              prev = b;
              if (this.recording !== null) this.recorded(b, slot);
              continue;
            }
          }
          // A trace left: one run from here, or one the last block of a chain called.
          const t = this.traces[traceOfExit(r)];
          slot = slotOfExit(r);
          t.runs++;
          if (slot === SLOT_DYNAMIC) slot = -1;
          else {
            if (t.isSide[slot] === 1) t.sideExits++;
            // At its threshold, a side exit may grow a branch (the count is kept here, not in
            // exitTaken, so the common case makes no call).
            if (++t.exitCounts[slot] === traceThreshold && traceTier) this.exitTaken(t, slot);
          }
          this.last = t;
          prev = t;
        }
      } catch (e) {
        if (e !== TRAP) throw e;
        prev = null;
        this.recording = null;
        hart.takeFault();
        if (++traps > TRAP_STORM) return;
      }
    }
  };

  /**
   * Runs cold code in the interpreter up to `limit`, until it returns at a compiled head
   * (or for the hart). Where heads are sampled, it stops at every SAMPLE_PERIOD-th
   * instruction and runs the next SAMPLE_INSNS block by block: a head met that earlier
   * samples made hot is compiled, and after the sample each head it met gains the
   * executions a period at that rate gives it. A head is compiled only when it is met
   * again after the sample that made it hot (by a later sample, or by the dispatcher), so
   * a short loop that one sample happened to fall in is not compiled for that alone.
   */
  private runCold(hart: Hart, limit: number): void {
    const interp = this.interp;
    if (!this.sampled) return interp(hart, limit);
    const dc = hart.decodeCache;
    const threshold = this.settings.blockThreshold;
    for (;;) {
      const at = hart.icount - (hart.icount % SAMPLE_PERIOD) + SAMPLE_PERIOD;
      if (at >= limit) return interp(hart, limit);
      interp(hart, at);
      if (hart.icount !== at) return;
      this.stats.samples++;
      const heats = this.sampleHeats;
      const heatAt = this.sampleAt;
      heats.length = 0;
      heatAt.length = 0;
      // Whether the dispatcher takes over after the sample (else the interpreter runs on).
      let leave = true;
      try {
        for (;;) {
          const ic = hart.icount;
          if (ic - at >= SAMPLE_INSNS) {
            leave = ic >= limit;
            break;
          }
          const n = dc.blockRun(hart.pc, this.settings.maxBlockInsns);
          // A compiled block is the dispatcher's to run.
          if (n < 0 || ic + n > limit) break;
          // The first run is the rest of the block the sample fell in.
          if (ic !== at) {
            const heat = dc.headHeat;
            const h = heat[dc.headAt];
            if (h >= threshold) {
              this.warm(this.lookup(hart.pc), 0); // compiles it (unless it never can be)
              break;
            }
            if (h >= 0) {
              heats.push(heat);
              heatAt.push(dc.headAt);
            }
          }
          const traps = hart.traps;
          interp(hart, ic + n);
          // Ended early (a trap, an interrupt, a compiled head, a stop): the dispatcher goes on.
          if (hart.icount !== ic + n || hart.traps !== traps || hart.attention) break;
        }
      } catch (e) {
        // A fetch fault at pc: the dispatcher meets it again and takes it.
        if (e !== TRAP) throw e;
      }
      if (heats.length > 0) {
        const weight = Math.ceil(SAMPLE_PERIOD / (hart.icount - at));
        for (let k = 0; k < heats.length; k++) heats[k][heatAt[k]] = Math.min(heats[k][heatAt[k]] + weight, threshold);
      }
      if (leave) return;
    }
  }

  /** Side exits and loop iterations, summed from the traces. */
  finalStats(): JitStats {
    let iters = 0;
    let side = 0;
    let inTraces = 0;
    for (const t of this.traces) {
      iters += t.loopIters;
      side += t.sideExits;
      inTraces += t.insns;
    }
    // Every instruction runs through `run`: what neither the interpreter nor a trace ran, a block did.
    this.stats.insns.trace = inTraces;
    this.stats.insns.block = this.hart.icount - this.startIcount - this.stats.insns.interp - inTraces;
    this.stats.loopIterations = iters;
    this.stats.sideExits = side;
    return this.stats;
  }
}
