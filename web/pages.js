// Inside the pages (issue 14): under the selected allocation, a residency strip (one pixel per
// page, or per run of pages when the allocation is wider than the strip, coloured by the most
// telling state in it) with its legend and counts, read live from
// GET /api/v1/processes/{pid}/residency; and, only when the daemon runs with
// --allow-memory-read (GET /version "memory_read"), a Strings panel and a Trim button that asks
// first. Never on a share link or a snapshot from another host: the pid means nothing there.
// A stored snapshot taken with ?residency=1 shows the residency stored with it (GET
// /api/v1/snapshots/{id}/residency) first, with a button to read the process now instead (a live
// view offers "Store snapshot with pages": POST .../snapshots?residency=1); with
// --allow-memory-read a Working set control measures which mappings' pages the process touches
// in N seconds (it says first that this perturbs the target's reclaim).
import { api } from './api.js';
import { el, clear, human, fmtInt, fmtAddr } from './format.js';
import { dialog, toast, toastError, errorPanel, loading } from './ui.js';
import { navigate } from './route.js';

// The states in the order a bucket's colour is chosen (the first one present in it wins).
export const RESIDENCY_LEGEND = [
  { key: 'guard', label: 'guard page', color: '#c62828' },
  { key: 'swapped', label: 'swapped', color: '#ef8f00' },
  { key: 'thp', label: 'huge page (THP)', color: '#7b3fb8' },
  { key: 'hugetlb', label: 'hugetlb', color: '#4a2a7a' },
  { key: 'shared', label: 'in RAM, shared with others', color: '#00897b' },
  { key: 'file', label: 'in RAM, file / shmem page', color: '#1f6fd1' },
  { key: 'present', label: 'in RAM, private', color: '#2e9d3e' },
  { key: 'zero', label: 'zero page (read, never written)', color: '#b9c2cc' },
  { key: 'none', label: 'not in RAM (untouched or dropped)', color: '#eceff3' },
];
const COLOR = Object.fromEntries(RESIDENCY_LEGEND.map((l) => [l.key, l.color]));
const AUTO_MAX = 64 * 2 ** 30; // read at once for allocations up to 64 GiB; a button beyond
const STRIP_PX = 640;

// One answer per range for a few seconds: the info box is redrawn on every unit change.
const recent = new Map();
function residencyOnce(pid, start, end, fresh) {
  const key = `${pid}:${start}:${end}`;
  const hit = recent.get(key);
  if (!fresh && hit && performance.now() - hit.t < 3000) return hit.p;
  const p = api.residency(pid, start, end);
  recent.clear();
  recent.set(key, { t: performance.now(), p });
  p.catch(() => recent.delete(key));
  return p;
}

let versionPromise = null;
let generation = 0; // the newest Pages block: an older one (the selection moved on) never loads
function memoryReadAllowed() {
  if (!versionPromise) versionPromise = api.version().then((v) => !!(v && v.memory_read)).catch(() => false);
  return versionPromise;
}

// The class of a page from its flags (a Set).
function pageClass(f, exclKnown) {
  if (f.has('guard')) return 'guard';
  if (f.has('swapped')) return 'swapped';
  if (f.has('thp')) return 'thp';
  if (f.has('hugetlb')) return 'hugetlb';
  if (f.has('zero')) return 'zero';
  if (exclKnown && f.has('present') && !f.has('exclusive') && !f.has('file')) return 'shared';
  if (f.has('file')) return 'file';
  if (f.has('present')) return 'present';
  return 'none';
}

const RANK = Object.fromEntries(RESIDENCY_LEGEND.map((l, i) => [l.key, i]));

// Draw res (the API's answer) for [start, end) into canvas: buckets of pages, each coloured
// by the highest-ranked class among its pages.
export function drawStrip(canvas, res, start, end) {
  const ps = BigInt(res.page_size);
  const pages = Number((end - start) / ps);
  const width = Math.max(1, Math.min(STRIP_PX, pages));
  canvas.width = width;
  canvas.height = 14;
  const best = new Int8Array(width).fill(RANK.none);
  const exclKnown = res.known.includes('exclusive');
  for (const r of res.runs) {
    let s = BigInt(r.start);
    let e = BigInt(r.end);
    if (e <= start || s >= end) continue;
    if (s < start) s = start;
    if (e > end) e = end;
    const rank = RANK[pageClass(new Set(r.flags), exclKnown)];
    const p0 = Number((s - start) / ps);
    const p1 = Number((e - start) / ps);
    const b0 = Math.floor((p0 * width) / pages);
    const b1 = Math.max(b0 + 1, Math.ceil((p1 * width) / pages));
    for (let b = b0; b < b1 && b < width; b++) if (rank < best[b]) best[b] = rank;
  }
  const ctx = canvas.getContext('2d');
  for (let b = 0; b < width; b++) {
    ctx.fillStyle = RESIDENCY_LEGEND[best[b]].color;
    ctx.fillRect(b, 0, 1, 14);
  }
  return { pages, perPixel: pages / width };
}

function legend() {
  return el('ul', { className: 'res-legend' }, RESIDENCY_LEGEND.map((l) => {
    const sw = el('span', { className: 'res-swatch' });
    sw.style.background = l.color;
    return el('li', null, sw, l.label);
  }));
}

// The strip, the counts and the legend of res (the API's answer) for ctx's range into body;
// where says where the states come from ("read now, live" or the stored snapshot).
function showResidency(body, res, ctx, where) {
  clear(body);
  const canvas = el('canvas', { className: 'res-strip', id: 'res-strip', role: 'img' });
  const { pages, perPixel } = drawStrip(canvas, res, ctx.start, ctx.end);
  const ps = res.page_size;
  const c = res.pages;
  canvas.setAttribute('aria-label', `Page residency: ${fmtInt(c.present)} of ${fmtInt(pages)} pages in RAM`);
  const parts = [`${fmtInt(c.present)} of ${fmtInt(pages)} pages in RAM (${human(c.present * ps)})`];
  for (const k of ['file', 'exclusive', 'swapped', 'soft_dirty', 'thp', 'hugetlb', 'zero', 'guard'])
    if (res.known.includes(k) && c[k]) parts.push(`${k.replace('_', '-')} ${fmtInt(c[k])}`);
  // a kernel without CONFIG_MEM_SOFT_DIRTY: say so, rather than let "no soft-dirty" read as all clean
  if (!res.known.includes('soft_dirty')) parts.push('soft-dirty not tracked by this kernel');
  const truncated = res.truncated
    ? `; ${res.snapshot_id != null ? 'stored only up to ' + fmtAddr(BigInt(res.walk_end), ctx.addrWidth) + ' (the byte bound was reached): pages above are not known' : 'cut at the run limit'}`
    : '';
  body.append(canvas,
    el('p', { className: 'small', id: 'res-counts', text: parts.join(' · ') }),
    el('p', { className: 'muted small', id: 'res-source', text: `${perPixel <= 1 ? 'one pixel per page' : `one pixel per ${fmtInt(Math.ceil(perPixel))} pages`}; ${res.method === 'pagemap_scan' ? 'PAGEMAP_SCAN' : 'pagemap (slower: this kernel lacks PAGEMAP_SCAN; THP and the zero page not known)'}${truncated}; ${where}` }),
    legend());
}

// ctx: {pid, start (BigInt), end (BigInt), note, addrWidth, snapshotId}. Returns the block's
// element; it loads itself. pid null: no live reads (a stored snapshot's own residency only).
export function pagesBlock(ctx) {
  const box = el('div', { className: 'pages-block', id: 'pages-block' });
  const body = el('div', { className: 'pages-body' });
  const actions = el('div', { className: 'pages-actions' });
  const note = el('p', { className: 'muted small', id: 'pages-note', text: ctx.snapshotId != null ? '' : ctx.note || '' });
  box.append(el('h4', { text: 'Pages' }), note, body, actions);
  const size = Number(ctx.end - ctx.start);
  const load = async (fresh) => {
    clear(body).appendChild(loading('Reading page residency…'));
    try {
      const res = await residencyOnce(ctx.pid, ctx.start, ctx.end, fresh === true);
      showResidency(body, res, ctx, 'read now, live');
    } catch (err) {
      clear(body).appendChild(errorPanel(err, () => load(true)));
    }
  };
  const loadLive = () => {
    // after a short pause: stepping through the map with the arrow keys reads only where it stops
    if (size <= AUTO_MAX) {
      body.appendChild(loading('Reading page residency…'));
      const gen = ++generation;
      setTimeout(() => { if (gen === generation) load(); }, 250);
    } else clear(body).appendChild(el('button', { type: 'button', className: 'small', onclick: () => load(true), text: `Read page residency (${human(size)})` }));
  };
  // a stored snapshot: its own residency when it was stored with one, else the live process
  const loadStored = async () => {
    const gen = ++generation;
    body.appendChild(loading('Reading the residency stored with this snapshot…'));
    try {
      const res = await api.snapshotResidency(ctx.snapshotId, ctx.start, ctx.end);
      if (gen !== generation) return;
      note.textContent = `Stored with snapshot #${ctx.snapshotId}: the pages as they were when it was taken.`;
      showResidency(body, res, ctx, `stored with snapshot #${ctx.snapshotId} (${human(res.stored_bytes)} kept)`);
      if (ctx.pid != null) {
        actions.prepend(el('button', { type: 'button', className: 'small', id: 'btn-res-live', text: 'Read now (live)',
          onclick: (e) => { e.target.remove(); note.textContent = ctx.note || ''; load(true); } }));
      }
    } catch (err) {
      if (gen !== generation) return;
      clear(body);
      if (err.status === 404 && err.code === 'no_residency' && ctx.pid != null) {
        note.textContent = `${ctx.note || ''} This snapshot was stored without its page residency.`.trim();
        loadLive();
      } else if (err.status === 404 && err.code === 'no_residency') {
        body.appendChild(el('p', { className: 'muted small', text: 'This snapshot was stored without its page residency.' }));
      } else body.appendChild(errorPanel(err, loadStored));
    }
  };
  if (ctx.snapshotId != null) loadStored();
  else loadLive();
  // a live view: keep the pages with a new snapshot (POST .../snapshots?residency=1)
  if (ctx.snapshotId == null && ctx.pid != null) {
    actions.append(el('button', { type: 'button', className: 'small', id: 'btn-store-res', title: 'Scan the process and store the snapshot together with the page residency of its whole address space (at most 1 MiB, run-length encoded)',
      text: 'Store snapshot with pages',
      onclick: async (e) => {
        e.target.disabled = true;
        try {
          const r = await api.takeSnapshotWithResidency(ctx.pid);
          toast(`Snapshot #${r.id} stored with its page residency${r.residency && r.residency.truncated ? ' (truncated at 1 MiB)' : ''}.`);
          navigate(['snapshot', String(r.id)], { sel: '0x' + ctx.start.toString(16) });
        } catch (err) {
          toastError(err);
          e.target.disabled = false;
        }
      } }));
  }

  if (ctx.pid != null) {
    memoryReadAllowed().then((ok) => {
      if (!ok) return;
      actions.append(
        el('button', { type: 'button', className: 'small', id: 'btn-strings', onclick: () => stringsDialog(ctx), text: 'Strings…' }),
        el('button', { type: 'button', className: 'small', id: 'btn-trim', onclick: () => trimDialog(ctx, load), text: 'Trim…' }),
        el('button', { type: 'button', className: 'small', id: 'btn-workingset', onclick: () => workingSetDialog(ctx), text: 'Working set…' }));
    });
  }
  return box;
}

// Working set over an interval: says first that clear_refs perturbs the target, then measures
// and shows, per mapping of the allocation, how much of what is in RAM the process touched.
function workingSetDialog(ctx) {
  const out = el('div', { id: 'ws-out' });
  const secs = el('input', { type: 'number', id: 'ws-seconds', value: '5', min: '1', max: '30', 'aria-label': 'Seconds' });
  const range = `${fmtAddr(ctx.start, ctx.addrWidth)} – ${fmtAddr(ctx.end, ctx.addrWidth)}`;
  dialog('Measure the working set?', [
    el('p', { text: `This resets the "referenced" bit of every page of process ${ctx.pid} (writes 1 to /proc/${ctx.pid}/clear_refs), waits, and then asks the kernel which pages of ${range} were referenced again.` }),
    el('p', { id: 'ws-warning', text: 'It perturbs the target: for a moment the kernel\'s reclaim sees all of the process\'s pages as idle and may evict pages it would have kept. The process keeps running; the daemon logs the request.' }),
    el('p', null, el('label', null, 'Wait ', secs, ' seconds')),
    out,
  ], [
    { label: 'Cancel' },
    {
      label: 'Reset and measure', primary: true,
      onclick: async () => {
        const n = Math.max(1, Math.min(30, Number(secs.value) || 5));
        clear(out).appendChild(loading(`Waiting ${n} s while the process runs…`));
        try {
          const r = await api.workingSet(ctx.pid, ctx.start, ctx.end, n);
          workingSetResult(ctx, r);
        } catch (err) {
          toastError(err);
        }
      },
    },
  ]);
}

function workingSetResult(ctx, r) {
  const rows = r.vmas.map((v) => {
    const bar = el('span', { className: 'ws-bar' });
    const fill = el('span', { className: 'ws-fill' });
    fill.style.width = `${v.rss ? Math.round((100 * v.referenced) / v.rss) : 0}%`;
    bar.appendChild(fill);
    return el('tr', null,
      el('td', { className: 'mono', text: `${fmtAddr(BigInt(v.start), ctx.addrWidth)} – ${fmtAddr(BigInt(v.end), ctx.addrWidth)}` }),
      el('td', { className: 'num', text: human(v.referenced) }),
      el('td', { className: 'num', text: human(v.rss) }),
      el('td', null, bar));
  });
  dialog(`Working set over ${r.seconds} s`, [
    el('p', { id: 'ws-summary', text: `The process touched ${human(r.referenced)} of the ${human(r.rss)} it has in RAM in these mappings during the ${r.seconds} s.` }),
    el('table', { className: 'ws-table', id: 'ws-table' },
      el('thead', null, el('tr', null, ['Mapping', 'Touched', 'In RAM', ''].map((h) => el('th', { text: h })))),
      el('tbody', null, rows)),
    el('p', { className: 'muted small', text: 'Touched = smaps "Referenced" after the interval. The kernel shows the referenced bit only as a sum per mapping (page-level idle tracking needs root and physical page numbers), so this is per mapping, not per page. The referenced bits were reset to measure this: that perturbed the process\'s reclaim.' }),
  ]);
}

const PAGE = 200;

function stringsDialog(ctx) {
  const list = el('div', { className: 'strings-list', id: 'strings-list' });
  const status = el('p', { className: 'small', id: 'strings-status' });
  const q = el('input', { type: 'search', id: 'strings-q', placeholder: 'Search (any case)', 'aria-label': 'Search strings' });
  const min = el('input', { type: 'number', id: 'strings-min', value: '8', min: '4', max: '1024', 'aria-label': 'Minimum length' });
  let offset = 0;
  const prev = el('button', { type: 'button', className: 'small', text: '◂ Previous', onclick: () => { offset = Math.max(0, offset - PAGE); run(); } });
  const next = el('button', { type: 'button', className: 'small', text: 'Next ▸', onclick: () => { offset += PAGE; run(); } });
  const run = async () => {
    status.textContent = 'Reading…';
    try {
      const r = await api.strings(ctx.pid, ctx.start, ctx.end, { q: q.value.trim(), min: min.value, offset, limit: PAGE });
      clear(list);
      for (const s of r.strings) {
        list.appendChild(el('div', { className: 'string-row' },
          el('span', { className: 'mono addr', text: fmtAddr(BigInt(s.addr), ctx.addrWidth) }),
          el('span', { className: 'enc', text: s.encoding === 'ascii' ? 'A' : 'U', title: s.encoding === 'ascii' ? 'ASCII' : 'UTF-16LE' }),
          el('span', { className: 'mono text', text: s.text })));
      }
      const last = Math.min(r.total, offset + r.strings.length);
      status.textContent = `${r.total ? `${fmtInt(offset + 1)}–${fmtInt(last)} of ` : ''}${fmtInt(r.total)} strings; ${human(r.bytes_read)} in RAM read, ${human(r.bytes_skipped)} not resident or unreadable${r.truncated ? ' (stopped at the per-request limit)' : ''}. Nothing is stored; the daemon logs the read.`;
      prev.disabled = offset === 0;
      next.disabled = last >= r.total;
    } catch (err) {
      status.textContent = '';
      clear(list).appendChild(errorPanel(err));
    }
  };
  let timer = 0;
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { offset = 0; run(); }, 400); });
  min.addEventListener('change', () => { offset = 0; run(); });
  dialog(`Strings in ${fmtAddr(ctx.start, ctx.addrWidth)} – ${fmtAddr(ctx.end, ctx.addrWidth)}`, [
    el('p', { className: 'muted small', text: 'ASCII and UTF-16LE text read from this process\'s memory right now (pages in RAM only). It may hold secrets.' }),
    el('div', { className: 'strings-bar' }, q, el('label', null, 'min ', min), prev, next),
    status, list]);
  run();
}

function figureText(f) {
  return `Rss ${human(f.rss)} (anonymous ${human(f.anonymous)}, file ${human(f.file)}), swap ${human(f.swap)}`;
}

function trimDialog(ctx, reload) {
  const out = el('div', { id: 'trim-out' });
  dialog('Trim the working set?', [
    el('p', { text: `This asks the kernel to page out the memory of ${fmtAddr(ctx.start, ctx.addrWidth)} – ${fmtAddr(ctx.end, ctx.addrWidth)} in process ${ctx.pid} now (process_madvise MADV_PAGEOUT).` }),
    el('p', { text: 'Clean file pages are dropped from RAM, anonymous pages go to swap if there is swap (without swap they stay). The process keeps running and reads back what it touches again, which costs it page faults and disk reads. This changes the process, not only this view; the daemon logs it.' }),
    out,
  ], [
    { label: 'Cancel' },
    {
      label: 'Page out', primary: true,
      onclick: async () => {
        clear(out).appendChild(loading('Paging out, then waiting 5 s to see what comes back…'));
        try {
          const r = await api.trim(ctx.pid, ctx.start, ctx.end, 5);
          dialog('Working set trimmed', [el('dl', { className: 'facts wide', id: 'trim-result' },
            el('dt', { text: 'Before' }), el('dd', { text: figureText(r.before) }),
            el('dt', { text: 'Right after' }), el('dd', { text: figureText(r.after) }),
            el('dt', { text: `After ${r.wait_s} s` }), el('dd', { text: r.after_wait ? figureText(r.after_wait) : '—' }),
            el('dt', { text: 'Advised' }), el('dd', { text: `${human(r.advised_bytes)} in ${r.vmas} mapping(s)${r.skipped_vmas ? `, ${r.skipped_vmas} skipped (locked, hugetlb, no access)` : ''}` }))]);
          reload(true);
        } catch (err) {
          toastError(err);
        }
      },
    },
  ]);
}

// "Colour by residency" on the address map: a function (lo, hi) -> colour of the most telling
// page state among the runs of res (the whole process) overlapping [lo, hi).
export function residencyColorer(res) {
  const starts = res.runs.map((r) => BigInt(r.start));
  const ends = res.runs.map((r) => BigInt(r.end));
  const ranks = res.runs.map((r) => RANK[pageClass(new Set(r.flags), res.known.includes('exclusive'))]);
  return (lo, hi) => {
    let a = 0;
    let b = ends.length;
    while (a < b) { const mid = (a + b) >> 1; if (ends[mid] <= lo) a = mid + 1; else b = mid; }
    let best = RANK.none;
    for (let i = a; i < ends.length && starts[i] < hi; i++) if (ranks[i] < best) best = ranks[i];
    return RESIDENCY_LEGEND[best].color;
  };
}

// The checkbox above the map: reads the whole process's residency and hands the map its colours.
export function residencyToggle(pid, map) {
  const box = el('input', { type: 'checkbox', id: 'res-overlay' });
  const status = el('span', { className: 'muted small', id: 'res-overlay-status' });
  const legendBox = el('div', { className: 'res-overlay-legend' });
  box.addEventListener('change', async () => {
    clear(legendBox);
    if (!box.checked) { map.setOverlay(null); status.textContent = ''; return; }
    status.textContent = 'reading…';
    try {
      const res = await api.residencyAll(pid);
      if (!box.checked) return;
      map.setOverlay(residencyColorer(res));
      status.textContent = `${fmtInt(res.pages.present)} pages in RAM, read now${res.truncated ? ' (cut at the run limit)' : ''}`;
      legendBox.appendChild(legend());
    } catch (err) {
      box.checked = false;
      status.textContent = '';
      toastError(err);
    }
  });
  return el('div', { className: 'res-overlay' }, el('label', { htmlFor: 'res-overlay' }, box, ' Colour by residency (live: which pages are in RAM now)'), ' ', status, legendBox);
}
