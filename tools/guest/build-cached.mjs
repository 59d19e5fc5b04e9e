#!/usr/bin/env node
// Builds the reference guest (build.sh) into a cache folder keyed by the recipe's hash,
// and points <cache>/guest/current at it. A build whose recipe has not changed is reused.
// Plain Node, no dependencies: it runs before anything else is built.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, openSync, closeSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const recipe = ['build.sh', 'linux-rv32.config', ...readdirSync(join(here, 'init')).sort().map((f) => join('init', f))];
const hash = createHash('sha256');
for (const f of recipe) hash.update(f + '\0').update(readFileSync(join(here, f)));
const key = hash.digest('hex').slice(0, 16);

const cache = process.env.DEJA_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'deja');
const guestRoot = join(cache, 'guest');
const dir = join(guestRoot, key);
const current = join(guestRoot, 'current');

function complete(d) {
  const sums = join(d, 'SHA256SUMS');
  if (!existsSync(sums)) return false;
  for (const line of readFileSync(sums, 'utf8').split('\n').filter(Boolean)) {
    const [sum, name] = line.split(/\s+\*?/);
    const f = join(d, name);
    if (!existsSync(f) || createHash('sha256').update(readFileSync(f)).digest('hex') !== sum) return false;
  }
  return true;
}

function pointCurrent() {
  rmSync(current, { force: true });
  symlinkSync(key, current);
}

mkdirSync(guestRoot, { recursive: true });
if (complete(dir)) {
  pointCurrent();
  console.log(`guest: up to date in ${dir}`);
  process.exit(0);
}
const tmp = `${dir}.tmp`;
const log = join(guestRoot, `build-${key}.log`);
rmSync(tmp, { recursive: true, force: true });
console.log(`guest: building into ${dir} (log: ${log}); this takes about four minutes`);
const fd = openSync(log, 'w');
const status = await buildLogged(fd);
closeSync(fd);
if (status !== 0 || !complete(tmp)) {
  const tail = readFileSync(log, 'utf8').split('\n').slice(-15).join('\n');
  console.error(`${tail}\nguest: build failed (exit ${status}); full log in ${log}`);
  process.exit(1);
}
rmSync(dir, { recursive: true, force: true });
renameSync(tmp, dir);
pointCurrent();
console.log(`guest: built in ${dir}`);

/**
 * Runs build.sh with its output going to the log, and echoes its stage lines (`=== [ 12s]
 * STAGE`) and the packages it installs, so a long build shows where it is.
 */
function buildLogged(fd) {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(here, 'build.sh'), tmp], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const take = (chunk) => {
      writeSync(fd, chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop();
      for (const l of lines) {
        const stage = /^=== (\[\s*\d+s\] .*)$/.exec(l);
        if (stage) console.log(`guest: ${stage[1]}`);
        else if (l.startsWith('installing: ')) console.log(`guest: apt-get install ${l.slice(12)}`);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => resolve(code ?? 1));
  });
}
