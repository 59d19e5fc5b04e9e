#!/usr/bin/env node
// What V8 charges for many small generated functions, as the JIT tiers make them at low
// thresholds: block-sized units (six register operations and an exit code) made in
// batches of 64, as JavaScript through `new Function` (what deja does) and, for
// comparison, as WebAssembly functions (V8's Liftoff), then called cold. Prints the mean
// per unit: making it, its first call, calls 2-11 and calls 12-111.
//
// Usage: node tools/bench-unit-making.mjs [--units N] [--rounds N]

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const UNITS = opt('--units', 4096);
const ROUNDS = opt('--rounds', 3);
const BATCH = 64;

/** The unit `seed`'s six operations: x[rd] = x[rs] + imm. */
function ops(seed) {
  return Array.from({ length: 6 }, (_, j) => ({ rd: 1 + ((seed + j * 7) % 31), rs: 1 + ((seed * 3 + j) % 31), imm: ((seed * 131 + j) % 2000) - 1000 }));
}

function makeJs(seed0, x) {
  const fns = [];
  for (let i = 0; i < UNITS; i += BATCH) {
    const parts = [];
    for (let k = 0; k < BATCH; k++) {
      const seed = seed0 + i + k;
      const body = ops(seed).map((o) => `x[${o.rd}] = (x[${o.rs}] + (${o.imm})) | 0;`).join(' ');
      parts.push(`(function u${seed}(a, b) { ${body} return (a + ${seed & 0xffff}) | 0; })`);
    }
    fns.push(...new Function('x', `return [${parts.join(',\n')}];`)(x));
  }
  return fns;
}

const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n) => {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
};
const section = (id, body) => [id, ...leb(body.length), ...body];
const name = (s) => [...leb(s.length), ...Buffer.from(s)];

/** A module of BATCH functions (i32, i32) -> i32 over an imported memory holding the registers. */
function wasmModule(seed0) {
  const bodies = [];
  const exports = [];
  for (let k = 0; k < BATCH; k++) {
    const seed = seed0 + k;
    const code = [0x00]; // no locals
    for (const o of ops(seed)) code.push(0x41, ...sleb(o.rd * 4), 0x41, ...sleb(o.rs * 4), 0x28, 2, 0, 0x41, ...sleb(o.imm), 0x6a, 0x36, 2, 0);
    code.push(0x20, 0, 0x41, ...sleb(seed & 0xffff), 0x6a, 0x0b);
    bodies.push(...leb(code.length), ...code);
    exports.push(...name(`u${k}`), 0, ...leb(k));
  }
  return new Uint8Array([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f]),
    ...section(2, [1, ...name('m'), ...name('mem'), 2, 0, 1]),
    ...section(3, [...leb(BATCH), ...Array(BATCH).fill(0)]),
    ...section(7, [...leb(BATCH), ...exports]),
    ...section(10, [...leb(BATCH), ...bodies]),
  ]);
}

function makeWasm(seed0, mem) {
  const fns = [];
  for (let i = 0; i < UNITS; i += BATCH) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(wasmModule(seed0 + i)), { m: { mem } });
    for (let k = 0; k < BATCH; k++) fns.push(inst.exports[`u${k}`]);
  }
  return fns;
}

function measure(make) {
  const t0 = performance.now();
  const fns = make();
  const t1 = performance.now();
  let s = 0;
  for (const f of fns) s += f(1, 2);
  const t2 = performance.now();
  for (let r = 0; r < 10; r++) for (const f of fns) s += f(1, 2);
  const t3 = performance.now();
  for (let r = 0; r < 100; r++) for (const f of fns) s += f(1, 2);
  const t4 = performance.now();
  const us = (a, b, calls) => ((b - a) * 1000) / UNITS / calls;
  return { make: us(t0, t1, 1), first: us(t1, t2, 1), next10: us(t2, t3, 10), next100: us(t3, t4, 100), s };
}

const mem = new WebAssembly.Memory({ initial: 1 });
const x = new Int32Array(32);
console.log(`${UNITS} units in batches of ${BATCH}, µs per unit (per call for calls), ${ROUNDS} rounds taking turns`);
console.log('kind   make   first call   calls 2-11   calls 12-111');
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 ? ['wasm', 'js'] : ['js', 'wasm']) {
    const seed = (round * 2 + (kind === 'js' ? 0 : 1)) * 1_000_000;
    const r = measure(() => (kind === 'js' ? makeJs(seed, x) : makeWasm(seed, mem)));
    console.log(`${kind.padEnd(5)} ${r.make.toFixed(1).padStart(5)} ${r.first.toFixed(2).padStart(12)} ${r.next10.toFixed(3).padStart(12)} ${r.next100.toFixed(3).padStart(14)}`);
  }
}
