// An interactive session: the reference guest's shell driven by keystrokes written to the
// recorder's stdin at irregular host times. Console input and the idle periods it ends
// are inputs; the replay must give the same console bytes and verify every checkpoint.
// A changed keystroke must make the replay diverge.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initZstd } from '../../src/record/zstd.js';
import { parseRecording } from '../../src/record/reader.js';
import type { LogEvent } from '../../src/record/format.js';
import { deja, tmp } from '../helpers/cli.js';
import { rewrite, rng, spawnDeja, stackLines, type Spawned } from './helpers.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { loadRecording } from '../../src/session/replay-session.js';

const COMMANDS = ['echo hi', 'uptime', 'help', 'echo deja was here', 'poweroff'];

let dir: string;
let file: string;
let run: Spawned;

beforeAll(async () => {
  await initZstd();
  dir = tmp('deja-shell-');
  file = join(dir, 'shell.deja');
  const r = rng(2024);
  const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
  run = await spawnDeja(['run', '--mode', 'shell', '--record', file, '--checkpoint-every', '1000000'], async (io) => {
    await io.waitFor('rv32> ');
    for (const cmd of COMMANDS) {
      await sleep(20 + Math.floor(r() * 300));
      // Each line in one to three pieces, a few milliseconds apart.
      const line = cmd + '\n';
      const cut1 = Math.floor(r() * line.length);
      const cut2 = cut1 + Math.floor(r() * (line.length - cut1));
      for (const piece of [line.slice(0, cut1), line.slice(cut1, cut2), line.slice(cut2)]) {
        if (!piece) continue;
        io.write(piece);
        await sleep(Math.floor(r() * 40));
      }
    }
    await io.waitFor('reboot: Power down');
  });
}, 300_000);

describe('a recorded shell session', () => {
  it('ran: the shell answered every command and powered off', () => {
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/rv32> echo hi[\s\S]*\nhi\r?\n/);
    expect(run.stdout).toMatch(/\ndeja was here\r?\n/);
    expect(run.stdout).toContain('reboot: Power down');
  });

  it('the recording holds the keystrokes and the idle periods', () => {
    const rec = parseRecording(new Uint8Array(readFileSync(file)), file);
    const rx = rec.events.filter((e): e is Extract<LogEvent, { kind: 'uart-rx' }> => e.kind === 'uart-rx');
    const typed = Buffer.from(rx.flatMap((e) => e.bytes)).toString('latin1');
    expect(typed).toBe(COMMANDS.map((c) => c + '\n').join(''));
    expect(rec.events.filter((e) => e.kind === 'idle').length).toBeGreaterThan(3);
    expect(rec.events[rec.events.length - 1]).toMatchObject({ kind: 'end', reason: 'poweroff', code: 0 });
  });

  it('replays bit-exactly: the same console bytes, exit code and every checkpoint verified', async () => {
    const rep = deja(['replay', file], { stats: true });
    expect(rep.status, rep.stderr).toBe(run.status);
    expect(rep.stdout).toBe(run.stdout);
    const n = parseRecording(new Uint8Array(readFileSync(file)), file).events.filter((e) => e.kind === 'checkpoint').length;
    expect(n).toBeGreaterThan(10);
    expect(rep.stderr.trim()).toMatch(new RegExp(`^deja: replay: poweroff at icount \\d+ as recorded, ${n} of ${n} checkpoints verified$`));
    expect(rep.stats?.replay).toMatchObject({ checkpoints: n, diverged: false });
    // Cross-tier equality: the same recording under every tier setting.
    expect(replayAllTiers(await loadRecording(file)).failures).toEqual([]);
  });

  it('a changed keystroke makes the replay diverge, within the window the report gives', () => {
    const rec = parseRecording(new Uint8Array(readFileSync(file)), file);
    // The first 'h' typed is the one in the first "echo": make it a 'j'.
    const first = rec.events.find((e): e is Extract<LogEvent, { kind: 'uart-rx' }> => e.kind === 'uart-rx' && e.bytes.includes(0x68))!;
    const changed = rewrite(rec, (ev) => {
      const e = ev.find((x): x is Extract<LogEvent, { kind: 'uart-rx' }> => x.kind === 'uart-rx' && x.icount === first.icount)!;
      const i = e.bytes.indexOf(0x68);
      e.bytes = e.bytes.map((b, k) => (k === i ? 0x6a : b));
      return ev;
    });
    const bad = join(dir, 'changed.deja');
    writeFileSync(bad, changed);
    const rep = deja(['replay', bad, '-q']);
    expect(rep.status).toBe(7);
    expect(stackLines(rep.stderr)).toEqual([]);
    // Found at a checkpoint that differs, or at an input the changed guest no longer meets
    // as recorded (typing 'j' for 'h' changes when the shell next idles): which comes first
    // depends on the session's host timing, recorded anew each run.
    const m = new RegExp(`^deja: ${bad}: DIVERGENCE at icount (\\d+): (checkpoint at icount \\d+ differs|the recording has|the replay is stuck|the guest asked for)`).exec(rep.stderr);
    expect(m, rep.stderr).not.toBeNull();
    const since = Number(/window: after icount (\d+)/.exec(rep.stderr)?.[1]);
    const at = Number(m![1]);
    // Everything before the change replays as recorded: the window starts no earlier than
    // the last checkpoint before the changed key, and the divergence is found at or after it.
    const checkpoints = rec.events.filter((e) => e.kind === 'checkpoint').map((e) => e.icount);
    const lastBefore = Math.max(0, ...checkpoints.filter((c) => c <= first.icount));
    expect(since).toBeGreaterThanOrEqual(lastBefore);
    expect(at).toBeGreaterThanOrEqual(first.icount);
    expect(since).toBeLessThan(at);
    // The window starts at a checkpoint of the recording (or at 0). It may start after the
    // changed key: a checkpoint hashes registers, CSRs and console output, and the key can
    // sit in the UART's FIFO or the kernel's tty buffer, in neither, across a checkpoint.
    expect([0, ...checkpoints]).toContain(since);
    // When the console already shows it (the checkpoint fell after the guest echoed the
    // key), the report shows the difference: "ech" recorded, "ecj" replayed.
    if (/console differs/.test(rep.stderr)) {
      expect(rep.stderr).toMatch(/recorded: .*rv32> ech/);
      expect(rep.stderr).toMatch(/replay: {3}.*rv32> ecj/);
    }
  });
});
