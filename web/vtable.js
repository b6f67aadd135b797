// A virtualised table: only the rows on screen exist in the DOM, so 60,000 rows scroll as
// smoothly as 60. Rows have a fixed height; a spacer gives the scrollbar its full length and a
// small pool of row elements is moved (transform) and refilled (textContent) as you scroll.
//
//   const t = new VirtualTable({
//     columns: [{key, label, width: '120px' | 'minmax(300px,1fr)', align: 'right', title, sortable}],
//     rowHeight: 22,
//     renderRow(index, rowEl, cells) {…},   // fill cells[i].textContent; return extra row classes
//     onRowClick(index, event, columnKey) {…},
//     onSort(key) {…},
//     frozen: 2,                             // leading columns that stay in view when scrolled sideways
//     onResize(key, px) {…},                 // optional: columns get a drag handle on their
//                                            // header's right edge; called when a drag ends
//   });
//   container.append(t.el); t.setCount(n);
import { el } from './format.js';

const OVERSCAN = 8;

export class VirtualTable {
  constructor(opts) {
    this.opts = opts;
    this.rowHeight = opts.rowHeight || 22;
    this.count = 0;
    this.pool = [];
    this.generation = 0;
    this.columns = opts.columns;

    this.el = el('div', { className: `vt ${opts.className || ''}`, tabIndex: 0, role: 'grid', 'aria-rowcount': '0' });
    this.inner = el('div', { className: 'vt-inner' });
    this.head = el('div', { className: 'vt-head', role: 'row' });
    this.body = el('div', { className: 'vt-body', role: 'rowgroup' });
    this.empty = el('div', { className: 'vt-empty hidden' });
    this.inner.append(this.head, this.body, this.empty);
    this.el.append(this.inner);
    this.setColumns(opts.columns);

    // Frozen columns: moved back by the horizontal scroll offset (a transform, set through one
    // CSS variable). position: sticky would do the same but makes vertical scrolling ~3x slower.
    this.scrollLeft = 0;
    this.el.addEventListener('scroll', () => {
      if (this.el.scrollLeft !== this.scrollLeft) {
        this.scrollLeft = this.el.scrollLeft;
        this.inner.style.setProperty('--vt-sl', `${this.scrollLeft}px`);
      }
      this.render();
    }, { passive: true });
    this.body.addEventListener('click', (ev) => {
      const row = ev.target.closest('.vt-row');
      if (!row || !opts.onRowClick) return;
      const cell = ev.target.closest('.vt-cell');
      const ci = cell ? Array.prototype.indexOf.call(row.children, cell) : -1;
      opts.onRowClick(Number(row.dataset.index), ev, ci >= 0 ? this.columns[ci].key : null);
    });
    if (opts.onKey) this.el.addEventListener('keydown', (ev) => opts.onKey(ev));
    if (typeof ResizeObserver !== 'undefined') {
      this.ro = new ResizeObserver(() => this.render());
      this.ro.observe(this.el);
    }
  }

  // The grid template and the table's minimum width from the columns' widths.
  applyWidths() {
    const columns = this.columns;
    this.inner.style.setProperty('--vt-cols', columns.map((c) => c.width || '100px').join(' '));
    let min = 0;
    for (const c of columns) {
      const m = /(\d+)px/.exec(c.width || '100px');
      min += m ? Number(m[1]) : 100;
    }
    this.inner.style.minWidth = `${min}px`;
  }

  // Drag a header's right edge to resize its column. A flexible column (minmax(Npx, 1fr))
  // keeps taking the spare room; the drag sets its minimum.
  resizeHandle(c, h) {
    const grip = el('span', { className: 'vt-resize', title: 'Drag to resize this column', 'aria-hidden': 'true' });
    grip.addEventListener('click', (ev) => ev.stopPropagation());
    grip.addEventListener('pointerdown', (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      const x0 = ev.clientX;
      const w0 = h.getBoundingClientRect().width;
      const flexible = /fr\)?$/.test(c.width || '');
      const floor = flexible ? 120 : 40;
      let px = Math.round(w0);
      grip.setPointerCapture(ev.pointerId);
      const move = (e) => {
        px = Math.max(floor, Math.round(w0 + e.clientX - x0));
        c.width = flexible ? `minmax(${px}px, 1fr)` : `${px}px`;
        this.applyWidths();
      };
      const up = () => {
        grip.removeEventListener('pointermove', move);
        grip.removeEventListener('pointerup', up);
        grip.removeEventListener('pointercancel', up);
        this.render();
        if (this.opts.onResize) this.opts.onResize(c.key, px);
      };
      grip.addEventListener('pointermove', move);
      grip.addEventListener('pointerup', up);
      grip.addEventListener('pointercancel', up);
    });
    return grip;
  }

  setColumns(columns) {
    this.columns = columns;
    this.applyWidths();
    this.head.replaceChildren(...columns.map((c) => {
      const h = el('div', {
        className: `vt-hcell ${c.align === 'right' ? 'right' : ''} ${c.sortable !== false && this.opts.onSort ? 'sortable' : ''}${this.frozenClass(columns.indexOf(c))}`,
        title: c.title || null, role: 'columnheader',
      }, el('span', { className: 'vt-label', text: c.label }), el('span', { className: 'vt-sort' }));
      if (c.sortable !== false && this.opts.onSort) {
        h.tabIndex = 0;
        h.addEventListener('click', () => this.opts.onSort(c.key));
        h.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); this.opts.onSort(c.key); } });
      }
      h.dataset.key = c.key;
      if (this.opts.onResize) h.appendChild(this.resizeHandle(c, h));
      return h;
    }));
    for (const r of this.pool) r.el.remove();
    this.pool = [];
    this.refresh();
  }

  frozenClass(i) {
    const n = this.opts.frozen || 0;
    return i < n ? (i === n - 1 ? ' frozen frozen-last' : ' frozen') : '';
  }

  setHeaderLabel(key, label, title) {
    const h = this.head.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!h) return;
    h.querySelector('.vt-label').textContent = label;
    if (title != null) h.title = title;
  }

  // Show the sort arrow on one column. dir: 'asc' | 'desc' | null
  setSortIndicator(key, dir) {
    for (const h of this.head.children) {
      const on = h.dataset.key === key && dir;
      h.classList.toggle('sorted', !!on);
      h.setAttribute('aria-sort', on ? (dir === 'asc' ? 'ascending' : 'descending') : 'none');
      h.querySelector('.vt-sort').textContent = on ? (dir === 'asc' ? '▲' : '▼') : '';
    }
  }

  setCount(n, emptyText) {
    this.count = n;
    this.el.setAttribute('aria-rowcount', String(n));
    this.body.style.height = `${n * this.rowHeight}px`;
    this.empty.textContent = emptyText || 'Nothing to show.';
    this.empty.classList.toggle('hidden', n !== 0);
    // Short tables shrink to fit; long ones take most of the window and scroll.
    // (the header may wrap onto two lines: measure it)
    const want = (n === 0 ? 90 : n * this.rowHeight) + Math.max(30, this.head.offsetHeight || 0) + 2;
    const max = Math.max(300, Math.round(window.innerHeight * 0.62));
    this.el.style.height = `${Math.max(120, Math.min(want, max))}px`;
    this.refresh();
  }

  // Re-render every visible row (data, sort or units changed).
  refresh() {
    this.generation++;
    this.render();
  }

  visibleRange() {
    const h = this.el.clientHeight || 400;
    const headH = this.head.offsetHeight || this.rowHeight;
    const top = Math.max(0, this.el.scrollTop);
    const first = Math.max(0, Math.floor(top / this.rowHeight) - OVERSCAN);
    const last = Math.min(this.count, Math.ceil((top + h - headH) / this.rowHeight) + OVERSCAN);
    return [first, last];
  }

  render() {
    const [first, last] = this.visibleRange();
    const need = Math.max(0, last - first);
    while (this.pool.length < need) {
      const rowEl = el('div', { className: 'vt-row', role: 'row' });
      const cells = this.columns.map((c, ci) => rowEl.appendChild(el('div', { className: `vt-cell ${c.align === 'right' ? 'right' : ''} ${c.cellClass || ''}${this.frozenClass(ci)}`, role: 'gridcell' })));
      this.body.appendChild(rowEl);
      this.pool.push({ el: rowEl, cells, index: -1, gen: -1 });
    }
    const n = this.pool.length;
    if (n === 0) return;
    for (let i = first; i < first + n; i++) {
      const slot = this.pool[i % n];
      if (i >= last) {
        if (slot.index !== -1) { slot.el.classList.add('hidden'); slot.index = -1; }
        continue;
      }
      if (slot.index === i && slot.gen === this.generation) continue;
      slot.index = i;
      slot.gen = this.generation;
      slot.el.dataset.index = String(i);
      slot.el.style.transform = `translateY(${i * this.rowHeight}px)`;
      const cls = this.opts.renderRow(i, slot.el, slot.cells);
      slot.el.className = cls ? `vt-row ${cls}` : 'vt-row';
    }
    // Slots that fell outside [first, last) because the pool is larger than needed.
    for (const slot of this.pool) {
      if (slot.index !== -1 && (slot.index < first || slot.index >= last)) {
        slot.el.classList.add('hidden');
        slot.index = -1;
      }
    }
  }

  // Scroll so that row i is visible (centred when it was off screen).
  scrollToRow(i, center = true) {
    const headH = this.head.offsetHeight || this.rowHeight;
    const viewH = this.el.clientHeight - headH;
    const y = i * this.rowHeight;
    const top = this.el.scrollTop;
    if (y >= top && y + this.rowHeight <= top + viewH) return;
    this.el.scrollTop = center ? Math.max(0, y - viewH / 2) : y;
    this.render();
  }

  destroy() {
    if (this.ro) this.ro.disconnect();
  }
}
