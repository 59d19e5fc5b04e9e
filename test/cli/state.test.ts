// `deja state FILE N`: the machine at icount N of a recording, as text and JSON, equal to a
// replay stopped there in-process; memory through the guest's page tables; one-line
// refusals (exit 2) for bad arguments.

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { guestDir } from '../helpers/guest.js';
import { recordTiny, tinyConfig } from '../record/tiny-guest.js';
import { loadRecording } from '../../src/session/replay-session.js';
import { replayConfig } from '../../src/record/manifest.js';
import { Machine } from '../../src/machine/machine.js';
import { MAP } from '../../src/machine/board.js';
import { ReplayPort } from '../../src/record/replay.js';
import { initZstd } from '../../src/record/zstd.js';
import { PRIV_U } from '../../src/cpu/constants.js';
import { REG_NAMES } from '../../src/isa/disasm.js';
import { readCsrs } from '../../src/inspect/machine-view.js';
import { parseMem } from '../../src/cli/state.js';
import type { Recording } from '../../src/record/reader.js';

let dir: string;
let tiny: string;
let tinyEnd: number;

/**
 * An in-process replay of `rec`, run in `step`-instruction pieces, none past `limit`, until
 * `stop` says so: another path to the same icount than `deja state`'s (DESIGN.md I4).
 */
function replayUntil(rec: Recording, step: number, stop: (m: Machine) => boolean, limit = Infinity): Machine {
  const port = new ReplayPort(rec.events);
  const m = new Machine(replayConfig(rec), port);
  m.boundaryHook = (mm) => port.check(mm.hart.icount);
  while (!m.exit && !stop(m)) {
    const to = Math.min(m.hart.icount + step, limit);
    while (!m.exit && m.hart.icount < to) m.runUntil(to);
  }
  return m;
}

const json = (args: string[]) => {
  const r = deja(['state', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
};

/** What the JSON must say about the machine `m`. */
function expectState(out: Record<string, unknown>, m: Machine): void {
  const h = m.hart;
  expect(out.icount).toBe(h.icount + 0); // + 0: -0 at reset
  expect(out.pc).toBe(h.pc >>> 0);
  expect(out.priv).toBe({ 0: 'U', 1: 'S', 3: 'M' }[h.priv]);
  expect(out.regs).toEqual(Object.fromEntries(REG_NAMES.slice(1).map((n, i) => [n, h.x[i + 1] >>> 0])));
  expect(out.csrs).toEqual(readCsrs(h));
  expect((out.csrs as Record<string, number>).mstatus).toBe(h.mstatus >>> 0);
  expect((out.csrs as Record<string, number>).mepc).toBe(h.mepc >>> 0);
}

beforeAll(async () => {
  await initZstd();
  dir = tmp('deja-state-');
  tiny = join(dir, 'tiny.deja');
  tinyEnd = recordTiny(tiny, tinyConfig(dir), { input: [null, 'hi', null, 'x'], every: 1500 }).icount;
});

describe('deja state on a bare-metal recording', () => {
  it('prints the machine at icount N as a replay stopped at N has it (JSON), at the start, in the middle and at the end', async () => {
    const rec = await loadRecording(tiny);
    for (const n of [0, 1, 4321, tinyEnd]) {
      const m = replayUntil(rec, 97, (mm) => mm.hart.icount >= n, n);
      if (n < tinyEnd) expect(m.hart.icount + 0).toBe(n); // the steps land on it (the end may be an exit at once)
      const out = json([tiny, String(n)]);
      expectState(out, m);
      expect(typeof out.disasm).toBe('string');
      expect(out.fetchFault).toBeNull();
    }
  });

  it('prints text: icount, pc with its instruction, registers, CSRs, and a hexdump of memory', () => {
    const r = deja(['state', tiny, '4321', '--mem', '0x80000000:40']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^icount 4321  priv M$/);
    expect(lines[1]).toMatch(/^pc 0x8000[0-9a-f]{4}  [0-9a-f]{8}  \S+/);
    expect(r.stdout).toMatch(/x2\/sp\s+0x[0-9a-f]{8}/);
    expect(r.stdout).toMatch(/mstatus\s+0x[0-9a-f]{8}/);
    // The program's first words, as `deja state` reads RAM.
    const prog = Buffer.from(tinyConfig(dir).bios!.bytes);
    const at = lines.indexOf('memory: 40 bytes at 0x80000000 (virtual, translated for a load in M-mode):');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('page 80000000 -> 80000000: RAM');
    const hex = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0'));
    expect(lines[at + 2]).toBe(`80000000  ${hex(prog.subarray(0, 8)).join(' ')}  ${hex(prog.subarray(8, 16)).join(' ')}  |${[...prog.subarray(0, 16)].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')}|`);
    expect(lines[at + 4]).toMatch(/^80000020  (?:[0-9a-f]{2} ){7}[0-9a-f]{2} {2}( {3}){7} {4}\|.{8} {8}\|$/);
  });

  it('shows device registers as unknown, never reading them', () => {
    const out = json([tiny, '4321', '--mem', `${MAP.uart}:8`, '--phys']);
    expect(out.memory).toEqual({
      addr: MAP.uart, len: 8, phys: true, priv: null, hex: '-'.repeat(16),
      pages: [{ addr: MAP.uart, pa: MAP.uart, status: 'mmio', device: expect.any(String) }], unmapped: [],
    });
  });

  it('refuses bad arguments with one line and exit 2', () => {
    const cases: [string[], RegExp][] = [
      [[tiny, 'abc'], /^deja: N: 'abc' is not an icount/],
      [[tiny, String(tinyEnd + 1)], new RegExp(`icount ${tinyEnd + 1}: beyond the end of .* \\(icount ${tinyEnd}\\)`)],
      [[tiny, '10', '--mem', 'zz'], /^deja: --mem: 'zz' is not an address/],
      [[tiny, '10', '--mem', '0x80000000:0'], /^deja: --mem: '0' is not a length from 1 to 1048576 bytes/],
      [[tiny, '10', '--mem', '0x80000000:2M'], /^deja: --mem: '2M' is not a length from 1 to 1048576 bytes/],
      [[tiny, '10', '--mem', '0x80000000:2000000'], /is not a length from 1 to 1048576 bytes/],
      [[tiny, '10', '--mem', '0x80000000:1:2'], /is not ADDR\[:LEN\]/],
      [[tiny, '10', '--mem', '0xffffffff:2'], /run past the end of the 32-bit address space/],
      [[tiny, '10', '--mem', '0x100000000'], /is not an address/],
      [[tiny, '10', '--phys'], /^deja: --phys: give the address with --mem/],
      [[tiny], /missing required argument/],
    ];
    for (const [args, message] of cases) {
      const r = deja(['state', ...args]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    }
    // Lengths in hex, decimal or as sizes; 64 bytes by default.
    expect(parseMem('0x80000000')).toEqual({ addr: 0x80000000, len: 64 });
    expect(parseMem('2147483648:4k')).toEqual({ addr: 0x80000000, len: 4096 });
    expect(parseMem('0x10:0x20')).toEqual({ addr: 16, len: 32 });
    expect(parseMem('0:1M')).toEqual({ addr: 0, len: 1 << 20 });
    const missing = deja(['state', join(dir, 'none.deja'), '5']);
    expect(missing.status).toBe(3);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('deja state on a Linux boot recording', () => {
  it('shows a user process: registers, the instruction at pc, its stack through its page tables, unmapped pages', async () => {
    const file = join(dir, 'boot.deja');
    const run = deja(['run', '--mode', 'boot', '-q', '--record', file], { env: { DEJA_GUEST_DIR: guestDir() } });
    expect(run.status, run.stderr).toBe(0);
    const rec = await loadRecording(file);
    const m = replayUntil(rec, 1000, (mm) => mm.hart.priv === PRIV_U);
    expect(m.exit, 'the replay ended before user mode').toBeNull();
    const h = m.hart;
    const n = String(h.icount);
    const sp = h.x[2] >>> 0;
    const out = json([file, n, '--mem', `0x${sp.toString(16)}:128`]);
    expectState(out, m);
    expect(out.fetchFault).toBeNull();
    expect(out.insn).toBe(h.fetch(h.pc) >>> 0);
    // The stack's bytes, as the process's own loads get them (this machine may change: it is only compared).
    const loaded = Array.from({ length: 128 }, (_, i) => h.loadSlow((sp + i) | 0, 1, false).toString(16).padStart(2, '0')).join('');
    expect(out.memory).toMatchObject({ addr: sp, len: 128, phys: false, priv: 'U', hex: loaded, unmapped: [] });
    expect(out.memory.pages[0]).toMatchObject({ addr: sp, status: 'ram' });
    // Page 0 is unmapped; the kernel's pages are mapped, but not for the process's loads.
    const low = json([file, n, '--mem', '0xff0:32']);
    expect(low.memory.unmapped).toEqual([0xff0, 0x1000]);
    expect(low.memory.hex).toBe('-'.repeat(64));
    const text = deja(['state', file, n, '--mem', '0xc0000000:16']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('memory: 16 bytes at 0xc0000000 (virtual, translated for a load in U-mode):\npage c0000000: mapped, but not for this load');
    expect(text.stdout).toContain(`c0000000  ${Array(8).fill('--').join(' ')}  ${Array(8).fill('--').join(' ')}  |                |`);
  });
});
