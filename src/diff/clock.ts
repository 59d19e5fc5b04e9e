// The host clock, for the timings diff, bisect and fuzz report about themselves. Only the
// CLI sets it (DESIGN.md I3: nothing under src/ but the input port and the CLI reads host
// time); left unset it reads 0, and the reported seconds are 0.

let clock: () => number = () => 0;

/** Milliseconds from the host clock the CLI installed. */
export function now(): number {
  return clock();
}

export function setClock(c: () => number): void {
  clock = c;
}
