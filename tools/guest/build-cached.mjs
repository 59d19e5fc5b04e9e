#!/usr/bin/env node
// Builds the reference guest (build.sh) into a cache folder keyed by the recipe's hash,
// and points <cache>/guest/current at it. A build whose recipe has not changed is reused.
// Then says whether the build is byte for byte the images shipped in guest/.
// Plain Node, no dependencies: it runs before anything else is built.
//
//   --unless-shipped  do nothing if guest/ holds the images, intact (npm run boot)
//   --ship            replace guest/'s images with this build (after changing the recipe)

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, openSync, closeSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SHIPPED_DIR, differences, recipeKey, ship, shippedIntact, shippedRecipe } from './shipped.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--unless-shipped' && a !== '--ship');
if (unknown.length) {
  console.error(`guest: unknown option ${unknown[0]} (known: --unless-shipped, --ship)`);
  process.exit(2);
}
if (args.includes('--unless-shipped') && shippedIntact()) {
  console.log(`guest: using the images shipped in ${SHIPPED_DIR} (npm run guest rebuilds them from source)`);
  process.exit(0);
}
const key = recipeKey();

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
  compareWithShipped();
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
compareWithShipped();

/** Says whether the build is the shipped images, byte for byte; --ship makes it so. */
function compareWithShipped() {
  const diff = differences(dir);
  if (!diff.length) {
    if (shippedRecipe() !== key && args.includes('--ship')) ship(dir, key);
    console.log(`guest: the build matches the images shipped in ${SHIPPED_DIR}, byte for byte (sha256)`);
  } else if (args.includes('--ship')) {
    ship(dir, key);
    console.log(`guest: shipped: ${SHIPPED_DIR} now holds this build (${diff.join(', ')}); commit it with the recipe`);
  } else {
    console.log(`guest: the build DIFFERS from the images shipped in ${SHIPPED_DIR}: ${diff.join(', ')}`);
    console.log(`guest: deja run boots the shipped ones; DEJA_GUEST_DIR=${dir} boots this build; npm run guest -- --ship ships it`);
  }
}

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
