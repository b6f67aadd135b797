// The timeline beyond one daemon (issue 10): `vmscope watch -o FILE` on a growing process
// (vms_grower, 512 KiB every 100 ms), the file opened with the dashboard's Open file… (an
// imported watch whose timeline draws), brush to zoom (a drag across the chart selects a range,
// zooms into it, what-grew covers that range; Reset zoom shows everything again), and a share
// link of the watch opened without the API token: the timeline, read-only, with no way into the
// daemon's own snapshots or live processes; revoked, it stops. Screenshots at 1400 and 1024 px.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipIfOptionalAndMissing, watchedPage, screenshot, waitReady, apiCall, env } from './lib.mjs';
import { e2eSuite, assertPageClean } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the timeline file and share e2e tests');

describe('timeline file, zoom and share', { timeout: 240000 }, () => {
  let page, dir, file, shareUrl, shareToken;
  const s = e2eSuite(missing, { grower: [512, 100] });

  before(async () => {
    page = await watchedPage(await s.browser.newContext());
    dir = mkdtempSync(join(tmpdir(), 'vms-e2e-tlfile-'));
    file = join(dir, 'grower.timeline');
    // 20 ticks at 200 ms, a full snapshot every second (and the first and the last tick)
    execFileSync(env.bin, ['watch', '-p', String(s.grower.pid), '-i', '200ms', '-n', '20', '--snapshot-every', '1s', '-o', file], { stdio: 'ignore' });
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  // the chart's hit area once it is drawn: a resize or a zoom redraws the chart, and between
  // the old one going and the new one coming there is no box
  const hitBox = async () => {
    for (let i = 0; i < 100; i++) {
      const box = await page.locator('.tl-hit').boundingBox().catch(() => null);
      if (box && box.width > 0) return box;
      await page.waitForTimeout(100);
    }
    throw new Error('the timeline chart has no hit area after 10 s');
  };

  it('Open file… imports a timeline file as a watch and draws it', async () => {
    await page.goto(s.daemon.url);
    await waitReady(page, 'processes');
    await page.setInputFiles('#import-file', file);
    await page.waitForURL(/#\/watch\/\d+/);
    await waitReady(page, 'timeline');
    assert.equal(await page.textContent('#tl-state'), 'imported');
    assert.match(await page.textContent('#tl-note'), /imported from a timeline file/);
    assert.equal(await page.getAttribute('body', 'data-samples'), '20');
    await page.waitForSelector('.tl-band-heap, .tl-band-private_data');
    assert.equal(await page.locator('#btn-stop-watch').count(), 0, 'an imported watch cannot be stopped');
    await screenshot(page, 'timeline-imported-1400.png');
    await page.setViewportSize({ width: 1024, height: 900 });
    await page.waitForFunction(() => document.querySelector('.tl-svg').getBoundingClientRect().width <= 1024, null, { timeout: 10000 });
    await screenshot(page, 'timeline-imported-1024.png');
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.waitForFunction(() => document.querySelector('.tl-svg').getBoundingClientRect().width > 1024, null, { timeout: 10000 });
    await assertPageClean(page);
  });

  it('dragging across the chart zooms to that range and what-grew covers it; Reset zoom undoes it', async () => {
    const hit = await hitBox();
    const y = hit.y + hit.height / 2;
    await page.mouse.move(hit.x + hit.width * 0.25, y);
    await page.mouse.down();
    await page.mouse.move(hit.x + hit.width * 0.5, y, { steps: 5 });
    assert.equal(await page.getAttribute('.tl-brush', 'visibility'), 'visible', 'the brush shows the range while dragging');
    await page.mouse.move(hit.x + hit.width * 0.75, y, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/[?&]from=\d+.*[&]to=\d+/);
    await page.waitForSelector('#tl-growth-title');
    assert.match(await page.textContent('#tl-growth-title'), /zoomed range/);
    const m = page.url().match(/from=(\d+).*to=(\d+)/);
    const [from, to] = [Number(m[1]), Number(m[2])];
    const points = Number(await page.getAttribute('body', 'data-points'));
    assert.ok(points >= 5 && points < 20, `the zoomed chart shows the range's samples only: ${points}`);
    assert.match(await page.textContent('#tl-growth-types tbody tr'), /(Heap|Private Data)\s*\+/, 'the growing type grew in the range');
    // the zoomed axis spans the range: its first label is the range's start
    const firstLabel = await page.locator('.tl-axis').filter({ hasText: /^\d\d:\d\d:\d\d/ }).first().textContent();
    assert.equal(firstLabel.slice(0, 8), new Date(from).toISOString().slice(11, 19));
    assert.ok(to - from < 4000, `a range inside the 4 s watch: ${to - from} ms`);
    assert.ok(await page.isVisible('#tl-reset-zoom'));
    await screenshot(page, 'timeline-zoom-1400.png', { fullPage: true });
    await page.setViewportSize({ width: 1024, height: 900 });
    await screenshot(page, 'timeline-zoom-1024.png', { fullPage: true });
    await page.setViewportSize({ width: 1400, height: 1000 });
    // a click (no drag) still picks a point in the zoomed chart
    const hz = await hitBox();
    await page.mouse.click(hz.x + 3, hz.y + hz.height / 2);
    await page.waitForSelector('#tl-point');
    await page.click('#tl-reset-zoom');
    await page.waitForFunction(() => !/from=/.test(location.hash) && document.body.dataset.points === '20', null, { timeout: 10000 });
    assert.ok(!(await page.isVisible('#tl-reset-zoom')));
    // the zoomed range is in the URL: reloading opens it zoomed
    await page.goto(`${s.daemon.base}/${new URL(page.url()).hash.replace(/\?.*$/, '')}?from=${from}&to=${to}`);
    await waitReady(page, 'timeline');
    await page.waitForSelector('#tl-growth-title');
    assert.ok(await page.isVisible('#tl-reset-zoom'), 'a deep link opens zoomed');
    await assertPageClean(page);
  });

  it('a share link opens the timeline read-only without the token; revoked, it stops', async () => {
    await page.click('#btn-share-watch');
    await page.click('.dialog button.primary');
    await page.waitForSelector('#share-link');
    shareUrl = await page.inputValue('#share-link');
    assert.match(shareUrl, /\/s\/[0-9a-f]{64}#\/timeline$/);
    shareToken = shareUrl.match(/\/s\/([0-9a-f]{64})/)[1];
    await page.waitForSelector('#share-list .share-item');
    const other = await watchedPage(await s.browser.newContext()); // no token in this context
    await other.goto(shareUrl);
    await waitReady(other, 'timeline');
    assert.match(await other.textContent('#share-banner'), /Read-only shared timeline/);
    assert.equal(await other.textContent('#shared-badge'), 'Shared timeline · read only');
    assert.equal(await other.getAttribute('body', 'data-samples'), '20');
    assert.equal(await other.locator('#btn-stop-watch, #btn-share-watch').count(), 0, 'no actions on a shared timeline');
    assert.equal(await other.locator('.topnav').isVisible(), false, 'no navigation into the daemon');
    // what grew between two points works through the link, with no links to this daemon's snapshots
    const hit = await other.locator('.tl-hit').boundingBox();
    await other.mouse.click(hit.x + 3, hit.y + hit.height / 2);
    // one point: its nearest full snapshot, through the link's own route, without the token
    const snapHref = await other.getAttribute('#tl-download-point', 'href');
    assert.match(snapHref, new RegExp(`^/api/v1/shared/${shareToken}/watch/snapshots/\\d+$`));
    const snapDoc = await (await fetch(new URL(snapHref, s.daemon.base))).json();
    assert.equal(snapDoc.process.pid, s.grower.pid, 'the full snapshot opens through the link');
    await other.mouse.click(hit.x + hit.width - 3, hit.y + hit.height / 2);
    await other.waitForSelector('#tl-growth-types tbody tr');
    assert.equal(await other.locator('#btn-open-diff, #tl-growth-allocs a').count(), 0);
    const diff = await (await fetch(new URL(await other.getAttribute('#tl-download-diff', 'href'), s.daemon.base))).json();
    assert.ok(diff.from_id && diff.to_id, 'their diff opens through the link');
    await screenshot(other, 'timeline-shared-1400.png', { fullPage: true });
    await other.setViewportSize({ width: 1024, height: 900 });
    await screenshot(other, 'timeline-shared-1024.png', { fullPage: true });
    await assertPageClean(other);
    await apiCall(s.daemon, 'DELETE', `/shares/${shareToken}`);
    const r = await other.goto(shareUrl.replace(/#.*$/, ''));
    assert.equal(r.status(), 404, 'a revoked link opens nothing');
    await other.context().close();
  });
});
