// A recording as a debugger sees it: one position (an icount) that moves forward by running
// the replay and backward by replaying from the snapshots before it (QEMU's and rr's way),
// with breakpoints and watchpoints that stop every tier at the same instruction. The gdb
// stub (stub.ts) speaks the protocol; this module knows nothing of it.

import { DEBUG_STOP, DebugStops, type StopHit, type Watchpoint } from '../cpu/debug-stops.js';
import type { Recording } from '../record/reader.js';
import type { DivergenceReport } from '../record/replay.js';
import type { Machine } from '../machine/machine.js';
import { TranslationCache } from '../jit/translation-cache.js';
import { ReplaySession, recordingEnd, type SessionOptions } from '../session/replay-session.js';
import { chainTo, type Snapshots } from '../session/seek.js';
import { SnapshotFile } from '../record/snapshot-file.js';
import type { TierSettings } from '../session/tier.js';
import { addExercised, exercised, noneExercised, type Exercised } from '../diff/exercised.js';

/** Why a run stopped. */
export type StopReason =
  | { kind: 'break'; pc: number }
  | { kind: 'watch'; watch: Watchpoint; addr: number }
  | { kind: 'step' }
  | { kind: 'interrupt' }
  /** At an end of the recording: its last position (forward) or its first (backward). */
  | { kind: 'end'; at: 'begin' | 'end' }
  | { kind: 'divergence'; report: DivergenceReport }
  /** A live guest's run ended (it powered off, panicked, ...): gdb hears the process exited. */
  | { kind: 'exited'; code: number; how: string };

/**
 * What the gdb stub debugs: a recording (Debugger, both ways) or a live run (LiveTarget,
 * forward only). Positions are icounts.
 */
export interface DebugTarget {
  readonly stops: DebugStops;
  readonly machine: Machine;
  readonly icount: number;
  /** The first and last positions there are (a live run's last is its --max-insns, or Infinity). */
  readonly first: number;
  readonly last: number;
  /** Whether it can run backwards (bs, bc, and seeks to earlier icounts). */
  readonly reversible: boolean;
  /** What the positions are called in messages ("the recording", "the run"). */
  readonly what: string;
  /** Host seconds the last seek or run took. */
  lastSeconds: number;
  seek(to: number): StopReason | null | Promise<StopReason | null>;
  step(): StopReason | Promise<StopReason>;
  continue(ctl: RunControl): Promise<StopReason>;
  reverseStep(): StopReason;
  reverseContinue(ctl: RunControl): Promise<StopReason>;
  exercised(): Exercised;
}

/** Instructions between two looks at the host (Ctrl-C, progress) while a run goes on. */
export const CHUNK = 2_000_000;

/** Lets the event loop run (socket data: a Ctrl-C). */
export const yieldToHost = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface RunControl {
  /** True once the user asked the run to stop (Ctrl-C, or the client went away). */
  interrupted(): boolean;
  /** A line of progress for the user, at most about once a second. */
  progress?(line: string): void;
}

/** A backward scan's replay diverged from the recording (it stops the reverse run). */
class DivergedOnTheWay extends Error {
  constructor(readonly report: DivergenceReport) {
    super(report.what);
  }
}

/** A hit found while scanning a stretch of the recording: where the run stops for it. */
interface Found {
  /** Where the stop leaves the machine: a breakpoint's instruction, or just after a watched access. */
  at: number;
  /** Its ordinal among the hits of the scan that found it (a rescan stops at the same one). */
  nth: number;
  reason: StopReason;
}

export class Debugger implements DebugTarget {
  readonly reversible = true;
  readonly what = 'the recording';
  readonly stops = new DebugStops();
  /** Where the recording starts (0, or a trimmed recording's start) and ends. */
  readonly first: number;
  readonly last: number;
  private session!: ReplaySession;
  private readonly translations = new TranslationCache();
  /** Seconds of host time spent on the last seek or run, for `monitor` output and figures. */
  lastSeconds = 0;
  /** What the sessions and JITs dropped so far ran and compiled (I10: the session says what it exercised). */
  private banked: Exercised;
  /** The icount the current session's JIT (or interpreter) started counting from. */
  private countedFrom = 0;

  constructor(
    readonly rec: Recording,
    readonly tier: TierSettings,
    private readonly snapshots: Snapshots | null,
    private readonly options: Pick<SessionOptions, 'images'> = {},
  ) {
    this.first = rec.header.start?.icount ?? 0;
    this.last = recordingEnd(rec).icount;
    this.banked = noneExercised(tier.tier);
    this.session = this.newSession();
    this.stops.onChange = () => this.stopsChanged();
  }

  get machine() {
    return this.session.machine;
  }

  get icount(): number {
    return this.session.machine.hart.icount;
  }

  /** A replay session with this debugger's stops on its hart, restored to the last snapshot at or before `near`. */
  private newSession(near = this.first): ReplaySession {
    if (this.session) this.bank();
    const s = new ReplaySession(this.rec, this.tier, { images: this.options.images, debug: this.stops, translations: this.translations, verify: true });
    const chain = this.snapshots ? chainTo(this.snapshots, near) : [];
    if (chain.length) s.restore(chain);
    this.countedFrom = s.machine.hart.icount;
    return s;
  }

  /** Units compiled before a breakpoint was set may run through it, and TLB entries may map a watched page: both go. */
  private stopsChanged(): void {
    this.bank();
    this.session.jit?.reset();
    this.session.machine.hart.mmu.flush();
  }

  /** Adds what the current session's tier ran and compiled to the bank, which it is about to leave. */
  private bank(): void {
    this.banked = addExercised(this.banked, this.exercisedNow());
    this.countedFrom = this.icount;
  }

  private exercisedNow(): Exercised {
    return exercised(this.tier.tier, this.session.jit, this.icount - this.countedFrom);
  }

  /** What this debugging session ran, in every tier, and compiled, over all its replays. */
  exercised(): Exercised {
    return addExercised(this.banked, this.exercisedNow());
  }

  /** Runs the session to `to` with the stops off; false if the replay diverged or ended short. */
  private runQuietly(to: number): DivergenceReport | null {
    this.stops.active = false;
    try {
      const r = this.session.replay(to);
      return r.divergence;
    } finally {
      this.stops.active = true;
    }
  }

  /** Goes to exactly icount `to` (within the recording), from the nearest snapshot if it is behind. */
  seek(to: number): StopReason | null {
    const t0 = performance.now();
    to = Math.max(this.first, Math.min(this.last, to));
    if (to === this.icount) return null;
    // Backwards, or forwards past a snapshot: from the last snapshot before `to`.
    if (to < this.icount || this.nearestStart(to) > this.icount) this.session = this.newSession(to);
    const d = this.runQuietly(to);
    this.lastSeconds = (performance.now() - t0) / 1000;
    return d ? { kind: 'divergence', report: d } : null;
  }

  /** One instruction forward (a stop on the way, a watchpoint, is reported as such). */
  step(): StopReason {
    if (this.icount >= this.last) return { kind: 'end', at: 'end' };
    const r = this.runForward(this.icount + 1, this.icount);
    return r ?? { kind: 'step' };
  }

  /** One instruction back. */
  reverseStep(): StopReason {
    if (this.icount <= this.first) return { kind: 'end', at: 'begin' };
    return this.seek(this.icount - 1) ?? { kind: 'step' };
  }

  /** Runs forward to the next stop, the recording's end, or an interrupt. */
  async continue(ctl: RunControl): Promise<StopReason> {
    const t0 = performance.now();
    const from = this.icount;
    let r: StopReason | null = null;
    while (r === null) {
      if (this.icount >= this.last) {
        r = { kind: 'end', at: 'end' };
        break;
      }
      r = this.runForward(Math.min(this.last, this.icount + CHUNK), from);
      if (r === null) {
        await yieldToHost();
        if (ctl.interrupted()) r = { kind: 'interrupt' };
      }
    }
    this.lastSeconds = (performance.now() - t0) / 1000;
    return r;
  }

  /**
   * Runs the session to `to` with the stops on (no breakpoint at icount `from`: the run
   * resumes from a stop there). Null if it got there; else why it stopped. A watchpoint
   * stops before the access, at the instruction that makes it: gdb steps over it itself
   * (RISC-V watchpoints are not steppable to it), and then shows the value it wrote.
   */
  private runForward(to: number, from: number): StopReason | null {
    const stops = this.stops;
    stops.from = from;
    stops.hit = null;
    let hit: StopHit | null;
    try {
      const r = this.session.replay(to);
      if (r.divergence) return { kind: 'divergence', report: r.divergence };
      if (r.icount >= this.last) return { kind: 'end', at: 'end' };
      return null;
    } catch (e) {
      hit = e === DEBUG_STOP ? stops.takeHit() : null;
      if (!hit) throw e;
    }
    if (hit.kind === 'break') return { kind: 'break', pc: hit.pc };
    return { kind: 'watch', watch: hit.watch, addr: hit.addr };
  }

  /** Runs the instruction a watchpoint stopped before, with watchpoints off. */
  private stepOverAccess(): DivergenceReport | null {
    this.stops.suppressWatches = true;
    try {
      return this.session.replay(this.icount + 1).divergence;
    } finally {
      this.stops.suppressWatches = false;
    }
  }

  /**
   * Runs backward to the last stop before the current position: each stretch between two
   * snapshots, latest first, is replayed with the stops on and its hits noted; the latest
   * hit found is then replayed to again. With none, the run stops at the recording's start.
   */
  async reverseContinue(ctl: RunControl): Promise<StopReason> {
    const t0 = performance.now();
    const here = this.icount;
    const starts = this.stretchStarts(here);
    let lastReport = -Infinity;
    try {
      for (let k = starts.length - 1; k >= 0; k--) {
        const end = k === starts.length - 1 ? here : starts[k + 1];
        const hits = await this.scan(starts[k], end, here, ctl, Infinity);
        if (hits === 'interrupted') return this.interruptedAt(here, t0);
        if (hits.length) {
          const found = hits[hits.length - 1];
          const landed = await this.scan(starts[k], end, here, ctl, found.nth);
          if (landed === 'interrupted') return this.interruptedAt(here, t0);
          this.lastSeconds = (performance.now() - t0) / 1000;
          return found.reason;
        }
        // Said after the first empty stretch, then about once a second.
        if (k > 0 && ctl.progress && performance.now() - lastReport > 1000) {
          lastReport = performance.now();
          ctl.progress(`reverse-continue: no stop between icount ${starts[k]} and ${here} yet (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
        }
      }
    } catch (e) {
      if (e instanceof DivergedOnTheWay) return { kind: 'divergence', report: e.report };
      throw e;
    }
    this.lastSeconds = (performance.now() - t0) / 1000;
    this.session = this.newSession(this.first);
    this.runQuietly(this.first);
    return { kind: 'end', at: 'begin' };
  }

  /** An interrupted reverse run leaves the position where it was. */
  private interruptedAt(here: number, t0: number): StopReason {
    this.seek(here);
    this.lastSeconds = (performance.now() - t0) / 1000;
    return { kind: 'interrupt' };
  }

  /** The last place a replay can start at or before `to`: a snapshot, or the recording's start. */
  private nearestStart(to: number): number {
    const starts = this.stretchStarts(to + 1);
    return starts[starts.length - 1];
  }

  /** Where each stretch a backward scan replays starts: the recording's start and the snapshots before `here`. */
  private stretchStarts(here: number): number[] {
    const at = new Set<number>([this.first]);
    if (this.snapshots) {
      const list = this.snapshots instanceof SnapshotFile ? this.snapshots.entries : this.snapshots;
      for (const s of list) if (s.icount < here && s.icount > this.first) at.add(s.icount);
    }
    return [...at].sort((a, b) => a - b);
  }

  /**
   * Replays from `start` to `end` with the stops on and returns the hits whose stops are
   * before `before`, in order; with `stopAt` a hit's ordinal, stops there instead (the
   * machine is then at that hit).
   */
  private async scan(start: number, end: number, before: number, ctl: RunControl, stopAt: number): Promise<Found[] | 'interrupted'> {
    this.session = this.newSession(start);
    const d = this.runQuietly(start);
    if (d) throw new DivergedOnTheWay(d);
    const hits: Found[] = [];
    let from = -1; // a stop at the stretch's first instruction counts
    while (this.icount < end) {
      const reason = this.runForward(Math.min(end, this.icount + CHUNK), from);
      if (reason === null) {
        await yieldToHost();
        if (ctl.interrupted()) return 'interrupted';
        continue;
      }
      if (reason.kind === 'divergence') throw new DivergedOnTheWay(reason.report);
      if (reason.kind !== 'break' && reason.kind !== 'watch') break; // the end
      // Backward, a watchpoint stops just after the access: gdb then steps back over it.
      if (reason.kind === 'watch') {
        const d = this.stepOverAccess();
        if (d) throw new DivergedOnTheWay(d);
      }
      const at = this.icount;
      if (at >= before) break;
      if (hits.length === stopAt) return hits;
      hits.push({ at, nth: hits.length, reason });
      from = at;
    }
    return hits;
  }
}
