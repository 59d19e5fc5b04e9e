#!/usr/bin/env node
// `npm run bench`: boots the reference guest's `boot` and `bench` modes under each tier,
// plain and recording, replays the recording, and (where qemu-system-riscv32 is installed)
// times QEMU on the same guest, plain and recording (-icount shift=auto,rr=record). Prints
// instructions, wall seconds and MIPS per run: the median of RUNS runs (default 3).
//
// Usage: node tools/bench.mjs [--runs N] [--benchiter N] [--tiers interp,block,trace]
//                             [--cases boot,bench] [--no-record] [--no-qemu]

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const runs = Number(opt('--runs', process.env.RUNS ?? '3'));
const benchiter = opt('--benchiter', '10000');
const tiers = opt('--tiers', 'interp,block,trace').split(',');
const wanted = opt('--cases', 'boot,bench').split(',');
const withRecord = !args.includes('--no-record');
const withQemu = !args.includes('--no-qemu');
const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin/deja.js');
const dir = mkdtempSync(join(tmpdir(), 'deja-bench-'));
// A fixed wall clock, so every run of a case executes the same instructions.
const RTC = ['--rtc', '2026-01-01T00:00:00Z'];

const cases = [
  { name: 'boot', mode: 'boot', extra: '' },
  { name: `bench(${benchiter})`, mode: 'bench', extra: `benchiter=${benchiter}`, key: 'bench' },
].filter((c) => wanted.includes(c.key ?? c.name));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function deja(argv) {
  const stats = join(dir, `stats-${process.hrtime.bigint()}.json`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...argv, '-q', '--stats-json', stats], { stdio: ['ignore', 'ignore', 'inherit'] });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0 && r.status !== 5) {
    console.error(`deja ${argv.join(' ')} exited ${r.status}`);
    process.exit(1);
  }
  // `seconds` is the guest's run; `wall` the whole process, as QEMU's times are.
  return { ...JSON.parse(readFileSync(stats, 'utf8')), wall };
}

function row(name, what, icount, secs, wall, extra = '') {
  const w = wall === null ? ''.padStart(8) : wall.toFixed(3).padStart(8);
  const mips = icount ? (icount / secs / 1e6).toFixed(1) : '';
  console.log(`${name.padEnd(13)} ${what.padEnd(22)} ${String(icount || '').padStart(11)} ${secs.toFixed(3).padStart(8)} ${w} ${mips.padStart(7)}  ${extra}`);
}

// seconds: the guest's run (deja's own measure); wall: the whole process, start-up included
// (what QEMU's times are). MIPS from seconds.
console.log(`${'case'.padEnd(13)} ${'run'.padEnd(22)} ${'icount'.padStart(11)} ${'seconds'.padStart(8)} ${'wall'.padStart(8)} ${'MIPS'.padStart(7)}  (median of ${runs})`);
for (const c of cases) {
  const guest = ['--mode', c.mode, ...(c.extra ? ['--append-extra', c.extra] : []), ...RTC];
  for (const tier of tiers) {
    const plain = [];
    const plainWall = [];
    let icount = 0;
    let jit = '';
    for (let i = 0; i < runs; i++) {
      const s = deja(['run', ...guest, '--tier', tier, '--no-record']);
      plain.push(s.seconds);
      plainWall.push(s.wall);
      icount = s.icount;
      if (s.jit) jit = `blocks ${s.jit.blocksCompiled} (${s.jit.blockCompileMs.toFixed(0)} ms), traces ${s.jit.tracesCompiled} (${s.jit.traceCompileMs.toFixed(0)} ms), in traces ${((s.insns.trace / s.icount) * 100).toFixed(0)}%`;
    }
    row(c.name, `${tier}`, icount, median(plain), median(plainWall), jit);
    if (!withRecord) continue;
    const rec = [];
    const recWall = [];
    const rep = [];
    const repWall = [];
    let size = 0;
    for (let i = 0; i < runs; i++) {
      const file = join(dir, `${c.mode}-${tier}-${i}.deja`);
      const s = deja(['run', ...guest, '--tier', tier, '--record', file]);
      rec.push(s.seconds);
      recWall.push(s.wall);
      size = statSync(file).size;
      const r = deja(['replay', file, '--tier', tier]);
      rep.push(r.seconds);
      repWall.push(r.wall);
    }
    const over = ((median(rec) / median(plain) - 1) * 100).toFixed(1);
    row(c.name, `${tier} recording`, icount, median(rec), median(recWall), `${size} bytes, ${over}% over plain`);
    row(c.name, `${tier} replay`, icount, median(rep), median(repWall));
  }
  if (withQemu) qemu(c);
}

/** QEMU on the same guest: plain TCG and record (the DESIGN.md baselines' commands). */
function qemu(c) {
  const script = join(root, 'tools/guest/run-qemu.sh');
  const probe = spawnSync('qemu-system-riscv32', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0 || !existsSync(script)) {
    console.log(`${c.name.padEnd(13)} qemu: qemu-system-riscv32 not installed, skipped`);
    return;
  }
  const env = { ...process.env, ...(c.extra ? { APPEND_EXTRA: c.extra } : {}) };
  const time = (extra) => {
    const t = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync('bash', [script, c.mode, ...extra], { env, stdio: ['ignore', 'ignore', 'ignore'] });
      if (r.status !== 0) return NaN;
      t.push((performance.now() - t0) / 1000);
    }
    return median(t);
  };
  const plain = time([]);
  const rr = join(dir, `qemu-${c.mode}.rr`);
  const recorded = time(['-icount', `shift=auto,rr=record,rrfile=${rr}`]);
  row(c.name, 'qemu (TCG)', 0, plain, plain, '(wall)');
  row(c.name, 'qemu recording', 0, recorded, recorded, `(wall) ${existsSync(rr) ? `${statSync(rr).size} bytes` : ''}`);
}
