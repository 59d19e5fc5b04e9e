// The ISA test suite: every bare-metal program in test/guest/isa/ runs on the interpreter
// and must end through HTIF tohost with a pass. A failing program reports its failing
// test number (the tohost code) and, for an unexpected trap, what the trap was.

import { beforeAll, describe, expect, it } from 'vitest';
import { buildGuestPrograms, describeRun, isaPrograms, runElf } from './helpers/run-elf.js';

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
