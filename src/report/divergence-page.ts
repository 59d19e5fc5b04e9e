// The page of `deja diff --html` and `bisect --html`: where two replays part ways, both
// machines side by side at the first differing instruction, the compiled unit that ran it,
// and the command lines that reproduce it. All markup is made here; values go through esc().

import { basename } from 'node:path';
import type { DiffResult, FirstDifference } from '../diff/diff.js';
import type { BisectResult } from '../diff/bisect.js';
import { fieldLabel } from '../diff/compare.js';
import { formatOutcome, insnCount, value } from '../diff/report.js';
import { formatExercised } from '../diff/exercised.js';
import { esc, hex, htmlPage } from './page.js';
import { DEJA_VERSION } from '../version.js';

/** Settings text (`tier=trace,trace-threshold=1`) as the options of `deja replay`. */
export function settingsOptions(text: string): string {
  return text
    .split(',')
    .filter((p) => p)
    .map((p) => {
      const [k, ...v] = p.split('=');
      return v.length ? `--${k} ${shellWord(v.join('='))}` : `--${k}`;
    })
    .join(' ');
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=,+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

const cmd = (text: string) => `<div data-copy="${esc(text)}"><code>${esc(text)}</code></div>`;

/** Code lines (listing or generated code) with the lines of instruction `pc` marked. */
function codeBlock(text: string, pc: number): string {
  const lines = text.split('\n').map((l) => {
    const m = /^\s*(?:>\s*)?(?:\/\/ )?(0x[0-9a-f]+):/.exec(l);
    const here = m !== null && Number.parseInt(m[1], 16) === pc >>> 0;
    return `<span class="line${here ? ' here' : ''}">${esc(l) || ' '}</span>`;
  });
  return `<pre class="code">${lines.join('')}</pre>`;
}

function stateTable(f: FirstDifference): string {
  const differs = new Set(f.registers.map((r) => r.name));
  const rows = f.state.names.map((name, i) => {
    const d = differs.has(name);
    return `<tr class="${d ? 'differs' : ''}" data-field="${esc(name)}"><td>${esc(fieldLabel(name))}</td><td>${esc(value(name, f.state.reference[i]))}</td><td>${esc(value(name, f.state.suspect[i]))}</td></tr>`;
  });
  return `<table class="regs" id="state"><tr><th>field</th><th>reference</th><th>suspect</th></tr>${rows.join('')}</table>`;
}

function firstDifference(f: FirstDifference, file: string): string {
  const out: string[] = [];
  out.push(`<h2>first difference: the instruction at icount <span id="first-icount">${esc(f.icount)}</span>, pc ${esc(hex(f.pc))}</h2>`);
  out.push(`<p><code class="insn">${esc(f.insn)}</code>${f.unitInsn ? ` (the unit compiled: <code>${esc(f.unitInsn)}</code>)` : ''} — where: ${esc(f.where)}</p>`);
  out.push(`<p class="why">${esc(f.explanation)}</p>`);
  out.push(`<p>The state at icount ${esc(f.icount)} matches; after this instruction it does not (README, Positions). The machine before it:</p>`);
  out.push(cmd(`deja state ${shellWord(file)} ${f.icount}`) + cmd(`monitor seek ${f.icount}`));
  const around = f.around.map((a) => `${a.here ? '> ' : '  '}${hex(a.pc)}: ${a.text}`).join('\n');
  out.push('<div class="side-by-side"><div>');
  out.push(`<h3>registers and CSRs after it (${f.registers.length} differ)</h3>${stateTable(f)}`);
  out.push('</div><div>');
  out.push(`<h3>surrounding instructions (the reference's memory)</h3>${around ? codeBlock(around, f.pc) : '<p>not readable</p>'}`);
  if (f.memory.length || f.ram.bytes) {
    out.push('<h3>memory that differs</h3><table class="regs" id="memory"><tr><th>address</th><th>bytes</th><th>reference</th><th>suspect</th></tr>');
    for (const m of f.memory) out.push(`<tr class="differs"><td>${esc(hex(m.address))}</td><td>${esc(m.size)}</td><td>${esc(m.reference)}</td><td>${esc(m.suspect)}</td></tr>`);
    for (const m of f.ram.ranges) out.push(`<tr><td>${esc(hex(m.address))}</td><td>${esc(m.size)}</td><td>${esc(m.reference)}</td><td>${esc(m.suspect)}</td></tr>`);
    out.push(`</table><p>${f.memory.length} store${f.memory.length === 1 ? '' : 's'} by the reference differ on the suspect; RAM differs in ${esc(f.ram.bytes)} bytes in all.</p>`);
  } else out.push('<h3>memory</h3><p>RAM is the same on both sides here.</p>');
  if (f.console) {
    out.push(`<h3>console differs at byte ${esc(f.console.offset)}</h3><pre class="code">reference: ${esc(JSON.stringify(f.console.reference))}\nsuspect:   ${esc(JSON.stringify(f.console.suspect))}</pre>`);
  }
  out.push('</div></div>');
  const u = f.unit;
  if (u) {
    const spans = u.kind === 'trace' ? `, spans blocks ${u.blocks.map((b) => `${b.id}@${hex(b.pc)}`).join(' ')}` : '';
    out.push(`<h2 id="unit">the compiled unit: ${esc(u.kind)} ${esc(u.id)} at ${esc(hex(u.pc))}</h2>`);
    out.push(`<p>${esc(insnCount(u.insns))}${u.kind === 'trace' ? ' in its longest pass' : ''}${esc(spans)}${u.valid ? '' : ', <b class="bad">INVALIDATED</b>'}${u.fault ? `, <b class="bad">injected fault ${esc(u.fault)}</b>` : ''}; this execution started at icount ${esc(u.execStart)}, and the instruction is number ${esc(u.indexInExec)} of it.</p>`);
    if (u.stale) out.push(`<p class="bad">${esc(u.stale)}</p>`);
    out.push(`<div class="side-by-side"><div><h3>guest code</h3>${codeBlock(u.listing, f.pc)}</div><div><h3>generated code</h3>${codeBlock(u.code, f.pc)}</div></div>`);
  } else out.push('<h2 id="unit">the compiled unit</h2><p>none: the suspect ran this instruction in its interpreter.</p>');
  return out.join('\n');
}

function bisectSection(b: BisectResult): string {
  const rows = b.steps.map((s) => `<tr class="${s.diverged ? 'differs' : ''}"><td>--${esc(s.option)} ${esc(s.limit)}</td><td>${s.diverged ? `diverges at icount ${esc(s.icount ?? '')}` : 'ok'}</td><td>${esc(formatExercised(s.exercised))}</td></tr>`);
  const f = b.failing;
  return `<h2>bisect</h2>
<p>The replay under <code>${esc(b.settings)}</code> ${f.diverged ? `diverges at icount ${esc(f.icount ?? '')}: ${esc(f.what ?? '')}` : 'does not diverge'} ${esc(formatExercised(f.exercised))}</p>
<table class="regs"><tr><th>probe</th><th>verdict</th><th>exercised</th></tr>${rows.join('')}</table>
${b.kind !== null ? `<p><b>first bad unit: ${esc(b.kind)} ${esc(b.index ?? '')}</b>${b.unit ? ` at ${esc(hex(b.unit.pc))}` : ''} (the smallest diverging setting: <code>${esc(b.minimal ?? '')}</code>)</p>` : '<p>no unit found to blame.</p>'}
${b.notes.map((n) => `<p class="note">note: ${esc(n)}</p>`).join('')}`;
}

export interface DivergencePageInput {
  /** The recording's path as given (the page's commands name its file name). */
  file: string;
  diff: DiffResult | null;
  bisect?: BisectResult | null;
  /** The command that made it, for the record. */
  argv: string[];
}

export function divergencePage(p: DivergencePageInput): string {
  const file = basename(p.file);
  const r = p.diff;
  const out: string[] = [];
  out.push(`<header><h1>deja divergence report: <span class="mono">${esc(file)}</span></h1><div class="made">made by deja ${esc(DEJA_VERSION)}: <span class="mono">${esc(p.argv.join(' '))}</span></div></header>`);
  if (p.bisect) out.push(bisectSection(p.bisect));
  if (r) {
    const verdict = r.vacuous ? 'vacuous: the two replays agree, but no compiled code was compared' : r.diverged ? 'DIVERGENCE' : 'no divergence: the two replays agree to the end';
    out.push(`<h2 id="verdict" class="${r.diverged ? 'bad' : r.vacuous ? 'note' : 'good'}">${esc(verdict)}</h2>`);
    out.push(`<table class="kv"><tr><th>reference</th><td><code>${esc(r.reference)}</code></td></tr><tr><th>suspect</th><td><code>${esc(r.suspect)}</code></td></tr>`);
    if (r.suspectVsRecording) out.push(`<tr><th>against the recording</th><td>the suspect leaves the recording at icount ${esc(r.suspectVsRecording.icount)}: ${esc(r.suspectVsRecording.what)}</td></tr>`);
    if (r.window) out.push(`<tr><th>window</th><td>icount ${esc(r.window.from)} .. ${esc(r.window.to)} (from the last checkpoint both match)</td></tr>`);
    out.push('</table>');
    out.push('<h3>to reproduce</h3>');
    out.push(cmd(`deja diff ${shellWord(file)} --a ${shellWord(r.reference)} --b ${shellWord(r.suspect)}`));
    out.push(cmd(`deja replay ${shellWord(file)} ${settingsOptions(r.suspect)}`));
    if (r.first) out.push(firstDifference(r.first, file));
    if (r.outcome) {
      const o = r.outcome;
      out.push(`<h2>outcomes</h2><table class="kv"><tr><th>reference</th><td>${esc(formatOutcome(o.reference))}<br><span class="mono">${esc(formatExercised(o.reference.exercised))}</span></td></tr><tr><th>suspect</th><td>${esc(formatOutcome(o.suspect))}<br><span class="mono">${esc(formatExercised(o.suspect.exercised))}</span></td></tr></table>`);
    }
    for (const n of r.notes) out.push(`<p class="note">note: ${esc(n)}</p>`);
    out.push(`<p class="hint">search: ${r.passes} lockstep pass${r.passes === 1 ? '' : 'es'}, ${esc(r.seconds.total.toFixed(2))} s</p>`);
  } else out.push('<p>No diff was run (nothing diverged to look at).</p>');
  return htmlPage({ title: `deja divergence: ${file}`, body: out.join('\n'), data: {}, scripts: [], charts: false });
}
