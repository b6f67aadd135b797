// Map layout switch benchmark: a snapshot of a process with N VMAs (default 60,000) opened in
// headless chromium at 1400 px; the time from the click on "Hilbert" (and back on "Strip") to
// the frame after the new picture is drawn, median of VMSCOPE_BENCH_RUNS (default 7) switches.
// With VMSCOPE_BENCH_PROFILE=FILE, a CPU profile of the switches is written there and its
// heaviest functions (self time) printed.
// Usage: node bench/map_layout.mjs BUILD_DIR [N_VMAS]
import { benchSetup, startManyVmas } from './many_vmas.mjs';
import { writeFileSync } from 'node:fs';

const { build, nvmas, lib } = await benchSetup('map_layout');
const { startDaemon, launchBrowser, apiCall } = lib;
const runs = Number(process.env.VMSCOPE_BENCH_RUNS || 7);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };

const { pid, proc: many } = await startManyVmas(build, nvmas);
const daemon = await startDaemon();
let browser;
try {
  const snap = await apiCall(daemon, 'POST', `/processes/${pid}/snapshots`, { share: false });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: Number(process.env.VMSCOPE_BENCH_WIDTH || 1400), height: 1000 } });
  const page = await context.newPage();
  await page.goto(daemon.url);
  await page.waitForSelector('body[data-ready][data-view=processes]');
  await page.goto(`${daemon.base}/#/snapshot/${snap.id}`);
  await page.waitForFunction(() => performance.getEntriesByName('vms-painted').length > 0, null, { timeout: 60000 });
  const cdp = process.env.VMSCOPE_BENCH_PROFILE ? await context.newCDPSession(page) : null;
  if (cdp) { await cdp.send('Profiler.enable'); await cdp.send('Profiler.setSamplingInterval', { interval: 200 }); await cdp.send('Profiler.start'); }
  const times = { hilbert: [], strip: [] };
  for (let i = 0; i < runs; i++) {
    for (const mode of ['hilbert', 'strip']) {
      const ms = await page.evaluate((m) => new Promise((res) => {
        const t0 = performance.now();
        document.getElementById(`map-layout-${m}`).click();
        requestAnimationFrame(() => requestAnimationFrame(() => res(performance.now() - t0)));
      }), mode);
      times[mode].push(ms);
    }
  }
  if (cdp) {
    const { profile } = await cdp.send('Profiler.stop');
    writeFileSync(process.env.VMSCOPE_BENCH_PROFILE, JSON.stringify(profile));
    const self = new Map();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const dt = profile.timeDeltas;
    profile.samples.forEach((id, k) => {
      const n = byId.get(id);
      const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
      self.set(key, (self.get(key) || 0) + (dt[k] || 0) / 1000);
    });
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${v.toFixed(1).padStart(8)} ms  ${k}`);
  }
  // the first switch after a fresh load (cold: nothing cached, code not yet optimised)
  const cold = [];
  for (let i = 0; i < Math.min(runs, 5); i++) {
    await page.goto('about:blank');
    await page.goto(`${daemon.base}/#/snapshot/${snap.id}`);
    await page.waitForFunction(() => performance.getEntriesByName('vms-painted').length > 0, null, { timeout: 60000 });
    await page.waitForTimeout(300);
    cold.push(await page.evaluate(() => new Promise((res) => {
      const t0 = performance.now();
      document.getElementById('map-layout-hilbert').click();
      requestAnimationFrame(() => requestAnimationFrame(() => res(performance.now() - t0)));
    })));
    await page.evaluate(() => document.getElementById('map-layout-strip').click());
  }
  console.log(`first switch to Hilbert after a load: median ${median(cold).toFixed(0)} ms (${cold.map((x) => x.toFixed(0)).join(' ')})`);
  // how many times a switch lays the map out and draws it (1 each is the least it can do)
  const calls = await page.evaluate(() => new Promise((res) => {
    const map = window.vmsDebug.map;
    const n = { layout: 0, draw: 0 };
    const { layout, draw } = map;
    map.layout = function (...a) { n.layout++; return layout.apply(this, a); };
    map.draw = function (...a) { n.draw++; return draw.apply(this, a); };
    document.getElementById('map-layout-hilbert').click();
    setTimeout(() => { map.layout = layout; map.draw = draw; res(n); }, 500);
  }));
  console.log(`one switch to Hilbert: ${calls.layout} layout(), ${calls.draw} draw()`);
  const regions = await page.evaluate(() => window.vmsDebug.model.regions.length);
  console.log(`${regions} regions: switch to Hilbert median ${median(times.hilbert).toFixed(0)} ms (${times.hilbert.map((x) => x.toFixed(0)).join(' ')}), back to Strip median ${median(times.strip).toFixed(0)} ms (${times.strip.map((x) => x.toFixed(0)).join(' ')})`);
} finally {
  if (browser) await browser.close();
  await daemon.stop();
  many.kill();
}
