// The process / snapshot view (VMMap's main window): header and actions, summary bars and type
// table, the address-space map, the details table and the selected item's facts.
// Sources: a stored snapshot (#/snapshot/ID), a live scan (#/live/PID) or a share link (/s/TOKEN).
import { pagesBlock, residencyToggle } from './pages.js';
import { api, ApiError } from './api.js';
import { el, clear, fmtTime, fmtAgo, human, fmtAddr, parseAddr, looksLikeAddress, addressesIn, UNIT_MODES, fmtInt } from './format.js';
import { SnapshotModel, KIND_ALLOC, KIND_REGION, KIND_GAP } from './model.js';
import { SummaryView } from './summary.js';
import { DetailsView } from './details.js';
import { AddressMap } from './map.js';
import { navigate, updateParams, routeHash } from './route.js';
import { errorPanel, toast, toastError, dialog, downloadText, copyText, loading } from './ui.js';
import { typeName, TYPE_BY_KEY } from './palette.js';
import { openImportDialog } from './import.js';
import { attributionNotes } from './attribution.js';
import { startWatch } from './timeline.js';
import { shareDialog } from './share-dialog.js';
import { initialColumns, columnChooser, colsParam } from './columns.js';
import { changesFor, changeKind, changedColumns, removedItem, MARK_COLOR } from './changes.js';

// How many snapshot views exist and how many were ever made: a view counts from its constructor
// until destroy(). Read by the end-to-end tests (tests/e2e/view-lifetime.test.mjs), which also
// count the SnapshotView objects left on the heap; nothing in the page relies on it.
const viewStats = { alive: 0, created: 0 };
window.vmsViewStats = viewStats;

// source: {kind: 'snapshot', id} | {kind: 'live', pid} | {kind: 'shared', token}
export function snapshotView(container, source, params) {
  let alive = true;
  let view = null;
  const load = async () => {
    clear(container).appendChild(loading(source.kind === 'live' ? 'Scanning the process…' : 'Loading the snapshot…'));
    const t0 = performance.now();
    let snap;
    let origin = null;
    try {
      if (source.kind === 'snapshot') {
        // where it came from (a scan here, or an imported file) and the daemon's host: Refresh
        // and Show changes make sense only for a process of this host (snapshotOrigin below)
        const [sn, meta, ver] = await Promise.all([api.snapshot(source.id),
          api.snapshotMeta(source.id).catch(() => null), api.version().catch(() => null)]);
        snap = sn;
        origin = snapshotOrigin(snap, meta, ver && ver.host);
      } else if (source.kind === 'live') snap = await api.liveScan(source.pid);
      else snap = await api.shared(source.token);
    } catch (err) {
      if (!alive) return;
      // "Try again" only where trying again can help (not for a snapshot that does not exist)
      clear(container).appendChild(errorPanel(err, err && (err.status === 404 || err.status === 400) ? null : load));
      if (source.kind !== 'shared') container.appendChild(el('p', null, el('a', { href: '#/processes', text: 'Back to the process list' })));
      return;
    }
    if (!alive) return;
    performance.mark('vms-data');
    view = new SnapshotView(container, source, snap, params, origin);
    // the tab names the process, not only the snapshot
    const p = snap.process || {};
    document.title = `${p.name || '?'} (pid ${p.pid}) · ${source.kind === 'snapshot' ? `snapshot #${source.id}` : source.kind === 'live' ? 'live' : 'shared'} · vmscope`;
    view.loadMs = performance.now() - t0;
  };
  load();
  return () => { alive = false; if (view) view.destroy(); view = null; };
}

// {imported, host, daemonHost, foreign}: imported = stored from a file (POST /snapshots), not
// scanned by this daemon; foreign = taken on another host than the daemon's. Either way its pid
// means nothing here.
export function snapshotOrigin(snap, meta, daemonHost) {
  const imported = !!(meta && meta.source === 'import');
  const host = (snap && snap.host) || (meta && meta.host) || '';
  const foreign = !!(daemonHost && host && host !== daemonHost);
  return { imported, host, daemonHost: daemonHost || null, foreign };
}

class SnapshotView {
  constructor(container, source, snap, params, origin) {
    viewStats.alive++;
    viewStats.created++;
    // Everything that outlives a view unless removed: listeners on window and document take
    // this signal, timers and animation frames are kept here; destroy() ends them all.
    this.ac = new AbortController();
    this.timers = new Set();
    this.frames = new Set();
    this.container = container;
    this.source = source;
    this.snap = snap;
    this.readOnly = source.kind === 'shared';
    this.origin = origin || { imported: false, foreign: false, host: snap.host || '', daemonHost: null };
    const timings = {};
    let tick = performance.now();
    const lap = (name) => { const now = performance.now(); timings[name] = Math.round((now - tick) * 10) / 10; tick = now; };
    window.vmsTimings = timings; // read by bench/dashboard.mjs
    this.m = new SnapshotModel(snap);
    lap('model');
    this.units = UNIT_MODES.some((u) => u.key === params.units) ? params.units : 'auto';
    this.typeFilter = params.type && TYPE_BY_KEY[params.type] ? params.type : null;
    this.find = params.q || '';
    this.sel = null;

    this.summary = new SummaryView(this.m, {
      units: this.units,
      onType: (key) => this.setTypeFilter(key),
      onLargestFree: () => this.selectLargestFree(),
    });
    lap('summary');
    this.map = new AddressMap(this.m, {
      onSelect: (sel) => this.select(sel, 'map'),
      onZoom: (range) => this.setZoom(range),
      layout: params.layout, // 'hilbert': the map's second layout (issue 12)
      onLayout: (mode) => updateParams({ layout: mode === 'hilbert' ? 'hilbert' : null }),
    });
    this.cols = initialColumns(params);
    this.details = new DetailsView(this.m, {
      units: this.units,
      cols: this.cols,
      onSelect: (sel) => this.select(sel, 'details'),
      onRowsChange: (shown, total) => this.updateCount(shown, total),
      onFiltersCleared: () => { this.typeFilter = null; this.find = ''; this.findInput.value = ''; this.syncFilters(); },
      onSortChange: (key, dir) => updateParams({ sort: key === 'address' && dir === 'asc' ? null : `${key}:${dir}` }),
    });
    lap('details');
    this.info = el('section', { className: 'sel-info', 'aria-label': 'Selected item', 'aria-live': 'polite' });
    // changes in place: marks against the previous snapshot of this process (Mark changes)
    this.markOn = params.mark === '1' && this.canMark();
    this.withSharing = params.sharing === '1';
    this.changes = null;
    this.changesPanel = el('section', { className: 'panel changes-panel hidden', id: 'changes-panel', 'aria-label': 'Changes since the previous snapshot' });

    clear(container);
    container.append(
      this.header(),
      el('section', { className: 'panel' }, el('h2', { text: 'Summary' }), this.summary.el),
      this.changesPanel,
      el('section', { className: 'panel' }, el('h2', { text: 'Address space' }), this.map.el,
        this.livePid() != null ? residencyToggle(this.livePid(), this.map) : null, this.info),
      el('section', { className: 'panel details-panel' }, el('h2', { text: 'Details' }), this.detailsToolbar(), this.details.el));
    this.map.attach();
    lap('map_layout');

    // restore state from the URL
    if (params.sort) {
      const [k, d] = params.sort.split(':');
      this.details.setSort(k, d);
    }
    if (params.zoom) {
      const [a, b] = params.zoom.split('-').map(parseAddr);
      if (a != null && b != null && b > a) this.map.setZoom([a, b]);
    }
    if (params.open) {
      for (const x of params.open.split(',')) {
        const hit = this.m.lookup(parseAddr(x) ?? -1n);
        if (hit && hit.kind === KIND_REGION) this.details.expanded.add(hit.a);
      }
    }
    this.syncFilters(false);
    updateParams({ cols: colsParam(this.cols) }); // the link shows these columns too
    if (this.find && addressesIn(this.find).length >= 2) this.setFind(this.find, true);
    else if (this.find && !looksLikeAddress(this.find)) this.details.setFind(this.find);
    // the details reported its first count before the toolbar existed
    this.updateCount(this.details.shownItems, this.m.allocCount + this.m.gapCount);
    if (params.sel) {
      const addr = parseAddr(params.sel);
      const hit = addr != null ? this.m.lookup(addr) : null;
      if (hit) {
        const sel = hit.kind === KIND_GAP ? hit : params.lvl === 'r' ? hit : { kind: KIND_ALLOC, a: hit.a };
        this.select(sel, 'url');
      }
    }
    this.renderInfo();
    if (this.markOn) this.loadMarks();
    lap('dom');
    this.map.draw();
    lap('map_draw');

    this.onKey = (ev) => {
      // F5 takes a new snapshot (VMMap); on a read-only share it stays the browser's reload.
      if (ev.key === 'F5' && !ev.ctrlKey && !ev.shiftKey && !this.readOnly) {
        ev.preventDefault();
        this.refresh();
      }
      if ((ev.key === 'f' && (ev.ctrlKey || ev.metaKey)) || (ev.key === '/' && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName))) {
        ev.preventDefault();
        this.findInput.focus();
        this.findInput.select();
      }
    };
    window.addEventListener('keydown', this.onKey, { signal: this.ac.signal });
    // A handle for the end-to-end tests and the benchmark (nothing in the page relies on it).
    window.vmsDebug = { view: this, map: this.map, details: this.details, model: this.m };

    // "first complete paint": after the browser has drawn a frame with everything in place
    this.frame(() => this.frame(() => {
      lap('first_frame');
      performance.mark('vms-painted');
      document.body.dataset.view = 'snapshot';
      document.body.dataset.ready = '1';
    }));
  }

  // setTimeout / requestAnimationFrame that end with the view.
  later(fn, ms) {
    const id = setTimeout(() => { this.timers.delete(id); fn(); }, ms);
    this.timers.add(id);
    return id;
  }

  cancel(id) {
    clearTimeout(id);
    this.timers.delete(id);
  }

  frame(fn) {
    const id = requestAnimationFrame(() => { this.frames.delete(id); fn(); });
    this.frames.add(id);
  }

  // Leave nothing behind: listeners, timers, frames, the global handles, and every reference to
  // the parsed snapshot (a closure still held by the browser then keeps only an empty shell).
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    viewStats.alive--;
    this.ac.abort();
    for (const id of this.timers) clearTimeout(id);
    for (const id of this.frames) cancelAnimationFrame(id);
    this.timers.clear();
    this.frames.clear();
    if (window.vmsDebug && window.vmsDebug.view === this) delete window.vmsDebug;
    this.map.destroy();
    this.details.table.destroy();
    delete document.body.dataset.ready;
    this.snap = null;
    this.m = null;
    this.summary = null;
    this.map = null;
    this.details = null;
    this.info = null;
    this.diff = null;
    this.changes = null;
    this.findInput = null;
    this.sel = null;
  }

  // ---- header and actions ----

  header() {
    const s = this.snap;
    const p = s.process || {};
    const src = this.source;
    const o = this.origin;
    const where = src.kind === 'snapshot' ? `snapshot #${src.id}` : src.kind === 'live' ? 'live scan (not stored)' : 'shared snapshot (read only)';
    const marks = [];
    if (o.imported) marks.push(el('span', { className: 'tag origin', dataset: { mark: 'imported' }, title: 'Stored from a file (Open file…), not scanned by this daemon', text: 'imported' }));
    if (o.foreign) marks.push(el('span', { className: 'tag origin foreign', dataset: { mark: 'foreign' }, title: `This daemon runs on ${o.daemonHost}`, text: `from host ${o.host}` }));
    const arch = p.arch ? `${p.arch.machine || '?'}${p.arch.bits ? ', ' + p.arch.bits + '-bit' : ''}` : '';
    const regions = this.m.regions.length;
    const facts = [
      ['Taken', s.taken_at_ms === 0 ? 'unknown' : `${fmtTime(s.taken_at, s.taken_at_ms)} (${fmtAgo(s.taken_at_ms)})`],
      ['User', p.user != null ? `${p.user}${p.uid != null && p.uid !== 4294967295 ? ' (' + p.uid + ')' : ''}` : ''], // uid -1: unknown
      ['Arch', arch],
      ['Host', [s.host, s.kernel].filter(Boolean).join(', kernel ')],
      ['Threads', s.status && s.status.threads != null ? fmtInt(s.status.threads) : ''],
      ['Regions', `${fmtInt(regions)} in ${fmtInt(this.m.allocCount)} allocations`],
    ].filter(([, v]) => v);

    const actions = el('div', { className: 'actions', role: 'toolbar', 'aria-label': 'Snapshot actions' });
    if (!this.readOnly) {
      actions.append(
        el('button', { type: 'button', className: `primary${this.notHere() ? ' refused' : ''}`, id: 'btn-refresh', title: this.notHere() || 'Take a new snapshot of this process (F5)', 'aria-disabled': this.notHere() ? 'true' : null, onclick: () => this.refresh() }, 'Refresh', el('kbd', { text: 'F5' })),
        el('button', { type: 'button', className: this.notHere() ? 'refused' : '', id: 'btn-changes', title: this.notHere() || 'What changed since the previous snapshot of this process', 'aria-disabled': this.notHere() ? 'true' : null, onclick: () => this.showChanges() }, 'Show changes'),
        this.canMark() ? el('button', { type: 'button', id: 'btn-mark', 'aria-pressed': this.markOn ? 'true' : 'false', className: this.markOn ? 'on' : '', title: 'Mark what changed since the previous snapshot of this process on the map and in the details (from → to on hover)', onclick: () => this.toggleMarks() }, 'Mark changes') : '', // (DOM append writes null as "null")
        el('button', { type: 'button', id: 'btn-share', title: 'Create a read-only link to this snapshot and copy it', onclick: () => this.share() }, 'Share'),
        el('button', { type: 'button', id: 'btn-send', title: 'Send this snapshot to a team\'s vmscope daemon over TLS and get its share link', onclick: () => this.sendTo() }, 'Send to…'),
        el('button', { type: 'button', className: this.notHere() ? 'refused' : '', id: 'btn-watch', title: this.notHere() || 'Sample this process every second and chart what grows (a watch)', 'aria-disabled': this.notHere() ? 'true' : null, onclick: () => { if (!this.refuse('Watch')) startWatch(p.pid); } }, 'Watch this process'));
    }
    const exp = el('div', { className: 'menu' },
      el('button', { type: 'button', id: 'btn-export', 'aria-haspopup': 'true', onclick: (ev) => { ev.stopPropagation(); menu.classList.toggle('open'); } }, 'Export ▾'));
    const menu = el('div', { className: 'menu-items', role: 'menu' },
      el('button', { type: 'button', role: 'menuitem', dataset: { fmt: 'json' }, onclick: () => this.exportAs('json') }, 'JSON (re-openable)'),
      el('button', { type: 'button', role: 'menuitem', dataset: { fmt: 'csv' }, onclick: () => this.exportAs('csv') }, 'CSV (spreadsheet)'),
      el('button', { type: 'button', role: 'menuitem', dataset: { fmt: 'txt' }, onclick: () => this.exportAs('txt') }, 'Text report'),
      el('button', { type: 'button', role: 'menuitem', dataset: { fmt: 'html' }, title: 'One self-contained page to keep or mail: no script, loads nothing', onclick: () => this.exportAs('html') }, 'HTML report'));
    exp.appendChild(menu);
    exp.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && menu.classList.contains('open')) { menu.classList.remove('open'); exp.firstChild.focus(); }
    });
    document.addEventListener('click', () => menu.classList.remove('open'), { signal: this.ac.signal });
    actions.appendChild(exp);
    if (!this.readOnly) actions.appendChild(el('button', { type: 'button', id: 'btn-open', title: 'Open a snapshot file (.json) saved earlier or sent to you', onclick: () => openImportDialog() }, 'Open…'));

    const cmd = p.cmdline == null ? el('p', { className: 'cmdline muted', text: '(command line left out of this share)' })
      : el('p', { className: 'cmdline mono', title: p.cmdline, text: p.cmdline || '(no command line)' });
    const notes = [];
    if (s.thread_note) notes.push(el('p', { className: 'note', text: `Thread stacks: ${s.thread_note}` }));
    notes.push(...attributionNotes(s));
    if (s.malformed_lines) notes.push(el('p', { className: 'note', text: `${s.malformed_lines} line(s) of /proc output could not be parsed and were skipped.` }));
    if (src.kind === 'live') notes.push(el('p', { className: 'note', text: 'This is a live scan and is not stored. Refresh stores a snapshot you can share and compare.' }));
    const why = this.notHere();
    if (why) notes.push(el('p', { className: 'note warn', dataset: { note: 'origin' }, text: why }));
    if (src.kind === 'shared') notes.push(this.shareBanner(src.token));

    return el('header', { className: 'view-header' },
      el('div', { className: 'title-row' },
        el('div', null,
          el('h1', { className: 'proc-title' }, el('span', { className: 'proc-name', text: p.name || '?' }), el('span', { className: 'proc-pid', text: ` pid ${p.pid}` })),
          el('p', { className: 'where muted' }, where, marks.length ? ' ' : null, marks)),
        actions),
      cmd,
      el('dl', { className: 'facts' }, facts.map(([k, v]) => el('div', { className: 'fact' }, el('dt', { text: k }), el('dd', { text: v })))),
      notes);
  }

  // Why this snapshot's pid does not name a process here (imported, or taken on another host),
  // as a sentence; null when it does.
  notHere() {
    const o = this.origin;
    if (this.readOnly || (!o.imported && !o.foreign)) return null;
    const p = this.snap.process || {};
    const what = o.imported && o.foreign ? `was imported from a file and taken on host ${o.host}, not on this daemon's host (${o.daemonHost})`
      : o.imported ? 'was imported from a file, not scanned by this daemon'
        : `was taken on host ${o.host}, not on this daemon's host (${o.daemonHost})`;
    return `This snapshot ${what}: pid ${p.pid} here may be another process, so Refresh, Show changes and Watch are not available. Compare it with another snapshot from the Snapshots list.`;
  }

  refuse(action) {
    const why = this.notHere();
    if (!why) return false;
    toast(`${action}: ${why}`, 'error');
    return true;
  }

  async refresh() {
    if (this.refuse('Refresh')) return;
    const pid = this.snap.process && this.snap.process.pid;
    const btn = document.getElementById('btn-refresh');
    if (btn) btn.disabled = true;
    try {
      // the same process, not a later one that got its pid (same start time)
      const was = this.snap.process && this.snap.process.start_time_ticks;
      if (this.source.kind === 'snapshot' && was != null) {
        const list = await api.processes({ q: String(pid) });
        const now = (Array.isArray(list) ? list : list.processes || []).find((x) => x.pid === pid);
        if (!now || (now.start_time_ticks != null && now.start_time_ticks !== was)) {
          toast(now ? `Refresh: pid ${pid} is now another process (${now.name || '?'}, started after this snapshot): open it from the process list instead.`
            : `Refresh: pid ${pid} (${this.snap.process.name || '?'}) has exited; its snapshots stay in the Snapshots list.`, 'error');
          if (btn) btn.disabled = false;
          return;
        }
      }
      const r = await api.takeSnapshot(pid);
      toast(`Snapshot #${r.id} taken.`);
      navigate(['snapshot', String(r.id)], this.keptParams());
    } catch (err) {
      toastError(err);
      if (btn) btn.disabled = false;
    }
  }

  keptParams() {
    return { type: this.typeFilter, units: this.units === 'auto' ? null : this.units, q: this.find || null, cols: colsParam(this.cols), mark: this.markOn ? '1' : null, sharing: this.withSharing ? '1' : null };
  }

  async storedId() {
    if (this.source.kind === 'snapshot') return this.source.id;
    const r = await api.takeSnapshot(this.snap.process.pid);
    this.source = { kind: 'snapshot', id: String(r.id) };
    navigate(['snapshot', String(r.id)], this.keptParams());
    return String(r.id);
  }

  // Which snapshot is "the previous one" is the server's to say (GET /processes/{pid}/changes):
  // the diff view asks it and then shows the pair's own URL, #/diff/FROM/TO.
  showChanges() {
    if (this.refuse('Show changes')) return;
    const pid = this.snap.process.pid;
    navigate(['changes', String(pid)], this.source.kind === 'snapshot' ? { to: this.source.id } : {});
  }

  // On a share link: who shared it (host, process, when) and that it is read-only, from
  // /shared/{token}/about. Every name goes in as text.
  shareBanner(token) {
    const banner = el('p', { className: 'note share-banner', id: 'share-banner', text: 'Read-only shared snapshot.' });
    api.sharedAbout(token).then((a) => {
      const s = a.snapshot || {};
      const p = s.process || {};
      clear(banner).append(
        el('strong', { text: 'Read-only shared snapshot. ' }),
        `Shared from host ${s.host || '?'}: process ${p.name || '?'} (pid ${p.pid}), taken ${fmtTime(s.taken_at, s.taken_at_ms)}; link made ${fmtTime(a.created_at, a.created_at_ms)}, `,
        a.expires_at ? `works until ${fmtTime(a.expires_at, a.expires_at_ms)}.` : 'never expires (until revoked).',
        ' Nothing here can be changed.');
    }).catch(() => {});
    return banner;
  }

  // ---- changes in place (changes.js) ----

  canMark() {
    return this.source.kind === 'snapshot' && !this.notHere();
  }

  toggleMarks() {
    this.markOn = !this.markOn;
    const b = document.getElementById('btn-mark');
    if (b) { b.setAttribute('aria-pressed', this.markOn ? 'true' : 'false'); b.classList.toggle('on', this.markOn); }
    updateParams({ mark: this.markOn ? '1' : null });
    if (this.markOn) this.loadMarks(); else this.applyMarks();
  }

  async loadMarks() {
    const pid = this.snap.process.pid;
    clear(this.changesPanel).appendChild(el('p', { className: 'muted', text: 'Comparing with the previous snapshot…' }));
    this.changesPanel.classList.remove('hidden');
    try {
      const d = await api.changes(pid, this.source.id);
      if (this.destroyed || !this.markOn) return;
      this.diff = d;
    } catch (err) {
      if (this.destroyed) return;
      this.diff = null;
      clear(this.changesPanel).append(el('h2', { text: 'Changes' }), errorPanel(err));
      return;
    }
    this.applyMarks();
  }

  applyMarks() {
    const d = this.markOn ? this.diff : null;
    this.changes = d ? changesFor(d, this.withSharing) : null;
    const c = this.changes;
    this.details.setMarks(c ? c.byAlloc : null);
    const m = this.m;
    this.map.setMarks(c ? [...c.byAlloc].map(([a, e]) => ({ start: m.aStart[a], end: m.aEnd[a], color: MARK_COLOR[changeKind(e)] }))
      .concat(c.removed.map((e) => ({ start: parseAddr(e.from.start), end: parseAddr(e.from.end), color: MARK_COLOR.removed, dash: [4, 3] }))) : null);
    this.renderInfo();
    const panel = this.changesPanel;
    clear(panel);
    if (!c) { panel.classList.add('hidden'); return; }
    panel.classList.remove('hidden');
    const counts = { added: 0, grown: 0, shrunk: 0, changed: 0 };
    for (const e of c.byAlloc.values()) counts[changeKind(e)]++;
    const tag = (k, n) => el('span', { className: `tag mark-${k}`, dataset: { kind: k }, text: `${n} ${k}` });
    const sharing = el('input', { type: 'checkbox', id: 'mark-sharing', checked: this.withSharing, onchange: () => {
      this.withSharing = sharing.checked;
      updateParams({ sharing: this.withSharing ? '1' : null });
      this.applyMarks();
    } });
    const fromId = d.from_id;
    const toId = d.to_id;
    panel.append(
      el('h2', null, 'Changes from snapshot ', el('a', { href: `#/snapshot/${encodeURIComponent(fromId)}`, text: `#${fromId}` }), ` to #${toId}`),
      el('p', { className: 'changes-counts' }, tag('added', counts.added), ' ', tag('grown', counts.grown), ' ', tag('shrunk', counts.shrunk), ' ',
        tag('changed', counts.changed), ' ', tag('removed', c.removed.length),
        ' allocations, outlined on the map in these colours and marked in the details; hover a marked number for its value before → now. ',
        el('a', { href: `#/diff/${encodeURIComponent(fromId)}/${encodeURIComponent(toId)}`, id: 'changes-report', text: 'Full report' })),
      el('p', { className: 'small' }, el('label', { className: 'check', title: 'Pss, Swap Pss and Shared WS move when other processes map or unmap the same pages (a library another program loaded): nothing this process did.' },
        sharing, ` Also mark allocations where only sharing-dependent columns moved (Pss, Swap Pss, Shared WS)${this.withSharing ? '' : `: ${c.hidden} hidden`}`)),
      c.removed.length ? el('details', { className: 'removed-list' }, el('summary', { text: `${c.removed.length} removed (not in this snapshot; links open snapshot #${fromId})` }),
        el('ul', null, c.removed.map((e) => removedItem(e, fromId)))) : '');
  }

  share() {
    shareDialog({
      title: 'Share this snapshot',
      what: 'this snapshot',
      intro: 'Anyone with a link can see this snapshot (read only), and nothing else, until it expires or is revoked. A link works for whoever can reach this daemon\'s address; over plain http it crosses the network readable (see "Sharing with teammates" in the README).',
      create: async (opts) => api.share(await this.storedId(), opts),
      list: this.source.kind === 'snapshot' ? () => api.shares(this.source.id) : null,
    });
  }

  // "Send to…": this daemon posts the stored snapshot to another daemon's import route over TLS
  // (POST /snapshots/{id}/send); the other daemon's certificate is checked by the fingerprint
  // given here, else by the system's CAs.
  sendTo() {
    const url = el('input', { type: 'text', id: 'send-url', placeholder: 'https://team-host:8443', 'aria-label': 'Daemon address' });
    const token = el('input', { type: 'password', id: 'send-token', autocomplete: 'off', 'aria-label': 'Its API token' });
    const fp = el('input', { type: 'text', id: 'send-fingerprint', className: 'mono', placeholder: 'AB:CD:… (what its vmscope serve printed)', 'aria-label': 'Certificate fingerprint' });
    const lifetime = el('select', { id: 'send-lifetime', 'aria-label': 'Link lifetime' },
      [['1d', '1 day'], ['7d', '7 days'], ['30d', '30 days'], ['never', 'never (until revoked)']]
        .map(([v, t]) => el('option', { value: v, text: t, selected: v === '7d' })));
    const out = el('div', { className: 'share-out' });
    dialog('Send to a team\'s daemon', [
      el('p', { text: 'The whole snapshot, command line included, goes over TLS to the other vmscope daemon, which stores it and makes a read-only link. Its certificate must match the fingerprint (or a CA this machine trusts); nothing is sent otherwise.' }),
      el('label', { className: 'field' }, 'Address ', url),
      el('label', { className: 'field' }, 'Its API token ', token),
      el('label', { className: 'field' }, 'SHA-256 fingerprint ', fp),
      el('label', { className: 'field' }, 'Link works for ', lifetime),
      out,
    ], [
      { label: 'Send', primary: true, onclick: async () => {
        clear(out).appendChild(el('p', { className: 'muted', text: 'Sending…' }));
        try {
          const id = await this.storedId();
          const opts = { url: url.value.trim(), lifetime: lifetime.value };
          if (token.value) opts.token = token.value.trim();
          if (fp.value) opts.fingerprint = fp.value.trim();
          const r = await api.sendTo(id, opts);
          const link = el('input', { type: 'text', className: 'share-link mono', id: 'send-link', value: r.share_url });
          link.readOnly = true;
          const copied = await copyText(r.share_url);
          clear(out).append(el('p', { text: `Sent. Its link${copied ? ' (copied)' : ''}, ${r.expires_at ? `until ${fmtTime(r.expires_at)}` : 'never expires'}:` }), link);
          link.select();
        } catch (err) {
          clear(out).appendChild(errorPanel(err));
        }
        return false;
      } },
      { label: 'Close' },
    ]);
  }

  async exportAs(fmt) {
    const p = this.snap.process || {};
    const base = `vmscope-${(p.name || 'process').replace(/[^A-Za-z0-9._-]+/g, '_')}-${p.pid}-${this.source.kind === 'snapshot' ? this.source.id : (this.snap.taken_at_ms || Date.now())}`;
    const mime = { json: 'application/json', csv: 'text/csv', txt: 'text/plain', html: 'text/html' }[fmt];
    try {
      let text;
      const src = this.source;
      if (fmt === 'json') {
        if (src.kind === 'snapshot') text = await api.snapshotRaw(src.id);
        else if (src.kind === 'shared') text = await api.sharedRaw(src.token);
        else text = JSON.stringify(this.snap);
      } else if (src.kind === 'snapshot') text = await api.snapshotExport(src.id, fmt);
      else if (src.kind === 'shared') text = await api.sharedExport(src.token, fmt);
      else {
        // a live scan: the export of the scan on screen (POST /export.csv), not a new one
        text = await api.exportDocument(JSON.stringify(this.snap), fmt);
      }
      downloadText(`${base}.${fmt}`, text, mime);
    } catch (err) {
      toastError(err);
    }
  }

  // ---- details toolbar: find, units, expand ----

  detailsToolbar() {
    this.findInput = el('input', {
      type: 'search', className: 'find', id: 'find', placeholder: 'Find text or address (0x7f…)', value: this.find,
      'aria-label': 'Find text or address',
    });
    let timer = 0;
    this.findInput.addEventListener('input', () => {
      this.cancel(timer);
      timer = this.later(() => this.setFind(this.findInput.value, false), 160);
    });
    // a pasted stack trace keeps its lines (an <input> would join them): several addresses
    // are looked up at once
    this.findInput.addEventListener('paste', (ev) => {
      const text = ev.clipboardData ? ev.clipboardData.getData('text') : '';
      if (addressesIn(text).length < 2) return;
      ev.preventDefault();
      this.cancel(timer);
      this.findInput.value = addressesIn(text).join(' ');
      this.setFind(this.findInput.value, true);
    });
    this.findInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') { this.cancel(timer); this.setFind(this.findInput.value, true); }
      if (ev.key === 'Escape') { this.findInput.value = ''; this.setFind('', false); }
    });
    this.findMsg = el('span', { className: 'find-msg', role: 'status' });
    this.findList = el('ol', { className: 'find-list hidden', 'aria-label': 'What is at each address' });
    const units = el('select', { id: 'units', 'aria-label': 'Units', onchange: () => this.setUnits(units.value) },
      UNIT_MODES.map((u) => el('option', { value: u.key, selected: u.key === this.units }, u.label)));
    this.countEl = el('span', { className: 'count muted' });
    this.filterChip = el('span', { className: 'chips' });
    this.columnMenu = columnChooser(this.cols, (cols) => this.setColumns(cols), this.ac.signal);
    return el('div', { className: 'toolbar' },
      this.findInput, this.findMsg, this.filterChip, this.findList,
      el('span', { className: 'spacer' }),
      this.countEl,
      el('label', { className: 'units' }, 'Units ', units),
      this.columnMenu.el,
      el('button', { type: 'button', className: 'small', onclick: () => this.details.expandAll(true) }, 'Expand all'),
      el('button', { type: 'button', className: 'small', onclick: () => this.details.expandAll(false) }, 'Collapse all'));
  }

  setColumns(cols) {
    this.cols = cols;
    this.details.setColumns(cols);
    updateParams({ cols: colsParam(cols) });
  }

  updateCount(shown, total) {
    if (this.countEl) this.countEl.textContent = shown === total ? `${fmtInt(total)} rows` : `${fmtInt(shown)} of ${fmtInt(total)} rows`;
  }

  setUnits(u) {
    this.units = u;
    this.summary.setUnits(u);
    this.details.setUnits(u);
    this.renderInfo();
    updateParams({ units: u === 'auto' ? null : u });
  }

  setTypeFilter(key) {
    this.typeFilter = key;
    this.syncFilters();
  }

  syncFilters(write = true) {
    this.summary.setFilter(this.typeFilter);
    this.map.setTypeFilter(this.typeFilter);
    if (this.details.typeFilter !== this.typeFilter) this.details.setTypeFilter(this.typeFilter);
    clear(this.filterChip);
    if (this.typeFilter) {
      this.filterChip.appendChild(el('span', { className: 'chip', dataset: { type: this.typeFilter } },
        `Type: ${typeName(this.typeFilter)} `,
        el('button', { type: 'button', className: 'chip-x', title: 'Show every type', 'aria-label': 'Clear the type filter', onclick: () => this.setTypeFilter(null) }, '✕')));
    }
    if (write) updateParams({ type: this.typeFilter, q: this.find || null });
  }

  // Several addresses (a pasted stack trace): one line each with what is there, from the model
  // at once, then the symbol from the daemon (POST .../at); a click selects it.
  findMany(addrs) {
    const list = this.findList;
    clear(list);
    list.classList.remove('hidden');
    this.findMsg.textContent = `${addrs.length} addresses:`;
    const symbols = [];
    for (const text of addrs) {
      const addr = parseAddr(text);
      const hit = addr != null ? this.m.lookup(addr) : null;
      let what = 'outside the user address space';
      if (hit && hit.kind === KIND_GAP) what = `free gap of ${human(this.m.gaps[hit.g].size)}`;
      else if (hit) {
        const al = this.m.allocs[hit.a];
        what = `${typeName(al.type)}${al.details ? ': ' + al.details : ''}`;
      }
      const sym = el('span', { className: 'mono sym' });
      symbols.push(sym);
      list.appendChild(el('li', {},
        el('button', { type: 'button', className: 'link mono', disabled: !hit, onclick: () => hit && this.select(hit, 'find') }, fmtAddr(addr, this.m.addrWidth)),
        ' ', sym, ' ', el('span', { className: 'muted', text: what })));
    }
    const src = this.source.kind === 'live' ? { kind: 'live', pid: (this.snap.process || {}).pid } : this.source;
    api.atMany(src, addrs).then((r) => {
      (r.results || []).forEach((x, i) => { if (symbols[i] && x.image && x.image.text) symbols[i].textContent = x.image.text; });
    }).catch(() => {});
  }

  // Text filters the rows; an address jumps to what is there (region, or the free gap).
  setFind(text, jump) {
    const t = text.trim();
    this.findMsg.textContent = '';
    if (this.findList) { clear(this.findList); this.findList.classList.add('hidden'); }
    const many = addressesIn(t);
    if (many.length >= 2 && many.join(' ') === t.toLowerCase().split(/\s+/).join(' ')) {
      this.find = t;
      if (this.details.find) this.details.setFind('');
      updateParams({ q: t });
      this.findMany(many);
      return;
    }
    if (t && looksLikeAddress(t)) {
      this.find = t;
      if (this.details.find) this.details.setFind('');
      updateParams({ q: t });
      if (!jump && t.length < 6) return;
      const addr = parseAddr(t);
      const hit = addr != null ? this.m.lookup(addr) : null;
      if (!hit) {
        this.findMsg.textContent = `${fmtAddr(addr, this.m.addrWidth)} is outside the user address space.`;
        return;
      }
      if (hit.kind === KIND_GAP) {
        const g = this.m.gaps[hit.g];
        this.findMsg.textContent = `In a free gap of ${human(g.size)}.`;
      } else {
        const al = this.m.allocs[hit.a];
        this.findMsg.textContent = `In ${typeName(al.type)}${al.details ? ': ' + al.details : ''}.`;
      }
      this.select(hit, 'find');
      return;
    }
    this.find = t;
    this.details.setFind(t);
    updateParams({ q: t || null });
  }

  // ---- selection ----

  select(sel, from) {
    this.sel = sel;
    if (from !== 'details') this.details.select(sel, { scroll: true });
    this.map.setSelection(this.details.sel || sel);
    this.sel = this.details.sel || sel;
    this.renderInfo();
    const addr = this.m.selAddr(this.sel);
    if (from !== 'url') updateParams({ sel: addr != null ? '0x' + addr.toString(16) : null, lvl: this.sel && this.sel.kind === KIND_REGION ? 'r' : null });
  }

  selectLargestFree() {
    if (this.m.largestGap < 0) return;
    if (this.typeFilter && this.typeFilter !== 'free') this.setTypeFilter(null);
    this.select({ kind: KIND_GAP, g: this.m.largestGap }, 'summary');
  }

  setZoom(range) {
    this.map.setZoom(range);
    updateParams({ zoom: range ? `0x${range[0].toString(16)}-0x${range[1].toString(16)}` : null });
  }

  // The pid whose pages can be read live (pages.js): a live view's, or a stored snapshot's taken
  // on this host; never a share's or an imported file's.
  livePid() {
    if (this.source.kind === 'live') return this.source.pid;
    if (this.source.kind === 'snapshot' && !this.origin.imported && !this.origin.foreign && this.snap.process) return this.snap.process.pid;
    return null;
  }

  // The file of a selected Image or Mapped File allocation (its first region's path), when the
  // processes mapping it can be asked of this daemon: not on a share link or another host's snapshot.
  mappedPath(s) {
    if (!s || s.kind === KIND_GAP || this.readOnly || this.origin.foreign) return null;
    const al = this.m.allocs[s.a];
    if (al.type !== 'image' && al.type !== 'mapped_file') return null;
    const ri = s.kind === KIND_REGION ? s.r : this.m.aFirst[s.a];
    const r = this.m.regions[ri];
    return r && r.path && r.path.startsWith('/') ? r.path : null;
  }

  renderInfo() {
    const box = this.info;
    clear(box);
    const s = this.sel;
    const m = this.m;
    if (!s) {
      box.appendChild(el('p', { className: 'muted', text: 'Click a block on the map or a row in the details to see everything about it here.' }));
      return;
    }
    const rows = [];
    const w = m.addrWidth;
    const add = (k, v, cls) => { if (v !== '' && v != null) rows.push([k, String(v), cls]); };
    let title;
    if (s.kind === KIND_GAP) {
      const g = m.gaps[s.g];
      title = `Free gap${s.g === m.largestGap ? ' — the largest free block' : ''}`;
      add('Range', `${fmtAddr(m.gStart[s.g], w)} – ${fmtAddr(m.gEnd[s.g], w)}`, 'mono');
      add('Size', `${human(g.size)} (${fmtInt(g.size)} bytes)`);
    } else {
      const al = m.allocs[s.a];
      // a one-region allocation: its region's facts are the allocation's
      const ri = s.kind === KIND_REGION ? s.r : m.regionCount(s.a) === 1 ? m.aFirst[s.a] : -1;
      const r = ri >= 0 ? m.regions[ri] : null;
      title = `${typeName(al.type)}${r && r.role ? ' · ' + r.role : ''}`;
      if (r) {
        add('Region', `${fmtAddr(m.rStart[ri], w)} – ${fmtAddr(parseAddr(r.end), w)}`, 'mono');
        add('Size', `${human(r.size)} (${fmtInt(r.size)} bytes)`);
        add('Protection', r.perms, 'mono');
        add('Path', r.path ? r.path + (r.deleted ? ' (deleted)' : '') : '', 'mono');
        add('Offset', r.offset, 'mono');
        add('Device, inode', r.inode ? `${r.dev}, ${r.inode}` : '');
        add('VmFlags', r.vm_flags, 'mono');
        const sm = r.smaps || {};
        const nz = Object.entries(sm).filter(([k, v]) => v && !['size', 'kernel_page_size', 'mmu_page_size'].includes(k));
        add('smaps', nz.map(([k, v]) => `${k} ${human(v)}`).join(' · '));
      }
      add('Allocation', `${fmtAddr(m.aStart[s.a], w)} – ${fmtAddr(m.aEnd[s.a], w)}, ${human(Number(m.aEnd[s.a] - m.aStart[s.a]))} in ${m.regionCount(s.a)} region(s)`, 'mono');
      add('Details', al.details || '');
      const mark = this.changes && this.changes.byAlloc.get(s.a);
      if (mark) {
        add(`Since #${this.diff.from_id}`, (mark.changes || []).join(', '), 'changed-since');
        for (const [label, text] of changedColumns(mark, this.units)) add(label, text, 'from-to');
      }
    }
    box.append(el('h3', { text: title }),
      el('dl', { className: 'facts wide' }, rows.map(([k, v, c]) => [el('dt', { text: k }), el('dd', { className: c || '', text: v })])));
    // an Image or Mapped File: which processes of this host map the same file (system.js)
    const file = this.mappedPath(s);
    if (file) box.appendChild(el('p', { className: 'who-maps' }, el('a', { href: routeHash(['system'], { path: file }), title: `Every process on this host that maps ${file}, with its Pss and Rss`, text: 'Which processes map this file →' })));
    // inside the pages of an allocation: live processes of this host only (pages.js)
    const pid = this.livePid();
    if (s.kind !== KIND_GAP && pid != null) {
      box.appendChild(pagesBlock({
        pid, start: m.aStart[s.a], end: m.aEnd[s.a], addrWidth: w,
        note: this.source.kind === 'snapshot' ? `Read now from process ${pid} as it is, not from this snapshot.` : null,
        snapshotId: this.source.kind === 'snapshot' ? this.source.id : null,
      }));
    }
  }
}

export { ApiError };
