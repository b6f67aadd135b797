// A snapshot view must be released completely when it is left: its listeners on window and
// document, its timers, and the parsed snapshot they would keep alive. The test opens 12 stored
// snapshots one after the other in one page, using each view the way a user does (the Export
// menu, whose close-on-click listener sits on document; a find typed and left before its
// debounce fires), and then counts through the Chrome DevTools Protocol, after a full garbage
// collection, the SnapshotView and SnapshotModel objects still on the heap (Runtime.queryObjects
// on their prototypes): at most one of each, and none once the page shows another kind of view.
// It also checks that a debounce started in one view never rewrites the next view's URL, and
// saves screenshots of the snapshot view at 1024 and 1400 px wide.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { skipIfOptionalAndMissing, watchedPage, screenshot, waitReady, apiCall } from './lib.mjs';
import { e2eSuite, assertPageClean, waitSnapshotView } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the view-lifetime e2e test');
const N_VIEWS = 12;

describe('snapshot view lifetime', { timeout: 240000 }, () => {
  let page;
  let cdp;
  const ids = [];
  const s = e2eSuite(missing, { testee: true });

  before(async () => {
    for (let i = 0; i < N_VIEWS; i++) {
      const r = await apiCall(s.daemon, 'POST', `/processes/${s.testee.pid}/snapshots`, { share: false });
      ids.push(String(r.id));
    }
    const context = await s.browser.newContext();
    page = await watchedPage(context);
    cdp = await context.newCDPSession(page);
    await cdp.send('Runtime.enable');
  });

  const waitSnapshot = (id) => waitSnapshotView(page, id);

  // A handle on a prototype, kept across views (it holds the prototype, not the instances).
  async function protoOf(expression) {
    const { result } = await cdp.send('Runtime.evaluate', { expression: `Object.getPrototypeOf(${expression})`, objectGroup: 'protos' });
    assert.ok(result.objectId, `a prototype for ${expression}`);
    return result.objectId;
  }

  // Live objects with that prototype after a full collection.
  async function countLive(protoId) {
    await cdp.send('HeapProfiler.collectGarbage');
    const { objects } = await cdp.send('Runtime.queryObjects', { prototypeObjectId: protoId, objectGroup: 'count' });
    const { result } = await cdp.send('Runtime.callFunctionOn', {
      objectId: objects.objectId, functionDeclaration: 'function () { return this.length; }', returnByValue: true,
    });
    await cdp.send('Runtime.releaseObjectGroup', { objectGroup: 'count' });
    return result.value;
  }

  it(`opens ${N_VIEWS} snapshots and keeps at most one view alive`, async () => {
    await page.goto(s.daemon.url);
    await waitReady(page, 'processes');
    let viewProto = null;
    let modelProto = null;
    const counts = [];
    for (let i = 0; i < ids.length; i++) {
      await page.evaluate((h) => { location.hash = h; }, `#/snapshot/${ids[i]}`);
      await waitSnapshot(ids[i]);
      const hash = await page.evaluate(() => location.hash);
      assert.ok(!/[?&]q=/.test(hash), `view ${i + 1}: no find from the previous view leaked into its URL (${hash})`);
      if (!viewProto) {
        viewProto = await protoOf('window.vmsDebug.view');
        modelProto = await protoOf('window.vmsDebug.model');
      }
      // use the view: the Export menu opens and a document click closes it
      await page.click('#btn-export');
      assert.ok(await page.locator('.menu-items.open').count() === 1, 'the export menu opens');
      await page.mouse.click(5, 5);
      assert.equal(await page.locator('.menu-items.open').count(), 0, 'a click elsewhere closes it');
      counts.push([await countLive(viewProto), await countLive(modelProto)]);
      if (i + 1 < ids.length) {
        // a find typed, and the view left before its 160 ms debounce fires
        await page.fill('#find', 'libc');
        await page.evaluate((h) => { location.hash = h; }, `#/snapshot/${ids[i + 1]}`);
        await page.waitForTimeout(i === 0 ? 400 : 0); // once long enough for a stray timer to fire
      }
    }
    await page.waitForTimeout(400);
    const finalHash = await page.evaluate(() => location.hash);
    assert.equal(finalHash, `#/snapshot/${ids[ids.length - 1]}`, 'the last view kept its own URL');
    const stats = await page.evaluate(() => ({ ...window.vmsViewStats }));
    assert.deepEqual(stats, { alive: 1, created: N_VIEWS }, 'the module counts one live view of the 12 made');
    for (const [k, [views, models]] of counts.entries()) {
      assert.equal(views, 1, `after view ${k + 1}: ${views} SnapshotView objects on the heap (${JSON.stringify(counts)})`);
      assert.equal(models, 1, `after view ${k + 1}: ${models} SnapshotModel objects on the heap (${JSON.stringify(counts)})`);
    }

    // Leaving for another kind of view releases the last one too.
    await page.evaluate(() => { location.hash = '#/processes'; });
    await waitReady(page, 'processes');
    assert.equal(await countLive(viewProto), 0, 'no SnapshotView left once the process list shows');
    assert.equal(await countLive(modelProto), 0, 'no SnapshotModel left once the process list shows');
    assert.equal(await page.evaluate(() => window.vmsViewStats.alive), 0);
    await cdp.send('Runtime.releaseObjectGroup', { objectGroup: 'protos' });

    await assertPageClean(page, { dialogs: false });
  });

  it('looks right at 1024 and 1400 px', async () => {
    for (const width of [1024, 1400]) {
      await page.setViewportSize({ width, height: 900 });
      await page.evaluate((h) => { location.hash = h; }, `#/snapshot/${ids[0]}`);
      await waitSnapshot(ids[0]);
      await screenshot(page, `snapshot-view-${width}.png`, { top: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling at ${width} px (${overflow} px too wide)`);
    }
  });
});
