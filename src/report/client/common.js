// Helpers every deja report page uses. Guest text is untrusted: it is only ever set as
// textContent, never as markup.
'use strict';

/** The page's data (a JSON script element). */
function dejaData() {
  return JSON.parse(document.getElementById('deja-data').textContent);
}

/** 36006531 -> "36.0M"; small numbers as they are. */
function fmtCount(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 1 : 2) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'K';
  return String(Math.round(v));
}

/** Guest nanoseconds as a short time: "1.250 s", "12.500 ms" (`digits` after the point). */
function fmtNanos(ns, digits = 3) {
  if (ns >= 1e9) return (ns / 1e9).toFixed(digits) + ' s';
  if (ns >= 1e6) return (ns / 1e6).toFixed(digits) + ' ms';
  if (ns >= 1e3) return (ns / 1e3).toFixed(1) + ' µs';
  return Math.round(ns) + ' ns';
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A command and a button that copies it (the clipboard API needs a secure context; a file:// page may not have one). */
function commandLine(text) {
  const row = el('div', 'cmd');
  const code = el('code', 'cmd-text', text);
  const b = el('button', 'copy', 'copy');
  b.addEventListener('click', () => {
    const done = () => { b.textContent = 'copied'; setTimeout(() => (b.textContent = 'copy'), 1200); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, () => {});
    else {
      const t = document.createElement('textarea');
      t.value = text;
      document.body.appendChild(t);
      t.select();
      try { document.execCommand('copy'); done(); } catch (e) { /* the text is there to select by hand */ }
      t.remove();
    }
  });
  row.append(code, b);
  return row;
}

/** Quotes a file name for a shell command line if it needs it. */
function shellWord(s) {
  return /^[A-Za-z0-9_./:=,+-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'";
}

for (const b of document.querySelectorAll('[data-copy]')) b.replaceWith(commandLine(b.getAttribute('data-copy')));
