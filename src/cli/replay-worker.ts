// A worker thread of a replay pool (replay-pool.ts): loads the recording once, then runs
// each verified replay it is sent and posts the verdict back. Its translation cache lives
// as long as it does, so later replays here reuse units earlier ones compiled.

import { parentPort, workerData } from 'node:worker_threads';
import { setClock } from '../diff/clock.js';
import { plainVerdict, verifyReplay } from '../diff/replays.js';
import { sideSettings } from '../diff/settings.js';
import { UserError } from '../errors.js';
import { loadRecording } from '../session/replay-session.js';
import type { PoolRequest, PoolReply } from './replay-pool.js';

const { file, images } = workerData as { file: string; images?: string };
setClock(() => performance.now());
const rec = loadRecording(file);

parentPort!.on('message', async (m: PoolRequest) => {
  let reply: PoolReply;
  try {
    reply = { id: m.id, verdict: plainVerdict(verifyReplay(await rec, sideSettings(m.settings, '--b'), images, m.stop)) };
  } catch (e) {
    reply = { id: m.id, error: e instanceof UserError ? { message: e.message, exitCode: e.exitCode } : { message: e instanceof Error ? (e.stack ?? e.message) : String(e) } };
  }
  parentPort!.postMessage(reply);
});
