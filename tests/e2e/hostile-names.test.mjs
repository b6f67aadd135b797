// Names come from whoever named the file or the process. A mapped file called
// `<img src=x onerror=alert(1)>` in a process called `<b>bold</b>` must show up as those very
// characters, everywhere the dashboard shows them, and never as markup: no <img> or <b> element
// appears, no dialog fires, and the page keeps its strict Content-Security-Policy without a
// single violation.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipIfOptionalAndMissing, startMapfile, watchedPage, screenshot, waitReady } from './lib.mjs';
import { e2eSuite, assertPageClean } from './harness.mjs';

const FILE = '<img src=x onerror=alert(1)>';
const COMM = '<b>bold</b>';
const missing = skipIfOptionalAndMissing('the hostile-names e2e test');

describe('hostile names', { timeout: 180000 }, () => {
  let mf;
  let page;
  const s = e2eSuite(missing, { tmp: 'xss' });
  const path = join(s.tmp, FILE);

  before(async () => {
    writeFileSync(path, Buffer.alloc(3 * 4096, 0x41));
    mf = await startMapfile(path, COMM);
    s.stops.push(() => mf.stop());
    page = await watchedPage(await s.browser.newContext());
  });

  async function noMarkup() {
    const counts = await page.evaluate(() => ({ img: document.querySelectorAll('img').length, b: document.querySelectorAll('b').length }));
    assert.deepEqual(counts, { img: 0, b: 0 }, 'no element was made from a name');
    await assertPageClean(page); // no dialog fired, no script error, no CSP violation
  }

  it('the process list shows the name and command line as text', async () => {
    await page.goto(s.daemon.url);
    await waitReady(page, 'processes');
    await page.fill('#proc-search', String(mf.pid));
    const row = page.locator(`tr.proc[data-pid="${mf.pid}"]`);
    assert.equal(await row.locator('td.name .proc-label').textContent(), COMM);
    assert.ok((await row.locator('td.cmd').textContent()).includes(FILE), 'the command line holds the file name, as text');
    await screenshot(page, 'hostile-processes.png');
    await noMarkup();
  });

  it('the snapshot view shows the path as text in the table, map tooltip, selection and header', async () => {
    await page.click(`tr.proc[data-pid="${mf.pid}"]`);
    await page.waitForURL(/#\/snapshot\/\d+/);
    await page.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1');
    assert.equal(await page.locator('.proc-name').textContent(), COMM);
    assert.ok((await page.locator('.cmdline').textContent()).includes(FILE));

    await page.fill('#find', 'onerror');
    await page.waitForFunction(() => window.vmsDebug.details.find === 'onerror');
    const cell = page.locator('.details-table .vt-row.alloc:not(.hidden) .vt-cell.details').first();
    assert.equal(await cell.textContent(), path, 'the Details cell holds the exact path');
    const html = await cell.evaluate((e) => e.innerHTML);
    assert.ok(html.includes('&lt;img'), `it is escaped text, not markup: ${html}`);

    const pt = await page.evaluate((a) => window.vmsDebug.map.pointFor(a), mf.addr);
    await page.mouse.move(pt.x, pt.y);
    await page.waitForSelector('.map-tip:not(.hidden)');
    assert.ok((await page.locator('.map-tip').textContent()).includes(FILE), 'the map tooltip names the file as text');
    await page.mouse.click(pt.x, pt.y);
    await page.waitForFunction(() => document.querySelector('.sel-info').textContent.includes('onerror'));
    assert.ok((await page.locator('.sel-info').textContent()).includes(path));
    await screenshot(page, 'hostile-snapshot.png');
    await noMarkup();
  });

  it('exports and the text search do not turn it into markup either', async () => {
    await page.fill('#find', FILE);
    await page.waitForFunction((f) => window.vmsDebug.details.find === f.toLowerCase(), FILE);
    assert.ok(await page.locator('.details-table .vt-row.alloc:not(.hidden)').count() >= 1, 'searching for the literal name finds it');
    assert.ok(decodeURIComponent(page.url()).includes('q='), 'the search is in the URL');
    // reload the deep link that now carries the hostile text in its fragment
    await page.reload();
    await page.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1');
    assert.equal(await page.locator('#find').inputValue(), FILE);
    await noMarkup();
  });
});
