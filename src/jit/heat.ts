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

export class Heat {
  /** Runs cold code: the counting interpreter, or where heads are sampled, the plain one. */
  readonly interp: RunFn;
  /** Whether heads are sampled (runCold) rather than counted. */
  private readonly sampled: boolean;
  /** The heat counters of the heads a sample met (a page's slots, an index). */
  private readonly sampleHeats: Int32Array[] = [];
  private readonly sampleAt: number[] = [];

  constructor(
    private readonly hart: Hart,
    private readonly settings: JitSettings,
    private readonly stats: JitStats,
    private readonly cache: CodeCache,
    /** Where a block goes once it is hot (the Jit). */
    private readonly compiler: { compile(b: Block): void },
  ) {
    hart.decodeCache.heatThreshold = Math.min(settings.blockThreshold, HEAT_HOT);
    this.sampled = settings.blockThreshold >= SAMPLED_FROM;
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
    if (!b.compilable) page[i] = HEAT_NEVER;
    else if (h < this.settings.blockThreshold) page[i] = Math.min(h + weight, this.settings.blockThreshold);
    else if (this.stats.blocksCompiled < this.settings.blockLimit) this.compiler.compile(b);
    else page[i] = HEAT_NEVER; // past --block-limit: it stays interpreted
  }

  /** `b` is being compiled: the interpreter hands it to the dispatcher at its slot (the counting one, at a head, by its heat first). */
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
