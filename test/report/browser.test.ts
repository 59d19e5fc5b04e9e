// The HTML reports in a real browser (Debian's chromium, driven by playwright-core): the
// boot and panic reports and an injected-fault divergence report open with no page error
// and no network request, the timeline draws its marks, the console lines are listed, a
// click on one shows its icount and the commands that go there, a drag zooms, and the
// divergence report highlights the differing register.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { deja, ROOT, tmp } from '../helpers/cli.js';
import { guestDir } from '../helpers/guest.js';

/** Debian's chromium package puts the browser here (/usr/bin/chromium is a shell wrapper). */
const CHROMIUM = [process.env.DEJA_CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p): p is string => !!p && existsSync(p));

let browser: Browser;
let dir: string;

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('no chromium: install Debian\'s chromium package (apt-get install chromium), or set DEJA_CHROMIUM to a Chromium binary');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  dir = tmp('deja-browser-');
});

afterAll(async () => {
  await browser?.close();
});

/** Opens a report; collects page errors and every request that is not the file itself. */
async function open(file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('request', (r) => {
    if (r.url() !== `file://${file}`) requests.push(r.url());
  });
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  return { page, errors, requests };
}

/** Pixels of a canvas in a colour (the timeline's marks are drawn in their kind's colour). */
async function pixelsOf(page: Page, selector: string, rgb: [number, number, number]): Promise<number> {
  return page.$eval(selector, (c, rgb) => {
    const canvas = c as HTMLCanvasElement;
    const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - rgb[0]) < 8 && Math.abs(px[i + 1] - rgb[1]) < 8 && Math.abs(px[i + 2] - rgb[2]) < 8) n++;
    return n;
  }, rgb);
}

function pageData(file: string): { items: { x: number[]; k: number[]; t: string[] } } {
  return JSON.parse(/<script type="application\/json" id="deja-data">(.*?)<\/script>/s.exec(readFileSync(file, 'utf8'))![1]);
}

/** Records the reference guest in a mode and writes its report (with the replay plots). */
function report(mode: string, exit: number): string {
  const rec = join(dir, `${mode}.deja`);
  const run = deja(['run', '--mode', mode, '--rtc', '2026-01-01T00:00:00Z', '-q', '--record', rec], { env: { DEJA_GUEST_DIR: guestDir() } });
  expect(run.status, run.stderr).toBe(exit);
  const html = join(dir, `${mode}.html`);
  const r = deja(['report', rec, '-o', html, '--replay'], { env: { DEJA_GUEST_DIR: guestDir() } });
  expect(r.status, r.stderr).toBe(0);
  return html;
}

describe('reports in headless Chromium', () => {
  for (const [mode, exit, line] of [['boot', 0, 'BOOT-OK'], ['panic', 5, 'Kernel panic - not syncing']] as const) {
    it(`the ${mode} report: timeline, console lines, a click shows the icount; no error, no request`, async () => {
      const html = report(mode, exit);
      const { page, errors, requests } = await open(html);
      // The timeline and the three replay plots are drawn, with console marks in their colour.
      expect(await page.locator('#timeline canvas').count()).toBe(1);
      expect(await page.locator('#plots canvas').count()).toBe(3);
      expect(await pixelsOf(page, '#timeline canvas', [0x1f, 0x6f, 0xeb])).toBeGreaterThan(50);
      await expect.poll(() => page.textContent('#header')).toMatch(/ended\s*(poweroff|panic)/);

      // The line is in the data; scroll the list to it and click it.
      const d = pageData(html);
      const i = d.items.t.findIndex((t) => t.includes(line));
      expect(i, `no console line with "${line}"`).toBeGreaterThanOrEqual(0);
      const icount = d.items.x[i];
      await page.$eval('#list', (el, top) => el.scrollTo(0, top), 22 * (i - 2));
      const row = page.locator(`#list .row[data-item="${i}"]`);
      await expect.poll(() => row.count()).toBe(1);
      expect(await row.textContent()).toContain(line);
      await row.click();
      expect(await page.textContent('#details .sel-icount')).toBe(String(icount));
      expect(await page.textContent('#details')).toContain(`deja state ${mode}.deja ${icount}`);
      expect(await page.textContent('#details')).toContain(`monitor seek ${icount}`);
      expect(await row.getAttribute('class')).toContain('selected');

      // Dragging across the timeline zooms it: the range shown narrows.
      const before = await page.textContent('#range');
      await page.locator('#timeline').scrollIntoViewIfNeeded();
      const box = (await page.locator('#timeline .u-over').boundingBox())!;
      const y = box.y + box.height * 0.7; // below the sticky selection panel
      await page.mouse.move(box.x + box.width * 0.4, y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 });
      await page.mouse.up();
      await expect.poll(() => page.textContent('#range')).not.toBe(before);

      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      await page.close();
    });
  }

  it('the divergence report of an injected fault: the differing register highlighted, the unit with the instruction marked', async () => {
    const html = join(dir, 'divergence.html');
    const r = deja(['diff', join(ROOT, 'recordings/ticker-panic.deja'), '--b', 'tier=block,block-threshold=1,jit-fault=wrong-imm', '-q', '--html', html]);
    expect(r.status, r.stderr).toBe(7);
    const { page, errors, requests } = await open(html);
    expect(await page.textContent('#verdict')).toBe('DIVERGENCE');
    // ra (x1) is what the wrong immediate breaks; only the differing rows are highlighted.
    const ra = page.locator('#state tr[data-field="x1"]');
    expect(await ra.getAttribute('class')).toBe('differs');
    expect(await ra.evaluate((e) => getComputedStyle(e.querySelector('td')!).backgroundColor)).toBe('rgb(255, 201, 201)');
    expect(await page.locator('#state tr.differs').count()).toBe(1);
    expect(await page.locator('#state tr').count()).toBeGreaterThan(60);
    // The instruction is marked in the surrounding code, the guest listing and the generated code.
    const pc = /pc (0x[0-9a-f]{8})/.exec((await page.textContent('h2:has(#first-icount)'))!)![1];
    expect(await page.locator('pre.code .here').count()).toBe(3);
    for (const t of await page.locator('pre.code .here').allTextContents()) expect(t).toContain(pc);
    expect(await page.textContent('body')).toContain('deja replay ticker-panic.deja --tier block --block-threshold 1 --jit-fault wrong-imm');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
