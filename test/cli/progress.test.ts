// Progress on a terminal: replay, index, bisect and fuzz draw a progress line on stderr
// when it is a terminal (run here under script(1), which gives the command a pty), and
// nothing when it is not, or with -q; never over a console line the guest has not ended.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, deja, tmp } from '../helpers/cli.js';

const TICKER = join(ROOT, 'recordings/ticker-panic.deja');
const LINE = /deja: [a-z]+: \d+\.\d% \(icount [\d.]+[KMG]? of 13\.1M\), [\d.]+[KMG]? instr\/s, [\d.]+ s left/;

/** Runs deja with stdin, stdout and stderr on a pseudo-terminal; everything it wrote there. */
function onTerminal(args: string[]): { status: number; out: string } {
  const cmd = [process.execPath, BIN, ...args].map((w) => `'${w}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, DEJA_PROGRESS_MS: '0' } });
  return { status: r.status ?? -1, out: r.stdout };
}

describe('progress lines', () => {
  it('on a terminal: percent, instructions per second and time left, then taken away; never with -q or off a terminal', () => {
    const dir = tmp('deja-progress-');
    const rec = join(dir, 't.deja');
    copyFileSync(TICKER, rec);
    const cases: [string, string[], number][] = [
      ['replay', ['replay', rec], 1],
      ['index', ['index', rec, '--every', '4M'], 0],
      ['bisect', ['bisect', rec, '--b', 'tier=block,block-threshold=1,jit-fault=wrong-imm', '--no-code'], 7],
      // Draws in worker threads (--jobs above 1) draw no line: each prints its own when done.
      ['fuzz', ['fuzz', rec, '--runs', '2', '--no-code', '--jobs', '1'], 0],
      ['report', ['report', rec, '-o', join(dir, 'r.html')], 0],
    ];
    for (const [label, args, status] of cases) {
      const t = onTerminal(args);
      expect(t.status, `${label}: ${t.out.slice(-2000)}`).toBe(status);
      expect(t.out, label).toMatch(LINE);
      // Each drawing starts with a carriage return and erases the line; the last one is erased for good.
      expect(t.out, label).toMatch(/\r\x1b\[K[^\r\n]*% \(icount[^\r\n]*\r\x1b\[K/);
      const quiet = onTerminal([...args, '-q']);
      expect(quiet.out, `${label} -q`).not.toMatch(/instr\/s/);
      const piped = deja(args, { env: { DEJA_PROGRESS_MS: '0' } });
      expect(piped.status).toBe(status);
      expect(piped.stderr, `${label} piped`).not.toMatch(/instr\/s|\x1b\[K/);
    }
  });

  it('is drawn only where the guest console has ended its line (a carriage return there would erase the line)', () => {
    const t = onTerminal(['replay', TICKER]);
    expect(t.status).toBe(1);
    let prevEnd = 0;
    let draws = 0;
    for (const m of t.out.matchAll(/\r\x1b\[K[^\r\n]*/g)) {
      draws++;
      // Right after the previous drawing (drawn over, or taken away), or at the start of a line.
      if (m.index !== prevEnd) expect(t.out[m.index - 1], JSON.stringify(t.out.slice(Math.max(0, m.index - 80), m.index + 20))).toBe('\n');
      prevEnd = m.index + m[0].length;
    }
    expect(draws).toBeGreaterThan(10);
  });
});
