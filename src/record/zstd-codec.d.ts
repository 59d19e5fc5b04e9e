// zstd-codec ships no types; the part deja uses is typed in zstd.ts.
declare module 'zstd-codec';
