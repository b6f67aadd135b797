// Timeline: the watches list (#/watches) and one watch (#/watch/ID?col=committed): a stacked
// area chart of a column per memory type over time (plain SVG, the palette's colours), live
// while the watch runs (long polling: the daemon answers when a sample is stored). Click two points to compare them: what grew per type
// and the top allocations between the full snapshots nearest to each point (the server says
// which: "nearest full snapshot: #ID at TIME"), with a link to their diff.
import { api } from './api.js';
import { el, clear, human, fmtDelta, fmtTime, fmtInt } from './format.js';
import { navigate, updateParams } from './route.js';
import { TYPES, typeName } from './palette.js';
import { errorPanel, loading, toast, toastError } from './ui.js';
import { shareDialog } from './share-dialog.js';

const SVGNS = 'http://www.w3.org/2000/svg';
const POLL_MS = 2000;
const LIVE_WAIT_S = 25;
// what-grew's growth.kind (docs/api.md, "Watches"): leak-like is steady growth, not one jump
const SHAPE = { steady: 'leak-like', jump: 'one-time jump', irregular: 'irregular', none: '' };
const SHAPE_TITLE = {
  steady: 'Grew steadily over the range (many rises, a straight-line fit, no large drop): looks like a leak',
  jump: 'One step carries most of the growth: a one-time allocation, not a steady leak',
  irregular: 'Grew, but in bursts or with drops: not a steady leak',
  none: '',
};
const CHART_H = 320;
const PAD = { l: 64, r: 12, t: 10, b: 26 };
const CHART_COLUMNS = [
  { key: 'committed', label: 'Committed' },
  { key: 'private', label: 'Private' },
  { key: 'total_ws', label: 'Working Set' },
];

// the samples' columns the chart can show: the API leaves the others out (?columns=)
const COLS = CHART_COLUMNS.map((c) => c.key).join(',');

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) e.setAttribute(k, String(v));
  for (const c of children) if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

function swatch(color) {
  const sw = el('span', { className: 'swatch' });
  sw.style.backgroundColor = color || '#ccc'; // CSSOM, not a style attribute (CSP)
  return sw;
}

const clock = (ms) => new Date(ms).toISOString().slice(11, 19);
// axis labels: tenths of a second when the whole chart spans less than a minute
const axisClock = (ms, span) => new Date(ms).toISOString().slice(11, span < 60000 ? 21 : 19);

// A round step for about `parts` grid lines up to max bytes: 1, 2 or 5 times a power of ten of
// the binary unit that human() shows (so labels read "10 MiB", "20 MiB" ...).
function niceStep(max, parts) {
  const raw = max / parts;
  let unit = 1;
  while (raw / unit >= 1024 && unit < 2 ** 40) unit *= 1024;
  const m = raw / unit;
  const p = 10 ** Math.floor(Math.log10(m));
  const f = m / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p * unit;
}

// ---- the list ----------------------------------------------------------------------------------

export function watchesView(container) {
  let alive = true;
  clear(container).append(loading('Loading watches…'));
  (async () => {
    let r;
    try { r = await api.watches(); } catch (err) {
      if (alive) clear(container).append(errorPanel(err, () => watchesView(container)));
      return;
    }
    if (!alive) return;
    const rows = r.watches.map((w) => el('tr', { className: 'watch-row', dataset: { id: String(w.id) } },
      el('td', null, el('a', { href: `#/watch/${w.id}`, text: `#${w.id}` })),
      el('td', null, `${w.name} `, el('span', { className: 'muted', text: `pid ${w.pid}${w.follow ? ` · follows the name, ${w.restarts.length} restart(s)` : ''}` })),
      el('td', null, el('span', { className: `state state-${w.state}`, text: w.state })),
      el('td', { className: 'num', text: fmtInt(w.samples) }),
      el('td', { className: 'num', text: `${w.interval_ms} ms` }),
      el('td', { text: fmtTime(w.created_at, w.created_at_ms) }),
      el('td', { className: 'muted note-cell', text: w.note || '' })));
    clear(container).append(
      el('header', { className: 'view-header' },
        el('h1', { text: 'Watches' }),
        el('p', { className: 'muted', text: 'A watch samples one process at an interval and keeps a full snapshot every minute, so you can see which type grows and compare any two points. Start one with Watch on a process.' })),
      rows.length ? el('div', { className: 'table-wrap' }, el('table', { className: 'grid watches' },
        el('thead', null, el('tr', null, ['Watch', 'Process', 'State', 'Samples', 'Interval', 'Started', 'Note'].map((h) => el('th', { text: h })))),
        el('tbody', null, rows)))
        : el('p', { className: 'muted', text: 'No watches yet.' }));
    document.body.dataset.view = 'watches';
    document.body.dataset.ready = '1';
  })();
  return () => { alive = false; delete document.body.dataset.ready; };
}

// Start watching pid and open its timeline (the snapshot view's Watch button).
export async function startWatch(pid) {
  try {
    const r = await api.createWatch({ pid: Number(pid), interval_ms: 1000 });
    toast(`Watching pid ${pid} every second.`);
    navigate(['watch', String(r.id)], {});
  } catch (err) { toastError(err); }
}

// ---- one watch ---------------------------------------------------------------------------------

// The API a timeline reads: the watch's own routes (token), or a share link's (shareTok: read
// only, no live updates, no links to this daemon's snapshots).
function timelineSource(id, shareTok) {
  if (!shareTok) {
    return {
      watch: () => api.watch(id),
      samples: (p, signal) => api.watchSamples(id, p, signal),
      growth: (p) => api.watchGrowth(id, p),
    };
  }
  return {
    shared: true,
    watch: async () => { const r = await api.sharedWatch(shareTok); return { ...r.watch, share: r }; },
    samples: (p) => api.sharedWatchSamples(shareTok, p),
    growth: (p) => api.sharedWatchGrowth(shareTok, p),
    // the link's own route to one of the watch's full snapshots (JSON; a file to open elsewhere)
    snapshotUrl: (sid) => `/api/v1/shared/${encodeURIComponent(shareTok)}/watch/snapshots/${sid}`,
  };
}

// The zoomed range of the URL (?from=&to=, Unix ms), or null.
function rangeParam(params) {
  const from = Number(params.from);
  const to = Number(params.to);
  return from > 0 && to > from ? { from, to } : null;
}

// The watch's thresholds for full snapshots (docs/api.md, "Full snapshots by threshold"), as
// stored; 0 turns one off. null: not known (a watch stored by an older vmscope, or imported):
// a running one then uses the sampler's, the defaults, and says so; a stopped one says nothing.
function thresholdsText(w) {
  const known = w.snapshot_on_allocations != null && w.snapshot_on_committed != null;
  const t = known ? w : w.sampler;
  const on = [];
  if (t && t.snapshot_on_allocations) on.push(`${fmtInt(t.snapshot_on_allocations)} allocations come or go`);
  if (t && t.snapshot_on_committed) on.push(`${human(t.snapshot_on_committed)} of committed memory moves between types`);
  const text = on.length ? ` and whenever ${on.join(' or ')}${known ? '' : ' (the defaults: this watch was stored before vmscope kept its own)'}` : '';
  return el('span', { id: 'tl-thresholds', text });
}

export function timelineView(container, id, params, shareTok) {
  const src = timelineSource(id, shareTok);
  const st = {
    alive: true, watch: null, samples: [], col: CHART_COLUMNS.some((c) => c.key === params.col) ? params.col : 'committed',
    picks: [], timer: 0, growthSeq: 0, zoom: rangeParam(params), zoomSamples: [],
  };
  const head = el('div');
  const colSelect = el('select', { id: 'tl-col', 'aria-label': 'Column to chart' },
    CHART_COLUMNS.map((c) => el('option', { value: c.key, text: c.label, selected: c.key === st.col })));
  const readout = el('span', { className: 'tl-readout muted', id: 'tl-readout' });
  const resetZoom = el('button', { type: 'button', id: 'tl-reset-zoom', className: 'small hidden', title: 'Show the whole timeline again', onclick: () => zoomTo(null) }, 'Reset zoom');
  const zoomNote = el('span', { className: 'muted small', id: 'tl-zoom-note' });
  const chartBox = el('div', { className: 'tl-chart', id: 'tl-chart' });
  const legend = el('div', { className: 'tl-legend' });
  const compare = el('div', { className: 'tl-compare', id: 'tl-compare' },
    el('p', { className: 'muted', text: 'Click two points of the chart to see what grew between them, or drag across it to zoom.' }));
  clear(container).append(head,
    el('div', { className: 'toolbar' }, el('label', { className: 'units' }, 'Chart ', colSelect), zoomNote, resetZoom, el('span', { className: 'spacer' }), readout),
    chartBox, legend, compare);
  colSelect.addEventListener('change', () => { st.col = colSelect.value; updateParams({ col: st.col === 'committed' ? null : st.col }); draw(); });
  const ro = new ResizeObserver(() => draw());
  ro.observe(chartBox);

  // The first load: the watch and its samples (downsampled to 1,000 points at most). While it
  // runs, live() long-polls for newer samples: the daemon answers when one is stored (or after
  // LIVE_WAIT_S), so an open timeline costs one request per sample, not a poll every second.
  async function load() {
    try {
      const f0 = performance.now();
      const [w, s] = await Promise.all([src.watch(), src.samples({ max_points: 1000, columns: COLS })]);
      if (!st.alive) return;
      document.body.dataset.fetchMs = (performance.now() - f0).toFixed(1);
      st.watch = w;
      st.samples = s.samples;
      st.downsampled = s.downsampled;
      drawHead();
      if (st.zoom) await loadZoom(); else draw();
      if (!st.alive) return;
      document.body.dataset.view = 'timeline';
      document.body.dataset.ready = '1';
      document.body.dataset.samples = String(st.samples.length);
      if (w.state === 'running' && !src.shared) live();
    } catch (err) {
      if (!st.alive) return;
      if (!st.watch) clear(container).append(errorPanel(err, () => load()));
      else { toastError(err); st.timer = setTimeout(load, POLL_MS * 2); }
    }
  }

  async function live() {
    let since = 0;
    while (st.alive) {
      const last = st.samples.length ? st.samples[st.samples.length - 1].t_ms : 0;
      let r;
      try {
        st.abort = new AbortController();
        r = await src.samples({ after: last || 1, wait_s: LIVE_WAIT_S, max_points: 1000, columns: COLS }, st.abort.signal);
      } catch (err) {
        if (!st.alive) return;
        toastError(err);
        st.timer = setTimeout(load, POLL_MS * 2);
        return;
      }
      if (!st.alive) return;
      if (r.samples.length) {
        st.samples = st.samples.concat(r.samples);
        if (st.samples.length > 2000 || r.downsampled) { load(); return; } // downsample again
        document.body.dataset.samples = String(st.samples.length);
        document.body.dataset.live = String((Number(document.body.dataset.live) || 0) + r.samples.length);
        if (!st.zoom) draw(); // a zoomed range stays as chosen
      }
      // the header (sample count, note) every few updates, and at once when the state changed
      if (r.watch_state !== st.watch.state || ++since >= 5) {
        since = 0;
        try { st.watch = await src.watch(); } catch { /* keep the old header */ }
        if (!st.alive) return;
        drawHead();
        if (st.watch.state !== 'running') return;
      }
      if (r.live && r.live.refused) { // the daemon's cap on waiting requests: poll slowly instead
        await new Promise((res) => { st.timer = setTimeout(res, POLL_MS); });
      }
    }
  }

  function drawHead() {
    const w = st.watch;
    const running = w.state === 'running' && !src.shared;
    const shareBtn = src.shared ? null : el('button', { type: 'button', id: 'btn-share-watch', title: 'Create a read-only link to this timeline and copy it', onclick: () => shareDialog({
      title: 'Share this timeline',
      what: 'this timeline',
      intro: 'Anyone with a link can see this watch\'s timeline (read only): its samples, what grew and its full snapshots, and nothing else (no live process), until the link expires or is revoked. A link works for whoever can reach this daemon\'s address.',
      create: (opts) => api.shareWatch(w.id, opts),
      list: () => api.watchShares(w.id),
    }) }, 'Share');
    const stopBtn = running ? el('button', { type: 'button', id: 'btn-stop-watch', onclick: async () => {
      try { await api.stopWatch(w.id); clearTimeout(st.timer); load(); } catch (err) { toastError(err); }
    } }, 'Stop watching') : null;
    const sampler = w.sampler;
    clear(head).append(el('header', { className: 'view-header' },
      el('h1', { className: 'proc-title' }, el('span', { className: 'proc-name', text: w.name }), el('span', { className: 'proc-pid', text: ` pid ${w.pid}` }),
        el('span', { className: `state state-${w.state}`, id: 'tl-state', text: w.state })),
      src.shared ? el('p', { className: 'note share-banner', id: 'share-banner' }, el('strong', { text: 'Read-only shared timeline. ' }),
        `Link made ${fmtTime(w.share.created_at, w.share.created_at_ms)}, ${w.share.expires_at ? `works until ${fmtTime(w.share.expires_at, w.share.expires_at_ms)}` : 'does not expire'} unless revoked.`) : null,
      el('p', { className: 'muted' },
        `${src.shared ? 'Watch' : `Watch #${w.id}`}: every ${w.interval_ms} ms`,
        sampler && sampler.backing_off ? ` (backing off: every ${sampler.effective_interval_ms} ms)` : '',
        `, a full snapshot every ${w.snapshot_every_s} s`, thresholdsText(w),
        `, since ${fmtTime(w.created_at, w.created_at_ms)}; ${fmtInt(w.samples)} samples (${human(w.sample_bytes)})`,
        st.downsampled ? ', downsampled for the chart' : '', '. ',
        src.shared ? null : el('a', { href: '#/watches', text: 'All watches' })),
      w.note ? el('p', { className: 'note', id: 'tl-note', text: w.note }) : null,
      w.follow ? el('p', { className: 'note', id: 'tl-follow' }, `Follows the process named ${w.name} across restarts`,
        w.restarts.length ? `; restarts: ${w.restarts.map((x) => `${clock(x.at_ms)} pid ${x.old_pid} → ${x.pid}`).join(', ')}` : '', '.') : null,
      el('div', { className: 'actions tl-actions' }, stopBtn, shareBtn)));
  }

  // The chart: x = time, y = bytes of the chosen column, one stacked band per type.
  // Brush to zoom: the range's samples at full resolution (downsampled again past 1,000) and
  // what grew over it; null shows the whole timeline again.
  async function zoomTo(range) {
    st.zoom = range;
    st.picks = [];
    updateParams({ from: range ? String(range.from) : null, to: range ? String(range.to) : null });
    if (!range) {
      resetZoom.classList.add('hidden');
      zoomNote.textContent = '';
      clear(compare).append(el('p', { className: 'muted', text: 'Click two points of the chart to see what grew between them, or drag across it to zoom.' }));
      draw();
      return;
    }
    await loadZoom();
  }

  async function loadZoom() {
    const range = st.zoom;
    let r;
    try { r = await src.samples({ from: range.from, to: range.to, max_points: 1000, columns: COLS }); } catch (err) { toastError(err); return; }
    if (!st.alive || st.zoom !== range) return;
    st.zoomSamples = r.samples;
    resetZoom.classList.remove('hidden');
    zoomNote.textContent = ` ${clock(range.from)} – ${clock(range.to)}${r.downsampled ? ' (downsampled)' : ''}`;
    draw();
    if (r.samples.length >= 2) showGrowth({ t_ms: range.from }, { t_ms: range.to }, true);
    else clear(compare).append(el('p', { className: 'muted', id: 'tl-zoom-empty', text: 'No samples in this range: Reset zoom.' }));
  }

  function draw() {
    const d0 = performance.now();
    const samples = st.zoom ? st.zoomSamples : st.samples;
    const width = Math.max(320, chartBox.clientWidth || 800);
    clear(chartBox);
    clear(legend);
    if (samples.length === 0) {
      chartBox.append(el('p', { className: 'muted tl-empty', text: 'No samples yet: the first one comes within a tick.' }));
      return;
    }
    const types = TYPES.filter((t) => t.key !== 'free' && samples.some((s) => s.types[t.key] && s.types[t.key][st.col] > 0));
    const t0 = st.zoom ? st.zoom.from : samples[0].t_ms;
    const t1 = st.zoom ? st.zoom.to : Math.max(samples[samples.length - 1].t_ms, t0 + 1000);
    const tops = samples.map((s) => types.reduce((a, t) => a + ((s.types[t.key] || {})[st.col] || 0), 0));
    const step = niceStep(Math.max(...tops, 1) * 1.05, 4);
    const ymax = Math.ceil((Math.max(...tops, 1) * 1.05) / step) * step;
    const iw = width - PAD.l - PAD.r;
    const ih = CHART_H - PAD.t - PAD.b;
    const x = (t) => PAD.l + ((t - t0) / (t1 - t0)) * iw;
    const y = (v) => PAD.t + ih - (v / ymax) * ih;
    const root = svg('svg', { width, height: CHART_H, viewBox: `0 0 ${width} ${CHART_H}`, role: 'img', 'aria-label': `${st.col} by type over time`, class: 'tl-svg' });
    // grid and axes
    for (let v = 0; v <= ymax + 1; v += step) {
      root.append(svg('line', { x1: PAD.l, x2: width - PAD.r, y1: y(v), y2: y(v), class: 'tl-grid' }),
        svg('text', { x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tl-axis' }, human(v)));
    }
    const nx = Math.max(2, Math.min(8, Math.floor(iw / 110)));
    for (let i = 0; i <= nx; i++) {
      const t = t0 + ((t1 - t0) / nx) * i;
      root.append(svg('text', { x: x(t), y: CHART_H - 8, 'text-anchor': i === 0 ? 'start' : i === nx ? 'end' : 'middle', class: 'tl-axis' }, axisClock(t, t1 - t0)));
    }
    // bands: cumulative from the bottom in palette order; a gap (daemon restart) breaks them
    const segments = [];
    let cur = [];
    samples.forEach((s, i) => { if (s.gap_before && cur.length) { segments.push(cur); cur = []; } cur.push(i); });
    segments.push(cur);
    for (const seg of segments) {
      const base = seg.map(() => 0);
      for (const t of types) {
        const lo = base.slice();
        seg.forEach((si, k) => { base[k] += (samples[si].types[t.key] || {})[st.col] || 0; });
        let d = '';
        seg.forEach((si, k) => { d += `${k ? 'L' : 'M'}${x(samples[si].t_ms).toFixed(1)},${y(base[k]).toFixed(1)}`; });
        for (let k = seg.length - 1; k >= 0; k--) d += `L${x(samples[seg[k]].t_ms).toFixed(1)},${y(lo[k]).toFixed(1)}`;
        if (seg.length === 1) { // one sample: a thin bar so it shows
          const sx = x(samples[seg[0]].t_ms);
          d = `M${sx - 1},${y(base[0])}L${sx + 1},${y(base[0])}L${sx + 1},${y(lo[0])}L${sx - 1},${y(lo[0])}Z`;
        } else d += 'Z';
        root.append(svg('path', { d, fill: t.color, 'fill-opacity': 0.85, stroke: t.color, 'stroke-width': 0.5, class: `tl-band tl-band-${t.key}` }));
      }
    }
    for (const s of samples) {
      if (s.gap_before) {
        root.append(svg('line', { x1: x(s.t_ms), x2: x(s.t_ms), y1: PAD.t, y2: PAD.t + ih, class: 'tl-gap' }),
          svg('text', { x: x(s.t_ms) + 3, y: PAD.t + 12, class: 'tl-axis' }, 'gap'));
      }
      if (s.restart) {
        root.append(svg('line', { x1: x(s.t_ms), x2: x(s.t_ms), y1: PAD.t, y2: PAD.t + ih, class: 'tl-gap tl-restart' }),
          svg('text', { x: x(s.t_ms) + 3, y: PAD.t + 24, class: 'tl-axis' }, 'restart'));
      }
      if (s.snapshot_id) root.append(svg('circle', { cx: x(s.t_ms), cy: PAD.t + ih + 2, r: 2.2, class: 'tl-snap' }));
    }
    // picked points
    st.picks.forEach((p, i) => {
      const px = x(p.t_ms);
      root.append(svg('line', { x1: px, x2: px, y1: PAD.t, y2: PAD.t + ih, class: 'tl-pick' }),
        svg('text', { x: px > width - PAD.r - 20 ? px - 4 : px + 4, y: PAD.t + 24 + i * 14, 'text-anchor': px > width - PAD.r - 20 ? 'end' : 'start', class: 'tl-pick-label' }, i === 0 ? 'A' : 'B'));
    });
    const hover = svg('line', { x1: 0, x2: 0, y1: PAD.t, y2: PAD.t + ih, class: 'tl-hover', visibility: 'hidden' });
    const hit = svg('rect', { x: PAD.l, y: PAD.t, width: iw, height: ih, fill: 'transparent', class: 'tl-hit' });
    root.append(hover, hit);
    const nearest = (ev) => {
      const r = root.getBoundingClientRect();
      const t = t0 + ((ev.clientX - r.left - PAD.l) / iw) * (t1 - t0);
      let best = 0;
      for (let i = 1; i < samples.length; i++) if (Math.abs(samples[i].t_ms - t) < Math.abs(samples[best].t_ms - t)) best = i;
      return samples[best];
    };
    hit.addEventListener('mousemove', (ev) => {
      const s = nearest(ev);
      hover.setAttribute('x1', x(s.t_ms));
      hover.setAttribute('x2', x(s.t_ms));
      hover.setAttribute('visibility', 'visible');
      const top = types.map((t) => [t, (s.types[t.key] || {})[st.col] || 0]).sort((a, b) => b[1] - a[1])[0];
      readout.textContent = `${clock(s.t_ms)} · total ${human(s.total[st.col])}${top ? ` · largest: ${top[0].name} ${human(top[1])}` : ''}`;
    });
    hit.addEventListener('mouseleave', () => { hover.setAttribute('visibility', 'hidden'); readout.textContent = ''; });
    // press, drag and release: zoom to that range; press and release in place: pick the point
    const brush = svg('rect', { x: 0, y: PAD.t, width: 0, height: ih, class: 'tl-brush', visibility: 'hidden', 'pointer-events': 'none' });
    root.insertBefore(brush, hit);
    const xOf = (ev) => Math.max(PAD.l, Math.min(PAD.l + iw, ev.clientX - root.getBoundingClientRect().left));
    const tOf = (px) => t0 + ((px - PAD.l) / iw) * (t1 - t0);
    let down = null;
    hit.addEventListener('mousedown', (ev) => { if (ev.button === 0) { down = xOf(ev); ev.preventDefault(); } });
    hit.addEventListener('mousemove', (ev) => {
      if (down == null) return;
      const px = xOf(ev);
      brush.setAttribute('x', Math.min(down, px));
      brush.setAttribute('width', Math.abs(px - down));
      brush.setAttribute('visibility', 'visible');
    });
    const release = (ev) => {
      if (down == null) return;
      const px = xOf(ev);
      const from = down;
      down = null;
      brush.setAttribute('visibility', 'hidden');
      if (Math.abs(px - from) < 5) { if (ev.type === 'mouseup' && ev.currentTarget === hit) pick(nearest(ev)); return; }
      const a = Math.round(tOf(Math.min(from, px)));
      const b = Math.round(tOf(Math.max(from, px)));
      if (b - a >= 2) zoomTo({ from: a, to: b });
    };
    hit.addEventListener('mouseup', release);
    hit.addEventListener('mouseleave', (ev) => { if (down != null) release(ev); });
    chartBox.append(root);
    legend.append(...types.slice().reverse().map((t) => {
      const last = samples[samples.length - 1].types[t.key] || {};
      const first = samples[0].types[t.key] || {};
      const d = (last[st.col] || 0) - (first[st.col] || 0);
      return el('span', { className: 'tl-key' }, swatch(t.color),
        `${t.name} ${human(last[st.col] || 0)}`, d ? el('span', { className: d > 0 ? 'up' : 'down', text: ` ${fmtDelta(d)}` }) : null);
    }));
    // what drawing the chart cost (docs/benchmarks.md, "Timeline": bench/timeline_draw.mjs)
    document.body.dataset.drawMs = (performance.now() - d0).toFixed(1);
    document.body.dataset.points = String(samples.length);
  }

  function pick(s) {
    if (st.picks.length >= 2) st.picks = [];
    st.picks.push(s);
    st.picks.sort((a, b) => a.t_ms - b.t_ms);
    draw();
    if (st.picks.length === 2) showGrowth(st.picks[0], st.picks[1]);
    else {
      // the nearest full snapshot among the loaded samples, to open that point
      let near = null;
      for (const x of (st.zoom ? st.zoomSamples : st.samples)) if (x.snapshot_id && (!near || Math.abs(x.t_ms - s.t_ms) < Math.abs(near.t_ms - s.t_ms))) near = x;
      clear(compare).append(el('p', { className: 'muted', id: 'tl-point' }, `A: ${clock(s.t_ms)}. Click a second point to compare`,
        near && !src.shared ? [', or open ', el('a', { href: `#/snapshot/${near.snapshot_id}`, id: 'tl-open-point', text: `the nearest full snapshot: #${near.snapshot_id} at ${clock(near.t_ms)}` })] : '',
        near && src.shared ? [', or download ', el('a', { href: src.snapshotUrl(near.snapshot_id), download: `snapshot-${clock(near.t_ms).replace(/:/g, '')}.json`, id: 'tl-download-point', text: `the nearest full snapshot (${clock(near.t_ms)}, JSON)` })] : '', '.'));
    }
  }

  async function showGrowth(a, b, range) {
    const seq = ++st.growthSeq;
    clear(compare).append(loading('Comparing…'));
    let g;
    try { g = await src.growth({ from: a.t_ms, to: b.t_ms }); } catch (err) {
      if (seq === st.growthSeq) clear(compare).append(errorPanel(err));
      return;
    }
    if (!st.alive || seq !== st.growthSeq) return;
    const col = st.col;
    const typeRows = g.types.filter((t) => t.delta[col] !== 0 || t.delta.committed !== 0).slice(0, 6).map((t) => el('tr', null,
      el('td', null, swatch((TYPES.find((x) => x.key === t.type) || {}).color), typeName(t.type)),
      el('td', { className: 'num', text: fmtDelta(t.delta.committed) || '0' }),
      el('td', { className: 'num', text: fmtDelta(t.delta.private) || '0' }),
      el('td', { className: 'num', text: fmtDelta(t.delta.total_ws) || '0' }),
      el('td', { className: 'num', text: t.per_minute.committed ? `${fmtDelta(t.per_minute.committed)}/min` : '' }),
      el('td', { className: `tl-shape${t.leak_like ? ' leak' : ''}`, dataset: { kind: t.growth ? t.growth.kind : 'none' }, title: SHAPE_TITLE[t.growth ? t.growth.kind : 'none'], text: SHAPE[t.growth ? t.growth.kind : 'none'] })));
    const allocRows = g.allocations.map((al) => el('tr', null,
      el('td', { className: 'mono' }, g.snapshots && !src.shared ? el('a', { href: `#/snapshot/${g.snapshots.to.id}?sel=${al.start}`, text: al.start }) : al.start),
      el('td', { text: typeName(al.type) }),
      el('td', { className: 'num', text: fmtDelta(al.delta.committed) }),
      el('td', { className: 'muted', text: `${al.details || ''}${al.changes.length ? ' (' + al.changes.join(', ') + ')' : ''}` })));
    const sn = g.snapshots;
    clear(compare).append(
      el('h2', { id: 'tl-growth-title', text: `What grew ${range ? 'in the zoomed range, ' : ''}from ${clock(g.from_ms)} to ${clock(g.to_ms)}` }),
      el('table', { className: 'grid tl-types', id: 'tl-growth-types' },
        el('thead', null, el('tr', null, ['Type', 'Committed', 'Private', 'Working Set', 'Rate', 'Shape'].map((h) => el('th', { text: h })))),
        el('tbody', null, typeRows)),
      sn ? el('div', { className: 'tl-snaps' },
        el('p', { className: 'note', id: 'tl-nearest' }, `A: ${sn.from.note}; B: ${sn.to.note}. `,
          src.shared ? el('a', { href: sn.diff_url, download: 'diff.json', id: 'tl-download-diff', text: 'Download their diff (JSON)' })
            : el('button', { type: 'button', className: 'primary', id: 'btn-open-diff', onclick: () => navigate(['diff', String(sn.from.id), String(sn.to.id)], {}) }, 'Open the diff')),
        allocRows.length ? el('table', { className: 'grid tl-allocs', id: 'tl-growth-allocs' },
          el('thead', null, el('tr', null, ['Allocation', 'Type', 'Committed', 'Details'].map((h) => el('th', { text: h })))),
          el('tbody', null, allocRows)) : el('p', { className: 'muted', text: 'No allocation grew between those two full snapshots.' }))
        : el('p', { className: 'note', text: g.allocations_note }));
  }

  load();
  return () => {
    st.alive = false;
    clearTimeout(st.timer);
    if (st.abort) st.abort.abort(); // frees the daemon's waiting slot at once
    delete document.body.dataset.live;
    ro.disconnect();
    delete document.body.dataset.ready;
    delete document.body.dataset.samples;
  };
}
