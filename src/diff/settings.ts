// Tier settings as one string, for `deja diff --a/--b`, `bisect`, `fuzz`: comma-separated
// key=value pairs whose keys are the tier options' CLI names without dashes
// ("tier=trace,trace-threshold=1,jit-fault=wrong-imm"). Parsed into the same TierOptions
// the CLI options give, and checked by the same `tierSettings`.

import { UserError, ExitCode } from '../errors.js';
import { tierSettings, type TierOptions, type TierSettings } from '../session/tier.js';

/** What `diff`, `bisect` and `fuzz` compare when --a and --b are not given. */
export const DEFAULT_A = 'tier=interp';
export const DEFAULT_B = 'tier=trace,trace-threshold=1';

type Key = keyof TierOptions;

/** CLI name (without dashes) -> TierOptions field; the list ones may repeat. */
const KEYS: Record<string, Key> = {
  tier: 'tier',
  'block-threshold': 'blockThreshold',
  'max-block-insns': 'maxBlockInsns',
  'block-limit': 'blockLimit',
  'trace-threshold': 'traceThreshold',
  'max-trace-blocks': 'maxTraceBlocks',
  'trace-limit': 'traceLimit',
  'no-trace-at': 'noTraceAt',
  'dump-block': 'dumpBlock',
  'dump-trace': 'dumpTrace',
  'jit-fault': 'jitFault',
  'jit-fault-from': 'jitFaultFrom',
};
const LISTS = new Set<Key>(['noTraceAt', 'dumpBlock', 'dumpTrace']);

/** One side of a comparison: the text it was given, its options and the checked settings. */
export interface SideSettings extends TierSettings {
  text: string;
  opts: TierOptions;
}

/** Parses "key=value,key=value" (option names as on the command line, without dashes). */
export function parseSettingsText(text: string, option: string): TierOptions {
  const o: TierOptions = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().replace(/^--/, '');
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    const key = KEYS[name];
    if (!key) throw new UserError(`${option}: unknown setting '${name}' in '${text}' (known: ${Object.keys(KEYS).join(', ')})`, ExitCode.Usage);
    if (value === '') throw new UserError(`${option}: setting '${name}' needs a value (${name}=...)`, ExitCode.Usage);
    if (LISTS.has(key)) ((o[key] as string[] | undefined) ??= []).push(value);
    else (o as Record<string, string>)[key] = value;
  }
  return o;
}

/** The options as a settings string (the inverse of parseSettingsText). */
export function formatSettings(o: TierOptions): string {
  const parts: string[] = [];
  for (const [name, key] of Object.entries(KEYS)) {
    const v = o[key];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const e of v) parts.push(`${name}=${e}`);
    else parts.push(`${name}=${v}`);
  }
  return parts.join(',');
}

/** Parses and checks one side's settings (errors name the option, exit code 2). */
export function sideSettings(text: string, option: string): SideSettings {
  const opts = parseSettingsText(text, option);
  let t: TierSettings;
  try {
    t = tierSettings(opts);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${option} '${text}': ${e.message}`, e.exitCode);
    throw e;
  }
  return { text: formatSettings(opts) || 'tier=interp', opts, tier: t.tier, jit: t.jit };
}

/** The same side with some options replaced (bisect's limits, fuzz's draws). */
export function withOptions(s: SideSettings, extra: TierOptions, option = '--b'): SideSettings {
  return sideSettings(formatSettings({ ...s.opts, ...extra }), option);
}
