// Reads a .deja file (untrusted input): every length is checked against the file and a
// limit before use; a truncated tail is reported, and everything before it is usable.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { unpack } from 'msgpackr';
import {
  FORMAT_VERSION, FRAME_CHUNK, FRAME_HEADER, FRAME_IMAGE, FRAME_STATE, FRAME_LIMITS, FRAME_NAMES, MAGIC, MAX_IMAGES, MAX_IMAGE_BYTES,
  RecordingError, crc32, decodeChunk, type LogEvent, type RecordingHeader,
} from './format.js';
import { zstdContentSize, zstdDecompress } from './zstd.js';
import { decodeSnapshot, diskBytesOf } from './snapshot-file.js';
import type { Snapshot } from '../machine/snapshot.js';
import { fsErrorWords } from '../errors.js';

export const MAX_RECORDING_BYTES = 4 * 1024 ** 3;

export interface Recording {
  path: string;
  /** The format version of its magic line (checkpoints are checked as that version made them). */
  version: number;
  /** sha256 of its header frame: what a snapshot file names as the recording it belongs to. */
  identity: string;
  /** A trimmed recording's starting state (header.start says where), else null. */
  start: Snapshot | null;
  header: RecordingHeader;
  /** Embedded images by sha256. */
  embedded: Map<string, { role: string; name: string; bytes: Uint8Array; compressedBytes: number }>;
  events: LogEvent[];
  chunks: number;
  /**
   * Set when the recording is incomplete (a killed recorder): the file ends inside a frame,
   * or it has no end record. Says what is lost; everything before it is usable.
   */
  truncated: string | null;
  /** For a truncated recording, the icount up to which it is complete (its last event). */
  truncatedAt: number | null;
  sizes: { total: number; header: number; images: number; state: number; chunks: number };
}

export function readRecording(path: string): Recording {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw new RecordingError(`${path}: cannot read recording: ${fsErrorWords(e)}`);
  }
  if (size > MAX_RECORDING_BYTES) throw new RecordingError(`${path}: ${size} bytes is larger than deja reads`);
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new RecordingError(`${path}: cannot read recording: ${fsErrorWords(e)}`);
  }
  return parseRecording(buf, path);
}

export function parseRecording(buf: Uint8Array, path: string): Recording {
  if (buf.length === 0) throw new RecordingError(`${path}: empty file, not a deja recording`);
  const head = buf.subarray(0, Math.min(buf.length, 64));
  const nl = head.indexOf(10);
  const line = new TextDecoder().decode(nl < 0 ? head : head.subarray(0, nl));
  const m = /^deja-recording (\d{1,9})$/.exec(line);
  // A file cut short inside "deja-recording N\n" (a recorder killed at once).
  if (nl < 0 && buf.length < 64 && (`${MAGIC} `.startsWith(line) || /^deja-recording \d+$/.test(line))) {
    throw new RecordingError(`${path}: truncated inside the magic line (${buf.length} bytes)`);
  }
  if (nl < 0 || !m) throw new RecordingError(`${path}: not a deja recording (bad magic line)`);
  const version = Number(m[1]);
  if (version > FORMAT_VERSION) throw new RecordingError(`${path}: recording format version ${version} is newer than this deja reads (${FORMAT_VERSION})`);
  if (version < 1) throw new RecordingError(`${path}: unknown recording format version ${version}`);
  let p = nl + 1;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let header: RecordingHeader | null = null;
  let identity = '';
  let start: Snapshot | null = null;
  const embedded: Recording['embedded'] = new Map();
  const events: LogEvent[] = [];
  let chunks = 0;
  let truncated: string | null = null;
  const sizes = { total: buf.length, header: 0, images: 0, state: 0, chunks: 0 };
  while (p < buf.length) {
    const at = `${path}: frame at byte ${p}`;
    if (p + 9 > buf.length) {
      truncated = `file ends inside a frame header at byte ${p}`;
      break;
    }
    const len = dv.getUint32(p, true);
    const crc = dv.getUint32(p + 4, true);
    const type = buf[p + 8];
    const limit = FRAME_LIMITS[type];
    if (limit === undefined) throw new RecordingError(`${at}: unknown frame type ${type} (corrupt data)`);
    if (len > limit) throw new RecordingError(`${at}: ${FRAME_NAMES[type]} frame length ${len} is absurd (limit ${limit}; corrupt data)`);
    if (p + 9 + len > buf.length) {
      truncated = `file ends inside a ${len}-byte frame at byte ${p}, ${buf.length - p - 9} bytes of it present`;
      break;
    }
    const body = buf.subarray(p + 9, p + 9 + len);
    if (crc32(body) !== crc) throw new RecordingError(`${at}: ${FRAME_NAMES[type]} frame checksum mismatch (corrupt data)`);
    if (header === null && type !== FRAME_HEADER) throw new RecordingError(`${at}: the first frame is not the header`);
    if (type === FRAME_HEADER) {
      if (header) throw new RecordingError(`${at}: a second header`);
      header = decodeHeader(body, at);
      identity = createHash('sha256').update(body).digest('hex');
      sizes.header += len + 9;
    } else if (type === FRAME_STATE) {
      if (start || chunks > 0) throw new RecordingError(`${at}: a state frame ${start ? 'twice' : 'after the event chunks'}`);
      start = decodeSnapshot(body, at, header!.config.ramBytes / 4096, diskBytesOf({ header: header! }));
      if (!header!.start || start.icount !== header!.start.icount || !start.rom) throw new RecordingError(`${at}: a state frame that does not match the header's start (corrupt data)`);
      sizes.state += len + 9;
    } else if (type === FRAME_IMAGE) {
      if (chunks > 0) throw new RecordingError(`${at}: an image frame after the event chunks`);
      decodeImage(body, at, embedded);
      sizes.images += len + 9;
    } else if (type === FRAME_CHUNK) {
      const evs = decodeChunk(body, at);
      if (events.length && evs.length && evs[0].icount < events[events.length - 1].icount) {
        throw new RecordingError(`${at}: events go back in time`);
      }
      if (events.length && events[events.length - 1].kind === 'end' && evs.length) {
        throw new RecordingError(`${at}: events after the end record`);
      }
      const endAt = evs.findIndex((e) => e.kind === 'end');
      if (endAt >= 0 && endAt !== evs.length - 1) throw new RecordingError(`${at}: events after the end record`);
      for (const e of evs) events.push(e);
      chunks++;
      sizes.chunks += len + 9;
    }
    p += 9 + len;
  }
  if (!header) throw new RecordingError(`${path}: truncated before the end of its header (${truncated ?? 'no frames'})`);
  if (header.start && events.length && events[0].icount < header.start.icount) throw new RecordingError(`${path}: an event at icount ${events[0].icount}, before the recording's start at ${header.start.icount} (corrupt data)`);
  if (header.start && !start) throw new RecordingError(`${path}: a trimmed recording without its starting state (${truncated ?? 'no state frame'})`);
  for (const img of header.images) {
    const emb = embedded.get(img.sha256);
    if (emb && emb.bytes.length !== img.size) throw new RecordingError(`${path}: embedded ${img.role} image ${img.name} has ${emb.bytes.length} bytes; the manifest says ${img.size}`);
  }
  const last = events.length ? events[events.length - 1] : null;
  // The recorder writes nothing after the end record: a partial frame there is damage.
  if (truncated && last?.kind === 'end') throw new RecordingError(`${path}: data after the end record (${truncated}; corrupt data)`);
  if (!truncated && last?.kind !== 'end') truncated = `no end record after ${chunks} chunk${chunks === 1 ? '' : 's'}: the recorder did not finish`;
  const truncatedAt = truncated ? (last?.icount ?? header.start?.icount ?? 0) : null;
  return { path, version, identity, start, header, embedded, events, chunks, truncated, truncatedAt, sizes };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;
const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

/** RAM sizes a recording may ask for: what --ram accepts (src/option-values.ts parseRam). */
const MIN_RAM = 16 * 1024 ** 2;
const MAX_RAM = 2 * 1024 ** 3 - 4096;

function decodeHeader(body: Uint8Array, at: string): RecordingHeader {
  let h: unknown;
  try {
    h = unpack(body);
  } catch {
    throw new RecordingError(`${at}: header is not valid msgpack`);
  }
  const bad = (what: string) => new RecordingError(`${at}: header ${what}`);
  if (!isObj(h)) throw bad('is not a map');
  if (!isStr(h.deja, 64)) throw bad('lacks the deja version');
  if (!isStr(h.created, 64)) throw bad('lacks the creation time');
  const c = h.config;
  if (!isObj(c)) throw bad('lacks the machine configuration');
  if (!isInt(c.ramBytes, MIN_RAM, MAX_RAM) || c.ramBytes % 4096 !== 0) throw bad(`has an impossible RAM size ${String(c.ramBytes)}`);
  if (!isStr(c.append, 65536)) throw bad('lacks the kernel command line');
  if (!Array.isArray(c.disks) || c.disks.length > 8 || !c.disks.every((d) => isObj(d) && isStr(d.name) && typeof d.readonly === 'boolean')) throw bad('has a malformed disk list');
  if (!isInt(c.checkpointEvery, 0, Number.MAX_SAFE_INTEGER)) throw bad('lacks the checkpoint interval');
  if (c.debugTriggers !== undefined && typeof c.debugTriggers !== 'boolean') throw bad('has a malformed debug-trigger setting');
  if (!Array.isArray(h.images) || h.images.length > MAX_IMAGES) throw bad('has a malformed image manifest');
  for (const i of h.images as unknown[]) {
    if (!isObj(i) || !isStr(i.role, 16) || !isStr(i.name) || !isInt(i.size, 0, MAX_IMAGE_BYTES) || !isStr(i.sha256, 64) || !/^[0-9a-f]{64}$/.test(i.sha256)) {
      throw bad('has a malformed image manifest entry');
    }
  }
  if (h.images.filter((i: { role: string }) => i.role === 'disk').length !== c.disks.length) throw bad('lists a different number of disks and disk images');
  if (!Array.isArray(h.argv) || !h.argv.every((a) => isStr(a, 65536))) throw bad('has a malformed command line');
  if (h.clock !== undefined && !isObj(h.clock)) throw bad('has malformed clock settings');
  if (h.settings !== undefined && !isObj(h.settings)) throw bad('has malformed settings');
  if (h.checkpointHashes !== undefined && !isInt(h.checkpointHashes, 1, FORMAT_VERSION)) throw bad('has a malformed checkpoint hash version');
  if (h.start !== undefined) {
    const st = h.start as Record<string, unknown>;
    if (!isObj(st) || !isInt(st.icount, 0, Number.MAX_SAFE_INTEGER) || !isObj(st.from) || !isStr(st.from.name) || !isStr(st.from.identity, 64)) throw bad('has a malformed start');
  }
  return h as unknown as RecordingHeader;
}

function decodeImage(body: Uint8Array, at: string, into: Recording['embedded']): void {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body.length < 8) throw new RecordingError(`${at}: image frame too short`);
  const mlen = dv.getUint32(0, true);
  if (4 + mlen + 4 > body.length) throw new RecordingError(`${at}: image metadata length ${mlen} is beyond the frame`);
  let meta: { role: string; name: string; sha256: string };
  try {
    meta = unpack(body.subarray(4, 4 + mlen));
  } catch {
    throw new RecordingError(`${at}: image metadata is not valid msgpack`);
  }
  if (!isObj(meta) || !isStr(meta.role, 16) || !isStr(meta.name) || !isStr(meta.sha256, 64)) throw new RecordingError(`${at}: image metadata is malformed`);
  const size = dv.getUint32(4 + mlen, true);
  if (size > MAX_IMAGE_BYTES) throw new RecordingError(`${at}: embedded image ${meta.name} claims ${size} bytes (limit ${MAX_IMAGE_BYTES})`);
  const z = body.subarray(8 + mlen);
  const declared = zstdContentSize(z);
  if (declared === -2 || (declared >= 0 && declared !== size)) throw new RecordingError(`${at}: embedded image ${meta.name} is corrupt`);
  const bytes = zstdDecompress(z, size);
  if (!bytes) throw new RecordingError(`${at}: embedded image ${meta.name} is corrupt`);
  into.set(meta.sha256, { role: meta.role, name: meta.name, bytes, compressedBytes: z.length });
}
