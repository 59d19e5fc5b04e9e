// Reads a .deja file (untrusted input): every length is checked against the file and a
// limit before use; a truncated tail is reported, and everything before it is usable.

import { readFileSync, statSync } from 'node:fs';
import { unpack } from 'msgpackr';
import {
  FORMAT_VERSION, FRAME_CHUNK, FRAME_HEADER, FRAME_IMAGE, MAGIC, MAX_FRAME, RecordingError, crc32, decodeChunk,
  type LogEvent, type RecordingHeader,
} from './format.js';
import { zstdContentSize, zstdDecompress } from './zstd.js';

export const MAX_RECORDING_BYTES = 4 * 1024 ** 3;

export interface Recording {
  path: string;
  header: RecordingHeader;
  /** Embedded images by sha256. */
  embedded: Map<string, { role: string; name: string; bytes: Uint8Array; compressedBytes: number }>;
  events: LogEvent[];
  chunks: number;
  /** Set when the file ends inside a frame (a killed recorder): what is lost. */
  truncated: string | null;
  sizes: { total: number; header: number; images: number; chunks: number };
}

export function readRecording(path: string): Recording {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RecordingError(`${path}: cannot read recording: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  if (size > MAX_RECORDING_BYTES) throw new RecordingError(`${path}: ${size} bytes is larger than deja reads`);
  const buf = new Uint8Array(readFileSync(path));
  return parseRecording(buf, path);
}

export function parseRecording(buf: Uint8Array, path: string): Recording {
  const nl = buf.indexOf(10);
  const line = new TextDecoder().decode(buf.subarray(0, nl < 0 ? Math.min(buf.length, 64) : Math.min(nl, 64)));
  const m = /^deja-recording (\d+)$/.exec(line);
  if (nl < 0 || !line.startsWith(MAGIC) || !m) throw new RecordingError(`${path}: not a deja recording (bad magic line)`);
  const version = Number(m[1]);
  if (version > FORMAT_VERSION) throw new RecordingError(`${path}: recording format version ${version} is newer than this deja reads (${FORMAT_VERSION})`);
  if (version < 1) throw new RecordingError(`${path}: unknown recording format version ${version}`);
  let p = nl + 1;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let header: RecordingHeader | null = null;
  const embedded: Recording['embedded'] = new Map();
  const events: LogEvent[] = [];
  let chunks = 0;
  let truncated: string | null = null;
  const sizes = { total: buf.length, header: 0, images: 0, chunks: 0 };
  while (p < buf.length) {
    const at = `${path}: frame at byte ${p}`;
    if (p + 9 > buf.length) {
      truncated = `file ends inside a frame header at byte ${p}`;
      break;
    }
    const len = dv.getUint32(p, true);
    const crc = dv.getUint32(p + 4, true);
    const type = buf[p + 8];
    if (len > MAX_FRAME) throw new RecordingError(`${at}: length ${len} is absurd (limit ${MAX_FRAME})`);
    if (p + 9 + len > buf.length) {
      truncated = `file ends inside a ${len}-byte frame at byte ${p} (${buf.length - p - 9} bytes of it present)`;
      break;
    }
    const body = buf.subarray(p + 9, p + 9 + len);
    if (crc32(body) !== crc) throw new RecordingError(`${at}: checksum mismatch (corrupt data)`);
    if (header === null && type !== FRAME_HEADER) throw new RecordingError(`${at}: the first frame is not the header`);
    if (type === FRAME_HEADER) {
      if (header) throw new RecordingError(`${at}: a second header`);
      header = decodeHeader(body, at);
      sizes.header += len + 9;
    } else if (type === FRAME_IMAGE) {
      decodeImage(body, at, embedded);
      sizes.images += len + 9;
    } else if (type === FRAME_CHUNK) {
      const evs = decodeChunk(body, at);
      if (events.length && evs.length && evs[0].icount < events[events.length - 1].icount) {
        throw new RecordingError(`${at}: events go back in time`);
      }
      events.push(...evs);
      chunks++;
      sizes.chunks += len + 9;
    } else throw new RecordingError(`${at}: unknown frame type ${type}`);
    p += 9 + len;
  }
  if (!header) throw new RecordingError(`${path}: no header (${truncated ?? 'empty'})`);
  return { path, header, embedded, events, chunks, truncated, sizes };
}

function decodeHeader(body: Uint8Array, at: string): RecordingHeader {
  let h: unknown;
  try {
    h = unpack(body);
  } catch {
    throw new RecordingError(`${at}: header is not valid msgpack`);
  }
  const o = h as RecordingHeader;
  if (!o || typeof o !== 'object' || typeof o.deja !== 'string' || !o.config || !Array.isArray(o.images) || typeof o.config.ramBytes !== 'number') {
    throw new RecordingError(`${at}: header lacks required fields`);
  }
  return o;
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
  const size = dv.getUint32(4 + mlen, true);
  const z = body.subarray(8 + mlen);
  if (zstdContentSize(z) !== size) throw new RecordingError(`${at}: embedded image ${meta.name} is corrupt`);
  const bytes = zstdDecompress(z);
  if (!bytes || bytes.length !== size) throw new RecordingError(`${at}: embedded image ${meta.name} is corrupt`);
  into.set(meta.sha256, { role: meta.role, name: meta.name, bytes, compressedBytes: z.length });
}
