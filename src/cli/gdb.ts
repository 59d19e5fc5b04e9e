// `deja replay FILE --gdb [HOST:]PORT`: the recording served to gdb-multiarch, forwards and
// backwards, from the snapshots beside it (deja index) when there are some.

import { existsSync } from 'node:fs';
import { UserError, ExitCode } from '../errors.js';
import { Debugger } from '../gdb/debugger.js';
import { formatExercised } from '../diff/exercised.js';
import { catchStopSignals } from './console.js';
import { parseListen, serveGdb } from '../gdb/server.js';
import { loadSnapshots } from '../session/seek.js';
import { loadRecording } from '../session/replay-session.js';
import { tierSettings, type TierOptions } from '../session/tier.js';

export interface GdbOptions extends TierOptions {
  gdb: string;
  images?: string;
  snapshots?: boolean;
  vmlinux?: string;
  symbols?: string;
}

export async function gdbReplayCommand(file: string, o: GdbOptions): Promise<number> {
  const at = parseListen(o.gdb, '--gdb');
  const tiers = tierSettings(o);
  const symbols = o.vmlinux ?? o.symbols;
  if (symbols !== undefined && !existsSync(symbols)) throw new UserError(`${symbols}: no such file (--${o.vmlinux ? 'vmlinux' : 'symbols'})`, ExitCode.BadInput);
  const rec = await loadRecording(file);
  const snaps = loadSnapshots(file, rec, o.snapshots !== false);
  const dbg = new Debugger(rec, tiers, snaps, { images: o.images, now: () => performance.now() });
  const say = (s: string) => process.stderr.write(`deja: ${s}\n`);
  // SIGINT and SIGTERM end the session, as a client's detach does.
  let signalled: string | null = null;
  const release = catchStopSignals((sig) => (signalled ??= sig));
  const end = await serveGdb(dbg, at, (host, port) => {
    const index = snaps ? `${snaps.entries.length} snapshots (${snaps.path})` : `no snapshots: reverse execution replays from the start (deja index ${file} makes them)`;
    say(`gdb stub for ${file} (icount ${dbg.first}..${dbg.last}, tier ${tiers.tier}, ${index}) listening on ${host}:${port}`);
    const load = symbols ? ` -ex 'file ${symbols}'` : '';
    say(`connect with: gdb-multiarch${load} -ex 'target remote ${host.includes(':') ? `[${host}]` : host}:${port}'`);
  }, () => signalled !== null).finally(release);
  // Under a JIT tier the line says what it compiled, nothing included (DESIGN.md I10).
  const compiled = tiers.jit ? ` ${formatExercised(dbg.exercised())}` : '';
  const how = end === 'disconnect' ? 'the client disconnected' : end === 'detach' ? 'detached' : end === 'stopped' ? `stopped by ${signalled}` : 'killed';
  say(`gdb session ended (${how}) at icount ${dbg.icount}${compiled}`);
  return end === 'stopped' ? ExitCode.Stopped : ExitCode.Ok;
}
