// Recording: a port that passes host inputs through and logs each as (icount, kind,
// value), plus checkpoints at fixed icounts and an end record (DESIGN.md, Recording).

import type { IdleAnswer, InputPort, LivePort } from './input-port.js';
import type { EventWriter } from './writer.js';
import type { LogEvent } from './format.js';
import type { Machine, ExitStatus } from '../machine/machine.js';
import { CURRENT_HASHES, ConsoleLog } from './state-hash.js';

export class RecordingPort implements InputPort {
  readonly live = true;

  constructor(
    private readonly inner: LivePort,
    /** Where inputs are logged; null until `attach` (then they pass through unlogged). */
    private writer: EventWriter | null = null,
  ) {}

  /** Inputs passed through before `attach` (none may be: they would be missing from the log). */
  private unlogged = 0;

  /** Starts logging to `w`: a run builds its machine before it opens the file, so a bad image leaves none. */
  attach(w: EventWriter): void {
    if (this.unlogged > 0) throw new Error(`the recording port passed ${this.unlogged} inputs before its writer was attached`);
    this.writer = w;
  }

  private log(e: LogEvent): void {
    if (this.writer) this.writer.add(e);
    else this.unlogged++;
  }

  nextPushIcount(): number {
    return this.inner.nextPushIcount();
  }

  takeConsoleInput(icount: number, room: number): number[] {
    const bytes = this.inner.takeConsoleInput(icount, room);
    if (bytes.length) this.log({ kind: 'uart-rx', icount, bytes });
    return bytes;
  }

  rtcNanos(icount: number): number {
    const nanos = this.inner.rtcNanos();
    this.log({ kind: 'rtc', icount, nanos });
    return nanos;
  }

  idle(icount: number, untilDeadline: number): IdleAnswer {
    const a = this.inner.idle(icount, untilDeadline);
    // 'wait' and 'never' are not logged: a replay meets the first again where the host
    // ended the run, and the second is the end record's reason.
    if (typeof a === 'number') this.log({ kind: 'idle', icount, ticks: a });
    return a;
  }

  inputClosed(): boolean {
    return this.inner.inputClosed();
  }
}

/** Takes checkpoints every `every` instructions and writes the end record. */
export class Recorder {
  readonly console = new ConsoleLog();

  private nextCheckpoint: number;
  private readonly marks: { every: number; next: number; at: (m: Machine) => void }[] = [];

  constructor(
    private readonly machine: Machine,
    private readonly writer: EventWriter,
    private readonly every: number,
  ) {
    this.nextCheckpoint = every;
    machine.checkpointHook = (m) => this.boundary(m);
    machine.nextCheckpoint = every;
  }

  /**
   * Runs `at` at every multiple of `every` instructions, where checkpoints are taken: at the
   * loop boundary there, after a checkpoint due then, before the inputs due then (where a
   * replay stopped at that icount stands: snapshots are taken there).
   */
  addMark(every: number, at: (m: Machine) => void): void {
    const next = (Math.floor(this.machine.hart.icount / every) + 1) * every;
    this.marks.push({ every, next, at });
    this.machine.nextCheckpoint = Math.min(this.machine.nextCheckpoint, next);
  }

  private boundary(m: Machine): number {
    const ic = m.hart.icount;
    if (ic >= this.nextCheckpoint) {
      this.checkpoint(m);
      this.nextCheckpoint = ic + this.every;
    }
    let next = this.nextCheckpoint;
    for (const k of this.marks) {
      if (ic >= k.next) {
        k.at(m);
        k.next = (Math.floor(ic / k.every) + 1) * k.every;
      }
      next = Math.min(next, k.next);
    }
    return next;
  }

  private readonly hashes = CURRENT_HASHES;

  private checkpoint(m: Machine): void {
    this.writer.add({
      kind: 'checkpoint',
      icount: m.hart.icount,
      pc: m.hart.pc >>> 0,
      priv: m.hart.priv,
      stateHash: this.hashes.state(m),
      consoleHash: this.console.hash,
      console: this.console.take(),
      deviceHash: this.hashes.devices(m),
      memory: this.hashes.memory(m) ?? undefined,
    });
  }

  finish(exit: ExitStatus): void {
    // A last checkpoint carries the console tail; then the end record.
    this.checkpoint(this.machine);
    this.writer.add({ kind: 'end', icount: this.machine.hart.icount, reason: exit.reason, code: exit.code, stateHash: this.hashes.state(this.machine) });
    this.writer.close();
  }
}
