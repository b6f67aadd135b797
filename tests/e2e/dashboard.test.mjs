// The dashboard end to end, in headless chromium, against the real daemon on a random port:
// pick a process; summary bars, type table, details; a type filters the details; a click on the
// map selects the region in the table; two snapshots and their diff; a share link in a fresh
// browser context without the token; import of an exported file; deep links; errors in words.
// Screenshots of every view go to $VMSCOPE_ARTIFACTS.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipIfOptionalAndMissing, startMapfile, watchedPage, screenshot, waitReady, apiCall } from './lib.mjs';
import { e2eSuite, assertPageClean, waitSnapshotView } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the dashboard e2e tests');

describe('dashboard', { timeout: 300000 }, () => {
  let page;
  let snapId;
  const s = e2eSuite(missing, { testee: true, tmp: 'files', context: { acceptDownloads: true } });

  before(async () => {
    page = await watchedPage(s.context);
  });

  const assertClean = (p = page) => assertPageClean(p);
  const waitSnapshot = waitSnapshotView;

  async function openSnapshotOf(pid) {
    await page.goto(`${s.daemon.base}/#/processes`);
    await waitReady(page, 'processes');
    await page.fill('#proc-search', String(pid));
    await page.click(`tr.proc[data-pid="${pid}"]`);
    await page.waitForURL(/#\/snapshot\/\d+/);
    await waitSnapshot(page);
    return page.url().match(/#\/snapshot\/(\d+)/)[1];
  }

  it('takes the token from the URL, hides it, and lists processes', async () => {
    await page.goto(s.daemon.url);
    await waitReady(page, 'processes');
    assert.ok(!page.url().includes('token'), `the token is stripped from the address bar (${page.url()})`);
    const stored = await page.evaluate(() => sessionStorage.getItem('vmscope.token'));
    assert.equal(stored, s.daemon.token, 'the token is kept in sessionStorage');
    const rows = await page.locator('tr.proc').count();
    assert.ok(rows >= 2, `processes listed (${rows})`);
    await page.fill('#proc-search', String(s.testee.pid));
    // the testee, and only processes whose pid, name or command line contains those digits
    // (other tests running in parallel may have them in a temporary path)
    await page.waitForFunction((pid) => document.querySelectorAll(`tr.proc[data-pid="${pid}"]`).length === 1, s.testee.pid);
    const found = await page.locator('tr.proc').allInnerTexts();
    assert.ok(found.every((t) => t.includes(String(s.testee.pid))), `search by pid keeps only matches (${found.length} rows)`);
    assert.match(await page.locator(`tr.proc[data-pid="${s.testee.pid}"]`).innerText(), /vms_testee/);
    await page.fill('#proc-search', '');
    // sorting: click PID twice and check the order flips
    await page.click('th[data-key=pid]');
    const firstAsc = Number(await page.locator('tr.proc').first().getAttribute('data-pid'));
    await page.click('th[data-key=pid]');
    const firstDesc = Number(await page.locator('tr.proc').first().getAttribute('data-pid'));
    assert.ok(firstDesc > firstAsc, `sorting by PID flips (${firstAsc} then ${firstDesc})`);
    await screenshot(page, 'dashboard-processes.png');
    await assertClean();
  });

  it('picking a process shows summary bars, the type table and details', async () => {
    snapId = await openSnapshotOf(s.testee.pid);
    assert.match(await page.locator('.proc-title').innerText(), new RegExp(`pid ${s.testee.pid}`));
    // four bars (Private WS beside Private), each split into coloured segments
    assert.equal(await page.locator('.bar').count(), 4);
    for (const b of ['committed', 'private', 'private_ws', 'total_ws']) {
      const segs = await page.locator(`.bar[data-bar=${b}] .bar-seg`).count();
      assert.ok(segs >= 2, `${b} bar has segments (${segs})`);
    }
    assert.equal(await page.locator('.legend-item').count(), 11, 'a legend entry per type');
    // type table: 11 types + Total, with every column and hover help
    assert.equal(await page.locator('.type-table tbody tr').count(), 12);
    const heads = await page.locator('.type-table thead th').allInnerTexts();
    for (const h of ['Size', 'Committed', 'Private', 'Total WS', 'Private WS', 'Shareable WS', 'Shared WS', 'Locked WS', 'Pss', 'Swap', 'Blocks', 'Largest']) {
      assert.ok(heads.some((x) => x.startsWith(h)), `column ${h} present`);
    }
    const help = await page.locator('.type-table thead th[data-col=private_ws]').getAttribute('title');
    assert.ok(help && help.length > 20, 'columns explain themselves on hover');
    const typeHelp = await page.locator('.type-table tbody tr[data-type=heap] th').getAttribute('title');
    assert.ok(typeHelp && typeHelp.length > 20, 'types explain themselves on hover');
    // Free's largest block is called out
    assert.equal(await page.locator('td.largest-free').count(), 1);
    assert.match(await page.locator('.callout').innerText(), /Largest free block/);
    // details: rows, thread stacks named after the testee's workers
    const rows = await page.locator('.details-table .vt-row:not(.hidden)').count();
    assert.ok(rows > 10, `details rows rendered (${rows})`);
    await page.fill('#find', 'worker-0');
    await page.waitForFunction(() => window.vmsDebug.details.rows.length >= 1 && window.vmsDebug.details.find === 'worker-0');
    assert.match(await page.locator('.details-table .vt-row:not(.hidden).alloc').first().innerText(), /worker-0/);
    await page.fill('#find', '');
    await page.waitForFunction(() => window.vmsDebug.details.find === '');
    await screenshot(page, 'dashboard-snapshot.png', { top: true });
    await screenshot(page, 'dashboard-snapshot-full.png', { fullPage: true, top: true });
    await assertClean();
  });

  it('clicking a type filters the details table, Total clears it', async () => {
    await page.click('.type-table tr[data-type=shareable]');
    await page.waitForFunction(() => window.vmsDebug.details.typeFilter === 'shareable');
    const types = await page.locator('.details-table .vt-row:not(.hidden).alloc .vt-cell.type').allInnerTexts();
    assert.ok(types.length >= 3, `the testee's shared mappings are listed (${types.length})`);
    assert.ok(types.every((t) => t.trim() === 'Shareable'), `only Shareable rows: ${types.join(', ')}`);
    assert.match(page.url(), /type=shareable/, 'the filter is in the URL');
    assert.equal(await page.locator('.chip[data-type=shareable]').count(), 1, 'the filter is shown');
    await screenshot(page, 'dashboard-filter-shareable.png');
    await page.click('.type-table tr.total');
    await page.waitForFunction(() => window.vmsDebug.details.typeFilter === null);
    assert.ok(!/type=/.test(page.url()));
    await assertClean();
  });

  it('a click on the map selects that region in the details table, and the other way round', async () => {
    const addr = s.testee.ready.memfd;
    assert.ok(addr, 'the testee printed its memfd address');
    const pt = await page.evaluate((a) => window.vmsDebug.map.pointFor(a), addr);
    assert.ok(pt, 'the memfd region is on the map');
    await page.mouse.move(pt.x, pt.y);
    await page.waitForSelector('.map-tip:not(.hidden)');
    assert.match(await page.locator('.map-tip').innerText(), /memfd: ?vms-memfd/, 'hover names the region');
    await page.mouse.click(pt.x, pt.y);
    const sel = page.locator('.details-table .vt-row:not(.hidden).sel');
    await sel.waitFor();
    const text = await sel.innerText();
    assert.match(text, new RegExp(addr.replace(/^0x/, '')), `the selected row is at ${addr}: ${text}`);
    assert.match(text, /memfd: ?vms-memfd/);
    assert.match(page.url(), new RegExp(`sel=${addr}`), 'the selection is in the URL');
    assert.match(await page.locator('.sel-info').innerText(), /memfd: ?vms-memfd/);
    await screenshot(page, 'dashboard-map-selected.png');

    // table -> map: click another row, the map's selection follows
    // (a thread stack, not [heap]: an ASan build of the testee has no brk heap and so many
    // shadow-memory rows that the stack is off screen: find it first)
    await page.fill('#find', 'worker-0');
    await page.waitForFunction(() => window.vmsDebug.details.find === 'worker-0');
    const stackRow = page.locator('.details-table .vt-row.alloc:not(.hidden)', { hasText: '(worker-0)' }).first();
    await stackRow.click();
    await page.fill('#find', '');
    await page.waitForFunction(() => window.vmsDebug.details.find === '');
    const mapSel = await page.evaluate(() => { const s = window.vmsDebug.map.sel; return s && window.vmsDebug.model.allocs[s.a].type; });
    assert.equal(mapSel, 'stack');

    // deep link: reloading the URL restores filter and selection
    await page.click('.type-table tr[data-type=shareable]');
    // (no click at the first point: the page has scrolled since, and whatever lies under it
    // now, e.g. an Image when the header grew a line, would clear the type filter)
    const pt2 = await page.evaluate((a) => window.vmsDebug.map.pointFor(a), addr);
    await page.mouse.click(pt2.x, pt2.y);
    await page.waitForFunction((a) => location.hash.includes(`sel=${a}`), addr);
    const url = page.url();
    await page.goto('about:blank');
    await page.goto(url);
    await waitSnapshot(page, snapId);
    assert.equal(await page.evaluate(() => window.vmsDebug.details.typeFilter), 'shareable');
    assert.match(await page.locator('.details-table .vt-row:not(.hidden).sel').innerText(), /memfd: ?vms-memfd/);
    await page.click('.type-table tr.total');
    await assertClean();
  });

  it('zooming the map into a range', async () => {
    await page.click('.details-table .vt-row:not(.hidden).alloc >> nth=1');
    await page.click('#map-zoom-sel');
    await page.waitForSelector('#map-unzoom');
    assert.match(page.url(), /zoom=0x[0-9a-f]+-0x[0-9a-f]+/);
    assert.match(await page.locator('.map-range').innerText(), /Zoomed to/);
    await screenshot(page, 'dashboard-map-zoomed.png');
    await page.click('#map-unzoom');
    await page.waitForSelector('#map-unzoom', { state: 'detached' });
    await assertClean();
  });

  it('two snapshots and the diff between them', async () => {
    const f = join(s.tmp, 'grow.bin');
    (await import('node:fs')).writeFileSync(f, Buffer.alloc(64 * 1024, 7));
    const mf = await startMapfile(f);
    try {
      const first = await openSnapshotOf(mf.pid);
      const added = await mf.grow();
      await page.keyboard.press('F5'); // Refresh = a new snapshot (VMMap's F5)
      await page.waitForURL((u) => /#\/snapshot\/\d+/.test(u.hash) && !u.hash.startsWith(`#/snapshot/${first}`));
      await waitSnapshot(page);
      const second = page.url().match(/#\/snapshot\/(\d+)/)[1];
      assert.notEqual(second, first);
      await page.click('#btn-changes');
      await page.waitForURL(new RegExp(`#/diff/${first}/${second}`));
      await waitReady(page, 'diff');
      assert.match(await page.locator('.view-header').innerText(), new RegExp(`#${first}[\\s\\S]*#${second}`));
      assert.equal(await page.locator('.diff-types tbody tr').count(), 12, 'per-type deltas for every type + total');
      const addedRows = page.locator('.diff-table .vt-row:not(.hidden).added');
      assert.ok(await addedRows.count() >= 1, 'the new mapping is an added row');
      const txt = await addedRows.first().innerText();
      assert.match(txt, new RegExp(added.replace(/^0x/, '')), `added row at ${added}: ${txt}`);
      assert.match(txt, /\+2 MiB/, 'with its size delta');
      assert.match(await page.locator('.diff-types tr[data-type=shareable]').innerText(), /\+2 MiB/, 'per-type delta');
      await screenshot(page, 'dashboard-diff.png', { fullPage: true });
      await page.click('.segmented button[data-show=added]');
      assert.ok(await page.locator('.diff-table .vt-row:not(.hidden).alloc').count() >= 1);
      assert.equal(await page.locator('.diff-table .vt-row:not(.hidden).removed').count(), 0);
    } finally {
      await mf.stop();
    }
    await assertClean();
  });

  it('the snapshots list opens, compares and deletes', async () => {
    await page.goto(`${s.daemon.base}/#/snapshots`);
    await waitReady(page, 'snapshots');
    const n = await page.locator('tr.snap').count();
    assert.ok(n >= 3, `snapshots listed (${n})`);
    await screenshot(page, 'dashboard-snapshots.png');
    const victim = await page.locator('tr.snap').first().getAttribute('data-id');
    await page.click(`tr.snap[data-id="${victim}"] button[data-act=delete]`);
    await page.click('dialog.dialog button.primary');
    await page.waitForSelector(`tr.snap[data-id="${victim}"]`, { state: 'detached' });
    assert.equal(await page.locator('tr.snap').count(), n - 1);
    await assertClean();
  });

  it('a share link opens read-only in a fresh browser with no token', async () => {
    await page.goto(`${s.daemon.base}/#/snapshot/${snapId}`);
    await waitSnapshot(page, snapId);
    await page.click('#btn-share');
    await page.click('#share-omit');
    await page.click('dialog.dialog button.primary');
    const link = await page.locator('#share-link').inputValue();
    assert.match(link, /\/s\/[0-9A-Za-z_-]+$/);
    await page.keyboard.press('Escape');

    const fresh = await s.browser.newContext({ acceptDownloads: true });
    const other = await watchedPage(fresh);
    const authSeen = [];
    other.on('request', (r) => { if (r.headers().authorization) authSeen.push(r.url()); });
    await other.goto(link);
    await other.waitForFunction(() => document.body.dataset.ready === '1' && window.vmsDebug);
    assert.equal(await other.evaluate(() => sessionStorage.getItem('vmscope.token')), null);
    assert.deepEqual(authSeen, [], 'a share link sends no token');
    assert.match(await other.locator('.proc-title').innerText(), new RegExp(`pid ${s.testee.pid}`));
    assert.match(await other.locator('.where').innerText(), /read only/);
    assert.ok(await other.locator('#shared-badge').isVisible());
    for (const id of ['#btn-refresh', '#btn-changes', '#btn-share', '#btn-open']) {
      assert.equal(await other.locator(id).count(), 0, `${id} is not offered on a share`);
    }
    assert.match(await other.locator('.cmdline').innerText(), /left out/, 'the command line was left out');
    assert.equal(await other.locator('.type-table tbody tr').count(), 12);
    // exports work without a token too
    await other.click('#btn-export');
    const [dl] = await Promise.all([other.waitForEvent('download'), other.click('.menu-items button[data-fmt=csv]')]);
    const csv = readFileSync(await dl.path(), 'utf8');
    assert.ok(csv.length > 100 && /,/.test(csv), 'CSV export downloaded');
    await screenshot(other, 'dashboard-shared.png');
    await assertClean(other);
    await fresh.close();
  });

  it('imports an exported JSON file', async () => {
    await page.goto(`${s.daemon.base}/#/snapshot/${snapId}`);
    await waitSnapshot(page, snapId);
    await page.click('#btn-export');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('.menu-items button[data-fmt=json]')]);
    const file = join(s.tmp, 'exported.json');
    await dl.saveAs(file);
    const j = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(j.format_version, 1);
    await page.setInputFiles('#import-file', file);
    await page.waitForURL((u) => /#\/snapshot\/\d+/.test(u.hash) && !u.hash.startsWith(`#/snapshot/${snapId}`));
    await waitSnapshot(page);
    const newId = page.url().match(/#\/snapshot\/(\d+)/)[1];
    assert.notEqual(newId, snapId);
    assert.match(await page.locator('.proc-title').innerText(), new RegExp(`pid ${s.testee.pid}`));
    const before = await apiCall(s.daemon, 'GET', `/snapshots/${snapId}`);
    const after_ = await apiCall(s.daemon, 'GET', `/snapshots/${newId}`);
    assert.equal(after_.allocations.length, before.allocations.length, 'the import has the same allocations');
    await screenshot(page, 'dashboard-imported.png', { top: true });
    // a file nested deeper than the daemon accepts (issue 11): refused here, with a message,
    // and never sent (it once overflowed a daemon worker's stack)
    const deep = join(s.tmp, 'deep.json');
    writeFileSync(deep, '{"format_version":1,"x":' + '['.repeat(850) + ']'.repeat(850) + '}');
    const listed = (await apiCall(s.daemon, 'GET', '/snapshots?limit=1000')).snapshots.length;
    await page.setInputFiles('#import-file', deep);
    await page.waitForSelector('#toast.show.error');
    assert.match(await page.locator('#toast').innerText(), /deep\.json[\s\S]*deeper than 64 levels/);
    assert.equal((await apiCall(s.daemon, 'GET', '/snapshots?limit=1000')).snapshots.length, listed, 'nothing imported');
    await assertClean();
  });

  it('shows API errors in words', async () => {
    await page.goto(`${s.daemon.base}/#/snapshot/987654`);
    await page.waitForSelector('.error-panel');
    assert.match(await page.locator('.error-panel').innerText(), /Not found[\s\S]*987654/);
    await screenshot(page, 'dashboard-error-not-found.png');
    // a process that has exited: "Process gone", in words
    const { spawnSync } = await import('node:child_process');
    const gone = spawnSync('true').pid;
    await page.goto(`${s.daemon.base}/#/live/${gone}`);
    await page.waitForSelector('.error-panel');
    assert.match(await page.locator('.error-panel').innerText(), /Process gone/);
    // a tab without the token is told how to get in
    const bare = await s.browser.newContext();
    const p2 = await watchedPage(bare);
    await p2.goto(`${s.daemon.base}/`);
    await p2.waitForSelector('.error-panel');
    assert.match(await p2.locator('.error-panel').innerText(), /needs the API token[\s\S]*#token=/);
    await screenshot(p2, 'dashboard-error-no-token.png');
    await bare.close();
  });
  it('says which recognisers named memory, from which signal, as the JSON does', async () => {
    await page.goto(`${s.daemon.base}/#/snapshot/${snapId}`);
    await waitSnapshot(page, snapId);
    const snap = await apiCall(s.daemon, 'GET', `/snapshots/${snapId}`);
    const named = snap.attribution.recognisers.filter((r) => r.claimed > 0);
    if (!named.length) {
      // a testee built with ASan has no glibc malloc memory, and then nothing may be named
      assert.equal(await page.locator('.note[data-note=recognisers]').count(), 0, 'no "Named by" without names');
      return;
    }
    const note = await page.locator('.note[data-note=recognisers]').innerText();
    for (const r of named) assert.ok(note.includes(`${r.key} (${r.claimed}`), `header names ${r.key} (${note})`);
    // an allocation a recogniser named: its Details cell says what and, on hover, who and from what signal
    const al = snap.allocations.find((a) => a.owner);
    await page.fill('#find', al.details);
    await page.waitForFunction((d) => window.vmsDebug.details.find === d, al.details);
    const cell = page.locator('.details-table .vt-row:not(.hidden).alloc .details').first();
    assert.equal(await cell.innerText(), al.details);
    const title = await cell.getAttribute('title');
    assert.ok(title.includes(`Named by the ${al.owner} recogniser from ${al.signal}`), `hover names owner and signal (${title})`);
    await page.fill('#find', '');
    await page.waitForFunction(() => window.vmsDebug.details.find === '');
    await assertClean();
  });

});
