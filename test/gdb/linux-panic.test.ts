// gdb-multiarch on the reference guest's `panic` recording, with vmlinux loaded: a
// breakpoint on panic and the kernel's call chain there, reverse-finish out of panic, and a
// watchpoint on a kernel variable (jiffies) found backwards at the store that last wrote
// it. Needs the built reference guest (npm run guest): its vmlinux has the symbols.

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { TIER_ARGS } from '../helpers/tiers.js';
import { guestDir, guestFile } from '../helpers/guest.js';
import { compiledUnits, replaysUnderEveryTier, gdbPath, mark, printedHex, printedIcount, runGdb } from '../helpers/gdb.js';

let rec = '';
let vmlinux = '';

/** The interpreter, and the JIT tiers at thresholds that compile parts of a boot. */
const TIERS = [
  ['--tier', 'interp'],
  ['--tier', 'block', '--block-threshold', '500'],
  ['--tier', 'trace', '--block-threshold', '500', '--trace-threshold', '500'],
];

beforeAll(() => {
  expect(gdbPath(), 'gdb-multiarch is needed (Debian package gdb-multiarch)').not.toBeNull();
  vmlinux = guestFile('vmlinux');
  rec = join(tmp(), 'panic.deja');
  const r = deja(['run', '--mode', 'panic', '-q', '--tier', 'trace', '--record', rec], { env: { DEJA_GUEST_DIR: guestDir() } });
  expect(r.status, r.stderr).toBe(5); // the kernel panicked
  const i = deja(['index', rec]);
  expect(i.status, i.stderr).toBe(0);
  replaysUnderEveryTier(rec, TIER_ARGS, 5);
});

describe('gdb-multiarch on a Linux panic, with vmlinux', () => {
  it('break panic, bt, reverse-finish; watch jiffies, reverse-continue stops at its last store; the same positions under every tier', async () => {
    const seen: number[][] = [];
    for (const tier of TIERS) {
      const r = await runGdb(rec, tier, [
        'break panic',
        'continue',
        ...mark('bt', 'bt'),
        ...mark('icount', 'monitor icount'),
        ...mark('rf', 'reverse-finish'),
        ...mark('icount', 'monitor icount'),
        ...mark('pc', 'p/x $pc'),
        ...mark('sym', 'info symbol $pc'),
        'watch *(int*)&jiffies',
        ...mark('rc', 'reverse-continue'),
        ...mark('icount', 'monitor icount'),
        ...mark('insn', 'x/i $pc'),
        ...mark('jiffies', 'p/x *(int*)&jiffies'),
        'delete',
        'stepi',
        ...mark('jiffies', 'p/x *(int*)&jiffies'),
      ], { file: vmlinux });
      expect(r.dejaStatus, r.gdb + r.deja).toBe(0);
      if (tier[1] !== 'interp') expect(compiledUnits(r.deja), r.deja).toBeGreaterThan(0);
      // The kernel's chain: the sysrq crash /init asked for through /proc/sysrq-trigger.
      const bt = r.marked.get('bt')![0];
      expect(bt).toMatch(/#0 .* in panic \(\)/);
      expect(bt).toMatch(/#1 .* in sysrq_handle_crash \(\)/);
      expect(bt).toMatch(/#2 .* in __handle_sysrq \(\)/);
      expect(bt).toMatch(/#3 .* in write_sysrq_trigger \(\)/);
      // Out of panic, backwards: at the call in its caller, one instruction before panic's entry.
      expect(r.marked.get('sym')![0]).toMatch(/^sysrq_handle_crash \+ \d+ in section \.text/);
      expect(r.marked.get('rf')![0]).toMatch(/sysrq_handle_crash/);
      // The last store to jiffies before that: a store instruction, and the value moves on by one when it runs.
      // The stretch from the last snapshot holds no store to jiffies: the run says so as it goes.
      expect(r.marked.get('rc')![0]).toMatch(/reverse-continue: no stop between icount 30000000 and \d+ yet/);
      expect(r.marked.get('rc')![0]).toMatch(/Hardware watchpoint 2: \*\(int\*\)&jiffies\s+Old value = (-?\d+)\s+New value = (-?\d+)/);
      expect(r.marked.get('insn')![0]).toMatch(/:\s+(sw|c\.sw|amo\w+\.w)\s/);
      const [before, after] = r.marked.get('jiffies')!.map(printedHex);
      expect(after).toBe((before + 1) >>> 0);
      const icounts = r.marked.get('icount')!.map(printedIcount);
      expect(icounts[1]).toBeLessThan(icounts[0]);
      expect(icounts[2]).toBeLessThan(icounts[1]);
      seen.push([...icounts, printedHex(r.marked.get('pc')![0])]);
    }
    for (const [k, s] of seen.entries()) expect(s, TIERS[k].join(' ')).toEqual(seen[0]);
  });
});
