#!/usr/bin/env node
// How long HTML reports take to open in headless Chromium: for each page given, three
// openings, each timed from navigation until the page's scripts have run, then a drag-zoom
// on the timeline and a click on the first list row. Prints one JSON line per page.
// usage: node tools/report-open-time.mjs PAGE.html...   (DEJA_CHROMIUM: the browser binary)

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const exe = [process.env.DEJA_CHROMIUM, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => p && existsSync(p));
if (!exe) {
  console.error('report-open-time: no chromium (apt-get install chromium, or set DEJA_CHROMIUM)');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'] });
for (const file of process.argv.slice(2).map((f) => resolve(f))) {
  const runs = [];
  for (let k = 0; k < 3; k++) {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    let errors = 0;
    page.on('pageerror', () => errors++);
    const t0 = Date.now();
    await page.goto('file://' + file);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120000 });
    const open = Date.now() - t0;
    const run = { open, errors };
    const over = page.locator('#timeline .u-over');
    if (await over.count()) {
      const box = await over.boundingBox();
      const t1 = Date.now();
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.7);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.7, { steps: 3 });
      await page.mouse.up();
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
      run.zoom = Date.now() - t1;
      const t2 = Date.now();
      await page.locator('#list .row').first().click();
      run.click = Date.now() - t2;
    }
    runs.push(run);
    await page.close();
  }
  console.log(JSON.stringify({ file, ms: runs }));
}
await browser.close();
