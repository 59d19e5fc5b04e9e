// zstd through zstd-codec (WebAssembly). Its module loads asynchronously once; after
// `initZstd()` every call here is synchronous.

import zstdCodec from 'zstd-codec';

interface Simple {
  compress(data: Uint8Array, level?: number): Uint8Array | null;
  decompress(data: Uint8Array): Uint8Array | null;
}

let simple: Simple | null = null;

export function initZstd(): Promise<void> {
  if (simple) return Promise.resolve();
  return new Promise((resolve) => {
    (zstdCodec as { ZstdCodec: { run(cb: (z: { Simple: new () => Simple }) => void): void } }).ZstdCodec.run((z) => {
      simple = new z.Simple();
      resolve();
    });
  });
}

function codec(): Simple {
  if (!simple) throw new Error('zstd used before initZstd()');
  return simple;
}

export function zstdCompress(data: Uint8Array, level = 19): Uint8Array {
  const out = codec().compress(data, level);
  if (!out) throw new Error('zstd compression failed');
  return out;
}

export function zstdDecompress(data: Uint8Array): Uint8Array | null {
  try {
    return codec().decompress(data);
  } catch {
    return null;
  }
}

/**
 * The content size a zstd frame header declares, or -1 if the header is not a zstd frame
 * with a known size. Checked before decompressing, so a forged size cannot make the
 * decompressor allocate without bound.
 */
export function zstdContentSize(z: Uint8Array): number {
  if (z.length < 6 || z[0] !== 0x28 || z[1] !== 0xb5 || z[2] !== 0x2f || z[3] !== 0xfd) return -1;
  const fhd = z[4];
  const fcsFlag = fhd >>> 6;
  const single = (fhd >>> 5) & 1;
  const dictFlag = fhd & 3;
  let p = 5 + (single ? 0 : 1) + [0, 1, 2, 4][dictFlag];
  const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0 || p + fcsBytes > z.length) return -1;
  let v = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) v = v * 256 + z[p + i];
  if (fcsBytes === 2) v += 256;
  return v;
}
