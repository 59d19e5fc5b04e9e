// Hashes for checkpoints: the machine's saved state (hart, virtual time, board parts), the
// memory written since the last checkpoint, and the console output so far. FNV-1a, 32-bit:
// cheap and stable across hosts.

import type { Machine } from '../machine/machine.js';
import { TRIGGER_FIELDS } from '../cpu/hart.js';
import { DIRTY_CHECKPOINT, PAGE_SHIFT } from '../cpu/memory.js';

const FNV_OFFSET = 0x811c9dc5;

/** One byte into an FNV-1a hash. */
const fnvByte = (h: number, b: number): number => Math.imul(h ^ b, 0x01000193) >>> 0;

export function fnv1a(h: number, v: number): number {
  for (let i = 0; i < 4; i++) h = fnvByte(h, (v >>> (8 * i)) & 255);
  return h;
}

/** A number into the hash: its low and high 32-bit words (icounts pass 2^32). */
const fnvNumber = (h: number, v: number): number => fnv1a(fnv1a(h, v | 0), Math.floor(v / 4294967296) | 0);

/** The registers and CSRs a divergence report shows, with icount and virtual time. */
export function archState(m: Machine): Record<string, number> {
  return { ...m.hart.archState(), icount: m.hart.icount, idleTicks: m.clock.idleTicks };
}

/**
 * How checkpoints hash the machine. Recordings of format 3 on hash the machine's whole
 * saved state (Machine.save) and the memory written between checkpoints; older ones hash
 * what deja covered when they were made, so they still verify.
 */
export interface CheckpointHashes {
  /** The hart, virtual time and the console's panic scan. */
  state(m: Machine): number;
  /** Every board part's registers. */
  devices(m: Machine): number;
  /** RAM pages and disk sectors written since the last call (and forgets them), or null if not covered. */
  memory(m: Machine): MemoryHash | null;
}

export interface MemoryHash {
  hash: number;
  /** [page, hash of its bytes] for each RAM page written, ascending (names the pages that differ). */
  pages: [number, number][];
}

export const CURRENT_HASHES: CheckpointHashes = {
  state: (m) => {
    const { parts: _parts, ...rest } = m.save();
    return hashPlain(FNV_OFFSET, rest);
  },
  devices: (m) => hashPlain(FNV_OFFSET, m.save().parts),
  memory: memoryHash,
};

/** Format 1 and 2: architectural registers; triggers once moved off reset; five devices; no memory. */
export const LEGACY_HASHES: CheckpointHashes = {
  state: (m) => {
    let h = FNV_OFFSET;
    const skip: ReadonlySet<string> = m.hart.triggers.atReset() ? TRIGGERS_AT_RESET : NONE;
    for (const [k, v] of Object.entries(archState(m))) if (!skip.has(k)) h = fnvNumber(h, v);
    return h;
  },
  devices: (m) => {
    let h = FNV_OFFSET;
    for (const name of ['rtc', 'clint', 'plic', 'uart']) h = hashPlain(h, m.parts.get(name)!.save!());
    for (const v of m.virtio) h = hashPlain(h, v.save());
    return h;
  },
  memory: () => null,
};

/**
 * The hashes a recording's checkpoints carry: those of its format version, or of the
 * version its header names (a trimmed recording keeps its original's checkpoints).
 */
export function hashesFor(rec: { version: number; header: { checkpointHashes?: number } }): CheckpointHashes {
  return (rec.header.checkpointHashes ?? rec.version) >= 3 ? CURRENT_HASHES : LEGACY_HASHES;
}

/** The format version whose hashes a recording's checkpoints carry. */
export function hashVersion(rec: { version: number; header: { checkpointHashes?: number } }): number {
  return rec.header.checkpointHashes ?? rec.version;
}

const TRIGGERS_AT_RESET: ReadonlySet<string> = new Set(TRIGGER_FIELDS);
const NONE: ReadonlySet<string> = new Set();

/** One RAM page's bytes, a word at a time. */
export function pageHash(words: Int32Array, page: number): number {
  let h = fnv1a(FNV_OFFSET, page);
  const end = (page + 1) << (PAGE_SHIFT - 2);
  for (let i = page << (PAGE_SHIFT - 2); i < end; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h >>> 0;
}

/**
 * The RAM pages and disk sectors written since the last call. The write TLBs are dropped
 * so that the first store to each page after this is seen again (PhysMemory.dirty).
 */
function memoryHash(m: Machine): MemoryHash {
  const pages: [number, number][] = [];
  let h = FNV_OFFSET;
  for (const p of m.mem.takeDirty(DIRTY_CHECKPOINT)) {
    const ph = pageHash(m.mem.i32, p);
    pages.push([p, ph]);
    h = fnv1a(h, ph);
  }
  m.hart.mmu.dropWriteEntries();
  for (const [name, part] of m.parts) {
    for (const [sector, bytes] of part.takeWritten?.() ?? []) {
      h = fnvNumber(fnvString(h, name), sector);
      for (let i = 0; i < bytes.length; i++) h = fnvByte(h, bytes[i]);
    }
  }
  return { hash: h, pages };
}

function fnvString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = fnvByte(h, s.charCodeAt(i));
  return h;
}

/** Hashes plain data (numbers, strings, booleans, null, arrays, objects in key order). */
function hashPlain(h: number, v: unknown): number {
  if (typeof v === 'number') return fnvNumber(h, v);
  if (typeof v === 'string') return fnv1a(fnvString(h, v), v.length);
  if (typeof v === 'boolean') return fnv1a(h, v ? 0x7e : 0x7f);
  if (v === null || v === undefined) return fnv1a(h, 0x7d);
  if (Array.isArray(v)) {
    for (const x of v) h = hashPlain(h, x);
    return fnv1a(h, v.length);
  }
  if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) h = hashPlain(fnvString(h, k), x);
    return h;
  }
  throw new Error(`device state holds a ${typeof v}`);
}

/** Running hash and buffer of console output (bytes since the last checkpoint). */
export class ConsoleLog {
  hash = FNV_OFFSET;
  total = 0;
  private pending: number[] = [];

  push(b: number): void {
    this.hash = fnvByte(this.hash, b);
    this.total++;
    this.pending.push(b);
  }

  /** Bytes since the last call. */
  take(): Uint8Array {
    const out = Uint8Array.from(this.pending);
    this.pending = [];
    return out;
  }

  /** Where the log stands (a snapshot keeps it, so a replay resumed there checks on). */
  save(): ConsoleState {
    return { hash: this.hash, total: this.total, pending: Uint8Array.from(this.pending) };
  }

  restore(s: ConsoleState): void {
    this.hash = s.hash;
    this.total = s.total;
    this.pending = [...s.pending];
  }
}

export interface ConsoleState {
  hash: number;
  total: number;
  /** Bytes since the last checkpoint. */
  pending: Uint8Array;
}
