// zstd through zstd-codec (WebAssembly). Its module loads asynchronously once; after
// `initZstd()` every call here is synchronous.
//
// The module has a fixed 16 MiB heap (it cannot grow), and the package's one-shot calls
// copy a whole input into it: compressing a 2 MiB kernel at level 19, or any image of more
// than a few MiB, aborts the process (OOM). So deja compresses at moderate levels, feeds
// large data through the streaming API in pieces, checks a frame's window before decoding
// it, and decompresses into a buffer that grows up to the size the recording declares and
// no further: a forged size cannot make it allocate without bound.

import { createRequire } from 'node:module';

interface VectorU8 {
  delete(): void;
  resize(n: number, fill: number): void;
}

type Sink = (piece: Uint8Array) => void;

interface Stream {
  transform(data: Uint8Array, sink: Sink): boolean;
  end(sink: Sink): boolean;
  delete(): void;
}

interface Binding {
  ZstdCodec: new () => {
    compressBound(n: number): number;
    compress(dest: VectorU8, src: VectorU8, level: number): number;
  };
  VectorU8: new () => VectorU8;
  cloneToVector(v: VectorU8, data: Uint8Array): void;
  cloneAsTypedArray(v: VectorU8): Uint8Array;
  ZstdCompressStreamBinding: new () => Stream & { begin(level: number): boolean };
  ZstdDecompressStreamBinding: new () => Stream & { begin(): boolean };
}

/**
 * Largest window (history the decoder keeps) accepted: what deja writes uses at most 4 MiB
 * (level 9); a larger one would exhaust the module's heap, which aborts the process.
 */
const MAX_WINDOW = 8 * 1024 * 1024;
/** Inputs up to this size are compressed in one call (the frame then declares its size). */
const ONE_SHOT_MAX = 1024 * 1024;
/** Piece size for streaming compression and decompression. */
const PIECE = 64 * 1024;
/** Highest level used: level 12 and above need more memory per stream than is worth it. */
const MAX_LEVEL = 9;

let binding: Binding | null = null;
let codec: InstanceType<Binding['ZstdCodec']> | null = null;
let loading: Promise<void> | null = null;

export function initZstd(): Promise<void> {
  if (binding) return Promise.resolve();
  loading ??= new Promise((resolve) => {
    const require = createRequire(import.meta.url);
    const factory = require('zstd-codec/lib/zstd-codec-binding-wasm.js') as (m: Record<string, unknown>) => void;
    // print/printErr: an abort inside the module must not write to deja's stderr.
    const module: Record<string, unknown> = { print: () => {}, printErr: () => {} };
    module.onRuntimeInitialized = () => {
      binding = module as unknown as Binding;
      codec = new binding.ZstdCodec();
      resolve();
    };
    factory(module);
  });
  return loading;
}

function ready(): Binding {
  if (!binding) throw new Error('zstd used before initZstd()');
  return binding;
}

function withVector<T>(b: Binding, f: (v: VectorU8) => T): T {
  const v = new b.VectorU8();
  try {
    return f(v);
  } finally {
    v.delete();
  }
}

/** Compresses `data` as one zstd frame. */
export function zstdCompress(data: Uint8Array, level = 6): Uint8Array {
  const b = ready();
  const lvl = Math.max(1, Math.min(MAX_LEVEL, level));
  if (data.length <= ONE_SHOT_MAX) {
    const out = withVector(b, (src) =>
      withVector(b, (dest) => {
        b.cloneToVector(src, data);
        dest.resize(codec!.compressBound(data.length), 0);
        const n = codec!.compress(dest, src, lvl);
        if (n < 0) return null;
        dest.resize(n, 0);
        return b.cloneAsTypedArray(dest);
      }),
    );
    if (!out) throw new Error('zstd compression failed');
    return out;
  }
  const pieces: Uint8Array[] = [];
  let total = 0;
  const sink: Sink = (p) => {
    pieces.push(p.slice());
    total += p.length;
  };
  const s = new b.ZstdCompressStreamBinding();
  try {
    let ok = s.begin(lvl);
    for (let i = 0; ok && i < data.length; i += ONE_SHOT_MAX) ok = s.transform(data.subarray(i, i + ONE_SHOT_MAX), sink);
    if (!ok || !s.end(sink)) throw new Error('zstd compression failed');
  } finally {
    s.delete();
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Decompresses `z`, which must hold exactly `expected` bytes: null if it is corrupt, says
 * another size, or would produce more (decoding stops; nothing beyond `expected` is kept).
 */
export function zstdDecompress(z: Uint8Array, expected: number): Uint8Array | null {
  const b = ready();
  const declared = zstdContentSize(z);
  if (declared === -2 || (declared >= 0 && declared !== expected)) return null;
  const window = zstdWindowSize(z);
  if (window < 0 || window > MAX_WINDOW) return null;
  // The buffer grows with what actually comes out, so a forged size costs nothing.
  let out = new Uint8Array(Math.min(expected, 1 << 20));
  let n = 0;
  let over = false;
  const sink: Sink = (p) => {
    if (over) return;
    if (n + p.length > expected) {
      over = true;
      return;
    }
    if (n + p.length > out.length) {
      const grown = new Uint8Array(Math.min(expected, Math.max(out.length * 2, n + p.length)));
      grown.set(out.subarray(0, n));
      out = grown;
    }
    out.set(p, n);
    n += p.length;
  };
  let s: (Stream & { begin(): boolean }) | null = null;
  try {
    s = new b.ZstdDecompressStreamBinding();
    if (!s.begin()) return null;
    for (let i = 0; i < z.length && !over; i += PIECE) if (!s.transform(z.subarray(i, i + PIECE), sink)) return null;
    if (over || !s.end(sink) || over || n !== expected) return null;
    return out;
  } catch {
    return null;
  } finally {
    s?.delete();
  }
}

/** The window size a zstd frame header declares, or -1 if it is not a zstd frame header. */
export function zstdWindowSize(z: Uint8Array): number {
  if (z.length < 6 || z[0] !== 0x28 || z[1] !== 0xb5 || z[2] !== 0x2f || z[3] !== 0xfd) return -1;
  const fhd = z[4];
  if ((fhd >>> 5) & 1) {
    // Single segment: the window is the content size.
    const size = zstdContentSize(z);
    return size < 0 ? -1 : size;
  }
  const wd = z[5];
  const exp = wd >>> 3;
  const base = 2 ** (10 + exp);
  return base + (base / 8) * (wd & 7);
}

/**
 * The content size a zstd frame header declares, -1 if it declares none (a streamed
 * frame), or -2 if `z` does not start with a zstd frame header.
 */
export function zstdContentSize(z: Uint8Array): number {
  if (z.length < 6 || z[0] !== 0x28 || z[1] !== 0xb5 || z[2] !== 0x2f || z[3] !== 0xfd) return -2;
  const fhd = z[4];
  const fcsFlag = fhd >>> 6;
  const single = (fhd >>> 5) & 1;
  const dictFlag = fhd & 3;
  const p = 5 + (single ? 0 : 1) + [0, 1, 2, 4][dictFlag];
  const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return -1;
  if (p + fcsBytes > z.length) return -2;
  let v = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + z[p + i];
  if (fcsBytes === 2) v += 256;
  return v;
}
