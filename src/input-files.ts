// Reading input files before a run starts, with one-line errors naming the file.

import { readFileSync, statSync } from 'node:fs';
import { UserError, ExitCode, fileError } from './errors.js';

/** Files larger than this are refused rather than read (images, disks). */
export const MAX_IMAGE_BYTES = 2 * 1024 ** 3;

export function readInput(path: string, what: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UserError(`${path}: ${what} is not a regular file`, ExitCode.BadInput);
    size = st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw fileError(path, `read ${what}`, e);
  }
  if (size > MAX_IMAGE_BYTES) throw new UserError(`${path}: ${what} is ${size} bytes, more than deja accepts`, ExitCode.BadInput);
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw fileError(path, `read ${what}`, e);
  }
}
