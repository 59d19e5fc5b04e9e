// The reference guest's images that ship in the repository (guest/), and the recipe they
// were built from. build-cached.mjs (npm run guest) compares a build with them and, asked
// to (--ship), replaces them; the tests check them against their sha256 and their recipe.
// Plain Node, no dependencies: it runs before anything is built.

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The folder of the shipped images. */
export const SHIPPED_DIR = join(here, '..', '..', 'guest');

/** What `deja run` boots: firmware, kernel, initramfs (src/cli/guest.ts GUEST_FILES). */
export const SHIPPED_FILES = ['fw_jump.bin', 'Image', 'initramfs.cpio'];

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The hash of the recipe (build.sh, the kernel config fragment, /init's sources): the cache key of a build. */
export function recipeKey() {
  const recipe = ['build.sh', 'linux-rv32.config', ...readdirSync(join(here, 'init')).sort().map((f) => join('init', f))];
  const hash = createHash('sha256');
  for (const f of recipe) hash.update(f + '\0').update(readFileSync(join(here, f)));
  return hash.digest('hex').slice(0, 16);
}

/** guest/SHA256SUMS as a map, file -> sha256 (empty if it is not there). */
export function shippedSums() {
  const f = join(SHIPPED_DIR, 'SHA256SUMS');
  if (!existsSync(f)) return new Map();
  return new Map(readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => l.split(/\s+\*?/).reverse()));
}

/** The recipe key the shipped images were built from (guest/RECIPE), or null. */
export function shippedRecipe() {
  const f = join(SHIPPED_DIR, 'RECIPE');
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : null;
}

/** Every shipped image is there and matches guest/SHA256SUMS. */
export function shippedIntact() {
  const sums = shippedSums();
  return SHIPPED_FILES.every((f) => sums.has(f) && existsSync(join(SHIPPED_DIR, f)) && sha256(join(SHIPPED_DIR, f)) === sums.get(f));
}

/** How the images in `dir` (a build) differ from the shipped ones: [] when every one is the same. */
export function differences(dir) {
  const sums = shippedSums();
  const out = [];
  for (const f of SHIPPED_FILES) {
    const built = sha256(join(dir, f));
    if (sums.get(f) !== built) out.push(`${f} (built ${built.slice(0, 12)}…, shipped ${(sums.get(f) ?? 'none').slice(0, 12)}…)`);
  }
  return out;
}

/** Replaces the shipped images with the build in `dir` (built from recipe `key`). */
export function ship(dir, key) {
  for (const f of [...SHIPPED_FILES, 'build-info.txt']) copyFileSync(join(dir, f), join(SHIPPED_DIR, f));
  writeFileSync(join(SHIPPED_DIR, 'SHA256SUMS'), SHIPPED_FILES.map((f) => `${sha256(join(SHIPPED_DIR, f))}  ${f}\n`).join(''));
  writeFileSync(join(SHIPPED_DIR, 'RECIPE'), `${key}\n`);
}
