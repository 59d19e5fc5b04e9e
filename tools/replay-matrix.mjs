#!/usr/bin/env node
// `npm run replay-matrix`: replays every scenario in replay/ under every settings set it
// lists and checks the outcome. One line per (scenario, settings): PASS, FAIL or SKIP with
// the outcome and the time; then a summary line. Exits 1 if anything failed.
//
//   node tools/replay-matrix.mjs [--fast] [--dir DIR] [--no-cache] [--jobs N] [NAME...]
//
//   --fast       only scenarios marked "fast": true (the committed samples)
//   --jobs N     deja processes at once (default: the machine's processors); the lines come
//                out in the same order whatever N is
//   --dir DIR    scenario folder (default replay/); recordings are relative to the repo
//   --no-cache   record "make" scenarios afresh into a temporary folder
//   NAME...      only these scenarios (file names without .json)
//
// A scenario (replay/NAME.json):
//   {
//     "description": "...",
//     "recording": "recordings/x.deja",          // or "make": { run options }, see below
//     "fast": true,
//     "settings": [ { "tier": "interp" }, { "tier": "block", "block-threshold": 0 } ],
//     "expect": { "reason": "fail", "code": 66, "status": 1, "icount": 13334200,
//                 "checkpoints": "all" }
//   }
// A settings set is a map of `deja replay` options: "tier": "block" gives --tier block,
// true gives a bare flag, false or null leaves the option out. A set that this deja
// rejects with a usage error (exit 2) about --tier, or about an option of the set that it
// does not know, is skipped with a note, not failed: scenarios may list tiers and options
// that are not there yet. Any other usage error fails.
//
// "make": { "mode": "boot", ... } records the reference Linux guest on the fly with
// `deja run --tier interp --record F` plus those run options (a map like settings), when the
// guest is there (DEJA_GUEST_DIR, the images shipped in guest/, or <cache>/guest/current); otherwise the scenario is
// skipped. Such recordings are kept in <cache>/recordings-matrix/<key>/ (the 8 newest), the
// key being a hash of the guest images, the make options and the emulator sources outside
// src/jit/ (a recording is made by the reference interpreter; the JIT does not change it).
//
// "trim": { "last": "10M" } (or "from") replays, instead of the recording, the recording
// `deja trim` cuts from it; "index": "5M" writes its snapshots (`deja index --every`) first.
// A settings set with "to": N replays to icount N (`--to`, from the nearest snapshot): it
// must stop there, exit 0, and verify every checkpoint between the snapshot and N.
//
// expect: "reason" and "code" are the guest's exit (`--stats-json` exit.reason/.code),
// "status" the process exit code, "icount" the final instruction count (a number, or
// "recorded": the recording's end), "checkpoints" the number verified ("all": every
// checkpoint in the recording). A replay that diverges (exit 7) always fails.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const BIN = join(ROOT, 'bin/deja.js');
const USAGE = 2;
const DIVERGENCE = 7;

// ---- arguments ----
const args = process.argv.slice(2);
let fastOnly = false;
let useCache = true;
let dir = join(ROOT, 'replay');
let jobs = availableParallelism();
const only = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--fast') fastOnly = true;
  else if (a === '--no-cache') useCache = false;
  else if (a === '--dir') dir = resolve(args[++i] ?? '.');
  else if (a === '--jobs') {
    jobs = Number(args[++i]);
    if (!Number.isSafeInteger(jobs) || jobs < 1) {
      console.error(`replay-matrix: --jobs ${args[i] ?? ''}: give a number of jobs, at least 1`);
      process.exit(2);
    }
  }
  else if (a === '-h' || a === '--help') {
    console.log('usage: node tools/replay-matrix.mjs [--fast] [--dir DIR] [--no-cache] [--jobs N] [NAME...]');
    process.exit(0);
  } else if (a.startsWith('-')) {
    console.error(`replay-matrix: unknown option ${a}`);
    process.exit(2);
  } else only.push(a);
}
// bin/deja.js runs the bundle (tools/bundle.mjs): a dist/ from tsc alone would be older code.
const bundle = join(ROOT, 'dist/cli/main.bundle.js');
if (!existsSync(bundle) || statSync(bundle).mtimeMs < statSync(join(ROOT, 'dist/cli/main.js')).mtimeMs) {
  console.error('replay-matrix: dist/ is missing or not bundled: run npm run build first');
  process.exit(2);
}

// ---- helpers ----
const t0 = performance.now();
const tally = { PASS: 0, FAIL: 0, SKIP: 0 };
let tmpRoot = null;
let statsFiles = 0;

/** A result line, in the output of the scenario being run (`out`), printed in scenario order. */
function report(out, kind, scenario, settings, detail, seconds) {
  const time = seconds === undefined ? '' : `  ${seconds.toFixed(2)}s`;
  out.push({ kind, line: `${kind}  ${scenario}  [${settings}]  ${detail}${time}` });
}

/** At most `jobs` deja processes at once; the others wait their turn, first come first served. */
const waiting = [];
let running = 0;
async function slot(fn) {
  if (running >= jobs) await new Promise((go) => waiting.push(go));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** A map of CLI options to argv: {tier: 'block', q: true, x: false} -> ['--tier', 'block', '-q']. */
function optionArgs(map) {
  const out = [];
  for (const [k, v] of Object.entries(map ?? {})) {
    if (v === false || v === null || v === undefined) continue;
    const flag = k.startsWith('-') ? k : k.length === 1 ? `-${k}` : `--${k}`;
    out.push(flag);
    if (v !== true) out.push(String(v));
  }
  return out;
}

function describeSettings(map) {
  const a = optionArgs(map);
  return a.length ? a.join(' ') : 'defaults';
}

/** Runs deja (when a slot is free): its exit status, its stderr, whether it timed out, its wall time. */
function deja(argv, timeoutSeconds) {
  return slot(
    () =>
      new Promise((done) => {
        const started = performance.now();
        const child = spawn(process.execPath, [BIN, ...argv], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        let timedOut = false;
        child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-64 * 1024)));
        const timer = setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), timeoutSeconds * 1000);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          done({ status: code ?? (signal ? `signal ${signal}` : -1), stderr, timedOut, seconds: (performance.now() - started) / 1000 });
        });
      }),
  );
}

/** The first line of a child's stderr (a deja error is one line; a crash starts with its cause). */
function firstLine(s) {
  const line = s.trim().split('\n').find((l) => l.trim()) ?? '';
  return line.length > 240 ? `${line.slice(0, 240)}…` : line;
}

function cacheDir() {
  const cache = process.env.DEJA_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'deja');
  return join(cache, 'recordings-matrix');
}

// The images deja run boots, found as it finds them.
const { defaultGuestDir: guestDir, GUEST_FILES: guestFiles } = await import('../dist/cli/guest.js');
const GUEST_FILES = Object.values(guestFiles);

function hashTree(h, d) {
  for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(d, e.name);
    if (e.isDirectory()) {
      if (relative(ROOT, p) !== join('src', 'jit')) hashTree(h, p);
    } else if (e.isFile()) h.update(relative(ROOT, p) + '\0').update(readFileSync(p));
  }
}

let sourcesKey = null;
function recordingKey(make) {
  if (!sourcesKey) {
    const h = createHash('sha256');
    hashTree(h, join(ROOT, 'src'));
    sourcesKey = h.digest('hex');
  }
  const h = createHash('sha256').update(sourcesKey).update(JSON.stringify(make));
  for (const f of GUEST_FILES) h.update(f + '\0').update(readFileSync(join(guestDir(), f)));
  return h.digest('hex').slice(0, 16);
}

/** Makes (or finds in the cache) the recording of a "make" scenario: {file} or {skip} or {fail}. */
async function makeRecording(name, make, timeoutSeconds) {
  const missing = GUEST_FILES.filter((f) => !existsSync(join(guestDir(), f)));
  if (missing.length) return { skip: `no Linux guest in ${guestDir()} (run npm run guest)` };
  let target;
  if (useCache) {
    const d = join(cacheDir(), recordingKey(make));
    target = join(d, `${name}.deja`);
    if (existsSync(target)) return { file: target, note: 'cached' };
    mkdirSync(d, { recursive: true });
  } else {
    target = join(scratch(), `${name}.deja`);
  }
  const partial = `${target}.${process.pid}.tmp`;
  const r = await deja(['run', '--tier', 'interp', '-q', ...optionArgs(make), '--record', partial], timeoutSeconds);
  const seconds = r.seconds;
  if (r.timedOut || !existsSync(partial) || r.status === USAGE || r.status === 3 || r.status === 70 || typeof r.status !== 'number') {
    rmSync(partial, { force: true });
    return { fail: `recording failed (deja run exit ${r.status}${r.timedOut ? ', timed out' : ''}): ${firstLine(r.stderr)}` };
  }
  // Only a whole recording (one with an end record) goes into the cache.
  let end = null;
  try {
    end = inspect(partial).end;
  } catch (e) {
    rmSync(partial, { force: true });
    return { fail: `recording unreadable (deja run exit ${r.status}): ${e.message}` };
  }
  if (!end) {
    rmSync(partial, { force: true });
    return { fail: `recording has no end record (deja run exit ${r.status}): ${firstLine(r.stderr)}` };
  }
  renameSync(partial, target);
  if (useCache) pruneCache();
  return { file: target, note: `recorded in ${seconds.toFixed(1)}s` };
}

/** Keeps the cache to its most recent folders (every change to src/ makes a new key). */
function pruneCache(keep = 8) {
  const d = cacheDir();
  const dirs = readdirSync(d, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9a-f]{16}$/.test(e.name))
    .map((e) => ({ p: join(d, e.name), t: statSync(join(d, e.name)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { p } of dirs.slice(keep)) rmSync(p, { recursive: true, force: true });
}

function inspect(file) {
  const r = spawnSync(process.execPath, [BIN, 'inspect', file, '--json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`deja inspect exit ${r.status}: ${firstLine(r.stderr)}`);
  return JSON.parse(r.stdout);
}

function outcome(stats, status) {
  if (!stats) return `exit ${status}`;
  const e = stats.exit ?? {};
  const cp = stats.replay?.checkpoints;
  return `${e.reason}(${e.code}) exit ${status} icount ${stats.icount}${cp === undefined ? '' : `, ${cp} checkpoints`}`;
}

/** The folder for this run's scratch files (made on first use, removed at the end). */
function scratch() {
  return (tmpRoot ??= mkdtempSync(join(tmpdir(), 'deja-replay-matrix-')));
}

/** `deja replay FILE` with a settings set: the process result, its wall time and its --stats-json (null if none). */
async function replayWithStats(file, settings, timeoutSeconds) {
  const statsFile = join(scratch(), `stats-${process.pid}-${statsFiles++}.json`);
  const r = await deja(['replay', file, '-q', ...optionArgs(settings), '--stats-json', statsFile], timeoutSeconds);
  const seconds = r.seconds;
  let stats = null;
  try {
    stats = JSON.parse(readFileSync(statsFile, 'utf8'));
  } catch {
    // none written: the caller reports it
  }
  rmSync(statsFile, { force: true });
  return { r, seconds, stats };
}

/** Replays `file` under one settings set and checks the outcome. */
async function runOne(out, name, file, info, settings, expect, timeoutSeconds) {
  if (settings.to !== undefined) return runTo(out, name, file, info, settings, timeoutSeconds);
  const label = describeSettings(settings);
  const { r, seconds, stats } = await replayWithStats(file, settings, timeoutSeconds);

  if (r.status === USAGE) {
    const err = firstLine(r.stderr);
    const opts = optionArgs(settings).filter((a) => a.startsWith('-'));
    const unknown = /unknown option '([^']+)'/.exec(err)?.[1];
    const tier = settings?.tier ?? settings?.['--tier'];
    const tierRejected = tier !== undefined && err.includes('--tier') && err.includes(`'${tier}'`);
    if (tierRejected || (unknown && opts.includes(unknown))) {
      return report(out, 'SKIP', name, label, `this deja does not take it: ${err.replace(/^(deja: |error: )/, '')}`);
    }
    return report(out, 'FAIL', name, label, `usage error: ${err}`, seconds);
  }
  const problems = [];
  if (r.timedOut) problems.push(`timed out after ${timeoutSeconds}s`);
  if (r.status === DIVERGENCE) problems.push(`diverged: ${firstLine(r.stderr)}`);
  if (!stats) problems.push(`no --stats-json written (exit ${r.status}: ${firstLine(r.stderr)})`);
  else {
    const end = info.end;
    const want = (what, actual, expected) => check(problems, what, actual, expected);
    want('exit reason', stats.exit?.reason, expect.reason);
    want('exit code', stats.exit?.code, expect.code);
    want('icount', stats.icount, expect.icount === 'recorded' ? end?.icount : expect.icount);
    if (stats.replay?.diverged) problems.push('stats say the replay diverged');
    const cps = stats.replay?.checkpoints;
    if (expect.checkpoints === 'all') {
      if (cps !== info.checkpoints.length) problems.push(`${cps} checkpoints verified, the recording has ${info.checkpoints.length}`);
    } else want('checkpoints verified', cps, expect.checkpoints);
    if (end && (stats.icount !== end.icount || stats.exit?.reason !== end.reason || stats.exit?.code !== end.code)) {
      problems.push(`the recording ended with ${end.reason}(${end.code}) at icount ${end.icount}`);
    }
  }
  check(problems, 'process exit', r.status, expect.status);
  if (problems.length) return report(out, 'FAIL', name, label, `${outcome(stats, r.status)}: ${problems.join('; ')}`, seconds);
  const total = info.checkpoints.length;
  report(out, 'PASS', name, label, `${stats.exit.reason}(${stats.exit.code}) exit ${r.status} icount ${stats.icount}, ${stats.replay?.checkpoints}/${total} checkpoints verified`, seconds);
}

/** Replays `file` to settings.to (from the nearest snapshot) and checks where it stopped. */
async function runTo(out, name, file, info, settings, timeoutSeconds) {
  const label = describeSettings(settings);
  const { r, seconds, stats } = await replayWithStats(file, settings, timeoutSeconds);
  const problems = [];
  if (r.status !== 0) problems.push(`exit ${r.status}: ${firstLine(r.stderr)}`);
  if (!stats) problems.push('no --stats-json written');
  else {
    const to = Number(settings.to), from = stats.replay?.from ?? 0;
    const want = info.checkpoints.filter((c) => c > from && c <= to).length;
    check(problems, 'icount', stats.icount, to);
    check(problems, 'checkpoints verified', stats.replay?.checkpoints, want);
    if (stats.replay?.diverged) problems.push('stats say the replay diverged');
  }
  if (problems.length) return report(out, 'FAIL', name, label, problems.join('; '), seconds);
  report(out, 'PASS', name, label, `stopped at icount ${stats.icount} from ${stats.replay?.from ? `the snapshot at ${stats.replay.from}` : 'the start'}, ${stats.replay?.checkpoints} checkpoints verified`, seconds);
}

/** The file a scenario replays: the recording, trimmed if it asks, with snapshots if it asks. */
async function prepare(name, file, sc, timeoutSeconds) {
  let out = file;
  if (sc.trim) {
    out = join(scratch(), `${name}-trimmed.deja`);
    const r = await deja(['trim', file, '-o', out, '--force', ...optionArgs(sc.trim)], timeoutSeconds);
    if (r.status !== 0) return { fail: `deja trim exit ${r.status}: ${firstLine(r.stderr)}` };
  }
  if (sc.index) {
    if (out === file) {
      out = join(scratch(), `${name}.deja`);
      copyFileSync(file, out);
    }
    const r = await deja(['index', out, '--every', String(sc.index)], timeoutSeconds);
    if (r.status !== 0) return { fail: `deja index exit ${r.status}: ${firstLine(r.stderr)}` };
  }
  return { file: out };
}

function check(problems, what, actual, expected) {
  if (expected !== undefined && actual !== expected) problems.push(`${what} ${actual}, expected ${expected}`);
}

// ---- the scenarios ----
let files;
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
} catch (e) {
  console.error(`replay-matrix: ${dir}: ${e.code ?? e.message}`);
  process.exit(2);
}
if (only.length) {
  const unknown = only.filter((n) => !files.includes(`${n}.json`));
  if (unknown.length) {
    console.error(`replay-matrix: no scenario ${unknown.join(', ')} in ${relative(process.cwd(), dir) || '.'}`);
    process.exit(2);
  }
  files = files.filter((f) => only.includes(basename(f, '.json')));
}

/** One scenario: its lines (a `----` heading, then one per settings set), run as slots free up. */
async function scenario(f, out) {
  const name = basename(f, '.json');
  let sc;
  try {
    sc = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    if (!Array.isArray(sc.settings) || !sc.settings.length) throw new Error('"settings" must be a non-empty list of option maps');
    if (!sc.expect || typeof sc.expect !== 'object') throw new Error('"expect" is missing');
    if (!sc.recording === !sc.make) throw new Error('give exactly one of "recording" and "make"');
  } catch (e) {
    return report(out, 'FAIL', name, '-', `bad scenario file ${relative(ROOT, join(dir, f))}: ${e.message}`);
  }
  if (fastOnly && !sc.fast) return;
  const timeout = sc.timeoutSeconds ?? 1200;
  const failAll = (kind, why) => {
    for (const s of sc.settings) report(out, kind, name, describeSettings(s), why);
  };

  let file;
  if (sc.make) {
    const m = await makeRecording(name, sc.make, timeout);
    if (m.skip || m.fail) return failAll(m.skip ? 'SKIP' : 'FAIL', m.skip ?? m.fail);
    file = m.file;
    out.push({ line: `----  ${name}: ${relative(ROOT, file).startsWith('..') ? file : relative(ROOT, file)} (${m.note})` });
  } else {
    file = resolve(ROOT, sc.recording);
  }

  const prepared = await prepare(name, file, sc, timeout);
  if (prepared.fail) return failAll('FAIL', prepared.fail);
  file = prepared.file;
  let info;
  try {
    if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${relative(ROOT, file)}: no such recording`);
    info = inspect(file);
  } catch (e) {
    return failAll('FAIL', e.message);
  }
  // Each settings set reports into its own list; they are joined in the scenario's order.
  const each = sc.settings.map(() => []);
  await Promise.all(sc.settings.map((s, i) => runOne(each[i], name, file, info, s, sc.expect, timeout)));
  out.push(...each.flat());
}

// Every scenario starts at once and waits for slots; their lines are printed in file order,
// each scenario's as soon as it and those before it are done.
const outputs = files.map(() => []);
const done = files.map((f, i) => scenario(f, outputs[i]));
for (let i = 0; i < files.length; i++) {
  await done[i];
  for (const { kind, line } of outputs[i]) {
    if (kind) tally[kind]++;
    console.log(line);
  }
}

if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
const total = tally.PASS + tally.FAIL + tally.SKIP;
console.log(`replay-matrix: ${tally.PASS} passed, ${tally.FAIL} failed, ${tally.SKIP} skipped (${total} runs, ${((performance.now() - t0) / 1000).toFixed(1)}s)`);
process.exit(tally.FAIL ? 1 : 0);
