// `deja replay FILE --to N`: stops at exactly icount N under every tier, at the same pc and
// state (its hashes in --stats-json), with the checkpoints up to N verified; N beyond the
// recording's end is refused (exit 2).

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, deja } from '../helpers/cli.js';
import { TIER_ARGS } from '../helpers/tiers.js';

const SAMPLE = join(ROOT, 'recordings/ticker-panic.deja');
/** The sample's end, and its checkpoints: every 250000 instructions. */
const END = 13_091_414;

const TIERS = TIER_ARGS;

const LINE = /^deja: replay: stopped at icount (\d+) as asked, pc (0x[0-9a-f]{8}), (.*?)( \[(\w+) tier: .*\])?$/;

describe('deja replay --to', () => {
  // Inside the first checkpoint interval, at a checkpoint, and at an icount that is none.
  for (const n of [1000, 250_000, 5_000_123]) {
    it(`--to ${n} stops at the same pc and state under every tier`, () => {
      const stops = TIERS.map((tier) => {
        const r = deja(['replay', SAMPLE, '-q', '--to', String(n), ...tier], { stats: true });
        expect(r.status, r.stderr).toBe(0);
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        const m = LINE.exec(lines[0]);
        expect(m, lines[0]).not.toBeNull();
        expect(Number(m![1])).toBe(n);
        expect(m![3]).toBe(n < 250_000 ? 'no checkpoint up to there to verify (the first is at icount 250000)' : `${Math.floor(n / 250_000)} of ${Math.floor(n / 250_000)} checkpoints up to there verified`);
        // What was exercised, under a JIT tier (as the other replay lines say it).
        expect(m![5]).toBe(tier[1] === 'interp' ? undefined : tier[1]);
        const s = r.stats!;
        expect(s.icount).toBe(n);
        expect(s.exit).toEqual({ reason: 'limit', code: 0 });
        const replay = s.replay as { to: number; pc: number; stateHash: number; deviceHash: number; checkpoints: number; exercised: { blocks: number; traces: number } };
        expect(replay.to).toBe(n);
        expect(`0x${replay.pc.toString(16).padStart(8, '0')}`).toBe(m![2]);
        return { line: m![2] + m![3], pc: replay.pc, state: replay.stateHash, devices: replay.deviceHash, checkpoints: replay.checkpoints, compiled: replay.exercised.blocks + replay.exercised.traces };
      });
      for (const s of stops) expect({ ...s, compiled: 0 }).toEqual({ ...stops[0], compiled: 0 });
      // Threshold 1 compiled code, which is what was checked (I10).
      expect(stops[1].compiled).toBeGreaterThan(0);
      expect(stops[3].compiled).toBeGreaterThan(0);
    });
  }

  it('--to the end replays all of it, and says how the run ended there', () => {
    const r = deja(['replay', SAMPLE, '-q', '--to', String(END), '--tier', 'block', '--block-threshold', '1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.trim()).toMatch(new RegExp(`^deja: replay: stopped at icount ${END} as asked, pc 0x[0-9a-f]{8}, 53 of 53 checkpoints up to there verified; the run ended there, fail \\(code 66\\), as recorded \\[block tier: `));
  });

  it('--to with --no-verify says the checkpoints were not checked', () => {
    const r = deja(['replay', SAMPLE, '-q', '--to', '300000', '--no-verify']);
    expect(r.status).toBe(0);
    expect(r.stderr.trim()).toMatch(/^deja: replay: stopped at icount 300000 as asked, pc 0x[0-9a-f]{8}, checkpoints not checked \(--no-verify\)$/);
  });

  it('a replay that diverges before N reports the divergence (exit 7)', () => {
    const r = deja(['replay', SAMPLE, '-q', '--to', '5000000', '--tier', 'block', '--block-threshold', '0', '--jit-fault', 'wrong-imm']);
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(/DIVERGENCE at icount \d+: the recording ended with fail \(code 66\) at icount 13091414; the replay ended with/);
  });

  it.each([
    [String(END + 1), new RegExp(`^deja: --to ${END + 1}: beyond the end of .*ticker-panic\\.deja \\(icount ${END}\\)$`)],
    ['4G', new RegExp(`^deja: --to 4000000000: beyond the end of .*ticker-panic\\.deja \\(icount ${END}\\)$`)],
    ['-5', /^deja: --to: '-5' is not an icount/],
    ['soon', /^deja: --to: 'soon' is not an icount/],
  ])('--to %s is refused with one line (exit 2)', (n, line) => {
    const r = deja(['replay', SAMPLE, '-q', '--to', n]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(line);
    expect(r.stdout).toBe('');
  });
});
