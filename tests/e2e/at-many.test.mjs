// Several addresses at once (issue 9): a stack trace pasted into the dashboard's find lists what
// is at each address, with the symbol the daemon reads from the image (POST /snapshots/{id}/at),
// and a click selects it; the API answers the same list in order, refuses a bad one by its
// index, and a share link answers without reading files. Screenshots at 1024 and 1400 px.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  skipIfOptionalAndMissing, launchBrowser, startDaemon, startTestee, watchedPage, cspViolations, screenshot, apiCall,
} from './lib.mjs';

const missing = skipIfOptionalAndMissing('the several-addresses e2e tests');

describe('at: several addresses', { timeout: 180000 }, () => {
  // the daemon, the process it looks at, the browser; the snapshot, its id, the pasted trace
  let daemon, testee, browser, snap, id, trace, libcText;

  before(async () => {
    assert.deepEqual(missing, [], `missing prerequisites: ${missing.join(', ')}`);
    daemon = await startDaemon();
    testee = await startTestee();
    browser = await launchBrowser();
    const made = await apiCall(daemon, 'POST', `/processes/${testee.pid}/snapshots`, { share: false });
    id = made.id;
    snap = await apiCall(daemon, 'GET', `/snapshots/${id}`);
    const libc = snap.allocations.find((a) => a.type === 'image' && /\/libc\.so\.6/.test(a.details || ''));
    const text = (libc.parts || []).find((p) => p.details === '.text');
    libcText = BigInt(text.start) + 0x40n;
    const free = snap.free.find((g) => BigInt(g.end) - BigInt(g.start) > 0x100000n);
    const gap = BigInt(free.start) + 0x1000n;
    trace = [
      'Thread 1 "vms_testee" received signal SIGSEGV',
      `#0  0x${libcText.toString(16)} in ?? () from /lib/x86_64-linux-gnu/libc.so.6+0x12`,
      `#1  0x${gap.toString(16)} in ?? ()`,
      `#2  0x${libcText.toString(16)} in ?? ()`,
    ].join('\n');
  });

  after(async () => {
    if (browser) await browser.close();
    if (testee) await testee.stop();
    if (daemon) await daemon.stop();
  });

  it('the API answers a list of addresses in order', async () => {
    const r = await apiCall(daemon, 'POST', `/snapshots/${id}/at`, { addresses: [`0x${libcText.toString(16)}`, '0x1000'] });
    assert.equal(r.results.length, 2);
    assert.equal(r.results[0].kind, 'region');
    assert.equal(r.results[0].image.section, '.text');
    assert.ok(r.results[0].image.symbol, `a symbol in libc's .text (${JSON.stringify(r.results[0].image)})`);
    assert.equal(r.results[1].address, '0x1000');
    assert.ok(r.results[1].prev === null || typeof r.results[1].prev === 'object', 'neighbours in every answer');
    const res = await fetch(`${daemon.base}/api/v1/snapshots/${id}/at`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${daemon.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ addresses: ['0x1000', 'nope'] }),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'bad_address');
    const many = await fetch(`${daemon.base}/api/v1/snapshots/${id}/at`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${daemon.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ addresses: Array.from({ length: 257 }, (_, k) => `0x${(0x1000 + k).toString(16)}`) }),
    });
    assert.equal(many.status, 400, 'at most 256 addresses');
    // a share link: the same list, no file read (no section, no symbol)
    const share = await apiCall(daemon, 'POST', `/snapshots/${id}/share`, {});
    const token = share.token || String(share.url || '').split('/').pop();
    const pub = await fetch(`${daemon.base}/api/v1/shared/${token}/at`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ addresses: [`0x${libcText.toString(16)}`] }),
    });
    assert.equal(pub.status, 200);
    const pj = await pub.json();
    assert.equal(pj.results[0].kind, 'region');
    assert.equal(pj.results[0].image, null, 'a share link reads no file');
  });

  for (const width of [1400, 1024]) {
    it(`a pasted stack trace lists each address with its symbol (${width} px)`, async () => {
      const context = await browser.newContext();
      const page = await watchedPage(context, { width, height: 900 });
      await page.goto(`${daemon.url}`);
      await page.waitForFunction(() => document.body.dataset.ready === '1');
      await page.goto(`${daemon.base}/#/snapshot/${id}`);
      await page.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1' && document.querySelector('#find'));
      await page.focus('#find');
      await page.evaluate((text) => {
        const dt = new DataTransfer();
        dt.setData('text/plain', text);
        document.querySelector('#find').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }, trace);
      // two distinct addresses (the repeat and the "+0x12" offset are not addresses)
      await page.waitForFunction(() => document.querySelectorAll('.find-list li').length === 2);
      await page.waitForFunction(() => /libc\.so\.6!/.test(document.querySelector('.find-list li .sym').textContent), null, { timeout: 30000 });
      const lines = await page.locator('.find-list li').allInnerTexts();
      assert.match(lines[0], /Image/);
      assert.match(lines[1], /free gap/);
      await screenshot(page, `at-many-${width}.png`);
      await page.locator('.find-list li button').first().click();
      await page.waitForFunction(() => /Image/.test(document.querySelector('.sel-info h3').textContent));
      assert.deepEqual(page.problems.pageErrors, []);
      assert.deepEqual(await cspViolations(page), []);
      await context.close();
    });
  }
});
