#!/usr/bin/env node
// Low thresholds on a boot recording: replays under the interpreter, the block tier at
// threshold 1 and the trace tier at thresholds 1/1, taking turns within each round, with
// the mean translation cost per block and per trace; then the repeated-replay commands
// (bisect at thresholds 1/1 with an injected fault, a threshold scan over 10 thresholds),
// which reuse translations in one process. Prints medians of --runs N (default 5).
// --reuse adds replays in one process that share one translation cache (V8 makes each
// unit once, and a unit's closures share its feedback): the interpreter twice, then the
// block tier at threshold 1 four times, the last replays paying no translation and little
// warm-up (what a low threshold costs once translating is free). Needs dist/.
//
// Usage: node tools/bench-thresholds.mjs [--runs N] [--recording FILE] [--no-campaigns] [--reuse]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const runs = Number(opt('--runs', '5'));
const bin = join(resolve(import.meta.dirname, '..'), 'bin/deja.js');
const dir = mkdtempSync(join(tmpdir(), 'deja-bench-thresholds-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function deja(argv, okCodes = [0]) {
  const t0 = performance.now();
  const r = spawnSync(bin, argv, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (!okCodes.includes(r.status)) {
    console.error(`deja ${argv.join(' ')} exited ${r.status}\n${r.stderr}`);
    process.exit(1);
  }
  return wall;
}

let rec = opt('--recording', null);
if (!rec) {
  rec = join(dir, 'boot.deja');
  deja(['run', '--mode', 'boot', '--rtc', '2026-01-01T00:00:00Z', '-q', '--record', rec]);
}

const settings = [
  { name: 'interp', argv: [] },
  { name: 'block, threshold 1', argv: ['--tier', 'block', '--block-threshold', '1'] },
  { name: 'trace, thresholds 1/1', argv: ['--tier', 'trace', '--block-threshold', '1', '--trace-threshold', '1'] },
];
const results = settings.map(() => ({ wall: [], seconds: [], stats: null }));
for (let round = 0; round < runs; round++) {
  settings.forEach((s, i) => {
    const stats = join(dir, `s-${i}-${round}.json`);
    const wall = deja(['replay', rec, '-q', '--stats-json', stats, ...s.argv]);
    const j = JSON.parse(readFileSync(stats, 'utf8'));
    results[i].wall.push(wall);
    results[i].seconds.push(j.seconds);
    results[i].stats = j.jit ?? null;
  });
}
console.log(`replays of ${rec}, median of ${runs} (tiers taking turns):`);
const base = median(results[0].seconds);
const baseWall = median(results[0].wall);
settings.forEach((s, i) => {
  const r = results[i];
  const sec = median(r.seconds);
  const wall = median(r.wall);
  const j = r.stats;
  const units = j ? `; ${j.blocksCompiled} blocks, ${j.blockCompileUsMean} µs each; ${j.tracesCompiled} trace compiles, ${j.traceCompileUsMean} µs each` : '';
  console.log(`  ${s.name.padEnd(22)} ${sec.toFixed(3)} s (${(sec / base).toFixed(2)}x), wall ${wall.toFixed(3)} s (${(wall / baseWall).toFixed(2)}x)${units}`);
});

if (!args.includes('--no-campaigns')) {
  const bisect = [];
  const scan = [];
  for (let round = 0; round < Math.min(runs, 3); round++) {
    bisect.push(deja(['bisect', rec, '--b', 'tier=trace,block-threshold=1,trace-threshold=1,jit-fault=lost-writeback', '-q', '--no-code'], [7]));
    scan.push(deja(['bisect', rec, '--b', 'tier=trace', '--threshold-scan', '1,3,10,32,100,316,1000,3162,10000,100000', '-q'], [0, 7]));
  }
  console.log(`bisect, thresholds 1/1, jit-fault=lost-writeback: ${median(bisect).toFixed(2)} s wall (median of ${bisect.length})`);
  console.log(`threshold scan over 10 trace thresholds 1..100000: ${median(scan).toFixed(2)} s wall (median of ${scan.length})`);
}
if (args.includes('--reuse')) {
  const script = `
    const dist = (m) => import(${JSON.stringify(resolve(import.meta.dirname, '..', 'dist'))} + '/' + m);
    const { loadRecording, ReplaySession } = await dist('session/replay-session.js');
    const { tierSettings } = await dist('session/tier.js');
    const { TranslationCache } = await dist('jit/translation-cache.js');
    const rec = await loadRecording(${JSON.stringify(rec)});
    const translations = new TranslationCache();
    const out = [];
    for (const [tier, n] of [['interp', 2], ['block', 4]]) {
      for (let i = 0; i < n; i++) {
        const s = new ReplaySession(rec, tierSettings(tier === 'interp' ? { tier } : { tier, blockThreshold: '1' }), { translations });
        const t0 = performance.now();
        const r = s.replay();
        if (r.divergence || r.checkpoints === 0) throw new Error('replay ' + tier + ' did not verify');
        const st = s.jit?.finalStats();
        out.push(tier + ' ' + ((performance.now() - t0) / 1000).toFixed(3) + ' s' + (st ? ' (' + st.translationsMade + ' made, ' + st.translationsReused + ' reused)' : ''));
      }
    }
    console.log(out.join('\\n'));`;
  const r = spawnSync(process.execPath, ['--v8-pool-size=0', '--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(r.error ?? r.stderr);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  }
  console.log(`replays in one process sharing translations, in order:\n${r.stdout.trim().split('\n').map((l) => `  ${l}`).join('\n')}`);
}
rmSync(dir, { recursive: true, force: true });
