// A recorder killed with SIGKILL leaves a file that replays up to its last whole chunk
// (the writer appends and flushes at least every second), and deja says the recording is
// truncated and where: `inspect` exits 0 and shows it, `replay` verifies what there is and
// exits 3 (a truncated input file, README exit codes) with one line naming the icount.

import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FRAME_CHUNK } from '../../src/record/format.js';
import { deja, tmp } from '../helpers/cli.js';
import { frames, spawnDeja, stackLines } from './helpers.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { loadRecording } from '../../src/session/replay-session.js';

/** Whole chunk frames in the file so far. */
function wholeChunks(file: string): number {
  if (!existsSync(file)) return 0;
  const b = new Uint8Array(readFileSync(file));
  if (b.indexOf(10) < 0) return 0;
  return frames(b).filter((f) => f.type === FRAME_CHUNK && f.end <= b.length).length;
}

describe('a recorder killed with SIGKILL', () => {
  it('leaves a recording that replays to its last whole chunk, and deja says it is truncated there', async () => {
    const dir = tmp('deja-killed-');
    const file = join(dir, 'killed.deja');
    // bench with the full iteration count runs for minutes: it is killed long before.
    const run = await spawnDeja(['run', '--mode', 'bench', '-q', '--record', file, '--checkpoint-every', '2000000'], async (io) => {
      const t0 = Date.now();
      while (wholeChunks(file) < 2) {
        if (Date.now() - t0 > 120_000) {
          io.kill('SIGKILL');
          throw new Error('no chunks written in 120 s');
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      io.kill('SIGKILL');
    });
    expect(run.signal).toBe('SIGKILL');

    const info = JSON.parse(deja(['inspect', file, '--json']).stdout);
    expect(info.end).toBeNull();
    expect(info.truncated).toMatch(/no end record|file ends inside/);
    const n = info.truncatedAt;
    expect(n).toBeGreaterThan(0);
    expect(n).toBe(info.icountSpan[1]);
    expect(info.checkpoints.length).toBeGreaterThanOrEqual(1);

    const text = deja(['inspect', file]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`truncated  at icount ${n}: `);
    expect(text.stdout).toContain('end        none (recorder did not finish)');

    const k = info.checkpoints.length;
    const rep = deja(['replay', file, '-q'], { stats: true });
    expect(rep.status).toBe(3);
    expect(stackLines(rep.stderr)).toEqual([]);
    const lines = rep.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^deja: ${file}: recording is truncated at icount ${n} \\((no end record|file ends inside)[^)]*\\); replayed to there, ${k} of ${k} checkpoints verified$`));
    expect(rep.stats?.icount).toBe(n);
    expect(rep.stats?.replay).toMatchObject({ checkpoints: k, diverged: false, truncated: n });
    // Cross-tier equality: the same recording under every tier setting.
    expect(replayAllTiers(await loadRecording(file)).failures).toEqual([]);
  });
});
