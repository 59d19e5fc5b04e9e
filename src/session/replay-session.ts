// A replay of a recording in this process: the machine the recording describes, under the
// tier asked for, fed by the recording's replay port and checked against its checkpoints,
// run to the recording's end or to an exact icount. `deja replay`, diff's sides and the
// tests build their replays here.

import { Machine, type ExitStatus } from '../machine/machine.js';
import type { Jit } from '../jit/jit.js';
import { RecordingError, type LogEvent } from '../record/format.js';
import { readRecording, type Recording } from '../record/reader.js';
import { Divergence, ReplayChecker, ReplayPort, endMismatch, runToEnd, type DivergenceReport } from '../record/replay.js';
import { replayConfig } from '../record/manifest.js';
import { hashesFor } from '../record/state-hash.js';
import type { DebugStops } from '../cpu/debug-stops.js';
import { restoreSnapshot, takeSnapshot, type Snapshot } from '../machine/snapshot.js';
import { initZstd } from '../record/zstd.js';
import { UserError, ExitCode } from '../errors.js';
import { runTo, runToIcount } from './run-to.js';
import { attachTier, INTERP, type AttachOptions, type TierSettings } from './tier.js';

type End = Extract<LogEvent, { kind: 'end' }>;

/**
 * Reads a recording; a bad one is a one-line user error (exit 3). `needsEnd` names a command
 * that cannot use a truncated recording (diff, bisect, fuzz compare how replays end): that
 * is refused too, rather than compared up to where the file stops.
 */
export async function loadRecording(file: string, needsEnd?: string): Promise<Recording> {
  await initZstd();
  let rec: Recording;
  try {
    rec = readRecording(file);
  } catch (e) {
    if (e instanceof RecordingError) throw new UserError(e.message, ExitCode.BadInput);
    throw e;
  }
  if (needsEnd && rec.truncated) {
    throw new UserError(`${file}: recording is truncated at icount ${rec.truncatedAt} (${rec.truncated}); ${needsEnd} needs a whole recording (deja replay checks this one up to where it ends)`, ExitCode.BadInput);
  }
  return rec;
}

/**
 * Refuses an icount outside the recording (exit 2): before a trimmed recording's start or
 * past its end. `what` names it for the message (an option, or N).
 */
export function checkIcount(rec: Recording, icount: number, what: string): void {
  const start = rec.header.start?.icount ?? 0;
  const end = recordingEnd(rec).icount;
  if (icount < start) throw new UserError(`${what} ${icount}: before the start of ${rec.path} (a trimmed recording: it starts at icount ${start})`, ExitCode.Usage);
  if (icount > end) throw new UserError(`${what} ${icount}: beyond the end of ${rec.path} (icount ${end}${rec.truncated ? ', where it is truncated' : ''})`, ExitCode.Usage);
}

/** The recording's end record (null: a killed recorder's file has none) and the icount where it ends (else its last event's). */
export function recordingEnd(rec: { events: LogEvent[]; header: { start?: { icount: number } } }): { end: End | null; icount: number } {
  const events = rec.events;
  const end = (events.find((e) => e.kind === 'end') as End | undefined) ?? null;
  // A file with no events (a killed recorder's) ends where it starts.
  return { end, icount: end ? end.icount : events.length ? events[events.length - 1].icount : (rec.header.start?.icount ?? 0) };
}

export interface SessionOptions extends AttachOptions {
  /** Where to find images the recording does not embed. */
  images?: string;
  /** Check checkpoints (default); inputs are checked either way. */
  verify?: boolean;
  /** Reports checkpoint mismatches, and the replay goes on (diff); without it the first one stops the replay. */
  onMismatch?: (r: DivergenceReport) => void;
  /** Every guest console byte. */
  console?: (byte: number) => void;
  /** A debugger's breakpoints and watchpoints (the gdb stub's), put on the hart before its tier. */
  debug?: DebugStops;
}

export interface ReplayResult {
  exit: ExitStatus;
  icount: number;
  pc: number;
  /** Host seconds the replay took, by the `now` clock given (0 without one). */
  seconds: number;
  /** Checkpoints verified (from icount 0). */
  checkpoints: number;
  divergence: DivergenceReport | null;
}

export class ReplaySession {
  readonly machine: Machine;
  readonly port: ReplayPort;
  readonly jit: Jit | null;
  readonly checker: ReplayChecker | null;
  readonly end: End | null;
  /** Where the recording ends: its end record's icount, or (truncated) its last event's. */
  readonly stopAt: number;
  private readonly now: () => number;
  /** The checkpoints short of the end, where the run loop stops (checked or not) and replays are sliced. */
  private readonly stops: number[];

  constructor(
    readonly rec: Recording,
    readonly tier: TierSettings = INTERP,
    o: SessionOptions = {},
  ) {
    this.port = new ReplayPort(rec.events);
    const machine = (this.machine = new Machine(replayConfig(rec, o.images), this.port));
    if (o.debug) machine.hart.attachDebugger(o.debug);
    this.jit = attachTier(machine, tier, o);
    const checker = (this.checker = o.verify === false ? null : new ReplayChecker(machine, rec.events, this.port, o.onMismatch ?? null, hashesFor(rec)));
    machine.consoleSink = (b) => {
      o.console?.(b);
      checker?.onConsole(b);
    };
    ({ end: this.end, icount: this.stopAt } = recordingEnd(rec));
    this.stops = rec.events.filter((e) => e.kind === 'checkpoint' && e.icount < this.stopAt).map((e) => e.icount);
    if (!checker) {
      // Without checkpoint checks, inputs are still checked (passed, or stuck behind), and the
      // run loop stops at the checkpoints as a checked replay's does, so the JIT compiles the
      // same units and `replayUntilStopped` slices it alike.
      machine.boundaryHook = (m) => this.port.check(m.hart.icount);
      machine.checkpointHook = (m) => this.nextStop(m.hart.icount);
      machine.nextCheckpoint = this.nextStop(machine.hart.icount - 1);
    }
    if (rec.start) {
      try {
        this.restore([rec.start]);
      } catch (e) {
        throw new UserError(`${rec.path}: its starting state does not fit its machine (${(e as Error).message}; corrupt data)`, ExitCode.BadInput);
      }
    }
    this.now = o.now ?? (() => 0);
  }

  /**
   * Puts the machine where the chain's last snapshot was taken (a snapshot of a checked
   * replay of this recording) and the replay port and checker with it; `replay` goes on from
   * there. Call it before replaying anything.
   */
  restore(chain: readonly Snapshot[]): void {
    const s = chain[chain.length - 1];
    restoreSnapshot(this.machine, chain);
    this.jit?.reset(); // counts from the restored icount, as a JIT made there would
    this.port.seek(s.icount);
    if (this.checker && s.log) this.checker.resume(s.icount, s.log.console);
    if (!this.checker) this.machine.nextCheckpoint = this.nextStop(s.icount);
    this.port.lastGood = s.icount; // a report's window starts here, not at an earlier checkpoint
  }

  /**
   * The machine where the replay stands, as a snapshot `restore` takes back, with the console
   * log a checked replay keeps (a replay resumed there checks the console on from it).
   */
  snapshot(): Snapshot {
    if (!this.checker) throw new Error('snapshots are taken by checked replays');
    return { ...takeSnapshot(this.machine), log: { console: this.checker.console.save() } };
  }

  /**
   * Replays on to the recording's end, taking a snapshot at every multiple of `every` short
   * of it (`deja index`). A snapshot is handed to `add` once a checkpoint after it (or the
   * end) has matched: one taken after the last good checkpoint of a replay that diverges is
   * dropped, so no snapshot holds a state the recording does not vouch for. It replays as
   * `replayUntilStopped` does, giving the event loop a turn at every checkpoint and snapshot:
   * once `stopped()` says so, it returns there (`interrupted`).
   */
  async replayTakingSnapshots(every: number, add: (s: Snapshot) => void, stopped: () => boolean = () => false): Promise<ReplayResult & { interrupted: boolean }> {
    const held: Snapshot[] = [];
    const settle = (upTo: number) => {
      while (held.length && held[0].icount <= upTo) add(held.shift()!);
    };
    for (let at = (Math.floor(this.machine.hart.icount / every) + 1) * every; at < this.stopAt; at += every) {
      const r = await this.replayUntilStopped(at, stopped);
      if (r.divergence || r.interrupted) return r;
      settle(this.port.lastGood);
      held.push(this.snapshot());
      await new Promise((resolve) => setImmediate(resolve));
      if (stopped()) return { ...r, interrupted: true };
    }
    const r = await this.replayUntilStopped(this.stopAt, stopped);
    if (r.interrupted) return r;
    if (!r.divergence) settle(Infinity);
    else settle(this.port.lastGood);
    return r;
  }

  /**
   * Replays on to the recording's end, or to exactly icount `to` (at most the end), checking
   * the checkpoints on the way. At the end, how and where the run ended and the inputs it
   * left are checked too. Short of the end, it stops before the inputs due at `to`
   * (runToIcount), and checks that the guest is still running there.
   */
  replay(to: number = this.stopAt): ReplayResult {
    const m = this.machine;
    if (!(to >= m.hart.icount && to <= this.stopAt)) throw new UserError(`${this.rec.path}: icount ${to} is not between the replay's ${m.hart.icount} and the recording's end ${this.stopAt}`, ExitCode.Usage);
    const t0 = this.now();
    let divergence: DivergenceReport | null = null;
    let exit: ExitStatus;
    try {
      const what = to === this.stopAt ? this.toEnd() : this.toIcount(to);
      exit = m.exit ?? { reason: to === this.stopAt && this.end?.reason === 'stop' ? 'stop' : 'limit', code: 0 };
      if (what) throw new Divergence({ icount: m.hart.icount, since: this.port.lastGood, what });
    } catch (e) {
      if (!(e instanceof Divergence)) throw e;
      divergence = e.report;
      exit = m.exit ?? { reason: 'stop', code: 0 };
    }
    return { exit, icount: m.hart.icount, pc: m.hart.pc >>> 0, seconds: (this.now() - t0) / 1000, checkpoints: this.checker?.checked ?? 0, divergence };
  }

  /**
   * `replay(to)` in slices that end at the recording's checkpoints, where the run loop stops
   * anyway (so every tier runs as in one piece), giving the event loop a turn between two:
   * once `stopped()` says so, it returns where it stands (`interrupted`).
   */
  async replayUntilStopped(to: number, stopped: () => boolean): Promise<ReplayResult & { interrupted: boolean }> {
    const at = this.stops.filter((c) => c > this.machine.hart.icount && c < to);
    let seconds = 0;
    for (const c of at) {
      const r = this.replay(c);
      seconds += r.seconds;
      if (r.divergence || this.machine.exit) return { ...r, seconds, interrupted: false };
      await new Promise((resolve) => setImmediate(resolve));
      if (stopped()) return { ...r, seconds, interrupted: true };
    }
    const r = this.replay(to);
    return { ...r, seconds: seconds + r.seconds, interrupted: false };
  }

  /** The first checkpoint stop after icount `at` (Infinity: none). */
  private nextStop(at: number): number {
    return this.stops.find((c) => c > at) ?? Infinity;
  }

  /** Runs to the recording's end; how the run differs from its end record, or null. */
  private toEnd(): string | null {
    const m = this.machine;
    runToEnd(m, this.stopAt, this.end, (limit) => runTo(m, limit));
    this.checker?.finish(m);
    return endMismatch(m, this.rec.events, this.port, this.checker !== null);
  }

  /** Runs to `to`, short of the end; null if the guest is there and still running, as recorded. */
  private toIcount(to: number): string | null {
    const m = this.machine;
    runToIcount(m, to);
    // An exit before the recording's end: endMismatch says how the two ends differ.
    if (m.exit) return endMismatch(m, this.rec.events, this.port, false);
    return m.hart.icount === to ? null : `the replay stopped at icount ${m.hart.icount}, short of icount ${to}`;
  }
}

/** Replays a recording in this process, from its start to its end or to exactly icount `to`. */
export function replayRecording(rec: Recording, o: SessionOptions & { tier?: TierSettings; to?: number } = {}): ReplayResult {
  return new ReplaySession(rec, o.tier, o).replay(o.to);
}
