// What the command line refuses and what it says (issue 18, items 4, 5, 7-10, 12): each
// refusal is one line naming the option or file, with a documented exit code and no stack
// trace; an option that would be ignored is refused rather than dropped.

import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deja, ROOT, tmp } from '../helpers/cli.js';
import { initZstd } from '../../src/record/zstd.js';
import { recordTiny, tinyConfig } from '../record/tiny-guest.js';
import { stackLines } from '../record/helpers.js';
import { snapshotPath } from '../../src/record/snapshot-file.js';
import { buildGuestPrograms, isaPrograms } from '../helpers/run-elf.js';

/** One line on stderr, no stack trace, the given exit code; returns the line. */
function refused(r: { status: number; stderr: string }, code: number): string {
  expect(stackLines(r.stderr)).toEqual([]);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.status, r.stderr).toBe(code);
  return lines[0];
}

const dir = tmp('deja-options-');
let good = '';

beforeAll(async () => {
  await initZstd();
  good = join(dir, 'good.deja');
  recordTiny(good, tinyConfig(dir), { input: [null, 'hi'] });
});

describe('--version', () => {
  it("prints package.json's version", () => {
    const r = deja(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`deja ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
  });
});

describe('the reference guest options', () => {
  it('an unknown --mode is refused, naming the modes', () => {
    expect(refused(deja(['run', '--mode', 'foo']), 2)).toBe("deja: --mode: 'foo' is not one of boot, bench, stress, kernel, panic, shell");
  });

  it('--mode or --append-extra with --append (which replaces the command line) is refused', () => {
    expect(refused(deja(['run', '--mode', 'bench', '--append', 'console=ttyS0']), 2)).toMatch(/^deja: --append replaces the whole kernel command line, so --mode would be ignored/);
    expect(refused(deja(['run', '--mode', 'bench', '--append-extra', 'benchiter=1', '--append', 'x']), 2)).toMatch(/so --mode and --append-extra would be ignored/);
  });

  it('--mode with --elf is refused', () => {
    expect(refused(deja(['run', '--elf', 'x.elf', '--mode', 'boot']), 2)).toMatch(/^deja: --mode is for the reference guest's \/init; --elf runs a bare-metal program$/);
  });

  it('an option where a value should be is refused, not taken as the value', () => {
    expect(refused(deja(['run', '--append-extra', '-q']), 2)).toBe("deja: --append-extra: '-q' is an option, not a value for --append-extra (give its value after it)");
    expect(refused(deja(['run', '--record', '--embed']), 2)).toMatch(/^deja: --record: '--embed' is an option/);
  });
});

describe('counts and ids say what they expected', () => {
  it('--dump-trace names a trace id or head pc', () => {
    expect(refused(deja(['run', '--tier', 'trace', '--dump-trace', 'foo']), 2)).toBe("deja: --dump-trace: 'foo' is not a trace id or a head pc (examples: 0, 0x80001234)");
  });

  it('fuzz --runs names a number of runs', () => {
    expect(refused(deja(['fuzz', good, '--runs', 'abc']), 2)).toBe("deja: --runs: 'abc' is not a number of runs (example: 50)");
  });
});

describe('--dump-block and --dump-trace', () => {
  beforeAll(() => buildGuestPrograms());
  const hotLoop = () => isaPrograms().find((p) => p.name === 'hot-loop')!.elf;

  it('need a tier that compiles what they ask for', () => {
    expect(refused(deja(['run', '--elf', hotLoop(), '--dump-block', '0x80000000']), 2)).toBe('deja: --dump-block needs --tier block or trace (the interpreter compiles no blocks)');
    expect(refused(deja(['replay', good, '--dump-block', '0x80000000']), 2)).toMatch(/--dump-block needs --tier block or trace/);
    expect(refused(deja(['run', '--elf', hotLoop(), '--tier', 'block', '--dump-trace', '0']), 2)).toBe('deja: --dump-trace needs --tier trace');
  });

  it('say at exit when nothing matched', () => {
    const r = deja(['run', '--elf', hotLoop(), '-q', '--tier', 'trace', '--dump-block', '0x80000000', '--dump-trace', '99']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^deja: --dump-block 0x80000000: no block was compiled at that pc \(\d+ blocks compiled; a block is compiled once it has run --block-threshold times, 100000 here\)$/),
      expect.stringMatching(/^deja: --dump-trace 99: no such trace was formed \(\d+ traces? formed\)$/),
      expect.stringMatching(/^deja: run: poweroff at icount \d+/),
    ]);
  });

  it('print on replay as on run', () => {
    const sample = join(ROOT, 'recordings/ticker-panic.deja');
    // 0x800004ec: the console's wait-for-room loop, run thousands of times.
    const r = deja(['replay', sample, '-q', '--tier', 'block', '--block-threshold', '1', '--dump-block', '0x800004ec']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^block \d+ at 0x800004ec \(priv 3, /m);
    expect(r.stderr).toContain('--- generated ---');
  });
});

describe('--record', () => {
  it('refuses to overwrite a file that is not a recording, unless --force', () => {
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'my notes\n');
    const elf = join(dir, 'tiny.bin');
    expect(refused(deja(['run', '--bios', elf, '-q', '--record', text]), 3)).toBe(`deja: ${text}: exists and is not a deja recording; not overwriting it (--force does)`);
    expect(readFileSync(text, 'utf8')).toBe('my notes\n');
    const forced = deja(['run', '--bios', elf, '-q', '--record', text, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(text, 'latin1').startsWith('deja-recording ')).toBe(true);
    // A recording, or an empty file, is replaced without --force.
    expect(deja(['run', '--bios', elf, '-q', '--record', text]).status).toBe(0);
    const empty = join(dir, 'empty.deja');
    writeFileSync(empty, '');
    expect(deja(['run', '--bios', elf, '-q', '--record', empty]).status).toBe(0);
  });
});

describe('file errors are said in words, naming the file', () => {
  it.each([
    [['run', '--bios', 'TINY', '-q', '--record', 'DIR'], 'DIR: cannot write recording: it is a folder, not a file'],
    [['run', '--bios', 'TINY', '-q', '--record', 'DIR/no/such/x.deja'], 'DIR/no/such/x.deja: cannot write recording: no such file or folder'],
    [['run', '--bios', 'TINY', '-q', '--stats-json', 'DIR'], 'DIR: cannot write stats: it is a folder, not a file'],
    [['replay', 'DIR'], 'DIR: cannot read recording: it is a folder, not a file'],
    [['replay', 'DIR/nothing.deja'], 'DIR/nothing.deja: cannot read recording: no such file or folder'],
  ])('%j', (args, message) => {
    const fill = (s: string) => s.replace('TINY', join(dir, 'tiny.bin')).replace('DIR', dir);
    const line = refused(deja(args.map(fill)), 3);
    expect(line).toBe(`deja: ${fill(message)}`);
  });
});

describe('diff, bisect and fuzz refuse a truncated recording (exit 3)', () => {
  it.each([['diff'], ['bisect'], ['fuzz']])('%s', (command) => {
    const buf = readFileSync(good);
    const cut = join(dir, 'cut.deja');
    writeFileSync(cut, buf.subarray(0, buf.length - 10));
    const line = refused(deja([command, cut, '-q']), 3);
    expect(line).toMatch(new RegExp(`^deja: ${cut}: recording is truncated at icount \\d+ \\(file ends inside [^)]*\\); ${command} needs a whole recording \\(deja replay checks this one up to where it ends\\)$`));
  });
});

describe('index and report of a truncated recording do their work up to where it ends, and exit 3 as replay does', () => {
  it.each([['index'], ['report']])('%s', (command) => {
    const buf = readFileSync(good);
    const d = join(dir, `cut-${command}`);
    mkdirSync(d, { recursive: true });
    const cut = join(d, 'cut.deja');
    writeFileSync(cut, buf.subarray(0, buf.length - 10));
    const r = deja(command === 'index' ? ['index', cut] : ['report', cut, '-o', join(d, 'r.html')]);
    expect(r.status, r.stderr).toBe(3);
    const line = r.stderr.trim();
    if (command === 'index') {
      expect(line).toMatch(/^deja: index: \d+ snapshots? every \d+ instructions to icount \d+ \(the recording is truncated at icount \d+: file ends inside [^)]*\), \d+ bytes in /);
      expect(existsSync(snapshotPath(cut))).toBe(true);
    } else expect(line).toMatch(/replayed to icount \d+, where the recording is truncated \(file ends inside [^)]*\); \d+ checkpoints? verified( \[[^\]]*\])?\), /);
  });
});

describe('exits, counts and banners are worded once (item 11)', () => {
  it('an exit shows a code only where the guest gave one', async () => {
    const { formatExit } = await import('../../src/machine/machine.js');
    expect(formatExit({ reason: 'trap-loop', code: 0 })).toBe('trap-loop');
    expect(formatExit({ reason: 'poweroff', code: 0 })).toBe('poweroff');
    expect(formatExit({ reason: 'fail', code: 66 })).toBe('fail (code 66)');
    expect(formatExit({ reason: 'fail', code: 0 })).toBe('fail (code 0)');
  });

  it('one instruction, two instructions', async () => {
    const { insnCount } = await import('../../src/diff/report.js');
    expect(insnCount(1)).toBe('1 instruction');
    expect([0, 2].map(insnCount)).toEqual(['0 instructions', '2 instructions']);
  });

  it("fuzz's fault banner names the --base settings, not a tier no draw may use", () => {
    const r = deja(['fuzz', good, '-q', '--runs', '1', '--base', 'jit-fault=wrong-imm']);
    expect(r.stderr).toMatch(/^deja: \*\*\* JIT FAULT INJECTION ON \(--base jit-fault=wrong-imm, in every draw\): wrong-imm, /m);
    expect(r.stderr).not.toContain('tier=trace');
  });
});
