// Replay: serves the logged inputs at their icounts, checks every checkpoint, and stops at
// the first mismatch with a report (DESIGN.md, Replay). Asking for an input the log does
// not have at that point, or passing one the guest never asked for, is a divergence too.

import type { IdleAnswer, InputPort } from './input-port.js';
import type { LogEvent } from './format.js';
import { formatExit, type Machine } from '../machine/machine.js';
import { CURRENT_HASHES, ConsoleLog, archState, type CheckpointHashes, type ConsoleState, type MemoryHash } from './state-hash.js';

type InputEvent = Extract<LogEvent, { kind: 'uart-rx' | 'rtc' | 'idle' }>;
type Checkpoint = Extract<LogEvent, { kind: 'checkpoint' }>;
type End = Extract<LogEvent, { kind: 'end' }>;

export interface DivergenceReport {
  icount: number;
  /** The last checkpoint that matched (icount), so the divergence lies in (since, icount]. */
  since: number;
  what: string;
  pc?: { expected: number; actual: number };
  priv?: { expected: number; actual: number };
  console?: { offset: number; expected: string; actual: string };
  state?: Record<string, number>;
  /** Physical addresses of the RAM pages whose contents differ. */
  pages?: number[];
}

/** The pages written in one interval whose bytes differ, or that only one side wrote. */
function differingPages(expected: MemoryHash, actual: MemoryHash): number[] {
  const a = new Map(actual.pages);
  const out = new Set<number>();
  for (const [p, h] of expected.pages) if (a.get(p) !== h) out.add(p);
  const e = new Set(expected.pages.map(([p]) => p));
  for (const [p] of actual.pages) if (!e.has(p)) out.add(p);
  return [...out].sort((x, y) => x - y);
}

export class Divergence extends Error {
  constructor(readonly report: DivergenceReport) {
    super(report.what);
  }
}

const an = (kind: string) => (/^[aeio]/.test(kind) ? 'an ' : 'a ') + kind;

/** Loop boundaries at one icount without taking the input due there before it is a divergence. */
const STUCK_LIMIT = 100_000;

export class ReplayPort implements InputPort {
  private inputs: InputEvent[];
  private next = 0;
  /** Index of the next uart-rx input (at or after `next`). */
  private nextRx = 0;
  /** Icount of the last checkpoint that matched. */
  lastGood = 0;
  /** Where the recording ends: its end record, or (truncated) its last event. */
  private readonly endIcount: number;
  /**
   * The recorded run ended where the host, not the guest, ended it (stop, limit, or a
   * killed recorder): the live run's last turn there is replayed as it happened.
   */
  private readonly openEnd: boolean;
  /** The recorded run ended because no input could arrive any more (the live port said "never"). */
  private readonly inputGone: boolean;
  private lastTaken = -1;

  constructor(events: LogEvent[]) {
    this.inputs = events.filter((e): e is InputEvent => e.kind === 'uart-rx' || e.kind === 'rtc' || e.kind === 'idle');
    const end = events.find((e) => e.kind === 'end') as End | undefined;
    this.endIcount = end ? end.icount : events.length ? events[events.length - 1].icount : 0;
    this.openEnd = !end || end.reason === 'stop' || end.reason === 'limit';
    this.inputGone = end?.reason === 'idle-forever' || end?.reason === 'input-ended';
  }

  /**
   * Replay is not live, except at the very end of a run the host ended: a live machine
   * returns to the host after an idle period, and that is where the recorder stopped it.
   */
  get live(): boolean {
    return this.openEnd && this.next >= this.inputs.length && this.lastTaken >= this.endIcount;
  }

  private peek(): InputEvent | undefined {
    return this.inputs[this.next];
  }

  private stuckIcount = -1;
  private stuckNext = -1;
  private stuckCount = 0;

  /**
   * Called at every loop boundary: an input left behind is a divergence. So is a machine
   * that keeps coming back to the icount of an input it does not take (a console input due
   * behind an rtc or idle input the diverged guest never asks for), instead of spinning.
   */
  check(icount: number): void {
    const e = this.peek();
    if (e && e.icount < icount) {
      throw new Divergence({ icount, since: this.lastGood, what: `the recording has ${an(e.kind)} input at icount ${e.icount} that the replay passed without taking` });
    }
    if (icount !== this.stuckIcount || this.next !== this.stuckNext) {
      this.stuckIcount = icount;
      this.stuckNext = this.next;
      this.stuckCount = 0;
    } else if (++this.stuckCount > STUCK_LIMIT && e) {
      throw new Divergence({ icount, since: this.lastGood, what: `the replay is stuck at icount ${icount}: the recording has ${an(e.kind)} input here that the guest does not take` });
    }
  }

  /**
   * The icount of the next console input: the machine stops there so the boundary can
   * deliver it. Only uart-rx is pushed; an rtc or idle input is taken when the guest asks
   * (an MMIO read, a wfi), so stopping the machine at its icount would stop it for good.
   */
  nextPushIcount(): number {
    if (this.nextRx < this.next) this.nextRx = this.next;
    while (this.nextRx < this.inputs.length && this.inputs[this.nextRx].kind !== 'uart-rx') this.nextRx++;
    const e = this.inputs[this.nextRx];
    return e ? e.icount : Infinity;
  }

  private take(kind: InputEvent['kind'], icount: number): InputEvent {
    const e = this.peek();
    if (!e || e.icount !== icount || e.kind !== kind) {
      const has = e ? `${e.kind} at icount ${e.icount}` : 'no more inputs';
      throw new Divergence({ icount, since: this.lastGood, what: `the guest asked for ${kind} at icount ${icount}; the recording has ${has}` });
    }
    this.next++;
    this.lastTaken = icount;
    return e;
  }

  takeConsoleInput(icount: number): number[] {
    const e = this.peek();
    if (!e || e.kind !== 'uart-rx' || e.icount !== icount) return [];
    this.next++;
    this.lastTaken = icount;
    return e.bytes;
  }

  rtcNanos(icount: number): number {
    return (this.take('rtc', icount) as Extract<InputEvent, { kind: 'rtc' }>).nanos;
  }

  idle(icount: number): IdleAnswer {
    // The live run idled here with nothing to wait for and was ended by the host: the
    // answer it got, "wait for the host", was not logged.
    if (this.openEnd && !this.peek() && icount >= this.endIcount) return 'wait';
    // The live run ended here: its port said no input could come any more (I3: the end
    // record carries that answer).
    if (this.inputGone && !this.peek() && icount >= this.endIcount) return 'never';
    return (this.take('idle', icount) as Extract<InputEvent, { kind: 'idle' }>).ticks;
  }

  /**
   * Positions the port for a machine whose state is that of the replay at `icount`, before
   * the inputs due there (a restored snapshot): the next input served is the first logged
   * at or after `icount`, and those before it count as taken. The state at `icount` is
   * taken as the recording's, so a divergence found later lies after it (lastGood).
   */
  seek(icount: number): void {
    let lo = 0, hi = this.inputs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.inputs[mid].icount < icount) lo = mid + 1;
      else hi = mid;
    }
    this.next = this.nextRx = lo;
    this.lastTaken = lo > 0 ? this.inputs[lo - 1].icount : -1;
    this.lastGood = icount;
    this.stuckIcount = this.stuckNext = -1;
    this.stuckCount = 0;
  }

  inputClosed(): boolean {
    return this.next >= this.inputs.length;
  }

  remaining(): number {
    return this.inputs.length - this.next;
  }

  /** Inputs not taken whose icount is before `icount`. */
  remainingBefore(icount: number): number {
    let n = 0;
    for (let i = this.next; i < this.inputs.length && this.inputs[i].icount < icount; i++) n++;
    return n;
  }
}

/** Checks the machine against the recording's checkpoints as it reaches them. */
export class ReplayChecker {
  readonly console = new ConsoleLog();
  /** Checkpoints checked at loop boundaries, as the recorder took them. */
  private readonly checkpoints: Checkpoint[];
  /** The recorder's last checkpoint, taken when the run was over: checked by `finish`. */
  private final: Checkpoint | null;
  private next = 0;
  /** Console bytes the recording had, up to the last checkpoint checked. */
  private expectedConsole: number[] = [];
  private actualConsole: number[] = [];
  readonly end: End | null;
  checked = 0;
  /** Checkpoints in the recording, the final one included. */
  readonly total: number;
  /** Called with each checkpoint's icount before it is checked (`deja diff` observes there). */
  onCheckpoint: ((icount: number) => void) | null = null;
  private failed = false;

  /**
   * `onMismatch` null: the first mismatch throws a Divergence (`deja replay`). Otherwise
   * mismatches are reported to it and the replay goes on (`deja diff` runs a side to its end).
   */
  constructor(
    private readonly machine: Machine,
    events: LogEvent[],
    private readonly port: ReplayPort,
    private readonly onMismatch: ((r: DivergenceReport) => void) | null = null,
    private readonly hashes: CheckpointHashes = CURRENT_HASHES,
  ) {
    const last = events[events.length - 1], prev = events[events.length - 2];
    this.final = last?.kind === 'end' && prev?.kind === 'checkpoint' && prev.icount === last.icount ? prev : null;
    this.checkpoints = events.filter((e): e is Checkpoint => e.kind === 'checkpoint' && e !== this.final);
    this.end = (events.find((e) => e.kind === 'end') as End | undefined) ?? null;
    this.total = this.checkpoints.length + (this.final ? 1 : 0);
    const first = this.checkpoints[0];
    machine.nextCheckpoint = first ? first.icount : Infinity;
    machine.checkpointHook = (m) => this.check(m);
    machine.boundaryHook = (m) => port.check(m.hart.icount);
  }

  /**
   * Goes on from a machine restored to icount `at` (a snapshot taken by a replay checked up
   * to there): the checkpoints after `at` are checked, the console log as it stood.
   */
  resume(at: number, console: ConsoleState): void {
    while (this.next < this.checkpoints.length && this.checkpoints[this.next].icount <= at) this.port.lastGood = this.checkpoints[this.next++].icount;
    this.console.restore(console);
    this.actualConsole = [...console.pending];
    const n = this.checkpoints[this.next];
    this.machine.nextCheckpoint = n ? n.icount : Infinity;
  }

  onConsole(b: number): void {
    this.console.push(b);
    this.actualConsole.push(b);
  }

  /** Checks the checkpoints due now (several may share an icount); returns the next one's icount. */
  check(m: Machine): number {
    const at = m.hart.icount;
    while (this.next < this.checkpoints.length && this.checkpoints[this.next].icount <= at) {
      const c = this.checkpoints[this.next++];
      this.onCheckpoint?.(c.icount);
      // The log keeps the bytes since the last checkpoint, as the recorder's does: a snapshot
      // taken here resumes with the next checkpoint's bytes lined up behind them.
      this.console.take();
      if (c.icount < at) {
        this.mismatch({ icount: at, since: this.port.lastGood, what: `the replay ran past the checkpoint at icount ${c.icount} (to ${at}) without stopping there`, state: archState(m) });
      } else this.compare(m, c);
    }
    const n = this.checkpoints[this.next];
    return n ? n.icount : Infinity;
  }

  /** Icounts of the checkpoints checked at loop boundaries. */
  icounts(): number[] {
    return this.checkpoints.map((c) => c.icount);
  }

  private mismatch(r: DivergenceReport): void {
    if (!this.onMismatch) throw new Divergence(r);
    this.failed = true;
    this.onMismatch(r);
  }

  /**
   * Checks the recorder's final checkpoint, once the replay has run to the end: the
   * recorder took it after the run loop returned, so it is compared there too.
   */
  finish(m: Machine): void {
    this.check(m);
    const f = this.final;
    if (!f) return;
    this.final = null;
    // Ended elsewhere: the caller reports that against the end record.
    if (m.hart.icount === f.icount) this.compare(m, f);
  }

  private compare(m: Machine, c: Checkpoint): void {
    this.expectedConsole.push(...c.console);
    const pc = m.hart.pc >>> 0;
    const hash = this.hashes.state(m);
    const consoleOk = this.console.hash === c.consoleHash;
    const devicesOk = c.deviceHash === undefined || this.hashes.devices(m) === c.deviceHash;
    // Taken at every checkpoint, matching or not: it starts the next interval's pages.
    const memory = this.hashes.memory(m);
    const memoryOk = !c.memory || !memory || memory.hash === c.memory.hash;
    if (hash === c.stateHash && consoleOk && devicesOk && memoryOk) {
      if (!this.failed) this.port.lastGood = c.icount;
      this.checked++;
      return;
    }
    const r: DivergenceReport = { icount: c.icount, since: this.port.lastGood, what: '', state: archState(m) };
    const parts: string[] = [];
    if (pc !== c.pc) {
      r.pc = { expected: c.pc, actual: pc };
      parts.push('pc');
    }
    if (m.hart.priv !== c.priv) {
      r.priv = { expected: c.priv, actual: m.hart.priv };
      parts.push('privilege');
    }
    if (hash !== c.stateHash && parts.length === 0) parts.push('architectural state (registers/CSRs)');
    if (!devicesOk) parts.push('device registers (UART, PLIC, CLINT, RTC or virtio)');
    if (!memoryOk) {
      r.pages = differingPages(c.memory!, memory!).map((p) => m.mem.paOf(p * 4096));
      const shown = r.pages.slice(0, 8).map((pa) => `0x${pa.toString(16)}`).join(', ');
      parts.push(r.pages.length ? `memory written since the last checkpoint (${r.pages.length} page${r.pages.length === 1 ? '' : 's'}: ${shown}${r.pages.length > 8 ? ', …' : ''})` : 'disk sectors written since the last checkpoint');
    }
    if (!consoleOk) {
      const e = this.expectedConsole, a = this.actualConsole;
      let i = 0;
      while (i < e.length && i < a.length && e[i] === a[i]) i++;
      const text = (b: number[]) => Buffer.from(b.slice(Math.max(0, i - 20), i + 40)).toString('latin1');
      r.console = { offset: i, expected: text(e), actual: text(a) };
      parts.push('console output');
    }
    r.what = `checkpoint at icount ${c.icount} differs: ${parts.join(', ')}`;
    this.mismatch(r);
  }
}

/**
 * Runs a replay to `stopAt`, the recording's end. A trap loop ends without retiring
 * anything more, so its traps are taken at that icount too (a guest that is not stuck
 * retires an instruction there, and `endMismatch` reports it). `run` is the caller's way
 * of running the machine to a limit.
 */
export function runToEnd(m: Machine, stopAt: number, end: End | null, run: (limit: number) => void): void {
  run(stopAt);
  if (end?.reason === 'trap-loop' && !m.exit && m.hart.icount === stopAt) run(stopAt + 1);
}

/**
 * How a replay that has run to the end differs from the recording's end (reason, code,
 * icount, inputs left over), or null. `checkInputs` false skips the leftover-input check.
 */
export function endMismatch(m: Machine, events: LogEvent[], port: ReplayPort, checkInputs = true): string | null {
  const end = (events.find((e) => e.kind === 'end') as End | undefined) ?? null;
  const last = events.length ? events[events.length - 1].icount : 0;
  const stopAt = end ? end.icount : last;
  const ic = m.hart.icount;
  const exit = m.exit ?? { reason: end?.reason === 'stop' ? 'stop' : 'limit', code: 0 };
  if (end && (ic !== end.icount || exit.reason !== end.reason || exit.code !== end.code)) {
    return `the recording ended with ${formatExit(end)} at icount ${end.icount}; the replay ended with ${formatExit(exit)} at icount ${ic}`;
  }
  if (!end && m.exit && ic < stopAt) {
    return `the replay ended with ${formatExit(m.exit)} at icount ${ic}; the recording goes on to icount ${stopAt}`;
  }
  // A truncated recording stops at its last event: an input logged at that very icount
  // (an RTC read by the instruction there) is one the guest has not reached yet.
  const unused = end ? port.remaining() : port.remainingBefore(stopAt);
  if (checkInputs && unused > 0) return `${unused} recorded inputs were never used`;
  return null;
}
