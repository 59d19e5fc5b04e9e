// A guest that keeps taking traps without retiring anything (here: its trap vector points
// at unmapped memory) ends with exit reason trap-loop and exit code 9 and one line saying
// where it is stuck, under every tier, after as many traps; its recording replays to the same end.

import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { TIER_MATRIX, describeTier, replayAllTiers } from '../helpers/tiers.js';
import { ReplaySession, loadRecording } from '../../src/session/replay-session.js';
import { tierSettings } from '../../src/session/tier.js';
import { TRAP_STORM } from '../../src/cpu/interpreter.js';

// addi t0, zero, 16; csrw mtvec, t0; then an illegal instruction: every trap goes to 0x10,
// where nothing is mapped, and faults again.
const PROGRAM = [0x01000293, 0x30529073, 0x00000000];

describe('a guest stuck in a trap loop', () => {
  const dir = tmp('deja-traploop-');
  const bios = join(dir, 'loop.bin');
  const words = new Uint8Array(new Uint32Array(PROGRAM).buffer);
  writeFileSync(bios, words);

  it.each([['interp'], ['block'], ['trace']])('ends with trap-loop under %s', (tier) => {
    const r = deja(['run', '--bios', bios, '-q', '--tier', tier, ...(tier === 'interp' ? [] : ['--block-threshold', '0']), ...(tier === 'trace' ? ['--trace-threshold', '1'] : [])], { stats: true });
    expect(r.status).toBe(9);
    expect(r.stats?.exit.reason).toBe('trap-loop');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/stuck taking traps without retiring an instruction: pc 0x10, priv 3, mcause 0x1, mtvec 0x10/);
  });

  it('records and replays to the same end', async () => {
    const file = join(dir, 'loop.deja');
    const r = deja(['run', '--bios', bios, '-q', '--record', file], { stats: true });
    expect(r.status).toBe(9);
    const rep = deja(['replay', file, '-q']);
    expect(rep.status, rep.stderr).toBe(9);
    expect(rep.stderr).toMatch(/replay: trap-loop at icount \d+ as recorded/);
    // Cross-tier equality: the same recording under every tier setting.
    expect(replayAllTiers(await loadRecording(file)).failures).toEqual([]);
  });

  it.each([
    ['an illegal instruction into unmapped memory', PROGRAM],
    // auipc t0, 0; addi t0, t0, 12; csrw mtvec, t0; then a trap whose vector is itself.
    ['ecall', [0x00000297, 0x00c28293, 0x30529073, 0x00000073]],
    ['ebreak', [0x00000297, 0x00c28293, 0x30529073, 0x00100073]],
  ])('every tier takes as many traps before it gives up on a loop of %s (deja diff compares the traps taken)', async (name, program) => {
    const prog = join(dir, `${name.replace(/\W+/g, '-')}.bin`);
    writeFileSync(prog, new Uint8Array(new Uint32Array(program).buffer));
    const file = join(dir, `${name.replace(/\W+/g, '-')}.deja`);
    expect(deja(['run', '--bios', prog, '-q', '--record', file]).status).toBe(9);
    const rec = await loadRecording(file);
    const taken = TIER_MATRIX.map((t) => {
      const s = new ReplaySession(rec, tierSettings(t));
      expect(s.replay().divergence, describeTier(t)).toBeNull();
      return `${describeTier(t)}: ${s.machine.hart.traps}`;
    });
    const interp = taken[0].split(': ')[1];
    expect(Number(interp)).toBeGreaterThan(3 * TRAP_STORM);
    expect(taken).toEqual(TIER_MATRIX.map((t) => `${describeTier(t)}: ${interp}`));
  });
});
