// Replays side by side: a pool of worker threads (replay-worker.ts), each with the
// recording loaded, running verified replays as diff/replays.ts asks. Threads rather than
// processes: a replay's messages are small (settings out, a verdict back), and a thread
// starts without a new Node. A cancelled replay that is running ends its thread; the next
// replay starts a fresh one.

import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError, ExitCode } from '../errors.js';
import { parseCount } from '../option-values.js';
import type { Recording } from '../record/reader.js';
import { inProcessReplays, type ProbeStop, type Replays, type ReplayTask, type Verdict } from '../diff/replays.js';
import type { SideSettings } from '../diff/settings.js';

export interface PoolRequest {
  id: number;
  settings: string;
  stop?: ProbeStop;
}
export type PoolReply = { id: number; verdict: Verdict } | { id: number; error: { message: string; exitCode?: number } };

const WORKER = fileURLToPath(new URL('./replay-worker.js', import.meta.url));

/** `--jobs N`: at least 1; default the machine's processors. */
export function parseJobs(value: string | undefined): number {
  if (value === undefined) return availableParallelism();
  const n = parseCount(value, '--jobs', 'a number of jobs (example: 4)');
  if (n < 1) throw new UserError('--jobs must be at least 1', ExitCode.Usage);
  return n;
}

/** Replays of `rec` for `jobs` at a time: in this process for 1, else in worker threads. */
export function replayPool(rec: Recording, images: string | undefined, jobs: number): Replays {
  return jobs <= 1 ? inProcessReplays(rec, images) : new WorkerReplays(rec.path, images, jobs);
}

interface Pending {
  id: number;
  s: SideSettings;
  stop?: ProbeStop;
  done: (v: Verdict) => void;
  fail: (e: unknown) => void;
  worker: Worker | null;
}

class WorkerReplays implements Replays {
  private idle: Worker[] = [];
  private live = 0;
  private queue: Pending[] = [];
  private running = new Map<number, Pending>();
  private nextId = 0;

  constructor(
    private file: string,
    private images: string | undefined,
    readonly jobs: number,
  ) {
    // Run from the TypeScript sources (tests), there is no compiled worker to start.
    if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: --jobs above 1 needs the compiled deja (npm run build)`);
  }

  run(s: SideSettings, stop?: ProbeStop): ReplayTask {
    let p!: Pending;
    const result = new Promise<Verdict>((done, fail) => (p = { id: this.nextId++, s, stop, done, fail, worker: null }));
    this.queue.push(p);
    this.pump();
    return { result, cancel: () => this.cancel(p) };
  }

  async close(): Promise<void> {
    this.queue.length = 0;
    const all = [...this.idle, ...[...this.running.values()].map((p) => p.worker!)];
    this.idle = [];
    this.running.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }

  private cancel(p: Pending): void {
    const q = this.queue.indexOf(p);
    if (q >= 0) this.queue.splice(q, 1);
    else if (this.running.get(p.id) === p) {
      this.running.delete(p.id);
      this.live--;
      void p.worker!.terminate();
      this.pump();
    }
  }

  private pump(): void {
    while (this.queue.length && (this.idle.length || this.live < this.jobs)) {
      const p = this.queue.shift()!;
      p.worker = this.idle.pop() ?? this.spawn();
      this.running.set(p.id, p);
      p.worker.postMessage({ id: p.id, settings: p.s.text, stop: p.stop } satisfies PoolRequest);
    }
  }

  private spawn(): Worker {
    this.live++;
    // No execArgv: the parent's (--v8-pool-size) are process-wide options a thread refuses.
    const w = new Worker(WORKER, { workerData: { file: this.file, images: this.images }, execArgv: [] });
    w.on('message', (m: PoolReply) => {
      const p = this.running.get(m.id);
      if (!p) return;
      this.running.delete(m.id);
      this.idle.push(w);
      if ('verdict' in m) p.done(m.verdict);
      else p.fail(m.error.exitCode === undefined ? new Error(`in a replay worker: ${m.error.message}`) : new UserError(m.error.message, m.error.exitCode));
      this.pump();
    });
    w.on('error', (e) => {
      this.live--;
      this.idle = this.idle.filter((x) => x !== w);
      for (const p of [...this.running.values()].filter((x) => x.worker === w)) {
        this.running.delete(p.id);
        p.fail(e);
      }
      this.pump();
    });
    return w;
  }
}
