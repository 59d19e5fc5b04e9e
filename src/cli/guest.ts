// The default guest: the images shipped in the repository (guest/), or those `npm run
// guest` builds into the cache (tools/guest).

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError, ExitCode } from '../errors.js';

export const GUEST_BUILD_COMMAND = 'npm run guest';

export const GUEST_FILES = { bios: 'fw_jump.bin', kernel: 'Image', initrd: 'initramfs.cpio' } as const;

/** The reference guest's /init modes (tools/guest/init/init.c). */
export const GUEST_MODES = ['boot', 'bench', 'stress', 'kernel', 'panic', 'shell'] as const;

/**
 * The least RAM the reference guest boots in. Its firmware, OpenSBI fw_jump, copies the
 * device tree to FW_JUMP_FDT_ADDR = 0x80000000 + 0x2200000 (the guest kit's README) before
 * it has a trap handler: with RAM ending below that, the copy faults and the firmware waits
 * in wfi for good. 0x2200000 is 34 MiB; the tree and the room OpenSBI grows it into
 * need RAM past that, and 35 MiB boots.
 */
export const GUEST_MIN_RAM = 35 * 1024 * 1024;

/** The images that ship with deja (from dist/cli/ or src/cli/ alike). */
export const SHIPPED_GUEST_DIR = fileURLToPath(new URL('../../guest', import.meta.url));

/** The last build of `npm run guest`: <cache>/guest/current. */
export function builtGuestDir(): string {
  const cache = process.env.DEJA_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'deja');
  return join(cache, 'guest', 'current');
}

/** $DEJA_GUEST_DIR, else the shipped images, else the last build (a checkout without guest/). */
export function defaultGuestDir(): string {
  if (process.env.DEJA_GUEST_DIR) return process.env.DEJA_GUEST_DIR;
  if (Object.values(GUEST_FILES).every((f) => existsSync(join(SHIPPED_GUEST_DIR, f)))) return SHIPPED_GUEST_DIR;
  return builtGuestDir();
}

/**
 * An image that is not the bytes its folder's SHA256SUMS names is refused: the shipped
 * images (a damaged checkout; their SHA256SUMS must be there), or a build's (npm run guest,
 * the guest kit and $DEJA_GUEST_DIR folders carry one; a folder without one is not checked).
 */
function checkSums(dir: string, files: string[]): void {
  const shipped = dir === SHIPPED_GUEST_DIR;
  const list = join(dir, 'SHA256SUMS');
  if (!shipped && !existsSync(list)) return;
  let sums: Map<string, string>;
  try {
    sums = new Map(readFileSync(list, 'utf8').split('\n').filter(Boolean).map((l) => l.split(/\s+\*?/).reverse() as [string, string]));
  } catch {
    throw new UserError(`${list}: missing or unreadable; it checks the ${shipped ? 'shipped images (git checkout guest/ restores it)' : 'images beside it'}`, ExitCode.BadInput);
  }
  for (const f of files) {
    const name = basename(f);
    if (createHash('sha256').update(readFileSync(f)).digest('hex') !== sums.get(name)) {
      const fix = shipped ? 'a damaged checkout? git checkout guest/ restores it; npm run guest builds it' : `damaged, or changed since ${list} was written? npm run guest builds the images again`;
      throw new UserError(`${f}: not the image ${shipped ? 'guest/SHA256SUMS' : list} names (${fix})`, ExitCode.BadInput);
    }
  }
}

/** The default guest's image paths; a clear error if it has not been built. */
export function defaultGuest(): { bios: string; kernel: string; initrd: string; dir: string } {
  const dir = defaultGuestDir();
  const files = { bios: join(dir, GUEST_FILES.bios), kernel: join(dir, GUEST_FILES.kernel), initrd: join(dir, GUEST_FILES.initrd) };
  const missing = Object.values(files).filter((f) => !existsSync(f));
  if (missing.length) {
    throw new UserError(
      `no guest images in ${dir} (missing ${missing.map((f) => basename(f)).join(', ')}): run \`${GUEST_BUILD_COMMAND}\` first, or set DEJA_GUEST_DIR`,
      ExitCode.BadInput,
    );
  }
  checkSums(dir, Object.values(files));
  return { ...files, dir };
}

/** The kernel command line for an /init mode of the reference guest. */
export function guestAppend(mode: string | undefined, extra: string | undefined): string {
  const parts = ['console=ttyS0 earlycon=sbi panic=-1'];
  if (mode) parts.push(`initmode=${mode}`);
  if (extra) parts.push(extra);
  return parts.join(' ');
}
