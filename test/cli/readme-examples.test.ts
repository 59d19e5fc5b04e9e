// SLOW (one to three minutes on 2 cores: every example replays the Linux boot, some of them
// many times). The README's examples for diff, bisect and fuzz, run as written on the boot
// recording the same code block makes: each must have compiled units (DESIGN.md I10) — an
// example that checks nothing teaches nothing. The commands are read from the first code
// block of README.md's section "Debugging the JIT: diff, bisect, fuzz" (and the --html ones
// of the section on pages), so this test follows the README as it changes.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, deja, tmp } from '../helpers/cli.js';
import type { Exercised } from '../../src/diff/exercised.js';

const SECTION = '## Debugging the JIT: diff, bisect, fuzz';
/** The section whose examples write those commands' results as pages (--html). */
const PAGES = '## Reports to look at: HTML pages and progress';

/** The `npx deja ...` lines of a section's first code block, as argv (comments dropped). */
function examplesIn(readme: string, section: string): string[][] {
  const at = readme.indexOf(section);
  if (at < 0) throw new Error(`README.md has no section "${section}"`);
  const block = /```\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error(`no code block in "${section}"`);
  return block[1]
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('npx deja '))
    .map((l) => [...l.slice('npx deja '.length).matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]));
}

/** The examples of the JIT section, then the diff, bisect and fuzz examples of the pages section. */
function readmeExamples(): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...examplesIn(readme, SECTION), ...examplesIn(readme, PAGES).filter((a) => a[0] !== 'report')];
}

const EXAMPLES = readmeExamples();
const RECORD = EXAMPLES.find((a) => a[0] === 'run');
const CHECKS = EXAMPLES.filter((a) => ['diff', 'bisect', 'fuzz'].includes(a[0]));

/** What one replay behind a result exercised, with the settings it ran under. */
interface Replayed {
  label: string;
  settings: string;
  exercised: Exercised;
  /** Instructions it replayed (to the end, or to where it stopped at its first failure). */
  icount: number;
  /** Under the trace tier, it must have made traces too (an example's own settings, not a draw or a limit). */
  traces?: boolean;
}

let file: string;
let endIcount: number;

beforeAll(() => {
  expect(RECORD, 'the code block records boot.deja with `npx deja run ...`').toBeDefined();
  file = join(tmp('deja-readme-'), 'boot.deja');
  const r = deja(RECORD!.slice().map((w) => (w === 'boot.deja' ? file : w)));
  expect(r.status, r.stderr).toBe(0);
  const info = JSON.parse(deja(['inspect', file, '--json']).stdout);
  endIcount = info.end.icount;
});

const stopped = (x: { diverged: boolean; icount: number | null }) => (x.diverged ? x.icount! : endIcount);

/** The replays a command's --json output reports, each with what it exercised. */
function replaysOf(cmd: string, j: any, args: string[]): { replays: Replayed[]; mustCompile: Replayed[] } {
  const replays: Replayed[] = [];
  const mustCompile: Replayed[] = [];
  const add = (r: Replayed, must: boolean) => {
    replays.push(r);
    if (must) mustCompile.push(r);
  };
  const bisect = (b: any, label: string) => {
    // On the boot the fault shows in the registers long before the checkpoint: the probes stop there.
    if (b.failing.diverged) expect(b.stop, `${label}: the probes stop at a boundary`).not.toBeNull();
    add({ label: `${label}: the replay under ${b.settings}`, settings: b.settings, exercised: b.failing.exercised, icount: stopped(b.failing), traces: true }, true);
    // Probes that do not diverge run to the boundary where the probes stop, if there is one.
    const probeEnd = (s: { diverged: boolean; icount: number | null }) => (s.diverged ? s.icount! : (b.stop?.icount ?? endIcount));
    for (const s of b.steps) add({ label: `${label}: --${s.option} ${s.limit}`, settings: `${b.settings},${s.option}=${s.limit}`, exercised: s.exercised, icount: probeEnd(s) }, s.limit > 0);
  };
  if (cmd === 'diff') {
    add({ label: 'the reference', settings: j.reference, exercised: j.outcome.reference.exercised, icount: j.outcome.reference.icount }, false);
    add({ label: 'the suspect', settings: j.suspect, exercised: j.outcome.suspect.exercised, icount: j.outcome.suspect.icount, traces: true }, true);
  } else if (cmd === 'fuzz') {
    for (const x of j.runs) add({ label: `draw ${x.run}`, settings: x.settings, exercised: x.exercised, icount: stopped(x) }, true);
  } else if (args.includes('--threshold-scan')) {
    // Walking down, thresholds above the first that diverges may compile nothing (that is
    // what the walk is for); the one that diverges, and the bisect there, must compile.
    for (const x of j.rows) add({ label: `--${j.option} ${x.threshold}`, settings: `${j.settings},${j.option}=${x.threshold}`, exercised: x.exercised, icount: stopped(x), traces: true }, j.direction === 'up' || x.diverged);
    if (j.bisect) bisect(j.bisect, `bisect at --${j.option} ${j.highest}`);
  } else bisect(j, 'bisect');
  return { replays, mustCompile };
}

describe('the README examples of diff, bisect and fuzz compile units (slow: they replay the Linux boot)', () => {
  it('the code block holds a recording and examples of all three commands', () => {
    expect(new Set(CHECKS.map((a) => a[0]))).toEqual(new Set(['diff', 'bisect', 'fuzz']));
  });

  it.each(CHECKS.map((a) => [a.join(' '), a] as const))('deja %s', (_name, args) => {
    const html = args.includes('--html') ? join(dirname(file), args[args.indexOf('--html') + 1]) : null;
    const argv = [...args.map((w, i) => (w === 'boot.deja' ? file : args[i - 1] === '--html' ? html! : w)), '--json', '-q'];
    const r = deja(argv);
    if (html) expect(readFileSync(html, 'utf8')).toMatch(/<html/);
    expect([0, 7, 10], `exit ${r.status}: ${r.stderr}`).toContain(r.status);
    const j = JSON.parse(r.stdout);
    const { replays, mustCompile } = replaysOf(args[0], j, args);
    expect(mustCompile.length).toBeGreaterThan(0);
    for (const x of replays) {
      const e = x.exercised;
      expect(e.insns.interp + e.insns.block + e.insns.trace, `${x.label}: insns ${JSON.stringify(e.insns)} sum to the icount replayed`).toBe(x.icount);
    }
    if (args.includes('--threshold-scan') && j.direction === 'down') expect(j.highest, 'the walk finds a threshold that diverges').not.toBeNull();
    for (const x of mustCompile) {
      const e = x.exercised;
      expect(e.blocks + e.traces, `${x.label} compiled units: ${JSON.stringify(e)}`).toBeGreaterThan(0);
      // An example's own trace-tier replay must have made traces.
      if (x.traces && e.tier === 'trace' && !/trace-limit=0\b/.test(x.settings)) expect(e.traces, `${x.label} compiled traces: ${JSON.stringify(e)}`).toBeGreaterThan(0);
    }
    expect(j.vacuous, 'vacuous').toBe(false);
    expect(r.status, 'exit code (10: vacuous)').not.toBe(10);
  });
});
