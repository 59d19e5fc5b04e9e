// Reverse debugging with gdb-multiarch, after QEMU's own test (tests/functional/
// reverse_debugging.py): on a recording, stepi ten times saving each pc, reverse-stepi ten
// times comparing, step forward again comparing; then breakpoints on those pcs, continue,
// and reverse-continue must stop at the last of them. Done from reset and from the middle
// of the program's hot loop (where the JIT tiers run compiled code), under every tier;
// the positions (icounts) and pcs must be the same under all of them.

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { TIER_ARGS } from '../helpers/tiers.js';
import { buildGuestPrograms, GUEST_BUILD_DIR } from '../helpers/run-elf.js';
import { GDB_TIERS, compiledUnits, replaysUnderEveryTier, gdbPath, mark, printedHex, printedIcount, runGdb, type GdbRun } from '../helpers/gdb.js';

const ELF = join(GUEST_BUILD_DIR, 'debug-target.elf');
const STEPS = 10;

let rec = '';

beforeAll(() => {
  expect(gdbPath(), 'gdb-multiarch is needed (Debian package gdb-multiarch)').not.toBeNull();
  buildGuestPrograms();
  rec = join(tmp(), 'debug-target.deja');
  const r = deja(['run', '--elf', ELF, '--record', rec]);
  expect(r.status, r.stderr).toBe(0);
  // Snapshots every 5000 instructions: reverse runs start from several of them.
  const i = deja(['index', rec, '--every', '5000']);
  expect(i.status, i.stderr).toBe(0);
  replaysUnderEveryTier(rec, TIER_ARGS, 0);
});

/** The session ended as gdb killed it; under a JIT tier it compiled code (or it checked nothing of that tier: I10). */
function checkSession(r: GdbRun, tier: string[]): void {
  expect(r.dejaStatus, r.gdb + r.deja).toBe(0);
  expect(r.deja).toMatch(/gdb session ended \(killed\)/);
  const units = compiledUnits(r.deja);
  if (tier[1] === 'interp') expect(units).toBeNull();
  else expect(units, `${tier.join(' ')}: ${r.deja}`).toBeGreaterThan(0);
}

/** What one run of the algorithm saw: pcs forward, backward, forward again, and where the breakpoint runs stopped. */
interface Seen {
  start: number;
  forward: number[];
  backward: number[];
  again: number[];
  icounts: number[];
}

/** Steps, reverse-steps and steps again from `seek` (null: from reset). */
async function stepping(tier: string[], seek: number | null): Promise<Seen> {
  const cmds: string[] = [];
  if (seek !== null) cmds.push(`monitor seek ${seek}`, 'maint flush register-cache');
  cmds.push(...mark('pc', 'p/x $pc'), ...mark('icount', 'monitor icount'));
  for (let i = 0; i < STEPS; i++) cmds.push('stepi', ...mark('fwd', 'p/x $pc'));
  for (let i = 0; i < STEPS; i++) cmds.push('reverse-stepi', ...mark('back', 'p/x $pc'));
  for (let i = 0; i < STEPS; i++) cmds.push('stepi', ...mark('again', 'p/x $pc'));
  cmds.push(...mark('icount', 'monitor icount'));
  // On to the end (the JIT tiers compile the loop there), and one step back from it.
  cmds.push('continue', ...mark('icount', 'monitor icount'), 'reverse-stepi', ...mark('icount', 'monitor icount'));
  const r = await runGdb(rec, tier, cmds);
  checkSession(r, tier);
  const pcs = (name: string) => (r.marked.get(name) ?? []).map(printedHex);
  const icounts = (r.marked.get('icount') ?? []).map(printedIcount);
  expect(pcs('fwd'), r.gdb).toHaveLength(STEPS);
  return { start: pcs('pc')[0], forward: pcs('fwd'), backward: pcs('back'), again: pcs('again'), icounts };
}

describe('gdb-multiarch: reverse debugging, as QEMU tests it', () => {
  for (const seek of [null, 30_000]) {
    const where = seek === null ? 'from reset' : `from icount ${seek}, in the hot loop`;
    it(`stepi, reverse-stepi and stepi again give the same pcs under every tier (${where})`, async () => {
      const seen: Seen[] = [];
      for (const tier of GDB_TIERS) {
        const s = await stepping(tier, seek);
        // Backward: the pcs of the forward steps in reverse order, ending where it started.
        expect(s.backward, tier.join(' ')).toEqual([...s.forward.slice(0, -1).reverse(), s.start]);
        expect(s.again, tier.join(' ')).toEqual(s.forward);
        expect(s.icounts.slice(0, 2), tier.join(' ')).toEqual([seek ?? 0, (seek ?? 0) + STEPS]);
        expect(s.icounts[3], tier.join(' ')).toBe(s.icounts[2] - 1);
        seen.push(s);
      }
      for (const [k, s] of seen.entries()) expect(s, GDB_TIERS[k].join(' ')).toEqual(seen[0]);
    });

    it(`breakpoints on the stepped pcs: continue, then reverse-continue stops at the last of them, under every tier (${where})`, async () => {
      const s = await stepping(GDB_TIERS[0], seek);
      const stops: string[] = [];
      for (const tier of GDB_TIERS) {
        const cmds: string[] = [];
        if (seek !== null) cmds.push(`monitor seek ${seek}`, 'maint flush register-cache');
        for (let i = 0; i < STEPS; i++) cmds.push('stepi');
        for (const pc of s.forward) cmds.push(`hbreak *0x${pc.toString(16)}`);
        cmds.push('continue', ...mark('after-continue', 'monitor when'));
        cmds.push('reverse-continue', ...mark('pc', 'p/x $pc'), ...mark('icount', 'monitor icount'));
        // On to the end without breakpoints: the JIT tiers compile the loop.
        cmds.push('delete', 'continue');
        const r = await runGdb(rec, tier, cmds);
        checkSession(r, tier);
        const when = r.marked.get('after-continue')![0];
        // From reset the stepped code never runs again: continue reaches the end.
        if (seek === null) expect(r.gdb).toMatch(/No more reverse-execution history/);
        expect(printedHex(r.marked.get('pc')![0]), r.gdb).toBe(s.forward[STEPS - 1]);
        expect(printedIcount(r.marked.get('icount')![0]), r.gdb).toBe((seek ?? 0) + STEPS);
        stops.push(when);
      }
      for (const [k, w] of stops.entries()) expect(w, GDB_TIERS[k].join(' ')).toBe(stops[0]);
    });
  }
});

describe('gdb-multiarch: watchpoints on a known store', () => {
  // debug-target.S stores to `target` at `store_target` on calls 999, 1999 and 2999.
  it('reverse-continue from the end stops at the last store, with watch:ADDR in the stop reply, under every tier', async () => {
    const seen: number[][] = [];
    for (const tier of GDB_TIERS) {
      const r = await runGdb(rec, tier, [
        ...mark('sym', 'p/x &target'),
        ...mark('sym', 'p/x &store_target'),
        ...mark('sym', 'p/x &after_store'),
        'continue',
        'watch *(int*)&target',
        'set debug remote 1',
        ...mark('rc1', 'reverse-continue'),
        'set debug remote 0',
        ...mark('pc1', 'p/x $pc'),
        ...mark('a0', 'p $a0'),
        ...mark('icount', 'monitor icount'),
        ...mark('rc2', 'reverse-continue'),
        ...mark('pc2', 'p/x $pc'),
        ...mark('a0', 'p $a0'),
        ...mark('icount', 'monitor icount'),
        // Forward again: the stop is just after the store (gdb steps over it), the value written.
        ...mark('c', 'continue'),
        ...mark('pc3', 'p/x $pc'),
        ...mark('icount', 'monitor icount'),
      ], { file: ELF });
      checkSession(r, tier);
      const [target, storeTarget, afterStore] = r.marked.get('sym')!.map(printedHex);
      const rc1 = r.marked.get('rc1')![0];
      expect(rc1).toContain(`Packet received: T05thread:1;watch:${target.toString(16)};`);
      // Backward, gdb shows the value before the store as the new one, and stands on the store.
      expect(rc1).toMatch(/Old value = 2999\s+New value = 1999/);
      expect(printedHex(r.marked.get('pc1')![0])).toBe(storeTarget);
      expect(r.marked.get('a0')!.map((t) => /= (\d+)/.exec(t)![1])).toEqual(['2999', '1999']);
      expect(r.marked.get('rc2')![0]).toMatch(/Old value = 1999\s+New value = 999/);
      expect(printedHex(r.marked.get('pc2')![0])).toBe(storeTarget);
      expect(r.marked.get('c')![0]).toMatch(/Old value = 999\s+New value = 1999/);
      expect(printedHex(r.marked.get('pc3')![0])).toBe(afterStore);
      const icounts = r.marked.get('icount')!.map(printedIcount);
      // The store of 1999 and the instruction after it.
      expect(icounts[2]).toBe(icounts[1] + 1);
      seen.push(icounts);
    }
    for (const [k, s] of seen.entries()) expect(s, GDB_TIERS[k].join(' ')).toEqual(seen[0]);
  });

  it('rwatch and awatch stop at loads and stores of accum, with rwatch:ADDR and awatch:ADDR, forwards and backwards', async () => {
    const r = await runGdb(rec, ['--tier', 'trace', '--block-threshold', '1', '--trace-threshold', '1'], [
      ...mark('sym', 'p/x &accum'),
      'monitor seek 30000',
      'maint flush register-cache',
      'rwatch *(int*)&accum',
      'set debug remote 1',
      ...mark('r', 'continue'),
      'set debug remote 0',
      ...mark('icount', 'monitor icount'),
      'delete',
      'awatch *(int*)&accum',
      'set debug remote 1',
      ...mark('a', 'reverse-continue'),
      'set debug remote 0',
      ...mark('icount', 'monitor icount'),
      // The last access before it, found backwards: the store of the call before (gdb stands on it).
      ...mark('pc', 'p/x $pc'),
      ...mark('sw', 'p/x &step_fn'),
      'delete',
      'continue',
    ], { file: ELF });
    checkSession(r, ['--tier', 'trace']);
    const accum = printedHex(r.marked.get('sym')![0]).toString(16);
    expect(r.marked.get('r')![0]).toContain(`Packet received: T05thread:1;rwatch:${accum};`);
    expect(r.marked.get('a')![0]).toContain(`Packet received: T05thread:1;awatch:${accum};`);
    const [afterRead, back] = r.marked.get('icount')!.map(printedIcount);
    expect(afterRead).toBeGreaterThan(30_000);
    expect(back).toBeLessThan(afterRead);
    // step_fn loads accum at +8 and stores it at +20 (after the auipc/addi of la): the last
    // access before the load just seen is that load itself (awatch counts reads), which gdb
    // stands on after stepping back: the instruction at step_fn + 8.
    expect(printedHex(r.marked.get('pc')![0])).toBe(printedHex(r.marked.get('sw')![0]) + 8);
  });
});

describe('gdb-multiarch: atomics and traps', () => {
  let atomics = '';
  const ATOMICS_ELF = join(GUEST_BUILD_DIR, 'debug-atomics.elf');
  beforeAll(() => {
    atomics = join(tmp(), 'debug-atomics.deja');
    const r = deja(['run', '--elf', ATOMICS_ELF, '--record', atomics]);
    expect(r.status, r.stderr).toBe(0);
    replaysUnderEveryTier(atomics, TIER_ARGS, 0);
  });

  for (const tier of [['--tier', 'interp'], ['--tier', 'trace', '--block-threshold', '1', '--trace-threshold', '1']]) {
    it(`a watchpoint on an sc.w leaves it succeeding, forwards and backwards; a breakpoint on a trap handler stops at the trapping icount (${tier[1]})`, async () => {
      const r = await runGdb(atomics, tier, [
        'watch *(int*)&counter',
        ...mark('w1', 'continue'),
        ...mark('w2', 'continue'),
        ...mark('icount', 'monitor icount'),
        ...mark('back', 'reverse-continue'),
        ...mark('icount', 'monitor icount'),
        'delete',
        'break *do_ecall',
        'continue',
        ...mark('icount', 'monitor icount'),
        'delete',
        'break *trap_vector',
        ...mark('trap', 'continue'),
        ...mark('icount', 'monitor icount'),
        'break *do_ecall',
        ...mark('rc', 'reverse-continue'),
        ...mark('pc', 'p/x $pc'),
        ...mark('ecall', 'p/x &do_ecall'),
        'delete',
        ...mark('end', 'continue'),
      ], { file: ATOMICS_ELF });
      expect(r.dejaStatus, r.gdb + r.deja).toBe(0);
      // Each round's sc writes counter one higher: the replay never leaves the recording.
      expect(r.marked.get('w1')![0]).toMatch(/Old value = 0\s+New value = 1/);
      expect(r.marked.get('w2')![0]).toMatch(/Old value = 1\s+New value = 2/);
      expect(r.marked.get('back')![0]).toMatch(/Old value = 2\s+New value = 1/);
      expect(r.gdb).not.toMatch(/diverged/);
      const [, , atEcall, atHandler] = r.marked.get('icount')!.map(printedIcount);
      // The ecall retires nothing: its handler's first instruction is at the same icount.
      expect(r.marked.get('trap')![0]).toMatch(/in trap_vector/);
      expect(atHandler).toBe(atEcall);
      // Back from the handler's entry: the ecall just before it, at that same icount.
      expect(printedHex(r.marked.get('pc')![0])).toBe(printedHex(r.marked.get('ecall')![0]));
      expect(r.marked.get('end')![0]).toMatch(/No more reverse-execution history|replaylog|exited|end/i);
    });
  }
});
