#!/usr/bin/env node
// Makes recordings/ticker-panic.deja: runs recordings/build/ticker.elf live under
// `deja run --pace --record ... --embed`, and types into its console at irregular times
// (from the guest's first tick on), ending with '!', on which the guest panics. Then
// replays the new recording once to check it and, when writing the default file, puts its
// final icount and exit code into replay/ticker-panic.json's "expect".
//
//   bash recordings/src/build.sh && node recordings/src/record-ticker.mjs [OUT.deja]
//
// Each run gives a different recording (input lands where the wall clock puts it); the
// committed one is what one run produced. Needs `npm run build` first.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const elf = 'recordings/build/ticker.elf';
const out = process.argv[2] ?? 'recordings/ticker-panic.deja';
const CHECKPOINT_EVERY = '250000';

// [delay in ms before writing, bytes]
const SCHEDULE = [
  [230, 'd'], [90, 'e'], [170, 'j'], [40, 'a'], [310, '\n'],
  [120, 'rr'], [260, ' '], [75, 'ok?'], [190, '\n'],
  [330, '!'],
];

if (!existsSync(join(root, elf))) {
  console.error(`record-ticker: ${elf} is missing: run bash recordings/src/build.sh first`);
  process.exit(1);
}
const args = ['bin/deja.js', 'run', '--elf', elf, '--pace', '--record', relative(root, resolve(out)), '--embed', '--checkpoint-every', CHECKPOINT_EVERY];
console.error(`record-ticker: node ${args.join(' ')}  (input: ${JSON.stringify(SCHEDULE.map((s) => s[1]).join(''))})`);
const child = spawn(process.execPath, args, { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });

let seen = '';
let started = false;
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  if (started) return;
  seen += d.toString('latin1');
  if (seen.includes('tick 1 ')) {
    started = true;
    play();
  }
});

async function play() {
  for (const [ms, bytes] of SCHEDULE) {
    await new Promise((r) => setTimeout(r, ms));
    child.stdin.write(bytes);
  }
  child.stdin.end();
}

const status = await new Promise((r) => child.on('close', (code) => r(code)));
console.error(`record-ticker: deja run exited with ${status}; ${out}: ${statSync(resolve(root, out)).size} bytes`);
const rep = spawnSync(process.execPath, ['bin/deja.js', 'replay', relative(root, resolve(out)), '-q'], { cwd: root, stdio: 'inherit' });
console.error(`record-ticker: replay exited with ${rep.status} (expected ${status})`);
if (rep.status !== status || status !== 1) process.exit(1);

if (resolve(root, out) === resolve(root, 'recordings/ticker-panic.deja')) {
  const info = JSON.parse(spawnSync(process.execPath, ['bin/deja.js', 'inspect', out, '--json'], { cwd: root, encoding: 'utf8' }).stdout);
  const scenario = join(root, 'replay/ticker-panic.json');
  const text = readFileSync(scenario, 'utf8').replace(/"expect": \{[^}]*\}/, () => JSON.stringify({ expect: { reason: info.end.reason, code: info.end.code, status, icount: info.end.icount, checkpoints: 'all' } }).slice(1, -1).replace(/,"/g, ', "').replace(/":/g, '": ').replace('{', '{ ').replace(/\}$/, ' }'));
  writeFileSync(scenario, text);
  console.error(`record-ticker: replay/ticker-panic.json expects ${info.end.reason} (code ${info.end.code}) at icount ${info.end.icount}, ${info.checkpoints.length} checkpoints`);
}
