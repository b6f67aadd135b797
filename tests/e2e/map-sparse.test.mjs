// Issue 12, points 8, 9 and 1 (the summary): a map that works for sparse address spaces.
// - node (V8 scatters its pages over the 128 TiB user space): the Hilbert layout shows the whole
//   2^47 space; consecutive cells are neighbours on the square (nearby addresses stay nearby);
//   every allocation's cell is coloured, never left as free space, on the canvas itself; names
//   and the sub-square address labels change when a double-click zooms in (labels adapt to zoom);
//   a click on a cell selects its largest allocation; the layout is part of the deep link.
// - bench/many_vmas (60k one-page VMAs): the strip aggregates tiny neighbours into at most 3000
//   striped blocks and says so in its caption; a click on one zooms into it; the Hilbert layout
//   copes too.
// - The first click on the map does not move it (it once moved 8.6 px, so a drag right after
//   zoomed the wrong row); a zoomed partial gap names the whole gap's size, not the part's.
// - At 1024 px the summary's Largest column is on screen (columns.test.mjs checks Type/Details).
// Screenshots: map-*.png at 1024 and 1400 px.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { watchedPage, screenshot, apiCall, skipIfOptionalAndMissing, env } from './lib.mjs';
import { e2eSuite, assertPageClean, waitSnapshotView } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the sparse-map e2e tests');
const MANY = join(dirname(env.bin), 'bench/many_vmas');
if (!existsSync(MANY)) missing.push(`bench/many_vmas (${MANY})`);
const NVMAS = 60000;

// Start cmd and wait for a line matching re; the process is stopped by the suite's after().
function startUntil(s, cmd, args, re) {
  return new Promise((res, rej) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    s.stops.push(() => new Promise((r) => { if (proc.exitCode !== null) r(); else { proc.once('exit', r); proc.kill('SIGTERM'); } }));
    const t = setTimeout(() => rej(new Error(`${cmd}: not ready in 60 s`)), 60000);
    createInterface({ input: proc.stdout }).on('line', (l) => {
      const m = l.match(re);
      if (m) { clearTimeout(t); res({ pid: proc.pid, m }); }
    });
    proc.on('exit', (c) => rej(new Error(`${cmd} exited ${c}`)));
  });
}

// node with V8 heaps grown to many pages (old space, large objects, array buffers)
const NODE_PROG = `
const keep = [];
for (let i = 0; i < 40; i++) keep.push(new Array(200000).fill(i));
for (let i = 0; i < 20; i++) keep.push(Buffer.alloc(1 << 20, i));
for (let i = 0; i < 200000; i++) keep.push({ i, s: 'x' + i });
console.log('READY ' + process.pid);
setTimeout(() => {}, 600000);
`;

describe('a map for sparse address spaces', { timeout: 400000 }, () => {
  const s = e2eSuite(missing, { testee: true, context: true });
  let nodeSnap;
  let manySnap;
  let testeeSnap;

  before(async () => {
    const node = await startUntil(s, process.execPath, ['-e', NODE_PROG], /^READY (\d+)/);
    const many = await startUntil(s, MANY, [String(NVMAS), '600'], /^READY pid=(\d+)/);
    const take = async (pid) => {
      const { id } = await apiCall(s.daemon, 'POST', `/processes/${pid}/snapshots`, { share: false });
      return { ...(await apiCall(s.daemon, 'GET', `/snapshots/${id}`)), id };
    };
    nodeSnap = await take(node.pid);
    // only the id: the page loads the 60k-allocation JSON itself (node reading tens of MiB under
    // load can be slower than the daemon's 3 s write timeout, which then drops the connection)
    manySnap = await apiCall(s.daemon, 'POST', `/processes/${many.pid}/snapshots`, { share: false });
    testeeSnap = await take(s.testee.pid);
  });

  async function open(width, id, query = '') {
    const p = await watchedPage(s.context, { width, height: 1000 });
    await p.goto(s.daemon.url);
    await p.goto(`${s.daemon.base}/#/snapshot/${id}${query}`);
    await waitSnapshotView(p, id);
    return p;
  }

  it('node: the Hilbert layout shows the whole 47-bit space and every allocation on it', async () => {
    const userAllocs = nodeSnap.allocations.filter((a) => BigInt(a.end) <= 1n << 47n);
    assert.ok(userAllocs.length > 20, `node has many allocations (${userAllocs.length})`);
    for (const width of [1400, 1024]) {
      const p = await open(width, nodeSnap.id);
      await screenshot(p, `map-node-strip-${width}.png`);
      // the strip says the space is sparse and offers the Hilbert layout
      assert.match(await p.locator('.map-caption').innerText(), /A sparse address space: \d+ free gaps are drawn compressed/);
      await p.click(width === 1400 ? '#map-try-hilbert' : '#map-layout-hilbert');
      await p.waitForFunction(() => window.vmsDebug.map.hil);
      assert.match(p.url(), /layout=hilbert/, 'the layout is in the deep link');
      const r = await p.evaluate(() => {
        const map = window.vmsDebug.map;
        const h = map.hil;
        const m = window.vmsDebug.model;
        const n = h.n;
        let far = 0;
        for (let d = 0; d + 1 < n * n; d++) {
          if (Math.abs(h.curve.xs[d + 1] - h.curve.xs[d]) + Math.abs(h.curve.ys[d + 1] - h.curve.ys[d]) !== 1) far++;
        }
        // every user-space allocation: its first cell counted, and coloured on the canvas
        const ctx = map.canvas.getContext('2d');
        const dpr = window.devicePixelRatio || 1;
        const lost = [];
        for (let a = 0; a < m.allocs.length; a++) {
          if (m.aEnd[a] > h.hi) continue;
          const cells = h.cellsOf(m.aStart[a], m.aEnd[a]);
          const pt = map.pointFor(m.aStart[a]);
          const x = Math.floor((pt.x - map.canvas.getBoundingClientRect().left) * dpr);
          const y = Math.floor((pt.y - map.canvas.getBoundingClientRect().top) * dpr);
          const px = ctx.getImageData(x, y, 1, 1).data;
          const free = px[0] === 0xf3 && px[1] === 0xf4 && px[2] === 0xf6;
          const blank = px[3] === 0 || (px[0] === 255 && px[1] === 255 && px[2] === 255);
          if (!cells || !h.count[cells[0]] || free || blank) lost.push(m.allocs[a].start);
        }
        return { far, lost, lo: String(h.lo), hi: String(h.hi), n, bar: document.querySelector('.map-zoom').innerText, labels: h.labels };
      });
      assert.equal(r.far, 0, 'consecutive cells are neighbours on the square');
      assert.equal(r.lo, '0');
      assert.equal(r.hi, String(1n << 47n), 'the whole 47-bit space');
      assert.match(r.bar, /Whole address space .*128 TiB/);
      assert.deepEqual(r.lost, [], 'every allocation keeps a visible mark');
      await screenshot(p, `map-node-hilbert-${width}.png`);

      // hover names what a cell holds; a click selects its largest allocation
      const big = userAllocs.reduce((x, y) => (BigInt(y.end) - BigInt(y.start) > BigInt(x.end) - BigInt(x.start) ? y : x));
      const pt = await p.evaluate((a) => window.vmsDebug.map.pointFor(BigInt(a)), big.start);
      await p.mouse.move(pt.x, pt.y);
      await p.waitForSelector('.map-tip:not(.hidden)');
      assert.match(await p.locator('.map-tip').innerText(), /allocation.* mapped of /);
      await p.mouse.click(pt.x, pt.y);
      await p.waitForFunction(() => /[?&]sel=/.test(location.hash));
      const sel = await p.evaluate(() => { const v = window.vmsDebug.view; return v.sel && v.sel.a != null ? window.vmsDebug.model.allocs[v.sel.a].start : null; });
      const cellTop = await p.evaluate((a) => { const h = window.vmsDebug.map.hil; const c = h.cellsOf(BigInt(a), BigInt(a) + 1n)[0]; return window.vmsDebug.model.allocs[h.top[c]].start; }, big.start);
      assert.equal(sel, cellTop, 'the click selected the largest allocation of the cell');

      // double-click: zoom into that sixteenth; the labels follow the zoom
      await p.mouse.dblclick(pt.x, pt.y);
      await p.waitForFunction(() => /zoom=/.test(location.hash) && window.vmsDebug.map.hil && window.vmsDebug.map.hil.hi - window.vmsDebug.map.hil.lo <= 1n << 43n);
      const after = await p.evaluate(() => {
        const h = window.vmsDebug.map.hil;
        return { lo: String(h.lo), hi: String(h.hi), cell: h.cell, labels: h.labels, bar: document.querySelector('.map-zoom').innerText };
      });
      assert.ok(BigInt(after.hi) - BigInt(after.lo) === 1n << 43n, `a sixteenth of 2^47 (${after.lo}-${after.hi})`);
      assert.ok(BigInt(big.start) >= BigInt(after.lo) && BigInt(big.start) < BigInt(after.hi), 'around the allocation clicked');
      assert.match(after.bar, /Zoomed to/);
      assert.ok(after.cell * 16 === 2 ** 47 / (r.n * r.n), 'cells are 16 times finer');
      await screenshot(p, `map-node-hilbert-zoomed-${width}.png`);
      // the deep link reopens the layout
      const url = p.url();
      const q = await watchedPage(s.context, { width, height: 1000 });
      await q.goto(s.daemon.url); // the token is kept per tab
      await q.goto(url);
      await waitSnapshotView(q, nodeSnap.id);
      assert.ok(await q.evaluate(() => !!window.vmsDebug.map.hil), 'a pasted link opens the Hilbert layout');
      await q.close();
      await assertPageClean(p);
      await p.close();
    }
  });

  it(`${NVMAS} VMAs: tiny neighbours aggregated and said so; a click zooms in`, async () => {
    for (const width of [1400, 1024]) {
      const p = await open(width, manySnap.id);
      assert.ok(await p.evaluate(() => window.vmsDebug.model.regions.length) >= NVMAS, 'the snapshot holds every VMA');
      const agg = await p.evaluate(() => ({ agg: window.vmsDebug.map.agg, segs: window.vmsDebug.map.segKind.length, caption: document.querySelector('.map-caption').innerText }));
      assert.ok(agg.agg && agg.agg.regions >= NVMAS * 0.9 && agg.agg.blocks <= 3000, `aggregated (${JSON.stringify(agg.agg)})`);
      assert.ok(agg.segs <= 2 * 3000 + 200, `at most ~6000 segments drawn (${agg.segs})`);
      assert.match(agg.caption, new RegExp(`${agg.agg.regions} regions are drawn as ${agg.agg.blocks} aggregate blocks`));
      await screenshot(p, `map-many-${width}.png`);
      // hover and click an aggregate
      // the widest aggregate block (the layout follows the process's ASLR: any may be narrow)
      const pt = await p.evaluate(() => {
        const map = window.vmsDebug.map;
        let i = -1;
        for (let j = 0; j < map.segKind.length; j++)
          if (map.segKind[j] === 3 && (i < 0 || map.x0[j + 1] - map.x0[j] > map.x0[i + 1] - map.x0[i])) i = j;
        if (i < 0) return null;
        return map.pointFor(map.segStart[i] + BigInt(Math.max(1, Math.floor(map.segSize[i] / 2))));
      });
      assert.ok(pt, 'an aggregate block is drawn');
      await p.mouse.move(pt.x, pt.y);
      await p.waitForSelector('.map-tip:not(.hidden)');
      assert.match(await p.locator('.map-tip').innerText(), /\d+ regions of \d+ allocations?, aggregated/);
      await p.mouse.click(pt.x, pt.y);
      await p.waitForFunction(() => /zoom=/.test(location.hash));
      const z = await p.evaluate(() => ({ agg: window.vmsDebug.map.agg, regions: window.vmsDebug.map.segKind.filter((k) => k === 0).length }));
      assert.ok(!z.agg || z.agg.threshold < agg.agg.threshold, 'zoomed in, fewer regions are aggregated');
      assert.ok(z.regions > 0, 'regions drawn one by one after zooming');
      await screenshot(p, `map-many-zoomed-${width}.png`);
      await p.click('#map-unzoom');
      await p.click('#map-layout-hilbert');
      await p.waitForFunction(() => window.vmsDebug.map.hil);
      await screenshot(p, `map-many-hilbert-${width}.png`);
      await assertPageClean(p);
      await p.close();
    }
  });

  it('the first click does not move the map; a zoomed partial gap names the whole gap', async () => {
    for (const width of [1024, 1400]) {
      const p = await open(width, testeeSnap.id);
      const top0 = await p.evaluate(() => window.vmsDebug.map.canvas.getBoundingClientRect().top);
      const libc = testeeSnap.allocations.find((a) => a.type === 'image' && /libc\.so/.test(a.details || ''));
      const pt = await p.evaluate((a) => window.vmsDebug.map.pointFor(BigInt(a)), libc.start);
      const top1 = await p.evaluate(() => window.vmsDebug.map.canvas.getBoundingClientRect().top);
      await p.mouse.click(pt.x, pt.y);
      await p.waitForFunction(() => /[?&]sel=/.test(location.hash));
      const top2 = await p.evaluate(() => window.vmsDebug.map.canvas.getBoundingClientRect().top);
      assert.equal(top2, top1, `the map stays put on the first click (moved ${top2 - top1} px; ${top0} before scrolling)`);
      // zoom so that the largest gap is cut: its label names the whole gap
      const r = await p.evaluate(() => {
        const m = window.vmsDebug.model;
        const g = m.largestGap;
        const lo = m.gStart[g] + (m.gEnd[g] - m.gStart[g]) / 2n;
        window.vmsDebug.view.setZoom([lo, m.gEnd[g] + 0x100000n]);
        const map = window.vmsDebug.map;
        const i = map.segKind.findIndex((k, j) => k === 1 && map.segRef[j] === g);
        return { labels: map.labelsFor(i, map.compressed(i, map.scale)), size: m.gaps[g].size, part: map.segSize[i] };
      });
      assert.ok(r.part < r.size, 'the zoom cut the gap');
      const whole = await p.evaluate(async (n) => (await import('/format.js')).human(n), r.size); // the page's own units
      assert.ok(r.labels.length && r.labels.every((t) => !/^largest free/.test(t) || t.includes(whole)), `labels name the whole gap (${r.labels.join(' | ')}; ${whole})`);
      await screenshot(p, `map-zoomed-gap-${width}.png`);
      await assertPageClean(p);
      await p.close();
    }
  });

  it('at 1024 px the summary\'s Largest column is on screen (Type and Details: columns.test.mjs)', async () => {
    for (const [width, snap] of [[1024, testeeSnap], [1024, manySnap], [1024, nodeSnap], [1400, manySnap]]) {
      const p = await open(width, snap.id);
      const box = await p.locator('th[data-col=largest]').first().boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= width, `Largest header inside the viewport (${JSON.stringify(box)}, ${width})`);
      const clip = await p.evaluate(() => {
        const th = document.querySelector('th[data-col=largest]');
        let e = th.parentElement;
        while (e && e !== document.body) {
          const cs = getComputedStyle(e);
          if (/(auto|scroll|hidden)/.test(cs.overflowX)) {
            const a = e.getBoundingClientRect();
            const b = th.getBoundingClientRect();
            if (b.right > a.right + 1 || b.left < a.left - 1) return `clipped by ${e.className}`;
          }
          e = e.parentElement;
        }
        return null;
      });
      assert.equal(clip, null, 'the Largest column is not scrolled out of its box');
      await screenshot(p, `map-summary-${snap.id}-${width}.png`, { top: true });
      await assertPageClean(p);
      await p.close();
    }
  });
});

