// Every run ends, and says how in one line (issue 18, items 1, 2 and 6): a guest that waits
// in wfi with nothing that could wake it ends as `idle-forever` (exit 11), a guest left
// waiting for input after stdin has ended ends as `input-ended` (exit 12), and the reference
// guest refuses a RAM size its firmware cannot boot in, rather than hang. Each end is
// recorded, so a replay ends the same way.

import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, deja, tmp } from '../helpers/cli.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { buildGuestPrograms, isaPrograms } from '../helpers/run-elf.js';
import { loadRecording } from '../../src/session/replay-session.js';
import { defaultGuest } from '../../src/cli/guest.js';
import { stackLines } from '../record/helpers.js';

/** A raw firmware image from instruction words, loaded at 0x80000000 (the boot ROM's 6 instructions run first). */
function firmware(dir: string, name: string, words: number[]): string {
  const file = join(dir, name);
  writeFileSync(file, new Uint8Array(new Uint32Array(words).buffer));
  return file;
}

const WFI = 0x10500073;
const BACK_TO_WFI = 0xffdff06f; // jal zero, -4

/** stderr's lines: exactly one, with no stack trace; returns it. */
function oneLine(stderr: string): string {
  expect(stackLines(stderr)).toEqual([]);
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0];
}

describe('a guest that waits in wfi with nothing to wake it', () => {
  const dir = tmp('deja-idle-');
  // mie = 0: no interrupt could end the wait.
  const asleep = firmware(dir, 'asleep.bin', [WFI, BACK_TO_WFI]);
  // mtimecmp = 0 (due at once) with only MSIE enabled: MTIP is up but cannot wake the hart,
  // and waiting for a deadline already reached used to spin without end.
  const passed = firmware(dir, 'passed.bin', [
    0x020042b7, // lui t0, 0x2004 (mtimecmp)
    0x0002a023, // sw zero, 0(t0)
    0x0002a223, // sw zero, 4(t0)
    0x00800313, // li t1, 8 (MSIE)
    0x30431073, // csrw mie, t1
    WFI,
    BACK_TO_WFI,
  ]);

  it.each([['interp'], ['block'], ['trace']])('ends with idle-forever (exit 11) under %s, saying why', (tier) => {
    const r = deja(['run', '--bios', asleep, '-q', '--tier', tier, ...(tier === 'interp' ? [] : ['--block-threshold', '0'])], { stats: true });
    expect(r.status, r.stderr).toBe(11);
    expect(r.stats?.exit.reason).toBe('idle-forever');
    expect(oneLine(r.stderr)).toMatch(/^deja: run: idle-forever at icount 7: the guest waits in wfi and nothing can wake it: no interrupt that a timer or device could raise is enabled: pc 0x80000004, priv 3, mie 0x0$/);
  });

  it('a timer deadline already passed does not count as a wake-up', () => {
    const r = deja(['run', '--bios', passed, '-q', '--max-insns', '1M'], { stats: true });
    expect(r.status, r.stderr).toBe(11);
    expect(oneLine(r.stderr)).toMatch(/^deja: run: idle-forever at icount 12: .*mie 0x8$/);
  });

  it('is recorded, and replays to the same end under every tier', async () => {
    const file = join(dir, 'asleep.deja');
    expect(deja(['run', '--bios', asleep, '-q', '--record', file]).status).toBe(11);
    const rep = deja(['replay', file, '-q']);
    expect(rep.status, rep.stderr).toBe(11);
    expect(oneLine(rep.stderr)).toBe('deja: replay: idle-forever at icount 7 as recorded, 1 of 1 checkpoints verified');
    expect(replayAllTiers(await loadRecording(file)).failures).toEqual([]);
  });
});

describe('--ram and the reference guest', () => {
  const g = defaultGuest();

  it.each([['16M'], ['32M']])('--ram %s is refused: the firmware copies the device tree past the end of RAM', (ram) => {
    const r = deja(['run', '--ram', ram, '--max-insns', '200M']);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      `deja: --ram ${ram}: the reference guest's firmware (OpenSBI fw_jump) copies the device tree to 0x82200000, past the end of ${parseInt(ram)} MiB of RAM; it needs at least 35M`,
    );
  });

  it('the same firmware given by hand ends as idle-forever and names the fault, and the recording replays so', () => {
    const file = join(tmp('deja-ram-'), 'small.deja');
    const r = deja(['run', '--ram', '32M', '--bios', g.bios, '--kernel', g.kernel, '--initrd', g.initrd, '-q', '--max-insns', '200M', '--record', file]);
    expect(r.status, r.stderr).toBe(11);
    expect(oneLine(r.stderr)).toMatch(
      /^deja: run: idle-forever at icount \d+: .*mcause 0x7, mtval 0x82200000 \(an access beyond the end of RAM at 0x82000000: try a larger --ram\)$/,
    );
    const rep = deja(['replay', file, '-q']);
    expect(rep.status).toBe(11);
    expect(oneLine(rep.stderr)).toMatch(/^deja: replay: idle-forever at icount \d+ as recorded/);
  });

  it('35M boots', () => {
    const r = deja(['run', '--ram', '35M', '--mode', 'boot', '-q']);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('stdin at its end', () => {
  it('a shell left waiting for input ends as input-ended (exit 12), and the replay ends the same', () => {
    const file = join(tmp('deja-eof-'), 'shell.deja');
    const r = deja(['run', '--mode', 'shell', '-q', '--record', file], { input: 'help\n', stats: true });
    expect(r.status, r.stderr).toBe(12);
    expect(r.stats?.exit.reason).toBe('input-ended');
    const line = oneLine(r.stderr);
    expect(line).toMatch(/^deja: run: input-ended at icount (\d+): stdin has ended and the guest then idled 60 s of virtual time without printing: it waits for input that cannot come$/);
    const icount = /at icount (\d+)/.exec(line)![1];
    const rep = deja(['replay', file, '-q']);
    expect(rep.status, rep.stderr).toBe(12);
    expect(oneLine(rep.stderr)).toMatch(new RegExp(`^deja: replay: input-ended at icount ${icount} as recorded, (\\d+) of \\1 checkpoints verified$`));
  });
});

/**
 * Runs `deja ARGS` on a pseudo-terminal (script(1)) with the reference shell: waits for its
 * prompt, lets it idle `idleMs` of wall time, then asks for its uptime and powers it off.
 */
function uptimeOnTty(args: string[], idleMs: number): Promise<{ status: number | null; uptime: number; output: string }> {
  const cmd = [process.execPath, BIN, 'run', '--mode', 'shell', '--no-record', ...args].join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let step = 0;
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (d: string) => {
    output += d;
    if (step === 0 && output.includes('rv32> ')) {
      step = 1;
      setTimeout(() => child.stdin.write('uptime\n'), idleMs);
    } else if (step === 1 && /uptime: [\d.]+/.test(output)) {
      step = 2;
      child.stdin.write('poweroff\n');
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, uptime: Number(/uptime: ([\d.]+)/.exec(output)?.[1] ?? NaN), output });
    }),
  );
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!hasScript)('idle time on a terminal', () => {
  it('follows the wall clock by default (an idle guest does not spin), and --no-pace jumps over it', async () => {
    const paced = await uptimeOnTty([], 2000);
    expect(paced.status, paced.output).toBe(0);
    // Booting takes well under a second of guest time; two seconds of idling add about two.
    expect(paced.uptime, paced.output).toBeGreaterThan(1);
    expect(paced.uptime, paced.output).toBeLessThan(60);
    const jumped = await uptimeOnTty(['--no-pace'], 2000);
    expect(jumped.status, jumped.output).toBe(0);
    expect(jumped.uptime, jumped.output).toBeGreaterThan(100);
  });
});

describe('one line for every end, -q or not', () => {
  const dir = tmp('deja-ends-');

  it('a kernel panic', () => {
    const r = deja(['run', '--mode', 'panic', '-q']);
    expect(r.status).toBe(5);
    expect(oneLine(r.stderr)).toMatch(/^deja: run: panic at icount \d+: the guest kernel panicked$/);
  });

  it('--max-insns', () => {
    const r = deja(['run', '--mode', 'boot', '-q', '--max-insns', '5M']);
    expect(r.status).toBe(6);
    expect(oneLine(r.stderr)).toBe('deja: run: limit at icount 5000000: --max-insns reached');
  });

  it('a guest failure through the test finisher, with its code', () => {
    // lui t0, 0x100; lui t1, 0x33; addi t1, t1, 0x333; sw t1, 0(t0): 0x3333 | 3 << 16.
    const fail = firmware(dir, 'fail.bin', [0x001002b7, 0x00033337, 0x33330313, 0x0062a023, 0x0000006f]);
    const r = deja(['run', '--bios', fail]);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toBe('deja: run: fail (code 3) at icount 10: the guest reported failure');
  });

  it('an HTIF pass, with the console on', () => {
    buildGuestPrograms();
    const program = isaPrograms().find((p) => p.name === 'htif')!;
    const r = deja(['run', '--elf', program.elf]);
    expect(r.status).toBe(0);
    expect(oneLine(r.stderr)).toMatch(/^deja: run: poweroff at icount \d+: the guest powered off$/);
  });
});
