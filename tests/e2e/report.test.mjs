// Export → HTML report (issue 13, "reports that travel"): the dashboard saves one self-contained
// page of the snapshot on screen (not a new scan), and that file, opened from file:// in
// chromium as a mail attachment would be, renders the snapshot's numbers, runs no script and
// requests nothing. The process is named <script>&"'x and maps a file whose name is markup.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { skipIfOptionalAndMissing, startMapfile, watchedPage, screenshot, apiCall, waitReady } from './lib.mjs';
import { e2eSuite, assertPageClean, waitSnapshotView } from './harness.mjs';

const COMM = '<script>&"\'x';
const FILE = '"><img src=x onerror=alert(1)> & \'q\'.bin';
const missing = skipIfOptionalAndMissing('the HTML report e2e test');

const kib = (b) => `${Math.floor(b / 1024) + (b % 1024 >= 512 ? 1 : 0)}`.replace(/\B(?=(\d{3})+$)/g, ',') + ' K';

describe('Export → HTML report', { timeout: 240000 }, () => {
  let mf;
  let page;
  const s = e2eSuite(missing, { tmp: 'report', context: { acceptDownloads: true } });

  before(async () => {
    const path = join(s.tmp, FILE);
    writeFileSync(path, Buffer.alloc(3 * 4096, 0x41));
    mf = await startMapfile(path, COMM);
    s.stops.push(() => mf.stop());
    page = await watchedPage(s.context);
    await page.goto(s.daemon.url); // takes the token from the URL
    await waitReady(page, 'processes');
  });

  // Click Export → HTML report and save the download under name; returns the file's path.
  async function exportHtml(name) {
    await page.click('#btn-export');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('.menu-items button[data-fmt=html]')]);
    assert.match(dl.suggestedFilename(), /\.html$/);
    const file = join(s.tmp, name);
    await dl.saveAs(file);
    return file;
  }

  // Open file in a fresh context at width px, recording every request and console message.
  async function openReport(file, width) {
    const ctx = await s.browser.newContext({ viewport: { width, height: 900 } });
    const p = await ctx.newPage();
    const requests = [];
    const messages = [];
    p.on('request', (r) => requests.push(r.url()));
    p.on('console', (m) => messages.push(m.text()));
    p.on('dialog', (d) => { messages.push(`dialog ${d.message()}`); d.dismiss().catch(() => {}); });
    const url = pathToFileURL(file).href;
    await p.goto(url);
    await p.waitForLoadState('load');
    return { ctx, p, url, requests, messages };
  }

  it('exports the stored snapshot on screen; the file renders its numbers and nothing else runs', async () => {
    const { id } = await apiCall(s.daemon, 'POST', `/processes/${mf.pid}/snapshots`, { share: false });
    const snap = await apiCall(s.daemon, 'GET', `/snapshots/${id}`);
    const grown = await mf.grow(); // after the snapshot: must not be in its report
    await page.goto(`${s.daemon.base}/#/snapshot/${id}`);
    await waitSnapshotView(page, id);
    const file = await exportHtml('stored.html');

    for (const width of [1024, 1400]) {
      const r = await openReport(file, width);
      const got = await r.p.evaluate(() => {
        const rows = {};
        for (const tr of document.querySelectorAll('#summary tr[data-type]')) {
          rows[tr.dataset.type] = [...tr.querySelectorAll('td')].slice(1).map((td) => ({ bytes: td.dataset.bytes ?? null, count: td.dataset.count ?? null, text: td.textContent }));
        }
        return {
          rows,
          h1: document.querySelector('h1').firstChild.textContent,
          scripts: document.scripts.length,
          imgs: document.images.length,
          bold: document.querySelectorAll('b').length,
          details: document.querySelectorAll('#details-table tr.a').length,
          cells: [...document.querySelectorAll('td.d')].map((td) => td.textContent),
          map: [...document.querySelectorAll('.map i[title]')].map((i) => i.title),
          text: document.body.innerText,
          styled: getComputedStyle(document.querySelector('.bar')).display,
        };
      });
      assert.equal(got.h1.trim(), COMM, 'the process name is shown as text');
      assert.equal(got.scripts, 0, 'no script element');
      assert.equal(got.imgs, 0, 'no image made from the file name');
      assert.ok(got.cells.some((c) => c.endsWith(FILE)), 'the hostile path is a Details cell\'s text');
      assert.ok(got.map.some((t) => t.endsWith(FILE)), 'and the map tooltip\'s');
      assert.equal(got.styled, 'flex', 'the inline styles apply from file://');
      assert.equal(got.details, snap.allocations.length, 'every allocation is listed');
      assert.ok(!got.text.includes(grown.replace(/^0x/, '')), `a mapping made after the snapshot (${grown}) is not in it`);
      const cols = Object.keys(snap.total);
      for (const t of snap.summary) {
        const row = got.rows[t.type];
        assert.ok(row, `a row for ${t.type}`);
        cols.forEach((c, i) => {
          if (t.type === 'free' && c !== 'size') return;
          assert.equal(Number(row[i].bytes), t.columns[c], `${t.type} ${c} bytes`);
          if (t.type !== 'free') assert.equal(row[i].text, kib(t.columns[c]), `${t.type} ${c} shown`);
        });
        assert.equal(Number(row[cols.length].count), t.blocks, `${t.type} blocks`);
        assert.equal(Number(row[cols.length + 1].bytes), t.largest, `${t.type} largest`);
      }
      cols.forEach((c, i) => assert.equal(Number(got.rows.total[i].bytes), snap.total[c], `total ${c}`));
      assert.deepEqual(r.requests, [r.url], 'the page requested nothing but itself');
      assert.deepEqual(r.messages, [], 'no console message, no dialog');
      await screenshot(r.p, `report-${width}.png`);
      await screenshot(r.p, `report-${width}-full.png`, { fullPage: true });
      await r.ctx.close();
    }
    await assertPageClean(page);
  });

  it('a live view exports the scan on screen (POST /export.html), not a new one', async () => {
    await page.goto(`${s.daemon.base}/#/live/${mf.pid}`);
    await page.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1' && window.vmsDebug.view.source.kind === 'live');
    const taken = await page.evaluate(() => window.vmsDebug.view.snap.taken_at);
    const before = (await apiCall(s.daemon, 'GET', '/snapshots?limit=1000')).snapshots.length;
    const grown = await mf.grow();
    const file = await exportHtml('live.html');
    const r = await openReport(file, 1400);
    const shown = await r.p.evaluate(() => ({ taken: document.querySelector('#taken').textContent, text: document.body.innerText }));
    assert.equal(shown.taken, taken, 'the report is of the scan on screen');
    assert.ok(!shown.text.includes(grown.replace(/^0x/, '')), 'without the mapping made after it');
    assert.deepEqual(r.requests, [r.url]);
    await r.ctx.close();
    assert.equal((await apiCall(s.daemon, 'GET', '/snapshots?limit=1000')).snapshots.length, before, 'nothing was stored');
    await assertPageClean(page);
  });
});
