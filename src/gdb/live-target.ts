// A live run (`deja run --gdb PORT`) as the gdb stub sees it: the machine runs forward
// only, with the console and its inputs as in any run, and stops at breakpoints and
// watchpoints as a replay does (debug-stops.ts). Going back needs a recording: record the
// run, then debug the recording (debugger.ts).

import { DEBUG_STOP, DebugStops } from '../cpu/debug-stops.js';
import { formatExit, type ExitStatus, type Machine } from '../machine/machine.js';
import type { Jit } from '../jit/jit.js';
import type { Tier } from '../session/tier.js';
import { ExercisedTally, type Exercised } from '../diff/exercised.js';
import { CHUNK, yieldToHost, type DebugTarget, type RunControl, type StopReason } from './debugger.js';

export class LiveTarget implements DebugTarget {
  readonly reversible = false;
  readonly what = 'the run';
  readonly first: number;
  lastSeconds = 0;
  /** What the run ran and compiled, over JIT resets (I10). */
  private readonly tally: ExercisedTally;
  /** Breakpoints or watchpoints changed: the JIT is reset before the next run if the set differs from its own. */
  private stopsDirty = false;
  /** How the guest's run ended, once it has. */
  exit: ExitStatus | null = null;
  /** --max-insns, or Infinity. */
  readonly last: number;

  constructor(
    readonly machine: Machine,
    readonly stops: DebugStops,
    private readonly tier: Tier,
    private readonly jit: Jit | null,
    private readonly o: {
      /** --max-insns, or Infinity. */
      last: number;
      /** Called after each stretch of running (the recorder flushes, snapshots settle). */
      tick: () => void;
      /** Set when the user stops the run from deja's side (Ctrl-A X, a signal). */
      stopped: () => boolean;
      /** The exit code deja gives a run that ended so (gdb hears it as the process's). */
      exitCode: (e: ExitStatus) => number;
      /** Host time in ms (the CLI's clock, DESIGN.md I3), for figures only. */
      now: () => number;
    },
  ) {
    this.first = machine.hart.icount;
    this.last = o.last;
    this.tally = new ExercisedTally(tier, this.first);
    stops.traps = () => machine.hart.traps;
    stops.compiledAfresh();
    stops.onChange = () => {
      this.stopsDirty = true;
      machine.hart.mmu.flush(); // no TLB entry may map a watched page
    };
  }

  get icount(): number {
    return this.machine.hart.icount;
  }

  /**
   * Runs to icount `to` with the stops on (with `resume`, none at the place it stands);
   * null if it got there, else why it stopped. An idle guest waits for the host (its console input) meanwhile.
   */
  private async runTo(to: number, resume: boolean, ctl: RunControl | null): Promise<StopReason | null> {
    const m = this.machine;
    this.settleStops();
    this.stops.from = resume ? m.hart.icount : -1;
    this.stops.fromTraps = m.hart.traps;
    while (m.hart.icount < to) {
      let r: 'exit' | 'limit' | 'wait' | 'idled';
      try {
        r = m.runUntil(Math.min(to, m.hart.icount + CHUNK));
      } catch (e) {
        const hit = e === DEBUG_STOP ? this.stops.takeHit() : null;
        if (!hit) throw e;
        this.o.tick();
        return hit.kind === 'break' ? { kind: 'break', pc: hit.pc } : { kind: 'watch', watch: hit.watch, addr: hit.addr };
      }
      this.o.tick();
      if (r === 'exit') return this.exited(m.exit!);
      if (this.o.stopped()) return this.exited({ reason: 'stop', code: 0 });
      if (m.hart.icount >= this.last) return this.exited({ reason: 'limit', code: 0 });
      // A step does not wait for the host; a run does, and looks for a Ctrl-C.
      if (!ctl) return null;
      await (r === 'wait' ? new Promise((res) => setTimeout(res, 1)) : yieldToHost());
      if (ctl.interrupted()) return { kind: 'interrupt' };
    }
    return null;
  }

  /** Units compiled under another set of breakpoints go (see Debugger.settleStops). */
  private settleStops(): void {
    if (!this.stopsDirty) return;
    this.stopsDirty = false;
    if (!this.stops.takeCompiledChange()) return;
    // A reset JIT counts from zero: what it did so far is kept here.
    this.tally.bank(this.jit, this.icount);
    this.jit?.reset();
  }


  private exited(e: ExitStatus): StopReason {
    this.exit = e;
    return { kind: 'exited', code: this.o.exitCode(e), how: formatExit(e) };
  }

  async seek(to: number): Promise<StopReason | null> {
    const t0 = this.o.now();
    this.stops.active = false;
    try {
      return await this.runTo(to, false, { interrupted: () => false });
    } finally {
      this.stops.active = true;
      this.lastSeconds = (this.o.now() - t0) / 1000;
    }
  }

  async step(): Promise<StopReason> {
    if (this.exit) return this.exited(this.exit);
    return (await this.runTo(this.icount + 1, true, null)) ?? { kind: 'step' };
  }

  async continue(ctl: RunControl): Promise<StopReason> {
    if (this.exit) return this.exited(this.exit);
    const t0 = this.o.now();
    const r = (await this.runTo(this.last, true, ctl)) ?? this.exited({ reason: 'limit', code: 0 });
    this.lastSeconds = (this.o.now() - t0) / 1000;
    return r;
  }

  reverseStep(): StopReason {
    throw new Error('a live run cannot go backwards');
  }

  reverseContinue(): Promise<StopReason> {
    throw new Error('a live run cannot go backwards');
  }

  exercised(): Exercised {
    return this.tally.total(this.jit, this.icount);
  }
}
