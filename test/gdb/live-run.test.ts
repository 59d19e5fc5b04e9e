// `deja run --gdb`: a live run served to gdb-multiarch, forward only. It starts stopped at
// reset, stops at breakpoints and watchpoints, refuses to go backwards, and its recording
// (made while gdb stopped and started it) replays exactly under every tier.

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { TIER_ARGS } from '../helpers/tiers.js';
import { buildGuestPrograms, GUEST_BUILD_DIR } from '../helpers/run-elf.js';
import { gdbOn, gdbPath, mark, printedIcount, startDeja } from '../helpers/gdb.js';

const ELF = join(GUEST_BUILD_DIR, 'debug-target.elf');

beforeAll(() => {
  expect(gdbPath()).not.toBeNull();
  buildGuestPrograms();
});

describe('deja run --gdb', () => {
  it('breaks, watches and runs to the guest\'s end; going back is refused; the recording replays under every tier', async () => {
    const rec = join(tmp(), 'live.deja');
    const stub = await startDeja(['run', '--elf', ELF, '-q', '--record', rec, '--tier', 'block', '--block-threshold', '1', '--gdb', '127.0.0.1:0']);
    const r = await gdbOn(stub, [
      ...mark('start', 'monitor icount'),
      'break *step_fn',
      'continue',
      'continue',
      ...mark('a0', 'p $a0'),
      ...mark('back', 'reverse-stepi'),
      'delete',
      'watch *(int*)&target',
      ...mark('watch', 'continue'),
      ...mark('icount', 'monitor icount'),
      'delete',
      ...mark('end', 'continue'),
    ], { file: ELF });
    expect(stub.stderr()).toMatch(/gdb stub for this run \(stopped at reset, icount 0\)/);
    expect(printedIcount(r.marked.get('start')![0])).toBe(0);
    expect(r.marked.get('a0')![0]).toMatch(/= 1$/m);
    expect(r.marked.get('back')![0]).toMatch(/does not support this command|cannot go backwards/);
    expect(r.marked.get('watch')![0]).toMatch(/Old value = 0\s+New value = 999/);
    expect(r.marked.get('end')![0]).toMatch(/exited normally/);
    expect(r.dejaStatus, r.gdb + r.deja).toBe(0);
    expect(r.deja).toMatch(/^deja: run: poweroff at icount \d+: the guest powered off$/m);
    for (const tier of TIER_ARGS) {
      const p = deja(['replay', rec, '-q', ...tier]);
      expect(p.status, `${tier.join(' ')}: ${p.stderr}`).toBe(0);
      expect(p.stderr).toMatch(/poweroff at icount \d+ as recorded, \d+ of \d+ checkpoints verified/);
    }
  });

  it('a gdb that detaches first stops the run (exit 8), and what ran replays', async () => {
    const rec = join(tmp(), 'detached.deja');
    const stub = await startDeja(['run', '--elf', ELF, '-q', '--record', rec, '--gdb', '127.0.0.1:0']);
    const r = await gdbOn(stub, ['break *step_fn', 'continue', 'detach'], { file: ELF });
    expect(r.dejaStatus, r.deja).toBe(8);
    expect(r.deja).toMatch(/^deja: run: stop at icount \d+: stopped by the gdb session \(detached\)$/m);
    // A replay ends as the run did: stopped there (exit 8), every checkpoint matched.
    const p = deja(['replay', rec, '-q']);
    expect(p.status, p.stderr).toBe(8);
    expect(p.stderr).toMatch(/^deja: replay: stop at icount \d+ as recorded, (\d+) of \1 checkpoints verified$/m);
  });
});
