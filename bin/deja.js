#!/usr/bin/env -S node --v8-pool-size=0
// Entry point: the compiled CLI, bundled (npm install / npm ci builds dist/ through
// "prepare": tools/bundle.mjs).
// --v8-pool-size=0 sizes V8's worker pool by the machine's processors (Node's default is 4
// threads): on 2 vCPUs four background compiles at once took the main thread's core, and
// the full bench under the trace tier ran 0.12 s slower (median of 5 paired runs).
// The interpreter's compile starts before the rest of deja loads (src/cli/warm.ts).
const { prewarm } = await import('../dist/cli/warm.bundle.js');
prewarm(process.argv);
const { main } = await import('../dist/cli/main.bundle.js');
main(process.argv);
