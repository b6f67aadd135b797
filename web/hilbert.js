// The map's second layout: an address range (the whole 47-bit user space, or the zoomed range)
// folded onto a square along a Hilbert curve. Cell d of the N×N grid holds the addresses
// [lo + d·cell, lo + (d+1)·cell): addresses that are near each other stay near each other, and
// each aligned quarter, sixteenth … of the range is a square. A cell is coloured by the type
// with most bytes in it; any mapping at all colours it (paler when it is mostly free), so every
// allocation keeps a visible mark however sparse the space. Sub-squares are labelled with their
// start address at the deepest level the labels fit, and the allocations large enough to carry
// their name are named: both adapt to the zoom.
//
// HilbertLayout is owned by AddressMap (map.js), which keeps the canvas, the events, the zoom and
// the selection; this module only computes cells and draws them.
import { human, fmtAddr } from './format.js';
import { TYPES, TYPE_BY_KEY } from './palette.js';

// Cells are CELL_PX px square at most MAX_SIDE px in all; N, a power of two, at most MAX_N.
const CELL_PX_MIN = 3, MAX_N = 128, MAX_SIDE = 512, PAD = 8;
const ADDR_FONT = '10px ui-monospace, "DejaVu Sans Mono", monospace';
const NAME_FONT = 'bold 11px system-ui, sans-serif';
const NT = TYPES.length;
const FREE_INDEX = TYPE_BY_KEY.free.index;

// Position (x, y) of index d on the Hilbert curve filling an n×n square (n a power of two).
export function hilbertXY(n, d) {
  let x = 0;
  let y = 0;
  let t = d;
  for (let s = 1; s < n; s *= 2) {
    const rx = 1 & (t >> 1);
    const ry = 1 & (t ^ rx);
    if (ry === 0) {
      if (rx === 1) { x = s - 1 - x; y = s - 1 - y; }
      const tmp = x; x = y; y = tmp;
    }
    x += s * rx;
    y += s * ry;
    t >>= 2;
  }
  return [x, y];
}

const curves = new Map(); // n -> {xs, ys, d}: the curve's cells, and the index at each (x, y)
function curve(n) {
  let c = curves.get(n);
  if (c) return c;
  c = { xs: new Uint16Array(n * n), ys: new Uint16Array(n * n), d: new Int32Array(n * n) };
  for (let d = 0; d < n * n; d++) {
    const [x, y] = hilbertXY(n, d);
    c.xs[d] = x; c.ys[d] = y; c.d[y * n + x] = d;
  }
  curves.set(n, c);
  return c;
}

// The whole address space the layout shows unzoomed: the power of two at or above the top of user
// space (2^47 on x86-64, 2^56/2^57 with 5-level page tables).
export function wholeSpace(userTop) {
  let top = 1n << 32n;
  while (top < userTop) top <<= 1n;
  return top;
}

// Short name of an allocation for a label: the file name of its path, else its details, else
// its type.
export function shortName(al, typeName) {
  const d = al.details || '';
  const path = d.startsWith('/') ? d.split(' (')[0] : '';
  const s = path ? path.slice(path.lastIndexOf('/') + 1) : d.split(' (')[0] || typeName;
  return s.length > 28 ? s.slice(0, 27) + '…' : s;
}

// A model's allocation bounds as Float64Arrays (exact below 2^53), computed once per model.
const boundsCache = new WeakMap();
function boundsF64(m) {
  let b = boundsCache.get(m);
  if (b && b.start.length === m.allocs.length) return b;
  const n = m.allocs.length;
  b = { start: new Float64Array(n), end: new Float64Array(n) };
  for (let a = 0; a < n; a++) { b.start[a] = Number(m.aStart[a]); b.end[a] = Number(m.aEnd[a]); }
  boundsCache.set(m, b);
  return b;
}

export class HilbertLayout {
  // m: the SnapshotModel; lo, hi: the range shown (BigInt); width: the CSS width available.
  constructor(m, lo, hi, width) {
    this.m = m;
    this.lo = lo;
    this.hi = hi;
    let n = MAX_N;
    while (n > 8 && n * CELL_PX_MIN > Math.min(MAX_SIDE, width - 2 * PAD)) n /= 2;
    this.n = n;
    this.cellPx = Math.max(CELL_PX_MIN, Math.floor(Math.min(MAX_SIDE, width - 2 * PAD) / n));
    this.side = n * this.cellPx;
    this.width = this.side + 2 * PAD;
    this.height = this.side + 2 * PAD;
    // the deepest level of sub-squares whose side holds an address label (about 6.2 px a
    // character at 10 px monospace): 2 gives 4×4 squares
    const labelW = (m.addrWidth + 2) * 6.2 + 8;
    this.level = 1;
    while (this.side >> (this.level + 1) >= labelW && 1 << (this.level + 1) <= n) this.level++;
    this.span = Number(hi - lo);
    this.cell = this.span / (n * n); // bytes per cell (a power of two unzoomed)
    this.curve = curve(n);
    this.accumulate();
  }

  // Bytes per type per cell, the allocation with most bytes in each cell, allocations per cell.
  accumulate() {
    const m = this.m;
    const N2 = this.n * this.n;
    const bytes = new Float64Array(N2 * NT);
    const used = new Float64Array(N2);
    const count = new Uint32Array(N2);
    const best = new Float64Array(N2);
    const top = new Int32Array(N2).fill(-1);
    const lo = this.lo;
    const cs = this.cell;
    // below 2^53 the allocations' bounds as doubles (exact), kept per model: BigInt arithmetic
    // on 60,000 allocations was most of a switch's script time
    const f = this.hi <= 1n << 53n ? boundsF64(m) : null;
    const loF = Number(lo);
    const hiF = Number(this.hi);
    for (let a = 0; a < m.allocs.length; a++) {
      let s;
      let e;
      if (f) {
        if (f.end[a] <= loF || f.start[a] >= hiF) continue;
        s = (f.start[a] > loF ? f.start[a] : loF) - loF;
        e = (f.end[a] < hiF ? f.end[a] : hiF) - loF;
      } else {
        if (m.aEnd[a] <= lo || m.aStart[a] >= this.hi) continue;
        s = Number((m.aStart[a] > lo ? m.aStart[a] : lo) - lo);
        e = Number((m.aEnd[a] < this.hi ? m.aEnd[a] : this.hi) - lo);
      }
      const t = m.aType[a];
      const c1 = Math.min(N2 - 1, Math.floor((e - 1) / cs));
      for (let c = Math.floor(s / cs); c <= c1; c++) {
        const b = Math.min(e, (c + 1) * cs) - Math.max(s, c * cs);
        if (b <= 0) continue;
        bytes[c * NT + t] += b;
        used[c] += b;
        count[c]++;
        if (b > best[c]) { best[c] = b; top[c] = a; }
      }
    }
    const dom = new Uint8Array(N2).fill(FREE_INDEX);
    for (let c = 0; c < N2; c++) {
      if (!count[c]) continue;
      let bt = -1;
      for (let t = 0; t < NT; t++) if (t !== FREE_INDEX && bytes[c * NT + t] > (bt < 0 ? 0 : bytes[c * NT + bt])) bt = t;
      if (bt >= 0) dom[c] = bt;
    }
    Object.assign(this, { bytes, used, count, top, dom });
  }

  // ---- geometry (canvas CSS px) ----

  cellXY(d) { return [PAD + this.curve.xs[d] * this.cellPx, PAD + this.curve.ys[d] * this.cellPx]; }

  cellAt(x, y) {
    const cx = Math.floor((x - PAD) / this.cellPx);
    const cy = Math.floor((y - PAD) / this.cellPx);
    if (cx < 0 || cy < 0 || cx >= this.n || cy >= this.n) return -1;
    return this.curve.d[cy * this.n + cx];
  }

  cellStart(d) { return this.lo + BigInt(Math.floor(d * this.cell)); }
  cellEnd(d) { return d + 1 >= this.n * this.n ? this.hi : this.cellStart(d + 1); }

  // Cells [c0, c1] holding any of the addresses [a, b), or null when none is in range.
  cellsOf(a, b) {
    if (b <= this.lo || a >= this.hi) return null;
    const s = Number((a > this.lo ? a : this.lo) - this.lo);
    const e = Number((b < this.hi ? b : this.hi) - this.lo);
    return [Math.floor(s / this.cell), Math.min(this.n * this.n - 1, Math.max(Math.floor(s / this.cell), Math.ceil(e / this.cell) - 1))];
  }

  // The aligned sixteenth of the range around cell d (what a double-click zooms to).
  sixteenthOf(d) {
    const q = (this.n * this.n) / 16;
    const c0 = Math.floor(d / q) * q;
    return [this.cellStart(c0), this.cellEnd(c0 + q - 1)];
  }

  // ---- what a cell holds, for the tooltip ----

  describe(d) {
    const m = this.m;
    const lines = [];
    const range = `${fmtAddr(this.cellStart(d), m.addrWidth)} – ${fmtAddr(this.cellEnd(d), m.addrWidth)}`;
    if (!this.count[d]) {
      lines.push([`Free · cell of ${human(this.cell)}`, 'tip-title'], [range, 'mono']);
      return lines;
    }
    const parts = [];
    for (let t = 0; t < NT; t++) { const b = this.bytes[d * NT + t]; if (b > 0) parts.push([b, t]); }
    parts.sort((x, y) => y[0] - x[0]);
    const n = this.count[d];
    lines.push([`${n} allocation${n === 1 ? '' : 's'} · ${human(this.used[d])} mapped of ${human(this.cell)}`, 'tip-title'], [range, 'mono']);
    lines.push([parts.map(([b, t]) => `${TYPES[t].name} ${human(b)}`).join(' · '), '']);
    const a = this.top[d];
    if (a >= 0) lines.push([`largest: ${shortName(m.allocs[a], TYPES[m.aType[a]].name)} (${human(Number(m.aEnd[a] - m.aStart[a]))})`, 'tip-path']);
    lines.push(['click selects the largest; double-click zooms into this sixteenth', 'muted']);
    return lines;
  }

  // The labelled sub-squares that hold anything, in address order: {start, end, count (cells'
  // allocation counts summed: an allocation over several cells counts in each), used, type}.
  squares() {
    const k = 1 << this.level;
    const per = (this.n * this.n) / (k * k);
    const out = [];
    for (let q = 0; q < k * k; q++) {
      let used = 0;
      let allocs = 0;
      const by = new Float64Array(NT);
      for (let d = q * per; d < (q + 1) * per; d++) {
        if (!this.count[d]) continue;
        used += this.used[d];
        allocs += this.count[d];
        for (let t = 0; t < NT; t++) by[t] += this.bytes[d * NT + t];
      }
      if (!allocs) continue;
      let t = 0;
      for (let j = 1; j < NT; j++) if (by[j] > by[t]) t = j;
      out.push({ start: this.cellStart(q * per), end: this.cellEnd((q + 1) * per - 1), count: allocs, used, type: t });
    }
    return out;
  }

  // ---- drawing ----

  // Fill every cell: the dominant type's colour (or, with a type filter, that type's colour where
  // the cell holds any of it), paler when the cell is mostly free; free cells pale grey.
  drawCells(ctx, typeFilter) {
    const N2 = this.n * this.n;
    const px = this.cellPx;
    ctx.fillStyle = '#f3f4f6';
    ctx.fillRect(PAD, PAD, this.side, this.side);
    for (let d = 0; d < N2; d++) {
      if (!this.count[d]) continue;
      let t = this.dom[d];
      let dim = false;
      if (typeFilter != null && typeFilter !== FREE_INDEX) {
        if (this.bytes[d * NT + typeFilter] > 0) t = typeFilter; else dim = true;
      }
      const [x, y] = this.cellXY(d);
      const fill = Math.min(1, this.used[d] / this.cell);
      ctx.globalAlpha = dim ? 0.15 : 0.7 + 0.3 * Math.min(1, fill * 4);
      ctx.fillStyle = TYPES[t].color;
      ctx.fillRect(x, y, px, px);
    }
    ctx.globalAlpha = 1;
  }

  // Sub-square borders and start addresses at the deepest level whose squares hold a label, and
  // the curve through those squares (faint), so that the reader sees where addresses go next.
  drawGuides(ctx) {
    const m = this.m;
    ctx.font = ADDR_FONT;
    const k = 1 << this.level; // k×k squares, each (n/k)² cells
    const sq = this.side / k;
    const cellsPer = (this.n * this.n) / (k * k);
    ctx.save();
    ctx.strokeStyle = 'rgba(60, 70, 90, 0.35)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let i = 0; i <= k; i++) {
      ctx.moveTo(PAD + i * sq + 0.5, PAD); ctx.lineTo(PAD + i * sq + 0.5, PAD + this.side);
      ctx.moveTo(PAD, PAD + i * sq + 0.5); ctx.lineTo(PAD + this.side, PAD + i * sq + 0.5);
    }
    ctx.stroke();
    // the curve through the squares, in address order
    const sub = curve(k);
    ctx.strokeStyle = 'rgba(31, 79, 209, 0.25)';
    ctx.setLineDash([3, 4]);
    ctx.beginPath();
    for (let q = 0; q < k * k; q++) {
      const cx = PAD + (sub.xs[q] + 0.5) * sq;
      const cy = PAD + (sub.ys[q] + 0.5) * sq;
      if (q) ctx.lineTo(cx, cy); else ctx.moveTo(cx, cy);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.textBaseline = 'top';
    for (let q = 0; q < k * k; q++) {
      const text = fmtAddr(this.cellStart(q * cellsPer), m.addrWidth);
      const x = PAD + sub.xs[q] * sq + 3;
      const y = PAD + sub.ys[q] * sq + 2;
      ctx.fillStyle = 'rgba(255, 255, 255, 0.75)';
      ctx.fillRect(x - 1, y - 1, ctx.measureText(text).width + 2, 12);
      ctx.fillStyle = '#4a5261';
      ctx.fillText(text, x, y);
    }
    ctx.restore();
  }

  // Names of the allocations that cover enough cells to carry them, largest first, never two
  // overlapping: zooming in gives smaller allocations room for their names.
  drawNames(ctx) {
    const m = this.m;
    const N2 = this.n * this.n;
    const cells = new Map(); // allocation -> [cells, sum x, sum y]
    for (let d = 0; d < N2; d++) {
      const a = this.top[d];
      if (a < 0) continue;
      let c = cells.get(a);
      if (!c) cells.set(a, (c = [0, 0, 0]));
      c[0]++; c[1] += this.curve.xs[d]; c[2] += this.curve.ys[d];
    }
    const order = [...cells].filter(([, c]) => c[0] >= 6).sort((x, y) => y[1][0] - x[1][0]).slice(0, 60);
    const placed = [];
    ctx.save();
    ctx.font = NAME_FONT;
    ctx.textBaseline = 'middle';
    for (const [a, [n, sx, sy]] of order) {
      const cx = Math.round(sx / n);
      const cy = Math.round(sy / n);
      if (this.top[this.curve.d[cy * this.n + cx]] !== a) continue; // centroid outside its shape
      const text = shortName(m.allocs[a], TYPES[m.aType[a]].name);
      const w = ctx.measureText(text).width + 6;
      const x = Math.max(PAD, Math.min(PAD + this.side - w, PAD + (cx + 0.5) * this.cellPx - w / 2));
      const y = PAD + (cy + 0.5) * this.cellPx - 7;
      const r = [x, y, x + w, y + 14];
      if (placed.some((p) => r[0] < p[2] && p[0] < r[2] && r[1] < p[3] && p[1] < r[3])) continue;
      placed.push(r);
      ctx.fillStyle = 'rgba(29, 35, 48, 0.78)';
      ctx.fillRect(r[0], r[1], w, 14);
      ctx.fillStyle = '#fff';
      ctx.fillText(text, x + 3, y + 7.5);
    }
    ctx.restore();
    this.labels = placed.length;
  }

  // Outline the cells holding the addresses [a, b): only the edges a cell shares with a cell
  // outside the set, so a range reads as one shape. minPx: a single cell grows to at least this.
  outline(ctx, a, b, color, width, dash) {
    const r = this.cellsOf(a, b);
    if (!r) return;
    const [c0, c1] = r;
    const n = this.n;
    const px = this.cellPx;
    const inSet = (x, y) => {
      if (x < 0 || y < 0 || x >= n || y >= n) return false;
      const d = this.curve.d[y * n + x];
      return d >= c0 && d <= c1;
    };
    ctx.save();
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    if (dash) ctx.setLineDash(dash);
    ctx.beginPath();
    if (c1 === c0) {
      const [x, y] = this.cellXY(c0);
      ctx.rect(x - 1.5, y - 1.5, px + 3, px + 3);
    }
    for (let d = c0; d <= c1 && c1 !== c0; d++) {
      const gx = this.curve.xs[d];
      const gy = this.curve.ys[d];
      const x = PAD + gx * px;
      const y = PAD + gy * px;
      if (!inSet(gx, gy - 1)) { ctx.moveTo(x, y); ctx.lineTo(x + px, y); }
      if (!inSet(gx, gy + 1)) { ctx.moveTo(x, y + px); ctx.lineTo(x + px, y + px); }
      if (!inSet(gx - 1, gy)) { ctx.moveTo(x, y); ctx.lineTo(x, y + px); }
      if (!inSet(gx + 1, gy)) { ctx.moveTo(x + px, y); ctx.lineTo(x + px, y + px); }
    }
    ctx.stroke();
    ctx.restore();
  }

  // Where an address is drawn (canvas CSS px), or null.
  pointFor(addr) {
    const r = this.cellsOf(addr, addr + 1n);
    if (!r) return null;
    const [x, y] = this.cellXY(r[0]);
    return { x: x + this.cellPx / 2, y: y + this.cellPx / 2 };
  }

  caption() {
    return `Hilbert layout: the range folded onto ${this.n}×${this.n} cells of ${human(this.cell)} along a Hilbert curve (the dashed line shows the order): nearby addresses stay nearby and each labelled square is one contiguous range starting at its label. A cell takes the colour of the type with most bytes in it; any mapping colours its cell (paler when it is mostly free), so no allocation disappears. Names appear where an allocation covers enough cells; zoom in for more. Click a cell to select its largest allocation, double-click to zoom into that sixteenth, drag in the strip layout for any range.`;
  }
}
