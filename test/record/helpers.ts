// Helpers for the recording tests: walking a .deja file's frames, writing a (changed)
// recording back, and classifying what deja makes of a file the way the CLI would.

import { spawn } from 'node:child_process';
import { unpack } from 'msgpackr';
import {
  FRAME_CHUNK, FRAME_HEADER, FRAME_IMAGE, MAGIC, FORMAT_VERSION, RecordingError, encodeChunk, encodeHeader, encodeImage, frame,
  type LogEvent, type RecordingHeader,
} from '../../src/record/format.js';
import { parseRecording, type Recording } from '../../src/record/reader.js';
import { replayRecording } from '../../src/session/replay-session.js';
import { exitCodeFor } from '../../src/cli/run.js';
import { UserError, ExitCode } from '../../src/errors.js';
import { BIN } from '../helpers/cli.js';

export interface FrameInfo {
  /** Offset of the frame's 9-byte header in the file. */
  at: number;
  len: number;
  type: number;
  /** Offset just past the frame. */
  end: number;
}

/** The frames of a well-formed recording. */
export function frames(buf: Uint8Array): FrameInfo[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: FrameInfo[] = [];
  let p = buf.indexOf(10) + 1;
  while (p + 9 <= buf.length) {
    const len = dv.getUint32(p, true);
    out.push({ at: p, len, type: buf[p + 8], end: p + 9 + len });
    p += 9 + len;
  }
  return out;
}

export function headerOf(buf: Uint8Array): RecordingHeader {
  const f = frames(buf)[0];
  return unpack(buf.subarray(f.at + 9, f.end)) as RecordingHeader;
}

/** A recording file from parts: header, embedded images, and one chunk per event list. */
export function encodeRecording(
  header: RecordingHeader,
  images: { role: string; name: string; sha256: string; bytes: Uint8Array }[],
  chunks: LogEvent[][],
  magicLine = `${MAGIC} ${FORMAT_VERSION}\n`,
): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode(magicLine), frame(FRAME_HEADER, encodeHeader(header))];
  for (const img of images) parts.push(frame(FRAME_IMAGE, encodeImage(img, img.bytes)));
  for (const c of chunks) parts.push(frame(FRAME_CHUNK, encodeChunk(c)));
  return Buffer.concat(parts);
}

/** Rewrites a parsed recording with its events changed by `edit` (one chunk per 8 events). */
export function rewrite(rec: Recording, edit: (events: LogEvent[]) => LogEvent[]): Uint8Array {
  const events = edit(rec.events.map((e) => ({ ...e })));
  const chunks: LogEvent[][] = [];
  for (let i = 0; i < events.length; i += 8) chunks.push(events.slice(i, i + 8));
  const images = [...rec.embedded.entries()].map(([sha256, e]) => ({ role: e.role, name: e.name, sha256, bytes: e.bytes }));
  return encodeRecording(rec.header, images, chunks);
}

/** Exit codes the README documents for `deja replay`. */
export const DOCUMENTED_CODES: readonly number[] = [0, 1, 3, 4, 5, 6, 7, 8, 9, 11, 12];

export interface Outcome {
  /** The exit code `deja replay` gives. */
  code: number;
  /** The one-line error, or the first line of a divergence report. */
  message: string;
  stage: 'read' | 'config' | 'replay';
  truncatedAt?: number | null;
  icount?: number;
  checkpoints?: number;
}

/**
 * What `deja replay` makes of `buf`, in-process: any error other than deja's own
 * (RecordingError, UserError) escapes, and so fails the calling test.
 */
export function replayOutcome(buf: Uint8Array, path: string): Outcome {
  let rec: Recording;
  try {
    rec = parseRecording(buf, path);
  } catch (e) {
    if (e instanceof RecordingError) return { code: ExitCode.BadInput, message: e.message, stage: 'read' };
    throw e;
  }
  let r;
  try {
    r = replayRecording(rec, {});
  } catch (e) {
    if (e instanceof UserError) return { code: e.exitCode, message: e.message, stage: 'config' };
    throw e;
  }
  if (r.divergence) return { code: ExitCode.Divergence, message: r.divergence.what, stage: 'replay', icount: r.icount };
  return {
    code: rec.truncated ? ExitCode.BadInput : exitCodeFor(r.exit),
    message: rec.truncated ?? '',
    stage: 'replay',
    truncatedAt: rec.truncatedAt,
    icount: r.icount,
    checkpoints: r.checkpoints,
  };
}

/** A deterministic PRNG (mulberry32, the one `deja fuzz` uses). */
export { prng as rng } from '../../src/diff/fuzz.js';

export interface Spawned {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the deja CLI with piped stdin. `drive` gets a writer and a way to wait for text on
 * stdout; stdin is closed when it returns (unless it killed the process).
 */
export function spawnDeja(
  args: string[],
  drive: (io: { write: (s: string) => void; waitFor: (text: string, timeoutMs?: number) => Promise<void>; kill: (sig: NodeJS.Signals) => void; pid: number }) => Promise<void>,
  env: Record<string, string> = {},
): Promise<Spawned> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.setEncoding('latin1');
  child.stderr.setEncoding('latin1');
  child.stdout.on('data', (d: string) => {
    stdout += d;
    for (const w of [...waiters]) if (stdout.includes(w.text)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr.on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => {});
  const closed = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (status, signal) => res({ status, signal })));
  const io = {
    pid: child.pid!,
    write: (s: string) => void child.stdin.write(s),
    kill: (sig: NodeJS.Signals) => void child.kill(sig),
    waitFor: (text: string, timeoutMs = 120_000) =>
      new Promise<void>((resolve, reject) => {
        if (stdout.includes(text)) return resolve();
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(text)}; stdout so far: ${stdout.slice(-300)}`)), timeoutMs);
        waiters.push({ text, resolve: () => (clearTimeout(t), resolve()) });
      }),
  };
  return (async () => {
    try {
      await drive(io);
    } catch (e) {
      // A failed drive must not leave deja running (a guest waiting for input would wait on).
      child.kill('SIGKILL');
      await closed;
      throw e;
    } finally {
      child.stdin.end();
    }
    const { status, signal } = await closed;
    return { status, signal, stdout, stderr };
  })();
}

/** Lines of stderr that look like a JavaScript stack trace. */
export function stackLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^\s+at .+\(.*:\d+:\d+\)$|^\s+at .+:\d+:\d+$|internal error/.test(l));
}
