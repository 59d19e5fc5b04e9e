// Whether saved machine state read from a file (a snapshot's) has the shape of the
// machine's own: the parts restore from plain data they trust, so a forged or mismatched
// state is refused before any of it is put in. The shape is taken from the machine's own
// save() (DESIGN.md I8), so a part added to the board is checked without further edits.

/** Longest list taken where the machine's own state holds an empty one (a FIFO). */
const MAX_LIST = 65536;

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/**
 * Where `value` differs in shape from `like` (what the machine's own save() gives), or null.
 * Records have the same keys; numbers are finite; lists are as long as `like`'s, or, where
 * `like`'s is empty, hold at most MAX_LIST numbers; a null in `like` (a value not yet set)
 * takes null, a number or a string.
 */
export function shapeMismatch(like: unknown, value: unknown, path: string): string | null {
  if (like === null) return value === null || typeof value === 'string' || Number.isFinite(value) ? null : `${path} is not a value`;
  if (typeof like === 'number') return Number.isFinite(value) ? null : `${path} is not a number`;
  if (typeof like === 'boolean' || typeof like === 'string') return typeof value === typeof like ? null : `${path} is not a ${typeof like}`;
  if (Array.isArray(like)) {
    if (!Array.isArray(value)) return `${path} is not a list`;
    if (like.length === 0) return value.length <= MAX_LIST && value.every((v) => Number.isFinite(v)) ? null : `${path} is not a list of numbers`;
    if (value.length !== like.length) return `${path} has ${value.length} entries, not ${like.length}`;
    for (let i = 0; i < like.length; i++) {
      const wrong = shapeMismatch(like[i], value[i], `${path}[${i}]`);
      if (wrong) return wrong;
    }
    return null;
  }
  if (isPlain(like)) {
    if (!isPlain(value)) return `${path} is not a record`;
    for (const k of Object.keys(value)) if (!Object.hasOwn(like, k)) return `${path}.${k} is not part of this machine's state`;
    for (const [k, v] of Object.entries(like)) {
      if (!Object.hasOwn(value, k)) return `${path}.${k} is missing`;
      const wrong = shapeMismatch(v, value[k], `${path}.${k}`);
      if (wrong) return wrong;
    }
    return null;
  }
  // Saved state is plain data; anything else is a part's bug, not the file's.
  throw new Error(`${path}: the machine's own state holds a ${typeof like}`);
}
