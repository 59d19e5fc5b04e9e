// `deja merge-results`: the shards of one fuzz campaign or threshold scan (--shard I/N,
// their --json outputs) joined into the result the whole run gives. A shard's rows keep
// their places in the whole list (shard.ts), so the merge puts them back in order; a walk
// down ends at the highest threshold any shard found diverging, every threshold above it
// having been replayed by some shard, and that shard's bisect is the one the whole walk
// makes there.

import { UserError, ExitCode } from '../errors.js';
import { fuzzResult, type FuzzResult, type FuzzRun } from './fuzz.js';
import { compiledNothing } from './exercised.js';
import type { ScanResult, ScanRow } from './bisect.js';
import type { ShardInfo } from './shard.js';

/** One shard's output as read: the file it came from and its parsed --json. */
export interface ShardFile {
  file: string;
  json: unknown;
}

export type Merged = { kind: 'fuzz'; file: string; result: FuzzResult } | { kind: 'scan'; file: string; settings: string; result: ScanResult };

type Shard<T> = { file: string; r: T & { shard: ShardInfo; file: string } };

const bad = (file: string, why: string) => new UserError(`${file}: ${why}`, ExitCode.BadInput);
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function kindOf(s: ShardFile): 'fuzz' | 'scan' {
  const j = s.json;
  const shard = isObject(j) ? j.shard : undefined;
  const info = isObject(shard) && [shard.index, shard.count, shard.planned].every(Number.isSafeInteger) && typeof shard.recording === 'string';
  if (!isObject(j) || !info) throw bad(s.file, 'not the --json output of a shard (deja fuzz --shard I/N --json, or deja bisect --threshold-scan ... --shard I/N --json)');
  if (Array.isArray(j.runs) && Number.isSafeInteger(j.seed)) return 'fuzz';
  if (Array.isArray(j.rows) && Array.isArray(j.thresholds) && typeof j.settings === 'string') return 'scan';
  throw bad(s.file, 'a shard, but neither of a fuzz campaign nor of a threshold scan');
}

/** Checks the shards belong to one campaign and are each there once; returns them by index. */
function complete<T>(shards: Shard<T>[], same: (r: Shard<T>['r']) => Record<string, unknown>): Shard<T>[] {
  const first = shards[0];
  const want = JSON.stringify(same(first.r));
  const byIndex = new Map<number, Shard<T>>();
  for (const s of shards) {
    const { index, count } = s.r.shard;
    if (count !== first.r.shard.count || index < 1 || index > count) throw bad(s.file, `shard ${index}/${count}: not one of the ${first.r.shard.count} shards of ${first.file}'s campaign`);
    const got = same(s.r);
    if (JSON.stringify(got) !== want) {
      const key = Object.keys(got).find((k) => JSON.stringify(got[k]) !== JSON.stringify(same(first.r)[k]));
      throw bad(s.file, `not a shard of the same run as ${first.file} (its ${key} differs)`);
    }
    const dup = byIndex.get(index);
    if (dup) throw bad(s.file, `shard ${index}/${count} again (${dup.file} is that shard)`);
    byIndex.set(index, s);
  }
  const count = first.r.shard.count;
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) throw new UserError(`merge-results: shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing (${shards.length} of ${count} given)`, ExitCode.BadInput);
  return [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!);
}

/** Joins the shards' outputs; a file that is not a shard, or shards that do not make one whole run, are refused (exit 3). */
export function mergeShards(files: ShardFile[]): Merged {
  const kinds = files.map(kindOf);
  const other = kinds.findIndex((k) => k !== kinds[0]);
  if (other >= 0) throw bad(files[other].file, `a ${kinds[other] === 'fuzz' ? 'fuzz' : 'threshold scan'} shard; ${files[0].file} is not`);
  return kinds[0] === 'fuzz' ? mergeFuzz(files.map((f) => ({ file: f.file, r: f.json as Shard<FuzzResult>['r'] }))) : mergeScan(files.map((f) => ({ file: f.file, r: f.json as Shard<ScanResult & { settings: string }>['r'] })));
}

function mergeFuzz(given: Shard<FuzzResult>[]): Merged {
  const shards = complete(given, (r) => ({ recording: r.shard.recording, seed: r.seed, base: r.base, runs: r.shard.planned }));
  const planned = shards[0].r.shard.planned;
  const runs: FuzzRun[] = [];
  for (const { file, r } of shards) {
    for (const x of r.runs) {
      if (!isObject(x) || !Number.isSafeInteger(x.run) || x.run < 1 || x.run > planned || (x.run - 1) % r.shard.count !== r.shard.index - 1) throw bad(file, `malformed shard output (a run outside shard ${r.shard.index}/${r.shard.count})`);
    }
    runs.push(...r.runs);
  }
  runs.sort((a, b) => a.run - b.run);
  if (runs.length !== planned || runs.some((x, i) => x.run !== i + 1)) throw bad(shards[0].file, `the shards hold ${runs.length} distinct runs of ${planned}: a shard's output is cut short`);
  const first = runs.find((x) => x.diverged);
  // The first failing draw is the first of its own shard, which diffed it.
  const diff = first ? (shards.find((s) => s.r.runs.includes(first))!.r.diff ?? null) : null;
  const seconds = shards.reduce((t, s) => t + s.r.seconds, 0);
  return { kind: 'fuzz', file: shards[0].r.file, result: fuzzResult(shards[0].r.file, shards[0].r.seed, shards[0].r.base, runs, diff, seconds) };
}

function mergeScan(given: Shard<ScanResult & { settings: string }>[]): Merged {
  const shards = complete(given, (r) => ({ recording: r.shard.recording, settings: r.settings, thresholds: r.thresholds, direction: r.direction, option: r.option }));
  const { thresholds, direction, option, settings } = shards[0].r;
  const count = shards.length;
  const placed = new Map<number, ScanRow>();
  let stop = thresholds.length; // walking down: the first place a shard found diverging
  let stopper: Shard<ScanResult> | null = null;
  for (const s of shards) {
    const { rows, shard } = s.r;
    rows.forEach((row, k) => {
      const at = shard.index - 1 + k * count;
      if (!isObject(row) || at >= thresholds.length || row.threshold !== thresholds[at]) throw bad(s.file, `malformed shard output (row ${k + 1} is not threshold ${thresholds[at]})`);
      placed.set(at, row);
    });
    const last = rows.at(-1);
    if (direction === 'down' && last?.diverged) {
      const at = shard.index - 1 + (rows.length - 1) * count;
      if (at < stop) (stop = at), (stopper = s);
    }
  }
  const end = direction === 'down' && stopper ? stop + 1 : thresholds.length;
  const rows: ScanRow[] = [];
  for (let at = 0; at < end; at++) {
    const row = placed.get(at);
    if (!row) throw bad(shards[at % count].file, `malformed shard output: threshold ${thresholds[at]} is not in it, and the run would have replayed it`);
    rows.push(row);
  }
  const vacuous = !rows.some((r) => r.diverged) && rows.every((r) => compiledNothing(r.exercised));
  const s = stopper as Shard<ScanResult> | null;
  const result: ScanResult = {
    option, direction, thresholds, rows, highest: s ? thresholds[stop] : null, bisect: s?.r.bisect ?? null, vacuous,
    seconds: shards.reduce((t, x) => t + x.r.seconds, 0),
  };
  return { kind: 'scan', file: shards[0].r.file, settings, result };
}
