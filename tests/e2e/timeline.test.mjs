// The timeline end to end: on a process whose heap grows steadily (vms_grower), the snapshot
// view's Watch button starts a watch and opens its timeline; the stacked chart draws a Heap band
// and grows while the page polls; two clicks on the chart compare the points (what grew per
// type, "nearest full snapshot: …", the growing allocation) and open the diff of those full
// snapshots; Stop ends the watch. Screenshots at 1400 and 1024 px go to $VMSCOPE_ARTIFACTS.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { skipIfOptionalAndMissing, watchedPage, screenshot, waitReady, apiCall } from './lib.mjs';
import { e2eSuite, assertPageClean } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the timeline e2e tests');

// "Heap 12.5 MiB +3 MiB" -> bytes of the first size
function legendBytes(text, name) {
  const m = text.match(new RegExp(`${name} ([0-9.]+) (B|KiB|MiB|GiB)`));
  if (!m) return -1;
  return Number(m[1]) * { B: 1, KiB: 1024, MiB: 1048576, GiB: 1073741824 }[m[2]];
}

describe('timeline', { timeout: 240000 }, () => {
  let page;
  const s = e2eSuite(missing, { grower: [512, 100] });

  before(async () => {
    page = await watchedPage(await s.browser.newContext());
  });

  const assertClean = () => assertPageClean(page);

  it('Watch on a live process opens a timeline that grows', async () => {
    // every request for samples, to show that live updates cost one request per new sample
    const sampleRequests = [];
    page.on('request', (rq) => { if (/\/watches\/\d+\/samples/.test(rq.url())) sampleRequests.push(rq.url()); });
    await page.goto(s.daemon.url);
    await page.goto(`${s.daemon.base}/#/live/${s.grower.pid}`);
    await waitReady(page, 'snapshot');
    await page.click('#btn-watch');
    await page.waitForURL(/#\/watch\/\d+/);
    await waitReady(page, 'timeline');
    await page.waitForSelector('.tl-band-heap', { timeout: 20000 });
    await page.waitForFunction(() => Number(document.body.dataset.samples) >= 2, null, { timeout: 20000 });
    const legend1 = await page.textContent('.tl-legend');
    const n1 = Number(await page.getAttribute('body', 'data-samples'));
    // live: new samples arrive through long polls and Heap keeps growing (5 MiB/s)
    await page.waitForFunction((n) => Number(document.body.dataset.samples) >= n + 4, n1, { timeout: 30000 });
    const live = Number(await page.getAttribute('body', 'data-live'));
    assert.ok(live >= 4, `samples arrived live: ${live}`);
    const polls = sampleRequests.filter((u) => /wait_s=/.test(u));
    assert.ok(polls.length >= 1 && polls.length <= live + 2, `no polling storm: ${polls.length} long polls for ${live} live samples`);
    const legend2 = await page.textContent('.tl-legend');
    const h1 = legendBytes(legend1, 'Heap');
    const h2 = legendBytes(legend2, 'Heap');
    assert.ok(h1 > 0 && h2 > h1 + 4 * 1048576, `Heap grows in the legend: ${legend1} -> ${legend2}`);
    // live samples redraw the chart: take the band's box once it is there again
    await page.waitForFunction(() => { const b = document.querySelector('.tl-band-heap'); return b && b.getBoundingClientRect().width > 0; }, null, { timeout: 10000 });
    const box = await page.evaluate(() => { const r = document.querySelector('.tl-band-heap').getBoundingClientRect(); return { width: r.width, height: r.height }; });
    assert.ok(box && box.height > 20 && box.width > 200, `the Heap band is drawn: ${JSON.stringify(box)}`);
    assert.match(await page.textContent('#tl-state'), /running/);
    await screenshot(page, 'timeline-1400.png');
    await page.setViewportSize({ width: 1024, height: 900 });
    // the chart redraws on resize (debounced): wait for it rather than a fixed time
    await page.waitForFunction(() => document.querySelector('.tl-svg').getBoundingClientRect().width <= 1024, null, { timeout: 10000 }).catch(() => {});
    const svgWidth = await page.evaluate(() => document.querySelector('.tl-svg').getBoundingClientRect().width);
    assert.ok(svgWidth <= 1024 && svgWidth > 600, `the chart fits 1024 px: ${svgWidth}`);
    await screenshot(page, 'timeline-1024.png');
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.click('#btn-stop-watch');
    await page.waitForFunction(() => /stopped/.test(document.querySelector('#tl-state').textContent), null, { timeout: 10000 });
    await assertClean();
  });

  it('two clicks compare two points and open the diff of the nearest full snapshots', async () => {
    const r = await apiCall(s.daemon, 'POST', '/watches', { pid: s.grower.pid, interval_ms: 250, snapshot_every_s: 1 });
    await page.goto(`${s.daemon.base}/#/watch/${r.id}`);
    await waitReady(page, 'timeline');
    assert.match(await page.textContent('#tl-thresholds'), /^ and whenever 64 allocations come or go or 128(\.0)? MiB of committed memory moves between types$/,
      'the header states the watch\'s thresholds (the defaults)');
    await page.waitForFunction(() => Number(document.body.dataset.samples) >= 14, null, { timeout: 30000 });
    const hit = await page.locator('.tl-hit').boundingBox();
    await page.mouse.click(hit.x + 3, hit.y + hit.height / 2);
    assert.match(await page.textContent('#tl-point'), /nearest full snapshot: #\d+/, 'one point offers its snapshot');
    assert.match(await page.getAttribute('#tl-open-point', 'href'), /^#\/snapshot\/\d+$/);
    await page.mouse.click(hit.x + hit.width - 3, hit.y + hit.height / 2);
    await page.waitForSelector('#tl-growth-types tbody tr', { timeout: 10000 });
    assert.match(await page.textContent('#tl-growth-types tbody tr'), /Heap\s*\+/, 'Heap grew most');
    assert.match(await page.textContent('#tl-nearest'), /nearest full snapshot: #\d+/);
    const first = await page.textContent('#tl-growth-allocs tbody tr');
    assert.match(first, /Heap/, `the growing allocation first: ${first}`);
    assert.match(first, /heap/i);
    const heapRow = page.locator('#tl-growth-types tbody tr', { hasText: 'Heap' }).first();
    assert.equal(await heapRow.locator('.tl-shape').getAttribute('data-kind'), 'steady');
    assert.match(await heapRow.locator('.tl-shape').textContent(), /leak-like/, 'steady growth is flagged leak-like');
    await screenshot(page, 'timeline-compare-1400.png', { fullPage: true });
    await page.setViewportSize({ width: 1024, height: 900 });
    await screenshot(page, 'timeline-compare-1024.png', { fullPage: true });
    await page.setViewportSize({ width: 1400, height: 1000 });
    // a what-grew row opens the allocation in the snapshot view
    const link = page.locator('#tl-growth-allocs tbody tr a').first();
    const addr = await link.textContent();
    await link.click();
    await page.waitForURL(/#\/snapshot\/\d+\?sel=0x/);
    await waitReady(page, 'snapshot');
    await page.waitForFunction((a) => document.querySelector('.sel-info') && document.querySelector('.sel-info').textContent.includes(a.replace(/^0x/, '')), addr, { timeout: 30000 });
    assert.match(await page.textContent('.sel-info'), /Heap/, 'the selected allocation is the Heap one');
    await screenshot(page, 'timeline-to-allocation-1400.png');
    await page.goBack();
    await waitReady(page, 'timeline');
    await page.waitForFunction(() => Number(document.body.dataset.samples) >= 14, null, { timeout: 30000 });
    await page.mouse.click(hit.x + 3, hit.y + hit.height / 2);
    await page.mouse.click(hit.x + hit.width - 3, hit.y + hit.height / 2);
    await page.waitForSelector('#btn-open-diff', { timeout: 30000 });
    await page.click('#btn-open-diff');
    await page.waitForURL(/#\/diff\/\d+\/\d+/);
    await waitReady(page, 'diff');
    await screenshot(page, 'timeline-diff-1400.png');
    await apiCall(s.daemon, 'DELETE', `/watches/${r.id}`);
    await assertClean();
  });

  it('the watches list names both watches with their state', async () => {
    await page.goto(`${s.daemon.base}/#/watches`);
    await waitReady(page, 'watches');
    const rows = await page.locator('tr.watch-row').count();
    assert.equal(rows, 2);
    assert.match(await page.textContent('tr.watch-row'), /vms_grower.*stopped/s);
    await screenshot(page, 'watches-1400.png');
    await page.click('tr.watch-row a');
    await page.waitForURL(/#\/watch\/\d+/);
    await waitReady(page, 'timeline');
    await assertClean();
  });

  it('the process picker has "Watch" on each readable process', async () => {
    await page.goto(`${s.daemon.base}/#/processes?q=${s.grower.pid}`);
    await waitReady(page, 'processes');
    const row = page.locator(`tr.proc[data-pid="${s.grower.pid}"]`);
    await row.hover();
    await screenshot(page, 'picker-watch-1400.png');
    await page.setViewportSize({ width: 1024, height: 900 });
    await row.hover();
    await screenshot(page, 'picker-watch-1024.png');
    await page.setViewportSize({ width: 1400, height: 1000 });
    await row.hover();
    await row.locator('.pick-watch').click();
    await page.waitForURL(/#\/watch\/\d+/);
    await waitReady(page, 'timeline');
    assert.match(await page.textContent('.proc-title'), new RegExp(`pid ${s.grower.pid}`));
    await page.click('#btn-stop-watch');
    await page.waitForFunction(() => /stopped/.test(document.querySelector('#tl-state').textContent), null, { timeout: 10000 });
    await assertClean();
  });
});
