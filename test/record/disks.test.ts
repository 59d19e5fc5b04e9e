// Disk images given with --disk are images like the others: in the recording's manifest
// with their sha256 (so a replay checks them), embedded with --embed. The guest's writes
// stay in an in-memory overlay, so what the guest reads is a function of the image bytes:
// the hash covers disk reads, and a different disk makes a different run.

import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initZstd } from '../../src/record/zstd.js';
import { FRAME_IMAGE } from '../../src/record/format.js';
import { readRecording } from '../../src/record/reader.js';
import { replayRecording } from '../../src/session/replay-session.js';
import { ROOT, deja, tmp } from '../helpers/cli.js';
import { buildGuestPrograms } from '../helpers/run-elf.js';
import { frames, stackLines } from './helpers.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { loadRecording } from '../../src/session/replay-session.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ELF = join(ROOT, 'test/guest/build/uart-plic.elf');

// The bare-metal programs are built by test/guest/build.sh (a fresh clone has none yet).
beforeAll(() => buildGuestPrograms());

/** A 1 MiB disk whose MBR has one Linux partition (or none). */
function disk(partitioned: boolean): Uint8Array {
  const d = new Uint8Array(1 << 20);
  for (let i = 512 * 64; i < d.length; i++) d[i] = (i * 2654435761) >>> 27;
  if (partitioned) {
    const dv = new DataView(d.buffer);
    d[446 + 4] = 0x83;
    dv.setUint32(446 + 8, 64, true);
    dv.setUint32(446 + 12, 512, true);
    d[510] = 0x55;
    d[511] = 0xaa;
  }
  return d;
}

let dir: string;

beforeAll(async () => {
  await initZstd();
  dir = tmp('deja-disks-');
});

describe('disk images in recordings', () => {
  it('a Linux boot with a disk: the manifest has it with its sha256, the replay checks it and reads the same bytes', async () => {
    const img = join(dir, 'mbr.img');
    const bytes = disk(true);
    writeFileSync(img, bytes);
    const file = join(dir, 'disk.deja');
    const run = deja(['run', '--mode', 'boot', '--disk', img, '--record', file, '--checkpoint-every', '2000000']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/vda: vda1/); // the kernel read the partition table

    const info = JSON.parse(deja(['inspect', file, '--json']).stdout);
    expect(info.config.disks).toEqual([{ name: img, readonly: false }]);
    expect(info.images.find((i: { role: string }) => i.role === 'disk')).toEqual({
      role: 'disk', name: img, size: bytes.length, sha256: sha(bytes), addr: 0, embedded: false,
    });

    const rep = deja(['replay', file]);
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stdout).toBe(run.stdout);
    // Cross-tier equality: the same recording under every tier setting.
    expect(replayAllTiers(await loadRecording(file)).failures).toEqual([]);

    // Another disk at that path is refused, by its hash.
    writeFileSync(img, disk(false));
    const bad = deja(['replay', file, '-q']);
    expect(bad.status).toBe(3);
    expect(stackLines(bad.stderr)).toEqual([]);
    expect(bad.stderr.trim()).toMatch(new RegExp(`^deja: ${img}: disk image does not match the one recorded in ${file} \\(sha256 [0-9a-f]{12}…, recorded ${sha(bytes).slice(0, 12)}…\\)$`));

    // And the hash is what stands between the replay and a different run: with the check
    // defeated (the manifest made to name the new disk's hash) the guest reads other bytes
    // and the replay diverges.
    const rec = readRecording(file);
    const forged = { ...rec, header: { ...rec.header, images: rec.header.images.map((i) => (i.role === 'disk' ? { ...i, sha256: sha(disk(false)) } : i)) } };
    const r = replayRecording(forged, {});
    expect(r.divergence).not.toBeNull();
    expect(r.divergence!.what).toMatch(/differs|the guest asked for/);
    writeFileSync(img, bytes);
  });

  it('--embed embeds the disk: the recording replays with the file gone', () => {
    const img = join(dir, 'embedded.img');
    const bytes = disk(true);
    writeFileSync(img, bytes);
    const file = join(dir, 'embedded.deja');
    const run = deja(['run', '--elf', ELF, '--disk', img, '--disk', img, '--record', file, '--embed']);
    expect(run.status, run.stderr).toBe(0);
    const info = JSON.parse(deja(['inspect', file, '--json']).stdout);
    const disks = info.images.filter((i: { role: string }) => i.role === 'disk');
    expect(disks).toHaveLength(2);
    for (const d of disks) expect(d).toMatchObject({ sha256: sha(bytes), size: bytes.length, embedded: true });
    // Two copies of one disk are embedded once.
    const buf = new Uint8Array(readFileSync(file));
    expect(frames(buf).filter((f) => f.type === FRAME_IMAGE)).toHaveLength(2);
    expect(buf.length).toBeLessThan(bytes.length / 2);
    expect(deja(['inspect', file]).stdout).toMatch(/^image {6}disk .*embedded \(\d+ bytes compressed\)$/m);

    rmSync(img);
    // An --images folder with nothing in it: the disk can only come from the recording.
    const empty = join(dir, 'no-images-here');
    mkdirSync(empty);
    const rep = deja(['replay', file, '-q', '--images', empty]);
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stderr).toMatch(/as recorded/);
  });
});
