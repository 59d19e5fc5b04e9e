// Recording: a port that passes host inputs through and logs each as (icount, kind,
// value), plus checkpoints at fixed icounts and an end record (DESIGN.md, Recording).

import type { IdleAnswer, InputPort, LivePort } from './input-port.js';
import type { RecordingWriter } from './writer.js';
import type { Machine, ExitStatus } from '../machine/machine.js';
import { CURRENT_HASHES, ConsoleLog } from './state-hash.js';

export class RecordingPort implements InputPort {
  readonly live = true;

  constructor(
    private readonly inner: LivePort,
    private readonly writer: RecordingWriter,
  ) {}

  nextPushIcount(): number {
    return this.inner.nextPushIcount();
  }

  takeConsoleInput(icount: number, room: number): number[] {
    const bytes = this.inner.takeConsoleInput(icount, room);
    if (bytes.length) this.writer.add({ kind: 'uart-rx', icount, bytes });
    return bytes;
  }

  rtcNanos(icount: number): number {
    const nanos = this.inner.rtcNanos();
    this.writer.add({ kind: 'rtc', icount, nanos });
    return nanos;
  }

  idle(icount: number, untilDeadline: number): IdleAnswer {
    const a = this.inner.idle(icount, untilDeadline);
    // 'wait' and 'never' are not logged: a replay meets the first again where the host
    // ended the run, and the second is the end record's reason.
    if (typeof a === 'number') this.writer.add({ kind: 'idle', icount, ticks: a });
    return a;
  }

  inputClosed(): boolean {
    return this.inner.inputClosed();
  }
}

/** Takes checkpoints every `every` instructions and writes the end record. */
export class Recorder {
  readonly console = new ConsoleLog();

  constructor(
    private readonly machine: Machine,
    private readonly writer: RecordingWriter,
    private readonly every: number,
  ) {
    machine.checkpointHook = (m) => {
      this.checkpoint(m);
      return m.hart.icount + every;
    };
    machine.nextCheckpoint = every;
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
