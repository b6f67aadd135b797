// Timeline draw benchmark (issue 10): a 24 h x 1 Hz watch (86,400 samples, stored by
// bench/timeline_bench into a kept database), served by the daemon downsampled to 1,000 points
// and drawn by the dashboard's timeline view in headless chromium at 1400 px. Measures, best of
// the runs and their median: the samples request as the page sees it (fetch to parsed JSON), the
// draw itself (timeline.js draw(): the stacked paths, axes and legend, synchronous), and draw to
// painted (the draw, then style, layout and paint up to the second animation frame after it).
// Goal (issue 10): served in <= 50 ms, drawn in <= 300 ms.
// Usage: node bench/timeline_draw.mjs [BUILD_DIR] (env VMSCOPE_BENCH_RUNS, default 10)
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { rmSync } from 'node:fs';
import { resolve, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const build = resolve(process.argv[2] || join(here, '../build'));
const runs = Number(process.env.VMSCOPE_BENCH_RUNS || 10);
process.env.VMSCOPE_BIN ||= join(build, 'vmscope');
process.env.VMSCOPE_WEB ||= join(here, '../web');
const { launchBrowser, missingPrerequisites } = await import('../tests/e2e/lib.mjs');
const missing = missingPrerequisites();
if (missing.length) {
  console.error(`timeline draw bench: missing ${missing.join(', ')}`);
  process.exit(2);
}
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[(s.length - 1) >> 1]; };
const r1 = (x) => Math.round(x * 10) / 10;

// 86,400 samples in a database of its own; its watch is "running" on pid 1: stop it so that the
// daemon does not resume sampling
const out = execFileSync(join(build, 'bench/timeline_bench'), ['86400', 'keep'], { encoding: 'utf8' });
const db = out.match(/kept (\S+)/)[1];
execFileSync('sqlite3', [db, "UPDATE watches SET state = 'stopped'"]);
const daemon = spawn(process.env.VMSCOPE_BIN, ['serve', '--listen', '127.0.0.1:0', '--db', db, '--web', process.env.VMSCOPE_WEB], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((res, rej) => {
  const rl = createInterface({ input: daemon.stdout });
  rl.on('line', (l) => { const m = l.match(/(https?:\/\/127\.0\.0\.1:\d+\/#token=\S+)/); if (m) res(m[1]); });
  daemon.on('exit', (c) => rej(new Error(`vmscope serve exited ${c}`)));
});
const base = url.replace(/\/#token=.*/, '');
let browser;
try {
  browser = await launchBrowser();
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-ready][data-view=processes]');
  const fetches = [];
  const draws = [];
  const painted = [];
  const ttfbs = [];
  const transfers = [];
  let points = 0;
  for (let i = 0; i < runs + 1; i++) {
    await page.goto('about:blank');
    await page.goto(`${base}/#/watch/1`);
    await page.waitForSelector('body[data-ready][data-view=timeline]', { timeout: 60000 });
    const m = await page.evaluate(async (col) => {
      const sel = document.getElementById('tl-col');
      const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
      await frame();
      const t = performance.now();
      sel.value = col; // a redraw of the same data as another column
      sel.dispatchEvent(new Event('change'));
      const sync = Number(document.body.dataset.drawMs);
      await frame();
      await frame();
      const res = performance.getEntriesByType('resource').find((e) => /\/samples/.test(e.name));
      return { ttfb: res ? res.responseStart - res.requestStart : NaN, transfer: res ? res.responseEnd - res.responseStart : NaN, fetch: Number(document.body.dataset.fetchMs), sync, painted: performance.now() - t, points: Number(document.body.dataset.points) };
    }, i % 2 ? 'committed' : 'private');
    if (i === 0) continue; // the first run warms the HTTP cache of the static files
    fetches.push(m.fetch);
    ttfbs.push(m.ttfb);
    transfers.push(m.transfer);
    draws.push(m.sync);
    painted.push(m.painted);
    points = m.points;
  }
  console.log(`24 h x 1 Hz watch (86,400 samples) downsampled to ${points} points, ${runs} runs at 1400 px:`);
  console.log(`  samples request (page: fetch + parse): best ${r1(Math.min(...fetches))} ms, median ${r1(median(fetches))} ms (goal <= 50 ms served)`);
  console.log(`    of which the daemon's answer to its first byte ${r1(median(ttfbs))} ms, the body's transfer ${r1(median(transfers))} ms (medians)`);
  console.log(`  draw (timeline.js draw()):            best ${r1(Math.min(...draws))} ms, median ${r1(median(draws))} ms`);
  console.log(`  draw to painted (2 frames):           best ${r1(Math.min(...painted))} ms, median ${r1(median(painted))} ms (goal <= 300 ms)`);
} finally {
  if (browser) await browser.close();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.on('exit', r));
  rmSync(dirname(db), { recursive: true, force: true });
}
