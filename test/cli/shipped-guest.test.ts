// The reference guest's images ship in guest/: checked by sha256, built from this
// checkout's recipe, and what `deja run` boots when nothing else is asked for.

import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, deja, tmp } from '../helpers/cli.js';
import { GUEST_FILES, SHIPPED_GUEST_DIR, defaultGuest } from '../../src/cli/guest.js';
// @ts-expect-error: a plain JavaScript module (tools run before anything is built)
import { recipeKey, shippedIntact, shippedRecipe } from '../../tools/guest/shipped.mjs';

describe('the shipped guest', () => {
  it('is in guest/, matches guest/SHA256SUMS, and was built from the recipe in tools/guest/', () => {
    expect(SHIPPED_GUEST_DIR).toBe(join(ROOT, 'guest'));
    for (const f of Object.values(GUEST_FILES)) expect(existsSync(join(SHIPPED_GUEST_DIR, f)), f).toBe(true);
    expect(shippedIntact()).toBe(true);
    // A recipe changed without `npm run guest -- --ship` leaves images the recipe no longer makes.
    expect(shippedRecipe(), 'guest/RECIPE: the recipe changed; rebuild and ship: npm run guest -- --ship').toBe(recipeKey());
  });

  it('boots with no DEJA_GUEST_DIR and no guest built (an empty cache)', () => {
    const env = { DEJA_GUEST_DIR: '', DEJA_CACHE_DIR: tmp('deja-empty-cache-') };
    const r = deja(['run', '--mode', 'boot', '--no-record'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('BOOT-OK');
    const prev = process.env.DEJA_GUEST_DIR;
    delete process.env.DEJA_GUEST_DIR;
    try {
      expect(defaultGuest().dir).toBe(SHIPPED_GUEST_DIR);
    } finally {
      if (prev !== undefined) process.env.DEJA_GUEST_DIR = prev;
    }
  });

  it('a DEJA_GUEST_DIR folder with a SHA256SUMS is checked against it too; one without is booted as it is', () => {
    const dir = tmp('deja-guest-dir-');
    for (const f of [...Object.values(GUEST_FILES), 'SHA256SUMS']) copyFileSync(join(SHIPPED_GUEST_DIR, f), join(dir, f));
    const env = { DEJA_GUEST_DIR: dir };
    expect(deja(['run', '--mode', 'boot', '-q', '--no-record'], { env }).status).toBe(0);
    // Written with a trailing slash, or relative: the same folder.
    expect(deja(['run', '--mode', 'boot', '-q', '--no-record', '--max-insns', '1000'], { env: { DEJA_GUEST_DIR: `${dir}/` } }).status).toBe(6);
    expect(deja(['run', '--mode', 'boot', '-q', '--no-record', '--max-insns', '1000'], { env: { DEJA_GUEST_DIR: relative(process.cwd(), dir) } }).status).toBe(6);
    const kernel = readFileSync(join(dir, 'Image'));
    kernel[5000] ^= 1;
    writeFileSync(join(dir, 'Image'), kernel);
    const r = deja(['run', '--mode', 'boot', '-q', '--no-record'], { env });
    expect(r.status).toBe(3);
    expect(r.stderr.trim()).toBe(`deja: ${join(dir, 'Image')}: not the image ${join(dir, 'SHA256SUMS')} names (damaged, or changed since ${join(dir, 'SHA256SUMS')} was written? npm run guest builds the images again)`);
    rmSync(join(dir, 'SHA256SUMS'));
    // Without a list there is nothing to check against: the damaged kernel boots far enough to run.
    expect(deja(['run', '--mode', 'boot', '-q', '--no-record', '--max-insns', '1000'], { env }).status).toBe(6);
  });
});
