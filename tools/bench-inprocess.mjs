#!/usr/bin/env -S node --v8-pool-size=0
// Boots the reference guest many times in one process, the tiers taking turns, and prints
// the median and fastest run per tier. Process start-up, V8's first compiles and where V8
// happens to place the interpreter's code all vary from one process to the next (on this
// machine a boot's time varies by a few percent between processes running identical
// work); here every tier runs on the same warmed-up V8, so what is left between tiers is
// the work they do. The first round only warms up. Needs `npx tsc` (it loads dist/).
//
// Usage: node tools/bench-inprocess.mjs [--runs N] [--tiers interp,block,trace] [--mode boot]

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const runs = Number(opt('--runs', '10'));
const tiers = opt('--tiers', 'interp,block,trace').split(',');
const mode = opt('--mode', 'boot');
const dist = (m) => import(pathToFileURL(resolve(import.meta.dirname, '..', 'dist', m)).href);
const { Machine } = await dist('machine/machine.js');
const { LivePort } = await dist('record/input-port.js');
const { machineConfig, parseRtc } = await dist('cli/run.js');
const { applyTier, prepareTier } = await dist('cli/tier.js');
const { tierSettings } = await dist('session/tier.js');

const times = Object.fromEntries(tiers.map((t) => [t, []]));
let icount = 0;
for (let round = 0; round <= runs; round++) {
  for (const tier of tiers) {
    const o = { mode, tier, rtc: '2026-01-01T00:00:00Z', quiet: true };
    const settings = tierSettings(o);
    const config = machineConfig(o);
    prepareTier(settings);
    const m = new Machine(config, new LivePort({ pace: false, rtcNanos: parseRtc(o.rtc) }));
    applyTier(m, settings);
    m.consoleSink = () => {};
    const t0 = performance.now();
    while (m.runUntil(Infinity) !== 'exit');
    if (round > 0) times[tier].push((performance.now() - t0) / 1000);
    icount = m.hart.icount;
  }
}
console.log(`${mode}, ${icount} instructions, ${runs} rounds in one process (after one to warm up)`);
for (const tier of tiers) {
  const xs = [...times[tier]].sort((a, b) => a - b);
  console.log(`${tier.padEnd(7)} median ${xs[xs.length >> 1].toFixed(4)} s  fastest ${xs[0].toFixed(4)} s`);
}
