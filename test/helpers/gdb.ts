// Debugging a recording with the real client: `deja replay FILE --gdb 127.0.0.1:0` in a
// child process, and gdb-multiarch in batch mode connected to it. Commands are given one
// by one; `mark(name)` wraps a command so its output can be picked out of gdb's.

import { spawn, spawnSync } from 'node:child_process';
import { BIN, deja } from './cli.js';

/** gdb-multiarch's path, or null if it is not installed (the CI installs it). */
export function gdbPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v gdb-multiarch'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export interface GdbRun {
  /** gdb's stdout and stderr, in order. */
  gdb: string;
  /** deja's stderr. */
  deja: string;
  dejaStatus: number | null;
  /** The output between `echo <<name>>` and `echo <</name>>` for each marked command. */
  marked: Map<string, string[]>;
}

/** Commands that print `<<name>>`, run `cmd`, then print `<</name>>` (see GdbRun.marked). */
export function mark(name: string, cmd: string): string[] {
  return [`echo <<${name}>>\\n`, cmd, `echo <</${name}>>\\n`];
}

export interface Stub {
  port: number;
  /** deja's exit code, once it exits. */
  exited: Promise<number | null>;
  /** deja's stderr so far. */
  stderr(): string;
  kill(): void;
}

/** Starts `deja replay REC --gdb 127.0.0.1:0` and waits until it listens. */
export function startStub(rec: string, dejaArgs: string[]): Promise<Stub> {
  return startDeja(['replay', rec, '-q', '--gdb', '127.0.0.1:0', ...dejaArgs]);
}

/** Starts deja with `args` (which serve gdb on 127.0.0.1:0) and waits until it listens. */
export async function startDeja(args: string[]): Promise<Stub> {
  const stub = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  stub.stderr.setEncoding('utf8');
  // 'close', not 'exit': stderr has been read to its end by then.
  const exited = new Promise<number | null>((resolve) => stub.on('close', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    stub.stderr.on('data', (d: string) => {
      err += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`deja exited before listening: ${err}`)));
  });
  return { port, exited, stderr: () => err, kill: () => stub.kill('SIGKILL') };
}

/** Starts deja's gdb stub on `rec`, runs gdb with `commands` (then kill), and waits for both to end. */
export async function runGdb(rec: string, dejaArgs: string[], commands: string[], o: { file?: string; timeoutMs?: number } = {}): Promise<GdbRun> {
  return gdbOn(await startStub(rec, dejaArgs), commands, o);
}

/** Runs gdb with `commands` (then kill) on a started stub, and waits for both to end. */
export async function gdbOn(stub: Stub, commands: string[], o: { file?: string; timeoutMs?: number } = {}): Promise<GdbRun> {
  const port = stub.port;
  const args = ['-nx', '-batch', '-ex', 'set pagination off', '-ex', 'set confirm off'];
  if (o.file) args.push('-ex', `file ${o.file}`);
  args.push('-ex', `target remote 127.0.0.1:${port}`);
  for (const c of [...commands, 'kill']) args.push('-ex', c);
  // One pipe for both streams, so that what gdb prints stays in order (monitor output and
  // remote debug lines go to stderr).
  const gdb = spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', gdbPath() ?? 'gdb-multiarch', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  gdb.stdout.setEncoding('utf8');
  gdb.stdout.on('data', (d: string) => (out += d));
  const timer = setTimeout(() => gdb.kill('SIGKILL'), o.timeoutMs ?? 240_000);
  await new Promise((resolve) => gdb.on('exit', resolve));
  clearTimeout(timer);
  // The last command kills the target, which ends the stub; one still up after that is a failure.
  const killer = setTimeout(() => stub.kill(), 20_000);
  const dejaStatus = await stub.exited;
  clearTimeout(killer);
  const marked = new Map<string, string[]>();
  for (const m of out.matchAll(/<<([^/>]+)>>\n([\s\S]*?)<<\/\1>>\n/g)) {
    const list = marked.get(m[1]) ?? [];
    list.push(m[2]);
    marked.set(m[1], list);
  }
  return { gdb: out, deja: stub.stderr(), dejaStatus, marked };
}

/** The value `p/x $pc` (or any `p/x`) printed: "$3 = 0x80002094" -> 0x80002094. */
export function printedHex(text: string): number {
  const m = /\$\d+ = (0x[0-9a-f]+)/.exec(text);
  if (!m) throw new Error(`no printed value in: ${text}`);
  return Number(m[1]);
}

/** The icount `monitor icount` printed. */
export function printedIcount(text: string): number {
  const m = /^(\d+)$/m.exec(text);
  if (!m) throw new Error(`no icount in: ${text}`);
  return Number(m[1]);
}

/** The units the session compiled, from deja's last line (`[block tier: 10 blocks, 0 traces compiled; ...]`); null under the interpreter. */
export function compiledUnits(dejaStderr: string): number | null {
  const m = /\[(\w+) tier: (\d+) blocks?, (\d+) traces? compiled/.exec(dejaStderr);
  return m ? Number(m[2]) + Number(m[3]) : null;
}

/**
 * Tier settings for debugging sessions on a short program: the interpreter, and the JIT
 * tiers at thresholds low enough that they compile it (0 and 1, where bugs hide).
 */
export const GDB_TIERS: string[][] = [
  ['--tier', 'interp'],
  ['--tier', 'block', '--block-threshold', '0'],
  ['--tier', 'block', '--block-threshold', '1'],
  ['--tier', 'block', '--block-threshold', '50'],
  ['--tier', 'trace', '--block-threshold', '1', '--trace-threshold', '1'],
  ['--tier', 'trace', '--block-threshold', '1', '--trace-threshold', '10'],
  ['--tier', 'trace', '--block-threshold', '0', '--trace-threshold', '1', '--trace-limit', '1'],
];

/** Replays `rec` with `deja replay` under each tier of `tiers`: it must end as recorded (`status`) with every checkpoint verified. */
export function replaysUnderEveryTier(rec: string, tiers: string[][], status: number): void {
  for (const tier of tiers) {
    const r = deja(['replay', rec, '-q', ...tier]);
    if (r.status !== status || !/as recorded, (\d+) of \1 checkpoints verified/.test(r.stderr)) {
      throw new Error(`${rec} under ${tier.join(' ')}: exit ${r.status}, ${r.stderr.trim()}`);
    }
  }
}
