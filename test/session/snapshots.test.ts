// Restoring a snapshot and running on equals running straight there (DESIGN.md I8): a
// replay restored from each snapshot of a chain, under every tier, verifies every later
// checkpoint and ends as recorded, in the same state as the straight replay. Snapshots are
// taken at many icounts, among them just inside trap handlers, and go through the snapshot
// file and back.

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { guestDir } from '../helpers/guest.js';
import { initZstd } from '../../src/record/zstd.js';
import { readRecording, type Recording } from '../../src/record/reader.js';
import { hashesFor } from '../../src/record/state-hash.js';
import type { Snapshot } from '../../src/machine/snapshot.js';
import { SnapshotWriter, readSnapshotFile, snapshotPath, type SnapshotFile } from '../../src/record/snapshot-file.js';
import { ReplaySession } from '../../src/session/replay-session.js';
import { tierSettings, type TierOptions } from '../../src/session/tier.js';
import { chainTo, seek, type Snapshots } from '../../src/session/seek.js';
import { describeTier } from '../helpers/tiers.js';
import { tinyRecording } from '../record/tiny-guest.js';
import { buildGuestPrograms, isaPrograms } from '../helpers/run-elf.js';

const TIERS: TierOptions[] = [
  { tier: 'interp' },
  { tier: 'block', blockThreshold: '1' },
  { tier: 'block' },
  { tier: 'trace', blockThreshold: '1', traceThreshold: '1' },
  { tier: 'trace' },
];

/**
 * The icounts just inside trap handlers (one instruction in), of each kind of trap the
 * straight replay takes (interrupts, page faults, ecalls, ...), a few of each.
 */
function handlerPoints(rec: Recording, perCause: number): number[] {
  const s = new ReplaySession(rec);
  const h = s.machine.hart;
  const seen = new Map<number, number[]>();
  const take = h.takeTrap.bind(h);
  h.takeTrap = (cause, tval, interrupt) => {
    const key = interrupt ? -1 - cause : cause;
    const list = seen.get(key) ?? seen.set(key, []).get(key)!;
    list.push(h.icount + 1);
    take(cause, tval, interrupt);
  };
  expect(s.replay().divergence).toBeNull();
  const out: number[] = [];
  for (const list of seen.values()) for (let i = 0; i < perCause && i < list.length; i++) out.push(list[Math.floor(((i + 1) * list.length) / (perCause + 1))]);
  return out.sort((a, b) => a - b);
}

/**
 * Replays `rec` straight (interpreter), snapshotting at each of `points`; the snapshots go
 * through a snapshot file. Returns them and the straight replay's end state.
 */
function index(rec: Recording, points: number[]): { file: SnapshotFile; snapshots: Snapshot[]; end: { icount: number; state: number; devices: number } } {
  const s = new ReplaySession(rec);
  const file = snapshotPath(join(tmp('deja-snap-'), 'r.deja'));
  const w = new SnapshotWriter(file, { recording: rec.identity, every: 0, deja: 'test' });
  for (const at of [...new Set(points)].sort((a, b) => a - b)) {
    if (at <= 0 || at >= s.stopAt) continue;
    expect(s.replay(at).divergence).toBeNull();
    w.add(s.snapshot());
  }
  const r = s.replay();
  w.close();
  expect(r.divergence).toBeNull();
  const h = hashesFor(rec);
  const file2 = readSnapshotFile(file, rec)!;
  expect(file2.truncated).toBeNull();
  return { file: file2, snapshots: file2.snapshots, end: { icount: r.icount, state: h.state(s.machine), devices: h.devices(s.machine) } };
}

/** From each of `from` (snapshots of the chain `all`), under each tier: on to the end as recorded. */
function expectRestoresRunOn(rec: Recording, all: Snapshots, from: Snapshot[], end: { icount: number; state: number; devices: number }, tiers: TierOptions[]): void {
  const h = hashesFor(rec);
  const total = rec.events.filter((e) => e.kind === 'checkpoint').length;
  for (const t of tiers) {
    for (const snap of from) {
      const what = `${describeTier(t)} from the snapshot at ${snap.icount}`;
      const sought = seek(rec, snap.icount, all, tierSettings(t));
      const session = sought.session;
      expect(sought.from, what).toBe(snap.icount);
      const r = session.replay();
      expect(r.divergence, what).toBeNull();
      const later = rec.events.filter((e) => e.kind === 'checkpoint' && e.icount > snap.icount).length;
      expect(r.checkpoints, what).toBe(later);
      expect(later, what).toBeLessThanOrEqual(total);
      expect({ icount: r.icount, state: h.state(session.machine), devices: h.devices(session.machine) }, what).toEqual(end);
    }
  }
}

beforeAll(() => initZstd());

describe('snapshots: restoring and running on equals running straight there', () => {
  it('the tiny guest (timer, RTC, UART input), snapshots every 997 instructions (in wfi, with input in the FIFO), every tier', () => {
    const rec = tinyRecording(tmp('deja-snap-tiny-'));
    const points = Array.from({ length: 30 }, (_, i) => (i + 1) * 997);
    const { snapshots, end } = index(rec, points);
    expect(snapshots.length).toBeGreaterThanOrEqual(15);
    expectRestoresRunOn(rec, snapshots, snapshots, end, TIERS);
    // a chain ends at the last snapshot at or before the icount asked for
    expect(chainTo(snapshots, snapshots[3].icount + 1).length).toBe(4);
    expect(chainTo(snapshots, snapshots[0].icount - 1)).toEqual([]);
  });

  it('a Linux boot, snapshots at 13 points and just inside handlers of each kind of trap, every tier', () => {
    const dir = tmp('deja-snap-linux-');
    const file = join(dir, 'boot.deja');
    const run = deja(['run', '--mode', 'boot', '-q', '--record', file, '--checkpoint-every', '3M'], { env: { DEJA_GUEST_DIR: guestDir() } });
    expect(run.status, run.stderr).toBe(0);
    const rec = readRecording(file);
    const end = rec.events[rec.events.length - 1].icount;
    const points = Array.from({ length: 13 }, (_, i) => Math.floor(((i + 1) * end) / 14) + i * 7);
    const handlers = handlerPoints(rec, 2);
    // timer and external interrupts, page faults, ecalls from U and S
    expect(handlers.length).toBeGreaterThanOrEqual(8);
    const idx = index(rec, [...points, ...handlers]);
    expect(idx.snapshots.length).toBeGreaterThanOrEqual(20);
    // Every snapshot under the interpreter; a spread of them under the JIT tiers.
    expectRestoresRunOn(rec, idx.snapshots, idx.snapshots, idx.end, [TIERS[0]]);
    const some = idx.snapshots.filter((_, i) => i % 5 === 2);
    // From the file itself: the restore reads only the snapshots whose pages it needs.
    const chain = idx.file.chainTo(some[some.length - 1].icount);
    expect(chain.length).toBeLessThan(idx.snapshots.filter((x) => x.icount <= some[some.length - 1].icount).length);
    expectRestoresRunOn(rec, idx.file, some, idx.end, TIERS.slice(1));
  });

  it('the stress mode (fork, demand-zero faults, self-modifying code, timers), from snapshots across it, the interpreter and the JIT tiers at threshold 1', () => {
    const dir = tmp('deja-snap-stress-');
    const file = join(dir, 'stress.deja');
    const run = deja(['run', '--mode', 'stress', '-q', '--record', file, '--checkpoint-every', '5M'], { env: { DEJA_GUEST_DIR: guestDir() } });
    expect(run.status, run.stderr).toBe(0);
    const rec = readRecording(file);
    const end = rec.events[rec.events.length - 1].icount;
    const points = Array.from({ length: 7 }, (_, i) => Math.floor(((i + 1) * end) / 8) + 3 * i);
    const idx = index(rec, [...points, ...handlerPoints(rec, 1)]);
    expect(idx.snapshots.length).toBeGreaterThanOrEqual(10);
    expectRestoresRunOn(rec, idx.file, idx.snapshots, idx.end, [TIERS[0]]);
    const late = idx.snapshots.slice(-3);
    expectRestoresRunOn(rec, idx.file, late, idx.end, [TIERS[1], TIERS[3]]);
  });

  it('the bare-metal test programs, from snapshots across each, under the interpreter and the JIT tiers at threshold 1', () => {
    buildGuestPrograms();
    const dir = tmp('deja-snap-isa-');
    for (const prog of isaPrograms()) {
      const file = join(dir, `${prog.name}.deja`);
      const run = deja(['run', '--elf', prog.elf, '-q', '--record', file, '--checkpoint-every', '3000']);
      expect([0, 1], `${prog.name}: ${run.stderr}`).toContain(run.status);
      const rec = readRecording(file);
      const end = rec.events[rec.events.length - 1].icount;
      if (end < 20) continue;
      const points = Array.from({ length: 4 }, (_, i) => Math.floor(((i + 1) * end) / 5));
      const idx = index(rec, points);
      expectRestoresRunOn(rec, idx.file, idx.snapshots, idx.end, [TIERS[0], TIERS[1], TIERS[3]]);
    }
  });
});
