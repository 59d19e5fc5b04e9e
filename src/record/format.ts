// The .deja file: a magic line with the format version, then frames.
//
//   frame := u32 length | u32 crc32(body) | u8 type | body        (little-endian)
//   type 1  header: msgpack object (deja version, machine config, image manifest, ...)
//   type 2  chunk:  u32 raw length | zstd(msgpack([baseIcount, ...events]))
//   type 3  image:  msgpack { role, name, sha256 } | zstd(image bytes)   (--embed)
//
// Events are arrays [kind, icount delta, ...payload], deltas from the previous event in the
// chunk (the first from baseIcount). Reading is reading untrusted input: every length is
// bounded before anything is allocated, and every problem is a RecordingError naming it.

import * as zlib from 'node:zlib';
import { pack, unpack } from 'msgpackr';
import { zstdCompress, zstdDecompress, zstdContentSize } from './zstd.js';
import type { MemoryHash } from './state-hash.js';

export const MAGIC = 'deja-recording';
/**
 * 3: checkpoints hash the machine's whole saved state and carry a hash of the memory
 * written since the previous one (state-hash.ts); older files are checked as they were made.
 * 2: the header's config says whether the machine had debug triggers, and an end record
 * may say idle-forever or input-ended. A reader of version 1 would replay such a file on
 * the wrong machine, so it is told the file is newer; this reader reads both.
 */
export const FORMAT_VERSION = 3;
export const MAGIC_LINE = `${MAGIC} ${FORMAT_VERSION}\n`;

export const FRAME_HEADER = 1;
export const FRAME_CHUNK = 2;
export const FRAME_IMAGE = 3;
/** The machine where a trimmed recording starts (src/machine/snapshot.ts, every page). */
export const FRAME_STATE = 5;

/** Largest frame body accepted (embedded images are the big ones). */
export const MAX_FRAME = 512 * 1024 * 1024;
/** Largest decompressed event chunk accepted. */
export const MAX_CHUNK_RAW = 64 * 1024 * 1024;
/** Largest header frame accepted (msgpack: config, manifest, command line). */
export const MAX_HEADER_FRAME = 1024 * 1024;
/** Largest chunk frame accepted: a compressed chunk is at most a little over its raw size. */
export const MAX_CHUNK_FRAME = MAX_CHUNK_RAW + MAX_CHUNK_RAW / 128 + 65536;
/** Largest embedded image accepted, uncompressed (as for image files: src/input-files.ts). */
export const MAX_IMAGE_BYTES = 2 * 1024 ** 3;
/** Most images a header may list (firmware, kernel, initrd or ELF, and 8 disks). */
export const MAX_IMAGES = 16;

/** Frame type names, for messages. */
export const FRAME_NAMES: Record<number, string> = { [FRAME_HEADER]: 'header', [FRAME_CHUNK]: 'chunk', [FRAME_IMAGE]: 'image', [FRAME_STATE]: 'state' };
/** Largest body of each frame type. */
export const FRAME_LIMITS: Record<number, number> = { [FRAME_HEADER]: MAX_HEADER_FRAME, [FRAME_CHUNK]: MAX_CHUNK_FRAME, [FRAME_IMAGE]: MAX_FRAME, [FRAME_STATE]: MAX_FRAME };

export const EV = { uartRx: 0, rtc: 1, idle: 2, checkpoint: 3, end: 4 } as const;

export type LogEvent =
  | { kind: 'uart-rx'; icount: number; bytes: number[] }
  | { kind: 'rtc'; icount: number; nanos: number }
  | { kind: 'idle'; icount: number; ticks: number }
  | { kind: 'checkpoint'; icount: number; pc: number; priv: number; stateHash: number; consoleHash: number; console: Uint8Array; deviceHash?: number; memory?: MemoryHash }
  | { kind: 'end'; icount: number; reason: string; code: number; stateHash: number };

export interface ImageEntry {
  role: string;
  name: string;
  size: number;
  sha256: string;
  addr: number;
  embedded: boolean;
}

export interface RecordingHeader {
  deja: string;
  created: string;
  /** debugTriggers: absent in recordings made before the machine had Sdtrig (they replay without it). */
  config: { ramBytes: number; append: string; disks: { name: string; readonly: boolean }[]; checkpointEvery: number; debugTriggers?: boolean };
  images: ImageEntry[];
  argv: string[];
  clock: { timebaseHz: number; insnsPerTick: number };
  settings: Record<string, unknown>;
  /** The format version whose hashes the checkpoints carry, if not this file's (a trimmed recording keeps its original's). */
  checkpointHashes?: number;
  /** A trimmed recording: it starts at this icount from its state frame, cut from another recording. */
  start?: { icount: number; from: { name: string; identity: string } };
}

export class RecordingError extends Error {}

/** The reasons an end record may give (ExitStatus reasons). */
export const END_REASONS: readonly string[] = ['poweroff', 'reset', 'fail', 'panic', 'limit', 'stop', 'trap-loop', 'idle-forever', 'input-ended'];

// ---- CRC-32 (IEEE) ----
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Node's own (zlib's, native) where it has one: reading a large file checks every frame. */
const nativeCrc32 = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;

export function crc32(b: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(b) >>> 0;
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function frame(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, body.length, true);
  dv.setUint32(4, crc32(body), true);
  out[8] = type;
  out.set(body, 9);
  return out;
}

function eventArray(e: LogEvent, delta: number): unknown[] {
  switch (e.kind) {
    case 'uart-rx': return [EV.uartRx, delta, e.bytes];
    case 'rtc': return [EV.rtc, delta, e.nanos];
    case 'idle': return [EV.idle, delta, e.ticks];
    case 'checkpoint': {
      const a = [EV.checkpoint, delta, e.pc, e.priv, e.stateHash, e.consoleHash, e.console];
      // Recordings from before device hashes have none: the field is last and optional.
      if (e.deviceHash !== undefined) a.push(e.deviceHash);
      if (e.memory) a.push(e.memory.hash, packPages(e.memory.pages));
      return a;
    }
    case 'end': return [EV.end, delta, e.reason, e.code, e.stateHash];
  }
}

/** [page, hash] pairs as little-endian u32 pairs. */
function packPages(pages: [number, number][]): Uint8Array {
  const out = new Uint8Array(pages.length * 8);
  const dv = new DataView(out.buffer);
  pages.forEach(([p, h], i) => {
    dv.setUint32(i * 8, p, true);
    dv.setUint32(i * 8 + 4, h, true);
  });
  return out;
}

function unpackPages(b: Uint8Array): [number, number][] {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const out: [number, number][] = [];
  for (let i = 0; i < b.length; i += 8) out.push([dv.getUint32(i, true), dv.getUint32(i + 4, true)]);
  return out;
}

export function encodeChunk(events: LogEvent[]): Uint8Array {
  const base = events.length ? events[0].icount : 0;
  let prev = base;
  const arr: unknown[] = [base];
  for (const e of events) {
    arr.push(eventArray(e, e.icount - prev));
    prev = e.icount;
  }
  return packCompressed(arr);
}

/** A frame body of plain data: u32 raw length | zstd(msgpack(value)) (chunks, snapshots). */
export function packCompressed(value: unknown): Uint8Array {
  const raw = pack(value);
  const z = zstdCompress(raw);
  const body = new Uint8Array(4 + z.length);
  new DataView(body.buffer).setUint32(0, raw.length, true);
  body.set(z, 4);
  return body;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** An icount or a count: a non-negative integer that a double holds exactly. */
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function decodeChunk(body: Uint8Array, where: string): LogEvent[] {
  if (body.length < 4) throw new RecordingError(`${where}: chunk too short`);
  const rawLen = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
  if (rawLen > MAX_CHUNK_RAW) throw new RecordingError(`${where}: chunk claims ${rawLen} bytes uncompressed (limit ${MAX_CHUNK_RAW})`);
  const z = body.subarray(4);
  const declared = zstdContentSize(z);
  if (declared === -2 || (declared >= 0 && declared !== rawLen)) throw new RecordingError(`${where}: compressed chunk is corrupt (${declared < 0 ? 'no zstd frame' : `${declared} bytes, not ${rawLen}`})`);
  const raw = zstdDecompress(z, rawLen);
  if (!raw) throw new RecordingError(`${where}: compressed chunk is corrupt`);
  let arr: unknown;
  try {
    arr = unpack(raw);
  } catch {
    throw new RecordingError(`${where}: chunk is not valid msgpack`);
  }
  if (!Array.isArray(arr) || !isCount(arr[0])) throw new RecordingError(`${where}: chunk has no base icount`);
  const events: LogEvent[] = [];
  let icount = arr[0];
  for (let i = 1; i < arr.length; i++) {
    const a = arr[i];
    const bad = () => new RecordingError(`${where}: event ${i - 1} is malformed`);
    if (!Array.isArray(a) || !isNum(a[0]) || !isCount(a[1])) throw bad();
    icount += a[1];
    if (!Number.isSafeInteger(icount)) throw bad();
    switch (a[0]) {
      case EV.uartRx:
        if (!Array.isArray(a[2]) || a[2].length === 0 || !a[2].every((b: unknown) => isCount(b) && b < 256)) throw bad();
        events.push({ kind: 'uart-rx', icount, bytes: a[2] });
        break;
      case EV.rtc:
        if (!isNum(a[2])) throw bad();
        events.push({ kind: 'rtc', icount, nanos: a[2] });
        break;
      case EV.idle:
        if (!isCount(a[2])) throw bad();
        events.push({ kind: 'idle', icount, ticks: a[2] });
        break;
      case EV.checkpoint:
        if (!isNum(a[2]) || !isNum(a[3]) || !isNum(a[4]) || !isNum(a[5]) || !(a[6] instanceof Uint8Array)) throw bad();
        if (a.length > 7 && !isNum(a[7])) throw bad();
        if (a.length > 8 && (!isNum(a[8]) || !(a[9] instanceof Uint8Array) || a[9].length % 8 !== 0)) throw bad();
        events.push({
          kind: 'checkpoint', icount, pc: a[2], priv: a[3], stateHash: a[4], consoleHash: a[5], console: a[6],
          ...(a.length > 7 ? { deviceHash: a[7] } : {}),
          ...(a.length > 8 ? { memory: { hash: a[8], pages: unpackPages(a[9]) } } : {}),
        });
        break;
      case EV.end:
        if (typeof a[2] !== 'string' || !END_REASONS.includes(a[2]) || !isNum(a[3]) || !isNum(a[4])) throw bad();
        events.push({ kind: 'end', icount, reason: a[2], code: a[3], stateHash: a[4] });
        break;
      default:
        throw new RecordingError(`${where}: unknown event kind ${a[0]}`);
    }
  }
  return events;
}

export function encodeHeader(h: RecordingHeader): Uint8Array {
  return pack(h);
}

export function encodeImage(meta: { role: string; name: string; sha256: string }, bytes: Uint8Array): Uint8Array {
  // Only the three fields: a caller's object may carry the bytes too.
  const m = pack({ role: meta.role, name: meta.name, sha256: meta.sha256 });
  const z = zstdCompress(bytes, 9);
  const body = new Uint8Array(4 + m.length + 4 + z.length);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, m.length, true);
  body.set(m, 4);
  dv.setUint32(4 + m.length, bytes.length, true);
  body.set(z, 8 + m.length);
  return body;
}
