// Shared plumbing for the dashboard's end-to-end tests and bench/dashboard.mjs: start the real
// daemon on 127.0.0.1:0 with a temporary database, start helper processes, drive Debian's
// chromium through playwright-core, save screenshots as artifacts.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = process.env.VMSCOPE_SOURCE_DIR || resolve(here, '../..');

export const CHROMIUM = process.env.VMSCOPE_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run'];

export const env = {
  bin: process.env.VMSCOPE_BIN || join(source, 'build/vmscope'),
  helpers: process.env.VMSCOPE_HELPERS || join(source, 'build/tests'),
  web: process.env.VMSCOPE_WEB || join(source, 'web'),
  artifacts: process.env.VMSCOPE_ARTIFACTS || join(source, 'build/artifacts'),
};

// With VMSCOPE_E2E_OPTIONAL set and something missing, say so and exit 77 (ctest's
// SKIP_RETURN_CODE: the test shows as skipped, not passed). Without it a missing prerequisite is a
// failure (the tests' before() asserts). Call at the top of a test file, before describe(); ctest
// runs each file with plain `node FILE` so that this exit code reaches it.
export function skipIfOptionalAndMissing(what) {
  const miss = missingPrerequisites();
  if (miss.length && process.env.VMSCOPE_E2E_OPTIONAL) {
    console.log(`SKIP ${what}: missing ${miss.join(', ')}`);
    process.exit(77);
  }
  return miss;
}

// Everything the tests need, or a sentence saying what is missing.
export function missingPrerequisites() {
  const miss = [];
  if (!existsSync(env.bin)) miss.push(`the vmscope binary (${env.bin}; set VMSCOPE_BIN)`);
  if (!existsSync(CHROMIUM)) miss.push(`chromium (${CHROMIUM}; third_party/install-deps.sh --e2e)`);
  if (!existsSync(join(here, 'node_modules/playwright-core'))) miss.push('playwright-core (cd tests/e2e && npm install)');
  return miss;
}

export async function chromium() {
  const pw = await import('playwright-core');
  return pw.chromium;
}

export async function launchBrowser() {
  const c = await chromium();
  return c.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

const children = new Set();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

// Start a program and wait for the first stdout line matching re. Returns {proc, match, lines}.
function startAndWait(cmd, args, re, what, timeoutMs = 20000) {
  return new Promise((resolveP, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(proc);
    proc.on('exit', () => children.delete(proc));
    const lines = [];
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${what}: no ready line within ${timeoutMs} ms. stderr: ${stderr}`)); }, timeoutMs);
    const rl = createInterface({ input: proc.stdout });
    let done = false;
    rl.on('line', (line) => {
      lines.push(line);
      if (done) return;
      const m = line.match(re);
      if (m) { done = true; clearTimeout(timer); resolveP({ proc, match: m, lines, rl, stderr: () => stderr }); }
    });
    proc.on('exit', (code) => { if (!done) { clearTimeout(timer); reject(new Error(`${what} exited with ${code} before it was ready. stderr: ${stderr}`)); } });
  });
}

function stopper(proc) {
  return () => new Promise((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) { res(); return; }
    const t = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, 5000);
    proc.once('exit', () => { clearTimeout(t); res(); });
    proc.kill('SIGTERM');
  });
}

// `vmscope serve --listen 127.0.0.1:0 --db TMP --web WEB`: {base, token, url, stop(), dir}
export async function startDaemon(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'vms-e2e-'));
  const args = ['serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'vmscope.db'), '--web', env.web, ...extraArgs];
  const { proc, match, stderr } = await startAndWait(env.bin, args, /(https?:\/\/127\.0\.0\.1:\d+)\/#token=([0-9A-Za-z_-]+)/, 'vmscope serve');
  const stop = stopper(proc);
  return {
    base: match[1], token: match[2], url: `${match[1]}/#token=${match[2]}`, proc, dir, stderr,
    async stop() { await stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}

// tests/helpers/vms_testee: a process with known mappings. {pid, ready: {key: value}, stop()}
export async function startTestee() {
  const dir = mkdtempSync(join(tmpdir(), 'vms-e2e-testee-'));
  const { proc, match } = await startAndWait(join(env.helpers, 'vms_testee'), [dir, '600'], /^READY (.*)$/, 'vms_testee');
  const ready = Object.fromEntries(match[1].split(/\s+/).map((kv) => kv.split('=')));
  const stop = stopper(proc);
  return { pid: Number(ready.pid), ready, proc, async stop() { await stop(); rmSync(dir, { recursive: true, force: true }); } };
}

// tests/helpers/vms_grower: a brk heap growing by kib every stepMs. {pid, heap, stop()}
export async function startGrower(kib = 512, stepMs = 100) {
  const { proc, match } = await startAndWait(join(env.helpers, 'vms_grower'), [String(kib), String(stepMs), '300'], /^READY pid=(\d+) heap=(\S+)/, 'vms_grower');
  return { pid: Number(match[1]), heap: match[2], proc, stop: stopper(proc) };
}

// tests/helpers/vms_mapfile PATH: maps one file. {pid, addr, grow() -> addr of a new 2 MiB region}
export async function startMapfile(path, name) {
  const { proc, match, rl } = await startAndWait(join(env.helpers, 'vms_mapfile'), [path, '600', ...(name ? [name] : [])], /^READY pid=(\d+) addr=(0x[0-9a-f]+) size=(\d+)/, 'vms_mapfile');
  const grew = [];
  const waiting = [];
  rl.on('line', (line) => {
    const m = line.match(/^GREW addr=(0x[0-9a-f]+)/);
    if (!m) return;
    if (waiting.length) waiting.shift()(m[1]); else grew.push(m[1]);
  });
  return {
    pid: Number(match[1]), addr: match[2], size: Number(match[3]), proc, stop: stopper(proc),
    grow() {
      return new Promise((res) => { waiting.push(res); proc.kill('SIGUSR1'); });
    },
  };
}

// Call the API from node (setup only: the tests drive the dashboard through the browser).
// Each call on a connection of its own (agent: false): a pooled connection could be one the daemon
// had just closed (its keep-alive timeout is 500 ms), and a POST sent on it fails with "other side
// closed" under load (seen twice in one CI run), where resending it could store a snapshot twice.
// A failure is thrown with the method, path and why.
export function apiCall(d, method, path, body) {
  const data = body ? Buffer.from(JSON.stringify(body)) : null;
  return new Promise((resolveCall, reject) => {
    const req = httpRequest(`${d.base}/api/v1${path}`, {
      method,
      agent: false,
      headers: {
        Authorization: `Bearer ${d.token}`,
        ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}),
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => reject(new Error(`${method} ${path}: ${e.message}`)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        if (res.statusCode < 200 || res.statusCode > 299) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
        else resolveCall(json);
      });
    });
    req.on('error', (e) => reject(new Error(`${method} ${path}: ${e.message} (${e.code ?? ''})`)));
    req.end(data ?? undefined);
  });
}

// screenshot(page, 'x.png', {fullPage, top}) — top: scroll to the top of the page first.
// A page that records what must never happen: script errors, CSP violations, dialogs.
export async function watchedPage(context, viewport = { width: 1400, height: 1000 }) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  const problems = { pageErrors: [], csp: [], dialogs: [], consoleErrors: [] };
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));
  page.on('dialog', (d) => { problems.dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to/i.test(t)) problems.csp.push(t);
    else if (m.type() === 'error' && !/Failed to load resource/.test(t)) problems.consoleErrors.push(t);
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page.problems = problems;
  return page;
}

export async function cspViolations(page) {
  const inPage = await page.evaluate(() => window.__csp || []);
  return [...page.problems.csp, ...inPage];
}

export async function screenshot(page, name, opts = {}) {
  mkdirSync(env.artifacts, { recursive: true });
  const path = join(env.artifacts, name);
  if (opts.top) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: !!opts.fullPage });
  return path;
}

// Wait until the view says it has painted (app.js/snapshot-view.js set body[data-ready]).
export async function waitReady(page, view, timeout = 30000) {
  await page.waitForSelector(`body[data-ready][data-view=${view}]`, { timeout });
}
