// `deja run --record FILE --snapshot-every N` writes, while recording, the snapshots `deja
// index FILE --every N` writes afterwards: snapshot for snapshot the same icount, machine
// state, RAM (rebuilt from each chain), disks and console log, whatever tier recorded it,
// also when the run ends right at a multiple of N or is stopped by SIGINT. `replay --to`
// starts from them under every tier and stops in the state a replay from reset reaches.

import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { TIER_ARGS } from '../helpers/tiers.js';
import { guestDir } from '../helpers/guest.js';
import { spawnDeja } from '../record/helpers.js';
import { tinyConfig } from '../record/tiny-guest.js';
import { initZstd } from '../../src/record/zstd.js';
import { readRecording, type Recording } from '../../src/record/reader.js';
import { readSnapshotFile, snapshotPath } from '../../src/record/snapshot-file.js';
import type { Snapshot } from '../../src/machine/snapshot.js';
import { ReplaySession } from '../../src/session/replay-session.js';

const TIERS = TIER_ARGS;

const dir = tmp('deja-recsnap-');
let tinyBin: string;
const linux = { env: { DEJA_GUEST_DIR: '' } };

beforeAll(async () => {
  await initZstd();
  tinyBin = tinyConfig(dir).bios!.name;
  linux.env.DEJA_GUEST_DIR = guestDir();
});

/** The RAM of a replay of `rec` restored from `chain`. */
function ramOf(rec: Recording, chain: Snapshot[]): Uint8Array {
  const s = new ReplaySession(rec);
  s.restore(chain);
  return s.machine.mem.u8;
}

/**
 * Moves the snapshots the recorder wrote beside `file` aside, indexes `file` with `deja index
 * --every N`, and checks the two files hold the same snapshots; puts the recorder's back.
 * Returns their icounts.
 */
function expectSameAsIndex(file: string, every: number): number[] {
  const recorded = `${file}.recorded`;
  copyFileSync(snapshotPath(file), recorded);
  const index = deja(['index', file, '--every', String(every)]);
  expect(index.status, index.stderr).toBe(0);
  const rec = readRecording(file);
  const a = readSnapshotFile(recorded, rec)!;
  const b = readSnapshotFile(snapshotPath(file), rec)!;
  expect(a.truncated).toBeNull();
  expect(a.header).toEqual(b.header);
  expect(a.snapshots.map((s) => s.icount)).toEqual(b.snapshots.map((s) => s.icount));
  a.snapshots.forEach((s, k) => {
    const t = b.snapshots[k];
    expect(s.icount).toBe((k + 1) * every);
    expect({ ...s, pages: null, checkpointPages: [...s.checkpointPages].sort((x, y) => x - y) }, `snapshot at ${s.icount}`).toEqual({ ...t, pages: null, checkpointPages: [...t.checkpointPages].sort((x, y) => x - y) });
    // The pages each lists may differ (a page written back to what it held); the RAM may not.
    expect(Buffer.compare(ramOf(rec, a.snapshots.slice(0, k + 1)), ramOf(rec, b.snapshots.slice(0, k + 1))), `RAM at ${s.icount}`).toBe(0);
  });
  copyFileSync(recorded, snapshotPath(file));
  return a.snapshots.map((s) => s.icount);
}

/** `replay --to N` from the snapshots under every tier: where a replay from reset stops, in the same state. */
function expectReplaysTo(file: string, points: number[], every: number, env = {}): void {
  for (const n of points) {
    const straight = deja(['replay', file, '-q', '--to', String(n), '--no-snapshots'], { stats: true, env });
    expect(straight.status, straight.stderr).toBe(0);
    const want = straight.stats!.replay as { pc: number; stateHash: number; deviceHash: number };
    for (const tier of TIERS) {
      const r = deja(['replay', file, '-q', '--to', String(n), ...tier], { stats: true, env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^deja: replay: stopped at icount ${n} as asked, from the snapshot at icount ${n - (n % every)}, `));
      const got = r.stats!.replay as typeof want & { from: number };
      expect(got.from).toBe(n - (n % every));
      expect({ pc: got.pc, stateHash: got.stateHash, deviceHash: got.deviceHash }, `${tier.join(' ')} --to ${n}`).toEqual({ pc: want.pc, stateHash: want.stateHash, deviceHash: want.deviceHash });
    }
  }
}

const tinyArgs = () => ['run', '--bios', tinyBin, '--ram', '16M', '--rtc', '2026-01-01T00:00:00Z', '-q', '--checkpoint-every', '2000'];

describe('deja run --snapshot-every: the snapshots deja index takes, taken while recording', () => {
  it('the tiny guest (timer, RTC, console input), under each tier; replay --to starts from them', () => {
    for (const tier of [TIERS[0], TIERS[1], TIERS[3]]) {
      const file = join(dir, `tiny-${tier[1]}-${tier.length}.deja`);
      const run = deja([...tinyArgs(), '--record', file, '--snapshot-every', '997', ...tier], { input: 'hi\nabc', stats: true });
      expect(run.status, run.stderr).toBe(0);
      const icounts = expectSameAsIndex(file, 997);
      expect(icounts.length).toBeGreaterThanOrEqual(10);
      expect(run.stats!.recording).toMatchObject({ file, snapshots: { file: snapshotPath(file), count: icounts.length } });
      if (tier === TIERS[0]) expectReplaysTo(file, [997, 3000, 9999], 997);
    }
  });

  it('a run that ends right at a multiple of N: no snapshot where it ends, as deja index takes none', () => {
    const file = join(dir, 'limit.deja');
    const run = deja([...tinyArgs(), '--record', file, '--snapshot-every', '997', '--max-insns', String(3 * 997)], { input: 'hi' });
    expect(run.status, run.stderr).toBe(6);
    expect(expectSameAsIndex(file, 997)).toEqual([997, 1994]);
  });

  it('a Linux boot recorded under the trace tier; replay --to from its snapshots under every tier', () => {
    const file = join(dir, 'boot.deja');
    const run = deja(['run', '--mode', 'boot', '-q', '--record', file, '--snapshot-every', '7M', '--tier', 'trace', '--block-threshold', '1', '--trace-threshold', '1'], linux);
    expect(run.status, run.stderr).toBe(0);
    expect(expectSameAsIndex(file, 7_000_000)).toEqual([7e6, 14e6, 21e6, 28e6, 35e6]);
    expectReplaysTo(file, [7_000_000, 22_345_678], 7_000_000, linux.env);
  });

  it('a run stopped by SIGINT closes its snapshot file whole', async () => {
    const file = join(dir, 'bench.deja');
    const run = await spawnDeja(['run', '--mode', 'bench', '--record', file, '--snapshot-every', '4M'], async (io) => {
      await io.waitFor('mode=bench');
      io.kill('SIGINT');
    }, linux.env);
    expect(run.status, run.stderr).toBe(8);
    expect(expectSameAsIndex(file, 4_000_000).length).toBeGreaterThanOrEqual(2);
  });

  it('recording over a recording removes its snapshots, which name the old one', () => {
    const file = join(dir, 'again.deja');
    expect(deja([...tinyArgs(), '--record', file, '--snapshot-every', '997']).status).toBe(0);
    expect(existsSync(snapshotPath(file))).toBe(true);
    expect(deja([...tinyArgs(), '--record', file], { input: 'other' }).status).toBe(0);
    expect(existsSync(snapshotPath(file))).toBe(false);
    const r = deja(['replay', file, '-q', '--to', '3000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('from the snapshot');
    // A file there that is not a snapshot file is not deja's to remove.
    writeFileSync(snapshotPath(file), 'notes');
    expect(deja([...tinyArgs(), '--record', file]).status).toBe(0);
    expect(readFileSync(snapshotPath(file), 'utf8')).toBe('notes');
  });

  it.each([
    [['--snapshot-every', '5M', '--max-insns', '1000'], /^deja: --snapshot-every writes snapshots beside a recording: give --record FILE$/],
    [['--snapshot-every', '0', '--record', join(dir, 'x.deja')], /^deja: --snapshot-every must be at least 1$/],
    [['--snapshot-every', 'often', '--record', join(dir, 'x.deja')], /^deja: --snapshot-every: 'often' is not a count/],
  ])('%j is refused with one line (exit 2)', (args, line) => {
    const r = deja(['run', '--bios', tinyBin, '--ram', '16M', '-q', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd()).toMatch(line);
  });
});
