// The set-up every *.test.mjs shares, on top of lib.mjs: the before/after hooks that start the
// daemon, the helper processes a suite asks for and chromium (and stop them again), and the
// "nothing went wrong silently in the page" assertions. Kept out of lib.mjs because it uses
// node:test, and bench/dashboard.mjs imports lib.mjs outside any test run.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, startDaemon, startTestee, startGrower, cspViolations } from './lib.mjs';

// Call inside describe(), before the suite's own before(). missing: what skipIfOptionalAndMissing
// returned (asserted empty first, so a missing prerequisite fails the suite). opts.testee: start
// vms_testee; opts.grower: [kib, stepMs] for vms_grower; opts.tmp: make a temporary directory
// named vms-e2e-<tmp>-* now (so the suite may use it at once) and remove it afterwards;
// opts.context: open a browser context with these options (true: the defaults) as s.context.
// Returns the object the hooks fill: {daemon, testee, grower, browser, context, tmp}; a suite may put
// more helpers in s.stops (each a function returning a promise), which after() awaits first.
export function e2eSuite(missing, opts = {}) {
  const s = { tmp: opts.tmp ? mkdtempSync(join(tmpdir(), `vms-e2e-${opts.tmp}-`)) : null, stops: [] };
  before(async () => {
    assert.deepEqual(missing, [], `missing prerequisites: ${missing.join(', ')}`);
    s.daemon = await startDaemon();
    if (opts.testee) s.testee = await startTestee();
    if (opts.grower) s.grower = await startGrower(...opts.grower);
    s.browser = await launchBrowser();
    if (opts.context) s.context = await s.browser.newContext(opts.context === true ? {} : opts.context);
  });
  after(async () => {
    if (s.browser) await s.browser.close();
    for (const stop of s.stops) await stop();
    if (s.grower) await s.grower.stop();
    if (s.testee) await s.testee.stop();
    if (s.daemon) await s.daemon.stop();
    if (s.tmp) rmSync(s.tmp, { recursive: true, force: true });
  });
  return s;
}

// Nothing may ever go wrong silently in a page (see watchedPage): no script error, no
// Content-Security-Policy violation, and unless opts.dialogs === false, no browser dialog.
export async function assertPageClean(page, opts = {}) {
  assert.deepEqual(page.problems.pageErrors, [], 'no script errors');
  if (opts.dialogs !== false) assert.deepEqual(page.problems.dialogs, [], 'no browser dialogs');
  assert.deepEqual(await cspViolations(page), [], 'no Content-Security-Policy violations');
}

// Wait until the page shows a painted snapshot view, and when id is given, that snapshot's.
export async function waitSnapshotView(page, id) {
  await page.waitForFunction((want) => window.vmsDebug && document.body.dataset.ready === '1' &&
    (!want || String(window.vmsDebug.view.source.id) === String(want)), id ?? null, { timeout: 30000 });
}
