// Issue 12, points 2, 4, 5 and 12: one meaning per word, a deep link in a new tab, changes in
// place, and the snapshots list sorted by any column.
// - The picker's private column is RssAnon and shows /proc/PID/status RssAnon; the snapshot's
//   Private bar says it is committed (VMMap's Private Bytes) and shows the snapshot's own total;
//   a Private WS bar sits beside it; the untouched worker thread stacks of vms_testee are called
//   out with the snapshot's own Stack numbers; Total WS = VmRSS + VmPTE is stated with both.
// - A deep link opened in a fresh tab asks for the token (not a dead end), a wrong one is refused,
//   the right one opens the view; the token never appears in a URL any request used; it reaches
//   localStorage only when "Remember in this browser" is ticked, and a later tab then opens.
// - Mark changes on a growing process's second snapshot outlines the grown heap and marks its row
//   ("from → to" on hover and in the selection); diff rows link to the allocation; the diff can
//   show from → to; rows where only Pss moved are hidden by default, counted, and shown on
//   request; the header names snapshot ids; Free's change is never painted green.
// Screenshots: words-*.png, token-*.png, changes-*.png at 1024 and 1400 px.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { watchedPage, screenshot, waitReady, apiCall, skipIfOptionalAndMissing } from './lib.mjs';
import { e2eSuite, assertPageClean, waitSnapshotView } from './harness.mjs';

const missing = skipIfOptionalAndMissing('the words/token/changes e2e tests');

// the dashboard's human() (format.js), to compare what the page prints with the JSON
function human(n) {
  const t = (x) => String(x >= 100 ? Math.round(x) : Math.round(x * 10) / 10);
  const a = Math.abs(n);
  if (a < 1024) return `${Math.round(n)} B`;
  if (a < 1024 ** 2) return `${t(n / 1024)} KiB`;
  if (a < 1024 ** 3) return `${t(n / 1024 ** 2)} MiB`;
  if (a < 1024 ** 4) return `${t(n / 1024 ** 3)} GiB`;
  return `${t(n / 1024 ** 4)} TiB`;
}

describe('words, token, changes in place', { timeout: 300000 }, () => {
  const s = e2eSuite(missing, { testee: true, grower: [256, 200] });
  let context;

  before(async () => {
    context = await s.browser.newContext();
  });

  async function tokenPage(viewport) {
    const p = await watchedPage(context, viewport);
    await p.goto(s.daemon.url);
    await waitReady(p, 'processes');
    return p;
  }

  it('the picker calls its column RssAnon and shows RssAnon', async () => {
    for (const width of [1024, 1400]) {
      const p = await tokenPage({ width, height: 900 });
      const heads = await p.locator('table.procs thead th').allInnerTexts();
      assert.ok(heads.some((h) => h.startsWith('RssAnon')), `a RssAnon column (${heads.join('|')})`);
      assert.ok(!heads.some((h) => /^Private/.test(h)), 'no column called Private in the picker');
      const list = await apiCall(s.daemon, 'GET', '/processes');
      const me = (Array.isArray(list) ? list : list.processes).find((x) => x.pid === s.testee.pid);
      const cell = await p.locator(`tr[data-pid="${s.testee.pid}"] td[data-col=anon]`).innerText();
      // RssAnon moves a little between two reads: within 10 % of the API's
      const [num, unit] = cell.split(' ');
      const bytes = Number(num) * { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[unit];
      assert.ok(me.rss_anon > 0 && Math.abs(bytes - me.rss_anon) <= me.rss_anon * 0.1, `RssAnon ${cell} vs ${human(me.rss_anon)}`);
      await screenshot(p, `words-picker-${width}.png`);
      await assertPageClean(p);
      await p.close();
    }
  });

  it('the snapshot says what Private counts, shows Private WS, the untouched stacks and Total WS vs ps RSS', async () => {
    const r = await apiCall(s.daemon, 'POST', `/processes/${s.testee.pid}/snapshots`, { share: false });
    const snap = await apiCall(s.daemon, 'GET', `/snapshots/${r.id}`);
    for (const width of [1024, 1400]) {
      const p = await tokenPage({ width, height: 1000 });
      await p.goto(`${s.daemon.base}/#/snapshot/${r.id}`);
      await waitSnapshotView(p, r.id);
      const label = p.locator('.bar[data-bar=private] .bar-label');
      assert.match(await label.innerText(), /Private\s+committed/);
      assert.match(await label.getAttribute('title'), /Private Bytes/);
      for (const k of ['private', 'private_ws', 'total_ws']) {
        assert.equal(await p.locator(`.bar[data-bar=${k}] .bar-total`).innerText(), human(snap.total[k]), `${k} bar shows the snapshot's total`);
      }
      const byType = Object.fromEntries(snap.summary.map((x) => [x.type, x]));
      const st = byType.stack.columns;
      assert.ok(st.private - st.private_ws >= 4 * 1024 * 1024, 'vms_testee has untouched worker stacks');
      const stacks = await p.locator('[data-note=stacks]').innerText();
      assert.ok(stacks.startsWith(human(st.private - st.private_ws)), `stack note: ${stacks}`);
      assert.match(stacks, new RegExp(`only ${human(st.private_ws).replace('.', '\\.')} of it is resident`));
      const rss = await p.locator('[data-note=rss]').innerText();
      const pte = byType.page_table.columns.total_ws;
      assert.equal(snap.total.total_ws, snap.status.vm_rss + pte, 'Total WS = VmRSS + VmPTE in the JSON');
      assert.ok(rss.includes(`ps RSS ${human(snap.status.vm_rss)} (VmRSS) + page tables ${human(pte)} (VmPTE`), rss);
      await screenshot(p, `words-snapshot-${width}.png`);
      await assertPageClean(p);
      await p.close();
    }
  });

  it('a deep link in a fresh tab asks for the token; the token stays out of URLs', async () => {
    const r = await apiCall(s.daemon, 'POST', `/processes/${s.testee.pid}/snapshots`, { share: false });
    const link = `${s.daemon.base}/#/snapshot/${r.id}?units=kib`;
    const fresh = await s.browser.newContext();
    const urls = [];
    fresh.on('request', (q) => urls.push(q.url()));
    for (const width of [1024, 1400]) {
      const p = await watchedPage(fresh, { width, height: 800 });
      await p.goto(link);
      await p.waitForSelector('#token-form');
      assert.match(await p.locator('.error-panel').innerText(), /needs the API token[\s\S]*new tab/);
      await screenshot(p, `token-prompt-${width}.png`);
      await p.fill('#token-input', 'not-the-token-123');
      await p.click('#token-form button[type=submit]');
      await p.waitForFunction(() => /does not accept/.test(document.querySelector('#token-form [role=status]').textContent));
      await p.fill('#token-input', s.daemon.token);
      if (width === 1400) await p.check('#token-remember');
      await p.click('#token-form button[type=submit]');
      await waitSnapshotView(p, r.id);
      assert.equal(new URL(p.url()).hash, `#/snapshot/${r.id}?units=kib`, 'the deep link is kept as it was');
      const stored = await p.evaluate(() => localStorage.getItem('vmscope.token.remembered'));
      assert.equal(stored, width === 1400 ? s.daemon.token : null, 'localStorage only with consent');
      await assertPageClean(p);
      await p.close();
    }
    // the badge is a place to give the token too, where no error panel asks for it
    const other = await s.browser.newContext();
    const pb = await watchedPage(other);
    await pb.route('**/api/v1/processes*', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '[]' }));
    await pb.goto(`${s.daemon.base}/#/processes`);
    await waitReady(pb, 'processes');
    await pb.click('#no-token');
    await pb.fill('dialog #token-input', s.daemon.token);
    await pb.click('dialog #token-form button[type=submit]');
    await pb.waitForFunction(() => !document.querySelector('dialog') && document.getElementById('no-token').classList.contains('hidden'));
    assert.equal(await pb.evaluate(() => sessionStorage.getItem('vmscope.token')), s.daemon.token);
    await assertPageClean(pb);
    await other.close();
    // remembered: a new tab of the same origin opens the link at once
    const p = await watchedPage(fresh);
    await p.goto(link);
    await waitSnapshotView(p, r.id);
    await p.close();
    assert.ok(urls.length > 10);
    assert.deepEqual(urls.filter((u) => u.includes(s.daemon.token)), [], 'no request URL carries the token');
    await fresh.close();
  });

  it('Mark changes marks the grown heap in place; diff rows lead to it; Pss-only rows hidden', async () => {
    const a = await apiCall(s.daemon, 'POST', `/processes/${s.grower.pid}/snapshots`, { share: false });
    await new Promise((res) => setTimeout(res, 700));
    const b = await apiCall(s.daemon, 'POST', `/processes/${s.grower.pid}/snapshots`, { share: false });
    const d = await apiCall(s.daemon, 'GET', `/diff?from=${a.id}&to=${b.id}`);
    const h = BigInt(s.grower.heap); // the first block: inside the brk heap
    const heapE = d.allocations.find((e) => e.to && BigInt(e.to.start) <= h && h < BigInt(e.to.end));
    const heapStart = heapE && heapE.to.start;
    assert.ok(heapE && heapE.changes.includes('grown'), 'the diff engine says the heap grew');
    const isSharingOnly = (e) => e.changes.length === 1 && e.changes[0] === 'usage' &&
      Object.entries(e.delta).every(([k, v]) => !v || ['pss', 'swap_pss', 'shared_ws'].includes(k));
    const sharingOnly = d.allocations.filter(isSharingOnly).length;
    for (const width of [1024, 1400]) {
      const p = await tokenPage({ width, height: 1000 });
      await p.goto(`${s.daemon.base}/#/snapshot/${b.id}`);
      await waitSnapshotView(p, b.id);
      await p.click('#btn-mark');
      await p.waitForSelector('#changes-panel h2');
      assert.equal(await p.locator('#changes-panel h2').textContent(), `Changes from snapshot #${a.id} to #${b.id}`);
      assert.match(await p.locator('#changes-panel').innerText(), new RegExp(sharingOnly ? `${sharingOnly} hidden` : 'sharing-dependent'));
      const marks = await p.evaluate(() => window.vmsDebug.map.marks.length);
      const shown = await p.evaluate(() => window.vmsDebug.details.marks.size);
      assert.equal(marks, d.allocations.length - sharingOnly, 'every change but the sharing-only ones outlined on the map');
      assert.equal(shown, d.allocations.filter((e) => e.to && !isSharingOnly(e)).length, 'every change of this snapshot marked in the details');
      // the heap: found by address, its row marked "grown", its Size "from → to" on hover
      await p.fill('#find', s.grower.heap);
      await p.press('#find', 'Enter');
      const row = p.locator('.details-table .vt-row.sel');
      await row.waitFor();
      assert.match(await row.getAttribute('class'), /mark-grown/);
      assert.equal(await row.locator('.vt-cell.type').getAttribute('data-mark'), 'grown');
      const sizeTitle = await row.locator('.vt-cell.moved').first().getAttribute('title');
      assert.ok(sizeTitle.includes(' → '), sizeTitle);
      const info = await p.locator('.sel-info').innerText();
      assert.match(info, new RegExp(`Since #${a.id}\\s+grown`));
      assert.ok(info.includes(`${human(heapE.from.size)} → ${human(heapE.to.size)}`), `Size from → to in the selection: ${info}`);
      // sharing-only changes on request
      await p.check('#mark-sharing');
      assert.equal(await p.evaluate(() => window.vmsDebug.map.marks.length), d.allocations.length);
      assert.match(p.url(), /sharing=1/);
      await p.uncheck('#mark-sharing');
      await screenshot(p, `changes-marked-${width}.png`, { fullPage: true });
      // the diff: ids, links, from → to, Free not green
      await p.goto(`${s.daemon.base}/#/diff/${a.id}/${b.id}`);
      await waitReady(p, 'diff');
      const where = await p.locator('.view-header .where').innerText();
      assert.ok(where.includes(`#${a.id}`) && where.includes(`#${b.id}`) && !/older|newer/.test(where), where);
      const free = p.locator('.diff-types tr[data-type=free] td');
      for (const c of await free.all()) assert.ok(!/\b(up|down)\b/.test(await c.getAttribute('class') || ''), 'Free is neither red nor green');
      assert.equal(await p.locator('#diff-sharing').isChecked(), false, 'Pss-only rows hidden by default');
      assert.match(await p.locator('.details-panel .count').innerText(), new RegExp(`^${d.allocations.length - sharingOnly} allocation`));
      await p.selectOption('#diff-values', 'ft');
      const heapLink = p.locator(`.diff-table a.alloc-link:text-is("${heapStart}")`);
      await heapLink.waitFor();
      const rowText = await heapLink.locator('xpath=ancestor::*[contains(@class,"vt-row")]').innerText();
      assert.ok(rowText.includes(`${human(heapE.from.size)} → ${human(heapE.to.size)}`), `from → to in the diff row: ${rowText}`);
      await screenshot(p, `changes-diff-${width}.png`);
      await heapLink.click();
      await waitSnapshotView(p, b.id);
      assert.match(p.url(), /mark=1/);
      await p.waitForSelector('#changes-panel h2');
      assert.equal(await p.evaluate(() => window.vmsDebug.model.aStart[window.vmsDebug.view.sel.a].toString(16)), BigInt(heapStart).toString(16));
      await assertPageClean(p);
      await p.close();
    }
  });

  it('rows where only Pss moved (a process sharing the same program exited) are hidden until asked for', async () => {
    const { spawn } = await import('node:child_process');
    // five sleeps map /usr/bin/sleep: when three exit, the subject's Pss of it grows from a fifth
    // to a half and nothing else of it changes (its pages stay shared with the second)
    const sleeps = [0, 1, 2, 3, 4].map(() => spawn('sleep', ['60'], { stdio: 'ignore' }));
    try {
      await new Promise((res) => setTimeout(res, 400));
      const pid = sleeps[0].pid;
      const a = await apiCall(s.daemon, 'POST', `/processes/${pid}/snapshots`, { share: false });
      for (const c of sleeps.slice(2)) c.kill('SIGKILL');
      await new Promise((res) => setTimeout(res, 400));
      const b = await apiCall(s.daemon, 'POST', `/processes/${pid}/snapshots`, { share: false });
      const d = await apiCall(s.daemon, 'GET', `/diff?from=${a.id}&to=${b.id}`);
      const only = d.allocations.filter((e) => e.changes.length === 1 && e.changes[0] === 'usage' &&
        Object.entries(e.delta).every(([k, v]) => !v || ['pss', 'swap_pss', 'shared_ws'].includes(k)));
      assert.ok(only.length >= 1, `the diff engine reports a Pss-only change (${JSON.stringify(d.allocations.map((e) => e.delta))})`);
      const p = await tokenPage({ width: 1400, height: 900 });
      await p.goto(`${s.daemon.base}/#/diff/${a.id}/${b.id}`);
      await waitReady(p, 'diff');
      const count = () => p.locator('.details-panel .count').innerText();
      assert.match(await count(), new RegExp(`^${d.allocations.length - only.length} allocation`));
      assert.match(await p.locator('label:has(#diff-sharing)').innerText(), new RegExp(`${only.length} hidden`));
      await p.check('#diff-sharing');
      assert.match(await count(), new RegExp(`^${d.allocations.length} allocation`));
      // and in place: the snapshot view marks nothing for them until asked
      await p.goto(`${s.daemon.base}/#/snapshot/${b.id}?mark=1`);
      await waitSnapshotView(p, b.id);
      await p.waitForSelector('#changes-panel h2');
      const marked = () => p.evaluate(() => (window.vmsDebug.map.marks || []).length);
      assert.equal(await marked(), d.allocations.length - only.length);
      await p.check('#mark-sharing');
      assert.equal(await marked(), d.allocations.length);
      await assertPageClean(p);
      await p.close();
    } finally {
      for (const c of sleeps) c.kill('SIGKILL');
    }
  });

  it('the snapshots list sorts by any column', async () => {
    for (const width of [1024, 1400]) {
      const p = await tokenPage({ width, height: 900 });
      await p.goto(`${s.daemon.base}/#/snapshots`);
      await waitReady(p, 'snapshots');
      const heads = await p.locator('table.snaps thead th').allInnerTexts();
      assert.ok(heads.some((h) => h.startsWith('Total WS')) && !heads.some((h) => /Working set/.test(h)), heads.join('|'));
      const col = async (i) => (await p.locator(`table.snaps tbody tr td:nth-child(${i})`).allInnerTexts());
      await p.click('th[data-sort=pid]');
      const pids = (await col(6)).map(Number);
      assert.deepEqual(pids, [...pids].sort((x, y) => x - y), 'PID ascending');
      await p.click('th[data-sort=pid]');
      const pidsDesc = (await col(6)).map(Number);
      assert.deepEqual(pidsDesc, [...pids].sort((x, y) => y - x), 'PID descending');
      await p.click('th[data-sort=id]');
      const ids = (await col(2)).map((x) => Number(x.slice(1)));
      assert.deepEqual(ids, [...ids].sort((x, y) => y - x), 'Id, largest first');
      assert.match(decodeURIComponent(p.url()), /sort=id:desc/);
      await screenshot(p, `words-snapshots-${width}.png`);
      await assertPageClean(p);
      await p.close();
    }
  });
});
