#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js and the deja modules it imports) into
// dist/cli/main.bundle.js, which bin/deja.js loads: Node then reads and links a few modules
// instead of about a hundred, which takes about 40 ms off every run's start-up. warm.js is
// a second entry (bin/deja.js loads it first: src/cli/warm.ts); the modules the two share
// sit in chunks, so there is one interpreter for both. Packages from node_modules stay
// imports. The bundle sits beside main.js, so the paths the modules find from their own
// URL (the shipped guest, the report's client files, the replay worker) are the same.

import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/cli/', import.meta.url));
// The last build's bundles and chunks go first (chunk names change with their contents).
for (const f of readdirSync(dist)) if (/^(chunk\.|[a-z-]+\.bundle\.js)/.test(f)) rmSync(join(dist, f));
await build({
  entryPoints: [join(dist, 'main.js'), join(dist, 'warm.js')],
  outdir: dist,
  entryNames: '[name].bundle',
  chunkNames: 'chunk.[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Packages stay imports, but commander (which every command loads) is bundled: Node's
  // CommonJS loader took about 15 ms to load it.
  external: ['msgpackr'],
  sourcemap: true,
  // commander is CommonJS: its require of Node's modules needs a require in the bundle.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  logLevel: 'warning',
});
