// The ISA test suite: every bare-metal program in test/guest/isa/ runs on the interpreter
// and must end through HTIF tohost with a pass. A failing program reports its failing
// test number (the tohost code) and, for an unexpected trap, what the trap was.

import { beforeAll, describe, expect, it } from 'vitest';
import { buildGuestPrograms, describeRun, isaPrograms, runElf } from './helpers/run-elf.js';
import { HTIF_GRACE_INSNS } from '../src/machine/machine.js';

const programs = isaPrograms();

describe('ISA programs (interpreter)', () => {
  beforeAll(() => {
    buildGuestPrograms();
  });

  it('finds the programs', () => {
    expect(programs.length).toBeGreaterThan(0);
  });

  it.each(programs.map((p) => [p.name, p] as const))('%s', (_name, program) => {
    const r = runElf(program.elf);
    const ok = r.exit?.reason === 'poweroff' && r.exit.code === 0;
    expect(ok, describeRun(program, r)).toBe(true);
    expect(r.exit).toEqual({ reason: 'poweroff', code: 0 });
    if (program.expectedOutput !== null) expect(r.console).toBe(program.expectedOutput);
  });
});

describe('HTIF tohost', () => {
  beforeAll(() => {
    buildGuestPrograms();
  });

  // htif.elf ends with a lone low-word write of tohost: that exit is taken a fixed number
  // of instructions later, so where the run loop's slices end must not move it (I1, I4).
  it('takes a lone low-word exit at the same icount however the run is sliced', () => {
    const program = programs.find((p) => p.name === 'htif')!;
    const whole = runElf(program.elf);
    expect(whole.exit).toEqual({ reason: 'poweroff', code: 0 });
    expect(whole.console).toBe('ok\n');
    const stepped = runElf(program.elf, {
      setup: (m) => {
        for (let limit = 1; !m.exit && limit < whole.icount + 100; limit++) m.runUntil(limit);
      },
    });
    expect(stepped.exit).toEqual(whole.exit);
    expect(stepped.icount).toBe(whole.icount);
    expect(stepped.console).toBe(whole.console);
  });

  it('takes a lone low word HTIF_GRACE_INSNS instructions after the store', () => {
    const lone = programs.find((p) => p.name === 'htif')!;
    const w = runElf(lone.elf);
    const m = w.machine;
    // it ends spinning in `j .` right after its store; the last grace instructions are that loop
    expect(m.mem.readOff(m.mem.offsetOf(m.hart.pc >>> 0), 4)).toBe(0x0000006f);
    const before = runElf(lone.elf, { maxIcount: w.icount - 1 });
    expect(before.exit).toBeNull();
    // the store retired HTIF_GRACE_INSNS - 1 spins before the exit: the pc was already there
    const atStore = runElf(lone.elf, { maxIcount: w.icount - HTIF_GRACE_INSNS + 1 });
    expect(atStore.machine.hart.pc).toBe(m.hart.pc);
    const beforeStore = runElf(lone.elf, { maxIcount: w.icount - HTIF_GRACE_INSNS });
    expect(beforeStore.machine.hart.pc).not.toBe(m.hart.pc);
  });
});
