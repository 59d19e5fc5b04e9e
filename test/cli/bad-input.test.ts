// Bad input gets one line naming the problem and the file, a documented exit code, and no
// stack trace.

import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BIN, ROOT, deja, tmp } from '../helpers/cli.js';
import { defaultGuest } from '../../src/cli/guest.js';

function expectOneLineError(r: { status: number; stderr: string; stdout: string }, code: number, ...parts: (string | RegExp)[]) {
  expect(r.status).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^deja: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  for (const p of parts) expect(lines[0]).toMatch(p);
}

describe('bad input', () => {
  const dir = tmp();

  it('a missing image file', () => {
    const missing = join(dir, 'nope.bin');
    expectOneLineError(deja(['run', '--bios', missing]), 3, missing, /no such file/);
  });

  it('a truncated kernel image', () => {
    const k = join(dir, 'short-Image');
    writeFileSync(k, Buffer.alloc(10));
    expectOneLineError(deja(['run', '--bios', defaultGuest().bios, '--kernel', k]), 3, k, /truncated/);
  });

  it('a kernel file that is not a RISC-V Image', () => {
    const k = join(dir, 'random-Image');
    writeFileSync(k, Buffer.alloc(4096, 0x5a));
    expectOneLineError(deja(['run', '--bios', defaultGuest().bios, '--kernel', k]), 3, k, /not a RISC-V Linux Image/);
  });

  it('an image that does not fit in RAM', () => {
    const big = join(dir, 'big-initrd');
    writeFileSync(big, Buffer.alloc(20 * 1024 * 1024));
    const g = defaultGuest();
    expectOneLineError(deja(['run', '--ram', '16M', '--bios', g.bios, '--kernel', g.kernel, '--initrd', big]), 3, big, /do not fit in RAM \(0x80000000\.\.0x81000000; try --ram\)/);
    // Refused before the recording's file is opened: a new one is not made, an old one is kept.
    const fresh = join(dir, 'never-made.deja');
    expectOneLineError(deja(['run', '--ram', '16M', '--bios', g.bios, '--kernel', g.kernel, '--initrd', big, '--record', fresh]), 3, big);
    expect(existsSync(fresh)).toBe(false);
    const old = join(dir, 'kept.deja');
    copyFileSync(join(ROOT, 'recordings/ticker-panic.deja'), old);
    expectOneLineError(deja(['run', '--ram', '16M', '--bios', g.bios, '--kernel', g.kernel, '--initrd', big, '--record', old]), 3, big);
    expect(readFileSync(old).equals(readFileSync(join(ROOT, 'recordings/ticker-panic.deja')))).toBe(true);
  });

  it('an ELF for the wrong architecture', () => {
    expectOneLineError(deja(['run', '--elf', process.execPath]), 3, process.execPath, /64-bit|not RISC-V/);
  });

  it('a truncated ELF', () => {
    // The sample recording's program, as deja extract gives it back.
    expect(deja(['extract', join(ROOT, 'recordings/ticker-panic.deja'), dir]).status).toBe(0);
    const cut = join(dir, 'cut.elf');
    writeFileSync(cut, readFileSync(join(dir, 'ticker.elf')).subarray(0, 1000));
    expectOneLineError(deja(['run', '--elf', cut]), 3, cut, /truncated/);
  });

  it.each([
    [['--ram', 'lots'], /--ram: 'lots' is not a size/],
    [['--ram', '1M'], /--ram: '1M' must be/],
    [['--max-insns', 'ten'], /--max-insns: 'ten' is not a count/],
    [['--tier', 'warp'], /--tier: 'warp' is not one of/],
  ])('a bad option value %j', (args, msg) => {
    expectOneLineError(deja(['run', ...(args as string[])]), 2, msg as RegExp);
  });

  it('an unknown option is a usage error, in deja\'s form', () => {
    expectOneLineError(deja(['run', '--frobnicate']), 2, /^deja: unknown option '--frobnicate'$/);
    expectOneLineError(deja(['replay']), 2, /^deja: missing required argument 'file'$/);
  });

  it('a JIT setting without a JIT tier is refused, not ignored', () => {
    const sample = join(ROOT, 'recordings/ticker-panic.deja');
    expectOneLineError(deja(['replay', sample, '--block-threshold', '5']), 2, /--block-threshold needs --tier block or trace/);
    expectOneLineError(deja(['replay', sample, '--no-trace-at', '0x80000000']), 2, /--no-trace-at needs --tier block or trace/);
    expectOneLineError(deja(['diff', sample, '--b', 'trace-threshold=1']), 2, /--b 'trace-threshold=1': --trace-threshold needs --tier block or trace/);
  });

  it('a setting the named tier would ignore is noted, once, and the run goes on', () => {
    const sample = join(ROOT, 'recordings/ticker-panic.deja');
    const block = deja(['replay', sample, '-q', '--tier', 'block', '--trace-threshold', '10']);
    expect(block.status, block.stderr).toBe(1); // the sample's guest fails with code 66, as recorded
    expect(block.stderr).toMatch(/^deja: note: --trace-threshold has no effect under --tier block \(the block tier forms no traces\)\ndeja: replay: fail \(code 66\)/);
    const interp = deja(['replay', sample, '-q', '--tier', 'interp', '--block-threshold', '5']);
    expect(interp.status).toBe(1);
    expect(interp.stderr).toMatch(/^deja: note: --block-threshold has no effect under --tier interp \(the interpreter compiles nothing\)\n/);
    // diff's two sides name one setting: one note.
    const d = deja(['diff', sample, '-q', '--a', 'tier=block,max-trace-blocks=2', '--b', 'tier=block,block-threshold=1,max-trace-blocks=2']);
    expect(d.stderr.match(/note: --max-trace-blocks has no effect under --tier block/g)).toHaveLength(1);
  });

  it('options that one way of running would ignore are refused', () => {
    const sample = join(ROOT, 'recordings/ticker-panic.deja');
    expectOneLineError(deja(['replay', sample, '--gdb', '0', '--to', '5M']), 2, /^deja: --to does not go with --gdb \(in gdb, 'monitor seek N' goes to icount N\)$/);
    expectOneLineError(deja(['replay', sample, '--gdb', '0', '--stats-json', join(dir, 'g.json')]), 2, /--stats-json does not go with --gdb/);
    expectOneLineError(deja(['replay', sample, '-q', '--vmlinux', sample]), 2, /^deja: --vmlinux goes with --gdb$/);
    const rec = join(dir, 'both.deja');
    expectOneLineError(deja(['run', '--record', rec, '--no-record', '--elf', join(ROOT, 'test/guest/build/loops.elf')]), 2, /--record and --no-record contradict each other/);
    expect(existsSync(rec)).toBe(false);
  });

  it('a threshold scan refuses a --b that gives the threshold it walks', () => {
    const sample = join(ROOT, 'recordings/ticker-panic.deja');
    expectOneLineError(deja(['bisect', sample, '--b', 'tier=trace,trace-threshold=5', '--threshold-scan', '1..2']), 2, /--threshold-scan walks trace-threshold: --b 'tier=trace,trace-threshold=5' gives it too/);
    expectOneLineError(deja(['bisect', sample, '--b', 'tier=block,block-threshold=5', '--threshold-scan', '1..2']), 2, /--threshold-scan walks block-threshold/);
  });

  it('a --stats-json file that cannot be written is refused before the run', () => {
    const sample = join(ROOT, 'recordings/ticker-panic.deja');
    const bad = join(dir, 'no-such-folder', 's.json');
    const r = deja(['replay', sample, '-q', '--stats-json', bad]);
    expectOneLineError(r, 3, bad, /cannot write stats: no such file or folder/);
    expectOneLineError(deja(['run', '--elf', join(ROOT, 'test/guest/build/loops.elf'), '-q', '--stats-json', dir]), 3, dir, /cannot write stats: it is a folder/);
    // Refused before the run: the recording it would have made was never started.
    const rec = join(dir, 'never.deja');
    expectOneLineError(deja(['run', '--elf', join(ROOT, 'test/guest/build/loops.elf'), '-q', '--record', rec, '--stats-json', bad]), 3, bad);
    expect(existsSync(rec)).toBe(false);
  });

  it('bisect and fuzz refuse an interpreter suspect up front', () => {
    const sample = join(ROOT, 'recordings/ticker-panic.deja');
    expectOneLineError(deja(['bisect', sample, '--b', 'tier=interp', '--threshold-scan', '1,2']), 2, /--b 'tier=interp': the interpreter compiles nothing/);
    expectOneLineError(deja(['fuzz', sample, '--base', 'tier=interp', '--runs', '1']), 2, /--base 'tier=interp': every draw would run the interpreter/);
  });

  it('an --images folder that does not exist', () => {
    const missing = join(dir, 'no-images');
    expectOneLineError(deja(['replay', join(ROOT, 'recordings/ticker-panic.deja'), '--images', missing]), 3, `--images ${missing}: no such folder`);
  });

  it('fuzz --runs 0 is a usage error (it would check nothing)', () => {
    expectOneLineError(deja(['fuzz', join(ROOT, 'recordings/ticker-panic.deja'), '--runs', '0']), 2, /--runs: 0 runs would check nothing/);
  });

  it('output closed early (| head) ends deja at once with 141, no stack trace', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" run --mode boot --no-record | head -c 1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('141');
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });

  it('output closed before a command has written it all ends with 141 too', () => {
    // Megabytes of memory dump into a reader that reads nothing.
    const cmd = `"${process.execPath}" "${BIN}" state "${join(ROOT, 'recordings/ticker-panic.deja')}" 1M --mem 0x80000000:1M --phys | true; echo "\${PIPESTATUS[0]}"`;
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('141');
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
  });

  it('no guest built: the message says what to run', () => {
    const r = deja(['run'], { env: { DEJA_GUEST_DIR: join(dir, 'empty-guest') } });
    expectOneLineError(r, 3, /npm run guest/);
  });
});
