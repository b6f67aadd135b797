// Sharing with teammates over TLS (issue 15): the daemon runs with --tls-self-signed; this test
// alone accepts that certificate (ignoreHTTPSErrors on its own browser contexts, nowhere else).
// The share dialog offers a lifetime (7 days unless chosen) and a view limit and the list shows
// them; a share link opened in a fresh browser over https says who shared it and that it is
// read-only, with the hostile process and file names as text; an expired link is a plain 410.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipIfOptionalAndMissing, launchBrowser, startDaemon, startMapfile, watchedPage, cspViolations, screenshot } from './lib.mjs';

const FILE = '<img src=x onerror=alert(2)>';
const COMM = '<b>tls</b>';
const missing = skipIfOptionalAndMissing('the share-over-TLS e2e test');

// Daemon to daemon over TLS, both under ASan in CI and beside other tests: TLS handshakes and
// the import on the other side take several times longer there than the 30 s default allows.
const SLOW = 90000;

describe('share links over TLS', { timeout: 400000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vms-e2e-tls-'));
  const path = join(dir, FILE);
  let daemon, mf, browser, context, page, snapId;

  // The API from the test's own context (same certificate exception), for setup only.
  async function api(method, p, body) {
    const res = await context.request.fetch(`${daemon.base}/api/v1${p}`, {
      method,
      headers: { Authorization: `Bearer ${daemon.token}`, 'Content-Type': 'application/json' },
      data: body ? JSON.stringify(body) : undefined,
    });
    assert.ok(res.ok(), `${method} ${p}: ${res.status()} ${await res.text()}`);
    return res.json();
  }

  async function clean(pg) {
    const counts = await pg.evaluate(() => ({ img: document.querySelectorAll('img').length, b: document.querySelectorAll('b').length }));
    assert.deepEqual(counts, { img: 0, b: 0 }, 'no element was made from a name');
    assert.deepEqual(pg.problems.dialogs, [], 'no dialog fired');
    assert.deepEqual(pg.problems.pageErrors, []);
    assert.deepEqual(await cspViolations(pg), [], 'no CSP violation');
  }

  before(async () => {
    assert.deepEqual(missing, [], `missing prerequisites: ${missing.join(', ')}`);
    writeFileSync(path, Buffer.alloc(3 * 4096, 0x41));
    daemon = await startDaemon(['--tls-self-signed']);
    assert.match(daemon.base, /^https:\/\//, 'the daemon serves https');
    mf = await startMapfile(path, COMM);
    browser = await launchBrowser();
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await watchedPage(context);
    const r = await api('POST', `/processes/${mf.pid}/snapshots`, { share: false });
    snapId = r.id;
  });

  after(async () => {
    if (browser) await browser.close();
    if (mf) await mf.stop();
    if (daemon) await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the share dialog sets a lifetime and a view limit and lists them', async () => {
    await page.goto(`${daemon.url}`);
    await page.goto(`${daemon.base}/#/snapshot/${snapId}`);
    await page.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1');
    await page.click('#btn-share');
    assert.equal(await page.locator('#share-lifetime').inputValue(), '7d', '7 days unless chosen');
    await page.selectOption('#share-lifetime', '1h');
    await page.fill('#share-max-views', '3');
    await page.click('dialog.dialog button.primary');
    const link = await page.locator('#share-link').inputValue();
    assert.match(link, new RegExp(`^${daemon.base.replace(/[.]/g, '\\.')}/s/[0-9a-f]{64}$`), 'an https link on our port');
    await page.waitForSelector('.share-item .share-expiry');
    const info = await page.locator('.share-item .share-expiry').first().innerText();
    assert.match(info, /expires .*0 views of 3/, `the list shows expiry and views: ${info}`);
    for (const w of [1024, 1400]) {
      await page.setViewportSize({ width: w, height: 900 });
      await screenshot(page, `share-tls-dialog-${w}.png`);
    }
    await page.keyboard.press('Escape');
    await clean(page);
  });

  it('a share link opens over https in a fresh browser: who shared it, read-only, names as text', async () => {
    const sh = await api('POST', `/snapshots/${snapId}/share`, { lifetime: '1d' });
    const fresh = await browser.newContext({ ignoreHTTPSErrors: true });
    const other = await watchedPage(fresh);
    const res = await other.goto(sh.url);
    assert.equal(res.status(), 200);
    await other.waitForFunction(() => document.body.dataset.ready === '1' && window.vmsDebug);
    await other.waitForFunction(() => /Shared from host/.test(document.getElementById('share-banner')?.textContent || ''));
    const banner = await other.locator('#share-banner').innerText();
    assert.match(banner, /Read-only shared snapshot/);
    assert.ok(banner.includes(`process ${COMM} (pid ${mf.pid})`), `the process name is text in the banner: ${banner}`);
    assert.match(banner, /works until/);
    assert.equal(await other.locator('.proc-name').textContent(), COMM);
    assert.equal(await other.locator('#btn-share').count(), 0, 'no Share on a share');
    for (const w of [1024, 1400]) {
      await other.setViewportSize({ width: w, height: 900 });
      await screenshot(other, `share-tls-page-${w}.png`, { top: true });
    }
    await clean(other);
    await fresh.close();
  });

  it('Send to… posts the snapshot to a second daemon over TLS and shows its link', async () => {
    const team = await startDaemon(['--tls-self-signed']);
    try {
      const fp = new X509Certificate(readFileSync(join(team.dir, 'vmscope.db.tls-cert.pem'))).fingerprint256;
      await page.goto(`${daemon.base}/#/snapshot/${snapId}`);
      await page.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1', null, { timeout: SLOW });
      await page.click('#btn-send');
      await page.fill('#send-url', team.base);
      await page.fill('#send-token', team.token);
      await page.fill('#send-fingerprint', `00${fp.slice(2)}`);
      await page.click('dialog.dialog button.primary');
      await page.waitForFunction(() => /fingerprint mismatch/.test(document.querySelector('dialog.dialog .share-out')?.textContent || ''), null, { timeout: SLOW });
      await page.fill('#send-fingerprint', fp);
      await page.click('dialog.dialog button.primary');
      await page.waitForSelector('#send-link', { timeout: SLOW });
      const link = await page.locator('#send-link').inputValue();
      assert.ok(link.startsWith(`${team.base}/s/`), `the team daemon's link: ${link}`);
      await screenshot(page, 'share-tls-send-1400.png');
      await page.keyboard.press('Escape');
      const fresh = await browser.newContext({ ignoreHTTPSErrors: true });
      const other = await watchedPage(fresh);
      assert.equal((await other.goto(link)).status(), 200);
      await other.waitForFunction(() => document.body.dataset.ready === '1' && window.vmsDebug, null, { timeout: SLOW });
      assert.equal(await other.locator('.proc-name').textContent(), COMM, 'the sent snapshot, names as text');
      await clean(other);
      await fresh.close();
      await clean(page);
    } finally {
      await team.stop();
    }
  });

  it('an expired link answers 410 with a plain page', async () => {
    const sh = await api('POST', `/snapshots/${snapId}/share`, { lifetime: '1s' });
    await new Promise((r) => setTimeout(r, 1100));
    const fresh = await browser.newContext({ ignoreHTTPSErrors: true });
    const other = await watchedPage(fresh);
    const res = await other.goto(sh.url);
    assert.equal(res.status(), 410);
    assert.match(await other.locator('h1').innerText(), /This share link expired/);
    await fresh.close();
  });
});
