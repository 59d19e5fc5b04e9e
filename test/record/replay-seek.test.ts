// ReplayPort.seek(N): a machine whose state is the replay's at icount N goes on from there
// with a port seeked to N, and every later checkpoint verifies. The state at N is made by
// running a second machine there (a restored snapshot would be the same state).

import { beforeAll, describe, expect, it } from 'vitest';
import { tmp } from '../helpers/cli.js';
import { initZstd } from '../../src/record/zstd.js';
import type { Recording } from '../../src/record/reader.js';
import type { LogEvent } from '../../src/record/format.js';
import { Divergence, ReplayChecker, ReplayPort, endMismatch, runToEnd } from '../../src/record/replay.js';
import type { IdleAnswer, InputPort } from '../../src/record/input-port.js';
import { replayConfig } from '../../src/record/manifest.js';
import { Machine } from '../../src/machine/machine.js';
import { recordingEnd } from '../../src/session/replay-session.js';
import { runToIcount } from '../../src/session/run-to.js';
import { attachTier, tierSettings, type TierOptions } from '../../src/session/tier.js';
import { tinyRecording } from './tiny-guest.js';

/** Passes the machine's questions to whichever port it holds now (the test swaps them). */
class Relay implements InputPort {
  constructor(public port: InputPort) {}
  get live(): boolean {
    return this.port.live;
  }
  nextPushIcount(): number {
    return this.port.nextPushIcount();
  }
  takeConsoleInput(icount: number, room: number): number[] {
    return this.port.takeConsoleInput(icount, room);
  }
  rtcNanos(icount: number): number {
    return this.port.rtcNanos(icount);
  }
  idle(icount: number, untilDeadline: number): IdleAnswer {
    return this.port.idle(icount, untilDeadline);
  }
  inputClosed(): boolean {
    return this.port.inputClosed();
  }
}

interface Continued {
  checked: number;
  /** Checkpoints at or after N (those the continued replay can check). */
  due: number;
  failure: string | null;
}

/**
 * Runs a machine to icount `n` from the start on one port, then gives it a new port,
 * positioned by `position`, and a checker that knows the console so far, and replays on
 * to the end.
 */
function continueFrom(rec: Recording, n: number, t: TierOptions, position: (p: ReplayPort) => void): Continued {
  const relay = new Relay(new ReplayPort(rec.events));
  const m = new Machine(replayConfig(rec), relay);
  attachTier(m, tierSettings(t));
  const printed: number[] = [];
  m.consoleSink = (b) => printed.push(b);
  runToIcount(m, n);
  expect(m.hart.icount).toBe(n);

  const port = new ReplayPort(rec.events);
  position(port);
  relay.port = port;
  const later = rec.events.filter((e) => e.kind !== 'checkpoint' || e.icount >= n);
  const checker = new ReplayChecker(m, later, port);
  for (const b of printed) checker.onConsole(b);
  m.consoleSink = (b) => checker.onConsole(b);
  const { end, icount: stopAt } = recordingEnd(rec);
  let failure: string | null = null;
  try {
    runToEnd(m, stopAt, end, (limit) => {
      while (m.hart.icount < limit && !m.exit && m.runUntil(limit) !== 'wait');
    });
    checker.finish(m);
    failure = endMismatch(m, rec.events, port);
  } catch (e) {
    if (!(e instanceof Divergence)) throw e;
    failure = e.report.what;
  }
  return { checked: checker.checked, due: checker.total, failure };
}

describe('ReplayPort.seek', () => {
  let rec: Recording;
  let points: number[];

  beforeAll(async () => {
    await initZstd();
    rec = tinyRecording(tmp('deja-seek-'));
    const ev = rec.events;
    const checkpoints = ev.filter((e) => e.kind === 'checkpoint').map((e) => e.icount);
    const input = (kind: string, after = 0) => ev.find((e) => e.kind === kind && e.icount > after)!.icount;
    // Before the first input, inside the first checkpoint interval, at a checkpoint, between
    // inputs, and exactly where an idle (the hart in wfi) and a console input are due.
    points = [1, input('rtc') + 1, checkpoints[1], checkpoints[1] + 5, input('idle', checkpoints[2]), input('uart-rx'), input('uart-rx') + 2];
  });

  for (const t of [{ tier: 'interp' }, { tier: 'trace', blockThreshold: '1', traceThreshold: '1' }]) {
    it(`a machine at icount N goes on with a port seeked to N, every later checkpoint verified (${t.tier})`, () => {
      for (const n of points) {
        const r = continueFrom(rec, n, t, (p) => p.seek(n));
        expect(r.failure, `N = ${n}`).toBeNull();
        expect(r.checked, `N = ${n}`).toBe(r.due);
        expect(r.due).toBeGreaterThan(0);
      }
    });
  }

  it('without the seek, or seeked elsewhere, the replay diverges', () => {
    const n = points[points.length - 1];
    const prev = rec.events.filter((e) => e.kind === 'uart-rx' || e.kind === 'rtc' || e.kind === 'idle').filter((e) => e.icount < n).at(-1)!.icount;
    expect(continueFrom(rec, n, { tier: 'interp' }, () => {}).failure).not.toBeNull();
    expect(continueFrom(rec, n, { tier: 'interp' }, (p) => p.seek(prev)).failure).not.toBeNull();
    expect(continueFrom(rec, n, { tier: 'interp' }, (p) => (p.seek(rec.events.at(-1)!.icount), p.seek(n))).failure).toBeNull();
  });

  it('serves the first input at or after N, and counts those before it as taken', () => {
    const inputs = rec.events.filter((e) => e.kind === 'uart-rx' || e.kind === 'rtc' || e.kind === 'idle');
    const rx = rec.events.filter((e): e is Extract<LogEvent, { kind: 'uart-rx' }> => e.kind === 'uart-rx');
    const p = new ReplayPort(rec.events);
    for (const n of [0, rx[1].icount, rx[1].icount + 1, inputs.at(-1)!.icount + 1, rx[0].icount]) {
      p.seek(n);
      expect(p.remaining()).toBe(inputs.filter((e) => e.icount >= n).length);
      expect(p.nextPushIcount()).toBe(rx.find((e) => e.icount >= n)?.icount ?? Infinity);
      expect(p.lastGood).toBe(n);
    }
    // Seeked to a console input: it is served there, and nothing before it is asked for.
    expect(p.takeConsoleInput(rx[0].icount)).toEqual(rx[0].bytes);
    expect(() => p.check(rx[0].icount)).not.toThrow();
  });
});
