// `deja bisect FILE --b SETTINGS`: the first compiled unit that makes the replay diverge;
// `--threshold-scan A..B`: which trace thresholds diverge, or (A > B) the highest that
// does, walking down, and the unit to blame there.

import { setClock } from '../diff/clock.js';
import { UserError, ExitCode } from '../errors.js';
import { plural } from '../plural.js';
import { bisectRecording, parseScan, thresholdScan, walkedThreshold, type BisectResult, type ScanResult } from '../diff/bisect.js';
import { VACUOUS, compiledNothing, formatExercised } from '../diff/exercised.js';
import { diffJson, formatDiff } from '../diff/report.js';
import { DEFAULT_A, DEFAULT_B, sideSettings } from '../diff/settings.js';
import { announceFaults, progress, verdictCode } from './diff.js';
import { parseCount } from '../option-values.js';
import { loadRecording } from '../session/replay-session.js';
import { sideProgress } from './progress.js';
import { parseShard, shareOf } from '../diff/shard.js';
import { parseJobs, replayPool } from './replay-pool.js';

export interface BisectCliOptions {
  a?: string;
  b?: string;
  thresholdScan?: string;
  thresholdSteps?: string;
  /** false with --no-boundary-stop. */
  boundaryStop?: boolean;
  images?: string;
  json?: boolean;
  code?: boolean;
  quiet?: boolean;
  html?: string;
  jobs?: string;
  shard?: string;
}

const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');

export async function bisectCommand(file: string, o: BisectCliOptions): Promise<number> {
  setClock(() => performance.now());
  const a = sideSettings(o.a ?? DEFAULT_A, '--a');
  const b = sideSettings(o.b ?? DEFAULT_B, '--b');
  if (b.tier === 'interp') throw new UserError(`--b '${b.text}': the interpreter compiles nothing, so there is no unit to bisect (give tier=block or tier=trace)`, ExitCode.Usage);
  const steps = o.thresholdSteps === undefined ? undefined : parseCount(o.thresholdSteps, '--threshold-steps');
  if (steps !== undefined && steps < 2) throw new UserError('--threshold-steps must be at least 2 (the two ends of the walk)', ExitCode.Usage);
  const plan = o.thresholdScan !== undefined ? parseScan(o.thresholdScan, steps) : null;
  // The scan sets the threshold it walks: one given in --b would be overridden.
  const walked = walkedThreshold(b.tier);
  if (plan && b.opts[walked.key] !== undefined) throw new UserError(`--threshold-scan walks ${walked.option}: --b '${b.text}' gives it too (leave it out)`, ExitCode.Usage);
  const jobs = parseJobs(o.jobs);
  if (o.shard !== undefined && !plan) throw new UserError('--shard splits a --threshold-scan (a plain bisect is one search)', ExitCode.Usage);
  const shard = o.shard === undefined ? undefined : parseShard(o.shard);
  const rec = await loadRecording(file, 'bisect');
  announceFaults(a, b);
  const shown = sideProgress(rec, 'bisect', o.quiet || o.json, progress(o.quiet || o.json));
  const log = shown.log;
  const p = (s: string) => process.stdout.write(s + '\n');
  const html = async (r: BisectResult | null) => {
    if (o.html) (await import('./report.js')).writeDivergencePage(o.html, { file, diff: r?.diff ?? null, bisect: r });
  };
  const replays = replayPool(rec, o.images, jobs);
  try {
    if (plan) {
      const r = await thresholdScan(rec, a, b, plan, replays, { images: o.images, log, shard, boundaries: o.boundaryStop !== false });
      shown.done();
      await html(r.bisect);
      printScan(r, { ...o, file, settings: b.text }, p);
      return verdictCode(r.rows.some((x) => x.diverged), r.vacuous);
    }
    const r = await bisectRecording(rec, a, b, replays, { images: o.images, log, boundaries: o.boundaryStop !== false });
    shown.done();
    await html(r);
    if (o.json) p(JSON.stringify(bisectJson(r), null, 2));
    else printBisect(r, file, o, p);
    return verdictCode(r.failing.diverged, r.vacuous);
  } finally {
    await replays.close();
  }
}

function bisectJson(r: BisectResult): Record<string, unknown> {
  return { ...r, diff: r.diff ? diffJson(r.diff) : null };
}

/** A threshold scan as `deja bisect --threshold-scan` prints it (merge-results prints merged shards so too). */
export function printScan(r: ScanResult, o: { file: string; settings: string; json?: boolean; code?: boolean }, p: (s: string) => void): void {
  const { file, settings } = o;
  if (o.json) return p(JSON.stringify({ file, settings, ...r, bisect: r.bisect && bisectJson(r.bisect) }, null, 2));
  const rows = r.rows;
  const share = r.shard ? `; shard ${r.shard.index}/${r.shard.count}: thresholds ${shareOf(r.thresholds, r.shard).map((x) => x.item).join(', ') || 'none'}` : '';
  p(`deja bisect --threshold-scan: ${file} under ${settings}${r.direction === 'down' ? `, walking --${r.option} down: ${r.thresholds.join(', ')}` : ''}${share}`);
  const pad = ' '.repeat(r.option.length + 12);
  for (const x of rows) {
    p(`  --${r.option} ${String(x.threshold).padEnd(6)} ${x.diverged ? 'DIVERGES' : 'ok      '}  ${formatExercised(x.exercised)}`);
    if (x.diverged) p(`${pad}at icount ${x.icount}: ${x.what}`);
  }
  const bad = rows.filter((x) => x.diverged);
  const nothing = rows.filter((x) => compiledNothing(x.exercised)).length;
  const compiled = `${nothing} of ${rows.length} compiled nothing`;
  if (r.direction === 'up') p(`${bad.length} of ${rows.length} diverge${bad.length ? `: ${bad.map((x) => x.threshold).join(', ')}` : ''}; ${compiled}`);
  else if (r.highest === null) p(`no threshold from ${r.thresholds[0]} down to ${r.thresholds[r.thresholds.length - 1]} diverges; ${compiled}`);
  else {
    const prev = rows.length > 1 ? rows[rows.length - 2] : null;
    const above = r.shard ? "of this shard's share; merge-results finds the highest of all the shards" : prev ? `the step above, ${prev.threshold}, does not diverge${compiledNothing(prev.exercised) ? ', having compiled nothing' : ''}` : 'the first step: higher thresholds were not tried';
    p(`highest diverging threshold: --${r.option} ${r.highest} (${above})`);
  }
  if (r.vacuous) p(`${VACUOUS}: no threshold compiled a unit`);
  if (r.bisect) printBisect(r.bisect, file, o, p);
}

function printBisect(r: BisectResult, file: string, o: { code?: boolean }, p: (s: string) => void): void {
  p(`deja bisect: ${file} under ${r.settings}`);
  const f = r.failing;
  p(`  the replay ${f.diverged ? `diverges at icount ${f.icount}: ${f.what}` : 'does not diverge'}`);
  p(`    ${formatExercised(f.exercised)}`);
  if (r.vacuous) p(`${VACUOUS}: the replay does not diverge, but no unit was compiled to check`);
  if (r.stop) {
    p(`  its state first differs from the reference's at the run-loop boundary at icount ${r.stop.icount} (the one before, ${r.stop.lastGood}, matches): the probes stop there`);
    p(`    ${formatExercised(r.stop.exercised)}`);
  }
  for (const s of r.steps) p(`  --${s.option} ${String(s.limit).padEnd(8)} ${(s.diverged ? `diverges at icount ${s.icount}` : 'ok').padEnd(30)} ${formatExercised(s.exercised)}`);
  if (r.kind !== null) {
    const u = r.unit;
    p(`FIRST BAD UNIT: ${r.kind} ${r.index}${u ? ` at ${hex(u.pc)}` : ''} (the smallest diverging setting: ${r.minimal})`);
    if (u) {
      if (u.kind === 'trace') p(`  spans blocks ${u.blocks.map((x) => `${x.id}@${hex(x.pc)}`).join(' ')}`);
      p(u.listing.split('\n').map((l) => '  ' + l).join('\n'));
    }
    if (r.diff) p(formatDiff(r.diff, { code: o.code !== false }));
  }
  for (const n of r.notes) p(`note: ${n}`);
  // (The replay under --b, its probes, and with a stop that replay again stopped there.)
  const replays = r.steps.length + 1 + (r.stop ? 1 : 0);
  p(`bisect: ${plural(replays, 'replay')}${r.stop ? `, a boundary search (${r.stop.seconds.toFixed(2)} s)` : ''}${r.diff ? ' and a diff' : ''}, ${r.seconds.toFixed(2)} s`);
}
