// The reference guest's /init modes, end to end through the CLI under the interpreter.

import { describe, expect, it } from 'vitest';
import { deja } from '../helpers/cli.js';

describe('reference guest under the interpreter', () => {
  it('boot prints BOOT-OK and powers off', () => {
    const r = deja(['run', '--mode', 'boot'], { stats: true });
    expect(r.stdout).toContain('BOOT-OK');
    expect(r.stdout).toContain('reboot: Power down');
    expect(r.status).toBe(0);
    expect(r.stats?.exit).toEqual({ reason: 'poweroff', code: 0 });
    expect(r.stats?.icount).toBeGreaterThan(20_000_000);
  });

  it('bench prints the checksum the guest kit lists for benchiter=1000', () => {
    const r = deja(['run', '--mode', 'bench', '--append-extra', 'benchiter=1000'], { stats: true });
    expect(r.stdout).toContain('BENCH iterations=1000 checksum=0x4f7c3f9c');
    expect(r.stats?.exit.reason).toBe('poweroff');
  });

  it('stress prints STRESS-OK (fork, exec, SIGSEGV, demand paging, timers, self-modifying code)', () => {
    const r = deja(['run', '--mode', 'stress'], { stats: true });
    expect(r.stdout).toContain('STRESS-OK');
    expect(r.stdout).not.toContain('STRESS-FAIL');
    expect(r.stats?.exit.reason).toBe('poweroff');
  });

  it('panic ends with exit reason panic and exit code 5', () => {
    const r = deja(['run', '--mode', 'panic', '-q'], { stats: true });
    expect(r.stats?.exit.reason).toBe('panic');
    expect(r.status).toBe(5);
  });

  it('shell answers commands typed on piped stdin', () => {
    const r = deja(['run', '--mode', 'shell'], { input: 'echo deja-was-here\nuptime\npoweroff\n', stats: true });
    // Typed-ahead input is echoed as the UART takes it, so the echo may interleave with
    // output: look for the command's echo, its output and the next command's answer.
    expect(r.stdout).toMatch(/rv32> echo deja-was-here/);
    expect(r.stdout.match(/deja-was-here/g)?.length).toBeGreaterThanOrEqual(2);
    expect(r.stdout).toMatch(/uptime: \d/);
    expect(r.stats?.exit.reason).toBe('poweroff');
  });

  it('--max-insns stops with exit reason limit at exactly that count', () => {
    const r = deja(['run', '--mode', 'boot', '-q', '--max-insns', '5M'], { stats: true });
    expect(r.stats?.exit.reason).toBe('limit');
    expect(r.stats?.icount).toBe(5_000_000);
    expect(r.status).toBe(6);
  });
});
