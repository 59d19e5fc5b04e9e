// The block and trace tiers against the interpreter: the ISA, privileged and
// self-modifying-code programs pass under each tier at low thresholds (where bugs hide),
// and their recordings replay with identical checkpoints under every tier setting.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuestPrograms, describeRun, isaPrograms, runElf } from '../helpers/run-elf.js';
import { applyTier } from '../../src/cli/tier.js';
import { tierSettings, type TierOptions } from '../../src/session/tier.js';
import { deja, tmp } from '../helpers/cli.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { loadRecording } from '../../src/session/replay-session.js';
import type { Jit } from '../../src/jit/jit.js';
import { parseElf } from '../../src/machine/loader.js';

const programs = isaPrograms();

const SETTINGS: TierOptions[] = [
  { tier: 'block', blockThreshold: '0' },
  { tier: 'block', blockThreshold: '1' },
  { tier: 'trace', blockThreshold: '0', traceThreshold: '1' },
  { tier: 'trace', blockThreshold: '1', traceThreshold: '10' },
];

describe.each(SETTINGS.map((s) => [Object.values(s).join(' '), s] as const))('ISA programs under %s', (_name, settings) => {
  beforeAll(() => buildGuestPrograms());

  it.each(programs.map((p) => [p.name, p] as const))('%s', (_n, program) => {
    let jit: Jit | null = null;
    const reference = runElf(program.elf);
    const r = runElf(program.elf, { setup: (m) => (jit = applyTier(m, tierSettings(settings))) });
    expect(r.exit, describeRun(program, r)).toEqual({ reason: 'poweroff', code: 0 });
    // Same instruction count and console as the interpreter, and the tier really ran code.
    expect(r.icount).toBe(reference.icount);
    expect(r.console).toBe(reference.console);
    // At threshold 0 the tier runs everything it can translate itself (triggers runs most
    // of its instructions with a debug trigger armed, when only the interpreter runs).
    const s = jit!.finalStats();
    if (settings.blockThreshold === '0') expect(s.insns.block + s.insns.trace).toBeGreaterThan(program.name === 'triggers' ? 0 : s.insns.interp);
  });
});

describe('self-modifying code', () => {
  beforeAll(() => buildGuestPrograms());

  it('invalidates and retranslates rewritten code in the running and the next block', () => {
    const program = programs.find((p) => p.name === 'smc')!;
    let jit: Jit | null = null;
    const r = runElf(program.elf, { setup: (m) => (jit = applyTier(m, tierSettings({ tier: 'trace', blockThreshold: '0', traceThreshold: '1' }))) });
    expect(r.exit, describeRun(program, r)).toEqual({ reason: 'poweroff', code: 0 });
    const s = jit!.finalStats();
    expect(s.invalidations).toBeGreaterThan(0);
    expect(s.linksBroken + s.traceUnlinks).toBeGreaterThan(0);
    expect(s.insns.trace).toBeGreaterThan(0);
  });
});

describe('at the default thresholds, where the interpreter is sampled', () => {
  beforeAll(() => buildGuestPrograms());

  it.each([['block'], ['trace']] as const)('the %s tier finds the hot loop, compiles it and runs it', (tier) => {
    const program = programs.find((p) => p.name === 'hot-loop')!;
    let jit: Jit | null = null;
    const reference = runElf(program.elf);
    const r = runElf(program.elf, { setup: (m) => (jit = applyTier(m, tierSettings({ tier }))) });
    expect(r.exit, describeRun(program, r)).toEqual({ reason: 'poweroff', code: 0 });
    expect(r.icount).toBe(reference.icount);
    const s = jit!.finalStats();
    expect(s.samples).toBeGreaterThan(0);
    expect(s.blocksCompiled).toBeGreaterThan(0);
    if (tier === 'trace') expect(s.tracesCompiled).toBeGreaterThan(0);
    // Compiled code runs most of it: the plain interpreter hands over at a compiled block.
    expect(s.insns.block + s.insns.trace).toBeGreaterThan(2 * s.insns.interp);
  });
});

describe('recordings of the ISA programs replay under every tier setting', () => {
  beforeAll(() => buildGuestPrograms());
  const dir = tmp('deja-tiers-');

  it.each(['interrupts', 'sv32', 'smc', 'uart-plic', 'privilege', 'calls', 'loops', 'hot-loop', 'hot-memory', 'side-exits', 'triggers'].map((n) => [n] as const))('%s', async (name) => {
    const program = programs.find((p) => p.name === name)!;
    const file = join(dir, `${name}.deja`);
    const rec = deja(['run', '--elf', program.elf, '-q', '--record', file, '--checkpoint-every', '97']);
    expect(rec.status, rec.stderr).toBe(0);
    const recording = await loadRecording(file);
    expect(recording.events.filter((e) => e.kind === 'checkpoint').length).toBeGreaterThan(3);
    const { failures, runs } = replayAllTiers(recording);
    expect(failures).toEqual([]);
    for (const r of runs) expect(r.exit).toEqual({ reason: 'poweroff', code: 0 });
  });
});

describe('compact traces', () => {
  beforeAll(() => buildGuestPrograms());

  it('at low thresholds a trace starts compact and is compiled again inline once its loop has run 65536 passes', () => {
    const program = programs.find((p) => p.name === 'hot-memory')!;
    const low = deja(['run', '--elf', program.elf, '-q', '--tier', 'trace', '--block-threshold', '1', '--trace-threshold', '1', '--dump-trace', '0'], { stats: true });
    expect(low.status, low.stderr).toBe(0);
    const jit = low.stats!.jit as { tracesCompiled: number; tracesPromoted: number };
    expect(jit.tracesPromoted).toBe(1);
    // Trace 0 dumped twice: its loads and stores first call the helpers, then are inline.
    const dumps = low.stderr.split(/^trace 0: /m).slice(1);
    expect(dumps.length).toBe(jit.tracesCompiled);
    expect(dumps[0]).toMatch(/M\.lw\(/);
    expect(dumps[0]).toMatch(/M\.sw\(/);
    const last = dumps[dumps.length - 1];
    expect(last).not.toMatch(/M\.[ls]w\(/);
    expect(last).toMatch(/rT\[/);
  });
});

describe('branch growth', () => {
  beforeAll(() => buildGuestPrograms());

  it('a compact tree grows its first branch after 16 times the threshold; promoted, its exits count afresh', () => {
    const program = programs.find((p) => p.name === 'side-exits')!;
    const { symbols } = parseElf(readFileSync(program.elf), program.elf);
    const head = (name: string) => `0x${symbols.get(name)!.toString(16)}`;
    const r = deja(['run', '--elf', program.elf, '-q', '--tier', 'trace', '--block-threshold', '1', '--trace-threshold', '1', ...['loopA', 'loopB', 'loopC'].flatMap((n) => ['--dump-trace', head(n)])]);
    expect(r.status, r.stderr).toBe(0);
    // What each head's compiles said, in order (the first says nothing).
    const compiles = new Map<string, string[]>();
    for (const dump of r.stderr.split(/^(?=trace \d+: head)/m)) {
      const pc = /^trace \d+: head (0x[0-9a-f]+)/.exec(dump)?.[1];
      if (pc === undefined) continue;
      const again = / compiled again at icount \d+: (.*)$/m.exec(dump.split('--- generated ---')[0]);
      compiles.set(pc, [...(compiles.get(pc) ?? []), again ? again[1] : 'first']);
    }
    // loopA's side path runs 6 times: fewer than 16, no branch.
    expect(compiles.get(head('loopA'))).toEqual(['first']);
    // loopB's runs 50 times: one branch (a second would need 256).
    expect(compiles.get(head('loopB'))).toEqual(['first', 'grown by branch 1']);
    // loopC's runs 8 times before the loop's 65536th pass and twice after: the tree is
    // promoted, and then the threshold (1) grows the branch.
    expect(compiles.get(head('loopC'))).toEqual(['first', 'promoted (accesses inline)', 'grown by branch 1']);
  });
});

describe('--dump-block and --dump-trace', () => {
  beforeAll(() => buildGuestPrograms());

  it('print the guest disassembly and the generated code', () => {
    const program = programs.find((p) => p.name === 'smc')!;
    const elf = readFileSync(program.elf);
    expect(elf.length).toBeGreaterThan(0);
    // The program's entry: the first block compiled.
    const r = deja(['run', '--elf', program.elf, '-q', '--tier', 'trace', '--block-threshold', '0', '--trace-threshold', '1', '--dump-block', '0x80000000', '--dump-trace', '0']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/block \d+ at 0x80000000/);
    expect(r.stderr).toMatch(/--- generated ---/);
    expect(r.stderr).toMatch(/trace 0: head 0x[0-9a-f]+/);
    // The block's code (it starts at the hart's icount) and the trace's (registers in locals).
    expect(r.stderr).toMatch(/--- generated ---\nconst ic = hart\.icount;\n {2}\/\/ 0x80000000: j\t/);
    expect(r.stderr).toMatch(/let r\d+ = x\[\d+\]/);
  });

  it('--no-trace-at keeps traces away from a head, --trace-limit bounds how many are compiled', () => {
    const program = programs.find((p) => p.name === 'smc')!;
    const base = ['run', '--elf', program.elf, '-q', '--tier', 'trace', '--block-threshold', '0', '--trace-threshold', '1'];
    const all = deja([...base, '--dump-trace', '0'], { stats: true });
    const head = /trace 0: head (0x[0-9a-f]+)/.exec(all.stderr)![1];
    const without = deja([...base, '--no-trace-at', head, '--dump-trace', head], { stats: true });
    expect(without.status, without.stderr).toBe(0);
    expect(without.stats!.settings).toMatchObject({ noTraceAt: [parseInt(head, 16)] });
    expect(without.stderr).not.toMatch(new RegExp(`head ${head}`));
    const one = deja([...base, '--trace-limit', '1'], { stats: true });
    expect(one.status, one.stderr).toBe(0);
    expect((one.stats!.jit as { tracesCompiled: number }).tracesCompiled).toBeLessThan((all.stats!.jit as { tracesCompiled: number }).tracesCompiled);
  });

  it('a loop that calls one helper twice becomes a trace through both calls', () => {
    const program = programs.find((p) => p.name === 'calls')!;
    const r = deja(['run', '--elf', program.elf, '-q', '--tier', 'trace', '--block-threshold', '0', '--trace-threshold', '1', '--dump-trace', '0']);
    expect(r.status, r.stderr).toBe(0);
    // The first version of trace 0: loop2's path, which returns to its head.
    const listing = r.stderr.split('--- generated ---')[0];
    expect(listing).toMatch(/^trace 0: head 0x[0-9a-f]+, 5 blocks, .*loop$/m);
    expect(listing).toMatch(/root path \(returns to head\)/);
    // The helper's block is on the path twice (called from two return addresses).
    const blocks = [...listing.matchAll(/block \d+ at (0x[0-9a-f]+)/g)].map((m) => m[1]);
    const helper = blocks.find((pc, i) => blocks.indexOf(pc) !== i);
    expect(helper, blocks.join(' ')).toBeDefined();
    expect(blocks.filter((pc) => pc === helper)).toHaveLength(2);
  });

  it('a branch that stops at an inner loop is not grown again to unroll it', () => {
    const program = programs.find((p) => p.name === 'loops')!;
    const { symbols } = parseElf(readFileSync(program.elf), program.elf);
    // Test 2's traces (outer2, inner2), by head pc: every compile of one is printed.
    const heads = ['outer2', 'inner2'].flatMap((name) => ['--dump-trace', `0x${symbols.get(name)!.toString(16)}`]);
    const r = deja(['run', '--elf', program.elf, '-q', '--tier', 'trace', '--block-threshold', '0', '--trace-threshold', '1', ...heads]);
    expect(r.status, r.stderr).toBe(0);
    // The last listing of each trace is its final tree: the outer loop's trace has grown a
    // branch through the inner loop, and no block appears in it twice.
    const listings = new Map<string, string>();
    let compiles = 0;
    for (const dump of r.stderr.split(/^(?=trace \d+: head)/m)) {
      const id = /^trace (\d+): head/.exec(dump)?.[1];
      if (id === undefined) continue;
      compiles++;
      const listing = dump.split('--- generated ---')[0];
      // A trace's later compiles say so, and why.
      if (listings.has(id)) expect(listing).toMatch(/^ compiled again at icount \d+: (grown by branch \d+|promoted \(accesses inline\))$/m);
      else expect(listing).not.toMatch(/compiled again/);
      listings.set(id, listing);
    }
    const grown = [...listings.values()].filter((l) => /branch at site/.test(l));
    expect(grown.length, r.stderr).toBeGreaterThan(0);
    for (const listing of grown) {
      const blocks = [...listing.matchAll(/block \d+ at (0x[0-9a-f]+)/g)].map((m) => m[1]);
      expect(new Set(blocks).size, listing).toBe(blocks.length);
    }
    expect(compiles, r.stderr).toBeLessThanOrEqual(5);
  });

  it('a head whose recording ran into another loop is recorded again', () => {
    const program = programs.find((p) => p.name === 'loops')!;
    const { symbols } = parseElf(readFileSync(program.elf), program.elf);
    const [outer, inner] = ['outer3', 'inner3'].map((name) => `0x${symbols.get(name)!.toString(16)}`);
    // At threshold 3 the first recording from outer3 starts in an iteration that runs the
    // inner loop; a later one, in a common iteration, closes the loop.
    const r = deja(['run', '--elf', program.elf, '-q', '--tier', 'trace', '--block-threshold', '0', '--trace-threshold', '3', '--no-trace-at', inner, '--dump-trace', outer]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^trace \\d+: head ${outer}, .*loop$`, 'm'));
  });

  it('refuses a bad tier setting with a one-line usage error', () => {
    const r = deja(['run', '--elf', programs[0].elf, '--tier', 'turbo']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--tier: 'turbo' is not one of interp, block, trace/);
    const t = deja(['run', '--elf', programs[0].elf, '--trace-threshold', 'lots']);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/--trace-threshold: 'lots' is not a count/);
  });
});
