// The tier settings every recording the tests make is replayed under: the interpreter,
// the block tier at thresholds 0, 1 and 50 (heads counted) and 4096 (the interpreter
// sampled), and the trace tier at thresholds 1, 10 and 500 and with --trace-limit 0, 1
// and 7 (DESIGN.md: replays are exact whatever the tier).

import { ReplaySession } from '../../src/session/replay-session.js';
import { tierSettings, type TierOptions } from '../../src/session/tier.js';
import type { Recording } from '../../src/record/reader.js';
import type { Jit } from '../../src/jit/jit.js';

export const TIER_MATRIX: TierOptions[] = [
  { tier: 'interp' },
  { tier: 'block', blockThreshold: '0' },
  { tier: 'block', blockThreshold: '1' },
  { tier: 'block', blockThreshold: '50' },
  { tier: 'block', blockThreshold: '4096' },
  { tier: 'trace', blockThreshold: '0', traceThreshold: '1' },
  { tier: 'trace', blockThreshold: '1', traceThreshold: '10' },
  { tier: 'trace', traceThreshold: '500' },
  { tier: 'trace', blockThreshold: '0', traceThreshold: '1', traceLimit: '0' },
  { tier: 'trace', blockThreshold: '0', traceThreshold: '1', traceLimit: '1' },
  { tier: 'trace', blockThreshold: '0', traceThreshold: '1', traceLimit: '7' },
];

/** Five tier settings as command-line options: the interpreter, and block and trace at threshold 1 and at their defaults. */
export const TIER_ARGS: string[][] = [
  ['--tier', 'interp'],
  ['--tier', 'block', '--block-threshold', '1'],
  ['--tier', 'block'],
  ['--tier', 'trace', '--block-threshold', '1', '--trace-threshold', '1'],
  ['--tier', 'trace'],
];

export function describeTier(t: TierOptions): string {
  return Object.entries(t).map(([k, v]) => `${k}=${v}`).join(',');
}

export interface TierReplay {
  settings: string;
  divergence: string | null;
  checkpoints: number;
  icount: number;
  exit: { reason: string; code: number };
  jit: Jit | null;
}

/** Replays a recording in-process under one tier setting, verifying every checkpoint. */
export function replayUnder(rec: Recording, t: TierOptions, images?: string): TierReplay {
  const session = new ReplaySession(rec, tierSettings(t), { images });
  const r = session.replay();
  const jit = session.jit;
  return {
    settings: describeTier(t),
    divergence: r.divergence ? `${r.divergence.what} at icount ${r.divergence.icount}` : null,
    checkpoints: r.checkpoints,
    icount: r.icount,
    exit: r.exit,
    jit,
  };
}

/** Replays under every setting of TIER_MATRIX; returns one line per setting that diverged. */
export function replayAllTiers(rec: Recording, images?: string): { failures: string[]; runs: TierReplay[] } {
  const runs = TIER_MATRIX.map((t) => replayUnder(rec, t, images));
  const failures = runs.filter((r) => r.divergence !== null).map((r) => `${r.settings}: ${r.divergence}`);
  const checkpoints = new Set(runs.map((r) => r.checkpoints));
  if (checkpoints.size !== 1) failures.push(`checkpoints verified differ between tiers: ${runs.map((r) => `${r.settings}=${r.checkpoints}`).join(' ')}`);
  return { failures, runs };
}
