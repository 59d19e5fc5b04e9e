// One machine's share of a campaign (`fuzz --shard I/N`, `bisect --threshold-scan ...
// --shard I/N`): the same draws or thresholds as the whole run, of which shard I replays
// every N-th from the I-th. Spreading the shards over machines is left to a scheduler that
// exists (GNU parallel, a CI matrix, a Kubernetes indexed Job); `deja merge-results` joins
// their --json outputs into the report the whole campaign prints.

import { UserError, ExitCode } from '../errors.js';
import type { Recording } from '../record/reader.js';

/** Shard `index` (from 1) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** What a shard's --json carries so that merge-results can check the shards belong together. */
export interface ShardInfo extends Shard {
  /** The recording's identity (sha256 of its header): shards of one campaign replay the same recording. */
  recording: string;
  /** Draws (fuzz) or thresholds (scan) in the whole campaign. */
  planned: number;
}

/** `--shard I/N`, 1 <= I <= N. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count || count > 100000) {
    throw new UserError(`--shard: '${text}' is not I/N with 1 <= I <= N (example: 2/8, the second of eight shards)`, ExitCode.Usage);
  }
  return { index, count };
}

export function shardInfo(rec: Recording, shard: Shard, planned: number): ShardInfo {
  return { index: shard.index, count: shard.count, recording: rec.identity, planned };
}

/** The items a shard takes (all of them without one), with their places in the whole list. */
export function shareOf<T>(items: T[], shard: Shard | undefined): { item: T; at: number }[] {
  return items.map((item, at) => ({ item, at })).filter(({ at }) => !shard || at % shard.count === shard.index - 1);
}
