// The recording report's timeline (uPlot), its list of console lines and events, the
// selection with the commands that go there, and the replay's plots, all over one icount axis.
'use strict';

(function () {
  const D = dejaData();
  const KINDS = ['console', 'input', 'rtc', 'idle', 'checkpoint', 'snapshot', 'end'];
  const COLORS = ['#1f6feb', '#d9480f', '#2b8a3e', '#868e96', '#7048e8', '#e67700', '#c92a2a'];
  const X = D.items.x, K = D.items.k, T = D.items.t;
  const N = X.length;
  // The whole run, with a margin so that marks at either end are not cut in half.
  const pad = Math.max(1, (D.end.icount - D.start) * 0.01);
  const lo = D.start - pad, hi = D.end.icount + pad;
  const file = shellWord(D.file);

  // Guest time at an icount (DESIGN.md, Time): icount at the nominal rate plus the idle jumps so far.
  const idleCum = [];
  let acc = D.clock.startIdleTicks;
  for (const t of D.idle.ticks) idleCum.push((acc += t));
  function nanosAt(ic) {
    let a = 0, b = D.idle.x.length; // first idle event after ic
    while (a < b) { const m = (a + b) >> 1; if (D.idle.x[m] <= ic) a = m + 1; else b = m; }
    const ticks = Math.floor(ic / D.clock.insnsPerTick) + (a ? idleCum[a - 1] : D.clock.startIdleTicks);
    return ticks * (1e9 / D.clock.timebaseHz);
  }
  /** The first item at or after icount v. */
  function firstAt(v) {
    let a = 0, b = N;
    while (a < b) { const m = (a + b) >> 1; if (X[m] < v) a = m + 1; else b = m; }
    return a;
  }

  const shown = KINDS.map(() => true);
  let selected = -1;
  const charts = [];
  let zooming = false;

  /** Every chart shows icounts [min, max]; the list scrolls to the first item there. */
  function zoomTo(min, max, from) {
    if (zooming) return;
    zooming = true;
    for (const c of charts) if (c !== from) c.setScale('x', { min, max });
    zooming = false;
    const a = Math.max(D.start, min), b = Math.min(D.end.icount, max);
    document.getElementById('range').textContent = `icount ${fmtCount(a)} .. ${fmtCount(b)} (guest time ${fmtNanos(nanosAt(a))} .. ${fmtNanos(nanosAt(b))})`;
    list.scrollTo(firstAt(min));
  }

  const marker = {
    hooks: {
      draw: [(u) => {
        if (selected < 0) return;
        const x = Math.round(u.valToPos(X[selected], 'x', true));
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#e8590c';
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.restore();
      }],
      setScale: [(u, key) => { if (key === 'x' && !zooming) zoomTo(u.scales.x.min, u.scales.x.max, u); }],
    },
  };

  const INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9];
  const xAxes = [
    { scale: 'x', side: 2, label: 'instructions (icount)', values: (u, splits) => splits.map(fmtCount), size: 40, space: 80 },
    { scale: 'x', side: 2, label: 'guest time', values: (u, splits) => splits.map((v) => (v < D.start ? '' : fmtNanos(nanosAt(v), 1))), size: 40, space: 80 },
  ];
  const width = () => Math.max(400, document.getElementById('timeline').clientWidth || 900);
  const xScale = { time: false, range: (u, min, max) => (min === max ? [lo, hi] : [min, max]) };

  // The timeline: one row per kind, a mark per item.
  const tdata = [Float64Array.from(X)];
  for (let k = 0; k < KINDS.length; k++) {
    const ys = new Array(N).fill(null);
    for (let i = 0; i < N; i++) if (K[i] === k) ys[i] = k;
    tdata.push(ys);
  }
  const timeline = new uPlot({
    width: width(),
    height: 300,
    plugins: [marker],
    legend: { show: false },
    cursor: { drag: { x: true, y: false }, points: { show: false } },
    scales: { x: xScale, y: { range: [-0.6, KINDS.length - 0.4] } },
    axes: [
      ...xAxes,
      { scale: 'y', splits: () => KINDS.map((_, i) => i), values: (u, s) => s.map((v) => KINDS[v] || ''), size: 80, grid: { show: true } },
    ],
    series: [{}, ...KINDS.map((k, i) => ({ label: k, stroke: COLORS[i], fill: COLORS[i], paths: () => null, points: { show: true, size: 7, width: 1 } }))],
  }, tdata, document.getElementById('timeline'));
  charts.push(timeline);

  // A click (not a drag) picks the nearest shown item of the row under the mouse.
  let down = null;
  timeline.over.addEventListener('mousedown', (e) => (down = [e.clientX, e.clientY]));
  timeline.over.addEventListener('click', (e) => {
    if (down && Math.abs(e.clientX - down[0]) > 3) return;
    const u = timeline;
    const v = u.posToVal(u.cursor.left, 'x');
    const row = Math.round(u.posToVal(u.cursor.top, 'y'));
    const tol = Math.abs(u.posToVal(12, 'x') - u.posToVal(0, 'x'));
    let best = -1;
    const start = firstAt(v);
    for (let i = start; i < N && X[i] - v <= tol; i++) if (K[i] === row && shown[row]) { best = i; break; }
    for (let i = start - 1; i >= 0 && v - X[i] <= tol; i--) if (K[i] === row && shown[row]) { if (best < 0 || v - X[i] < X[best] - v) best = i; break; }
    if (best >= 0) select(best, true);
  });
  timeline.over.addEventListener('dblclick', () => zoomTo(lo, hi));
  document.getElementById('zoom-out').addEventListener('click', () => { timeline.setScale('x', { min: lo, max: hi }); });

  // The replay's plots: per interval, on the same axis.
  if (D.plots) {
    const P = D.plots;
    const stepped = uPlot.paths.stepped({ align: -1 });
    // Instructions by tier as shares of each interval (intervals end at run-loop boundaries, so their lengths vary).
    const len = P.x.map((x, i) => P.interp[i] + P.block[i] + P.trace[i] || 1);
    const share = (key) => P[key].map((v, i) => (100 * v) / len[i]);
    const plot = (title, series, unit) => {
      const box = el('div', 'plot');
      box.append(el('h3', null, title));
      document.getElementById('plots').append(box);
      const c = new uPlot({
        width: width(),
        height: 170,
        plugins: [marker],
        cursor: { drag: { x: true, y: false }, sync: { key: 'deja' } },
        scales: { x: xScale, y: { range: (u, min, max) => [0, unit ? 100 : Math.max(1, max)] } },
        axes: [xAxes[0], { values: (u, s) => s.map((v) => fmtCount(v) + (unit || '')), incrs: INCRS, size: 60 }],
        series: [
          { label: 'interval to icount', value: (u, v) => (v == null ? '' : String(v)) },
          ...series.map(([label, key, color]) => ({
            label, stroke: color, width: 1.5, paths: stepped,
            value: (u, v, si, i) => (v == null || i == null ? '' : unit ? `${v.toFixed(1)}% (${P[key][i]})` : String(v)),
          })),
        ],
      }, [Float64Array.from(P.x), ...series.map(([, key]) => (unit ? share(key) : P[key]))], box);
      charts.push(c);
    };
    plot('instructions run per interval, by tier (share of the interval)', [['interpreter', 'interp', '#868e96'], ['blocks', 'block', '#1f6feb'], ['traces', 'trace', '#2b8a3e']], '%');
    plot('units compiled per interval', [['blocks compiled', 'blocks', '#1f6feb'], ['traces compiled', 'traces', '#2b8a3e']]);
    plot('invalidations and side exits per interval', [['invalidations', 'invalidations', '#c92a2a'], ['trace side exits', 'sideExits', '#e67700']]);
  }

  // The list: only the rows in view exist (a recording may have 10^5 items).
  const ROW = 22;
  const list = {
    box: document.getElementById('list'),
    inner: document.getElementById('list-inner'),
    rows: [],
    filter() {
      this.rows = [];
      for (let i = 0; i < N; i++) if (shown[K[i]]) this.rows.push(i);
      this.inner.style.height = this.rows.length * ROW + 'px';
      document.getElementById('list-count').textContent = `${this.rows.length} of ${N}`;
      this.render();
    },
    render() {
      const top = Math.max(0, Math.floor(this.box.scrollTop / ROW) - 5);
      const end = Math.min(this.rows.length, top + Math.ceil(this.box.clientHeight / ROW) + 10);
      const frag = document.createDocumentFragment();
      for (let r = top; r < end; r++) {
        const i = this.rows[r];
        const d = el('div', 'row' + (i === selected ? ' selected' : ''));
        d.style.top = r * ROW + 'px';
        d.dataset.item = String(i);
        d.dataset.kind = KINDS[K[i]];
        d.append(el('span', 'c-icount', String(X[i])), el('span', 'c-time', fmtNanos(nanosAt(X[i]))), el('span', 'c-kind kind k' + K[i], KINDS[K[i]]), el('span', 'c-text', T[i]));
        frag.append(d);
      }
      this.inner.replaceChildren(frag);
    },
    /** Scrolls so that item i (or the first shown one after it) is at the top. */
    scrollTo(i) {
      let a = 0, b = this.rows.length;
      while (a < b) { const m = (a + b) >> 1; if (this.rows[m] < i) a = m + 1; else b = m; }
      this.box.scrollTop = a * ROW;
      this.render();
    },
  };
  list.box.addEventListener('scroll', () => list.render());
  list.inner.addEventListener('click', (e) => {
    const row = e.target.closest('.row');
    if (row) select(Number(row.dataset.item), false);
  });

  function select(i, scroll) {
    selected = i;
    const ic = X[i];
    const d = document.getElementById('details');
    const head = el('div', 'sel-head');
    head.append(el('span', 'kind k' + K[i], KINDS[K[i]]), ' at ', el('b', null, 'icount '), el('b', 'sel-icount', String(ic)), ` (guest time ${fmtNanos(nanosAt(ic))})`);
    d.replaceChildren(head, el('pre', 'sel-text', T[i]));
    d.setAttribute('data-icount', String(ic));
    d.append(el('div', 'sel-note', 'The machine at this icount (before the inputs due there are taken):'));
    d.append(commandLine(`deja state ${file} ${ic}`), commandLine(`deja replay ${file} --to ${ic}`), commandLine(`monitor seek ${ic}`));
    if (scroll) list.scrollTo(i);
    else list.render();
    for (const c of charts) c.redraw(false, false);
  }

  for (const box of document.querySelectorAll('input[data-kind]')) {
    box.addEventListener('change', () => {
      const k = Number(box.dataset.kind);
      shown[k] = box.checked;
      timeline.setSeries(k + 1, { show: box.checked });
      list.filter();
    });
  }
  window.addEventListener('resize', () => { for (const c of charts) c.setSize({ width: width(), height: c.height }); });
  list.filter();
  zoomTo(lo, hi);
  timeline.setScale('x', { min: lo, max: hi });
})();
