// deja run --flight-recorder N: FILE keeps what replays the last N to 2N instructions (two
// recordings taking turns); it replays under every tier with its checkpoints verified, and
// a recorder killed mid-run leaves a FILE that replays to its last whole chunk.

import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { guestDir } from '../helpers/guest.js';
import { FRAME_STATE } from '../../src/record/format.js';
import { frames, spawnDeja } from '../record/helpers.js';
import { describeTier, replayUnder } from '../helpers/tiers.js';
import type { TierOptions } from '../../src/session/tier.js';

const TIERS: TierOptions[] = [
  { tier: 'interp' },
  { tier: 'block', blockThreshold: '1' },
  { tier: 'trace', blockThreshold: '1', traceThreshold: '1' },
  { tier: 'trace' },
];
import { loadRecording } from '../../src/session/replay-session.js';

const env = { DEJA_GUEST_DIR: guestDir() };

describe('the flight recorder', () => {
  it('keeps the last N to 2N instructions of a Linux boot, replayable under every tier', async () => {
    const dir = tmp('deja-flight-');
    const file = join(dir, 'boot.deja');
    const r = deja(['run', '--mode', 'boot', '-q', '--record', file, '--flight-recorder', '5M', '--checkpoint-every', '2M'], { env });
    expect(r.status, r.stderr).toBe(0);
    const m = /deja: flight recorder: .* keeps icount (\d+) to (\d+) \(the last (\d+) instructions, (\d+) bytes; (\d+) turns/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const [start, end, kept] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(kept).toBe(end - start);
    expect(kept).toBeGreaterThanOrEqual(5_000_000);
    expect(kept).toBeLessThan(10_000_000);
    expect(start % 5_000_000).toBe(0);
    expect(existsSync(`${file}.next`)).toBe(false);
    const rec = await loadRecording(file);
    expect(rec.header.start?.icount).toBe(start);
    expect(rec.events.at(-1)).toMatchObject({ kind: 'end', reason: 'poweroff', icount: end });
    const checkpoints = rec.events.filter((e) => e.kind === 'checkpoint').length;
    expect(checkpoints).toBeGreaterThanOrEqual(2);
    for (const t of TIERS) {
      const run = replayUnder(rec, t);
      expect(run.divergence, describeTier(t)).toBeNull();
      expect(run.checkpoints, describeTier(t)).toBe(checkpoints);
    }
  });

  it('killed mid-run, leaves a FILE that replays to its last whole chunk', async () => {
    const dir = tmp('deja-flight-killed-');
    const file = join(dir, 'bench.deja');
    const kinds = () => (existsSync(file) ? frames(new Uint8Array(readFileSync(file))).map((f) => f.type) : []);
    // Past two turns: FILE then starts with the machine's state (whatever chunks it has yet).
    const run = await spawnDeja(['run', '--mode', 'bench', '-q', '--record', file, '--flight-recorder', '100M', '--checkpoint-every', '5M'], async (io) => {
      const t0 = Date.now();
      for (;;) {
        const k = kinds();
        if (k.includes(FRAME_STATE)) break;
        if (Date.now() - t0 > 120_000) {
          io.kill('SIGKILL');
          throw new Error('the flight recorder did not turn twice in 120 s');
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      io.kill('SIGKILL');
    }, env);
    expect(run.signal).toBe('SIGKILL');
    const rec = await loadRecording(file);
    expect(rec.header.start?.icount).toBeGreaterThan(0);
    expect(rec.truncated).not.toBeNull();
    const rep = deja(['replay', file, '-q']);
    expect(rep.status, rep.stderr).toBe(3);
    expect(rep.stderr).toMatch(/recording is truncated at icount \d+ .*; replayed to there, (\d+) of \1 checkpoints verified/);
  });
});
