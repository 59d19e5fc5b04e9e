// The one port through which host values reach the guest (DESIGN.md I3). Devices and the
// machine loop ask it; in a live run it answers from the host, a recorder logs what it
// answered, and a replayer answers from the log. Nothing else in src/ reads the host.

export type InputEvent =
  | { kind: 'uart-rx'; icount: number; byte: number }
  | { kind: 'rtc'; icount: number; nanos: number }
  | { kind: 'idle'; icount: number; ticks: number };

export type InputKind = InputEvent['kind'];

/**
 * What the port answers for an idle hart: a jump in ticks, "wait for the host", or "never":
 * no input can reach the guest any more and it waits for one (the run ends; the end record
 * says so, and a replay's port answers "never" there too).
 */
export type IdleAnswer = number | 'wait' | 'never';

/** Once stdin has ended: virtual seconds a guest may idle without printing before the run ends. */
export const INPUT_ENDED_QUIET_SECONDS = 60;
const INPUT_ENDED_QUIET_TICKS = INPUT_ENDED_QUIET_SECONDS * 10_000_000;

export interface InputPort {
  /** A live port: the machine returns to the host after idling so input can arrive. */
  readonly live: boolean;
  /** The icount at which the next console byte is due (replay), or Infinity if unknown. */
  nextPushIcount(): number;
  /** Console bytes to deliver now, at most `room` of them. */
  takeConsoleInput(icount: number, room: number): number[];
  /** Wall-clock time for the RTC, nanoseconds since the Unix epoch. */
  rtcNanos(icount: number): number;
  /**
   * The hart idles in wfi at `icount`; `untilDeadline` ticks remain to the next timer
   * deadline (Infinity if none). Returns how many ticks virtual time jumps, 'wait', or
   * 'never' (see IdleAnswer).
   */
  idle(icount: number, untilDeadline: number): IdleAnswer;
  /** True once a live port's host side is closed (stdin EOF) and its queue is empty. */
  inputClosed(): boolean;
}

export interface LiveOptions {
  /** Pace virtual time to the wall clock while idle (a guest `sleep 1` takes a second). */
  pace: boolean;
  /** Fixed RTC value instead of the host clock (nanoseconds since the epoch). */
  rtcNanos?: number;
}

/** Live: answers from the host. The CLI feeds console bytes in. */
export class LivePort implements InputPort {
  readonly live = true;
  private readonly queue: number[] = [];
  private closed = false;
  private blocked = false;
  private idleSince = -1;
  /** Idle ticks granted since stdin ended and the guest last printed. */
  private quietTicks = 0;

  constructor(private readonly opts: LiveOptions) {}

  /** The guest printed: it is not (yet) just waiting for input that cannot come. */
  noteOutput(): void {
    this.quietTicks = 0;
  }

  pushConsole(bytes: Uint8Array | number[]): void {
    for (const b of bytes) this.queue.push(b & 255);
  }

  closeInput(): void {
    this.closed = true;
  }

  hasPendingInput(): boolean {
    return this.queue.length > 0;
  }

  nextPushIcount(): number {
    return Infinity;
  }

  takeConsoleInput(_icount: number, room: number): number[] {
    // A paced idle wait is on: how long it lasted is answered (and logged) by idle() first,
    // and the bytes follow at the next boundary; taken now, they would wake the guest with
    // the wall-clock wait lost.
    if (this.idleSince >= 0) return [];
    const bytes = room > 0 && this.queue.length > 0 ? this.queue.splice(0, room) : [];
    // Bytes left over could not be delivered (UART FIFO full, or receive not enabled).
    this.blocked = this.queue.length > 0;
    return bytes;
  }

  rtcNanos(): number {
    return this.opts.rtcNanos ?? Date.now() * 1e6;
  }

  idle(_icount: number, untilDeadline: number): IdleAnswer {
    // Input waiting to be delivered ends the idle period at once; input the UART cannot
    // take (blocked) does not, or a guest idling with a full FIFO would never see time pass.
    if (this.queue.length > 0 && !this.blocked) return this.finishIdle(0);
    // stdin has ended and every byte is in: input can no longer wake the guest. With no
    // timer to wait for, nothing can; with timers, a guest that only idles and stays
    // silent this long is taken to be waiting for input (a shell at its prompt).
    const ended = this.inputClosed();
    if (ended && (untilDeadline === Infinity || this.quietTicks >= INPUT_ENDED_QUIET_TICKS)) return 'never';
    if (!this.opts.pace) {
      if (untilDeadline === Infinity) return 'wait';
      if (ended) this.quietTicks += untilDeadline;
      return untilDeadline;
    }
    const now = performance.now();
    if (this.idleSince < 0) this.idleSince = now;
    const elapsedTicks = Math.floor((now - this.idleSince) * 10_000);
    if (elapsedTicks >= untilDeadline) {
      const ticks = this.finishIdle(untilDeadline);
      if (ended) this.quietTicks += ticks;
      return ticks;
    }
    return 'wait';
  }

  private finishIdle(ticks: number): number {
    const t = this.opts.pace && this.idleSince >= 0 ? Math.max(ticks, Math.floor((performance.now() - this.idleSince) * 10_000)) : ticks;
    this.idleSince = -1;
    return t;
  }

  inputClosed(): boolean {
    return this.closed && this.queue.length === 0;
  }
}
