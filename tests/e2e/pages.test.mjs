// Inside the pages (issue 14) in the dashboard: selecting an allocation of a live process shows
// its residency strip with a legend and the page counts the API gives; with
// --allow-memory-read the Strings panel lists what the program wrote and Trim asks first and
// says what it does; without the flag neither button is there.
// A stored snapshot taken with ?residency=1 shows its stored residency (the same pixels), and
// Read now switches to the live one; one stored without it says so and reads live. Working set
// says it perturbs the target before it runs, then lists the mappings it measured.
// Screenshots: pages-strip-1024.png, pages-strip-1400.png, pages-strings-1400.png,
// pages-trim-1024.png, pages-stored-1024.png, pages-stored-1400.png, pages-ws-1024.png,
// pages-ws-result-1400.png.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  env, skipIfOptionalAndMissing, launchBrowser, startDaemon, watchedPage, cspViolations, screenshot, waitReady, apiCall,
} from './lib.mjs';

const missing = skipIfOptionalAndMissing('the inside-the-pages e2e tests');

function startPages(dir) {
  return new Promise((res, rej) => {
    const proc = spawn(join(env.helpers, 'vms_pages'), [dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rl = createInterface({ input: proc.stdout });
    const t = setTimeout(() => { proc.kill('SIGKILL'); rej(new Error('vms_pages did not start')); }, 20000);
    rl.once('line', (line) => { clearTimeout(t); res({ proc, info: JSON.parse(line) }); });
    proc.on('exit', (c) => rej(new Error(`vms_pages exited ${c}`)));
  });
}

describe('inside the pages', { timeout: 240000 }, () => {
  let on;
  let off;
  let helper;
  let browser;
  let context;
  const tmp = mkdtempSync(join(tmpdir(), 'vms-e2e-pages-'));

  before(async () => {
    assert.deepEqual(missing, [], `missing prerequisites: ${missing.join(', ')}`);
    on = await startDaemon(['--allow-memory-read']);
    off = await startDaemon();
    helper = await startPages(tmp);
    browser = await launchBrowser();
    context = await browser.newContext();
  });

  after(async () => {
    if (browser) await browser.close();
    if (helper) helper.proc.kill('SIGTERM');
    if (on) await on.stop();
    if (off) await off.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  // The live view of the helper on daemon d at width px, allocation sel selected; then, when
  // waitFor is given, until that selector shows.
  async function openLive(d, width, sel, waitFor) {
    const p = await watchedPage(context, { width, height: 1000 });
    await p.goto(d.url);
    await waitReady(p, 'processes');
    await p.goto(`${d.base}/#/live/${helper.proc.pid}?sel=${sel}`);
    await p.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1', null, { timeout: 30000 });
    if (waitFor) await p.waitForSelector(waitFor, { timeout: 20000 });
    return p;
  }

  // Close p after asserting that nothing went wrong silently in it.
  async function closeClean(p) {
    assert.deepEqual(p.problems.pageErrors, [], 'no script errors');
    assert.deepEqual(await cspViolations(p), [], 'no Content-Security-Policy violations');
    await p.close();
  }

  it('shows the residency strip and the counts of the selected allocation', async () => {
    const res = await apiCall(on, 'GET', `/processes/${helper.proc.pid}/residency?addr=${helper.info.anon}`);
    for (const width of [1024, 1400]) {
      const p = await openLive(on, width, helper.info.anon, '#res-strip');
      const counts = await p.textContent('#res-counts');
      assert.match(counts, new RegExp(`^${res.pages.present} of 64 pages in RAM`), counts);
      // soft-dirty the kernel does not track is said to be unknown, never shown as all clean
      if (res.known.includes('soft_dirty')) assert.doesNotMatch(counts, /soft-dirty not tracked/, counts);
      else assert.ok(res.pages.soft_dirty === null && counts.includes('soft-dirty not tracked by this kernel'), counts);
      const legend = await p.textContent('.res-legend');
      assert.match(legend, /in RAM, private/);
      assert.match(legend, /not in RAM/);
      // the strip has one pixel per page: 64 pages, the written ones green
      const px = await p.evaluate(() => {
        const c = document.getElementById('res-strip');
        const d = c.getContext('2d').getImageData(0, 0, c.width, 1).data;
        const out = [];
        for (let i = 0; i < c.width; i++) out.push([d[i * 4], d[i * 4 + 1], d[i * 4 + 2]].join(','));
        return { width: c.width, px: out };
      });
      assert.equal(px.width, 64);
      assert.equal(px.px[0], '46,157,62', 'page 0 (written) is "in RAM, private"');
      assert.equal(px.px[15], '236,239,243', 'page 15 (untouched) is "not in RAM"');
      assert.ok(await p.isVisible('#btn-strings') && await p.isVisible('#btn-trim'), 'Strings and Trim are offered');
      await p.locator('#pages-block').scrollIntoViewIfNeeded();
      await screenshot(p, `pages-strip-${width}.png`);
      await closeClean(p);
    }
  });

  it('lists the strings the program wrote', async () => {
    const p = await openLive(on, 1400, helper.info.strings, '#btn-strings');
    await p.click('#btn-strings');
    await p.waitForFunction(() => /strings;/.test((document.getElementById('strings-status') || {}).textContent || ''), null, { timeout: 20000 });
    const texts = await p.$$eval('.string-row .text', (els) => els.map((e) => e.textContent));
    const want = helper.info.strings_written.filter((s) => s.text.length >= 8).map((s) => s.text).sort();
    assert.deepEqual(texts.slice().sort(), want);
    await p.fill('#strings-q', 'marker');
    await p.waitForFunction(() => document.querySelectorAll('.string-row').length === 2, null, { timeout: 20000 });
    await screenshot(p, 'pages-strings-1400.png');
    await closeClean(p);
  });

  it('asks before trimming and says what it does', async () => {
    const p = await openLive(on, 1024, helper.info.trim, '#btn-trim');
    await p.click('#btn-trim');
    const text = await p.textContent('dialog');
    assert.match(text, /page out/i);
    assert.match(text, /changes the process/);
    await screenshot(p, 'pages-trim-1024.png');
    await p.click('dialog button.primary');
    await p.waitForSelector('#trim-result', { timeout: 30000 });
    const result = await p.textContent('#trim-result');
    assert.match(result, /Before.*Rss 256 KiB/s, result);
    assert.match(result, /Right after.*Rss 0 B/s, result);
    await closeClean(p);
  });

  it('colours the address map by residency', async () => {
    const p = await openLive(on, 1400, helper.info.thp);
    await p.check('#res-overlay');
    await p.waitForFunction(() => /pages in RAM/.test(document.getElementById('res-overlay-status').textContent), null, { timeout: 20000 });
    // the THP block of the map is drawn in the huge-page colour now
    const color = await p.evaluate((addr) => {
      const v = window.vmsDebug.map;
      const pt = v.pointFor(BigInt(addr) + 4096n);
      const c = v.canvas.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const d = v.canvas.getContext('2d').getImageData(Math.round((pt.x - c.left) * dpr), Math.round((pt.y - c.top) * dpr), 1, 1).data;
      return [d[0], d[1], d[2]].join(',');
    }, helper.info.thp);
    assert.equal(color, '123,63,184', 'the THP is drawn in the huge-page colour');
    await screenshot(p, 'pages-overlay-1400.png');
    await p.uncheck('#res-overlay');
    await closeClean(p);
  });

  // The strip's pixels as "r,g,b" strings.
  async function stripPixels(p) {
    return p.evaluate(() => {
      const c = document.getElementById('res-strip');
      const d = c.getContext('2d').getImageData(0, 0, c.width, 1).data;
      const out = [];
      for (let i = 0; i < c.width; i++) out.push([d[i * 4], d[i * 4 + 1], d[i * 4 + 2]].join(','));
      return out;
    });
  }

  it('shows the residency stored with a snapshot, and the live one on request', async () => {
    const made = await apiCall(off, 'POST', `/processes/${helper.proc.pid}/snapshots?residency=1`, { share: false });
    assert.ok(made.residency && made.residency.bytes > 0 && made.residency.truncated === false, JSON.stringify(made.residency));
    const stored = await apiCall(off, 'GET', `/snapshots/${made.id}/residency?start=${helper.info.anon}&end=0x${(BigInt(helper.info.anon) + 64n * 4096n).toString(16)}`);
    for (const width of [1024, 1400]) {
      const p = await watchedPage(context, { width, height: 1000 });
      await p.goto(off.url);
      await waitReady(p, 'processes');
      await p.goto(`${off.base}/#/snapshot/${made.id}?sel=${helper.info.anon}`);
      await p.waitForFunction(() => /stored with snapshot/.test((document.getElementById('res-source') || {}).textContent || ''), null, { timeout: 30000 });
      assert.match(await p.textContent('#pages-note'), new RegExp(`Stored with snapshot #${made.id}`));
      assert.match(await p.textContent('#res-counts'), new RegExp(`^${stored.pages.present} of 64 pages in RAM`));
      const px = await stripPixels(p);
      assert.equal(px.length, 64);
      assert.equal(px[0], '46,157,62', 'page 0 (written) is "in RAM, private" in the stored residency');
      assert.equal(px[15], '236,239,243', 'page 15 (untouched) is "not in RAM"');
      await p.locator('#pages-block').scrollIntoViewIfNeeded();
      await screenshot(p, `pages-stored-${width}.png`);
      if (width === 1400) {
        await p.click('#btn-res-live');
        await p.waitForFunction(() => /read now, live/.test((document.getElementById('res-source') || {}).textContent || ''), null, { timeout: 20000 });
        assert.deepEqual(await stripPixels(p), px, 'live and stored agree on these untouched pages');
      }
      await closeClean(p);
    }
    // stored without residency: it says so and reads the live process
    const plain = await apiCall(off, 'POST', `/processes/${helper.proc.pid}/snapshots`, { share: false });
    const p = await watchedPage(context, { width: 1400, height: 1000 });
    await p.goto(off.url);
    await waitReady(p, 'processes');
    await p.goto(`${off.base}/#/snapshot/${plain.id}?sel=${helper.info.anon}`);
    await p.waitForFunction(() => /read now, live/.test((document.getElementById('res-source') || {}).textContent || ''), null, { timeout: 30000 });
    assert.match(await p.textContent('#pages-note'), /stored without its page residency/);
    await closeClean(p);
    // from a live view: Store snapshot with pages stores one and opens it on the same allocation
    const q = await openLive(off, 1400, helper.info.anon, '#btn-store-res');
    await q.click('#btn-store-res');
    await q.waitForFunction(() => /^#\/snapshot\/\d+/.test(location.hash) &&
      /stored with snapshot/.test((document.getElementById('res-source') || {}).textContent || ''), null, { timeout: 30000 })
      .catch(async (err) => { // say what the page showed instead (a toast names a failed request)
        const seen = await q.evaluate(() => ({ hash: location.hash,
          toast: (document.getElementById('toast') || {}).textContent || '',
          source: (document.getElementById('res-source') || {}).textContent || '' }));
        throw new Error(`${err.message}; the page showed ${JSON.stringify(seen)}`);
      });
    const id = await q.evaluate(() => location.hash.match(/^#\/snapshot\/(\d+)/)[1]);
    const kept = await apiCall(off, 'GET', `/snapshots/${id}/residency`);
    assert.ok(kept.pages.present > 11 && kept.truncated === false, 'the stored snapshot has its residency');
    await closeClean(q);
  });

  it('measures the working set after saying it perturbs the target', async () => {
    const p = await openLive(on, 1024, helper.info.anon, '#btn-workingset');
    await p.click('#btn-workingset');
    const text = await p.textContent('dialog');
    assert.match(text, /perturbs the target/);
    assert.match(text, /clear_refs/);
    await p.fill('#ws-seconds', '1');
    await screenshot(p, 'pages-ws-1024.png');
    await p.click('dialog button.primary');
    await p.waitForSelector('#ws-table', { timeout: 30000 });
    const rows = await p.$$eval('#ws-table tbody tr', (trs) => trs.map((t) => t.textContent));
    assert.equal(rows.length, 1, 'the allocation is one mapping');
    assert.match(await p.textContent('#ws-summary'), /touched .* of the 44 KiB it has in RAM/);
    await p.setViewportSize({ width: 1400, height: 1000 });
    await screenshot(p, 'pages-ws-result-1400.png');
    await closeClean(p);
  });

  it('offers no Strings or Trim when the daemon does not allow memory reads', async () => {
    const p = await openLive(off, 1400, helper.info.anon, '#res-strip');
    await p.waitForTimeout(500);
    assert.equal(await p.$('#btn-strings'), null);
    assert.equal(await p.$('#btn-trim'), null);
    assert.equal(await p.$('#btn-workingset'), null);
    await closeClean(p);
  });
});
