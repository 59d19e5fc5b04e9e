// ReplaySession.replay(N) stops at exactly icount N under every tier: the same pc, the same
// state and device hashes (those of a checkpoint there, when there is one: the inputs due
// at N are not taken yet), the checkpoints up to N verified; and a replay goes on from there.

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, tmp } from '../helpers/cli.js';
import { initZstd } from '../../src/record/zstd.js';
import type { Recording } from '../../src/record/reader.js';
import type { LogEvent } from '../../src/record/format.js';
import { hashesFor } from '../../src/record/state-hash.js';
import { ReplaySession, loadRecording } from '../../src/session/replay-session.js';
import { tierSettings, type TierOptions } from '../../src/session/tier.js';
import { describeTier } from '../helpers/tiers.js';
import { tinyRecording } from '../record/tiny-guest.js';

/** The interpreter, and the block and trace tiers at threshold 1 and at their defaults. */
const TIERS: TierOptions[] = [
  { tier: 'interp' },
  { tier: 'block', blockThreshold: '1' },
  { tier: 'block' },
  { tier: 'trace', blockThreshold: '1', traceThreshold: '1' },
  { tier: 'trace' },
];

type Checkpoint = Extract<LogEvent, { kind: 'checkpoint' }>;

interface Stop {
  icount: number;
  pc: number;
  state: number;
  devices: number;
  checkpoints: number;
  compiled: number;
}

function stopAt(rec: Recording, t: TierOptions, n: number): Stop {
  const s = new ReplaySession(rec, tierSettings(t));
  const r = s.replay(n);
  expect(r.divergence, `${describeTier(t)} --to ${n}`).toBeNull();
  // (icount 0 may be -0 there.)
  return { icount: r.icount || 0, pc: r.pc, state: hashesFor(rec).state(s.machine), devices: hashesFor(rec).devices(s.machine), checkpoints: r.checkpoints, compiled: s.jit ? s.jit.blocks.length + s.jit.traces.length : 0 };
}

/** Replays to each N under every tier: all stop alike, where a checkpoint there says. */
function expectSameStops(rec: Recording, points: number[]): Stop[][] {
  const checkpoints = rec.events.filter((e): e is Checkpoint => e.kind === 'checkpoint');
  const end = rec.events[rec.events.length - 1].icount;
  return points.map((n) => {
    const stops = TIERS.map((t) => stopAt(rec, t, n));
    const ref = stops[0];
    expect(ref.icount).toBe(n);
    expect(ref.checkpoints).toBe(checkpoints.filter((c) => c.icount <= n).length);
    const c = checkpoints.find((e) => e.icount === n);
    // A checkpoint at N was taken before the inputs due at N, as the replay stops there
    // (the end's final checkpoint was taken after the run, as a replay to the end stops).
    if (c) expect({ pc: ref.pc, state: ref.state, devices: ref.devices }, `checkpoint at ${n}`).toEqual({ pc: c.pc, state: c.stateHash, devices: c.deviceHash ?? ref.devices });
    for (const [i, s] of stops.entries()) {
      expect({ ...s, compiled: 0 }, `${describeTier(TIERS[i])} --to ${n} (end ${end})`).toEqual({ ...ref, compiled: 0 });
    }
    return stops;
  });
}

describe('replay to an exact icount', () => {
  let tiny: Recording;

  beforeAll(async () => {
    await initZstd();
    tiny = tinyRecording(tmp('deja-session-'));
  });

  it('stops alike under every tier: in the first checkpoint interval, at checkpoints, between them, where inputs are due, at the end', () => {
    const ev = tiny.events;
    const checkpoints = ev.filter((e) => e.kind === 'checkpoint').map((e) => e.icount);
    const idle = ev.find((e) => e.kind === 'idle' && e.icount > checkpoints[0])!.icount;
    const rx = ev.find((e) => e.kind === 'uart-rx')!.icount;
    const rtc = ev.find((e) => e.kind === 'rtc')!.icount;
    const end = ev[ev.length - 1].icount;
    const points = [0, rtc, Math.floor(checkpoints[0] / 2) + 1, checkpoints[0], checkpoints[2], checkpoints[2] + 7, idle, rx, rx + 1, end - 1, end];
    // The points are what they say: a wait in wfi (idle) and console input (rx) due there.
    expect(new Set(points).size).toBe(points.length);
    expect(checkpoints).not.toContain(checkpoints[2] + 7);
    const stops = expectSameStops(tiny, points);
    // The threshold-1 tiers compiled code on the way (what they were checked on, I10).
    expect(stops.at(-1)![1].compiled).toBeGreaterThan(0);
    expect(stops.at(-1)![3].compiled).toBeGreaterThan(0);
  });

  it('a replay stopped at N goes on from there to the end, every checkpoint verified', () => {
    const checkpoints = tiny.events.filter((e) => e.kind === 'checkpoint').length;
    const rx = tiny.events.find((e) => e.kind === 'uart-rx')!.icount;
    for (const t of TIERS) {
      const s = new ReplaySession(tiny, tierSettings(t));
      for (const n of [rx - 3, rx, rx]) expect(s.replay(n).icount).toBe(n);
      const r = s.replay();
      expect(r.divergence, describeTier(t)).toBeNull();
      expect(r.exit).toEqual({ reason: 'poweroff', code: 0 });
      expect(r.checkpoints).toBe(checkpoints);
    }
  });

  it('refuses an icount beyond the end or behind the machine', () => {
    const s = new ReplaySession(tiny);
    const end = tiny.events[tiny.events.length - 1].icount;
    expect(() => s.replay(end + 1)).toThrow(/icount \d+ is not between the replay's 0 and the recording's end/);
    s.replay(100);
    expect(() => s.replay(99)).toThrow(/icount 99 is not between the replay's 100 and/);
  });

  it('a replay in slices at its checkpoints (deja replay, which a signal can stop there) runs every tier as in one piece', async () => {
    const rec = await loadRecording(join(ROOT, 'recordings/ticker-panic.deja'));
    const end = rec.events[rec.events.length - 1].icount;
    const checkpoints = rec.events.filter((e) => e.kind === 'checkpoint').map((e) => e.icount);
    const ran = (s: ReplaySession) => {
      const st = s.jit?.finalStats();
      return { compiled: s.jit ? [s.jit.blocks.length, s.jit.traces.length, st!.batches, st!.sideExits, st!.loopIterations] : [], insns: st?.insns ?? null };
    };
    for (const [t, verify] of TIERS.flatMap((t) => [[t, true], [t, false]] as const)) {
      const whole = new ReplaySession(rec, tierSettings(t), { verify });
      const w = whole.replay();
      expect(w.divergence, describeTier(t)).toBeNull();
      // --no-verify stops the run loop at the checkpoints too: the JIT compiles the same.
      if (!verify) {
        const checked = new ReplaySession(rec, tierSettings(t));
        checked.replay();
        expect(ran(whole), `${describeTier(t)} --no-verify`).toEqual(ran(checked));
      }
      // Stopped after its third slice, then replayed on to the end.
      const sliced = new ReplaySession(rec, tierSettings(t), { verify });
      let turns = 0;
      const first = await sliced.replayUntilStopped(end, () => ++turns === 3);
      expect(first.interrupted).toBe(true);
      expect(first.icount).toBe(checkpoints[2]);
      expect(first.checkpoints).toBe(verify ? 3 : 0);
      const rest = await sliced.replayUntilStopped(end, () => false);
      expect(rest.interrupted).toBe(false);
      expect({ exit: rest.exit, icount: rest.icount, checkpoints: rest.checkpoints, divergence: rest.divergence }, describeTier(t)).toEqual({ exit: w.exit, icount: w.icount, checkpoints: w.checkpoints, divergence: null });
      expect(ran(sliced), describeTier(t)).toEqual(ran(whole));
      if (t.blockThreshold === '1') expect(ran(whole).compiled[0]).toBeGreaterThan(0);
    }
  });

  it('ticker-panic (timer and UART interrupts, traces at the default threshold) stops alike under every tier', async () => {
    const rec = await loadRecording(join(ROOT, 'recordings/ticker-panic.deja'));
    const stops = expectSameStops(rec, [1000, 250_000, 5_000_123]);
    // Default thresholds compile too, over 5 M instructions (a loop head runs 100000 times).
    expect(stops[2].every((s, i) => i === 0 || s.compiled > 0)).toBe(true);
  });
});
