// Which cold blocks get compiled: heat counters (the decode cache's slots) count block heads
// toward the block threshold, every head in the counting interpreter or, from SAMPLED_FROM
// up, samples of the plain one at fixed icounts (so two replays compile alike, DESIGN.md I7).

import type { Hart } from '../cpu/hart.js';
import { PAGE_SHIFT } from '../cpu/memory.js';
import { TRAP } from '../cpu/mmu.js';
import { interpreter, type RunFn } from '../cpu/interpreter.js';
import { heatIndex, HEAT_HOT, HEAT_NEVER, SLOT_HANDOVER } from '../cpu/decode-cache.js';
import type { CodeCache } from './code-cache.js';
import type { JitSettings, JitStats } from './jit.js';
import type { Block } from './unit.js';

/**
 * How many executions a cold block's entry from compiled code counts as. Such an entry
 * costs a return to the dispatcher and an interpreter run of one block, where a block
 * reached inside the interpreter costs nothing extra; so code next to compiled code
 * compiles 100 times sooner (full bench: block tier 7.02 -> 6.74 s, trace tier 4.10 ->
 * 3.70 s; boot unchanged, as it compiles almost nothing).
 */
export const ENTRY_WEIGHT = 100;

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

/**
 * Where heads are counted from 1 up (low thresholds, where most blocks that run get
 * compiled), a block that becomes due once the run is past BATCH_FROM instructions waits in
 * a queue, run by the interpreter meanwhile, and the queue is compiled together: when it
 * holds BATCH_BLOCKS, when one of its blocks has run QUEUED_RUNS more times, or a window
 * after its first block was queued of a sixteenth of the instructions run so far (at most
 * BATCH_WINDOW_MAX). One V8 compile per batch instead of per block, and a due block runs in
 * the interpreter, rather than as cold generated code, until then. Before BATCH_FROM (a
 * short program, a boot's firmware) and at threshold 0, a block compiles when it is due
 * and that run already runs its code.
 */
const BATCH_FROM = 1 << 20;
const BATCH_BLOCKS = 64;
const BATCH_WINDOW_MAX = 65536;

/**
 * A queued block's heat starts QUEUED_RUNS below the threshold: the interpreter runs it
 * meanwhile and returns at it once it has run that many more times, and the dispatcher
 * then compiles the queue, so a block that keeps running is not kept waiting.
 */
const QUEUED_RUNS = 8;

/**
 * The block threshold the JIT applies: under the trace tier, a loop head must be compiled to
 * be counted toward a trace, so blocks are compiled at min(block threshold, trace threshold)
 * executions, and a head's interpreted runs count toward its trace (b.hot: warm, flush).
 */
export function blockThresholdOf(s: JitSettings): number {
  return s.tier === 'trace' ? Math.min(s.blockThreshold, s.traceThreshold) : s.blockThreshold;
}

export class Heat {
  /** Runs cold code: the counting interpreter, or where heads are sampled, the plain one. */
  readonly interp: RunFn;
  /** Whether heads are sampled (runCold) rather than counted. */
  readonly sampled: boolean;
  /** The heat counters of the heads a sample met (a page's slots, an index). */
  private readonly sampleHeats: Int32Array[] = [];
  private readonly sampleAt: number[] = [];
  /** Executions before a block is compiled (blockThresholdOf). */
  readonly threshold: number;
  /** Blocks due for compiling, in the order they became due (batched only where heads are counted). */
  private readonly pending: Block[] = [];
  /** Whether due blocks wait in the queue (batched) or are compiled at once. */
  private readonly batched: boolean;
  private readonly startIcount: number;
  /** The icount at which the queue is compiled (Infinity while empty). */
  flushAt = Infinity;

  constructor(
    private readonly hart: Hart,
    private readonly settings: JitSettings,
    private readonly stats: JitStats,
    private readonly cache: CodeCache,
    /** Where blocks go once they are hot (the Jit): compiled together, in order. */
    private readonly compiler: { compile(bs: Block[]): void },
  ) {
    this.threshold = blockThresholdOf(settings);
    hart.decodeCache.heatThreshold = Math.min(this.threshold, HEAT_HOT);
    this.sampled = this.threshold >= SAMPLED_FROM;
    this.batched = !this.sampled && this.threshold > 0;
    this.startIcount = hart.icount;
    this.interp = interpreter(!this.sampled, hart);
  }

  /** The heat counter of blocks starting at b's first byte: its page's slot (decode-cache.ts). */
  private heatPage(b: Block): Int32Array {
    return this.hart.decodeCache.page(b.off >>> PAGE_SHIFT);
  }

  /** A cold block is about to run: count it (as `weight` runs), and compile it once it is hot enough. */
  warm(b: Block, weight: number): void {
    const page = this.heatPage(b);
    const i = heatIndex(b.off);
    const h = page[i];
    if (b.queued) {
      if (h + weight >= this.threshold) this.flush();
      else page[i] = h + weight;
      return;
    }
    if (!b.compilable) page[i] = HEAT_NEVER;
    else if (h < this.threshold) page[i] = Math.min(h + weight, this.threshold);
    else {
      b.hot = Math.max(b.hot, h);
      const now = this.hart.icount;
      if (!this.batched || now - this.startIcount < BATCH_FROM) {
        if (this.stats.blocksCompiled < this.settings.blockLimit) this.compiler.compile([b]);
        else page[i] = HEAT_NEVER; // past --block-limit: it stays interpreted
        return;
      }
      // Queued whatever --block-limit says, so that batches form as in the unlimited run
      // (bisect's probes are that run up to their limit): the limit applies at the flush.
      b.queued = true;
      page[i] = this.threshold - QUEUED_RUNS;
      this.pending.push(b);
      if (this.pending.length >= BATCH_BLOCKS) this.flush();
      else if (this.pending.length === 1) this.flushAt = now + Math.max(1, Math.min(Math.floor((now - this.startIcount) / 16), BATCH_WINDOW_MAX));
    }
  }

  /** Compiles the queue (when full, when a queued block ran QUEUED_RUNS more times, or at flushAt). */
  flush(): void {
    const due = this.pending.splice(0);
    this.flushAt = Infinity;
    const live: Block[] = [];
    for (const b of due) {
      b.queued = false;
      if (!b.valid) continue; // dropped while queued (its heat was reset then)
      const page = this.heatPage(b);
      const i = heatIndex(b.off);
      // Its runs while queued count toward a trace as well.
      b.hot += Math.max(0, page[i] - (this.threshold - QUEUED_RUNS));
      if (this.stats.blocksCompiled + live.length < this.settings.blockLimit) live.push(b);
      else page[i] = HEAT_NEVER; // past --block-limit: it stays interpreted
    }
    if (live.length > 0) {
      this.stats.batches++;
      this.compiler.compile(live);
    }
  }

  /**
   * `b` is being compiled: the interpreter hands it to the dispatcher at its slot (the
   * counting one, at a head, by its heat first). Its runs so far count toward a trace
   * (b.hot took its heat when it became due).
   */
  handOver(b: Block): void {
    const page = this.heatPage(b);
    page[heatIndex(b.off)] = HEAT_HOT;
    page[b.off & 4094] = SLOT_HANDOVER;
  }

  /**
   * Runs cold code in the interpreter up to `limit`, until it returns at a compiled head
   * (or for the hart). Where heads are sampled, it stops at every SAMPLE_PERIOD-th
   * instruction and runs the next SAMPLE_INSNS block by block: a head met that earlier
   * samples made hot is compiled, and after the sample each head it met gains the
   * executions a period at that rate gives it. A head is compiled only when it is met
   * again after the sample that made it hot (by a later sample, or by the dispatcher), so
   * a short loop that one sample happened to fall in is not compiled for that alone.
   */
  runCold(hart: Hart, limit: number): void {
    const interp = this.interp;
    if (!this.sampled) return interp(hart, limit);
    const dc = hart.decodeCache;
    const threshold = this.threshold;
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
              this.warm(this.cache.lookup(hart.pc), 0); // compiles it (unless it never can be)
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
}
