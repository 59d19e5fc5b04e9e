// deja extract FILE DIR: a recording's embedded images, written so that they boot and
// replay again (replay --images DIR finds them by name).

import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { TIER_ARGS } from '../helpers/tiers.js';
import { buildGuestPrograms, GUEST_BUILD_DIR } from '../helpers/run-elf.js';

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('deja extract', () => {
  it('writes the embedded images under their recorded names; a recording without them then replays with --images DIR', () => {
    buildGuestPrograms();
    const dir = tmp('deja-extract-');
    const elf = join(dir, 'loops.elf');
    copyFileSync(join(GUEST_BUILD_DIR, 'loops.elf'), elf);
    const embedded = join(dir, 'embedded.deja');
    const plain = join(dir, 'plain.deja');
    expect(deja(['run', '--elf', elf, '--record', embedded, '--embed', '-q']).status).toBe(0);
    expect(deja(['run', '--elf', elf, '--record', plain, '-q']).status).toBe(0);
    const want = sha(elf);
    rmSync(elf);
    expect(deja(['replay', plain, '-q']).status).toBe(3);

    const out = join(dir, 'images');
    const r = deja(['extract', embedded, out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`elf     ${join(out, 'loops.elf')}`);
    expect(r.stdout).toMatch(/deja: extract: 1 image written to .*\(boot them: deja run --elf .*loops\.elf\)/);
    expect(sha(join(out, 'loops.elf'))).toBe(want);
    expect(deja(['replay', plain, '-q', '--images', out]).status).toBe(0);
    // Again into the same folder: the same bytes are there already.
    expect(deja(['extract', embedded, out]).status).toBe(0);

    // A recording without embedded images, and a folder holding other bytes under the name, are refused.
    const none = deja(['extract', plain, join(dir, 'other')]);
    expect(none.status).toBe(3);
    expect(none.stderr).toMatch(/plain\.deja: no image is embedded \(recorded without --embed\)/);
    writeFileSync(join(out, 'loops.elf'), 'not the program');
    const clash = deja(['extract', embedded, out]);
    expect(clash.status).toBe(3);
    expect(clash.stderr).toMatch(/loops\.elf: exists with other bytes than the elf image recorded/);
    for (const x of [none, clash]) expect(x.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('checks every image before it writes one, and wants a folder', () => {
    const dir = tmp('deja-extract-boot-');
    const boot = join(dir, 'boot.deja');
    expect(deja(['run', '--mode', 'boot', '-q', '--embed', '--record', boot]).status).toBe(0);
    // (Cross-tier equality: the recording replays under every tier, every checkpoint verified.)
    for (const args of TIER_ARGS) expect(deja(['replay', boot, '-q', ...args]).stderr, args.join(' ')).toMatch(/poweroff at icount \d+ as recorded, (\d+) of \1 checkpoints verified/);
    const out = join(dir, 'images');
    mkdirSync(out);
    // The kernel's name holds other bytes: refused, and the firmware (written first otherwise) is not written either.
    writeFileSync(join(out, 'Image'), 'not the kernel');
    const r = deja(['extract', boot, out]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/Image: exists with other bytes than the kernel image recorded/);
    expect(readdirSync(out)).toEqual(['Image']);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const f = deja(['extract', boot, file]);
    expect(f.status).toBe(3);
    expect(f.stderr.trim()).toBe(`deja: ${file}: a file, not a folder (extract writes the images into a folder)`);
  });
});
