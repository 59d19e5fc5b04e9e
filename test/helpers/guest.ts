// The reference Linux guest's files for tests: from $DEJA_GUEST_DIR, the images shipped in
// guest/, the last `npm run guest` build, else the shared build.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GUEST_FILES, builtGuestDir, defaultGuestDir, guestAppend } from '../../src/cli/guest.js';
import type { MachineConfig } from '../../src/machine/machine.js';
import { DEFAULT_RAM_BYTES } from '../../src/machine/board.js';

/** A guest file, by name. */
export function guestFile(name: string): string {
  const dirs = [defaultGuestDir(), builtGuestDir(), '/work/shared/guest/out'];
  for (const dir of dirs) {
    const f = join(dir, name);
    if (existsSync(f)) return f;
  }
  throw new Error(`guest file ${name} not found in ${dirs.join(' or ')}: run \`npm run guest\` or set DEJA_GUEST_DIR`);
}

/** The folder the guest's images are in (for DEJA_GUEST_DIR of a `deja run`). */
export function guestDir(): string {
  return dirname(guestFile(GUEST_FILES.kernel));
}

/** The machine configuration `deja run --mode MODE` boots. */
export function guestConfig(mode: string): MachineConfig {
  const img = (name: string) => ({ name: guestFile(name), bytes: new Uint8Array(readFileSync(guestFile(name))) });
  return {
    ramBytes: DEFAULT_RAM_BYTES,
    bios: img(GUEST_FILES.bios),
    kernel: img(GUEST_FILES.kernel),
    initrd: img(GUEST_FILES.initrd),
    append: guestAppend(mode, undefined),
    disks: [],
  };
}
