// Recording and replaying the reference Linux guest's modes through the CLI: the replay is
// bit-exact (same console bytes, same end, same exit code, every checkpoint verified),
// `inspect` describes the recording, and two recordings of the same input are the same.

import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initZstd } from '../../src/record/zstd.js';
import { readRecording } from '../../src/record/reader.js';
import { BIN, deja, tmp } from '../helpers/cli.js';
import { stackLines } from './helpers.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { loadRecording } from '../../src/session/replay-session.js';
import { formatExit } from '../../src/machine/machine.js';

const EVERY = 2_000_000;

const MODES = [
  { mode: 'boot', extra: [] as string[], status: 0, reason: 'poweroff', marker: 'BOOT-OK' },
  { mode: 'bench', extra: ['--append-extra', 'benchiter=1000'], status: 0, reason: 'poweroff', marker: 'BENCH iterations=1000 checksum=0x4f7c3f9c' },
  { mode: 'stress', extra: [], status: 0, reason: 'poweroff', marker: 'STRESS-OK' },
  // (the checksum is the one tools/guest/kernel-host.c prints for 2 rounds on the host)
  { mode: 'kernel', extra: ['--append-extra', 'kerneliter=2'], status: 0, reason: 'poweroff', marker: 'KERNEL-OK workers=6 rounds=2 checksum=0xd806bc22' },
  { mode: 'panic', extra: [], status: 5, reason: 'panic', marker: 'Kernel panic - not syncing' },
];

let dir: string;

beforeAll(async () => {
  await initZstd();
  dir = tmp('deja-guest-rec-');
});

describe('record and replay the reference guest', () => {
  for (const m of MODES) {
    it(`${m.mode}: the replay is bit-exact and every checkpoint is verified, under every tier setting`, async () => {
      const file = join(dir, `${m.mode}.deja`);
      const run = deja(['run', '--mode', m.mode, ...m.extra, '--record', file, '--checkpoint-every', String(EVERY)], { stats: true });
      expect(run.status, run.stderr).toBe(m.status);
      expect(run.stdout).toContain(m.marker);
      expect(run.stats?.exit.reason).toBe(m.reason);

      const info = JSON.parse(deja(['inspect', file, '--json']).stdout);
      expect(info.end).toMatchObject({ kind: 'end', reason: m.reason, icount: run.stats!.icount });
      expect(info.truncated).toBeNull();
      const n = info.checkpoints.length;
      expect(n).toBeGreaterThanOrEqual(Math.floor(run.stats!.icount / EVERY));
      expect(info.events.rtc).toBe(1);
      // stress sleeps (clock_nanosleep): idle periods are inputs too.
      if (m.mode === 'stress') expect(info.events.idle).toBeGreaterThanOrEqual(5);

      const rep = deja(['replay', file], { stats: true });
      expect(rep.status, rep.stderr).toBe(run.status);
      expect(stackLines(rep.stderr)).toEqual([]);
      expect(rep.stderr.trim()).toBe(`deja: replay: ${formatExit(run.stats!.exit)} at icount ${run.stats!.icount} as recorded, ${n} of ${n} checkpoints verified`);
      // The same console bytes, to the last one.
      expect(rep.stdout).toBe(run.stdout);
      expect(rep.stats).toMatchObject({ icount: run.stats!.icount, exit: run.stats!.exit, replay: { checkpoints: n, diverged: false, truncated: null } });
      // Cross-tier equality: the same checkpoints and end under every tier setting.
      const { failures, runs } = replayAllTiers(await loadRecording(file));
      expect(failures).toEqual([]);
      for (const r of runs) expect([r.icount, r.exit], r.settings).toEqual([run.stats!.icount, run.stats!.exit]);
    });
  }

  it('a run stopped by --max-insns replays to the same icount and exit code', () => {
    const file = join(dir, 'limit.deja');
    const run = deja(['run', '--mode', 'boot', '-q', '--max-insns', '7M', '--record', file, '--checkpoint-every', String(EVERY)]);
    expect(run.status).toBe(6);
    const rep = deja(['replay', file, '-q']);
    expect(rep.status, rep.stderr).toBe(6);
    expect(rep.stderr.trim()).toBe('deja: replay: limit at icount 7000000 as recorded, 4 of 4 checkpoints verified');
  });

  it('inspect shows header, images, event counts, icount span, checkpoints, end and sizes; --json parses', () => {
    const file = join(dir, 'boot.deja');
    const r = deja(['inspect', file]);
    expect(r.status).toBe(0);
    const rec = readRecording(file);
    const end = rec.events[rec.events.length - 1];
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^recording  ${file}  \\(deja \\d+\\.\\d+\\.\\d+, \\d{4}-\\d\\d-\\d\\dT`));
    expect(r.stdout).toMatch(/^command    run --mode boot --record \S*boot\.deja --checkpoint-every 2000000 --stats-json \S+$/m);
    expect(r.stdout).toMatch(/^machine    ram 128 MiB, append "console=ttyS0 .*initmode=boot"$/m);
    for (const role of ['bios', 'kernel', 'initrd']) expect(r.stdout).toMatch(new RegExp(`^image      ${role} +/\\S+  \\d+ bytes  sha256 [0-9a-f]{16}…$`, 'm'));
    expect(r.stdout).toMatch(/^events     (checkpoint \d+|rtc 1|end 1)(, (checkpoint \d+|rtc 1|end 1))*$/m);
    expect(r.stdout).toContain(`icounts    0 .. ${end.icount}`);
    expect(r.stdout).toMatch(/^console    [1-9]\d+ bytes$/m);
    expect(r.stdout).toMatch(new RegExp(`^checkpoints ${rec.events.filter((e) => e.kind === 'checkpoint').length} \\(every 2000000 instructions\\)$`, 'm'));
    expect(r.stdout).toContain(`end        poweroff at icount ${end.icount}`);
    expect(r.stdout).toMatch(new RegExp(`^size       ${rec.sizes.total} bytes: header ${rec.sizes.header}, images 0, ${rec.chunks} chunks? ${rec.sizes.chunks}$`, 'm'));

    const j = deja(['inspect', file, '--json']);
    expect(j.status).toBe(0);
    const info = JSON.parse(j.stdout);
    expect(info).toMatchObject({
      file,
      config: { ramBytes: 128 * 1024 * 1024, checkpointEvery: EVERY, disks: [] },
      events: { rtc: 1, end: 1 },
      icountSpan: [0, end.icount],
      end: { reason: 'poweroff', code: 0, icount: end.icount },
      truncated: null,
      chunks: rec.chunks,
      sizes: rec.sizes,
    });
    expect(info.images.map((i: { role: string }) => i.role)).toEqual(['bios', 'kernel', 'initrd']);
    for (const i of info.images) expect(i).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), embedded: false });
    expect(info.checkpoints).toEqual(rec.events.filter((e) => e.kind === 'checkpoint').map((e) => e.icount));
    expect(info.sizes.total).toBe(readFileSync(file).length);
    expect(info.sizes.header + info.sizes.images + info.sizes.chunks + 'deja-recording 1\n'.length).toBe(info.sizes.total);
  });

  it('a panic replays to the same icount and says it reproduced the panic', () => {
    const file = join(dir, 'panic.deja');
    const info = JSON.parse(deja(['inspect', file, '--json']).stdout);
    expect(info.end.reason).toBe('panic');
    const r = deja(['replay', file, '-q']);
    expect(r.status).toBe(5);
    expect(r.stderr).toContain(`deja: replay: ${formatExit(info.end)} at icount ${info.end.icount} as recorded`);
  });

  it('two boot recordings with the same input (a fixed RTC) hold the same events; only the creation time differs', () => {
    // Same command line, each in its own folder; --rtc fixes the one host input of a boot.
    const runIn = (sub: string) => {
      const cwd = join(dir, sub);
      mkdirSync(cwd);
      const r = spawnSync(process.execPath, [BIN, 'run', '--mode', 'boot', '-q', '--rtc', '2026-01-01T00:00:00Z', '--record', 'same.deja', '--checkpoint-every', String(EVERY)], { cwd, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return readRecording(join(cwd, 'same.deja'));
    };
    const a = runIn('one');
    const b = runIn('two');
    expect({ ...b.header, created: '' }).toEqual({ ...a.header, created: '' });
    expect(b.events).toEqual(a.events);
    expect(a.events.find((e) => e.kind === 'rtc')).toMatchObject({ nanos: Date.parse('2026-01-01T00:00:00Z') * 1e6 });
    // (Chunk boundaries follow the wall clock, flushed every second, so the bytes of the
    // files may be framed differently; their contents are what must agree.)
  });
});
