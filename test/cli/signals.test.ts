// SIGINT and SIGTERM stop a run as Ctrl-A X does (issue 18, item 3): the guest stops at an
// instruction boundary, the recording gets its end record (`stop`), --stats-json is
// written, one line says so, and the exit code is 8; the recording replays to that stop.
// A second signal kills at once. A replay stops at its next checkpoint, with exit 8 too.

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { spawnDeja, stackLines } from '../record/helpers.js';
import { TIER_ARGS } from '../helpers/tiers.js';
import { catchStopSignals } from '../../src/cli/console.js';

/**
 * Runs deja with `args` and sends `signal` once its console shows `text`: it exits 8, with
 * one line on stderr, which `line` matches (its match returned).
 */
async function stopWith(signal: NodeJS.Signals, args: string[], text: string, line: RegExp): Promise<RegExpExecArray> {
  const run = await spawnDeja(args, async (io) => {
    await io.waitFor(text);
    io.kill(signal);
  });
  expect(run.signal).toBeNull();
  expect(run.status, run.stderr).toBe(8);
  expect(stackLines(run.stderr)).toEqual([]);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  const m = line.exec(lines[0]);
  expect(m, lines[0]).not.toBeNull();
  return m!;
}

describe('a signal during a run', () => {
  const dir = tmp('deja-signal-');

  it.each([['SIGINT'], ['SIGTERM']] as const)('%s stops it like Ctrl-A X, with the end record, the stats and one line', async (signal) => {
    const file = join(dir, `${signal}.deja`);
    const stats = join(dir, `${signal}.json`);
    // The full bench runs for minutes: the signal comes long before it ends.
    const m = await stopWith(signal, ['run', '--mode', 'bench', '--record', file, '--stats-json', stats], 'mode=bench', new RegExp(`^deja: run: stop at icount (\\d+): stopped by ${signal}$`));
    const icount = Number(m[1]);
    expect(JSON.parse(readFileSync(stats, 'utf8'))).toMatchObject({ icount, exit: { reason: 'stop', code: 0 } });

    const info = JSON.parse(deja(['inspect', file, '--json']).stdout);
    expect(info.end).toMatchObject({ reason: 'stop', icount });
    const rep = deja(['replay', file, '-q']);
    expect(rep.status, rep.stderr).toBe(8);
    expect(rep.stderr.trim()).toMatch(new RegExp(`^deja: replay: stop at icount ${icount} as recorded, (\\d+) of \\1 checkpoints verified$`));
  });
});

describe('a signal during a replay or an index', () => {
  const dir = tmp('deja-signal-replay-');
  const file = join(dir, 'bench.deja');
  let checkpoints: number[] = [];
  let end = 0;

  beforeAll(() => {
    const rec = deja(['run', '--mode', 'bench', '--append-extra', 'benchiter=3000', '--tier', 'trace', '-q', '--record', file]);
    expect(rec.status, rec.stderr).toBe(0);
    const info = JSON.parse(deja(['inspect', file, '--json']).stdout);
    checkpoints = info.checkpoints;
    end = info.icountSpan[1];
  });

  it.each([['SIGINT'], ['SIGTERM']] as const)('%s stops a replay at the next checkpoint, with one line that says what was verified, the stats, and exit 8', async (signal) => {
    const stats = join(dir, `${signal}.json`);
    // The console shows at every checkpoint: the kernel's command line comes long before the end.
    const line = new RegExp(`^deja: replay: stopped by ${signal} at icount (\\d+), (\\d+) of ${checkpoints.length} checkpoints verified; the recording goes on to icount ${end}$`);
    const m = await stopWith(signal, ['replay', file, '--stats-json', stats], 'initmode=bench', line);
    const icount = Number(m[1]);
    expect(icount).toBeLessThan(end);
    // It stopped at a checkpoint, every one up to there verified.
    expect(checkpoints.indexOf(icount) + 1).toBe(Number(m[2]));
    expect(JSON.parse(readFileSync(stats, 'utf8'))).toMatchObject({ icount, exit: { reason: 'stop' }, replay: { interrupted: signal, checkpoints: Number(m[2]), diverged: false } });
  });

  it('the recording replays whole under every tier, every checkpoint verified (cross-tier equality)', () => {
    for (const args of TIER_ARGS) {
      const r = deja(['replay', file, '-q', ...args]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr, args.join(' ')).toContain(`poweroff at icount ${end} as recorded, ${checkpoints.length} of ${checkpoints.length} checkpoints verified`);
    }
  });

  it('SIGINT stops an index after its next snapshot, leaving the snapshot file there was as it was', async () => {
    const snaps = `${file}.snapshots`;
    const first = deja(['index', file, '--every', '50M']);
    expect(first.status, first.stderr).toBe(0);
    const before = readFileSync(snaps);
    // The new snapshots go to FILE.snapshots.partial while the index runs.
    const run = await spawnDeja(['index', file, '--every', '10M'], async (io) => {
      while (!existsSync(`${snaps}.partial`)) await new Promise((r) => setTimeout(r, 10));
      io.kill('SIGINT');
    });
    expect(run.status, run.stderr).toBe(8);
    expect(run.stderr.trim()).toMatch(new RegExp(`^deja: index: stopped by SIGINT at icount (\\d+); ${snaps.replace(/[.]/g, '\\.')} is as it was$`));
    expect(readFileSync(snaps).equals(before)).toBe(true);
    expect(existsSync(`${snaps}.partial`)).toBe(false);
  });
});

describe('catchStopSignals', () => {
  afterEach(() => vi.restoreAllMocks());

  it('calls back on the first signal, kills with the second, and lets go when released', () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const seen: string[] = [];
    const before = process.listenerCount('SIGINT');
    const beforeTerm = process.listenerCount('SIGTERM');
    const release = catchStopSignals((s) => seen.push(s));
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    process.emit('SIGINT', 'SIGINT'); // as Node calls a signal's listeners
    expect(seen).toEqual(['SIGINT']);
    expect(kill).not.toHaveBeenCalled();
    process.emit('SIGTERM', 'SIGTERM');
    expect(seen).toEqual(['SIGINT']);
    // The handlers are gone, so the signal sent again takes its default action.
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGTERM');
    expect(process.listenerCount('SIGINT')).toBe(before);
    release(); // again: harmless
    expect(process.listenerCount('SIGTERM')).toBe(beforeTerm);
  });
});
