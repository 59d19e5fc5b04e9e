// Snapshots: the machine's whole state at one icount (DESIGN.md I8). A snapshot keeps the
// RAM pages written since the previous one (a zero page as null), so a chain of them,
// applied in order to a freshly built machine, gives the RAM at the last one.

import { DIRTY_CHECKPOINT, DIRTY_SNAPSHOT, PAGE_SHIFT } from '../cpu/memory.js';
import type { StorageState } from './bus.js';
import { shapeMismatch } from './state-shape.js';
import type { Machine, MachineState } from './machine.js';
import type { ConsoleState } from '../record/state-hash.js';

/**
 * Instructions between the snapshots `deja index` takes by default: a seek then replays at
 * most this many, about 0.1 s under the interpreter, and the full bench (4 G instructions)
 * gets 400 snapshots.
 */
export const DEFAULT_SNAPSHOT_EVERY = 10_000_000;

export interface Snapshot {
  icount: number;
  machine: MachineState;
  /** RAM pages written since the previous snapshot of the chain: [page, bytes, or null if all zero]. */
  pages: [number, Uint8Array | null][];
  /** Pages the next checkpoint has still to hash (written since the last one). */
  checkpointPages: number[];
  /** Each storage part's writes since reset, by part name. */
  storage: Record<string, StorageState>;
  /** The boot ROM's bytes (a recording trimmed to start here has no images to make it from). */
  rom?: Uint8Array;
  /** The console log of the replay or recording that took it, as it stood there. */
  log?: { console: ConsoleState };
}

/**
 * Takes a snapshot of `m` at its icount: the pages written since the previous call (the
 * first call: since the machine was built). Take it at the start of a loop boundary, before
 * the inputs due there: in the checkpoint hook, or where runToIcount stops (a replay port
 * restored with it serves those inputs next).
 */
export function takeSnapshot(m: Machine): Snapshot {
  const pages: [number, Uint8Array | null][] = [];
  for (const p of m.mem.takeDirty(DIRTY_SNAPSHOT)) pages.push([p, pageOrNull(m.mem.i32, p) ? m.mem.page(p) : null]);
  return withPages(m, pages);
}

/** The snapshot at `m`'s icount holding `pages`; a later one holds the pages written after it. */
function withPages(m: Machine, pages: [number, Uint8Array | null][]): Snapshot {
  m.hart.mmu.dropWriteEntries(); // the next store to each page is seen again
  const storage: Record<string, StorageState> = {};
  for (const [name, part] of m.parts) if (part.saveStorage) storage[name] = part.saveStorage();
  return { icount: m.hart.icount, machine: m.save(), pages, checkpointPages: m.mem.peekDirty(DIRTY_CHECKPOINT), storage };
}

/**
 * The whole machine at its icount, every non-zero RAM page and the boot ROM included: the
 * start of a recording trimmed to begin here, restored into a blank machine.
 */
export function fullSnapshot(m: Machine): Snapshot {
  m.mem.takeDirty(DIRTY_SNAPSHOT); // all of them are in this one
  const pages: [number, Uint8Array | null][] = [];
  for (let p = 0; p < m.mem.ramBytes >>> PAGE_SHIFT; p++) if (pageOrNull(m.mem.i32, p)) pages.push([p, m.mem.page(p)]);
  return { ...withPages(m, pages), rom: m.mem.u8.slice(m.mem.ramBytes) };
}

/** Whether a page holds any non-zero byte. */
function pageOrNull(words: Int32Array, page: number): boolean {
  const end = (page + 1) << (PAGE_SHIFT - 2);
  for (let i = page << (PAGE_SHIFT - 2); i < end; i++) if (words[i] !== 0) return true;
  return false;
}

/**
 * Puts the state of the chain's last snapshot into `m`, a machine freshly built from the
 * same configuration and images (its RAM is the chain's starting point). Every code cache
 * keyed by memory must be empty: a fresh machine's are.
 */
export function restoreSnapshot(m: Machine, chain: readonly Snapshot[]): void {
  const last = chain[chain.length - 1];
  // A state of another shape (forged, or from another board) is refused before any is put in.
  const wrong = shapeMismatch(m.save(), last.machine, 'machine');
  if (wrong) throw new Error(wrong);
  const u8 = m.mem.u8;
  for (const s of chain) {
    for (const [p, bytes] of s.pages) {
      if (bytes) u8.set(bytes, p << PAGE_SHIFT);
      else u8.fill(0, p << PAGE_SHIFT, (p + 1) << PAGE_SHIFT);
    }
  }
  if (last.rom) u8.set(last.rom, m.mem.ramBytes);
  // A snapshot taken next continues this chain; the next checkpoint hashes what it would have.
  m.mem.takeDirty(DIRTY_SNAPSHOT);
  m.mem.takeDirty(DIRTY_CHECKPOINT);
  for (const p of last.checkpointPages) m.mem.markDirty(p, DIRTY_CHECKPOINT);
  for (const [name, part] of m.parts) if (part.restoreStorage && last.storage[name]) part.restoreStorage(last.storage[name]);
  m.restore(last.machine);
}
