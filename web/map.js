// The address-space map: VMMap's fragmentation view. The user address space from mmap_min_addr to
// the top, left to right and wrapping like text, coloured by type.
//
// Scale (stated under the picture): used memory and small gaps are drawn to one linear scale
// (the caption says how many bytes one pixel is; every region is at least 1 px). Free gaps larger
// than GAP_LINEAR_PX pixels' worth are compressed: drawn hatched, GAP_LINEAR_PX wide plus
// GAP_PX_PER_DOUBLING per doubling beyond that, labelled with their true size. PROT_NONE
// reservations that large are compressed the same way. The largest free block gets an outline
// and a label. Drag across the map to zoom into a range; click to select; hover to name.
//
// Many tiny regions (a 60k-VMA process): when more than AGG_MAX regions are in view, runs of
// neighbouring regions that together span less than a threshold (the smallest power of two that
// brings the count under AGG_MAX) are drawn as one striped aggregate block, coloured by the type
// with most bytes, and the caption says so; hovering names what it holds, clicking zooms into it.
// Blocks wide enough carry the name of what they hold; gap labels shorten to fit their block.
//
// A second layout, 'hilbert' (hilbert.js), folds the whole address space (or the zoomed range)
// onto a square along a Hilbert curve, for sparse spaces (V8 scatters pages over 128 TiB).
import { el, clear, human, fmtAddr } from './format.js';
import { HilbertLayout, wholeSpace, shortName } from './hilbert.js';
import { TYPES, TYPE_BY_KEY } from './palette.js';
import { KIND_ALLOC, KIND_REGION, KIND_GAP } from './model.js';

// Rows, in px: the gutter for the row address labels, a bar's height, from one row to the next;
// the scale is chosen to fill about TARGET_ROWS rows.
const GUTTER = 118, BAR_H = 20, ROW_PITCH = 28, TARGET_ROWS = 8;
// Segment widths, in px: a compressed gap (see above) is GAP_LINEAR_PX plus GAP_PX_PER_DOUBLING
// per doubling, at most GAP_MAX_PX; the largest free block at least LARGEST_MIN_PX (to carry its
// label); what lies outside the user address space OUTSIDE_PX; a region at least MIN_PX.
const GAP_LINEAR_PX = 28, GAP_PX_PER_DOUBLING = 4, GAP_MAX_PX = 170;
const LARGEST_MIN_PX = 180, OUTSIDE_PX = 36, MIN_PX = 1;

// What a segment of the map is.
const SEG_REGION = 0, SEG_GAP = 1, SEG_OUTSIDE = 2, SEG_AGG = 3;
// At most this many regions are drawn one by one; beyond it tiny neighbours are aggregated.
const AGG_MAX = 3000;
// More compressed gaps than this in the strip: the caption suggests the Hilbert layout.
const SPARSE_GAPS = 40;
const FREE_INDEX = TYPE_BY_KEY.free.index;

function log2(x) { return Math.log(x) / Math.LN2; }

// Text colour readable on the background colour bg ('#rrggbb'): dark on light colours (Private
// Data's yellow), white on dark ones.
function inkOn(bg, dim) {
  const v = parseInt(bg.slice(1), 16);
  const lum = (0.299 * (v >> 16) + 0.587 * ((v >> 8) & 255) + 0.114 * (v & 255)) / 255;
  if (lum > 0.6) return dim ? 'rgba(29,35,48,0.4)' : '#1d2330';
  return dim ? 'rgba(255,255,255,0.4)' : '#fff';
}

// Regions r0..r1-1 grouped for the strip: groups of neighbours that together span at most t
// bytes (a region of t or more stays alone). Returns [first, count] pairs.
function groupRegions(rs, re, r0, r1, t) {
  const groups = [];
  let i = r0;
  while (i < r1) {
    let j = i + 1;
    while (j < r1 && re[j] - rs[i] <= t) j++;
    if (j - i === 1 || re[j - 1] - rs[i] > t) j = i + 1;
    groups.push(i, j - i);
    i = j;
  }
  return groups;
}

// Binary search: the last index i in [0, n) for which holds(i) is true, or -1 when there is none.
// holds must be true for a prefix of the indexes and false after it (as for sorted segments).
function lastIndex(n, holds) {
  let lo = 0;
  let hi = n - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (holds(mid)) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}

export class AddressMap {
  // opts: {onSelect(sel), onZoom(range|null)}
  constructor(model, opts) {
    this.m = model;
    this.opts = opts;
    this.sel = null;
    this.hover = -1;
    this.typeFilter = null;
    this.zoom = null; // [startBigInt, endBigInt)
    this.drag = null;
    this.mode = opts.layout === 'hilbert' ? 'hilbert' : 'strip';
    this.hil = null;

    this.caption = el('p', { className: 'map-caption' });
    this.zoomBar = el('div', { className: 'map-zoom' });
    this.canvas = el('canvas', { className: 'map-canvas', tabIndex: 0, role: 'img', 'aria-label': 'Address-space map coloured by memory type. Left and right arrows step through the blocks, Enter zooms to the selected allocation, Escape shows the whole address space.' });
    this.tip = el('div', { className: 'map-tip hidden', role: 'tooltip' });
    this.scroller = el('div', { className: 'map-scroll' }, this.canvas, this.tip);
    this.el = el('section', { className: 'map', 'aria-label': 'Address-space map' }, this.zoomBar, this.scroller, this.caption);

    this.hatch = null;
    this.canvas.addEventListener('mousemove', (ev) => this.onMove(ev));
    this.canvas.addEventListener('mouseleave', () => { this.hover = -1; this.tip.classList.add('hidden'); this.draw(); });
    this.canvas.addEventListener('mousedown', (ev) => this.onDown(ev));
    window.addEventListener('mouseup', this.onUpBound = (ev) => this.onUp(ev));
    this.canvas.addEventListener('dblclick', (ev) => this.onDbl(ev));
    this.canvas.addEventListener('keydown', (ev) => this.onKey(ev));
    this.lastW = 0;
    this.attached = false;
  }

  // Call once the element is in the document (the layout needs its width).
  attach() {
    this.attached = true;
    this.lastW = this.scroller.clientWidth;
    this.buildSegments();
    if (typeof ResizeObserver !== 'undefined') {
      this.ro = new ResizeObserver(() => {
        const w = this.scroller.clientWidth;
        if (w && w !== this.lastW) { this.lastW = w; this.layout(); this.draw(); }
      });
      this.ro.observe(this.scroller);
    }
  }

  destroy() {
    if (this.ro) this.ro.disconnect();
    window.removeEventListener('mouseup', this.onUpBound);
  }

  // ---- segments: regions, gaps between them, and the space outside user space ----

  buildSegments() {
    const m = this.m;
    const lo = this.zoom ? this.zoom[0] : m.minAddr;
    const hi = this.zoom ? this.zoom[1] : m.userTop;
    const kind = [];
    const ref = [];
    const start = [];
    const size = [];
    const type = [];
    const push = (k, r, s, n, t) => { kind.push(k); ref.push(r); start.push(s); size.push(n); type.push(t); };
    const gapIndexAt = (s) => { const x = m.lookup(s); return x && x.kind === KIND_GAP ? x.g : -1; };
    const top = m.userTop;
    const pushGap = (from, to) => {
      if (to <= from) return;
      if (from < top && to > top) { pushGap(from, top); pushGap(top, to); return; }
      if (from >= top) push(SEG_OUTSIDE, -1, from, Number(to - from), FREE_INDEX);
      else push(SEG_GAP, gapIndexAt(from), from, Number(to - from), FREE_INDEX);
    };
    let prev = lo;
    // the regions in view, r0..r1-1, and their bounds as Numbers (for grouping only)
    let r0 = 0;
    while (r0 < m.regions.length && m.rStart[r0] + BigInt(m.regions[r0].size) <= lo) r0++;
    let r1 = r0;
    while (r1 < m.regions.length && (!this.zoom || m.rStart[r1] < hi)) r1++;
    const aggN = [];
    this.agg = null;
    let groups = null;
    if (r1 - r0 > AGG_MAX) {
      const rs = new Float64Array(r1);
      const re = new Float64Array(r1);
      for (let r = r0; r < r1; r++) { rs[r] = Number(m.rStart[r]); re[r] = rs[r] + m.regions[r].size; }
      let t = 4096;
      groups = groupRegions(rs, re, r0, r1, t);
      while (groups.length / 2 > AGG_MAX && t < 2 ** 50) groups = groupRegions(rs, re, r0, r1, (t *= 2));
      this.agg = { threshold: t, regions: 0, blocks: 0 };
    }
    const n = groups ? groups.length / 2 : r1 - r0;
    for (let g = 0; g < n; g++) {
      const r = groups ? groups[2 * g] : r0 + g;
      const cnt = groups ? groups[2 * g + 1] : 1;
      const last = r + cnt - 1;
      let s = m.rStart[r];
      let e = m.rStart[last] + BigInt(m.regions[last].size);
      if (s < lo) s = lo;
      if (this.zoom && e > hi) e = hi;
      pushGap(prev, s);
      if (cnt === 1) {
        push(SEG_REGION, r, s, Number(e - s), m.aType[m.rAlloc[r]]);
      } else {
        // the type with most bytes among the grouped regions
        const by = new Float64Array(TYPES.length);
        for (let k = r; k <= last; k++) by[m.aType[m.rAlloc[k]]] += m.regions[k].size;
        let t = 0;
        for (let k = 1; k < by.length; k++) if (by[k] > by[t]) t = k;
        push(SEG_AGG, r, s, Number(e - s), t);
        aggN[kind.length - 1] = cnt;
        this.agg.regions += cnt;
        this.agg.blocks++;
      }
      prev = e;
    }
    if (hi > prev) pushGap(prev, hi);
    this.segKind = Uint8Array.from(kind);
    this.segRef = Int32Array.from(ref);
    this.segStart = start;
    this.segSize = Float64Array.from(size);
    this.segType = Uint8Array.from(type);
    // PROT_NONE regions: compressed like gaps when large
    const resv = new Uint8Array(kind.length);
    for (let i = 0; i < kind.length; i++) {
      if (kind[i] === SEG_REGION) { const p = m.regions[ref[i]].perms; resv[i] = p && p.startsWith('---') ? 1 : 0; }
    }
    this.segResv = resv;
    this.segAggN = aggN; // segment -> how many regions an aggregate block holds
    this.rangeLo = lo;
    this.rangeHi = hi > prev ? hi : prev;
    this.layout();
  }

  compressed(i, s) {
    const k = this.segKind[i];
    if (k === SEG_OUTSIDE) return true;
    if (k === SEG_GAP) return this.segSize[i] > GAP_LINEAR_PX * s;
    return this.segResv[i] === 1 && this.segSize[i] > GAP_LINEAR_PX * s;
  }

  widthOf(i, s) {
    const n = this.segSize[i];
    const k = this.segKind[i];
    if (k === SEG_OUTSIDE) return OUTSIDE_PX;
    let w;
    if (this.compressed(i, s)) w = Math.min(GAP_MAX_PX, GAP_LINEAR_PX + GAP_PX_PER_DOUBLING * log2(n / (GAP_LINEAR_PX * s)));
    else w = n / s;
    if (k === SEG_GAP && this.segRef[i] === this.m.largestGap && this.m.largestGap >= 0 && !this.zoom) w = Math.max(w, LARGEST_MIN_PX);
    if (k === SEG_REGION || k === SEG_AGG) w = Math.max(w, MIN_PX);
    return w;
  }

  totalLength(s) {
    // Same as summing widthOf(i, s), written out for speed (it runs ~40 times per layout).
    const n = this.segKind.length;
    const kind = this.segKind;
    const size = this.segSize;
    const resv = this.segResv;
    const lim = GAP_LINEAR_PX * s;
    const largest = this.zoom ? -2 : this.m.largestGap;
    let t = 0;
    for (let i = 0; i < n; i++) {
      const k = kind[i];
      const sz = size[i];
      if (k === SEG_OUTSIDE) { t += OUTSIDE_PX; continue; }
      let w;
      if ((k === SEG_GAP || resv[i] === 1) && sz > lim) w = Math.min(GAP_MAX_PX, GAP_LINEAR_PX + GAP_PX_PER_DOUBLING * Math.log2(sz / lim));
      else w = sz / s;
      if (k === SEG_REGION || k === SEG_AGG) { if (w < MIN_PX) w = MIN_PX; } else if (k === SEG_GAP && largest >= 0 && this.segRef[i] === largest && w < LARGEST_MIN_PX) w = LARGEST_MIN_PX;
      t += w;
    }
    return t;
  }

  layout() {
    const cssW = Math.max(320, this.scroller.clientWidth || 1000);
    this.cssW = cssW;
    this.W = Math.max(100, cssW - GUTTER - 10);
    const n = this.segKind.length;
    // Find the scale (bytes per pixel) that fills about TARGET_ROWS rows: bisection, since the
    // total length only shrinks as the scale grows.
    let used = 0;
    for (let i = 0; i < n; i++) if (this.segKind[i] === SEG_REGION || this.segKind[i] === SEG_AGG) used += this.segSize[i];
    let lo = 1 / 64;
    let hi = Math.max(4096, used * 4, Number(this.rangeHi - this.rangeLo) / 4);
    // With many tiny regions the 1 px minimum alone can exceed the target: then aim a quarter
    // above that floor, so that the scale stays fine enough for gaps to be compressed.
    // A few blocks (a zoom into one allocation) need fewer rows than a whole address space.
    const rowsWanted = Math.min(TARGET_ROWS, Math.max(2, Math.ceil(n / 2)));
    const target = Math.max(this.W * rowsWanted, this.totalLength(hi) * 1.25);
    for (let it = 0; it < 48; it++) {
      const mid = Math.sqrt(lo * hi);
      if (this.totalLength(mid) > target) lo = mid; else hi = mid;
      if (hi / lo < 1.01) break;
    }
    const s = hi;
    this.scale = s;
    const x0 = new Float64Array(n + 1);
    const w = new Float64Array(n);
    let x = 0;
    for (let i = 0; i < n; i++) {
      x0[i] = Math.round(x);
      w[i] = this.widthOf(i, s);
      x += w[i];
    }
    x0[n] = Math.round(x);
    this.x0 = x0;
    this.w = w;
    // compressed free gaps: many of them (V8's scattered pages) make the strip rows of gap labels
    let comp = 0;
    for (let i = 0; i < n; i++) if (this.segKind[i] === SEG_GAP && this.compressed(i, s)) comp++;
    this.compressedGaps = comp;
    this.length = x0[n];
    this.rows = Math.max(1, Math.ceil(this.length / this.W));
    this.hil = this.mode === 'hilbert' ? new HilbertLayout(this.m, this.zoom ? this.rangeLo : 0n, this.zoom ? this.rangeHi : wholeSpace(this.m.userTop), cssW) : null;
    this.scroller.classList.toggle('hilbert', !!this.hil);
    this.renderSquares();
    this.caption.textContent = '';
    this.updateCaption();
  }

  updateCaption() {
    const m = this.m;
    clear(this.caption);
    const swatch = el('span', { className: 'swatch hatch' });
    if (this.agg) {
      this.caption.append(el('strong', { className: 'map-agg' }, `${this.agg.regions} regions are drawn as ${this.agg.blocks} aggregate blocks (striped): neighbours that together span under ${human(this.agg.threshold)}. Hover one for what it holds, click it to zoom in. `));
    }
    if (!this.hil && this.compressedGaps > SPARSE_GAPS) {
      this.caption.append(el('strong', { className: 'map-agg' }, `A sparse address space: ${this.compressedGaps} free gaps are drawn compressed. `),
        el('button', { type: 'button', className: 'link', id: 'map-try-hilbert', onclick: () => this.setLayout('hilbert'), text: 'Show it whole in the Hilbert layout' }), '. ');
    }
    if (this.hil) {
      this.caption.append(this.hil.caption(), this.overlay ? ' Colour by residency paints the strip layout only.' : '', ' Keyboard: ← → step through the blocks, Enter zooms, Escape zooms out.');
    } else this.caption.append(
      'Scale: used memory and small gaps to scale, 1 px = ', el('strong', null, human(Math.max(1, Math.round(this.scale)))),
      ' (every region at least 1 px wide). ', swatch,
      ` Free gaps over ${human(GAP_LINEAR_PX * this.scale)} are compressed: hatched, ${GAP_LINEAR_PX} px plus ${GAP_PX_PER_DOUBLING} px per doubling, labelled with their true size; so are PROT_NONE reservations. `,
      'Drag across the map to zoom into a range; double-click a block to zoom to it. Keyboard: ← → step through the blocks, Enter zooms, Escape zooms out.');
    clear(this.zoomBar);
    const whole = this.hil && !this.zoom;
    const lo = whole ? this.hil.lo : this.rangeLo;
    const hi = whole ? this.hil.hi : this.zoom ? this.rangeHi : (this.rangeHi < m.userTop ? this.rangeHi : m.userTop);
    const above = !this.zoom && !whole && this.rangeHi > m.userTop;
    const range = `${fmtAddr(lo, m.addrWidth)} – ${fmtAddr(hi, m.addrWidth)}`;
    const parts = [
      el('span', { className: 'map-range' }, this.zoom ? 'Zoomed to ' : whole ? 'Whole address space ' : 'Whole user address space ', el('span', { className: 'mono' }, range),
        ` (${human(Number(hi - lo))})`, above ? ', then the kernel-provided pages above it' : ''),
    ];
    const layoutBtn = (mode, text, title) => el('button', { type: 'button', className: `small${this.mode === mode ? ' on' : ''}`, id: `map-layout-${mode}`, 'aria-pressed': this.mode === mode ? 'true' : 'false', title, onclick: () => this.setLayout(mode), text });
    parts.unshift(el('span', { className: 'segmented map-layouts', role: 'group', 'aria-label': 'Map layout' },
      layoutBtn('strip', 'Strip', 'Addresses left to right, wrapping like text; large free gaps compressed'),
      layoutBtn('hilbert', 'Hilbert', 'The whole 47-bit space folded onto a square along a Hilbert curve: for sparse address spaces')));
    if (this.zoom) parts.push(el('button', { type: 'button', className: 'small', id: 'map-unzoom', onclick: () => this.opts.onZoom(null), text: 'Show whole address space' }));
    // always there (disabled without a selection): a button appearing on the first click once
    // made the bar taller and moved the map under the pointer (issue 12, item 9)
    const canZoom = !!(this.sel && this.sel.kind !== KIND_GAP);
    parts.push(el('button', { type: 'button', className: 'small', id: 'map-zoom-sel', disabled: !canZoom, title: canZoom ? '' : 'Select an allocation first', onclick: () => this.zoomToSelection(), text: 'Zoom to selected allocation' }));
    if (m.largestGap >= 0) {
      parts.push(el('span', { className: 'map-largest' }, el('span', { className: 'swatch largest' }),
        ` Largest free block: ${human(m.gaps[m.largestGap].size)}`));
    }
    this.zoomBar.append(...parts);
  }

  // ---- state ----

  setSelection(sel) {
    const had = !!(this.sel && this.sel.kind !== KIND_GAP);
    this.sel = sel;
    if (had !== !!(sel && sel.kind !== KIND_GAP)) this.updateCaption();
    this.draw();
    this.scrollToSelection();
  }

  setTypeFilter(key) {
    const t = key ? TYPE_BY_KEY[key].index : null;
    if (t === this.typeFilter) return;
    this.typeFilter = t;
    this.draw();
  }

  // 'strip' or 'hilbert'; tells opts.onLayout (for the deep link).
  setLayout(mode) {
    const next = mode === 'hilbert' ? 'hilbert' : 'strip';
    if (next === this.mode) return;
    this.mode = next;
    this.tip.classList.add('hidden');
    if (this.opts.onLayout) this.opts.onLayout(next);
    if (!this.attached) return;
    this.hover = -1;
    this.layout();
    this.draw();
  }

  setZoom(range) {
    this.zoom = range;
    this.hover = -1;
    this.tip.classList.add('hidden'); // it described a block of the previous picture
    if (!this.attached) return;
    this.buildSegments();
    this.draw();
  }

  zoomToSelection() {
    const s = this.sel;
    if (!s || s.kind === KIND_GAP) return;
    const m = this.m;
    const a = s.a;
    const lo = m.aStart[a];
    const hi = m.aEnd[a];
    // some context either side: a quarter of the allocation, at least 64 KiB
    let pad = (hi - lo) / 4n;
    if (pad < 0x10000n) pad = 0x10000n;
    this.opts.onZoom([lo > pad ? lo - pad : 0n, hi + pad]);
  }

  // ---- geometry ----

  segAt(pos) {
    return lastIndex(this.segKind.length, (i) => this.x0[i] <= pos);
  }

  posFromEvent(ev, clampToBar = false) {
    const r = this.canvas.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    const row = Math.floor((y - 4) / ROW_PITCH);
    const inBar = (y - 4) - row * ROW_PITCH <= BAR_H;
    if (row < 0 || row >= this.rows) return null;
    if (!clampToBar && (!inBar || x < GUTTER || x > GUTTER + this.W)) return null;
    const px = Math.min(this.W, Math.max(0, x - GUTTER));
    return Math.min(this.length - 1, row * this.W + px);
  }

  addrAtPos(pos) {
    const i = this.segAt(pos);
    if (i < 0) return this.rangeLo;
    const frac = this.w[i] > 0 ? Math.min(1, Math.max(0, (pos - this.x0[i]) / (this.x0[i + 1] - this.x0[i] || 1))) : 0;
    return this.segStart[i] + BigInt(Math.floor(this.segSize[i] * frac));
  }

  selFromSeg(i) {
    const k = this.segKind[i];
    if (k === SEG_REGION) {
      const r = this.segRef[i];
      return { kind: KIND_REGION, r, a: this.m.rAlloc[r] };
    }
    if (k === SEG_GAP && this.segRef[i] >= 0) return { kind: KIND_GAP, g: this.segRef[i] };
    return null;
  }

  // ---- events ----

  // The Hilbert cell under the pointer, or -1.
  hilCell(ev) {
    const r = this.canvas.getBoundingClientRect();
    return this.hil.cellAt(ev.clientX - r.left, ev.clientY - r.top);
  }

  onMove(ev) {
    if (this.hil) {
      const d = this.hilCell(ev);
      if (d !== this.hover) { this.hover = d; this.draw(); }
      if (d < 0) this.tip.classList.add('hidden'); else this.placeTip(this.hil.describe(d), ev);
      return;
    }
    if (this.drag) {
      const p = this.posFromEvent(ev, true);
      if (p != null) { this.drag.to = p; this.draw(); }
      return;
    }
    const p = this.posFromEvent(ev);
    const i = p == null ? -1 : this.segAt(p);
    if (i !== this.hover) {
      this.hover = i;
      this.draw();
    }
    if (i < 0) { this.tip.classList.add('hidden'); return; }
    this.showTip(i, ev);
  }

  showTip(i, ev) {
    const m = this.m;
    const k = this.segKind[i];
    const lines = [];
    const start = this.segStart[i];
    const end = start + BigInt(this.segSize[i]);
    const range = `${fmtAddr(start, m.addrWidth)} – ${fmtAddr(end, m.addrWidth)}`;
    if (k === SEG_REGION) {
      const r = m.regions[this.segRef[i]];
      const a = m.rAlloc[this.segRef[i]];
      const al = m.allocs[a];
      lines.push([`${TYPES[m.aType[a]].name}${r.role ? ' · ' + r.role : ''} · ${r.perms} · ${human(r.size)}`, 'tip-title']);
      lines.push([range, 'mono']);
      const name = r.path ? r.path + (r.deleted ? ' (deleted)' : '') : al.details;
      if (name) lines.push([name, 'tip-path']);
      if (this.compressed(i, this.scale)) lines.push(['drawn compressed (reservation)', 'muted']);
    } else if (k === SEG_AGG) {
      const by = new Map();
      const first = this.segRef[i];
      const cnt = this.segAggN[i];
      for (let r = first; r < first + cnt; r++) {
        const t = m.aType[m.rAlloc[r]];
        const v = by.get(t) || [0, 0];
        v[0]++; v[1] += m.regions[r].size;
        by.set(t, v);
      }
      const allocs = m.rAlloc[first + cnt - 1] - m.rAlloc[first] + 1;
      lines.push([`${cnt} regions of ${allocs} allocation${allocs === 1 ? '' : 's'}, aggregated`, 'tip-title']);
      lines.push([range, 'mono']);
      lines.push([[...by].sort((x, y) => y[1][1] - x[1][1]).map(([t, [c, b]]) => `${TYPES[t].name}: ${c} (${human(b)})`).join(' · '), '']);
      lines.push(['each too small to draw alone at this scale; click to zoom in', 'muted']);
    } else if (k === SEG_GAP) {
      const g = this.segRef[i];
      const largest = g === m.largestGap && m.largestGap >= 0;
      const full = g >= 0 ? m.gaps[g].size : this.segSize[i];
      const part = full > this.segSize[i] ? ` shown of ${human(full)}` : '';
      lines.push([`Free · ${human(this.segSize[i])}${part}${largest ? ' · largest free block' : ''}`, 'tip-title']);
      lines.push([range, 'mono']);
      if (this.compressed(i, this.scale)) lines.push(['drawn compressed: not to scale', 'muted']);
    } else {
      lines.push(['Outside the user address space', 'tip-title']);
      lines.push([range, 'mono']);
    }
    this.placeTip(lines, ev);
  }

  // Show the tooltip lines ([text, className]) beside the pointer.
  placeTip(lines, ev) {
    clear(this.tip);
    for (const [t, c] of lines) this.tip.appendChild(el('div', { className: c, text: t }));
    this.tip.classList.remove('hidden');
    // position: fixed, so the tooltip is never clipped by the map's scroll box
    const tw = this.tip.offsetWidth;
    const th = this.tip.offsetHeight;
    let x = ev.clientX + 14;
    let y = ev.clientY + 16;
    if (x + tw > window.innerWidth - 6) x = Math.max(6, ev.clientX - tw - 12);
    if (y + th > window.innerHeight - 6) y = Math.max(6, ev.clientY - th - 12);
    this.tip.style.left = `${x}px`;
    this.tip.style.top = `${y}px`;
  }

  onDown(ev) {
    if (ev.button !== 0) return;
    if (this.hil) {
      this.drag = { hil: true, x: ev.clientX, y: ev.clientY };
      ev.preventDefault();
      return;
    }
    const p = this.posFromEvent(ev, true);
    if (p == null) return;
    this.drag = { from: p, to: p, x: ev.clientX, y: ev.clientY };
    ev.preventDefault();
  }

  onUp(ev) {
    const d = this.drag;
    if (!d) return;
    this.drag = null;
    const moved = Math.abs(ev.clientX - d.x) + Math.abs(ev.clientY - d.y) > 6;
    if (d.hil) {
      const c = moved || !this.hil ? -1 : this.hilCell(ev);
      if (c < 0) return;
      const a = this.hil.top[c];
      const hit = a >= 0 ? { kind: KIND_ALLOC, a } : this.m.lookup(this.hil.cellStart(c));
      if (hit && (hit.kind === KIND_ALLOC || hit.kind === KIND_GAP)) this.opts.onSelect(hit);
      return;
    }
    if (moved) {
      const a = Math.min(d.from, d.to);
      const b = Math.max(d.from, d.to);
      const lo = this.addrAtPos(a);
      const hi = this.addrAtPos(b);
      if (hi > lo) this.opts.onZoom([lo, hi]);
      else this.draw();
      return;
    }
    this.draw();
    const p = this.posFromEvent(ev);
    const i = p == null ? -1 : this.segAt(p);
    if (i < 0) return;
    if (this.segKind[i] === SEG_AGG) { this.zoomToSeg(i); return; }
    const sel = this.selFromSeg(i);
    if (sel) this.opts.onSelect(sel);
  }

  // Zoom to segment i's range, with an eighth of it either side.
  zoomToSeg(i) {
    const lo = this.segStart[i];
    const hi = lo + BigInt(this.segSize[i]);
    const pad = (hi - lo) / 8n;
    this.opts.onZoom([lo > pad ? lo - pad : 0n, hi + pad]);
  }

  // Keyboard: ←/→ select the previous/next block (region or free gap), Enter zooms to the
  // selected allocation, Escape (or -) shows the whole address space again.
  onKey(ev) {
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
      ev.preventDefault();
      const n = this.segKind.length;
      const dir = ev.key === 'ArrowRight' ? 1 : -1;
      let i = this.selSegment();
      if (i < 0) i = dir > 0 ? -1 : n;
      for (let j = i + dir; j >= 0 && j < n; j += dir) {
        const sel = this.selFromSeg(j);
        if (sel) { this.opts.onSelect(sel); return; }
      }
    } else if (ev.key === 'Enter' && this.sel && this.sel.kind !== KIND_GAP) {
      ev.preventDefault();
      this.zoomToSelection();
    } else if ((ev.key === 'Escape' || ev.key === '-') && this.zoom) {
      ev.preventDefault();
      this.opts.onZoom(null);
    }
  }

  // Index of the segment where the selection starts, or -1.
  selSegment() {
    const s = this.sel;
    if (!s) return -1;
    const m = this.m;
    const addr = s.kind === KIND_GAP ? m.gStart[s.g] : s.kind === KIND_REGION ? m.rStart[s.r] : m.aStart[s.a];
    return lastIndex(this.segKind.length, (i) => this.segStart[i] <= addr);
  }

  onDbl(ev) {
    if (this.hil) {
      const c = this.hilCell(ev);
      if (c >= 0) this.opts.onZoom(this.hil.sixteenthOf(c));
      return;
    }
    const p = this.posFromEvent(ev);
    const i = p == null ? -1 : this.segAt(p);
    if (i < 0) return;
    const sel = this.selFromSeg(i);
    if (sel && sel.kind !== KIND_GAP) {
      this.sel = sel;
      this.zoomToSelection();
    } else if (sel) {
      const g = this.m.gaps[sel.g];
      void g;
      this.opts.onZoom([this.segStart[i], this.segStart[i] + BigInt(this.segSize[i])]);
    }
  }

  scrollToSelection() {
    if (this.hil) return; // the square is never taller than its box
    const range = this.selRange();
    if (!range) return;
    const row = Math.floor(range[0] / this.W);
    const y = 4 + row * ROW_PITCH;
    const top = this.scroller.scrollTop;
    const h = this.scroller.clientHeight;
    if (y < top || y + ROW_PITCH > top + h) this.scroller.scrollTop = Math.max(0, y - h / 2);
  }

  // Pixel range [from, to) of the selection on the linear strip, or null.
  selRange() {
    const s = this.sel;
    if (!s) return null;
    const m = this.m;
    let lo;
    let hi;
    if (s.kind === KIND_GAP) { lo = m.gStart[s.g]; hi = m.gEnd[s.g]; } else if (s.kind === KIND_REGION) { lo = m.rStart[s.r]; hi = lo + BigInt(m.regions[s.r].size); } else { lo = m.aStart[s.a]; hi = m.aEnd[s.a]; }
    return this.pixelRange(lo, hi);
  }

  pixelRange(lo, hi) {
    const n = this.segKind.length;
    // a: the first segment ending after lo (one past the last ending at or before it);
    // b: the last segment starting before hi
    const a = lastIndex(n, (i) => this.segStart[i] + BigInt(this.segSize[i]) <= lo) + 1;
    const b = lastIndex(n, (i) => this.segStart[i] < hi);
    if (a >= n || b < 0 || b < a) return null;
    return [this.x0[a], this.x0[b + 1]];
  }

  // Where an address is drawn, in client (viewport) coordinates, after scrolling it into view;
  // null when it is not on the map. Used by the end-to-end tests and the benchmark.
  pointFor(addr) {
    const a = typeof addr === 'bigint' ? addr : BigInt(addr);
    if (this.hil) {
      const p = this.hil.pointFor(a);
      if (!p) return null;
      this.canvas.scrollIntoView({ block: 'nearest' });
      const r = this.canvas.getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    }
    const pr = this.pixelRange(a, a + 1n);
    if (!pr) return null;
    const pos = pr[0] + Math.min(3, Math.max(0, (pr[1] - pr[0]) / 2));
    const row = Math.floor(pos / this.W);
    const y = 4 + row * ROW_PITCH + BAR_H / 2;
    const x = GUTTER + (pos - row * this.W);
    this.canvas.scrollIntoView({ block: 'nearest' });
    if (y < this.scroller.scrollTop + 10 || y > this.scroller.scrollTop + this.scroller.clientHeight - 10) this.scroller.scrollTop = Math.max(0, y - this.scroller.clientHeight / 2);
    const r = this.canvas.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  }

  // ---- drawing ----

  hatchPattern(ctx) {
    if (this.hatch) return this.hatch;
    const c = document.createElement('canvas');
    c.width = 8; c.height = 8;
    const g = c.getContext('2d');
    g.fillStyle = '#f6f7f9';
    g.fillRect(0, 0, 8, 8);
    g.strokeStyle = '#c4c9d1';
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(0, 8); g.lineTo(8, 0);
    g.moveTo(-4, 4); g.lineTo(4, -4);
    g.moveTo(4, 12); g.lineTo(12, 4);
    g.stroke();
    this.hatch = ctx.createPattern(c, 'repeat');
    return this.hatch;
  }

  // Call f(x, y, w) for each on-screen piece of the strip range [from, to).
  pieces(from, to, f) {
    const W = this.W;
    let p = from;
    while (p < to) {
      const row = Math.floor(p / W);
      const rowEnd = (row + 1) * W;
      const e = Math.min(to, rowEnd);
      f(GUTTER + (p - row * W), 4 + row * ROW_PITCH, e - p);
      p = e;
    }
  }

  draw() {
    if (!this.x0 || !this.attached) return;
    const dpr = window.devicePixelRatio || 1;
    const cssH = this.hil ? this.hil.height : 8 + this.rows * ROW_PITCH;
    const cssW = this.hil ? this.hil.width : this.cssW;
    const cv = this.canvas;
    if (cv.width !== Math.round(cssW * dpr) || cv.height !== Math.round(cssH * dpr)) {
      cv.width = Math.round(cssW * dpr);
      cv.height = Math.round(cssH * dpr);
      cv.style.width = `${cssW}px`;
      cv.style.height = `${cssH}px`;
    }
    const ctx = cv.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    if (this.hil) { this.drawHilbert(ctx); return; }
    const m = this.m;
    const n = this.segKind.length;
    const hatch = this.hatchPattern(ctx);
    const tf = this.typeFilter;

    // row labels: the address at the start of each row
    ctx.font = '11px ui-monospace, "DejaVu Sans Mono", monospace';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#5b6472';
    const pageMask = ~(BigInt(m.snap.page_size || 4096) - 1n);
    for (let row = 0; row < this.rows; row++) {
      const a = this.addrAtPos(row * this.W) & pageMask;
      ctx.fillText(fmtAddr(a, m.addrWidth), 4, 4 + row * ROW_PITCH + BAR_H / 2);
    }

    // blocks
    for (let i = 0; i < n; i++) {
      const from = this.x0[i];
      const to = this.x0[i + 1];
      if (to <= from) continue;
      const k = this.segKind[i];
      const comp = this.compressed(i, this.scale);
      const used = k === SEG_REGION || k === SEG_AGG;
      const fill = used ? TYPES[this.segType[i]].color : hatch;
      const dim = tf != null && (!used ? tf !== FREE_INDEX : this.segType[i] !== tf);
      ctx.globalAlpha = dim ? 0.16 : 1;
      // one pixel of white between blocks that are wide enough to afford it
      const gapPx = to - from >= 3 && k === SEG_REGION ? 1 : 0;
      this.pieces(from, to - gapPx, (x, y, w) => {
        ctx.fillStyle = fill;
        ctx.fillRect(x, y, w, BAR_H);
        // "colour by residency" (pages.js): one colour per pixel column from the page states
        if (this.overlay && k === SEG_REGION && !dim) this.drawOverlay(ctx, i, from, to, x, y, w);
        if (k === SEG_AGG) {
          // aggregate: white stripes every 3 px over its colour
          ctx.fillStyle = 'rgba(255, 255, 255, 0.55)';
          for (let sx = 1; sx < w; sx += 3) ctx.fillRect(x + sx, y, 1, BAR_H);
        }
        if (k === SEG_REGION && comp) {
          ctx.fillStyle = hatch;
          ctx.globalAlpha = dim ? 0.1 : 0.55;
          ctx.fillRect(x, y, w, BAR_H);
          ctx.globalAlpha = dim ? 0.16 : 1;
        }
      });
      ctx.globalAlpha = 1;
      const texts = this.labelsFor(i, comp);
      if (texts.length && to - from >= 24) {
        // the longest of the label's forms that fits in a piece of the block
        const largest = k === SEG_GAP && this.segRef[i] === m.largestGap && m.largestGap >= 0;
        ctx.font = largest || k === SEG_REGION ? 'bold 11px system-ui, sans-serif' : '11px system-ui, sans-serif';
        ctx.fillStyle = k === SEG_REGION ? inkOn(TYPES[this.segType[i]].color, dim) : dim ? '#aab' : '#2d3440';
        let drawn = false;
        this.pieces(from, to, (x, y, w) => {
          const text = drawn ? null : texts.find((t) => ctx.measureText(t).width + 8 <= w);
          if (!text) return;
          ctx.fillText(text, x + 4, y + BAR_H / 2 + 1);
          drawn = true;
        });
      }
    }

    // changes in place (changes.js): each changed allocation outlined in its change's colour
    for (const mk of this.marks || []) {
      const pr = this.pixelRange(mk.start, mk.end);
      if (pr) this.outline(ctx, pr[0], Math.max(pr[1], pr[0] + 2), mk.color, 2, mk.dash);
    }
    // largest free block: outline
    if (m.largestGap >= 0) {
      const pr = this.pixelRange(m.gStart[m.largestGap], m.gEnd[m.largestGap]);
      if (pr) this.outline(ctx, pr[0], pr[1], '#1f4fd1', 2);
    }
    // hover
    if (this.hover >= 0 && this.hover < n) this.outline(ctx, this.x0[this.hover], Math.max(this.x0[this.hover + 1], this.x0[this.hover] + 1), '#222', 1);
    // selection: the allocation dashed, the region solid
    const s = this.sel;
    if (s) {
      if (s.kind !== KIND_GAP) {
        const pa = this.pixelRange(m.aStart[s.a], m.aEnd[s.a]);
        if (pa) this.outline(ctx, pa[0], Math.max(pa[1], pa[0] + 1), '#000', 1, [3, 2]);
      }
      const pr = this.selRange();
      if (pr) this.outline(ctx, pr[0], Math.max(pr[1], pr[0] + 2), '#000', 2.5);
    }
    // drag band
    if (this.drag && this.drag.to !== this.drag.from) {
      const a = Math.min(this.drag.from, this.drag.to);
      const b = Math.max(this.drag.from, this.drag.to);
      ctx.fillStyle = 'rgba(31, 79, 209, 0.22)';
      this.pieces(a, b, (x, y, w) => ctx.fillRect(x, y - 2, w, BAR_H + 4));
    }
  }

  // Beside the Hilbert square: its labelled sub-squares that hold anything, as a list in address
  // order (a click zooms into one), so the whole space reads as text too.
  renderSquares() {
    if (!this.squaresEl) {
      this.squaresEl = el('div', { className: 'map-squares', 'aria-label': 'Mapped parts of the address space' });
      this.scroller.appendChild(this.squaresEl);
    }
    const box = this.squaresEl;
    clear(box);
    box.classList.toggle('hidden', !this.hil);
    if (!this.hil) return;
    const m = this.m;
    const sq = this.hil.squares();
    box.append(el('p', { className: 'small muted', text: `${sq.length} of the ${4 ** this.hil.level} labelled squares hold mappings (${human(this.hil.span / 4 ** this.hil.level)} each):` }));
    const list = el('ol', { className: 'map-square-list' });
    for (const q of sq.slice(0, 24)) {
      const sw = el('span', { className: 'swatch' });
      sw.style.backgroundColor = TYPES[q.type].color; // CSSOM: the CSP allows no style attribute
      list.append(el('li', null, el('button', { type: 'button', className: 'link', title: 'Zoom into this square', onclick: () => this.opts.onZoom([q.start, q.end]) },
        sw,
        el('span', { className: 'mono', text: fmtAddr(q.start, m.addrWidth) }),
        ` ${human(q.used)} mapped · mostly ${TYPES[q.type].name}`)));
    }
    box.append(list);
    if (sq.length > 24) box.append(el('p', { className: 'small muted', text: `… and ${sq.length - 24} more: zoom in` }));
  }

  drawHilbert(ctx) {
    const h = this.hil;
    const m = this.m;
    h.drawCells(ctx, this.typeFilter);
    h.drawGuides(ctx);
    for (const mk of this.marks || []) h.outline(ctx, mk.start, mk.end, mk.color, 2, mk.dash);
    if (m.largestGap >= 0) h.outline(ctx, m.gStart[m.largestGap], m.gEnd[m.largestGap], '#1f4fd1', 2);
    h.drawNames(ctx);
    if (this.hover >= 0) h.outline(ctx, h.cellStart(this.hover), h.cellEnd(this.hover), '#222', 1);
    const s = this.sel;
    if (s) {
      if (s.kind !== KIND_GAP) h.outline(ctx, m.aStart[s.a], m.aEnd[s.a], '#000', 2.5);
      else h.outline(ctx, m.gStart[s.g], m.gEnd[s.g], '#000', 2.5);
    }
  }

  // The forms of segment i's label, longest first ([] for none). A compressed gap carries its
  // true size; a zoomed gap cut at the edge says what part of the whole it shows (the largest
  // free block's label once showed the part's size); a region wide enough, its short name.
  labelsFor(i, comp) {
    const k = this.segKind[i];
    const m = this.m;
    if (k === SEG_OUTSIDE) return ['…'];
    if (k === SEG_REGION) {
      if (comp || this.x0[i + 1] - this.x0[i] < 40) return [];
      const a = m.rAlloc[this.segRef[i]];
      const name = shortName(m.allocs[a], TYPES[m.aType[a]].name);
      const role = m.regions[this.segRef[i]].role;
      return role ? [`${name} · ${role}`, name] : [name];
    }
    if (k !== SEG_GAP) return [];
    const g = this.segRef[i];
    const size = this.segSize[i];
    const full = g >= 0 ? m.gaps[g].size : size;
    const largest = g >= 0 && g === m.largestGap;
    if (!comp && !largest) return [];
    const part = full > size;
    if (largest) return part ? [`largest free ${human(full)} (${human(size)} shown)`, `largest free ${human(full)}`, human(full)] : [`largest free ${human(full)}`, human(full)];
    return part ? [`≈ ${human(size)} of ${human(full)} free`, `≈ ${human(size)}`] : [`≈ ${human(size)}`];
  }

  // marks: [{start, end (BigInt), color, dash}] outlined over the blocks, or null.
  setMarks(marks) {
    this.marks = marks && marks.length ? marks : null;
    this.draw();
  }

  // overlay(lo, hi) -> a colour for the addresses [lo, hi) (BigInt), or null to hide it.
  setOverlay(overlay) {
    this.overlay = overlay;
    if (this.hil) this.updateCaption();
    this.draw();
  }

  drawOverlay(ctx, i, from, to, x, y, w) {
    const row0 = x - GUTTER + Math.floor((y - 4) / ROW_PITCH) * this.W; // position of x
    const s = this.segStart[i];
    const span = to - from;
    const size = this.segSize[i];
    for (let px = 0; px < w; px++) {
      const p = row0 + px - from;
      const lo = s + BigInt(Math.floor((p / span) * size));
      const hi = s + BigInt(Math.ceil(((p + 1) / span) * size));
      ctx.fillStyle = this.overlay(lo, hi > lo ? hi : lo + 1n);
      ctx.fillRect(x + px, y + 3, 1, BAR_H - 6);
    }
  }

  outline(ctx, from, to, color, width, dash) {
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    if (dash) ctx.setLineDash(dash);
    this.pieces(from, to, (x, y, w) => ctx.strokeRect(x - width / 2, y - width / 2, w + width, BAR_H + width));
    ctx.restore();
  }
}
