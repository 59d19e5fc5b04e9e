// `deja fuzz`: replays under randomly drawn JIT settings. The draws come from a seeded PRNG
// (mulberry32), never from the host's randomness, so a seed names the same settings on
// every host.

import { now } from './clock.js';
import type { Recording } from '../record/reader.js';
import { TRACE_ONLY_KEYS, type TierOptions } from '../session/tier.js';
import { diffRecording, type DiffResult } from './diff.js';
import { replayInOrder, verdictLine, type Replays } from './replays.js';
import { shareOf, shardInfo, type Shard, type ShardInfo } from './shard.js';
import { compiledNothing, type Exercised } from './exercised.js';
import { formatSettings, sideSettings, type SideSettings } from './settings.js';

/** mulberry32: a small, fast, well-mixed 32-bit PRNG. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

/** One draw of JIT settings (the base's own settings win over the draw). */
export function drawSettings(rnd: () => number, base: TierOptions): TierOptions {
  const d: TierOptions = {
    tier: pick(rnd, ['block', 'trace', 'trace'] as const),
    blockThreshold: String(pick(rnd, [0, 0, 1, 1, 2, 3, 10, 50])),
    maxBlockInsns: String(pick(rnd, [1, 2, 3, 5, 8, 16, 64, 64])),
    traceThreshold: String(pick(rnd, [1, 1, 2, 3, 5, 10, 50, 200])),
    maxTraceBlocks: String(pick(rnd, [1, 2, 3, 4, 8, 16, 16])),
  };
  const limit = pick(rnd, [null, null, null, null, 0, 1, 2, 5, 20]);
  if (limit !== null) d.traceLimit = String(limit);
  const out: TierOptions = { ...d };
  for (const [k, v] of Object.entries(base)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  // The block tier forms no traces: its draws carry no trace settings (a base's are for the
  // trace tier's draws; a base that is tier=block with them is refused up front).
  if (out.tier === 'block') for (const k of TRACE_ONLY_KEYS) delete out[k];
  return out;
}

export interface FuzzRun {
  run: number;
  settings: string;
  diverged: boolean;
  icount: number | null;
  what: string | null;
  seconds: number;
  exercised: Exercised;
}

export interface FuzzResult {
  file: string;
  seed: number;
  /** The --base settings every draw starts from ('' for none). */
  base: string;
  runs: FuzzRun[];
  failing: FuzzRun[];
  /** Draws that compiled no unit (they checked nothing). */
  compiledNothing: number;
  /** Nothing diverges and no draw compiled a unit (exit 10). */
  vacuous: boolean;
  /** The diff of the first failing settings against the reference. */
  diff: DiffResult | null;
  seconds: number;
  /** Set for one shard of a campaign (--shard): its share of the draws, and what merge-results checks. */
  shard?: ShardInfo;
}

export interface FuzzOptions {
  log?: (line: string) => void;
  diff?: boolean;
  images?: string;
  shard?: Shard;
}

/**
 * Draws `runs` settings and replays them (a shard: its share), `replays.jobs` at a time;
 * the runs and progress lines come in draw order whatever that is.
 */
export async function fuzzRecording(rec: Recording, a: SideSettings, base: TierOptions, runs: number, seed: number, replays: Replays, o: FuzzOptions = {}): Promise<FuzzResult> {
  const T0 = now();
  const rnd = prng(seed);
  // Every draw is made, so a shard's share is drawn as the whole campaign draws it.
  const draws = Array.from({ length: runs }, () => formatSettings(drawSettings(rnd, base)));
  const share = shareOf(draws, o.shard);
  const out: FuzzRun[] = [];
  await replayInOrder(replays, share.length, (i) => sideSettings(share[i].item, '--base'), (v, i) => {
    const run = share[i].at + 1;
    out.push({ run, settings: v.settings, diverged: v.diverged, icount: v.icount, what: v.what, seconds: v.seconds, exercised: v.exercised });
    o.log?.(`run ${run}/${runs}: ${v.settings}: ${verdictLine(v)}`);
  });
  const first = out.find((r) => r.diverged);
  const diff = first && o.diff !== false ? diffRecording(rec, a, sideSettings(first.settings, '--b'), { images: o.images, log: o.log }) : null;
  const r = fuzzResult(rec.path, seed, formatSettings(base), out, diff, (now() - T0) / 1000);
  if (o.shard) r.shard = shardInfo(rec, o.shard, runs);
  return r;
}

/** A fuzz result from its runs (in draw order): what a whole campaign and merged shards both print. */
export function fuzzResult(file: string, seed: number, base: string, runs: FuzzRun[], diff: DiffResult | null, seconds: number): FuzzResult {
  const failing = runs.filter((r) => r.diverged);
  const nothing = runs.filter((r) => compiledNothing(r.exercised)).length;
  return { file, seed, base, runs, failing, compiledNothing: nothing, vacuous: !failing.length && nothing === runs.length, diff, seconds };
}
