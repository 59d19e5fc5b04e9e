// `deja state FILE N`: the machine at icount N of a recording (README, "Positions").

import { UserError, ExitCode } from '../errors.js';
import { MAX_VIEW_BYTES } from '../inspect/memory-view.js';
import { formatMachineView, machineView, machineViewJson } from '../inspect/machine-view.js';
import { parseCount, parseSize } from '../option-values.js';
import { checkIcount, loadRecording } from '../session/replay-session.js';
import { cutShortNote, loadSnapshots, seek } from '../session/seek.js';

export interface StateOptions {
  json?: boolean;
  mem?: string;
  phys?: boolean;
  images?: string;
  /** false: replay from reset, not from the snapshots beside the recording. */
  snapshots?: boolean;
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

export async function stateCommand(file: string, icount: string, o: StateOptions): Promise<number> {
  const n = parseCount(icount, 'N', 'an icount (examples: 1000000, 40M)');
  if (o.phys && o.mem === undefined) throw new UserError('--phys: give the address with --mem ADDR[:LEN]', ExitCode.Usage);
  const mem = o.mem === undefined ? undefined : { ...parseMem(o.mem), phys: o.phys === true };
  const rec = await loadRecording(file);
  checkIcount(rec, n, 'icount');
  const snaps = loadSnapshots(file, rec, o.snapshots !== false);
  const { session, result } = seek(rec, n, snaps, undefined, { images: o.images });
  const r = result;
  if (r.divergence) throw new UserError(`${file}: the replay diverged at icount ${r.divergence.icount} before reaching ${n}: ${r.divergence.what}`, ExitCode.Divergence);
  if (r.icount !== n) throw new UserError(`${file}: the replay reached icount ${r.icount}, not ${n}`, ExitCode.Divergence);
  const cut = cutShortNote(snaps);
  if (cut) process.stderr.write(`deja: note: ${cut}\n`);
  const view = machineView(session.machine, mem);
  process.stdout.write((o.json ? JSON.stringify({ file, ...machineViewJson(view) }, null, 2) : formatMachineView(view)) + '\n');
  return 0;
}
