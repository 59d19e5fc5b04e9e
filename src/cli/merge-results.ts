// `deja merge-results A.json B.json ...`: the shards of a fuzz campaign or a threshold scan
// joined into the report the whole run prints, and its exit code.

import { readFileSync } from 'node:fs';
import { UserError, ExitCode, fileError } from '../errors.js';
import { mergeShards, type ShardFile } from '../diff/merge.js';
import { printFuzz } from './fuzz.js';
import { printScan } from './bisect.js';
import { verdictCode } from './diff.js';

export interface MergeOptions {
  json?: boolean;
  code?: boolean;
}

/** Shard outputs are at most this large (a diff's generated code is the bulk of one). */
const MAX_SHARD_BYTES = 256 * 1024 * 1024;

function readShard(file: string): ShardFile {
  let text: string;
  try {
    const buf = readFileSync(file);
    if (buf.length > MAX_SHARD_BYTES) throw new UserError(`${file}: ${buf.length} bytes is larger than a shard's output`, ExitCode.BadInput);
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw fileError(file, 'read it', e);
  }
  try {
    return { file, json: JSON.parse(text) };
  } catch {
    throw new UserError(`${file}: not JSON (give the --json output of each shard)`, ExitCode.BadInput);
  }
}

export async function mergeResultsCommand(files: string[], o: MergeOptions): Promise<number> {
  const m = mergeShards(files.map(readShard));
  const p = (s: string) => process.stdout.write(s + '\n');
  if (m.kind === 'fuzz') {
    printFuzz(m.result, { ...o, file: m.file }, p);
    return verdictCode(m.result.failing.length > 0, m.result.vacuous);
  }
  printScan(m.result, { ...o, file: m.file, settings: m.settings }, p);
  return verdictCode(m.result.rows.some((x) => x.diverged), m.result.vacuous);
}
