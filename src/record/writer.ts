// Writes a .deja file: append-only, flushed at least every second by the caller, so a
// recorder killed at any moment leaves a file that replays up to its last whole chunk.

import { closeSync, openSync, writeSync } from 'node:fs';
import { FRAME_CHUNK, FRAME_HEADER, FRAME_IMAGE, FRAME_STATE, MAGIC_LINE, encodeChunk, encodeHeader, encodeImage, frame, type LogEvent, type RecordingHeader } from './format.js';
import { fileError } from '../errors.js';

/** Buffered event bytes (about) that make the writer write a chunk at once. */
const MAX_PENDING_BYTES = 1024 * 1024;

/** What the recorder writes events to: a recording, or the flight recorder's pair of them. */
export type EventWriter = Pick<RecordingWriter, 'add' | 'maybeFlush' | 'flush' | 'close' | 'bytesWritten'>;

export class RecordingWriter {
  private fd: number;
  private events: LogEvent[] = [];
  /** Rough size of the buffered events once packed. */
  private pendingBytes = 0;
  private lastFlush = 0;
  bytesWritten = 0;

  constructor(
    readonly path: string,
    header: RecordingHeader,
    embedded: { role: string; name: string; sha256: string; bytes: Uint8Array }[],
    /** A trimmed recording's starting state, as a state frame body (snapshot-file.ts encodeSnapshot). */
    state?: Uint8Array,
  ) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw fileError(path, 'write recording', e);
    }
    this.write(new TextEncoder().encode(MAGIC_LINE));
    this.write(frame(FRAME_HEADER, encodeHeader(header)));
    for (const img of embedded) this.write(frame(FRAME_IMAGE, encodeImage(img, img.bytes)));
    if (state) this.write(frame(FRAME_STATE, state));
  }

  private write(b: Uint8Array): void {
    try {
      writeSync(this.fd, b);
    } catch (e) {
      throw fileError(this.path, 'write recording', e); // a full disk, say
    }
    this.bytesWritten += b.length;
  }

  add(e: LogEvent): void {
    this.events.push(e);
    this.pendingBytes += 24 + (e.kind === 'checkpoint' ? e.console.length : e.kind === 'uart-rx' ? e.bytes.length : 0);
    // Chunks stay small (the zstd module has a 16 MiB heap; readers bound chunk sizes).
    if (this.events.length >= 65536 || this.pendingBytes >= MAX_PENDING_BYTES) this.flush();
  }

  /** Writes buffered events as one chunk if `nowMs` is a second past the last flush. */
  maybeFlush(nowMs: number): void {
    if (nowMs - this.lastFlush >= 1000) {
      this.flush();
      this.lastFlush = nowMs;
    }
  }

  flush(): void {
    if (this.events.length === 0) return;
    this.write(frame(FRAME_CHUNK, encodeChunk(this.events)));
    this.events = [];
    this.pendingBytes = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
