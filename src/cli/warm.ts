// What a run can start before the command line is loaded: bin/deja.js calls `prewarm` first,
// so that V8 compiles the interpreter (in the background, after its training) while Node
// reads the rest of deja and the command sets the machine up, instead of the run waiting
// for that compile when it attaches its tier (prepareTier, interpreter.ts). Only `run` and
// `replay` at the default thresholds without gdb need that variant (the plain one); others
// make their own when they need it.

import { setFlagsFromString } from 'node:v8';
import { interpreter } from '../cpu/interpreter.js';

/** Makes and trains the plain interpreter now when `argv` is a command that will run it. */
export function prewarm(argv: string[]): void {
  if (argv[2] !== 'run' && argv[2] !== 'replay') return;
  // (The plain variant is the one the default thresholds run, DEFAULT_JIT's, which heat.ts
  // samples; a threshold given, gdb or help go their own way.)
  const own = (a: string) => /^(--(block-threshold|trace-threshold|gdb)(=|$)|-h$|--help$)/.test(a);
  if (argv.some(own)) return;
  setFlagsFromString('--no-turbo-inlining'); // as prepareTier: V8 reads it when it compiles
  interpreter(false);
}
