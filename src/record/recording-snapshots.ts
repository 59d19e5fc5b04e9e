// Snapshots taken while recording (`deja run --record FILE --snapshot-every N`), into
// FILE.snapshots: the ones `deja index FILE --every N` would take. Each is taken at a
// multiple of N, where the replay side stops for it (session/run-to.ts): at the start of the
// loop boundary there, after a checkpoint due then and before the inputs due then.

import type { Machine } from '../machine/machine.js';
import { takeSnapshot, type Snapshot } from '../machine/snapshot.js';
import type { SnapshotWriter } from './snapshot-file.js';
import type { ConsoleLog } from './state-hash.js';

export class RecordingSnapshots {
  private next: number;
  /**
   * The last snapshot taken, written once the run has gone past it: `deja index` takes none
   * where the recording ends (a run stopped or ended right at a multiple of N).
   */
  private held: Snapshot | null = null;

  /** Chains onto the machine's checkpoint hook (the recorder's): call after the Recorder is made. */
  constructor(
    private readonly machine: Machine,
    readonly writer: SnapshotWriter,
    private readonly every: number,
    private readonly console: ConsoleLog,
  ) {
    const hook = machine.checkpointHook;
    let due = machine.nextCheckpoint;
    this.next = every;
    machine.checkpointHook = (m) => {
      if (hook && m.hart.icount >= due) due = hook(m);
      if (m.hart.icount >= this.next) this.take(m);
      return Math.min(due, this.next);
    };
    machine.nextCheckpoint = Math.min(due, every);
  }

  private take(m: Machine): void {
    this.settle();
    this.held = { ...takeSnapshot(m), log: { console: this.console.save() } };
    this.next = (Math.floor(m.hart.icount / this.every) + 1) * this.every;
  }

  /** Writes the held snapshot once the run has gone past it (call between run steps). */
  settle(): void {
    if (this.held && this.machine.hart.icount > this.held.icount) {
      this.writer.add(this.held);
      this.held = null;
    }
  }

  /** At the end of the run: a snapshot where it ended is dropped. */
  close(): void {
    this.settle();
    this.writer.close();
  }
}
