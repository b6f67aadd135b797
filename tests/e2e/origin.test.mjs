// Where a snapshot came from, and what the dashboard may do with it (issue 12, points 3, 6, 7):
// - a file opened with "Open file…" is stored without a share link, and is marked "imported"
//   (and "from host X" when it was taken elsewhere) in its header and in the snapshots list;
// - Refresh and Show changes on such a snapshot refuse in a sentence and never scan the local
//   process that happens to have the same pid;
// - the Share dialog lists a snapshot's live links, each with Revoke;
// - Export on a live view exports the scan on screen: no new scan, nothing stored, no navigation.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipIfOptionalAndMissing, startMapfile, watchedPage, screenshot, waitReady, apiCall } from './lib.mjs';
import { e2eSuite, assertPageClean, waitSnapshotView } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the snapshot-origin e2e tests');

describe('snapshot origin, shares and exports', { timeout: 240000 }, () => {
  let context;
  let page;
  const scans = []; // POST /processes/{pid}/snapshots and GET /processes/{pid} the page made
  const s = e2eSuite(missing, { testee: true, tmp: 'origin' });

  before(async () => {
    context = await s.browser.newContext({ acceptDownloads: true });
    page = await watchedPage(context, { width: 1400, height: 1000 });
    page.on('request', (r) => { if (/\/api\/v1\/processes\/\d+(\/snapshots)?$/.test(new URL(r.url()).pathname)) scans.push(`${r.method()} ${new URL(r.url()).pathname}`); });
    await page.goto(s.daemon.url);
    await waitReady(page, 'processes');
  });

  const clean = () => assertPageClean(page);
  const waitSnapshot = (id) => waitSnapshotView(page, id);

  it('an opened file from another host is private, marked, and never refreshed from a local pid', async () => {
    // A snapshot "of another machine" whose pid is a live local process (the testee's).
    const doc = await apiCall(s.daemon, 'GET', `/processes/${s.testee.pid}`);
    doc.host = 'elsewhere.example';
    doc.process.name = 'postgres';
    const file = join(s.tmp, 'foreign.json');
    writeFileSync(file, JSON.stringify(doc));
    await page.setInputFiles('#import-file', file);
    await page.waitForURL(/#\/snapshot\/\d+/);
    await waitSnapshot();
    const id = page.url().match(/#\/snapshot\/(\d+)/)[1];
    const shares = await apiCall(s.daemon, 'GET', `/snapshots/${id}/shares`);
    assert.deepEqual(shares.shares, [], 'opening a file creates no share link');

    assert.equal(await page.locator('.where [data-mark=imported]').innerText(), 'imported');
    assert.equal(await page.locator('.where [data-mark=foreign]').innerText(), 'from host elsewhere.example');
    const note = await page.locator('.note[data-note=origin]').innerText();
    assert.match(note, /imported from a file and taken on host elsewhere\.example/);
    assert.match(note, /Refresh, Show changes and Watch are not available/);
    await screenshot(page, 'origin-imported-foreign.png', { top: true });

    scans.length = 0;
    const url = page.url();
    // (aria-disabled: a click still works, and says why)
    await page.click('#btn-refresh', { force: true });
    await page.waitForSelector('#toast.show.error');
    assert.match(await page.locator('#toast').innerText(), /^Refresh: This snapshot was imported/);
    await page.keyboard.press('F5');
    await page.click('#btn-changes', { force: true });
    await page.waitForFunction(() => /^Show changes: /.test(document.getElementById('toast').textContent));
    await page.waitForTimeout(300);
    assert.deepEqual(scans, [], 'no local process was scanned');
    assert.equal(page.url(), url, 'the view stays on the imported snapshot');

    // the snapshots list says the same (next to a scan of the real testee)
    const scan = await apiCall(s.daemon, 'POST', `/processes/${s.testee.pid}/snapshots`, { share: false });
    await page.goto(`${s.daemon.base}/#/snapshots`);
    await waitReady(page, 'snapshots');
    const row = page.locator(`tr.snap[data-id="${id}"]`);
    assert.equal(await row.locator('[data-mark=imported]').count(), 1, 'the list marks the import');
    assert.equal(await row.locator('td.host.foreign').innerText(), 'elsewhere.example', 'and its foreign host');
    await screenshot(page, 'origin-snapshots-list.png');
    // its filter takes a piece of the name or of the command line, any case
    const listed = () => page.evaluate(() => [...document.querySelectorAll('tr.snap')].map((r) => r.dataset.id).sort().join());
    assert.equal(await listed(), [id, String(scan.id)].sort().join());
    await page.fill('#snap-filter', 'POSTG');
    await page.waitForURL(/q=POSTG/);
    await page.waitForFunction((want) => [...document.querySelectorAll('tr.snap')].map((r) => r.dataset.id).join() === want, id);
    await page.fill('#snap-filter', 'VMS-E2E-TESTEE');
    await page.waitForURL(/q=VMS-E2E-TESTEE/);
    await page.waitForFunction((n) => document.querySelectorAll('tr.snap').length === n, 2);
    await clean();
  });

  it('Refresh refuses when the process has exited, and scans nothing', async () => {
    const f = join(s.tmp, 'short.bin');
    writeFileSync(f, Buffer.alloc(4096, 1));
    const mf = await startMapfile(f);
    const r = await apiCall(s.daemon, 'POST', `/processes/${mf.pid}/snapshots`, { share: false });
    await mf.stop();
    await page.goto(`${s.daemon.base}/#/snapshot/${r.id}`);
    await waitSnapshot(String(r.id));
    scans.length = 0;
    await page.click('#btn-refresh');
    await page.waitForFunction(() => /^Refresh: pid \d+ .*has exited/.test(document.getElementById('toast').textContent));
    assert.deepEqual(scans, [], 'nothing was scanned');
    await clean();
  });

  it('the Share dialog lists the live links and revokes one', async () => {
    const r = await apiCall(s.daemon, 'POST', `/processes/${s.testee.pid}/snapshots`, { share: false });
    const id = String(r.id);
    await page.goto(`${s.daemon.base}/#/snapshot/${id}`);
    await waitSnapshot(id);
    await page.click('#btn-share');
    await page.waitForSelector('#share-list h3');
    assert.match(await page.locator('#share-list h3').innerText(), /No live links/);
    await page.click('dialog.dialog button.primary');
    await page.waitForSelector('#share-list .share-item');
    await page.click('#share-omit');
    await page.click('dialog.dialog button.primary');
    await page.waitForFunction(() => document.querySelectorAll('#share-list .share-item').length === 2);
    assert.match(await page.locator('#share-list h3').innerText(), /Live links to this snapshot \(2\)/);
    assert.match(await page.locator('#share-list').innerText(), /command line left out/);
    await screenshot(page, 'origin-share-dialog.png');
    const token = await page.locator('#share-list .share-item >> nth=0').getAttribute('data-token');
    const res0 = await fetch(`${s.daemon.base}/api/v1/shared/${token}`);
    assert.equal(res0.status, 200, 'the link works before it is revoked');
    await page.click(`#share-list button[data-token="${token}"]`);
    await page.waitForFunction(() => document.querySelectorAll('#share-list .share-item').length === 1);
    const res = await fetch(`${s.daemon.base}/api/v1/shared/${token}`);
    assert.equal(res.status, 404, 'the revoked link no longer works');
    const left = await apiCall(s.daemon, 'GET', `/snapshots/${id}/shares`);
    assert.equal(left.shares.length, 1);
    await page.keyboard.press('Escape');
    await clean();
  });

  it('the tab names the process; a snapshot that does not exist offers no Try again', async () => {
    const r = await apiCall(s.daemon, 'POST', `/processes/${s.testee.pid}/snapshots`, { share: false });
    await page.goto(`${s.daemon.base}/#/snapshot/${r.id}`);
    await waitSnapshot(String(r.id));
    assert.equal(await page.title(), `vms_testee (pid ${s.testee.pid}) · snapshot #${r.id} · vmscope`);
    await page.goto(`${s.daemon.base}/#/snapshot/987654`);
    await page.waitForSelector('.error-panel');
    assert.match(await page.locator('.error-panel').innerText(), /Not found/);
    assert.equal(await page.locator('.error-panel button', { hasText: 'Try again' }).count(), 0, 'no Try again on a 404');
    await clean();
  });

  it('Export on a live view exports the scan on screen, stores nothing and stays', async () => {
    const f = join(s.tmp, 'grow.bin');
    writeFileSync(f, Buffer.alloc(64 * 1024, 7));
    const mf = await startMapfile(f);
    try {
      await page.goto(`${s.daemon.base}/#/live/${mf.pid}`);
      await page.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1' && window.vmsDebug.view.source.kind === 'live');
      const taken = await page.evaluate(() => window.vmsDebug.view.snap.taken_at);
      const before = (await apiCall(s.daemon, 'GET', '/snapshots?limit=1000')).snapshots.length;
      const grown = await mf.grow(); // the process changes after the scan on screen
      const url = page.url();
      for (const fmt of ['csv', 'txt']) {
        await page.click('#btn-export');
        const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`.menu-items button[data-fmt=${fmt}]`)]);
        const text = readFileSync(await dl.path(), 'utf8');
        assert.ok(text.includes(taken), `the ${fmt} export is of the scan on screen (taken ${taken})`);
        assert.ok(!text.includes(grown.replace(/^0x/, '')), `the ${fmt} export has no mapping made after that scan (${grown})`);
      }
      const after_ = (await apiCall(s.daemon, 'GET', '/snapshots?limit=1000')).snapshots.length;
      assert.equal(after_, before, 'nothing was stored');
      assert.equal(page.url(), url, 'the live view stays');
    } finally {
      await mf.stop();
    }
    await clean();
  });
});
