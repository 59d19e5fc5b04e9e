// Runs the bare-metal guest test programs (test/guest/isa/*.S, built by
// test/guest/build.sh) in-process on a Machine. Shared by the tier suites: the interpreter
// suite runs them as they are; the block and trace suites pass their own `runFn`.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Machine, type ExitStatus } from '../../src/machine/machine.js';
import { LivePort } from '../../src/record/input-port.js';
import type { RunFn } from '../../src/cpu/interpreter.js';

export const GUEST_DIR = resolve(import.meta.dirname, '../guest');
export const ISA_SRC_DIR = join(GUEST_DIR, 'isa');
export const GUEST_BUILD_DIR = join(GUEST_DIR, 'build');

export interface GuestProgram {
  /** The program's name: its source file without `.S`. */
  name: string;
  source: string;
  elf: string;
  /** Console output the program must print, from `NAME.expected` beside the source. */
  expectedOutput: string | null;
}

/**
 * The ISA test programs, one per `test/guest/isa/*.S` (sorted). Read from the sources, so
 * a suite can list its tests before the build has run.
 */
export function isaPrograms(): GuestProgram[] {
  return readdirSync(ISA_SRC_DIR)
    .filter((f) => f.endsWith('.S'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -2);
      const expected = join(ISA_SRC_DIR, `${name}.expected`);
      return {
        name,
        source: join(ISA_SRC_DIR, f),
        elf: join(GUEST_BUILD_DIR, `${name}.elf`),
        expectedOutput: existsSync(expected) ? readFileSync(expected, 'utf8') : null,
      };
    });
}

/** Builds the guest programs that are out of date (test/guest/build.sh); throws its stderr. */
export function buildGuestPrograms(): void {
  try {
    execFileSync('bash', [join(GUEST_DIR, 'build.sh')], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`test/guest/build.sh failed:\n${err.stderr || err.stdout || err.message}`);
  }
}

export interface RunElfOptions {
  /** The execution tier (default: the machine's, the interpreter). */
  runFn?: RunFn;
  /** Stop after this many instructions (default 50 M). */
  maxIcount?: number;
  ramBytes?: number;
  /** Called with the machine before it runs (e.g. to set thresholds or hooks). */
  setup?: (m: Machine) => void;
}

export interface RunElfResult {
  /** How the guest ended; null if it ran out of instructions or idled with nothing due. */
  exit: ExitStatus | null;
  icount: number;
  /** What the guest printed (UART and HTIF console). */
  console: string;
  machine: Machine;
}

/** Runs a bare-metal ELF to its end (HTIF tohost) or to `maxIcount` instructions. */
export function runElf(path: string, opts: RunElfOptions = {}): RunElfResult {
  const machine = new Machine(
    { ramBytes: opts.ramBytes ?? 64 << 20, elf: { name: path, bytes: new Uint8Array(readFileSync(path)) }, append: '', disks: [] },
    new LivePort({ pace: false }),
  );
  if (opts.runFn) machine.runFn = opts.runFn;
  let console = '';
  machine.consoleSink = (b) => {
    console += String.fromCharCode(b);
  };
  opts.setup?.(machine);
  const max = opts.maxIcount ?? 50_000_000;
  // A live port returns after each idle period (wfi) so the host can look at its input;
  // nothing is typed here, so go straight back. 'wait' means a wfi nothing will wake.
  for (let turns = 0; turns < 1_000_000; turns++) {
    const r = machine.runUntil(max);
    if (r !== 'idled') break;
  }
  return { exit: machine.exit, icount: machine.hart.icount, console, machine };
}

/** A one-line account of a run that did not pass, for assertion messages. */
export function describeRun(program: GuestProgram, r: RunElfResult): string {
  const where = `${program.name} (${program.source})`;
  const out = r.console ? `; console: ${JSON.stringify(r.console)}` : '';
  if (!r.exit) return `${where}: did not finish (icount ${r.icount}, pc 0x${(r.machine.hart.pc >>> 0).toString(16)})${out}`;
  if (r.exit.reason === 'fail') return `${where}: failed test ${r.exit.code} (tohost code ${r.exit.code})${out}`;
  return `${where}: ended with ${r.exit.reason} code ${r.exit.code}${out}`;
}
