// Setting deja up as the README says (issue 18, items 13, 14, 15, 17): the command installs
// out of the checkout and runs from anywhere, the README's --dump-block example works as
// written, the guest build echoes its stages, and the tests leave no folders behind.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmp } from '../helpers/cli.js';
import { buildGuestPrograms } from '../helpers/run-elf.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

describe('installing the command', () => {
  it('npm install -g . puts a working deja in the prefix\'s bin', () => {
    const prefix = tmp('deja-prefix-');
    // Offline, and without the build script: the checkout is built already, and the
    // install links to it.
    const npm = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '.'], { cwd: ROOT, encoding: 'utf8' });
    expect(npm.status, npm.stderr).toBe(0);
    const r = spawnSync(join(prefix, 'bin/deja'), ['--version'], { cwd: prefix, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`deja ${VERSION}\n`);
    expect(README).toContain('npm link');
    expect(README).toContain('npm install -g .');
  });
});

describe('the README', () => {
  it('its --dump-block example runs as written and dumps what it names', () => {
    buildGuestPrograms();
    const line = README.split('\n').find((l) => l.startsWith('npx deja run') && l.includes('--dump-block'))!;
    expect(line).toBeDefined();
    const args = line.replace(/#.*/, '').trim().split(/\s+/).slice(2);
    expect(existsSync(join(ROOT, args[args.indexOf('--elf') + 1]))).toBe(true);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/deja.js'), ...args, '-q'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const pc = args[args.indexOf('--dump-block') + 1];
    expect(r.stderr).toMatch(new RegExp(`^block \\d+ at ${pc} `, 'm'));
    expect(r.stderr).toMatch(/^trace 0: head /m);
    expect(r.stderr).not.toContain('no block was compiled');
  });
});

describe('the guest build (tools/guest/build-cached.mjs)', () => {
  it('echoes build.sh\'s stage lines and the packages it installs, not only the log\'s path', () => {
    const root = tmp('deja-guestbuild-');
    const tools = join(root, 'tools/guest');
    mkdirSync(join(tools, 'init'), { recursive: true });
    cpSync(join(ROOT, 'tools/guest/build-cached.mjs'), join(tools, 'build-cached.mjs'));
    writeFileSync(join(tools, 'linux-rv32.config'), '');
    writeFileSync(join(tools, 'init/init.c'), '');
    // A stand-in for build.sh that prints as it does and makes a complete output folder.
    writeFileSync(
      join(tools, 'build.sh'),
      [
        'log() { printf \'\\n=== [%4ss] %s\\n\' 0 "$*"; }',
        'log "checking Debian packages"',
        'echo "installing: bc flex"',
        'echo "some compiler noise"',
        'log "Linux build (make -j2 Image)"',
        'mkdir -p "$1" && echo x > "$1/Image" && (cd "$1" && sha256sum Image > SHA256SUMS)',
      ].join('\n') + '\n',
    );
    const r = spawnSync(process.execPath, [join(tools, 'build-cached.mjs')], { encoding: 'utf8', env: { ...process.env, DEJA_CACHE_DIR: join(root, 'cache') } });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^guest: building into .* \(log: .*\); this takes about four minutes$/);
    expect(lines.slice(1, -1)).toEqual(['guest: [   0s] checking Debian packages', 'guest: apt-get install bc flex', 'guest: [   0s] Linux build (make -j2 Image)']);
    expect(lines.at(-1)).toMatch(/^guest: built in /);
  });

  it('installs only what the build needs (no benchmark tools)', () => {
    expect(readFileSync(join(ROOT, 'tools/guest/build.sh'), 'utf8')).not.toMatch(/hyperfine/);
  });
});

describe('test files clean up after themselves', () => {
  it('a test file leaves nothing in the temporary folder', () => {
    const tmpRoot = tmp('deja-tmproot-');
    // A test file that makes folders with tmp() and stats files with deja(..., { stats }).
    const r = spawnSync('npx', ['vitest', 'run', 'test/machine/dtb.test.ts', 'test/cli/run-ends.test.ts', '-t', 'dtc decodes|a kernel panic'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: tmpRoot },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readdirSync(tmpRoot).filter((n) => n.startsWith('deja-'))).toEqual([]);
  });
});
