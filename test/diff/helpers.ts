// Recordings the diff tests make: bare-metal ISA programs recorded under the interpreter
// with a checkpoint every 1000 instructions (so replays stop early), once per test file.

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { deja, tmp } from '../helpers/cli.js';
import { buildGuestPrograms, GUEST_BUILD_DIR } from '../helpers/run-elf.js';
import { loadRecording } from '../../src/session/replay-session.js';
import type { Recording } from '../../src/record/reader.js';
import { sideSettings, type SideSettings } from '../../src/diff/settings.js';

let dir: string | null = null;
const cache = new Map<string, Recording>();

/** A recording of test/guest/isa/NAME.S, made with the interpreter. */
export async function recordProgram(name: string): Promise<Recording> {
  const have = cache.get(name);
  if (have) return have;
  if (!dir) {
    buildGuestPrograms();
    dir = tmp('deja-diff-');
  }
  const elf = join(GUEST_BUILD_DIR, `${name}.elf`);
  if (!existsSync(elf)) throw new Error(`${elf} was not built`);
  const file = join(dir, `${name}.deja`);
  const r = deja(['run', '--elf', elf, '--record', file, '--checkpoint-every', '1000', '-q']);
  if (r.status !== 0) throw new Error(`recording ${name} failed (${r.status}): ${r.stderr}`);
  const rec = await loadRecording(file);
  cache.set(name, rec);
  return rec;
}

export const INTERP: SideSettings = sideSettings('tier=interp', '--a');

export function settings(text: string): SideSettings {
  return sideSettings(text, '--b');
}
