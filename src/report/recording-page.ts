// The page of `deja report FILE`: the header as markup, the timeline, list and plots drawn
// in the browser from the data (client/timeline.js).

import { KINDS, type RecordingReport } from './recording-data.js';
import { esc, hex, htmlPage } from './page.js';

function row(k: string, v: string): string {
  return `<tr><th>${esc(k)}</th><td>${v}</td></tr>`;
}

const bytes = (n: number) => `${n.toLocaleString('en-US')} bytes`;

export function recordingPage(d: RecordingReport): string {
  const h = d.header;
  const c = h.config;
  const images = h.images
    .map((i) => `<tr><td>${esc(i.role)}</td><td>${esc(i.name)}</td><td class="num">${esc(i.size.toLocaleString('en-US'))}</td><td class="mono">${esc(i.sha256)}</td><td class="mono">${esc(hex(i.addr ?? 0))}</td><td>${i.embedded ? 'embedded' : 'by hash'}</td></tr>`)
    .join('');
  const s = d.sizes;
  const head = [
    row('recording', `<span class="mono">${esc(d.file)}</span>, format by deja ${esc(h.deja)}, made ${esc(h.created)}`),
    row('command line', `<span class="mono">${esc(h.argv.join(' '))}</span>`),
    row('machine', `RAM ${esc(c.ramBytes / 1024 ** 2)} MiB; ${c.disks.length} disk${c.disks.length === 1 ? '' : 's'}${c.disks.map((x) => ` ${esc(x.name)}${x.readonly ? ' (read-only)' : ''}`).join(',')}; checkpoint every ${esc(c.checkpointEvery.toLocaleString('en-US'))} instructions${c.debugTriggers === false ? '; no debug triggers' : ''}`),
    row('kernel command line', `<span class="mono">${esc(c.append || '(none)')}</span>`),
    row('size', `${bytes(s.total)} (header ${esc(s.header)}, images ${esc(s.images)}, state ${esc(s.state)}, ${esc(d.chunks)} event chunks ${esc(s.chunks)})`),
    row('instructions', `${d.start ? `from icount ${esc(d.start.toLocaleString('en-US'))} (a trimmed recording) ` : ''}to icount <b>${esc(d.end.icount.toLocaleString('en-US'))}</b>`),
    row('ended', d.end.truncated ? `<span class="bad">truncated: ${esc(d.end.truncated)}</span>` : `<b>${esc(d.end.how)}</b> at icount ${esc(d.end.icount)}`),
    row('snapshots', d.snapshots ? `${esc(d.snapshots.count)} in <span class="mono">${esc(d.snapshots.file)}</span> (${bytes(d.snapshots.bytes)})` : `none (<span class="mono">deja index ${esc(d.file)}</span> makes them)`),
    d.replay ? row(`replay (${d.replay.settings})`, `<span class="${d.replay.diverged ? 'bad' : ''}">${esc(d.replay.line)}</span>`) : '',
  ].join('');
  const kinds = KINDS.map((k, i) => `<label><input type="checkbox" data-kind="${i}" checked> <span class="kind k${i}">${esc(k)}</span></label>`).join(' ');
  const body = `
<header><h1>deja report: <span class="mono">${esc(d.file)}</span></h1><div class="made">made by deja ${esc(d.madeBy)}</div></header>
<section id="header"><table class="kv">${head}</table>
<h3>images</h3>
<table class="grid"><tr><th>role</th><th>name</th><th>bytes</th><th>sha256</th><th>load address</th><th></th></tr>${images}</table>
${d.notes.map((n) => `<p class="note">note: ${esc(n)}</p>`).join('')}
</section>
<section id="timeline-section"><h2>timeline</h2>
<p class="hint">Drag across the chart to zoom, double-click to zoom out; click a mark, or a line below, to see its icount. Positions are icounts: icount N is the machine after N instructions.</p>
<div class="controls">${kinds} <button id="zoom-out">zoom out</button> <span id="range"></span></div>
<div id="timeline"></div>
${d.plots ? `<h2>replay under <span class="mono">${esc(d.replay?.settings ?? '')}</span></h2><div id="plots"></div>` : ''}
</section>
<section id="selection" class="selection"><div id="details">Click a console line or an event.</div></section>
<section id="list-section"><h2>console lines and events (<span id="list-count"></span>)</h2>
<div class="list-head"><span class="c-icount">icount</span><span class="c-time">guest time</span><span class="c-kind">kind</span><span>text</span></div>
<div id="list" tabindex="0"><div id="list-inner"></div></div>
</section>`;
  return htmlPage({ title: `deja report: ${d.file}`, body, data: d, scripts: ['timeline.js'], charts: true });
}
