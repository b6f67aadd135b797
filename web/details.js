// Details: every allocation (and free gap) in address order, expandable to its regions;
// sortable, filterable by type and text, virtualised.
import { VirtualTable } from './vtable.js';
import { KIND_ALLOC, KIND_REGION, KIND_GAP } from './model.js';
import { fmtAddr, fmtSize, unitSuffix, fmtInt } from './format.js';
import { TYPES, TYPE_BY_KEY, typeName } from './palette.js';
import { COLUMN_HELP, TYPE_HELP, helpText } from './help-texts.js';
import { detailsTitle } from './attribution.js';
import { DEFAULT_COLUMNS, BYTE_COLUMNS, columnLabel, columnHelp, widthOf, saveWidth } from './columns.js';
import { changeKind, fromTo } from './changes.js';
import { ModelView } from './model-view.js';

const FREE = TYPE_BY_KEY.free.index;

const help = (key) => helpText(COLUMN_HELP, key);

export class DetailsView extends ModelView {
  // opts: {onSelect(sel), units}
  constructor(model, opts) {
    super(model, opts);
    this.typeFilter = null;
    this.find = '';
    this.sortKey = 'address';
    this.sortDir = 'asc';
    this.expanded = new Set();
    this.sel = null;
    this.rows = new Int32Array(0);
    this.order = null;

    this.cols = (opts.cols || DEFAULT_COLUMNS).slice();
    this.columns = this.columnSpecs();
    this.table = new VirtualTable({
      className: 'details-table',
      columns: this.columns,
      rowHeight: 22,
      renderRow: (i, rowEl, cells) => this.renderRow(i, rowEl, cells),
      onRowClick: (i, ev, key) => this.onRowClick(i, ev, key),
      onSort: (key) => this.toggleSort(key),
      onKey: (ev) => this.onKey(ev),
      onResize: (key, px) => saveWidth('details', key, px),
      frozen: 2,
    });
    this.table.body.addEventListener('dblclick', (ev) => {
      const row = ev.target.closest('.vt-row');
      if (row) this.toggleExpand(Number(row.dataset.index));
    });
    this.el = this.table.el;
    this.setUnits(this.units);
    this.rebuild();
  }

  // ---- state setters ----

  setUnits(u) {
    this.units = u;
    // The unit is not added to the headers (it would not fit the narrow number columns): the
    // Units selector right above the table says it, and so does each header's hover text.
    const unit = unitSuffix(u).trim();
    for (const k of this.cols) {
      if (BYTE_COLUMNS.has(k)) this.table.setHeaderLabel(k, columnLabel(k), (help(k) || columnLabel(k)) + (unit ? ` Shown in ${unit.slice(1, -1)}.` : ''));
    }
    this.table.refresh();
  }

  // The grid's columns: Address and Type always, then the chosen ones (columns.js). Widths are
  // set so that the default choice leaves Details at least 240 px in a 1024 px window.
  columnSpecs() {
    const addrPx = Math.round((this.m.addrWidth + 6) * 7.3 + 18);
    const specs = [
      { key: 'address', label: 'Address', width: `${addrPx}px`, cellClass: 'mono addr', title: help('address') || 'Start address. ▸ expands an allocation into its regions (VMAs).' },
      { key: 'type', label: 'Type', width: '122px', cellClass: 'type', title: help('type') || 'Memory type; for a region, its part in the allocation.' },
    ];
    for (const k of this.cols) {
      if (BYTE_COLUMNS.has(k)) specs.push({ key: k, label: columnLabel(k), width: '86px', align: 'right', title: help(k) });
      else if (k === 'blocks') specs.push({ key: k, label: 'Blocks', width: '60px', align: 'right', title: help('blocks') || 'Number of regions (VMAs) in the allocation.' });
      else if (k === 'protection') specs.push({ key: k, label: 'Protection', width: '120px', cellClass: 'mono', title: help('protection') || 'r read, w write, x execute; p private (copy-on-write), s shared.' });
      else if (k === 'owner') specs.push({ key: k, label: 'Named by', width: '100px', cellClass: 'owner', title: columnHelp('owner') });
      else if (k === 'details') specs.push({ key: k, label: 'Details', width: 'minmax(240px, 1fr)', cellClass: 'details', title: help('details') || 'File path, thread, heap or other attribution.' });
    }
    for (const c of specs) c.width = widthOf('details', c.key, c.width);
    return specs;
  }

  // Show another set of columns (the Columns menu, or a deep link).
  setColumns(cols) {
    this.cols = cols.slice();
    this.columns = this.columnSpecs();
    this.table.setColumns(this.columns);
    this.setUnits(this.units);
    this.table.setSortIndicator(this.sortKey === 'address' && this.sortDir === 'asc' ? null : this.sortKey, this.sortDir);
  }

  // Changes in place (changes.js): marks = Map(allocation index -> diff entry), or null.
  setMarks(marks) {
    this.marks = marks && marks.size ? marks : null;
    this.table.refresh();
  }

  setTypeFilter(key) {
    this.typeFilter = key || null;
    this.rebuild();
  }

  setFind(text) {
    this.find = (text || '').trim().toLowerCase();
    this.rebuild();
  }

  setSort(key, dir) {
    this.sortKey = key || 'address';
    this.sortDir = dir === 'desc' ? 'desc' : 'asc';
    this.order = null;
    this.rebuild();
  }

  toggleSort(key) {
    if (this.sortKey === key) {
      if (key !== 'address' && this.sortDir === 'desc') this.setSort(key, 'asc');
      else if (key !== 'address' && this.sortDir === 'asc') this.setSort('address', 'asc');
      else this.setSort(key, this.sortDir === 'asc' ? 'desc' : 'asc');
    } else {
      // Numbers read best biggest first; text and addresses ascending.
      const numeric = BYTE_COLUMNS.has(key) || key === 'blocks';
      this.setSort(key, numeric ? 'desc' : 'asc');
    }
    if (this.opts.onSortChange) this.opts.onSortChange(this.sortKey, this.sortDir);
  }

  expandAll(on) {
    if (on) for (let a = 0; a < this.m.allocCount; a++) { if (this.m.regionCount(a) > 1) this.expanded.add(a); }
    else this.expanded.clear();
    this.rebuild();
  }

  // ---- row model ----
  // Row codes: 0..A-1 allocation a; A..A+G-1 gap g; negative: region -(code+1).

  itemOrder() {
    if (this.order) return this.order;
    const m = this.m;
    const A = m.allocCount;
    const G = m.gapCount;
    const n = A + G;
    const items = new Int32Array(n);
    // Address order: merge allocations and gaps.
    let a = 0;
    let g = 0;
    let k = 0;
    while (a < A || g < G) {
      if (g >= G || (a < A && m.aStart[a] < m.gStart[g])) items[k++] = a++;
      else items[k++] = A + g++;
    }
    const key = this.sortKey;
    if (key !== 'address' || this.sortDir === 'desc') {
      const dir = this.sortDir === 'desc' ? -1 : 1;
      if (key === 'address') {
        items.reverse();
      } else if (key === 'type' || key === 'protection' || key === 'details' || key === 'owner') {
        const text = (c) => {
          if (c >= A) return key === 'type' ? 'zz' : '';
          if (key === 'type') return String(m.aType[c]).padStart(2, '0');
          if (key === 'protection') return m.allocPerms(c);
          if (key === 'owner') return m.allocs[c].owner || '';
          return m.allocs[c].details || '';
        };
        const vals = Array.from(items, text);
        const idx = Array.from(items.keys());
        idx.sort((i, j) => (vals[i] < vals[j] ? -dir : vals[i] > vals[j] ? dir : i - j));
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) out[i] = items[idx[i]];
        this.order = out;
        return out;
      } else {
        const vals = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const c = items[i];
          if (c < A) vals[i] = key === 'blocks' ? m.regionCount(c) : (m.allocs[c].columns || {})[key] || 0;
          else vals[i] = key === 'size' ? m.gaps[c - A].size : 0;
        }
        const idx = new Uint32Array(n);
        for (let i = 0; i < n; i++) idx[i] = i;
        idx.sort((i, j) => (vals[i] - vals[j]) * dir || i - j);
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) out[i] = items[idx[i]];
        this.order = out;
        return out;
      }
    }
    this.order = items;
    return items;
  }

  rebuild() {
    const m = this.m;
    const A = m.allocCount;
    const order = this.itemOrder();
    const tf = this.typeFilter ? TYPE_BY_KEY[this.typeFilter]?.index ?? -1 : -1;
    const text = this.find;
    const out = new Int32Array(order.length + m.regions.length);
    let k = 0;
    let shown = 0;
    for (let i = 0; i < order.length; i++) {
      const c = order[i];
      if (c >= A) {
        if (tf >= 0 && tf !== FREE) continue;
        if (text && !'free'.includes(text)) continue;
        out[k++] = c;
        shown++;
        continue;
      }
      if (tf >= 0 && m.aType[c] !== tf) continue;
      if (text && !m.searchText(c).includes(text)) continue;
      out[k++] = c;
      shown++;
      if (this.expanded.has(c)) {
        const f = m.aFirst[c];
        const n = m.regionCount(c);
        if (n > 1) for (let r = f; r < f + n; r++) out[k++] = -(r + 1);
      }
    }
    this.rows = out.subarray(0, k);
    this.shownItems = shown;
    this.table.setSortIndicator(this.sortKey === 'address' && this.sortDir === 'asc' ? null : this.sortKey, this.sortDir);
    const empty = this.typeFilter === 'page_table' ? 'Page tables have no address: they are kernel memory spent on this process (VmPTE), so they appear in the summary only.'
      : this.typeFilter === 'managed_heap' ? 'No managed heaps: vmscope does not recognise JVM, .NET or Go heaps yet (they show as Private Data or Reserved).'
        : this.typeFilter || text ? 'No allocation matches the filter.' : 'This snapshot has no allocations.';
    this.table.setCount(k, empty);
    if (this.opts.onRowsChange) this.opts.onRowsChange(shown, A + m.gapCount);
  }

  rowSel(i) {
    const c = this.rows[i];
    const A = this.m.allocCount;
    if (c === undefined) return null;
    if (c < 0) return { kind: KIND_REGION, r: -c - 1, a: this.m.rAlloc[-c - 1] };
    if (c >= A) return { kind: KIND_GAP, g: c - A };
    return { kind: KIND_ALLOC, a: c };
  }

  rowOf(sel) {
    if (!sel) return -1;
    const A = this.m.allocCount;
    const code = sel.kind === KIND_ALLOC ? sel.a : sel.kind === KIND_GAP ? A + sel.g : -(sel.r + 1);
    return this.rows.indexOf(code);
  }

  // ---- rendering ----

  renderRow(i, rowEl, cells) {
    const m = this.m;
    const A = m.allocCount;
    const c = this.rows[i];
    const u = this.units;
    const w = m.addrWidth;
    const selCode = this.selCode;
    const cols = this.columns;
    let cls;
    if (c >= 0 && c < A) {
      const al = m.allocs[c];
      const n = m.regionCount(c);
      const v = al.columns || {};
      cells[0].textContent = (n > 1 ? (this.expanded.has(c) ? '▾ ' : '▸ ') : '  ') + fmtAddr(m.aStart[c], w);
      cells[1].textContent = typeName(al.type);
      cells[1].style.setProperty('--swatch', TYPES[m.aType[c]].color);
      const mark = this.marks ? this.marks.get(c) : undefined;
      if (mark) cells[1].dataset.mark = changeKind(mark); else delete cells[1].dataset.mark;
      for (let k = 2; k < cols.length; k++) {
        const key = cols[k].key;
        const cell = cells[k];
        if (BYTE_COLUMNS.has(key)) {
          cell.textContent = fmtSize(v[key] || 0, u, key !== 'size');
          // a changed value says what it was: "from → to" on hover, and the cell is marked
          const moved = mark && (mark.delta || {})[key];
          cell.title = moved ? `${columnLabel(key)}: ${fromTo(mark, key, u)}` : '';
          cell.classList.toggle('moved', !!moved);
        }
        else if (key === 'blocks') cell.textContent = fmtInt(n);
        else if (key === 'protection') cell.textContent = m.allocPerms(c);
        else if (key === 'owner') { cell.textContent = al.owner || ''; cell.title = al.owner ? `${al.owner}${al.signal ? ' from ' + al.signal : ''}${al.guess ? ' (a guess)' : ''}` : ''; }
        else if (key === 'details') { cell.textContent = al.details || ''; cell.title = detailsTitle(al); }
      }
      cls = mark ? `alloc mark mark-${changeKind(mark)}` : 'alloc';
    } else if (c >= A) {
      const g = m.gaps[c - A];
      const largest = c - A === m.largestGap;
      cells[0].textContent = '  ' + fmtAddr(m.gStart[c - A], w);
      cells[1].textContent = 'Free';
      cells[1].style.setProperty('--swatch', TYPES[FREE].color);
      delete cells[1].dataset.mark;
      for (const cell of cells) cell.classList.remove('moved');
      for (let k = 2; k < cols.length; k++) {
        const key = cols[k].key;
        cells[k].textContent = key === 'size' ? fmtSize(g.size, u) : key === 'details' && largest ? 'largest free block' : '';
        cells[k].title = '';
      }
      cls = largest ? 'gap largest' : 'gap';
    } else {
      const r = m.regions[-c - 1];
      const a = m.rAlloc[-c - 1];
      const v = r.columns || {};
      cells[0].textContent = '    ' + fmtAddr(m.rStart[-c - 1], w);
      cells[1].textContent = r.role || '';
      cells[1].style.setProperty('--swatch', TYPES[m.aType[a]].color);
      delete cells[1].dataset.mark;
      for (const cell of cells) cell.classList.remove('moved');
      for (let k = 2; k < cols.length; k++) {
        const key = cols[k].key;
        const cell = cells[k];
        if (BYTE_COLUMNS.has(key)) cell.textContent = fmtSize(key === 'size' ? r.size : v[key] || 0, u, key !== 'size');
        else if (key === 'protection') cell.textContent = r.perms || '';
        else if (key === 'details') {
          const path = r.path ? r.path + (r.deleted ? ' (deleted)' : '') : '';
          cell.textContent = path;
          cell.title = path;
        } else { cell.textContent = ''; cell.title = ''; }
      }
      cls = 'region';
    }
    if (c === selCode) cls += ' sel';
    return cls;
  }

  // ---- interaction ----

  get selCode() {
    const s = this.sel;
    if (!s) return null;
    const A = this.m.allocCount;
    return s.kind === KIND_ALLOC ? s.a : s.kind === KIND_GAP ? A + s.g : -(s.r + 1);
  }

  onRowClick(i, ev, key) {
    const sel = this.rowSel(i);
    if (!sel) return;
    if (key === 'address' && sel.kind === KIND_ALLOC && this.m.regionCount(sel.a) > 1) {
      const rect = ev.target.closest('.vt-cell').getBoundingClientRect();
      if (ev.clientX - rect.left < 22) { this.toggleExpand(i); return; }
    }
    this.select(sel, { scroll: false, notify: true });
  }

  toggleExpand(i) {
    const sel = this.rowSel(i);
    if (!sel || sel.kind === KIND_GAP) return;
    const a = sel.a;
    if (this.m.regionCount(a) <= 1) return;
    if (this.expanded.has(a)) {
      this.expanded.delete(a);
      if (this.sel && this.sel.kind === KIND_REGION && this.sel.a === a) this.sel = { kind: KIND_ALLOC, a };
    } else this.expanded.add(a);
    const top = this.table.el.scrollTop;
    this.rebuild();
    this.table.el.scrollTop = top;
  }

  // Select a row; a region's allocation is expanded, a filtered-out row clears the filters that hide it.
  select(sel, { scroll = true, notify = false } = {}) {
    this.sel = sel;
    if (sel && sel.kind === KIND_REGION) {
      if (this.m.regionCount(sel.a) <= 1) this.sel = { kind: KIND_ALLOC, a: sel.a };
      else if (!this.expanded.has(sel.a)) { this.expanded.add(sel.a); this.rebuild(); }
    }
    let i = this.rowOf(this.sel);
    if (sel && i < 0 && (this.typeFilter || this.find)) {
      this.typeFilter = null;
      this.find = '';
      if (this.opts.onFiltersCleared) this.opts.onFiltersCleared();
      this.rebuild();
      i = this.rowOf(this.sel);
    }
    this.table.refresh();
    if (scroll && i >= 0) this.table.scrollToRow(i, true);
    if (notify && this.opts.onSelect) this.opts.onSelect(this.sel);
  }

  onKey(ev) {
    const i = this.rowOf(this.sel);
    const go = (j) => {
      ev.preventDefault();
      if (j < 0 || j >= this.rows.length) return;
      this.select(this.rowSel(j), { scroll: false, notify: true });
      this.table.scrollToRow(j, false);
    };
    const page = Math.max(1, Math.floor((this.table.el.clientHeight - 30) / this.table.rowHeight));
    if (ev.key === 'ArrowDown') go(i + 1);
    else if (ev.key === 'ArrowUp') go(Math.max(0, i - 1));
    else if (ev.key === 'PageDown') go(Math.min(this.rows.length - 1, i + page));
    else if (ev.key === 'PageUp') go(Math.max(0, i - page));
    else if (ev.key === 'Home') go(0);
    else if (ev.key === 'End') go(this.rows.length - 1);
    else if ((ev.key === 'ArrowRight' || ev.key === 'ArrowLeft' || ev.key === 'Enter') && i >= 0) {
      const s = this.rowSel(i);
      if (s.kind === KIND_ALLOC) {
        const open = this.expanded.has(s.a);
        if (ev.key === 'Enter' || (ev.key === 'ArrowRight') !== open) { ev.preventDefault(); this.toggleExpand(i); }
      } else if (s.kind === KIND_REGION && ev.key === 'ArrowLeft') {
        ev.preventDefault();
        this.select({ kind: KIND_ALLOC, a: s.a }, { scroll: true, notify: true });
      }
    }
  }

  static typeHelp(key) { return helpText(TYPE_HELP, key); }
}
