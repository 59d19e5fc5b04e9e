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
import { ExercisedTally, type Exercised } from '../diff/exercised.js';

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
  /** What the sessions and JITs ran and compiled (I10: the session says what it exercised). */
  private readonly tally: ExercisedTally;
  /** Where a replay can start, in order: the recording's start and the snapshots after it. */
  private readonly starts: number[];
  /** Host time in ms (the CLI's clock, DESIGN.md I3): for figures, progress and how often to look at the host. */
  private readonly now: () => number;
  /**
   * The current session's trap count (hart.traps, from 0 where the session started) at
   * each stretch start it stood at. A trap retires nothing, so (icount, traps taken since
   * a stretch start) orders the places within one icount; a scan from that stretch start
   * counts traps from 0 there too.
   */
  private trapsAt = new Map<number, number>();
  /** Set when breakpoints or watchpoints changed; the JIT is reset before the next run if the set differs. */
  private stopsDirty = false;
  /** A breakpoint at the recording's last place was reported (the next run reports the end). */
  private stopsAtEnd = false;

  constructor(
    readonly rec: Recording,
    readonly tier: TierSettings,
    private readonly snapshots: Snapshots | null,
    private readonly options: Pick<SessionOptions, 'images'> & { now: () => number },
  ) {
    this.first = rec.header.start?.icount ?? 0;
    this.last = recordingEnd(rec).icount;
    this.now = options.now;
    this.tally = new ExercisedTally(tier.tier, this.first);
    const list = snapshots === null ? [] : snapshots instanceof SnapshotFile ? snapshots.entries : snapshots;
    this.starts = [this.first, ...list.map((e) => e.icount).filter((i) => i > this.first)].sort((a, b) => a - b);
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
    if (this.session) this.tally.bank(this.session.jit, this.icount);
    const s = new ReplaySession(this.rec, this.tier, { images: this.options.images, debug: this.stops, translations: this.translations, verify: true });
    const chain = this.snapshots ? chainTo(this.snapshots, near) : [];
    if (chain.length) s.restore(chain);
    this.tally.startAt(s.machine.hart.icount);
    this.trapsAt = new Map([[s.machine.hart.icount, 0]]);
    this.stops.traps = () => s.machine.hart.traps;
    this.stops.compiledAfresh();
    this.stopsAtEnd = false;
    return s;
  }

  private stopsChanged(): void {
    this.stopsDirty = true;
    this.session.machine.hart.mmu.flush(); // no TLB entry may map a watched page
  }

  /**
   * Units compiled before a breakpoint was set may run through it: they go before the next
   * run, unless the set is the one they were compiled under (gdb takes its breakpoints out
   * at every stop and puts them back to resume).
   */
  private settleStops(): void {
    if (!this.stopsDirty) return;
    this.stopsDirty = false;
    if (!this.stops.takeCompiledChange()) return;
    this.tally.bank(this.session.jit, this.icount);
    this.session.jit?.reset();
  }


  /** Replays the session to `to`, noting the trap count at a stretch start it stops at. */
  private replayTo(to: number) {
    this.settleStops();
    const r = this.session.replay(to);
    if (r.icount === to && this.isStretchStart(to)) this.trapsAt.set(to, this.machine.hart.traps);
    return r;
  }

  private isStretchStart(icount: number): boolean {
    return this.starts.includes(icount);
  }

  /** The place the machine stands at: its icount and the traps taken there since the stretch start before it (null: not known). */
  private place(): { icount: number; traps: number | null } {
    const icount = this.icount;
    const base = this.trapsAt.get(this.nearestStart(icount));
    return { icount, traps: base === undefined ? null : this.machine.hart.traps - base };
  }

  /** What this debugging session ran, in every tier, and compiled, over all its replays. */
  exercised(): Exercised {
    return this.tally.total(this.session.jit, this.icount);
  }

  /** Runs the session to `to` with the stops off; false if the replay diverged or ended short. */
  private runQuietly(to: number): DivergenceReport | null {
    this.stops.active = false;
    try {
      const r = this.replayTo(to);
      return r.divergence;
    } finally {
      this.stops.active = true;
    }
  }

  /** Goes to exactly icount `to` (within the recording), from the nearest snapshot if it is behind. */
  seek(to: number): StopReason | null {
    const t0 = this.now();
    to = Math.max(this.first, Math.min(this.last, to));
    if (to === this.icount) return null;
    // Backwards, or forwards past a snapshot: from the last snapshot before `to`.
    if (to < this.icount || this.nearestStart(to) > this.icount) this.session = this.newSession(to);
    const d = this.runQuietly(to);
    this.lastSeconds = (this.now() - t0) / 1000;
    return d ? { kind: 'divergence', report: d } : null;
  }

  /** One instruction forward (a stop on the way, a watchpoint, is reported as such). */
  step(): StopReason {
    if (this.icount >= this.last) return { kind: 'end', at: 'end' };
    const r = this.runForward(this.icount + 1, true);
    return r ?? { kind: 'step' };
  }

  /** One instruction back. */
  reverseStep(): StopReason {
    if (this.icount <= this.first) return { kind: 'end', at: 'begin' };
    return this.seek(this.icount - 1) ?? { kind: 'step' };
  }

  /** Runs forward to the next stop, the recording's end, or an interrupt. */
  async continue(ctl: RunControl): Promise<StopReason> {
    const t0 = this.now();
    let r: StopReason | null = null;
    let resume = true;
    while (r === null) {
      if (this.icount >= this.last) {
        r = { kind: 'end', at: 'end' };
        break;
      }
      r = this.runForward(this.chunkEnd(this.last), resume);
      resume = false;
      if (r === null) {
        await yieldToHost();
        if (ctl.interrupted()) r = { kind: 'interrupt' };
      }
    }
    this.lastSeconds = (this.now() - t0) / 1000;
    return r;
  }

  /**
   * Runs the session to `to` with the stops on; with `resume`, no breakpoint stops at the
   * place it stands (the run resumes from a stop there). Null if it got there; else why
   * it stopped. A watchpoint
   * stops before the access, at the instruction that makes it: gdb steps over it itself
   * (RISC-V watchpoints are not steppable to it), and then shows the value it wrote.
   */
  private runForward(to: number, resume: boolean): StopReason | null {
    const stops = this.stops;
    stops.from = resume ? this.icount : -1;
    stops.fromTraps = this.machine.hart.traps;
    stops.hit = null;
    let hit: StopHit | null;
    try {
      const r = this.replayTo(to);
      if (r.divergence) return { kind: 'divergence', report: r.divergence };
      if (r.icount >= this.last) {
        // The last place has no instruction to run, so the interpreter never checks it: a
        // breakpoint there stops the run first (once), then the end does.
        const pc = this.machine.hart.pc >>> 0;
        const atFrom = stops.from === r.icount && stops.fromTraps === this.machine.hart.traps;
        if (stops.active && stops.hasBreakpoint(pc) && !atFrom && !this.stopsAtEnd) {
          this.stopsAtEnd = true;
          return { kind: 'break', pc };
        }
        return { kind: 'end', at: 'end' };
      }
      return null;
    } catch (e) {
      hit = e === DEBUG_STOP ? stops.takeHit() : null;
      if (!hit) throw e;
    }
    if (hit.kind === 'break') return { kind: 'break', pc: hit.pc };
    return { kind: 'watch', watch: hit.watch, addr: hit.addr };
  }

  /** Where the next stretch of a run ends on its way to `to`: a chunk on, or the next stretch start (where its trap count is noted). */
  private chunkEnd(to: number): number {
    const here = this.icount;
    let end = Math.min(to, here + CHUNK);
    const next = this.starts.find((s) => s > here);
    if (next !== undefined && next < end) end = next;
    return end;
  }

  /** Runs the instruction a watchpoint stopped before, with watchpoints off. */
  private stepOverAccess(): DivergenceReport | null {
    this.stops.from = this.icount; // resuming from the stop here
    this.stops.fromTraps = this.machine.hart.traps;
    this.stops.suppressWatches = true;
    try {
      return this.replayTo(this.icount + 1).divergence;
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
    const t0 = this.now();
    const here = this.place();
    const starts = this.stretchStarts(here.icount + 1);
    let lastReport = -Infinity;
    let lastYield = this.now();
    let stretch = '';
    const yielded = async (): Promise<boolean> => {
      // At most every 50 ms, whatever the hits: a Ctrl-C is seen in a stretch full of them.
      if (this.now() - lastYield < 50) return ctl.interrupted();
      await yieldToHost();
      lastYield = this.now();
      // A long stretch (a recording without snapshots is one) says where it is, once a second.
      if (ctl.progress && lastYield - lastReport > 1000 && lastYield - t0 > 1000) {
        lastReport = lastYield;
        ctl.progress(`reverse-continue: replaying ${stretch} for stops, at icount ${this.icount} (${((lastYield - t0) / 1000).toFixed(1)} s)`);
      }
      return ctl.interrupted();
    };
    try {
      for (let k = starts.length - 1; k >= 0; k--) {
        // The last stretch runs into here's icount: a place there before here (a trapping
        // instruction, when here is its handler's entry) is a hit to find.
        const end = k === starts.length - 1 ? Math.min(here.icount + 1, this.last) : starts[k + 1];
        stretch = `icount ${starts[k]} to ${end}`;
        const hits = await this.scan(starts[k], end, here, yielded, null);
        if (hits === 'interrupted') return this.interruptedAt(here.icount, t0);
        if (hits.length) {
          const landed = await this.scan(starts[k], end, here, yielded, hits.length - 1);
          if (landed === 'interrupted') return this.interruptedAt(here.icount, t0);
          this.lastSeconds = (this.now() - t0) / 1000;
          return hits[hits.length - 1];
        }
        // Said after the first empty stretch, then about once a second.
        if (k > 0 && ctl.progress && this.now() - lastReport > 1000) {
          lastReport = this.now();
          ctl.progress(`reverse-continue: no stop between icount ${starts[k]} and ${here.icount} yet (${((this.now() - t0) / 1000).toFixed(1)} s)`);
        }
      }
    } catch (e) {
      if (e instanceof DivergedOnTheWay) return { kind: 'divergence', report: e.report };
      throw e;
    }
    this.lastSeconds = (this.now() - t0) / 1000;
    this.session = this.newSession(this.first);
    this.runQuietly(this.first);
    return { kind: 'end', at: 'begin' };
  }

  /** An interrupted reverse run leaves the position where it was. */
  private interruptedAt(here: number, t0: number): StopReason {
    this.seek(here);
    this.lastSeconds = (this.now() - t0) / 1000;
    return { kind: 'interrupt' };
  }

  /** The last place a replay can start at or before `to`: a snapshot, or the recording's start. */
  private nearestStart(to: number): number {
    const starts = this.stretchStarts(to + 1);
    return starts[starts.length - 1];
  }

  /** Where each stretch a backward scan replays starts: the recording's start and the snapshots before `here`. */
  private stretchStarts(here: number): number[] {
    const k = this.starts.findIndex((i) => i >= here);
    return k < 0 ? this.starts : this.starts.slice(0, Math.max(1, k));
  }

  /**
   * Replays from stretch start `start` to `end` with the stops on and returns the hits
   * before place `here`, in order; with `stopAt` a hit's ordinal, stops there instead (the
   * machine is then at that hit). A breakpoint's hit is before `here` if it is at an
   * earlier icount, or at the same one with fewer traps taken; a watched access is if its
   * instruction is at an earlier icount (the stop is just after it).
   */
  private async scan(start: number, end: number, here: { icount: number; traps: number | null }, interrupted: () => Promise<boolean>, stopAt: number | null): Promise<StopReason[] | 'interrupted'> {
    this.session = this.newSession(start);
    const d = this.runQuietly(start);
    if (d) throw new DivergedOnTheWay(d);
    const hits: StopReason[] = [];
    let resume = false; // a stop at the stretch's first instruction counts
    while (this.icount < end) {
      const reason = this.runForward(this.chunkEnd(end), resume);
      resume = false;
      if (await interrupted()) return 'interrupted';
      if (reason === null) continue;
      if (reason.kind === 'divergence') throw new DivergedOnTheWay(reason.report);
      if (reason.kind !== 'break' && reason.kind !== 'watch') break; // the end
      const at = this.icount;
      const traps = this.machine.hart.traps;
      const before = reason.kind === 'watch' ? at < here.icount : at < here.icount || (at === here.icount && start === this.nearestStart(here.icount) && here.traps !== null && traps < here.traps);
      if (!before) break;
      // Backward, a watchpoint stops just after the access: gdb then steps back over it.
      if (reason.kind === 'watch') {
        const d = this.stepOverAccess();
        if (d) throw new DivergedOnTheWay(d);
      }
      if (hits.length === stopAt) return hits;
      hits.push(reason);
      resume = true;
    }
    return hits;
  }
}
