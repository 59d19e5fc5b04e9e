// Parsing of option values: one-line errors with exit code 2 (usage).

import { UserError, ExitCode } from './errors.js';

const SCALE: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/**
 * A count like 1000, 1_000_000, 40M or 4G (decimal suffixes). `what` names what the option
 * expects, for the message.
 */
export function parseCount(value: string, option: string, what = 'a count (examples: 1000000, 40M, 4G)'): number {
  const m = /^(\d[\d_]*)([kmg]?)$/i.exec(value.trim());
  if (!m) throw new UserError(`${option}: '${value}' is not ${what}`, ExitCode.Usage);
  const n = Number(m[1].replace(/_/g, '')) * SCALE[m[2].toLowerCase()];
  if (!Number.isSafeInteger(n)) throw new UserError(`${option}: '${value}' is too large`, ExitCode.Usage);
  return n;
}

/** Instructions between two things a run takes (checkpoints, snapshots): a count of at least 1. */
export function parseEvery(value: string, option: string): number {
  const n = parseCount(value, option);
  if (n < 1) throw new UserError(`${option} must be at least 1`, ExitCode.Usage);
  return n;
}

/** A memory size like 128M, 64MiB, 1G or a byte count (binary suffixes). */
export function parseSize(value: string, option: string): number {
  const m = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(value.trim());
  if (!m) throw new UserError(`${option}: '${value}' is not a size (examples: 128M, 256MiB, 1G)`, ExitCode.Usage);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()]!;
  return Number(m[1]) * unit;
}

export function parseRam(value: string): number {
  const n = parseSize(value, '--ram');
  if (n < 16 * 1024 ** 2 || n > 2 * 1024 ** 3 - 4096 || n % 4096 !== 0) {
    throw new UserError(`--ram: '${value}' must be a multiple of 4 KiB between 16M and 2047M`, ExitCode.Usage);
  }
  return n;
}

export function parseChoice<T extends string>(value: string, option: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UserError(`${option}: '${value}' is not one of ${choices.join(', ')}`, ExitCode.Usage);
  }
  return value as T;
}
