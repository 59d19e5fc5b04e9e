// Hashes for checkpoints: the architectural state (registers, pc, privilege, CSRs, virtual
// time) and the console output so far. FNV-1a, 32-bit: cheap and stable across hosts.

import type { Machine } from '../machine/machine.js';

const FNV_OFFSET = 0x811c9dc5;

export function fnv1a(h: number, v: number): number {
  for (let i = 0; i < 4; i++) {
    h ^= (v >>> (8 * i)) & 255;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The architectural state a checkpoint covers, by name (also used by divergence reports). */
export function archState(m: Machine): Record<string, number> {
  return { ...m.hart.archState(), icount: m.hart.icount, idleTicks: m.clock.idleTicks };
}

export function stateHash(m: Machine): number {
  let h = FNV_OFFSET;
  for (const v of Object.values(archState(m))) {
    h = fnv1a(h, v | 0);
    h = fnv1a(h, Math.floor(v / 4294967296) | 0);
  }
  return h;
}

/** Running hash and buffer of console output (bytes since the last checkpoint). */
export class ConsoleLog {
  hash = FNV_OFFSET;
  total = 0;
  private pending: number[] = [];

  push(b: number): void {
    this.hash = Math.imul(this.hash ^ b, 0x01000193) >>> 0;
    this.total++;
    this.pending.push(b);
  }

  /** Bytes since the last call. */
  take(): Uint8Array {
    const out = Uint8Array.from(this.pending);
    this.pending = [];
    return out;
  }
}
