// User-facing errors: one line naming the problem and the file, and an exit code from
// the table in the README. Anything else that escapes is a deja bug (exit 70).

export const ExitCode = {
  /** The guest powered off (syscon 0x5555) or an HTIF program passed. */
  Ok: 0,
  /** The guest reported failure (syscon 0x3333, HTIF code != 0). */
  GuestFail: 1,
  /** Bad command line: unknown option, bad option value. */
  Usage: 2,
  /** A missing, unreadable, truncated or unusable input file (image, disk, recording). */
  BadInput: 3,
  /** The guest asked for a reset without a kernel panic. */
  Reset: 4,
  /** The guest kernel panicked. */
  Panic: 5,
  /** --max-insns was reached. */
  Limit: 6,
  /** A replay diverged from its recording. */
  Divergence: 7,
  /** Stopped by the user (Ctrl-A X) or by a signal. */
  Stopped: 8,
  /** The guest is stuck taking traps without retiring an instruction (e.g. an unmapped trap vector). */
  TrapLoop: 9,
  /** diff, bisect, fuzz: nothing diverged, but the check exercised no compiled code (DESIGN.md I10). */
  Vacuous: 10,
  /** Internal error in deja. */
  Internal: 70,
} as const;

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.BadInput,
  ) {
    super(message);
  }
}
