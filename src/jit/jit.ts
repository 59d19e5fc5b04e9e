// The block and trace tiers: the Jit owns their parts and compiles what they ask for. The
// code cache and invalidation (code-cache.ts), heat counting (heat.ts), trace formation
// (trace-recorder.ts) and the run loop (dispatcher.ts) each have their own module; the
// translators are block-compiler.ts and trace-compiler.ts (DESIGN.md I2, I4-I7).

import type { Hart } from '../cpu/hart.js';
import type { RunFn } from '../cpu/interpreter.js';
import { PAGE_CODE } from '../cpu/memory.js';
import { blockListing, compileBlocks, returnPc } from './block-compiler.js';
import { hartArrays, TranslationCache, type HartArrays } from './translation-cache.js';
import { CodeCache } from './code-cache.js';
import { Dispatcher } from './dispatcher.js';
import { hex } from './emit.js';
import { faultedBlockSource, faultedTrace, FaultInjector, type FaultSite, type FaultSpec } from './faults.js';
import { Heat } from './heat.js';
import { Linker } from './linker.js';
import { compileTrace, traceListing, type TracePath } from './trace-compiler.js';
import { growAt, TraceRecorder } from './trace-recorder.js';
import type { Block, Trace, Unit } from './unit.js';

export { SAMPLED_FROM } from './heat.js';

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
  // Under the trace tier blocks compile at the lower of the two thresholds (heat.ts,
  // blockThresholdOf), so a lower trace threshold would compile more blocks: at 20000 a
  // boot took 0.65 s of CPU against 0.52 s at 100000, and bench(3000) 0.96 s against 0.87 s.
  traceThreshold: 100000,
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
  /** Trace compiles that made a compact tree again with inline accesses (Trace.compact). */
  tracesPromoted: number;
  traceCompileMs: number;
  /** Mean translation cost (generating, compiling, linking) per block and per trace compile, in µs. */
  blockCompileUsMean: number;
  traceCompileUsMean: number;
  /** Units whose source an earlier translation in this process had (their code was reused), and units V8 compiled. */
  translationsReused: number;
  translationsMade: number;
  loopIterations: number;
  sideExits: number;
  traceUnlinks: number;
  /** Queues of due blocks compiled together (heat.ts, batches). */
  batches: number;
  /** Samples of the interpreter taken to find hot blocks (runCold). */
  samples: number;
  insns: { interp: number; block: number; trace: number };
}

function emptyStats(): JitStats {
  return {
    blocksCompiled: 0, blockCompileMs: 0, lookups: 0, jumpCacheHits: 0, linksMade: 0, linksBroken: 0,
    invalidations: 0, tracesCompiled: 0, tracesPromoted: 0, traceCompileMs: 0, blockCompileUsMean: 0, traceCompileUsMean: 0, translationsReused: 0, translationsMade: 0, loopIterations: 0, sideExits: 0, traceUnlinks: 0, batches: 0, samples: 0,
    insns: { interp: 0, block: 0, trace: 0 },
  };
}

export class Jit {
  readonly stats: JitStats = emptyStats();
  /** Compiled blocks in compile order (index = block id). */
  readonly blocks: Block[] = [];
  /** Traces by id (a grown trace replaces its old self). */
  readonly traces: Trace[] = [];
  /** Where dumps go (the CLI passes stderr). */
  dump: (text: string) => void = () => {};
  /** Host clock for compile-time statistics only (never guest-visible). */
  now: () => number = () => 0;
  /** Called once, before the first block is compiled (the CLI tunes V8 for generated code there). */
  onFirstCompile: (() => void) | null = null;
  /** The run loop (the dispatcher's: `reset` makes a new one), with the interpreter's contract. */
  readonly run: RunFn = (hart, limit) => this.dispatcher.run(hart, limit);

  // The parts, made new by `reset`.
  private startIcount!: number;
  private faults!: FaultInjector;
  /** Links between units, and the direct calls compiled blocks make along them. */
  private linker!: Linker;
  private cache!: CodeCache;
  private heat!: Heat;
  private recorder!: TraceRecorder;
  private dispatcher!: Dispatcher;

  /** The arrays the hart's units close over. */
  private readonly arrays: HartArrays;
  /** This JIT's share of the translation cache's counts. */
  private made = 0;
  private reused = 0;

  constructor(
    private readonly hart: Hart,
    readonly settings: JitSettings,
    /** Translations made so far in this process; replays of one recording share them. */
    readonly translations = new TranslationCache(),
  ) {
    this.arrays = hartArrays(hart);
    this.build();
  }

  private build(): void {
    const { hart, settings, stats } = this;
    this.startIcount = hart.icount;
    this.faults = new FaultInjector(settings.fault);
    this.linker = new Linker(stats, settings.tier === 'trace');
    this.cache = new CodeCache(hart, settings, stats, this.linker, this.faults);
    this.heat = new Heat(hart, settings, stats, this.cache, this);
    this.recorder = new TraceRecorder(settings, this.linker, this);
    this.dispatcher = new Dispatcher(settings, stats, this.cache, this.linker, this.heat, this.recorder, this.blocks, this.traces);
  }

  /**
   * Forgets every unit, link, heat count, trace and statistic, as if this JIT were made new
   * at the hart's icount (a machine restored to a snapshot runs on from there). Only the
   * translations stay: they are keyed by their whole source, so reusing one decides nothing.
   * Call it between runs, not from inside one.
   */
  reset(): void {
    const onUnit = this.onUnit;
    Object.assign(this.stats, emptyStats());
    this.blocks.length = 0;
    this.traces.length = 0;
    this.made = this.reused = 0;
    // Heat counters and handover slots live in the decode cache's pages, and pages are
    // flagged for the code cache: a new JIT finds neither.
    const hart = this.hart;
    hart.decodeCache.clear();
    const flags = hart.mem.pageFlags;
    for (let p = 0; p < flags.length; p++) flags[p] &= ~PAGE_CODE;
    hart.attention = true;
    this.build();
    this.dispatcher.onUnit = onUnit;
  }

  /**
   * Called before every compiled unit runs, with the icount it starts at (for `deja diff`,
   * which needs to know which unit ran an instruction). Null in normal runs.
   */
  get onUnit(): ((u: Block | Trace, icount: number) => void) | null {
    return this.dispatcher.onUnit;
  }
  set onUnit(f: ((u: Block | Trace, icount: number) => void) | null) {
    this.dispatcher.onUnit = f;
  }

  /** The unit that ran last and the slot it left by, for `describe` in divergence reports. */
  get last(): Unit | null {
    return this.dispatcher.last;
  }

  /** Where an injected fault landed (null: none, or not yet). */
  get faultSite(): FaultSite | null {
    return this.faults.site;
  }

  /** The block at virtual pc for the current privilege (may throw TRAP on a fetch fault). */
  lookup(pc: number): Block {
    return this.cache.lookup(pc);
  }

  /** A store or DMA wrote bytes [from, to) of a physical page with code (I6): see CodeCache.codeWritten. */
  codeWritten(page: number, from: number, to: number): void {
    // A path being recorded may hold a dropped block.
    if (this.cache.codeWritten(page, from, to)) this.recorder.recording = null;
  }

  /** Compiles hot blocks (Heat decides when) together, each with a fault if it is the one to carry it. */
  compile(bs: Block[]): void {
    if (this.onFirstCompile !== null) {
      this.onFirstCompile();
      this.onFirstCompile = null;
    }
    const t0 = this.now();
    for (const b of bs) {
      this.heat.handOver(b);
      b.id = this.stats.blocksCompiled++;
      b.compact = !this.heat.sampled;
      this.blocks.push(b);
      b.fault = this.faults.forBlock(b);
    }
    this.translated(() => compileBlocks(bs, bs.map((b) => faultedBlockSource(b)), this.arrays, this.translations));
    for (const b of bs) {
      for (let s = 0; s < b.links.length; s++) this.linker.setDirect(b, s);
      this.linkReturn(b);
      this.linker.refreshIncoming(b);
    }
    this.stats.blockCompileMs += this.now() - t0;
    for (const b of bs) {
      if (this.settings.dumpBlocks.has(b.vpc)) {
        this.dump(`block ${b.id} at ${hex(b.vpc)} (priv ${b.priv}, ${b.n} instructions)\n${blockListing(b)}\n--- generated ---\n${faultedBlockSource(b, true)}\n`);
      }
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
    const r = this.cache.blockAt(pc, b.off + b.bytes, b.priv);
    if (r.compilable) this.linker.linkReturn(b, r);
  }

  /**
   * Compiles a recorded path as trace `id`, or a grown tree in place of `old` (the
   * TraceRecorder asks), or `old` again with inline accesses (`promote`: Trace.compact).
   */
  install(id: number, root: TracePath, old: Trace | null, promote = false): void {
    const t0 = this.now();
    const head = root.blocks[0];
    const lost = this.faults.forTrace(id, head.vpc);
    const compact = !promote && (old ? old.compact : head.compact);
    const t = this.translated(() => compileTrace(faultedTrace(id, root, compact, false, lost), this.arrays, this.translations));
    if (lost) t.fault = 'lost-writeback';
    this.stats.traceCompileMs += this.now() - t0;
    this.stats.tracesCompiled++;
    if (promote) this.stats.tracesPromoted++;
    if (old) {
      this.cache.dropTrace(old);
      // Its exits count afresh toward growing a branch (growAt is lower once promoted).
      t.branchCount = old.branchCount + (promote ? 0 : 1);
      t.loopIters = old.loopIters;
      t.runs = old.runs;
      t.insns = old.insns;
      t.sideExits = old.sideExits;
      this.traces[this.traces.indexOf(old)] = t;
    } else this.traces.push(t); // at index id: ids are given in install order, from 0
    head.trace = t;
    this.linker.refreshIncoming(head);
    this.cache.addTrace(t);
    t.growAt = growAt(t, this.settings.traceThreshold);
    if (this.settings.dumpTraces.has(id) || this.settings.dumpTraces.has(head.vpc)) {
      const again = old ? ` compiled again at icount ${this.hart.icount}: ${promote ? 'promoted (accesses inline)' : `grown by branch ${t.branchCount}`}\n` : '';
      this.dump(`${traceListing(t)}\n${again}--- generated ---\n${faultedTrace(t.id, t.root!, t.compact, true, lost).body}\n`);
    }
  }

  /** Runs a translation, counting the units it made and reused. */
  private translated<T>(f: () => T): T {
    const { made, reused } = this.translations;
    const r = f();
    this.made += this.translations.made - made;
    this.reused += this.translations.reused - reused;
    return r;
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
    const st = this.stats;
    st.blockCompileUsMean = st.blocksCompiled ? Math.round((st.blockCompileMs * 1000) / st.blocksCompiled) : 0;
    st.traceCompileUsMean = st.tracesCompiled ? Math.round((st.traceCompileMs * 1000) / st.tracesCompiled) : 0;
    st.translationsReused = this.reused;
    st.translationsMade = this.made;
    return st;
  }
}
