// `deja bisect`: the first compiled unit whose translation makes a replay diverge, found
// by binary search over --trace-limit / --block-limit (compile only the first N units, in
// their deterministic order), as LLVM's -opt-bisect-limit finds the first bad pass. A run
// with limit N is the unlimited run until its N-th compile (I7), so if the unlimited run
// leaves the recording at icount D, limit = (units compiled by D) diverges too: that is the
// search's upper end. Every probe is a verified replay that stops at its first failure, or,
// once the failing replay's first difference from the reference is found at a run-loop
// boundary (boundaries.ts), at that boundary, where it compares its state with the
// reference's: the units compiled by then bound the search.
// A threshold scan replays at several trace (or block) thresholds; walking down, it stops
// at the highest that diverges and bisects the units there.

import { now } from './clock.js';
import { UserError, ExitCode } from '../errors.js';
import type { Recording } from '../record/reader.js';
import { diffRecording, type DiffResult } from './diff.js';
import { unitInfo, type UnitInfo } from './instrument.js';
import { sideSettings, withOptions, type SideSettings } from './settings.js';
import { compiledNothing, formatExercised, type Exercised } from './exercised.js';
import { replayInOrder, verdictLine, type ProbeStop, type Replays, type ReplayTask, type Verdict } from './replays.js';
import { firstBadBoundary, type BoundaryStop } from './boundaries.js';
import { shareOf, shardInfo, type Shard, type ShardInfo } from './shard.js';

export { verifyReplay, verdictLine, type ReplayVerdict } from './replays.js';

export interface BisectStep {
  option: 'trace-limit' | 'block-limit';
  limit: number;
  diverged: boolean;
  icount: number | null;
  seconds: number;
  exercised: Exercised;
}

export interface BisectResult {
  file: string;
  settings: string;
  /** The failing replay itself. */
  failing: Verdict;
  /** The replay does not diverge and compiled nothing: nothing was checked (exit 10). */
  vacuous: boolean;
  /** Which kind of unit is to blame, and its index (trace id, or block compile index); null if none. */
  kind: 'trace' | 'block' | null;
  index: number | null;
  /** The settings with the smallest limit that still diverges (the culprit is its last unit). */
  minimal: string | null;
  steps: BisectStep[];
  unit: UnitInfo | null;
  diff: DiffResult | null;
  /** Where the probes stopped: the failing replay's first boundary that differs from the reference (null: they ran to their first failure). */
  stop: Omit<BoundaryStop, 'hash'> | null;
  notes: string[];
  seconds: number;
}

export interface BisectOptions {
  images?: string;
  log?: (line: string) => void;
  /** Run the final diff (default true). */
  diff?: boolean;
  /** The verified replay under `b`, if already made (a threshold walk made it). */
  failing?: Verdict;
  /** A threshold scan: this shard's share of the thresholds. */
  shard?: Shard;
  /** Stop probes at the first boundary that differs (default true; false: each runs to its first failure). */
  boundaries?: boolean;
}

/**
 * The midpoints a binary search over (lo, hi) may probe next, breadth first: the next
 * probe, then those of both halves, and so on, `count` of them. With more than one job the
 * ones after the first run ahead of the search; it uses those on its path and drops the
 * rest, so its steps are the same whatever the number of jobs.
 */
export function probesAhead(lo: number, hi: number, count: number): number[] {
  const out: number[] = [];
  const spans: [number, number][] = [[lo, hi]];
  while (out.length < count && spans.length) {
    const [l, h] = spans.shift()!;
    if (h - l <= 1) continue;
    const m = Math.floor((l + h) / 2);
    out.push(m);
    spans.push([l, m], [m, h]);
  }
  return out;
}

export async function bisectRecording(rec: Recording, a: SideSettings, b: SideSettings, replays: Replays, o: BisectOptions = {}): Promise<BisectResult> {
  const log = o.log ?? (() => {});
  const T0 = now();
  const notes: string[] = [];
  const steps: BisectStep[] = [];
  let stop: ProbeStop | undefined;
  const one = (s: SideSettings) => replays.run(s, stop).result;
  const full = o.failing ?? (await one(b));
  const failing = full;
  const vacuous = !full.diverged && compiledNothing(full.exercised);
  const result: BisectResult = { file: rec.path, settings: b.text, failing, vacuous, kind: null, index: null, minimal: null, steps, unit: null, diff: null, stop: null, notes, seconds: 0 };
  log(`${b.text}: ${full.diverged ? `diverges at icount ${full.icount} (${full.what})` : 'does not diverge'} [${full.seconds.toFixed(2)} s] ${formatExercised(full.exercised)}`);
  if (!full.diverged) {
    if (!vacuous) notes.push('the replay does not diverge under these settings: nothing to bisect');
    result.seconds = (now() - T0) / 1000;
    return result;
  }
  // Up to that boundary the probes are the failing replay with fewer units: there its units
  // compiled so far bound the search.
  let upperBound = full.exercised;
  // The replay under `b` itself, stopped there (it must differ there too, or no probe can).
  let stopped: Verdict | null = null;
  const at = o.boundaries === false ? null : firstBadBoundary(rec, a, b, full.icount!, o.images);
  if (at) {
    stop = { icount: at.icount, hash: at.hash };
    stopped = await one(b);
    if (stopped.diverged) {
      upperBound = stopped.exercised;
      const { hash: _h, ...shown } = at;
      result.stop = shown;
      log(`  its state first differs from the reference's at the run-loop boundary at icount ${at.icount} (the one before, ${at.lastGood}, matches; ${at.compared} compared, ${at.seconds.toFixed(2)} s): the probes stop there ${formatExercised(stopped.exercised)}`);
    } else {
      notes.push(`the replay under --b differs from the reference at the run-loop boundary at icount ${at.icount}, but not when it is stopped there: each probe runs to its first failure`);
      stop = undefined;
      stopped = null;
    }
  } else if (o.boundaries !== false) {
    notes.push(`no run-loop boundary up to icount ${full.icount} shows the difference (it is in RAM, or in how the replay left the recording): each probe runs to its first failure`);
  }
  const limited = (option: BisectStep['option'], base: SideSettings, limit: number) => withOptions(base, { [option === 'trace-limit' ? 'traceLimit' : 'blockLimit']: String(limit) });
  const step = (option: BisectStep['option'], limit: number, v: Verdict): boolean => {
    steps.push({ option, limit, diverged: v.diverged, icount: v.icount, seconds: v.seconds, exercised: v.exercised });
    log(`  --${option} ${limit}: ${verdictLine(v)}`);
    return v.diverged;
  };
  const probe = async (option: BisectStep['option'], base: SideSettings, limit: number) => step(option, limit, await one(limited(option, base, limit)));
  /** Smallest limit in (lo, hi] that diverges, given lo does not and hi does; idle jobs probe ahead (probesAhead). */
  const search = async (option: BisectStep['option'], base: SideSettings, lo: number, hi: number): Promise<number> => {
    const ahead = new Map<number, ReplayTask>();
    try {
      while (hi - lo > 1) {
        const wanted = probesAhead(lo, hi, replays.jobs);
        for (const [limit, t] of ahead) if (!wanted.includes(limit)) (t.cancel(), ahead.delete(limit));
        for (const limit of wanted) {
          if (ahead.has(limit)) continue;
          const t = replays.run(limited(option, base, limit), stop);
          t.result.catch(() => {}); // reported where it is awaited
          ahead.set(limit, t);
        }
        const mid = wanted[0];
        const v = await ahead.get(mid)!.result;
        ahead.delete(mid);
        if (step(option, mid, v)) hi = mid;
        else lo = mid;
      }
    } finally {
      for (const t of ahead.values()) t.cancel();
    }
    return hi;
  };

  let blockBase = b;
  let upper: Verdict | null = null;
  if (b.tier === 'trace') {
    // Traces first: with none compiled, does it still diverge?
    const none = await one(limited('trace-limit', b, 0));
    if (!step('trace-limit', 0, none)) {
      const traces = upperBound.traces;
      const limit = traces > 0 ? await search('trace-limit', b, 0, traces) : 1;
      result.kind = 'trace';
      result.index = limit - 1;
      result.minimal = withOptions(b, { traceLimit: String(limit) }).text;
    } else {
      notes.push('the replay diverges with no traces compiled (--trace-limit 0): the culprit is a block');
      blockBase = withOptions(b, { traceLimit: '0' });
      upper = none;
    }
  }
  if (result.kind === null) {
    // (With --trace-limit 0, the probe above.)
    if (!upper) upper = blockBase === b ? (stopped ?? full) : await one(blockBase);
    if (!upper.diverged) {
      notes.push(`${blockBase.text} does not diverge: no single unit to blame`);
    } else if (await probe('block-limit', blockBase, 0)) {
      notes.push('the replay diverges even with no blocks compiled: the difference is not in a translation');
    } else {
      const hi = Math.max(1, upper.exercised.blocks);
      const limit = await search('block-limit', blockBase, 0, hi);
      result.kind = 'block';
      result.index = limit - 1;
      result.minimal = withOptions(blockBase, { blockLimit: String(limit) }).text;
    }
  }

  if (result.minimal !== null && o.diff !== false) {
    log(`first bad ${result.kind}: ${result.index}; diff under ${result.minimal}`);
    // Where the probes stopped, the lockstep looks from the last checkpoint before the last boundary that matched.
    const window = result.stop ? { from: checkpoints(rec).reduce((m, c) => (c <= result.stop!.lastGood && c > m ? c : m), 0), to: result.stop.icount } : undefined;
    const d = diffRecording(rec, a, sideSettings(result.minimal, '--b'), { images: o.images, log, window });
    result.diff = d;
    const jit = d.jit;
    const du = d.first?.unit;
    if (du && du.kind === result.kind && du.id === result.index) {
      // As it was when it ran (a trace may have been regrown since).
      const { execStart: _s, indexInExec: _i, stale: _t, ...info } = du;
      result.unit = info;
    } else {
      const u = jit ? (result.kind === 'trace' ? jit.traces.find((t) => t.id === result.index) : jit.blocks[result.index!]) : undefined;
      if (u) result.unit = unitInfo(u);
    }
    if (du && (du.kind !== result.kind || du.id !== result.index)) {
      notes.push(`the diff's first difference is in ${du.kind} ${du.id}, not in ${result.kind} ${result.index} (the bisected unit may corrupt state that another unit then exposes)`);
    }
  }
  result.seconds = (now() - T0) / 1000;
  return result;
}

function checkpoints(rec: Recording): number[] {
  return rec.events.filter((e) => e.kind === 'checkpoint').map((e) => e.icount);
}

export interface ScanRow {
  threshold: number;
  diverged: boolean;
  icount: number | null;
  what: string | null;
  seconds: number;
  exercised: Exercised;
}

/** The thresholds a scan replays at, in order. */
export interface ScanPlan {
  thresholds: number[];
  /** Walk down (A..B with A > B, or a descending list): stop at the first that diverges, bisect there. */
  down: boolean;
}

/**
 * `--threshold-scan`: "A..B" or "a,b,c". A range upwards (A <= B, at most 10001 values) is
 * every threshold in it; downwards (A > B), `steps` thresholds spaced evenly on a log scale
 * (logSteps). A list is taken as written; it walks down if its first value is above its last.
 */
export function parseScan(text: string, steps?: number): ScanPlan {
  const bad = (why: string) => new UserError(`--threshold-scan: '${text}' ${why}`, ExitCode.Usage);
  const range = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/.exec(text);
  if (range) {
    const [from, to] = [Number(range[1]), Number(range[2])];
    if (from > to) return { thresholds: logSteps(from, to, steps), down: true };
    if (steps !== undefined) throw bad('goes upwards: --threshold-steps is for a walk down (A..B with A > B)');
    if (to - from > 10000) throw bad('spans more than 10001 thresholds (walk down instead: B..A)');
    return { thresholds: Array.from({ length: to - from + 1 }, (_, i) => from + i), down: false };
  }
  const list = text.split(',').map((x) => x.trim());
  if (!list.length || list.some((x) => !/^\d+$/.test(x))) throw bad('is not a range A..B or a list 1,2,10');
  if (steps !== undefined) throw bad('is a list: --threshold-steps is for a range A..B with A > B');
  const thresholds = list.map(Number);
  return { thresholds, down: thresholds.length > 1 && thresholds[0] > thresholds[thresholds.length - 1] };
}

/**
 * `count` thresholds from `hi` down to `lo`, evenly spaced on a log scale and rounded,
 * repeats dropped; by default two per decade: 100000, 31623, 10000, 3162, ..., 10, 3, 1.
 * A walk down to 0 goes to 1 that way, then to 0.
 */
export function logSteps(hi: number, lo: number, count?: number): number[] {
  const floor = Math.max(lo, 1);
  const n = count ?? Math.ceil(2 * Math.log10(hi / floor) - 1e-9) + 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = n === 1 ? hi : Math.round(hi * (floor / hi) ** (i / (n - 1)));
    if (out[out.length - 1] !== t) out.push(t);
  }
  if (lo === 0) out.push(0);
  return out;
}

export interface ScanResult {
  option: 'trace-threshold' | 'block-threshold';
  direction: 'up' | 'down';
  /** The thresholds planned, in order (a walk down may stop before the last). */
  thresholds: number[];
  rows: ScanRow[];
  /** Walking down: the highest threshold that diverges (null: none did, or walking up). */
  highest: number | null;
  /** Walking down: the bisect of the units at that threshold. */
  bisect: BisectResult | null;
  /** No threshold diverges and none compiled a unit: nothing was checked (exit 10). */
  vacuous: boolean;
  seconds: number;
  /** Set for one shard of a scan (--shard): its rows are its share of the thresholds. */
  shard?: ShardInfo;
}

/** The threshold a scan walks: the block tier's block threshold, else the trace threshold. */
export function walkedThreshold(tier: string): { key: 'blockThreshold' | 'traceThreshold'; option: 'block-threshold' | 'trace-threshold' } {
  return tier === 'block' ? { key: 'blockThreshold', option: 'block-threshold' } : { key: 'traceThreshold', option: 'trace-threshold' };
}

/**
 * Replays at each threshold of the plan (a shard: its share), `replays.jobs` at a time: the
 * trace threshold, or the block threshold for the block tier. Walking down, it stops at the
 * first (highest) threshold that diverges and bisects the units compiled there, with a
 * diff against `a`.
 */
export async function thresholdScan(rec: Recording, a: SideSettings, b: SideSettings, plan: ScanPlan, replays: Replays, o: BisectOptions = {}): Promise<ScanResult> {
  const T0 = now();
  const { key, option } = walkedThreshold(b.tier);
  const rows: ScanRow[] = [];
  const share = shareOf(plan.thresholds, o.shard);
  const settingsAt = (i: number) => withOptions(b, { [key]: String(share[i].item) });
  let found: { threshold: number; settings: SideSettings; verdict: Verdict } | null = null;
  await replayInOrder(replays, share.length, settingsAt, (v, i) => {
    const t = share[i].item;
    rows.push({ threshold: t, diverged: v.diverged, icount: v.icount, what: v.what, seconds: v.seconds, exercised: v.exercised });
    o.log?.(`  --${option} ${t}: ${verdictLine(v)}`);
    if (plan.down && v.diverged) {
      found = { threshold: t, settings: settingsAt(i), verdict: v };
      return true;
    }
  });
  const vacuous = !rows.some((r) => r.diverged) && rows.every((r) => compiledNothing(r.exercised));
  let bisect: BisectResult | null = null;
  const f = found as { threshold: number; settings: SideSettings; verdict: Verdict } | null;
  if (f) {
    o.log?.(`highest diverging threshold: --${option} ${f.threshold}; bisecting its units`);
    bisect = await bisectRecording(rec, a, f.settings, replays, { ...o, failing: f.verdict });
  }
  const r: ScanResult = { option, direction: plan.down ? 'down' : 'up', thresholds: plan.thresholds, rows, highest: f?.threshold ?? null, bisect, vacuous, seconds: (now() - T0) / 1000 };
  if (o.shard) r.shard = shardInfo(rec, o.shard, plan.thresholds.length);
  return r;
}
