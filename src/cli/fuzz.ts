// `deja fuzz FILE --runs N --seed S`: replays under randomly drawn JIT settings.

import { UserError, ExitCode } from '../errors.js';
import { plural } from '../plural.js';
import { setClock } from '../diff/clock.js';
import { fuzzRecording, type FuzzResult } from '../diff/fuzz.js';
import { diffJson, formatDiff } from '../diff/report.js';
import { DEFAULT_A, parseSettingsText, sideSettings } from '../diff/settings.js';
import { VACUOUS, formatExercised } from '../diff/exercised.js';
import { parseShard } from '../diff/shard.js';
import { announceFaults, progress, verdictCode } from './diff.js';
import { parseCount } from '../option-values.js';
import { loadRecording } from '../session/replay-session.js';
import { sideProgress } from './progress.js';
import { parseJobs, replayPool } from './replay-pool.js';

export interface FuzzCliOptions {
  runs?: string;
  seed?: string;
  base?: string;
  a?: string;
  images?: string;
  json?: boolean;
  code?: boolean;
  quiet?: boolean;
  html?: string;
  jobs?: string;
  shard?: string;
}

export async function fuzzCommand(file: string, o: FuzzCliOptions): Promise<number> {
  setClock(() => performance.now());
  const runs = o.runs === undefined ? 20 : parseCount(o.runs, '--runs', 'a number of runs (example: 50)');
  if (runs === 0) throw new UserError('--runs: 0 runs would check nothing (give at least 1)', ExitCode.Usage);
  const seed = o.seed === undefined ? 1 : parseCount(o.seed, '--seed', 'a seed (a whole number, example: 7)');
  const jobs = parseJobs(o.jobs);
  const shard = o.shard === undefined ? undefined : parseShard(o.shard);
  const a = sideSettings(o.a ?? DEFAULT_A, '--a');
  const base = parseSettingsText(o.base ?? '', '--base');
  if (base.tier === 'interp') throw new UserError(`--base '${o.base}': every draw would run the interpreter, which compiles nothing (give tier=block or tier=trace, or no tier)`, ExitCode.Usage);
  // Named by --base alone: each draw picks its own tier and thresholds around it.
  if (o.base) announceFaults({ ...sideSettings(o.base.includes('tier=') ? o.base : `tier=trace,${o.base}`, '--base'), text: `--base ${o.base}, in every draw` });
  const rec = await loadRecording(file, 'fuzz');
  const shown = sideProgress(rec, 'fuzz', o.quiet || o.json, progress(o.quiet || o.json));
  const replays = replayPool(rec, o.images, jobs);
  let r: FuzzResult;
  try {
    r = await fuzzRecording(rec, a, base, runs, seed, replays, { images: o.images, log: shown.log, shard });
  } finally {
    await replays.close();
    shown.done();
  }
  if (o.html) (await import('./report.js')).writeDivergencePage(o.html, { file, diff: r.diff });
  printFuzz(r, { ...o, file }, (s) => process.stdout.write(s + '\n'));
  return verdictCode(r.failing.length > 0, r.vacuous);
}

/** A fuzz result as `deja fuzz` prints it (merge-results prints merged shards so too). */
export function printFuzz(r: FuzzResult, o: { file: string; json?: boolean; code?: boolean }, p: (s: string) => void): void {
  if (o.json) return p(JSON.stringify({ ...r, diff: r.diff ? diffJson(r.diff) : null }, null, 2));
  const total = r.shard?.planned ?? r.runs.length;
  const share = r.shard ? `, shard ${r.shard.index}/${r.shard.count} (runs ${r.runs.map((x) => x.run).join(', ') || 'none'})` : '';
  p(`deja fuzz: ${o.file}, ${plural(total, 'run')}, seed ${r.seed}${r.base ? `, base ${r.base}` : ''}${share}`);
  for (const x of r.runs) {
    p(`  ${String(x.run).padStart(3)}  ${x.diverged ? 'DIVERGES' : 'ok      '}  ${x.settings}${x.diverged ? `  (icount ${x.icount}: ${x.what})` : ''}`);
    p(`       ${formatExercised(x.exercised)}`);
  }
  p(`${r.failing.length} of ${r.runs.length} settings diverge; ${r.compiledNothing} of ${r.runs.length} compiled nothing`);
  if (r.vacuous) p(`${VACUOUS}: no draw compiled a unit`);
  if (r.diff) {
    p(`diff of the first: deja diff ${o.file} --b "${r.failing[0].settings}"`);
    p(formatDiff(r.diff, { code: o.code !== false }));
  }
  p(`fuzz: ${r.seconds.toFixed(2)} s`);
}
