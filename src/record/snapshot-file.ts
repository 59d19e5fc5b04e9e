// The snapshot file beside a recording (FILE.snapshots): a magic line, then frames as in a
// recording (length, crc32, type, body):
//
//   type 1  header:   msgpack { recording: sha256 of the recording's header frame, every, deja }
//   type 4  snapshot: u32 raw length | zstd(msgpack(Snapshot))
//
// Snapshots are in icount order, each holding the RAM pages written since the one before
// (src/machine/snapshot.ts). Append-only, so a writer killed mid-way leaves a file whose
// whole frames are usable. Reading it is reading untrusted input, as for recordings.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { pack, unpack } from 'msgpackr';
import { FRAME_HEADER, RecordingError, crc32, frame, packCompressed } from './format.js';
import { zstdContentSize, zstdDecompress } from './zstd.js';
import type { Snapshot } from '../machine/snapshot.js';
import { fileError, fsErrorWords } from '../errors.js';

export const SNAPSHOT_MAGIC_LINE = 'deja-snapshots 1\n';
const FRAME_SNAPSHOT = 4;
/** Largest snapshot accepted, uncompressed: all of the largest RAM, and its registers. */
const MAX_SNAPSHOT_RAW = 2 * 1024 ** 3 + 64 * 1024 ** 2;
const MAX_HEADER = 64 * 1024;
const MAX_ROM = 1024 * 1024;

export interface SnapshotFileHeader {
  /** The recording's identity (Recording.identity). */
  recording: string;
  /** Instructions between snapshots, as asked for. */
  every: number;
  deja: string;
}

/** A recording's identity (Recording.identity): the sha256 of its header frame's body. */
export function recordingIdentity(headerBody: Uint8Array): string {
  return createHash('sha256').update(headerBody).digest('hex');
}

/** Where a recording's snapshots go. */
export function snapshotPath(recording: string): string {
  return `${recording}.snapshots`;
}

const MAGIC = new TextEncoder().encode(SNAPSHOT_MAGIC_LINE);
const startsWithMagic = (b: Uint8Array) => b.length >= MAGIC.length && MAGIC.every((x, i) => b[i] === x);

/**
 * Removes the snapshots beside a recording that is being replaced: they name the old one. A
 * file there that is not a snapshot file is left alone (a replay then says what it is).
 */
export function dropSnapshotsOf(recording: string): void {
  const path = snapshotPath(recording);
  const head = new Uint8Array(MAGIC.length);
  try {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    if (startsWithMagic(head)) rmSync(path, { force: true });
  } catch {
    // none there, or out of reach: a replay says what is wrong with it
  }
}

export class SnapshotWriter {
  private readonly fd: number;
  bytesWritten = 0;
  count = 0;

  constructor(readonly path: string, header: SnapshotFileHeader) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw fileError(path, 'write snapshots', e);
    }
    this.write(new TextEncoder().encode(SNAPSHOT_MAGIC_LINE));
    this.write(frame(FRAME_HEADER, pack(header)));
  }

  add(s: Snapshot): void {
    // Its icount and page numbers ahead of the compressed part: a reader picks the
    // snapshots a restore needs without decompressing the rest.
    const enc = encodeSnapshot(s);
    // (A forged snapshot, as the fuzz writes, may have no page list: its frame then says none.)
    const pages = Array.isArray(s.pages) ? s.pages.map((e) => (Array.isArray(e) ? Number(e[0]) >>> 0 : 0)) : [];
    const body = new Uint8Array(12 + 4 * pages.length + enc.length);
    const dv = new DataView(body.buffer);
    dv.setUint32(0, Number(s.icount) % 2 ** 32, true);
    dv.setUint32(4, Math.floor(Number(s.icount) / 2 ** 32), true);
    dv.setUint32(8, pages.length, true);
    pages.forEach((p, i) => dv.setUint32(12 + 4 * i, p, true));
    body.set(enc, 12 + 4 * pages.length);
    this.write(frame(FRAME_SNAPSHOT, body));
    this.count++;
  }

  private write(b: Uint8Array): void {
    try {
      writeSync(this.fd, b);
    } catch (e) {
      throw fileError(this.path, 'write snapshots', e);
    }
    this.bytesWritten += b.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A snapshot in the file, not yet decoded. */
export interface SnapshotEntry {
  icount: number;
  /** The RAM pages it holds. */
  pages: Uint32Array;
  /** encodeSnapshot's bytes. */
  body: Uint8Array;
  /** Where it is, for messages. */
  at: string;
}

export class SnapshotFile {
  constructor(
    readonly path: string,
    readonly header: SnapshotFileHeader,
    readonly entries: SnapshotEntry[],
    /** What was cut off the end (a writer that did not finish), or null. */
    readonly truncated: string | null,
    private readonly ramPages: number,
    private readonly diskBytes = 0,
  ) {}

  /** Decodes one (RecordingError if its contents are malformed). */
  load(i: number): Snapshot {
    const e = this.entries[i];
    const s = decodeSnapshot(e.body, e.at, this.ramPages, this.diskBytes);
    if (s.icount !== e.icount || s.pages.length !== e.pages.length || s.pages.some(([p], k) => p !== e.pages[k])) {
      throw new RecordingError(`${e.at}: the snapshot does not match its frame's icount and page list (corrupt data)`);
    }
    return s;
  }

  /** All of them, decoded. */
  get snapshots(): Snapshot[] {
    return this.entries.map((_, i) => this.load(i));
  }

  /**
   * What restoring the last snapshot at or before `icount` needs, decoded, in order: that
   * snapshot, and each earlier one that holds a page no later one of the chain does (empty:
   * none is that early). Later pages replace earlier ones, so the rest are not read.
   */
  chainTo(icount: number): Snapshot[] {
    let k = -1;
    while (k + 1 < this.entries.length && this.entries[k + 1].icount <= icount) k++;
    if (k < 0) return [];
    const covered = new Uint8Array(this.ramPages);
    const need: number[] = [];
    for (let i = k; i >= 0; i--) {
      let fresh = i === k;
      for (const p of this.entries[i].pages) {
        if (!covered[p]) {
          covered[p] = 1;
          fresh = true;
        }
      }
      if (fresh) need.push(i);
    }
    return need.reverse().map((i) => this.load(i));
  }
}

/**
 * Reads the snapshots of `recording` (its identity and RAM size check them). Problems are
 * RecordingErrors naming the file; a missing file is null.
 */
export function readSnapshotFile(path: string, recording: SnapshotsOf): SnapshotFile | null {
  let buf: Uint8Array;
  try {
    // Not a device or a pipe, which could be read without end.
    const st = statSync(path);
    if (!st.isFile() && !st.isDirectory()) throw new RecordingError(`${path}: cannot read snapshots: not a regular file`);
    buf = new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof RecordingError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RecordingError(`${path}: cannot read snapshots: ${fsErrorWords(e)}`);
  }
  return parseSnapshotFile(buf, path, recording);
}

/** What a snapshot file is checked against: the recording it must belong to. */
type SnapshotsOf = { identity: string; header: { config: { ramBytes: number }; images?: { role: string; size: number }[] } };

/** The bytes of a recording's disks: a snapshot may hold as many in their overlays. */
export function diskBytesOf(rec: { header: { images?: { role: string; size: number }[] } }): number {
  return (rec.header.images ?? []).reduce((n, i) => n + (i.role === 'disk' ? i.size : 0), 0);
}

/** The snapshots in `buf`, the bytes of the snapshot file `path` of `recording` (as readSnapshotFile). */
export function parseSnapshotFile(buf: Uint8Array, path: string, recording: SnapshotsOf): SnapshotFile {
  if (!startsWithMagic(buf)) throw new RecordingError(`${path}: not a deja snapshot file (bad magic line)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = MAGIC.length;
  let header: SnapshotFileHeader | null = null;
  const entries: SnapshotEntry[] = [];
  let truncated: string | null = null;
  const pages = recording.header.config.ramBytes / 4096;
  while (p < buf.length) {
    const at = `${path}: frame at byte ${p}`;
    if (p + 9 > buf.length) {
      truncated = `file ends inside a frame header at byte ${p}`;
      break;
    }
    const len = dv.getUint32(p, true), crc = dv.getUint32(p + 4, true), type = buf[p + 8];
    if (type !== FRAME_HEADER && type !== FRAME_SNAPSHOT) throw new RecordingError(`${at}: unknown frame type ${type} (corrupt data)`);
    if (len > (type === FRAME_HEADER ? MAX_HEADER : MAX_SNAPSHOT_RAW)) throw new RecordingError(`${at}: frame length ${len} is absurd (corrupt data)`);
    if (p + 9 + len > buf.length) {
      truncated = `file ends inside a ${len}-byte frame at byte ${p}`;
      break;
    }
    const body = buf.subarray(p + 9, p + 9 + len);
    if (crc32(body) !== crc) throw new RecordingError(`${at}: checksum mismatch (corrupt data)`);
    if (type === FRAME_HEADER) {
      if (header) throw new RecordingError(`${at}: a second header`);
      header = decodeHeader(body, at);
      if (header.recording !== recording.identity) throw new RecordingError(`${path}: these snapshots belong to another recording (made from a different header)`);
    } else {
      if (!header) throw new RecordingError(`${at}: the first frame is not the header`);
      const e = entryOf(body, at, pages);
      if (entries.length && e.icount <= entries[entries.length - 1].icount) throw new RecordingError(`${at}: snapshots go back in time`);
      entries.push(e);
    }
    p += 9 + len;
  }
  if (!header) throw new RecordingError(`${path}: truncated before the end of its header`);
  return new SnapshotFile(path, header, entries, truncated, pages, diskBytesOf(recording));
}

/** A snapshot frame's icount and page list, its compressed part left as it is. */
function entryOf(body: Uint8Array, at: string, ramPages: number): SnapshotEntry {
  const bad = () => new RecordingError(`${at}: snapshot frame is malformed (corrupt data)`);
  if (body.length < 12) throw bad();
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const icount = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  const n = dv.getUint32(8, true);
  if (!Number.isSafeInteger(icount) || n > ramPages || 12 + 4 * n > body.length) throw bad();
  const pages = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    pages[i] = dv.getUint32(12 + 4 * i, true);
    if (pages[i] >= ramPages) throw bad();
  }
  return { icount, pages, body: body.subarray(12 + 4 * n), at };
}

function decodeHeader(body: Uint8Array, at: string): SnapshotFileHeader {
  let h: unknown;
  try {
    h = unpack(body);
  } catch {
    throw new RecordingError(`${at}: header is not valid msgpack`);
  }
  const o = h as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof o.recording !== 'string' || !Number.isSafeInteger(o.every) || typeof o.deja !== 'string') {
    throw new RecordingError(`${at}: header is malformed`);
  }
  return { recording: o.recording, every: o.every as number, deja: o.deja };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isU32 = (v: unknown): v is number => isCount(v) && v < 2 ** 32;

/** A part's disk writes: sectors as [index, bytes], and the indices a checkpoint has still to hash. */
function isStorage(v: unknown): boolean {
  return isObj(v) && Array.isArray(v.sectors) && Array.isArray(v.written) && v.written.every(isCount) &&
    v.sectors.every((e) => Array.isArray(e) && e.length === 2 && isCount(e[0]) && e[1] instanceof Uint8Array);
}

/** A snapshot as a frame body: u32 raw length | zstd(msgpack(snapshot)). */
export function encodeSnapshot(s: Snapshot): Uint8Array {
  return packCompressed(s);
}

/** Reads encodeSnapshot's body (untrusted: every field restore relies on is checked). */
export function decodeSnapshot(body: Uint8Array, at: string, ramPages: number, diskBytes = 0): Snapshot {
  const bad = (what: string) => new RecordingError(`${at}: snapshot ${what} (corrupt data)`);
  if (body.length < 4) throw bad('too short');
  const rawLen = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
  // Every page of RAM, the ROM and the registers fit well within this.
  if (rawLen > ramPages * 4200 + diskBytes * 1.1 + MAX_ROM + 16 * 1024 * 1024) throw bad(`claims ${rawLen} bytes uncompressed, more than this machine could hold`);
  const z = body.subarray(4);
  const declared = zstdContentSize(z);
  if (declared === -2 || (declared >= 0 && declared !== rawLen)) throw bad('is not a whole zstd frame');
  const raw = zstdDecompress(z, rawLen);
  if (!raw) throw bad('does not decompress');
  let s: unknown;
  try {
    s = unpack(raw);
  } catch {
    throw bad('is not valid msgpack');
  }
  if (!isObj(s) || !isCount(s.icount) || !isObj(s.machine) || !Array.isArray(s.pages) || !Array.isArray(s.checkpointPages) || !isObj(s.storage)) throw bad('is malformed');
  const m = s.machine;
  if (!isObj(m.hart) || !isObj(m.parts) || !isCount(m.idleTicks) || !Number.isInteger(m.panicMatch)) throw bad('machine state is malformed');
  const h = m.hart;
  if (!Array.isArray(h.x) || h.x.length !== 32 || h.icount !== s.icount) throw bad('hart state is malformed');
  for (const e of s.pages) {
    if (!Array.isArray(e) || !isCount(e[0]) || e[0] >= ramPages || !(e[1] === null || (e[1] instanceof Uint8Array && e[1].length === 4096))) throw bad('has a malformed page');
  }
  if (!s.checkpointPages.every((p) => isCount(p) && p < ramPages)) throw bad('has a malformed page list');
  if (s.rom !== undefined && !(s.rom instanceof Uint8Array && s.rom.length <= MAX_ROM)) throw bad('has a malformed boot ROM');
  if (!Object.values(s.storage).every(isStorage)) throw bad('has malformed disk writes');
  // The console log a resumed replay goes on checking from (every snapshot file has it).
  const c = isObj(s.log) ? s.log.console : null;
  if (!isObj(c) || !isU32(c.hash) || !isCount(c.total) || !(c.pending instanceof Uint8Array) || c.pending.length > c.total) throw bad('console log is malformed');
  return s as unknown as Snapshot;
}
