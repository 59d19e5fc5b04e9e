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
  /** A stand-in checkout: build-cached.mjs and shipped.mjs, a recipe, a build.sh that prints as the real one does, and guest/. */
  function standIn(): { root: string; run: (...args: string[]) => ReturnType<typeof spawnSync> & { stdout: string } } {
    const root = tmp('deja-guestbuild-');
    const tools = join(root, 'tools/guest');
    mkdirSync(join(tools, 'init'), { recursive: true });
    for (const f of ['build-cached.mjs', 'shipped.mjs']) cpSync(join(ROOT, 'tools/guest', f), join(tools, f));
    writeFileSync(join(tools, 'linux-rv32.config'), '');
    writeFileSync(join(tools, 'init/init.c'), '');
    writeFileSync(
      join(tools, 'build.sh'),
      [
        'log() { printf \'\\n=== [%4ss] %s\\n\' 0 "$*"; }',
        'log "checking Debian packages"',
        'echo "installing: bc flex"',
        'echo "some compiler noise"',
        'log "Linux build (make -j2 Image)"',
        'mkdir -p "$1" && cd "$1" && for f in fw_jump.bin Image initramfs.cpio; do echo "$f" > $f; done && echo info > build-info.txt && sha256sum fw_jump.bin Image initramfs.cpio > SHA256SUMS',
      ].join('\n') + '\n',
    );
    // The shipped images: the same bytes as the stand-in builds, but for the kernel.
    mkdirSync(join(root, 'guest'));
    for (const f of ['fw_jump.bin', 'Image', 'initramfs.cpio']) writeFileSync(join(root, 'guest', f), f === 'Image' ? 'another kernel\n' : `${f}\n`);
    const sums = spawnSync('sha256sum', ['fw_jump.bin', 'Image', 'initramfs.cpio'], { cwd: join(root, 'guest'), encoding: 'utf8' }).stdout;
    writeFileSync(join(root, 'guest/SHA256SUMS'), sums);
    const run = (...args: string[]) => spawnSync(process.execPath, [join(tools, 'build-cached.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, DEJA_CACHE_DIR: join(root, 'cache') } });
    return { root, run };
  }

  it('echoes build.sh\'s stage lines and the packages it installs, not only the log\'s path; says which images differ from the shipped ones', () => {
    const { run } = standIn();
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^guest: building into .* \(log: .*\); this takes about four minutes$/);
    expect(lines.slice(1, 4)).toEqual(['guest: [   0s] checking Debian packages', 'guest: apt-get install bc flex', 'guest: [   0s] Linux build (make -j2 Image)']);
    expect(lines[4]).toMatch(/^guest: built in /);
    expect(lines[5]).toMatch(/^guest: the build DIFFERS from the images shipped in .*guest: Image \(built [0-9a-f]{12}…, shipped [0-9a-f]{12}…\)$/);
  });

  it('--ship makes the build the shipped images; then the build matches them, and npm run boot (--unless-shipped) builds nothing', () => {
    const { root, run } = standIn();
    expect(run('--ship').stdout).toMatch(/guest: shipped: .*guest now holds this build \(Image /);
    expect(readFileSync(join(root, 'guest/Image'), 'utf8')).toBe('Image\n');
    expect(readFileSync(join(root, 'guest/RECIPE'), 'utf8')).toMatch(/^[0-9a-f]{16}\n$/);
    expect(run().stdout).toMatch(/guest: up to date in .*\nguest: the build matches the images shipped in .*guest, byte for byte \(sha256\)/);
    expect(run('--unless-shipped').stdout).toMatch(/^guest: using the images shipped in .*guest \(npm run guest rebuilds them from source\)\n$/);
    writeFileSync(join(root, 'guest/Image'), 'damaged');
    expect(run('--unless-shipped').stdout).toMatch(/^guest: up to date in /);
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
