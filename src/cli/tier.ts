// Execution-tier options shared by `run`, `replay` and the debugging commands.

import { setFlagsFromString } from 'node:v8';
import { Command, Option } from 'commander';
import { UserError, ExitCode } from '../errors.js';
import { DEFAULT_JIT, Jit, SAMPLED_FROM, type JitSettings } from '../jit/jit.js';
import { interpreter } from '../cpu/interpreter.js';
import { FAULT_KINDS } from '../jit/faults.js';
import type { Machine } from '../machine/machine.js';
import { parseChoice, parseCount } from './options.js';

export const TIERS = ['interp', 'block', 'trace'] as const;
export type Tier = (typeof TIERS)[number];

export interface TierOptions {
  tier?: string;
  blockThreshold?: string;
  maxBlockInsns?: string;
  blockLimit?: string;
  traceThreshold?: string;
  maxTraceBlocks?: string;
  traceLimit?: string;
  noTraceAt?: string[];
  /** Where commander puts --no-trace-at values (see `collect`). */
  traceAt?: string[] | boolean;
  dumpBlock?: string[];
  dumpTrace?: string[];
  jitFault?: string;
  jitFaultFrom?: string;
}

// commander reads `--no-trace-at` as the negation of `--trace-at` (default true, kept in
// `traceAt`): collect into a list whatever was there.
const collect = (v: string, prev: unknown) => [...(Array.isArray(prev) ? (prev as string[]) : []), v];

export function addTierOptions(cmd: Command, defaultTier: Tier): Command {
  return cmd
    .addOption(new Option('--tier <tier>', 'execution tier: interp, block or trace').default(defaultTier))
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

/** An address like 0x80001234 or 2147487284. */
export function parseAddress(value: string, option: string): number {
  const v = /^0x[0-9a-f]{1,8}$/i.test(value) ? parseInt(value, 16) : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(v) || v > 0xffffffff) throw new UserError(`${option}: '${value}' is not an address (example: 0x80001234)`, ExitCode.Usage);
  return v >>> 0;
}

/** The tier and, for the JIT tiers, their settings. */
export function tierSettings(o: TierOptions): { tier: Tier; jit: JitSettings | null } {
  const tier = parseChoice(o.tier ?? 'interp', '--tier', TIERS);
  const count = (v: string | undefined, name: string, dflt: number) => (v === undefined ? dflt : parseCount(v, name));
  const jit: JitSettings = {
    tier: tier === 'block' ? 'block' : 'trace',
    blockThreshold: count(o.blockThreshold, '--block-threshold', DEFAULT_JIT.blockThreshold),
    maxBlockInsns: count(o.maxBlockInsns, '--max-block-insns', DEFAULT_JIT.maxBlockInsns),
    blockLimit: count(o.blockLimit, '--block-limit', DEFAULT_JIT.blockLimit),
    traceThreshold: count(o.traceThreshold, '--trace-threshold', DEFAULT_JIT.traceThreshold),
    maxTraceBlocks: count(o.maxTraceBlocks, '--max-trace-blocks', DEFAULT_JIT.maxTraceBlocks),
    traceLimit: count(o.traceLimit, '--trace-limit', DEFAULT_JIT.traceLimit),
    noTraceAt: new Set((o.noTraceAt ?? (Array.isArray(o.traceAt) ? o.traceAt : [])).map((v) => parseAddress(v, '--no-trace-at'))),
    dumpBlocks: new Set((o.dumpBlock ?? []).map((v) => parseAddress(v, '--dump-block'))),
    dumpTraces: new Set((o.dumpTrace ?? []).map((v) => (/^0x/i.test(v) ? parseAddress(v, '--dump-trace') : parseCount(v, '--dump-trace', 'a trace id or a head pc (examples: 0, 0x80001234)')))),
    fault: null,
  };
  if (o.jitFault !== undefined) {
    jit.fault = { kind: parseChoice(o.jitFault, '--jit-fault', FAULT_KINDS), from: o.jitFaultFrom === undefined ? 0 : parseCount(o.jitFaultFrom, '--jit-fault-from') };
  } else if (o.jitFaultFrom !== undefined) throw new UserError('--jit-fault-from needs --jit-fault', ExitCode.Usage);
  if (jit.fault && tier === 'interp') throw new UserError('--jit-fault needs --tier block or trace', ExitCode.Usage);
  if (jit.dumpBlocks.size && tier === 'interp') throw new UserError('--dump-block needs --tier block or trace (the interpreter compiles no blocks)', ExitCode.Usage);
  if (jit.dumpTraces.size && tier !== 'trace') throw new UserError('--dump-trace needs --tier trace', ExitCode.Usage);
  if (jit.maxBlockInsns < 1) throw new UserError('--max-block-insns must be at least 1', ExitCode.Usage);
  if (jit.maxTraceBlocks < 1) throw new UserError('--max-trace-blocks must be at least 1', ExitCode.Usage);
  return { tier, jit: tier === 'interp' ? null : jit };
}

/**
 * Makes the tier's interpreter now (training it, after which V8 compiles it in the
 * background), so that the compile overlaps whatever the caller does before applyTier.
 */
export function prepareTier(t: { jit: JitSettings | null }): void {
  setFlagsFromString('--no-turbo-inlining'); // as applyTier: V8 reads it when it compiles
  interpreter(t.jit !== null && t.jit.blockThreshold < SAMPLED_FROM);
}

/** Puts the machine under the chosen tier; returns the JIT (null for the interpreter). */
export function applyTier(machine: Machine, t: { jit: JitSettings | null }, now: () => number = () => 0): Jit | null {
  // V8's inliner, measured per tier (tools/bench.mjs): the interpreter and the trace tier
  // run faster without it (boot 0.74 -> 0.50 s and 0.84 -> 0.70 s; full bench 171 -> 178
  // and 747 -> 858 MIPS): it spends compile time and registers inlining slow-path helpers
  // into the interpreter's loop and the dispatcher. The block tier's direct block-to-block
  // calls gain from it (full bench 582-590 MIPS with, 474-482 without), so it is turned on
  // when the first block is compiled: V8 has optimized the counting interpreter and the
  // dispatcher without it by then (block boot, median of 21: 0.554 s so, 0.564 s with the
  // inliner on from the start). Its budget per optimized function is cut from 920 to 600
  // bytes of bytecode: a block still inlines its successor, and what V8 recompiles later
  // inlines less.
  setFlagsFromString('--no-turbo-inlining');
  if (!t.jit) {
    // Made (and trained) now, as the JIT tiers make theirs: no tier's timed run includes it.
    machine.runFn = interpreter(false, machine.hart);
    return null;
  }
  const jit = new Jit(machine.hart, t.jit);
  if (t.jit.tier === 'block') {
    jit.onFirstCompile = () => {
      setFlagsFromString('--turbo-inlining');
      setFlagsFromString('--max-inlined-bytecode-size-cumulative=600');
    };
  }
  jit.now = now;
  jit.dump = (text) => process.stderr.write(text);
  if (t.jit.fault) process.stderr.write(`deja: *** JIT FAULT INJECTION ON: ${t.jit.fault.kind}, in the first eligible unit from ${t.jit.fault.from} — results are deliberately wrong ***\n`);
  machine.useJit(jit);
  return jit;
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
