// The host side of the guest console: buffered output, and input from a terminal (raw
// mode, Ctrl-A X quits as in QEMU) or a pipe. Input goes only to the live input port.

import type { LivePort } from '../record/input-port.js';

export class ConsoleOut {
  private buf: number[] = [];
  /** Whether the last byte written to the stream ended a line (a progress line may be drawn there). */
  atLineStart = true;

  /** `beforeWrite` runs before bytes reach the stream (a progress line takes itself away). */
  constructor(
    private readonly stream: NodeJS.WritableStream | null,
    private readonly beforeWrite?: () => void,
  ) {}

  write(b: number): void {
    if (!this.stream) return;
    this.buf.push(b);
    if (this.buf.length >= 4096) this.flush();
  }

  flush(): void {
    if (!this.buf.length || !this.stream) return;
    this.beforeWrite?.();
    this.stream.write(Buffer.from(this.buf));
    this.atLineStart = this.buf[this.buf.length - 1] === 10;
    this.buf = [];
  }
}

const CTRL_A = 0x01;

/** Feeds stdin to the port; `onQuit` runs on Ctrl-A X. Returns a detach function. */
export function attachConsoleInput(port: LivePort, onQuit: () => void): () => void {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  let escape = false;
  const onData = (chunk: Buffer) => {
    if (!tty) return port.pushConsole(chunk);
    const keep: number[] = [];
    for (const b of chunk) {
      if (escape) {
        escape = false;
        if (b === 0x78 || b === 0x58) return onQuit(); // x / X
        if (b === CTRL_A) keep.push(CTRL_A);
        continue;
      }
      if (b === CTRL_A) escape = true;
      else keep.push(b);
    }
    port.pushConsole(keep);
  };
  const onEnd = () => port.closeInput();
  if (tty) stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    if (tty) stdin.setRawMode(false);
    stdin.pause();
  };
}

/**
 * SIGINT and SIGTERM call `onStop` (the run loop then stops the guest between two steps);
 * a second signal kills the process at once. Returns a function that removes the handlers.
 */
export function catchStopSignals(onStop: (signal: NodeJS.Signals) => void): () => void {
  let caught = false;
  const handler = (signal: NodeJS.Signals) => {
    if (caught) {
      release();
      process.kill(process.pid, signal); // no handler now: the default action ends the process
      return;
    }
    caught = true;
    onStop(signal);
  };
  const release = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return release;
}
