// Execution-tier options shared by `run`, `replay` and the debugging commands.

import { setFlagsFromString } from 'node:v8';
import { Command, Option } from 'commander';
import { DEFAULT_JIT, SAMPLED_FROM, type Jit, type JitSettings } from '../jit/jit.js';
import { interpreter } from '../cpu/interpreter.js';
import { FAULT_KINDS } from '../jit/faults.js';
import type { Machine } from '../machine/machine.js';
import { attachTier, type Tier, type TierSettings } from '../session/tier.js';

// commander reads `--no-trace-at` as the negation of `--trace-at` (default true, kept in
// `traceAt`): collect into a list whatever was there.
const collect = (v: string, prev: unknown) => [...(Array.isArray(prev) ? (prev as string[]) : []), v];

export function addTierOptions(cmd: Command, defaultTier: Tier): Command {
  return cmd
    // (The default is tierSettings', not commander's: a JIT setting without --tier is refused.)
    .addOption(new Option('--tier <tier>', `execution tier: interp, block or trace (default: "${defaultTier}")`))
    .option('--block-threshold <n>', `executions before a block is translated (0: at once; from ${SAMPLED_FROM} up, estimated by sampling the interpreter; default ${DEFAULT_JIT.blockThreshold})`)
    .option('--max-block-insns <n>', `longest block in instructions (default ${DEFAULT_JIT.maxBlockInsns})`)
    .option('--block-limit <n>', 'translate only the first N blocks, in their deterministic order')
    .option('--trace-threshold <n>', `executions of a loop head before a trace starts there, whatever --block-threshold is (under --tier trace blocks compile at the lower of the two; default ${DEFAULT_JIT.traceThreshold})`)
    .option('--max-trace-blocks <n>', `longest trace in blocks (default ${DEFAULT_JIT.maxTraceBlocks})`)
    .option('--trace-limit <n>', 'compile only the first N traces, in their deterministic order')
    .option('--no-trace-at <pc>', 'form no trace headed at this pc (repeatable)', collect)
    .option('--dump-block <pc>', 'print the guest code and generated code of blocks at this pc (repeatable)', collect)
    .option('--dump-trace <id|pc>', 'print a trace (by id, or by head pc as 0x...) when compiled (repeatable)', collect)
    .option('--jit-fault <kind>', `inject a deliberate JIT bug, for testing diff and bisect: ${FAULT_KINDS.join(', ')}`)
    .option('--jit-fault-from <n>', 'the first unit (block compile index or trace id) the fault may land in (default 0)');
}

/**
 * Makes the tier's interpreter now (training it, after which V8 compiles it in the
 * background), so that the compile overlaps whatever the caller does before it attaches
 * the tier.
 */
export function prepareTier(t: { jit: JitSettings | null }): void {
  setFlagsFromString('--no-turbo-inlining'); // V8 reads it when it compiles (see tuneJit)
  interpreter(t.jit !== null && t.jit.blockThreshold < SAMPLED_FROM);
}

/** Puts a live machine under the chosen tier, tuned for the host (tuneJit). */
export function applyTier(machine: Machine, t: TierSettings, now: () => number = () => 0): Jit | null {
  setFlagsFromString('--no-turbo-inlining'); // before attachTier makes the interpreter: see tuneJit
  const jit = attachTier(machine, t, { now, dump: (text) => process.stderr.write(text) });
  tuneJit(t, jit);
  return jit;
}

/**
 * What the command line adds to an attached JIT: V8's inliner for its tier, and the
 * warning that a fault is injected.
 *
 * V8's inliner, measured per tier (tools/bench.mjs): the interpreter and the trace tier
 * run faster without it (boot 0.74 -> 0.50 s and 0.84 -> 0.70 s; full bench 171 -> 178
 * and 747 -> 858 MIPS): it spends compile time and registers inlining slow-path helpers
 * into the interpreter's loop and the dispatcher. So it is off (`--no-turbo-inlining`,
 * set by prepareTier and applyTier before the interpreter is made). The block tier's
 * direct block-to-block calls gain from it (full bench 582-590 MIPS with, 474-482
 * without), so it is turned on when the first block is compiled: V8 has optimized the
 * counting interpreter and the dispatcher without it by then (block boot, median of 21:
 * 0.554 s so, 0.564 s with the inliner on from the start). Its budget per optimized
 * function is cut from 920 to 600 bytes of bytecode: a block still inlines its successor,
 * and what V8 recompiles later inlines less.
 */
export function tuneJit(t: TierSettings, jit: Jit | null): void {
  if (!t.jit || !jit) return;
  if (t.jit.tier === 'block') {
    jit.onFirstCompile = () => {
      setFlagsFromString('--turbo-inlining');
      setFlagsFromString('--max-inlined-bytecode-size-cumulative=600');
    };
  }
  if (t.jit.fault) process.stderr.write(`deja: *** JIT FAULT INJECTION ON: ${t.jit.fault.kind}, in the first eligible unit from ${t.jit.fault.from} — results are deliberately wrong ***\n`);
}

/** At exit: one line for each --dump-block or --dump-trace that matched no compiled unit. */
export function reportDumps(t: { jit: JitSettings | null }, jit: Jit | null): void {
  if (!t.jit || !jit) return;
  const hex = (v: number) => `0x${v.toString(16)}`;
  for (const pc of t.jit.dumpBlocks) {
    if (!jit.blocks.some((b) => b.vpc === pc)) process.stderr.write(`deja: --dump-block ${hex(pc)}: no block was compiled at that pc (${jit.blocks.length} blocks compiled; a block is compiled once it has run --block-threshold times, ${t.jit.blockThreshold} here)\n`);
  }
  for (const v of t.jit.dumpTraces) {
    if (!jit.traces.some((x) => x.id === v || x.head.vpc === v)) {
      process.stderr.write(`deja: --dump-trace ${v > 0xffff ? hex(v) : v}: no such trace was formed (${jit.traces.length} traces formed)\n`);
    }
  }
}

/** What --stats-json reports about the tier. */
export function tierStats(tier: Tier, jit: Jit | null, icount: number): Record<string, unknown> {
  if (!jit) return { tier, insns: { interp: icount, block: 0, trace: 0 } };
  const s = jit.finalStats();
  return { tier, settings: settingsForJson(jit.settings), jit: { ...s, faultSite: jit.faultSite }, insns: s.insns };
}

export function settingsForJson(s: JitSettings): Record<string, unknown> {
  return {
    ...s,
    blockLimit: Number.isFinite(s.blockLimit) ? s.blockLimit : null,
    traceLimit: Number.isFinite(s.traceLimit) ? s.traceLimit : null,
    noTraceAt: [...s.noTraceAt],
    dumpBlocks: [...s.dumpBlocks],
    dumpTraces: [...s.dumpTraces],
  };
}
