// Dashboard benchmark: a snapshot of a process with 60,000 VMAs, opened in headless chromium.
//  1. time to first complete paint of the snapshot view: from navigation start (HTML, modules,
//     fetching and parsing the JSON, building every view) to the frame after everything is in
//     place (the page marks `vms-painted` two animation frames after building). Goal <= 1.5 s.
//  2. scrolling the details table: a steady fast scroll (one screenful every frame) and random
//     jumps; per frame, whether the rows on screen were rendered (no blank rows), the frame
//     interval, and the time the table's render() took.
// Usage: node bench/dashboard.mjs BUILD_DIR [N_VMAS] (bench/dashboard.sh wraps it)
// Env: VMSCOPE_BENCH_RUNS (paint runs, default 5), VMSCOPE_BENCH_STRICT=1 (exit 1 on a missed goal)
import { benchSetup, startManyVmas } from './many_vmas.mjs';

const { build, nvmas, lib } = await benchSetup('dashboard');
const { startDaemon, launchBrowser, apiCall } = lib;
const runs = Number(process.env.VMSCOPE_BENCH_RUNS || 5);
const GOAL_MS = 1500;

function median(a) { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; }
function pct(a, p) { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; }
const r1 = (x) => Math.round(x * 10) / 10;

// many_vmas N: N single-page VMAs
const { pid, proc: many } = await startManyVmas(build, nvmas);
const daemon = await startDaemon();
let browser;
let failed = false;
try {
  const t0 = Date.now();
  const snap = await apiCall(daemon, 'POST', `/processes/${pid}/snapshots`, { share: false });
  const scanStoreMs = Date.now() - t0;
  const raw = await (await fetch(`${daemon.base}/api/v1/snapshots/${snap.id}`, { headers: { Authorization: `Bearer ${daemon.token}` } })).text();
  const body = JSON.parse(raw);
  const regions = body.allocations.reduce((n, a) => n + a.regions.length, 0);
  console.log(`snapshot #${snap.id}: ${body.allocations.length} allocations, ${regions} regions, ${(raw.length / 1048576).toFixed(1)} MiB of JSON (scan + store ${scanStoreMs} ms)`);

  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => { console.error('page error:', e.message); failed = true; });
  await page.goto(daemon.url); // hands the token to the tab
  await page.waitForSelector('body[data-ready][data-view=processes]');

  // ---- 1. time to first complete paint ----
  const paints = [];
  for (let i = 0; i < runs + 1; i++) {
    await page.goto('about:blank');
    await page.goto(`${daemon.base}/#/snapshot/${snap.id}`);
    await page.waitForFunction(() => performance.getEntriesByName('vms-painted').length > 0, null, { timeout: 60000 });
    const m = await page.evaluate((id) => {
      const res = performance.getEntriesByType('resource').find((e) => e.name.endsWith(`/api/v1/snapshots/${id}`));
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      return {
        painted: performance.getEntriesByName('vms-painted')[0].startTime,
        data: performance.getEntriesByName('vms-data')[0].startTime,
        fetchStart: res ? res.startTime : NaN,
        responseEnd: res ? res.responseEnd : NaN,
        fcp: fcp ? fcp.startTime : NaN,
        t: window.vmsTimings,
      };
    }, snap.id);
    if (i > 0) paints.push(m); // the first run warms the HTTP cache of the static files
  }
  const col = (f) => paints.map(f);
  const painted = median(col((m) => m.painted));
  console.log('\nTime to first complete paint of the snapshot view (median of %d runs, ms):', runs);
  console.log(`  page start -> API request sent         ${r1(median(col((m) => m.fetchStart)))}`);
  console.log(`  API request -> last byte received     ${r1(median(col((m) => m.responseEnd - m.fetchStart)))}`);
  console.log(`  last byte -> JSON parsed              ${r1(median(col((m) => m.data - m.responseEnd)))}`);
  for (const k of Object.keys(paints[0].t)) console.log(`  ${k.padEnd(37)} ${r1(median(col((m) => m.t[k])))}`);
  console.log(`  TOTAL (navigation start -> painted)   ${r1(painted)}   [runs: ${col((m) => Math.round(m.painted)).join(', ')}]   goal <= ${GOAL_MS}`);
  if (painted > GOAL_MS) failed = true;

  // ---- 2. scrolling the details table ----
  await page.evaluate(() => document.querySelector('.details-panel').scrollIntoView());
  const scroll = await page.evaluate(async () => {
    const t = window.vmsDebug.details.table;
    const elx = t.el;
    const orig = t.render.bind(t);
    const renderMs = [];
    t.render = () => { const a = performance.now(); orig(); renderMs.push(performance.now() - a); };
    // Is every row that is on screen rendered right now?
    const covered = () => {
      const head = t.head.offsetHeight;
      const first = Math.floor(elx.scrollTop / t.rowHeight);
      const last = Math.min(t.count, Math.ceil((elx.scrollTop + elx.clientHeight - head) / t.rowHeight));
      const have = new Set(t.pool.filter((s) => s.index >= 0).map((s) => s.index));
      for (let i = first; i < last; i++) if (!have.has(i)) return false;
      return true;
    };
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    const result = { rows: t.count, idle: {}, wheel: {}, steady: {}, jumps: {} };
    // idle: the frame clock of this browser with nothing changing (the baseline)
    {
      const iv = [];
      let l = await frame();
      for (let i = 0; i < 120; i++) { const n = await frame(); iv.push(n - l); l = n; }
      result.idle = { frames: 120, blank_frames: 0, intervals: iv, render: [0] };
    }
    // wheel: three rows per frame, as a mouse wheel or trackpad scrolls
    {
      const iv = [];
      let bl = 0;
      let l = await frame();
      for (let i = 0; i < 240; i++) {
        elx.scrollTop += 3 * t.rowHeight;
        const n = await frame();
        iv.push(n - l);
        l = n;
        if (!covered()) bl++;
      }
      result.wheel = { frames: 240, blank_frames: bl, intervals: iv, render: renderMs.splice(0) };
      elx.scrollTop = 0;
      await frame();
      renderMs.splice(0);
    }
    // steady: one screenful per frame, top to bottom, for up to 4 s
    const step = elx.clientHeight - 40;
    const intervals = [];
    let blank = 0;
    let frames = 0;
    let last = await frame();
    const tEnd = performance.now() + 4000;
    while (performance.now() < tEnd && elx.scrollTop + elx.clientHeight < elx.scrollHeight - 2) {
      elx.scrollTop += step;
      const now = await frame();
      intervals.push(now - last);
      last = now;
      frames++;
      if (!covered()) blank++;
    }
    result.steady = { frames, px_per_frame: step, blank_frames: blank, intervals, render: renderMs.splice(0) };
    // jumps: 200 random positions, like dragging the scrollbar
    blank = 0;
    const ji = [];
    last = await frame();
    for (let i = 0; i < 200; i++) {
      elx.scrollTop = Math.random() * (elx.scrollHeight - elx.clientHeight);
      const now = await frame();
      ji.push(now - last);
      last = now;
      if (!covered()) blank++;
    }
    result.jumps = { frames: 200, blank_frames: blank, intervals: ji, render: renderMs.splice(0) };
    t.render = orig;
    return result;
  });
  console.log(`\nScrolling the details table (${scroll.rows} rows):`);
  for (const [name, s] of Object.entries({ 'idle (no scrolling: the frame clock)': scroll.idle, 'wheel, 3 rows per frame': scroll.wheel, 'fling, one screen per frame': scroll.steady, 'random jumps': scroll.jumps })) {
    const slow = s.intervals.filter((x) => x > 1000 / 60 * 1.5).length;
    console.log(`  ${name}: ${s.frames} frames, frame interval median ${r1(median(s.intervals))} ms, p95 ${r1(pct(s.intervals, 0.95))} ms, max ${r1(Math.max(...s.intervals))} ms, ` +
      `${slow} frames over 25 ms; frames with blank rows: ${s.blank_frames}; render() median ${r1(median(s.render))} ms, max ${r1(Math.max(...s.render))} ms`);
    if (s.blank_frames > 0) failed = true;
  }
  console.log(`\nRESULT ${JSON.stringify({ regions, json_mib: r1(raw.length / 1048576), paint_ms: r1(painted), goal_ms: GOAL_MS, wheel_blank: scroll.wheel.blank_frames, fling_blank: scroll.steady.blank_frames, jump_blank: scroll.jumps.blank_frames, wheel_p95_ms: r1(pct(scroll.wheel.intervals, 0.95)), fling_p95_ms: r1(pct(scroll.steady.intervals, 0.95)) })}`);
} finally {
  if (browser) await browser.close();
  await daemon.stop();
  many.kill('SIGTERM');
}
if (failed) {
  console.log('dashboard bench: a goal was missed');
  if (process.env.VMSCOPE_BENCH_STRICT === '1') process.exit(1);
}
