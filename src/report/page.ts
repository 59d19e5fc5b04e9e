// One self-contained HTML file: styles, scripts (uPlot and the page's own) and data inline,
// and a Content-Security-Policy that forbids every fetch, so the page opens from a mail
// attachment and cannot reach the network even if something in it tried.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Escapes text for HTML (guest output is untrusted: it is never markup). */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const require = createRequire(import.meta.url);
// The page scripts sit beside the sources (src/report/client/), for the built code in dist/ too.
const CLIENT = new URL('../../src/report/client/', import.meta.url);

function asset(name: string): string {
  return readFileSync(name, 'utf8');
}

/** Text for inside a <script> element: nothing in it may close the element. */
function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

/** JSON for a <script type="application/json"> element. */
function dataText(data: unknown): string {
  return JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export interface Page {
  title: string;
  /** Markup made with esc() for every value. */
  body: string;
  data: unknown;
  /** Page scripts by file name in src/report/client/, run in order after uPlot. */
  scripts: string[];
  /** Whether the page draws charts (uPlot is inlined only then). */
  charts: boolean;
}

export function htmlPage(p: Page): string {
  const uplotJs = p.charts ? asset(require.resolve('uplot/dist/uPlot.iife.min.js')) : '';
  const uplotCss = p.charts ? asset(require.resolve('uplot/dist/uPlot.min.css')) : '';
  const css = asset(new URL('page.css', CLIENT).pathname);
  const scripts = ['common.js', ...p.scripts].map((s) => `<script>\n${scriptText(asset(new URL(s, CLIENT).pathname))}\n</script>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.title)}</title>
<style>
${uplotCss}
${css}
</style>
</head>
<body>
${p.body}
<script type="application/json" id="deja-data">${dataText(p.data)}</script>
${p.charts ? `<script>\n${scriptText(uplotJs)}\n</script>` : ''}
${scripts}
<script>document.body.dataset.ready = 'true';</script>
</body>
</html>
`;
}
