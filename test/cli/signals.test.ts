// SIGINT and SIGTERM stop a run as Ctrl-A X does (issue 18, item 3): the guest stops at an
// instruction boundary, the recording gets its end record (`stop`), --stats-json is
// written, one line says so, and the exit code is 8; the recording replays to that stop.
// A second signal kills at once.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { spawnDeja, stackLines } from '../record/helpers.js';
import { catchStopSignals } from '../../src/cli/console.js';

describe('a signal during a run', () => {
  const dir = tmp('deja-signal-');

  it.each([['SIGINT'], ['SIGTERM']] as const)('%s stops it like Ctrl-A X, with the end record, the stats and one line', async (signal) => {
    const file = join(dir, `${signal}.deja`);
    const stats = join(dir, `${signal}.json`);
    // The full bench runs for minutes: the signal comes long before it ends.
    const run = await spawnDeja(['run', '--mode', 'bench', '--record', file, '--stats-json', stats], async (io) => {
      await io.waitFor('mode=bench');
      io.kill(signal);
    });
    expect(run.signal).toBeNull();
    expect(run.status, run.stderr).toBe(8);
    expect(stackLines(run.stderr)).toEqual([]);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const m = new RegExp(`^deja: run: stop at icount (\\d+): stopped by ${signal}$`).exec(lines[0]);
    expect(m, lines[0]).not.toBeNull();
    const icount = Number(m![1]);
    expect(JSON.parse(readFileSync(stats, 'utf8'))).toMatchObject({ icount, exit: { reason: 'stop', code: 0 } });

    const info = JSON.parse(deja(['inspect', file, '--json']).stdout);
    expect(info.end).toMatchObject({ reason: 'stop', icount });
    const rep = deja(['replay', file, '-q']);
    expect(rep.status, rep.stderr).toBe(8);
    expect(rep.stderr.trim()).toMatch(new RegExp(`^deja: replay: stop at icount ${icount} as recorded, (\\d+) of \\1 checkpoints verified$`));
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
