// The run loop of the block and trace tiers (QEMU's cpu-exec): finds the unit at pc, follows
// and makes links, runs compiled units within exact icount budgets and cold code in the
// interpreter, and feeds the trace recorder (DESIGN.md I2, I4, I5).

import { StopReason, type Hart } from '../cpu/hart.js';
import { TRAP } from '../cpu/mmu.js';
import { TRAP_STORM, type RunFn } from '../cpu/interpreter.js';
import { SLOT_INDIRECT } from './block-compiler.js';
import type { CodeCache } from './code-cache.js';
import { ENTRY_WEIGHT, type Heat } from './heat.js';
import type { JitSettings, JitStats } from './jit.js';
import type { Linker } from './linker.js';
import { SLOT_DYNAMIC, slotOfExit, traceOfExit } from './trace-compiler.js';
import { PROMOTE_ITERS, exitSlotOf, type TraceRecorder } from './trace-recorder.js';
import type { Block, Trace, Unit } from './unit.js';

/** Blocks a compiled block may run on into by direct calls before it returns to the dispatcher. */
const CHAIN_DEPTH = 32;

export class Dispatcher {
  /** Called before every compiled unit runs, with the icount it starts at (see Jit.onUnit). */
  onUnit: ((u: Block | Trace, icount: number) => void) | null = null;
  /** The unit that ran last and the slot it left by, for `describe` in divergence reports. */
  last: Unit | null = null;

  constructor(
    private readonly settings: JitSettings,
    private readonly stats: JitStats,
    private readonly cache: CodeCache,
    private readonly linker: Linker,
    private readonly heat: Heat,
    private readonly recorder: TraceRecorder,
    /** Compiled blocks by id and traces by id (the Jit's lists), to decode exit codes. */
    private readonly blocks: Block[],
    private readonly traces: Trace[],
  ) {}

  /** The run loop for the block and trace tiers (same contract as the interpreter's). */
  readonly run: RunFn = (hart: Hart, limit: number) => {
    const st = this.stats;
    const interp = this.heat.interp;
    const heat = this.heat;
    const cache = this.cache;
    const linker = this.linker;
    const rec = this.recorder;
    const blocks = this.blocks;
    const traces = this.traces;
    const traceTier = this.settings.tier === 'trace';
    const traceThreshold = this.settings.traceThreshold;
    let prev: Unit | null = null;
    let slot = -1;
    // Interpreter runs that returned with nothing retired (a safety net: the interpreter
    // returns so only from a storm, which the loop's head then ends).
    let stalls = 0;
    const stalled = (ic: number) => hart.icount === ic && hart.stop === StopReason.None && ++stalls > 1;
    // Where the interpreter started, while it runs (-1: it does not): a debugger's stop
    // thrown from it still counts what it ran.
    let cold = -1;
    for (;;) {
      try {
        for (;;) {
          // Every exception taken counts toward a storm (Hart.takeTrap), in the interpreter
          // and in compiled code alike: the run returns right after the one past TRAP_STORM.
          if (hart.stormTraps > TRAP_STORM) return;
          if (hart.attention) {
            prev = null;
            if (rec.recording !== null) rec.recording = null;
            if (hart.service()) return;
            // While a debug trigger is armed no compiled code runs: the interpreter checks
            // every instruction (attention stays set, so the loop comes back here).
            if (hart.triggers.armed !== 0 && hart.icount < limit) {
              const ic = hart.icount;
              cold = ic;
              interp(hart, limit);
              cold = -1;
              st.insns.interp += hart.icount - ic;
              if (stalled(ic)) return;
              continue;
            }
          }
          const ic = hart.icount;
          if (ic >= limit) return;
          if (ic >= heat.flushAt) heat.flush();
          // Units stop at the queue's flush point too, so it is compiled exactly there (I7).
          const lim = limit < heat.flushAt ? limit : heat.flushAt;
          let b: Block | null = null;
          if (prev !== null && slot >= 0) {
            b = prev.links[slot];
            if (b !== null && prev.cross[slot] === 1 && !cache.mapped(b)) b = null;
          }
          if (b === null) {
            b = cache.lookup(hart.pc);
            if (prev !== null && slot >= 0 && prev.valid) linker.link(prev, slot, b);
          }
          if (rec.recording !== null) rec.recordNext(b);
          const tr: Trace | null = b.trace;
          let r: number;
          if (tr !== null && ic + tr.iterLen <= lim && rec.recording === null) {
            this.last = tr;
            if (this.onUnit !== null) this.onUnit(tr, ic);
            r = tr.fn(hart, lim);
          } else {
            // I4: a unit that would pass the limit is not entered; the interpreter finishes.
            const overBudget = ic + b.n > lim;
            if (overBudget) rec.recording = null;
            else {
              if (traceTier && rec.recording === null && b.loopHead && !b.noTrace && b.trace === null && ++b.hot >= traceThreshold) rec.start(b);
              if (b.fn === null) heat.warm(b, prev !== null ? ENTRY_WEIGHT : 1);
            }
            if (overBudget || (b.fn === null && rec.recording === null)) {
              // Cold code (and the rest of the budget) runs in the interpreter until it reaches
              // a hot head (a block to compile, or compiled) or the limit: no dispatch per
              // cold block.
              prev = null;
              this.last = null;
              cold = ic;
              heat.runCold(hart, lim);
              cold = -1;
              st.insns.interp += hart.icount - ic;
              // The interpreter returns without progress only from a trap storm: so does this loop.
              if (stalled(ic)) return;
              continue;
            }
            this.last = b;
            if (b.fn === null) {
              // While a path is recorded, a cold block runs alone; if it ran to its end, its
              // exit is known from the pc, so it links and joins the path like a compiled one.
              const trapsBefore = hart.traps;
              cold = ic;
              interp(hart, ic + b.n);
              cold = -1;
              st.insns.interp += hart.icount - ic;
              const clean = hart.icount === ic + b.n && hart.traps === trapsBefore && !hart.attention && b.compilable;
              slot = clean ? exitSlotOf(b, hart.pc) : -2;
              // The interpreter returns without progress only from a trap storm: so does this loop.
              if (stalled(ic)) return;
              prev = b;
              if (rec.recording !== null) rec.recorded(b, slot);
              continue;
            }
            if (this.onUnit !== null) this.onUnit(b, ic);
            // While a path is recorded, a self-looping block makes one pass at a time, and
            // blocks do not run on into their successors (the recorder sees each one).
            const trapsBefore = hart.traps;
            r = rec.recording === null ? b.fn(hart, lim, this.onUnit === null ? CHAIN_DEPTH : 0) : b.fn(hart, Math.min(lim, ic + b.n), 0);
            // A block that retires nothing and takes no trap is broken (--jit-fault): it counts
            // toward the storm as a trap would, so the run still returns.
            if (hart.icount === ic && hart.traps === trapsBefore) hart.stormTraps++;
            if (r > -2) {
              // The block that left (the last of those that ran) and its exit.
              if (r >= 0) {
                b = blocks[r >> 2];
                slot = r & 3;
                if (slot === SLOT_INDIRECT) slot = -1; // looked up, never linked
              } else slot = r;
              this.last = b;
              prev = b;
              if (rec.recording !== null) rec.recorded(b, slot);
              continue;
            }
          }
          // A trace left: one run from here, or one the last block of a chain called.
          const t = traces[traceOfExit(r)];
          slot = slotOfExit(r);
          t.runs++;
          if (slot === SLOT_DYNAMIC) slot = -1;
          else {
            if (t.isSide[slot] === 1) t.sideExits++;
            // At its growAt count, a side exit may grow a branch (the count is kept here, not in
            // exitTaken, so the common case makes no call).
            if (++t.exitCounts[slot] === t.growAt && traceTier) rec.exitTaken(t, slot);
          }
          this.last = t;
          prev = t;
          if (t.compact && t.loopIters >= PROMOTE_ITERS) {
            rec.promote(t);
            prev = null;
          }
        }
      } catch (e) {
        if (e !== TRAP) {
          rec.recording = null; // a debugger's stop (or a bug) leaves no path half recorded
          if (cold >= 0) st.insns.interp += hart.icount - cold;
          throw e;
        }
        if (cold >= 0) st.insns.interp += hart.icount - cold;
        cold = -1;
        prev = null;
        rec.recording = null;
        hart.takeFault();
      }
    }
  };
}
