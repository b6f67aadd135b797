// The details in view (issue 12, point 1): at 1024 and 1400 px the details grid shows Address,
// Type, the chosen number columns and Details without sideways scrolling, so an Image row says
// which file it is; a Columns menu offers every column of the snapshot format (Uss, Dirty, Swap
// Pss …, Protection, Named by, Details), and the choice is kept in localStorage and in the deep
// link; the diff table follows the same choice and keeps its Details column in view too.
// Screenshots: columns-snapshot-1024.png, columns-snapshot-1400.png, columns-diff-1024.png,
// columns-chosen-1400.png.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipIfOptionalAndMissing, startMapfile, watchedPage, screenshot, waitReady, apiCall } from './lib.mjs';
import { e2eSuite, assertPageClean } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the details-columns e2e tests');

describe('details columns', { timeout: 240000 }, () => {
  let snap;
  let snapId;
  const s = e2eSuite(missing, { testee: true, tmp: 'cols', context: true });

  before(async () => {
    const r = await apiCall(s.daemon, 'POST', `/processes/${s.testee.pid}/snapshots`, { share: false });
    snapId = String(r.id);
    snap = await apiCall(s.daemon, 'GET', `/snapshots/${snapId}`);
  });

  const clean = (p) => assertPageClean(p, { dialogs: false });

  async function openSnapshot(p, hash) {
    await p.goto(`${s.daemon.url}`);
    await waitReady(p, 'processes');
    await p.goto(`${s.daemon.base}/${hash}`);
    await p.waitForFunction((want) => window.vmsDebug && document.body.dataset.ready === '1' &&
      String(window.vmsDebug.view.source.id) === want, snapId, { timeout: 30000 });
  }

  // The grid does not scroll sideways, and each named cell of the row lies inside both the
  // grid's box and the window.
  async function assertInView(p, tableSel, rowSel, cellSels) {
    const r = await p.evaluate(({ tableSel: ts, rowSel: rs, cellSels: cs }) => {
      const t = document.querySelector(ts);
      const row = t.querySelector(rs);
      const box = t.getBoundingClientRect();
      const cells = {};
      for (const c of cs) {
        const e = row && row.querySelector(c);
        const b = e && e.getBoundingClientRect();
        cells[c] = b ? { left: b.left, right: b.right, width: b.width, text: e.textContent } : null;
      }
      return { scrollWidth: t.scrollWidth, clientWidth: t.clientWidth, box: { left: box.left, right: box.right }, vw: window.innerWidth, cells };
    }, { tableSel, rowSel, cellSels });
    assert.ok(r.scrollWidth <= r.clientWidth + 1, `no sideways scrolling: content ${r.scrollWidth} px in a ${r.clientWidth} px box`);
    for (const [sel, c] of Object.entries(r.cells)) {
      assert.ok(c, `${sel} is in the row`);
      assert.ok(c.left >= r.box.left - 1 && c.right <= r.box.right + 1 && c.right <= r.vw, `${sel} (${c.left}-${c.right}) inside the grid (${r.box.left}-${r.box.right}) and the window (${r.vw})`);
    }
    return r;
  }

  for (const width of [1024, 1400]) {
    it(`at ${width} px an Image row shows its type, numbers and file without sideways scrolling`, async () => {
      const p = await watchedPage(s.context, { width, height: 900 });
      await p.evaluate(() => localStorage.removeItem('vmscope.columns')).catch(() => {});
      await openSnapshot(p, `#/snapshot/${snapId}?type=image`);
      await p.evaluate(() => localStorage.removeItem('vmscope.columns'));
      const heads = await p.locator('.details-table .vt-hcell').allInnerTexts();
      for (const h of ['Address', 'Type', 'Size', 'Committed', 'Private', 'Total WS', 'Private WS', 'Details']) {
        assert.ok(heads.some((x) => x.replace(/\s+/g, ' ').trim().startsWith(h)), `column ${h} shown by default (${heads.join('|')})`);
      }
      const row = '.vt-row.alloc:not(.hidden)';
      const r = await assertInView(p, '.details-table', row, ['.vt-cell.type', '.vt-cell.details', '.vt-cell:nth-child(3)']);
      assert.equal(r.cells['.vt-cell.type'].text, 'Image');
      assert.match(r.cells['.vt-cell.details'].text, /vms_testee|\.so/, 'the Details cell names the file');
      assert.ok(r.cells['.vt-cell.details'].width >= 200, `Details is wide enough to read (${r.cells['.vt-cell.details'].width} px)`);
      await screenshot(p, `columns-summary-${width}.png`, { top: true });
      await p.locator('.details-panel').scrollIntoViewIfNeeded();
      await screenshot(p, `columns-snapshot-${width}.png`);
      await clean(p);
      await p.close();
    });
  }

  it('the Columns menu offers every column; the choice is kept in the link and in localStorage', async () => {
    const p = await watchedPage(s.context, { width: 1400, height: 900 });
    await openSnapshot(p, `#/snapshot/${snapId}`);
    await p.click('#btn-columns');
    const offered = await p.locator('.columns-menu label.column-choice').allInnerTexts();
    for (const c of ['Size', 'Committed', 'Private', 'Total WS', 'Private WS', 'Shareable WS', 'Shared WS', 'Locked WS',
      'Pss', 'Uss', 'Swap', 'Swap Pss', 'Dirty', 'Blocks', 'Protection', 'Named by', 'Details']) {
      assert.ok(offered.some((x) => x.trim() === c), `${c} is offered (${offered.join('|')})`);
    }
    // Uss, Dirty and Named by on; Committed and Private off
    for (const k of ['uss', 'dirty', 'owner']) await p.check(`.columns-menu input[data-col=${k}]`);
    for (const k of ['committed', 'private']) await p.uncheck(`.columns-menu input[data-col=${k}]`);
    await p.keyboard.press('Escape');
    const heads = (await p.locator('.details-table .vt-hcell').allInnerTexts()).map((x) => x.replace(/\s+/g, ' ').trim());
    assert.deepEqual(heads, ['Address', 'Type', 'Size', 'Total WS', 'Private WS', 'Uss', 'Dirty', 'Named by', 'Details']);
    assert.match(p.url(), /cols=size%2Ctotal_ws%2Cprivate_ws%2Cuss%2Cdirty%2Cowner%2Cdetails|cols=size,total_ws,private_ws,uss,dirty,owner,details/);
    // the numbers are the JSON's: an allocation a recogniser named (glibc's malloc memory; an
    // ASan build of the testee has none, then any with Uss), its Uss, Dirty and owner
    const al = snap.allocations.find((a) => a.owner && a.columns.uss > 0) || snap.allocations.find((a) => a.columns.uss > 0);
    assert.ok(al, 'an allocation with Uss');
    await p.fill('#find', al.start);
    await p.keyboard.press('Enter');
    const sel = p.locator('.details-table .vt-row.sel:not(.hidden)');
    await sel.waitFor();
    const cells = await sel.locator('.vt-cell').allInnerTexts();
    const human = (n) => p.evaluate(async (v) => (await import('/format.js')).fmtSize(v, 'auto', true), n);
    assert.equal(cells[5], await human(al.columns.uss), 'Uss as in the JSON');
    assert.equal(cells[6], await human(al.columns.dirty), 'Dirty as in the JSON');
    assert.equal(cells[7], al.owner || '', 'Named by = the allocation\'s owner');
    await screenshot(p, 'columns-chosen-1400.png');
    const link = p.url();

    // the same tab reopens with the saved choice, without cols= in the URL
    await p.goto(`${s.daemon.base}/#/snapshot/${snapId}`);
    await p.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1');
    assert.deepEqual(await p.evaluate(() => window.vmsDebug.details.cols), ['size', 'total_ws', 'private_ws', 'uss', 'dirty', 'owner', 'details']);
    await clean(p);

    // another browser (no localStorage) given the link shows the same columns
    const other = await s.browser.newContext();
    const q = await watchedPage(other, { width: 1400, height: 900 });
    await q.goto(s.daemon.url);
    await waitReady(q, 'processes');
    await q.goto(link);
    await q.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1');
    assert.deepEqual(await q.evaluate(() => window.vmsDebug.details.cols), ['size', 'total_ws', 'private_ws', 'uss', 'dirty', 'owner', 'details']);
    await clean(q);
    await other.close();
    await p.evaluate(() => localStorage.removeItem('vmscope.columns'));
    await p.close();
  });

  it('a column is resized by dragging its header edge, and keeps its width', async () => {
    const p = await watchedPage(s.context, { width: 1400, height: 900 });
    await openSnapshot(p, `#/snapshot/${snapId}`);
    await p.evaluate(() => { localStorage.removeItem('vmscope.widths.details'); localStorage.removeItem('vmscope.columns'); });
    await p.reload();
    await p.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1');
    const head = p.locator('.details-table .vt-hcell[data-key=committed]');
    await p.locator('.details-panel').scrollIntoViewIfNeeded();
    const w0 = (await head.boundingBox()).width;
    const grip = (await head.locator('.vt-resize').boundingBox());
    const sortBefore = await p.evaluate(() => window.vmsDebug.details.sortKey);
    await p.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2);
    await p.mouse.down();
    await p.mouse.move(grip.x + grip.width / 2 + 30, grip.y + grip.height / 2, { steps: 4 });
    await p.mouse.move(grip.x + grip.width / 2 + 60, grip.y + grip.height / 2, { steps: 4 });
    await p.mouse.up();
    const w1 = (await head.boundingBox()).width;
    assert.ok(Math.abs(w1 - (w0 + 60)) <= 3, `dragged 60 px wider (${w0} -> ${w1})`);
    assert.equal(await p.evaluate(() => window.vmsDebug.details.sortKey), sortBefore, 'a drag does not sort');
    const cell = await p.locator('.details-table .vt-row.alloc:not(.hidden) .vt-cell:nth-child(4)').first().boundingBox();
    assert.ok(Math.abs(cell.width - w1) <= 1, 'the rows follow the header');
    await p.reload();
    await p.waitForFunction(() => window.vmsDebug && document.body.dataset.ready === '1');
    const w2 = (await p.locator('.details-table .vt-hcell[data-key=committed]').boundingBox()).width;
    assert.ok(Math.abs(w2 - w1) <= 1, `the width is kept (${w2})`);
    // Default columns forgets it
    await p.click('#btn-columns');
    await p.click('.columns-reset button');
    await p.keyboard.press('Escape');
    const w3 = (await p.locator('.details-table .vt-hcell[data-key=committed]').boundingBox()).width;
    assert.ok(Math.abs(w3 - w0) <= 1, `Default columns restores the width (${w3})`);
    await clean(p);
    await p.close();
  });

  it('the diff table follows the choice and keeps Details in view at 1024 px', async () => {
    const f = join(s.tmp, 'grow.bin');
    writeFileSync(f, Buffer.alloc(64 * 1024, 7));
    const mf = await startMapfile(f);
    try {
      const a = await apiCall(s.daemon, 'POST', `/processes/${mf.pid}/snapshots`, { share: false });
      const added = await mf.grow();
      const b = await apiCall(s.daemon, 'POST', `/processes/${mf.pid}/snapshots`, { share: false });
      const p = await watchedPage(s.context, { width: 1024, height: 900 });
      await p.goto(s.daemon.url);
      await waitReady(p, 'processes');
      await p.evaluate(() => localStorage.removeItem('vmscope.columns'));
      await p.goto(`${s.daemon.base}/#/diff/${a.id}/${b.id}`);
      await waitReady(p, 'diff');
      const row = `.vt-row.added:not(.hidden)`;
      const r = await assertInView(p, '.diff-table', row, ['.vt-cell.addr', '.vt-cell.type', '.vt-cell.details']);
      assert.match(r.cells['.vt-cell.addr'].text, new RegExp(added.replace(/^0x/, '')));
      const d = await apiCall(s.daemon, 'GET', `/diff?from=${a.id}&to=${b.id}`);
      const entry = d.allocations.find((x) => x.to && x.to.start === added);
      assert.ok(entry, `the diff has the mapping added at ${added}`);
      assert.equal(r.cells['.vt-cell.details'].text, entry.to.details || '', 'the Details cell is the allocation\'s');
      await screenshot(p, 'columns-diff-1024.png', { fullPage: true });
      // the choice: Uss on, Committed off, in the diff's per-type table and its rows
      await p.click('#btn-columns');
      await p.check('.columns-menu input[data-col=uss]');
      await p.uncheck('.columns-menu input[data-col=committed]');
      await p.keyboard.press('Escape');
      const heads = (await p.locator('.diff-table .vt-hcell').allInnerTexts()).map((x) => x.replace(/\s+/g, ' ').trim());
      assert.ok(heads.includes('Δ Uss') && !heads.includes('Δ Committed'), `diff columns follow the choice (${heads.join('|')})`);
      const typeHeads = await p.locator('.diff-types thead th').allInnerTexts();
      assert.ok(typeHeads.some((h) => h.startsWith('Δ Uss')) && !typeHeads.some((h) => h.startsWith('Δ Committed')), 'so does the per-type table');
      assert.match(p.url(), /cols=/);
      // a Δ cell says from → to on hover
      const title = await p.locator(`${row} .vt-cell.right >> nth=0`).getAttribute('title');
      assert.match(title, /^Size: .* → 2\.1 MiB$|^Size: — → 2 MiB$/, `from → to on hover (${title})`);
      await clean(p);
      await p.evaluate(() => localStorage.removeItem('vmscope.columns'));
      await p.close();
    } finally {
      await mf.stop();
    }
  });
});
