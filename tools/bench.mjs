#!/usr/bin/env node
// `npm run bench`: boots the reference guest's `boot`, `bench` (at each --benchiter),
// `kernel` and `stress` modes under each tier, plain and recording, replays the recording,
// and (where qemu-system-riscv32 is installed) times QEMU on the same images (deja's: the
// shipped guest, or DEJA_GUEST_DIR), plain and recording (-icount shift=auto,rr=record).
// Prints instructions, seconds, wall seconds and MIPS per run: the median of RUNS runs
// (default 3), every tier and QEMU taking turns within each round.
//
// Usage: node tools/bench.mjs [--runs N] [--benchiter N,N,...|full] [--kerneliter N]
//                             [--tiers interp,block,trace] [--cases boot,bench,kernel,stress]
//                             [--no-record] [--no-qemu]
// (--benchiter: default 1000,10000; `full` is the guest's own count, 3.98 G instructions.
// --kerneliter: rounds of the kernel mode; default the guest's own.)

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultGuestDir } from '../dist/cli/guest.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const runs = Number(opt('--runs', process.env.RUNS ?? '3'));
const benchiters = opt('--benchiter', '1000,10000').split(',');
const kerneliter = opt('--kerneliter', '');
const tiers = opt('--tiers', 'interp,block,trace').split(',');
const wanted = opt('--cases', 'boot,bench,kernel,stress').split(',');
const withRecord = !args.includes('--no-record');
const withQemu = !args.includes('--no-qemu');
const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin/deja.js');
const dir = mkdtempSync(join(tmpdir(), 'deja-bench-'));
// A fixed wall clock, so every run of a case executes the same instructions.
const RTC = ['--rtc', '2026-01-01T00:00:00Z'];

const cases = [
  { name: 'boot', mode: 'boot', extra: '' },
  ...benchiters.map((n) => ({ name: `bench(${n})`, mode: 'bench', extra: n === 'full' ? '' : `benchiter=${n}`, key: 'bench' })),
  kerneliter ? { name: `kernel(${kerneliter})`, mode: 'kernel', extra: `kerneliter=${kerneliter}`, key: 'kernel' } : { name: 'kernel', mode: 'kernel', extra: '' },
  { name: 'stress', mode: 'stress', extra: '' },
].filter((c) => wanted.includes(c.key ?? c.name));
// QEMU boots the images deja boots.
const guestDir = defaultGuestDir();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function deja(argv) {
  const stats = join(dir, `stats-${process.hrtime.bigint()}.json`);
  const t0 = performance.now();
  // Run as `npx deja` runs it: through bin/deja.js's #! line and the node options there.
  // (Its last line, how the run ended, is shown only if it failed: the table says the rest.)
  const r = spawnSync(bin, [...argv, '-q', '--stats-json', stats], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0 && r.status !== 5) {
    console.error(`deja ${argv.join(' ')} exited ${r.status}\n${r.stderr}`);
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
// (what QEMU's times are). MIPS from seconds. Each round runs every tier and QEMU once, in
// turn, so that a machine whose speed drifts slows all of them alike.
console.log(`${'case'.padEnd(13)} ${'run'.padEnd(22)} ${'icount'.padStart(11)} ${'seconds'.padStart(8)} ${'wall'.padStart(8)} ${'MIPS'.padStart(7)}  (median of ${runs})`);
const qemuScript = join(root, 'tools/guest/run-qemu.sh');
const qemuProbe = spawnSync('qemu-system-riscv32', ['--version'], { encoding: 'utf8' });
const haveQemu = withQemu && qemuProbe.status === 0 && existsSync(qemuScript);
for (const c of cases) {
  const guest = ['--mode', c.mode, ...(c.extra ? ['--append-extra', c.extra] : []), ...RTC];
  const per = new Map(tiers.map((t) => [t, { plain: [], plainWall: [], rec: [], recWall: [], rep: [], repWall: [], icount: 0, jit: '', size: 0 }]));
  const q = { plain: [], rec: [], size: 0 };
  for (let i = 0; i < runs; i++) {
    for (const tier of tiers) {
      const m = per.get(tier);
      const s = deja(['run', ...guest, '--tier', tier, '--no-record']);
      m.plain.push(s.seconds);
      m.plainWall.push(s.wall);
      m.icount = s.icount;
      if (s.jit) m.jit = `blocks ${s.jit.blocksCompiled} (${s.jit.blockCompileMs.toFixed(0)} ms), traces ${s.jit.tracesCompiled} (${s.jit.traceCompileMs.toFixed(0)} ms), in traces ${((s.insns.trace / s.icount) * 100).toFixed(0)}%`;
      if (!withRecord) continue;
      const file = join(dir, `${c.mode}-${tier}-${i}.deja`);
      const r = deja(['run', ...guest, '--tier', tier, '--record', file]);
      m.rec.push(r.seconds);
      m.recWall.push(r.wall);
      m.size = statSync(file).size;
      const p = deja(['replay', file, '--tier', tier]);
      m.rep.push(p.seconds);
      m.repWall.push(p.wall);
    }
    if (haveQemu) qemuRound(c, q);
  }
  for (const tier of tiers) {
    const m = per.get(tier);
    row(c.name, `${tier}`, m.icount, median(m.plain), median(m.plainWall), m.jit);
    if (!withRecord) continue;
    const over = ((median(m.rec) / median(m.plain) - 1) * 100).toFixed(1);
    row(c.name, `${tier} recording`, m.icount, median(m.rec), median(m.recWall), `${m.size} bytes, ${over}% over plain`);
    row(c.name, `${tier} replay`, m.icount, median(m.rep), median(m.repWall));
  }
  if (!withQemu) continue;
  if (!haveQemu) {
    console.log(`${c.name.padEnd(13)} qemu: qemu-system-riscv32 not installed, skipped`);
    continue;
  }
  const ratio = (xs) => (tiers.includes('trace') ? `, trace plain wall / this ${(median(per.get('trace').plainWall) / median(xs)).toFixed(2)}` : '');
  row(c.name, 'qemu (TCG)', 0, median(q.plain), median(q.plain), `(wall)${ratio(q.plain)}`);
  if (q.rec.length) row(c.name, 'qemu recording', 0, median(q.rec), median(q.rec), `(wall) ${q.size} bytes`);
}

/** One round of QEMU on the same guest: plain TCG and record (the DESIGN.md baselines' commands). */
function qemuRound(c, q) {
  const env = { ...process.env, OUT: guestDir, ...(c.extra ? { APPEND_EXTRA: c.extra } : {}) };
  const time = (extra) => {
    const t0 = performance.now();
    const r = spawnSync('bash', [qemuScript, c.mode, ...extra], { env, stdio: ['ignore', 'ignore', 'ignore'] });
    return r.status === 0 ? (performance.now() - t0) / 1000 : NaN;
  };
  q.plain.push(time([]));
  if (!withRecord) return;
  const rr = join(dir, `qemu-${c.mode}.rr`);
  q.rec.push(time(['-icount', `shift=auto,rr=record,rrfile=${rr}`]));
  if (existsSync(rr)) q.size = statSync(rr).size;
}
