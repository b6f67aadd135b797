// Open file… takes a capture (`vmscope capture`, gzip) and a bare /proc/PID/smaps text (issue 13,
// "captures that travel"): each opens as an imported snapshot with the capture's regions and
// numbers; the smaps one says in the page what a smaps file cannot tell; a file that is neither
// is refused in a sentence and leaves the page where it was. Screenshots at 1024 and 1400 px.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { skipIfOptionalAndMissing, watchedPage, screenshot, waitReady, apiCall, env } from './lib.mjs';
import { e2eSuite, assertPageClean, waitSnapshotView } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the capture e2e tests');

const regionsOf = (snap) => snap.allocations.flatMap((a) => a.regions.map((r) => [r.start, r.end, r.smaps.rss, r.smaps.size]));

describe('Open file: captures and bare smaps', { timeout: 240000 }, () => {
  let context;
  let page;
  const s = e2eSuite(missing, { testee: true, tmp: 'capture' });

  before(async () => {
    context = await s.browser.newContext();
    page = await watchedPage(context, { width: 1400, height: 1000 });
    await page.goto(s.daemon.url);
    await waitReady(page, 'processes');
  });

  // The page at 1400 and at 1024 px wide: NAME-1400.png, NAME-1024.png.
  const shots = async (name) => {
    await screenshot(page, `${name}-1400.png`, { top: true });
    await page.setViewportSize({ width: 1024, height: 800 });
    await screenshot(page, `${name}-1024.png`, { top: true });
    await page.setViewportSize({ width: 1400, height: 1000 });
  };

  const openFile = async (file) => {
    const before = page.url();
    await page.setInputFiles('#import-file', file);
    await page.waitForFunction((b) => location.href !== b && /#\/snapshot\/\d+/.test(location.href), before);
    await waitSnapshotView(page);
    return page.url().match(/#\/snapshot\/(\d+)/)[1];
  };

  it('a capture opens as an imported snapshot with its regions', async () => {
    const file = join(s.tmp, 'testee.vmscope.json.gz');
    execFileSync(env.bin, ['capture', '-p', String(s.testee.pid), '-o', file], { stdio: 'pipe' });
    const doc = JSON.parse(gunzipSync(readFileSync(file)));
    const id = await openFile(file);
    assert.match(await page.locator('#toast').innerText(), /\(capture\) as snapshot #\d+/);
    assert.equal(await page.locator('.where [data-mark=imported]').innerText(), 'imported');
    const stored = await apiCall(s.daemon, 'GET', `/snapshots/${id}`);
    assert.deepEqual(regionsOf(stored), regionsOf(doc), 'the stored regions are the capture\'s');
    assert.deepEqual(stored.total, doc.total, 'and so are the totals');
    await shots('capture-opened');
    await assertPageClean(page);
  });

  it('a bare smaps file opens and says what it cannot know', async () => {
    const file = join(s.tmp, 'smaps');
    writeFileSync(file, readFileSync(`/proc/${s.testee.pid}/smaps`));
    const id = await openFile(file);
    assert.match(await page.locator('#toast').innerText(), /\(smaps file\) as snapshot #\d+/);
    const stored = await apiCall(s.daemon, 'GET', `/snapshots/${id}`);
    assert.equal(stored.process.pid, 0, 'pid unknown');
    assert.deepEqual(stored.threads, []);
    const notes = await page.locator('.note').allInnerTexts();
    assert.ok(notes.some((n) => /bare smaps file: threads, \/proc\/PID\/status .* unknown, not zero/.test(n)), notes.join(' | '));
    await shots('capture-smaps');
    await assertPageClean(page);
  });

  it('a file that is neither is refused in a sentence, and the page stays', async () => {
    const file = join(s.tmp, 'notes.txt');
    writeFileSync(file, 'hello\nthis is not smaps\n');
    const url = page.url();
    await page.setInputFiles('#import-file', file);
    await page.waitForSelector('#toast.show.error');
    assert.match(await page.locator('#toast').innerText(), /no region line/);
    assert.equal(page.url(), url);
    await assertPageClean(page);
  });
});
