// `deja state FILE N`: the machine at icount N of a recording (README, "Positions").

import { Machine } from '../machine/machine.js';
import type { Recording } from '../record/reader.js';
import { Divergence, ReplayPort } from '../record/replay.js';
import { UserError, ExitCode } from '../errors.js';
import { MAX_VIEW_BYTES } from '../inspect/memory-view.js';
import { formatMachineView, machineView, machineViewJson } from '../inspect/machine-view.js';
import { replayConfig } from './manifest.js';
import { parseCount, parseSize } from './options.js';
import { loadRecording } from './replay.js';

export interface StateOptions {
  json?: boolean;
  mem?: string;
  phys?: boolean;
  images?: string;
}

/** Bytes `--mem ADDR` shows without a length. */
export const DEFAULT_MEM_BYTES = 64;

/** `--mem ADDR[:LEN]`: ADDR in hex (0x...) or decimal; LEN the same, or a size like 4K or 1M. */
export function parseMem(value: string): { addr: number; len: number } {
  const [a, l, extra] = value.split(':');
  if (extra !== undefined) throw new UserError(`--mem: '${value}' is not ADDR[:LEN] (example: 0x80000000:256)`, ExitCode.Usage);
  const addr = parseInteger(a);
  if (!(addr < 2 ** 32)) throw new UserError(`--mem: '${a}' is not an address (hex 0x... or decimal, below 2^32)`, ExitCode.Usage);
  let len = DEFAULT_MEM_BYTES;
  if (l !== undefined) {
    len = /^\s*0x/i.test(l) ? parseInteger(l) : parseSize(l, '--mem');
    if (!(len >= 1 && len <= MAX_VIEW_BYTES)) throw new UserError(`--mem: '${l}' is not a length from 1 to ${MAX_VIEW_BYTES} bytes (1M)`, ExitCode.Usage);
  }
  if (addr + len > 2 ** 32) throw new UserError(`--mem: ${len} bytes at ${a} run past the end of the 32-bit address space`, ExitCode.Usage);
  return { addr, len };
}

/** A whole number in hex (0x...) or decimal; NaN if it is not one. */
function parseInteger(text: string): number {
  const t = text.trim().replace(/_/g, '');
  return /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
}

/** Where a recording ends: its end record, or (truncated) its last event. */
function lastIcount(rec: Recording): number {
  const end = rec.events.find((e) => e.kind === 'end');
  return end ? end.icount : rec.events.length ? rec.events[rec.events.length - 1].icount : 0;
}

/**
 * The machine at icount `n`, replayed from reset under the interpreter with the recorded
 * inputs, each checked as it is taken (as `replay --no-verify` does). The session module's
 * seek replaces this.
 */
function replayTo(rec: Recording, n: number, images: string | undefined): Machine {
  const port = new ReplayPort(rec.events);
  const machine = new Machine(replayConfig(rec, images), port);
  machine.boundaryHook = (m) => port.check(m.hart.icount);
  try {
    // A replay returns before its limit only at the recording's end (the host's turn).
    for (let turns = 0; turns < 1000 && !machine.exit && machine.hart.icount < n; turns++) {
      if (machine.runUntil(n) === 'wait') break;
    }
  } catch (e) {
    if (e instanceof Divergence) throw new UserError(`${rec.path}: the replay diverged at icount ${e.report.icount} before reaching ${n}: ${e.report.what}`, ExitCode.Divergence);
    throw e;
  }
  if (machine.hart.icount !== n) {
    const why = machine.exit ? `the guest ended (${machine.exit.reason})` : 'it stopped';
    throw new UserError(`${rec.path}: the replay reached icount ${machine.hart.icount}, not ${n}: ${why}`, ExitCode.Divergence);
  }
  return machine;
}

export async function stateCommand(file: string, icount: string, o: StateOptions): Promise<number> {
  const n = parseCount(icount, 'N', 'an icount (examples: 1000000, 40M)');
  if (o.phys && o.mem === undefined) throw new UserError('--phys: give the address with --mem ADDR[:LEN]', ExitCode.Usage);
  const mem = o.mem === undefined ? undefined : { ...parseMem(o.mem), phys: o.phys === true };
  const rec = await loadRecording(file);
  const end = lastIcount(rec);
  if (n > end) throw new UserError(`${file}: icount ${n} is past the end of the recording (icount ${end})`, ExitCode.Usage);
  const machine = replayTo(rec, n, o.images);
  const view = machineView(machine, mem);
  process.stdout.write((o.json ? JSON.stringify({ file, ...machineViewJson(view) }, null, 2) : formatMachineView(view)) + '\n');
  return 0;
}
