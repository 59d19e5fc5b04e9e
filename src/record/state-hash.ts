// Hashes for checkpoints: the architectural state (registers, pc, privilege, CSRs, virtual
// time), the devices' registers and the console output so far. FNV-1a, 32-bit: cheap and
// stable across hosts.

import type { Machine } from '../machine/machine.js';
import { TRIGGER_FIELDS } from '../cpu/hart.js';

const FNV_OFFSET = 0x811c9dc5;

/** One byte into an FNV-1a hash. */
const fnvByte = (h: number, b: number): number => Math.imul(h ^ b, 0x01000193) >>> 0;

export function fnv1a(h: number, v: number): number {
  for (let i = 0; i < 4; i++) h = fnvByte(h, (v >>> (8 * i)) & 255);
  return h;
}

/** A number into the hash: its low and high 32-bit words (icounts pass 2^32). */
const fnvNumber = (h: number, v: number): number => fnv1a(fnv1a(h, v | 0), Math.floor(v / 4294967296) | 0);

/** The architectural state a checkpoint covers, by name (also used by divergence reports). */
export function archState(m: Machine): Record<string, number> {
  return { ...m.hart.archState(), icount: m.hart.icount, idleTicks: m.clock.idleTicks };
}

/**
 * The hash of archState. The debug trigger registers count once the guest has moved them
 * off their reset values, so checkpoints recorded before deja had triggers stay valid.
 */
export function stateHash(m: Machine): number {
  let h = FNV_OFFSET;
  const skip: ReadonlySet<string> = m.hart.triggers.atReset() ? TRIGGERS_AT_RESET : NONE;
  for (const [k, v] of Object.entries(archState(m))) if (!skip.has(k)) h = fnvNumber(h, v);
  return h;
}

const TRIGGERS_AT_RESET: ReadonlySet<string> = new Set(TRIGGER_FIELDS);
const NONE: ReadonlySet<string> = new Set();

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

/**
 * The devices' registers: UART (its RX FIFO included), PLIC, CLINT, RTC and the virtio
 * transports (the syscon holds none). An input the guest has not yet read shows here at
 * the next checkpoint. Disk contents are not hashed, as RAM is not.
 */
export function deviceHash(m: Machine): number {
  let h = FNV_OFFSET;
  for (const d of [m.rtc, m.clint, m.plic, m.uart]) h = hashPlain(h, d.save());
  for (const v of m.virtio) {
    const { backend: _disk, ...regs } = v.save();
    h = hashPlain(h, regs);
  }
  return h;
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
}
