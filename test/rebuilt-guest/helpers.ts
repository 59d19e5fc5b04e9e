// Tests of a guest rebuilt from source: `npm run guest` (root the first time, for apt-get,
// and the RISC-V cross compiler). Each is skipped, and says so in its name, where no such
// build is there; CI builds one.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtGuestDir } from '../../src/cli/guest.js';

export const NEEDS_REBUILT_GUEST = 'needs a guest rebuilt from source: npm run guest';

/** A file of the last build (or of $DEJA_GUEST_DIR, if it names one): vmlinux, fw_jump.elf, init...; null if there is none. */
export function rebuiltGuestFile(name: string): string | null {
  for (const dir of [process.env.DEJA_GUEST_DIR, builtGuestDir()]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}
