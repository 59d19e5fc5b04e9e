#!/usr/bin/env node
// `npm run bench`: boots the reference guest's `boot` and `bench` modes under each tier and
// prints instructions, wall seconds and MIPS (median of RUNS runs, default 3).
// Usage: node tools/bench.mjs [--runs N] [--benchiter N] [--tiers interp,...]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const runs = Number(opt('--runs', process.env.RUNS ?? '3'));
const benchiter = opt('--benchiter', '10000');
const tiers = opt('--tiers', 'interp').split(',');
const bin = resolve(import.meta.dirname, '../bin/deja.js');
const dir = mkdtempSync(join(tmpdir(), 'deja-bench-'));

const cases = [
  { name: 'boot', args: ['--mode', 'boot'] },
  { name: `bench(${benchiter})`, args: ['--mode', 'bench', '--append-extra', `benchiter=${benchiter}`] },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`${'case'.padEnd(14)} ${'tier'.padEnd(8)} ${'icount'.padStart(12)} ${'seconds'.padStart(8)} ${'MIPS'.padStart(7)}   (median of ${runs})`);
for (const c of cases) {
  for (const tier of tiers) {
    const secs = [];
    let icount = 0;
    for (let i = 0; i < runs; i++) {
      const stats = join(dir, `${c.name}-${tier}-${i}.json`);
      const r = spawnSync(process.execPath, [bin, 'run', ...c.args, '--tier', tier, '-q', '--stats-json', stats], { stdio: 'inherit' });
      if (r.status !== 0) {
        console.error(`${c.name} (${tier}) exited ${r.status}`);
        process.exit(1);
      }
      const s = JSON.parse(readFileSync(stats, 'utf8'));
      secs.push(s.seconds);
      icount = s.icount;
    }
    const t = median(secs);
    console.log(`${c.name.padEnd(14)} ${tier.padEnd(8)} ${String(icount).padStart(12)} ${t.toFixed(3).padStart(8)} ${(icount / t / 1e6).toFixed(1).padStart(7)}`);
  }
}
