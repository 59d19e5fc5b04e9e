// The flight recorder (`deja run --flight-recorder N`): keeps on disk what replays at least
// the last N instructions of a run, in two recordings that take turns. FILE is a whole
// recording from its start; every N instructions a new one, FILE.next, starts there with
// the whole machine (as `deja trim` writes it) and gets the same events from then on. At the
// next turn FILE.next becomes FILE and the older FILE goes. So FILE always starts at most
// 2N instructions back (at least N once the run is past N) and ends where the run is, and
// each file is append-only: a killed recorder leaves FILE replayable to its last chunk.

import { renameSync, rmSync } from 'node:fs';
import { fullSnapshot } from '../machine/snapshot.js';
import type { Machine } from '../machine/machine.js';
import type { LogEvent, RecordingHeader } from './format.js';
import { encodeSnapshot } from './snapshot-file.js';
import type { ConsoleState } from './state-hash.js';
import { RecordingWriter } from './writer.js';

type Embedded = ConstructorParameters<typeof RecordingWriter>[2];

export class FlightWriter {
  private cur: RecordingWriter;
  private next: RecordingWriter | null = null;
  /** Bytes written to files that have since been dropped. */
  private dropped = 0;
  /** The icount the file at `path` starts at. */
  startIcount = 0;
  turns = 0;

  constructor(
    readonly path: string,
    private readonly header: RecordingHeader,
    embedded: Embedded,
    /** The disks to embed in the later files (the firmware and kernel are never needed there). */
    private readonly diskImages: Embedded,
  ) {
    this.cur = new RecordingWriter(path, header, embedded);
  }

  get nextPath(): string {
    return `${this.path}.next`;
  }

  /** At a mark (every N instructions): FILE.next becomes FILE, and a new FILE.next starts here. */
  turn(m: Machine, console: ConsoleState, identity: { name: string; identity: string }): void {
    if (this.next) {
      this.dropped += this.cur.bytesWritten;
      this.cur.close();
      renameSync(this.nextPath, this.path); // the open descriptor follows the file
      this.cur = this.next;
      this.startIcount = this.nextStart;
    }
    const state = { ...fullSnapshot(m), log: { console } };
    const images = this.header.images.filter((i) => i.role === 'disk');
    const header: RecordingHeader = { ...this.header, images, start: { icount: m.hart.icount, from: identity } };
    this.next = new RecordingWriter(this.nextPath, header, this.diskImages, encodeSnapshot(state));
    this.nextStart = m.hart.icount;
    this.turns++;
  }

  private nextStart = 0;

  add(e: LogEvent): void {
    this.cur.add(e);
    this.next?.add(e);
  }

  maybeFlush(nowMs: number): void {
    this.cur.maybeFlush(nowMs);
    this.next?.maybeFlush(nowMs);
  }

  flush(): void {
    this.cur.flush();
    this.next?.flush();
  }

  /** Closes both; FILE.next goes, FILE is the recording to keep. */
  close(): void {
    this.cur.close();
    if (this.next) {
      this.next.close();
      rmSync(this.nextPath, { force: true });
    }
  }

  /** Bytes in the files kept now. */
  get bytesWritten(): number {
    return this.cur.bytesWritten;
  }

  /** Bytes written in all, dropped files included. */
  get bytesTotal(): number {
    return this.dropped + this.cur.bytesWritten + (this.next?.bytesWritten ?? 0);
  }
}
