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
  /** The guest waits in wfi and nothing can wake it: no interrupt a device or timer could raise is enabled, and no input can arrive. */
  IdleForever: 11,
  /** stdin ended, and the guest then idled without printing for INPUT_ENDED_QUIET_SECONDS of virtual time (it waits for input that cannot come). */
  InputEnded: 12,
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

/** What an errno code means, in words (messages never show the bare code). */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'it already exists',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links in the path',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EBUSY: 'the file is busy',
  ETXTBSY: 'the file is busy',
  EIO: 'an input/output error',
  EFBIG: 'the file is too large',
  EINVAL: 'invalid argument',
};

/** An error from the file system as words ("permission denied"); anything else as its message. */
export function fsErrorWords(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code) return ERRNO_WORDS[code] ?? `error ${code}`;
  return e instanceof Error ? e.message : String(e);
}

/** A one-line user error for a failed file operation: `PATH: cannot ACTION: words`. */
export function fileError(path: string, action: string, e: unknown, exitCode: number = ExitCode.BadInput): UserError {
  return new UserError(`${path}: cannot ${action}: ${fsErrorWords(e)}`, exitCode);
}
