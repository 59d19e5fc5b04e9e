#!/usr/bin/env node
// Reverse execution figures on a recording with an index (README, "Debugging a panic
// backwards"): reverse-stepi at positions just short of a snapshot (the most a reverse
// step replays), and reverse-continue to a watched address's last write before a position.
//
//   node tools/bench-gdb.mjs FILE --watch VA --from N [--tier T] [--steps-at N,N,...]
//
// Uses the compiled dist/ (npm run build). Prints one line per measurement.

import { parseArgs } from 'node:util';
import { Debugger } from '../dist/gdb/debugger.js';
import { loadRecording } from '../dist/session/replay-session.js';
import { loadSnapshots } from '../dist/session/seek.js';
import { tierSettings } from '../dist/session/tier.js';
import { WATCH_WRITE } from '../dist/cpu/debug-stops.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { watch: { type: 'string' }, from: { type: 'string' }, tier: { type: 'string', default: 'interp' }, 'steps-at': { type: 'string' } },
});
const file = positionals[0];
if (!file || !values.watch || !values.from) {
  console.error('usage: node tools/bench-gdb.mjs FILE --watch VA --from N [--tier T] [--steps-at N,N,...]');
  process.exit(2);
}
const rec = await loadRecording(file);
const snaps = loadSnapshots(file, rec, true);
if (!snaps) {
  console.error(`${file}: no snapshots beside it (deja index ${file})`);
  process.exit(3);
}
const dbg = new Debugger(rec, tierSettings({ tier: values.tier }), snaps, { now: () => performance.now() });
const ctl = { interrupted: () => false };
const time = async (f) => {
  const t0 = performance.now();
  const r = await f();
  return { r, s: (performance.now() - t0) / 1000 };
};
const stepsAt = (values['steps-at'] ?? '').split(',').filter(Boolean).map(Number);
for (const n of stepsAt) {
  dbg.seek(n);
  const { s } = await time(() => dbg.reverseStep());
  console.log(`reverse-stepi at icount ${n}: ${s.toFixed(2)} s (now at ${dbg.icount})`);
}
const from = Number(values.from);
dbg.seek(from);
dbg.stops.setWatchpoint({ addr: Number(values.watch), len: 4, kind: WATCH_WRITE }, true);
const { r, s } = await time(() => dbg.reverseContinue(ctl));
console.log(`reverse-continue from icount ${from} to the last write of ${values.watch}: ${s.toFixed(2)} s, stopped at icount ${dbg.icount} (${from - dbg.icount} instructions back, ${r.kind}), tier ${values.tier}`);
