// Issue 12, "across processes" and Uss in the picker:
// - Two vms_mapfile processes map the same 256 KiB file (every page read). The System view
//   (#/system?q=NAME) shows that one file with two processes, its Pss the file's size, each
//   process's Pss half of it, as the API (and, in test_system.py, the kernel's smaps) says;
//   clicking the row folds its processes away and back.
// - The areas and user tables are there and show the API's numbers.
// - A snapshot of one of them: selecting the mapped file offers "Which processes map this file",
//   which opens the System view on exactly that path (chip, both pids listed).
// - The picker shows Pss and Uss (smaps_rollup) under those names, equal to the API's.
// - Totals by type: not read until "Add up by type" is clicked (or #/system?types=1); then one
//   row per type and a Total, every column in view at 1024 px, the Total's Pss as the API's.
// Screenshots: system-types-*.png, system-*.png, system-who-*.png, system-picker-*.png at 1024 and 1400 px.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipIfOptionalAndMissing, startMapfile, watchedPage, screenshot, waitReady, apiCall } from './lib.mjs';
import { e2eSuite, assertPageClean, waitSnapshotView } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the system view e2e tests');
const SIZE = 256 * 1024;

// The bytes a cell shows ("128 KiB"), for comparing the page with the JSON: a cell is that many
// bytes to the digits shown (the dashboard's human() keeps at most one decimal).
const UNIT = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
function shows(text, bytes) {
  const [n, u] = text.trim().split(' ');
  const shown = Number(n) * UNIT[u];
  const step = (Number(n) >= 100 ? 1 : 0.1) * UNIT[u];
  return Number.isFinite(shown) && Math.abs(shown - bytes) <= step / 2 + 1;
}

describe('across processes', { timeout: 300000 }, () => {
  const s = e2eSuite(missing, { tmp: 'system', context: true });
  let file;
  let mappers;

  before(async () => {
    file = join(s.tmp, 'who-maps-me.dat');
    writeFileSync(file, Buffer.alloc(SIZE, 7));
    mappers = [await startMapfile(file), await startMapfile(file)];
    for (const m of mappers) s.stops.push(() => m.stop());
  });

  async function open(hash, viewport, view = 'system') {
    const p = await watchedPage(s.context, viewport);
    await p.goto(`${s.daemon.url}`);
    await waitReady(p, 'processes');
    await p.goto(`${s.daemon.base}/${hash}`);
    await waitReady(p, view);
    return p;
  }

  it('lists the file with its two processes and their Pss', async () => {
    const api = await apiCall(s.daemon, 'GET', `/system/files?path=${encodeURIComponent(file)}`);
    assert.equal(api.files.length, 1);
    assert.equal(api.files[0].pss, SIZE, 'Pss of the two adds up to the file');
    for (const width of [1024, 1400]) {
      const p = await open('#/system?q=who-maps-me', { width, height: 900 });
      const row = p.locator(`tr.file[data-path="${file}"]`);
      assert.equal(await row.count(), 1, 'one row for the file');
      const cells = await row.locator('td').allInnerTexts();
      assert.ok(shows(cells[0], SIZE), `Pss cell ${cells[0]} = the file size`);
      assert.equal(cells[4], '2', 'two processes');
      // the file's own processes: another file named like it (a second run of this test on the
      // machine) may be listed and unfolded too
      const mine = p.locator(`tr.mapper[data-file="${file}"]`);
      const pids = await mine.evaluateAll((rs) => rs.map((r) => Number(r.dataset.pid)).sort());
      assert.deepEqual(pids, mappers.map((m) => m.pid).sort(), 'both mappers listed under it');
      for (const m of mappers) {
        const c = await p.locator(`tr.mapper[data-file="${file}"][data-pid="${m.pid}"] td`).allInnerTexts();
        assert.ok(shows(c[0], SIZE / 2), `pid ${m.pid}: Pss ${c[0]} is half the file`);
        assert.ok(shows(c[1], SIZE), `pid ${m.pid}: Rss ${c[1]} is the file`);
      }
      // the path cell is inside the viewport: the identity of the row is readable without scrolling
      const box = await row.locator('td.path').boundingBox();
      assert.ok(box && box.x + 40 < width, `path cell starts inside ${width} px`);
      await screenshot(p, `system-${width}.png`);
      await row.click();
      assert.equal(await mine.count(), 0, 'a click folds the processes away');
      await row.click();
      assert.equal(await mine.count(), 2, '...and back');
      // areas and users
      const sys = await apiCall(s.daemon, 'GET', '/system?users=0');
      assert.equal(await p.locator('table.areas tr[data-area]').count(), 3);
      const total = await p.locator('table.areas tr.total td').nth(1).innerText();
      assert.ok(shows(total, sys.meminfo.mem_total), `MemTotal ${total} as the API says`);
      assert.ok(await p.locator('table.users tr[data-user="total"]').count() === 1, 'a users total row');
      await assertPageClean(p);
      await p.close();
    }
  });

  it('a snapshot row of the file leads to the processes that map it', async () => {
    const r = await apiCall(s.daemon, 'POST', `/processes/${mappers[0].pid}/snapshots`, { share: false });
    for (const width of [1024, 1400]) {
      const p = await open(`#/snapshot/${r.id}?sel=${mappers[0].addr}`, { width, height: 1000 }, 'snapshot');
      await waitSnapshotView(p, r.id);
      const link = p.locator('.sel-info p.who-maps a');
      await link.waitFor({ timeout: 10000 });
      assert.match(await link.innerText(), /Which processes map this file/);
      await link.scrollIntoViewIfNeeded();
      await screenshot(p, `system-who-link-${width}.png`);
      await link.click();
      await waitReady(p, 'system');
      assert.match(await p.locator('.chip').first().innerText(), /who-maps-me\.dat/);
      const pids = await p.locator('tr.mapper').evaluateAll((rs) => rs.map((x) => Number(x.dataset.pid)).sort());
      assert.deepEqual(pids, mappers.map((m) => m.pid).sort(), 'the path view lists both mappers, unfolded');
      assert.equal(await p.locator('tr.file').count(), 1, 'only that file');
      await screenshot(p, `system-who-${width}.png`);
      await assertPageClean(p);
      await p.close();
    }
  });

  it('totals by type across processes, asked for with a button and deep-linked', async () => {
    for (const width of [1024, 1400]) {
      const p = await open('#/system', { width, height: 1000 });
      assert.equal(await p.locator('table.types').count(), 0, 'not read until asked (every smaps is costly)');
      const answer = p.waitForResponse((r) => r.url().includes('/api/v1/system') && r.url().includes('types=1'));
      await p.locator('#load-types').click();
      await p.waitForSelector('.sys-types[data-ready="1"]', { timeout: 60000 });
      const api = await (await answer).json();
      assert.match(await p.evaluate(() => location.hash), /types=1/, 'the deep link keeps it');
      const keys = await p.locator('table.types tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.type));
      assert.deepEqual(keys, ['image', 'mapped_file', 'shareable', 'heap', 'managed_heap', 'stack', 'private_data',
        'page_table', 'kernel', 'reserved', 'total']);
      const heads = await p.locator('table.types thead th').allInnerTexts();
      assert.deepEqual(heads, ['Type', 'Size', 'Committed', 'Total WS', 'Private', 'Private WS', 'Pss', 'Uss', 'Blocks']);
      // every column in view without scrolling sideways
      const last = await p.locator('table.types thead th').last().boundingBox();
      assert.ok(last && last.x + last.width <= width, `Blocks column ends inside ${width} px`);
      // the Total row's Pss is the answer the page got, to the digits shown (a second API call
      // would differ: other tests' browsers start and exit meanwhile); our two mappers are
      // among the processes counted
      const pids = api.by_type.processes.map((x) => x.pid);
      assert.ok(mappers.every((m) => pids.includes(m.pid)), 'our processes are counted');
      const text = await p.locator('table.types tr[data-type="total"] td').nth(6).innerText();
      assert.ok(shows(text, api.by_type.total.pss), `Total Pss shown ${text} vs the page's answer ${api.by_type.total.pss}`);
      await screenshot(p, `system-types-${width}.png`);
      await assertPageClean(p);
      await p.close();
    }
    // the deep link opens it directly
    const p = await open('#/system?types=1', { width: 1400, height: 900 });
    await p.waitForSelector('.sys-types[data-ready="1"]', { timeout: 60000 });
    await p.close();
  });

  it('the picker shows Pss and Uss from smaps_rollup', async () => {
    for (const width of [1024, 1400]) {
      const p = await open('#/processes', { width, height: 900 }, 'processes');
      await p.waitForSelector('body[data-rollup="1"]', { timeout: 30000 });
      const heads = await p.locator('table.procs thead th').allInnerTexts();
      assert.ok(heads.some((h) => h.startsWith('Pss')) && heads.some((h) => h.startsWith('Uss')), heads.join('|'));
      const list = await apiCall(s.daemon, 'GET', `/processes?rollup=1&q=${mappers[0].pid}`);
      const me = list.processes.find((x) => x.pid === mappers[0].pid);
      const uss = await p.locator(`tr[data-pid="${mappers[0].pid}"] td[data-col=uss]`).innerText();
      const pss = await p.locator(`tr[data-pid="${mappers[0].pid}"] td[data-col=pss]`).innerText();
      // a sleeping process, but Pss (and Uss) move when other processes start or stop sharing its
      // libraries' pages (chromium starting here): within 5 % of the API's second read
      const bytes = (text) => { const [n, u] = text.split(' '); return Number(n) * UNIT[u]; };
      assert.ok(Math.abs(bytes(uss) - me.uss) <= me.uss * 0.05, `Uss ${uss} vs the API's ${me.uss} bytes`);
      assert.ok(Math.abs(bytes(pss) - me.pss) <= me.pss * 0.05, `Pss ${pss} vs the API's ${me.pss} bytes`);
      await screenshot(p, `system-picker-${width}.png`);
      await assertPageClean(p);
      await p.close();
    }
  });
});
