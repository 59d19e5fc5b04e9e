// Execution-tier settings (what `--tier` and the JIT options, or diff's `key=value` sides,
// ask for) and the one place a machine is put under its tier.

import { UserError, ExitCode } from '../errors.js';
import { DEFAULT_JIT, Jit, type JitSettings } from '../jit/jit.js';
import type { TranslationCache } from '../jit/translation-cache.js';
import { interpreter } from '../cpu/interpreter.js';
import { FAULT_KINDS } from '../jit/faults.js';
import type { Machine } from '../machine/machine.js';
import { parseChoice, parseCount } from '../option-values.js';

export const TIERS = ['interp', 'block', 'trace'] as const;
export type Tier = (typeof TIERS)[number];

/** The tier options as given (strings, as the command line has them). */
export interface TierOptions {
  tier?: string;
  blockThreshold?: string;
  maxBlockInsns?: string;
  blockLimit?: string;
  traceThreshold?: string;
  maxTraceBlocks?: string;
  traceLimit?: string;
  noTraceAt?: string[];
  /** Where commander puts --no-trace-at values (see cli/tier.ts, `collect`). */
  traceAt?: string[] | boolean;
  dumpBlock?: string[];
  dumpTrace?: string[];
  jitFault?: string;
  jitFaultFrom?: string;
}

/** The tier and, for the JIT tiers, their checked settings. */
export interface TierSettings {
  tier: Tier;
  jit: JitSettings | null;
}

export const INTERP: TierSettings = { tier: 'interp', jit: null };

/** An address like 0x80001234 or 2147487284. */
export function parseAddress(value: string, option: string): number {
  const v = /^0x[0-9a-f]{1,8}$/i.test(value) ? parseInt(value, 16) : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(v) || v > 0xffffffff) throw new UserError(`${option}: '${value}' is not an address (example: 0x80001234)`, ExitCode.Usage);
  return v >>> 0;
}

/** The JIT's settings, with their option names. */
const JIT_OPTIONS: [keyof TierOptions, string][] = [
  ['blockThreshold', '--block-threshold'], ['maxBlockInsns', '--max-block-insns'], ['blockLimit', '--block-limit'],
  ['traceThreshold', '--trace-threshold'], ['maxTraceBlocks', '--max-trace-blocks'], ['traceLimit', '--trace-limit'],
];

let noteSink: (line: string) => void = () => {};
const noted = new Set<string>();

/** Where notes about settings go (the CLI: stderr), each said once. */
export function onTierNote(f: (line: string) => void): void {
  noteSink = f;
}

function tierNote(line: string): void {
  if (noted.has(line)) return;
  noted.add(line);
  noteSink(line);
}

/** The trace tier's own settings, with their option names (--no-trace-at too: noTraceAt, traceAt). */
const TRACE_OPTIONS = JIT_OPTIONS.filter(([key]) => /^(trace|maxTrace)/.test(key));

/** The options only the trace tier reads (a block-tier fuzz draw leaves them out). */
export const TRACE_ONLY_KEYS: (keyof TierOptions)[] = [...TRACE_OPTIONS.map(([key]) => key), 'noTraceAt', 'traceAt'];

/** Checks the options (one-line errors naming the option, exit code 2). */
export function tierSettings(o: TierOptions, defaultTier: Tier = 'interp'): TierSettings {
  const tier = parseChoice(o.tier ?? defaultTier, '--tier', TIERS);
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
  // A setting the tier would ignore is never dropped silently. Without --tier (the
  // interpreter by default) it is refused: the user meant a JIT tier. With a tier named, it
  // is noted and runs (a script may sweep tiers with one set of thresholds).
  const ignored = tier === 'interp' ? JIT_OPTIONS : tier === 'block' ? TRACE_OPTIONS : [];
  const given = ignored.find(([key]) => o[key] !== undefined)?.[1] ?? (tier !== 'trace' && jit.noTraceAt.size ? '--no-trace-at' : null);
  if (given) {
    const why = tier === 'interp' ? 'the interpreter compiles nothing' : 'the block tier forms no traces';
    if (o.tier === undefined) throw new UserError(`${given} needs --tier ${tier === 'interp' ? 'block or trace' : 'trace'} (${why})`, ExitCode.Usage);
    tierNote(`${given} has no effect under --tier ${tier} (${why})`);
  }
  if (jit.fault && tier === 'interp') throw new UserError('--jit-fault needs --tier block or trace', ExitCode.Usage);
  if (jit.dumpBlocks.size && tier === 'interp') throw new UserError('--dump-block needs --tier block or trace (the interpreter compiles no blocks)', ExitCode.Usage);
  if (jit.dumpTraces.size && tier !== 'trace') throw new UserError('--dump-trace needs --tier trace', ExitCode.Usage);
  if (jit.maxBlockInsns < 1) throw new UserError('--max-block-insns must be at least 1', ExitCode.Usage);
  if (jit.maxTraceBlocks < 1) throw new UserError('--max-trace-blocks must be at least 1', ExitCode.Usage);
  return { tier, jit: tier === 'interp' ? null : jit };
}

export interface AttachOptions {
  /** Translations made earlier in this process (replays of one recording share them). */
  translations?: TranslationCache;
  /** Host clock for the JIT's compile-time statistics only (never guest-visible; DESIGN.md I3). */
  now?: () => number;
  /** Where --dump-block and --dump-trace listings go. */
  dump?: (text: string) => void;
}

/** Puts the machine under its tier; returns the JIT (null for the interpreter). */
export function attachTier(machine: Machine, t: TierSettings, o: AttachOptions = {}): Jit | null {
  if (!t.jit) {
    // Made (and trained) now, as the JIT tiers make theirs: no tier's timed run includes it.
    machine.runFn = interpreter(false, machine.hart);
    return null;
  }
  const jit = new Jit(machine.hart, t.jit, o.translations);
  if (o.now) jit.now = o.now;
  if (o.dump) jit.dump = o.dump;
  machine.useJit(jit);
  return jit;
}
