// Summary: three bars (Committed, Private, Working Set) split by type, the colour key, and the
// type table with every column. Clicking a type (bar segment, key entry or table row) filters
// the details table to it; "Total" clears the filter.
import { el, clear, fmtSize, fmtInt, human, unitSuffix, fmtAddr } from './format.js';
import { TYPES, COLUMN_LABEL, SHOWN_COLUMNS as TABLE_COLS } from './palette.js';
import { COLUMN_HELP, TYPE_HELP, helpText } from './help-texts.js';
import { ModelView } from './model-view.js';

// One word, one meaning (docs/memory-types.md): Private is commit-style (VMMap's Private Bytes),
// counted whether touched or not; Private WS is its resident part; Total WS is resident memory
// including the page tables, so it is `ps` RSS + VmPTE (said under the bar).
const BARS = [
  { key: 'committed', label: 'Committed', note: 'memory charged to the process (what it could touch without a new mmap)' },
  { key: 'private', label: 'Private', sub: 'committed', note: 'VMMap\'s Private Bytes: private memory the process may touch, counted whether it touched it or not' },
  { key: 'private_ws', label: 'Private WS', note: 'the resident part of Private: pages in RAM only this process can use' },
  { key: 'total_ws', label: 'Total WS', note: 'resident in RAM right now, page tables included' },
];

// The figures under the bars that keep Private and Total WS from being misread, as
// [{key, text}]: the thread stacks counted in Private but never touched, and how Total WS
// relates to `ps` RSS (VmRSS in /proc/PID/status).
export function barNotes(snap, byType) {
  const notes = [];
  const st = (byType.stack || {}).columns || {};
  const untouched = (st.private || 0) - (st.private_ws || 0);
  const stacks = (byType.stack || {}).blocks || 0;
  if (untouched >= 1024 * 1024) {
    notes.push({ key: 'stacks', text: `${human(untouched)} of Private is thread stack never touched: Private counts each of the ${fmtInt(stacks)} stacks' whole committed size, only ${human(st.private_ws || 0)} of it is resident (Private WS).` });
  }
  const tot = snap.total || {};
  const status = snap.status || {};
  const pte = ((byType.page_table || {}).columns || {}).total_ws || 0;
  if (status.vm_rss != null && status.vm_size !== 0) { // VmSize 0: no status (a bare smaps file)
    const eq = tot.total_ws === status.vm_rss + pte;
    notes.push({ key: 'rss', text: eq
      ? `Total WS ${human(tot.total_ws || 0)} = ps RSS ${human(status.vm_rss)} (VmRSS) + page tables ${human(pte)} (VmPTE, the Page Table row).`
      : `Total WS ${human(tot.total_ws || 0)} is resident memory + page tables ${human(pte)} (VmPTE, the Page Table row); ps RSS (VmRSS, read a moment apart from smaps while the process changed) was ${human(status.vm_rss)}.` });
  } else if (pte) {
    notes.push({ key: 'rss', text: `Total WS includes the page tables (${human(pte)}, the Page Table row), which ps RSS leaves out.` });
  }
  return notes;
}

export class SummaryView extends ModelView {
  // opts: {onType(key|null), onLargestFree(), units}
  constructor(model, opts) {
    super(model, opts);
    this.filter = null;
    this.el = el('section', { className: 'summary', 'aria-label': 'Summary by type' });
    this.render();
  }

  setUnits(u) { this.units = u; this.render(); }
  setFilter(key) { if ((key || null) === this.filter) return; this.filter = key || null; this.render(); }

  render() {
    const m = this.m;
    const snap = m.snap;
    const total = snap.total || {};
    const byType = m.summaryByType;
    clear(this.el);

    // ---- bars ----
    const bars = el('div', { className: 'bars' });
    for (const b of BARS) {
      const sum = total[b.key] || 0;
      const track = el('div', { className: 'bar-track', role: 'img', 'aria-label': `${b.label} by type` });
      for (const t of TYPES) {
        if (t.key === 'free') continue;
        const s = byType[t.key];
        const v = s ? (s.columns || {})[b.key] || 0 : 0;
        if (!v || !sum) continue;
        const pct = (v / sum) * 100;
        const seg = el('div', {
          className: `bar-seg${this.filter && this.filter !== t.key ? ' dim' : ''}`,
          title: `${t.name}: ${human(v)} (${pct.toFixed(1)}% of ${b.label.toLowerCase()})`,
          dataset: { type: t.key },
          onclick: () => this.opts.onType(this.filter === t.key ? null : t.key),
        });
        seg.style.width = `${pct}%`;
        seg.style.backgroundColor = t.color;
        track.appendChild(seg);
      }
      bars.appendChild(el('div', { className: 'bar', dataset: { bar: b.key } },
        el('div', { className: 'bar-label', title: `${b.label}: ${b.note}. ${helpText(COLUMN_HELP, b.key) || ''}`.trim() },
          el('span', { className: 'bar-name', text: b.label }, b.sub ? el('span', { className: 'bar-sub', text: ` ${b.sub}` }) : null),
          el('span', { className: 'bar-total', text: human(sum) })),
        track));
    }

    const notes = el('div', { className: 'bar-notes' }, barNotes(snap, byType).map((n) =>
      el('p', { className: 'note small', dataset: { note: n.key }, text: n.text })));
    bars.appendChild(notes);

    // ---- key ----
    const legend = el('ul', { className: 'legend', 'aria-label': 'Colour key' });
    for (const t of TYPES) {
      const s = byType[t.key];
      const empty = !s || (!(s.columns || {}).size && !s.blocks);
      const sw = el('span', { className: `swatch${t.key === 'free' ? ' free' : ''}` });
      sw.style.backgroundColor = t.color;
      legend.appendChild(el('li', {
        className: `legend-item${empty ? ' empty' : ''}${this.filter === t.key ? ' active' : ''}`,
        title: helpText(TYPE_HELP, t.key) || t.name,
        dataset: { type: t.key },
        tabIndex: 0,
        onclick: () => this.opts.onType(this.filter === t.key ? null : t.key),
        onkeydown: (ev) => { if (ev.key === 'Enter') this.opts.onType(this.filter === t.key ? null : t.key); },
      }, sw, t.name));
    }

    // ---- type table ----
    const u = this.units;
    const head = el('tr', null,
      el('th', { className: 'left', title: helpText(COLUMN_HELP, 'type') || 'Memory type. Click a row to show only that type in the details below.' }, 'Type'),
      TABLE_COLS.map((k) => el('th', { title: helpText(COLUMN_HELP, k) || COLUMN_LABEL[k], dataset: { col: k } }, COLUMN_LABEL[k] + unitSuffix(u))),
      el('th', { title: helpText(COLUMN_HELP, 'blocks') || 'Allocations of this type (for Free: number of free gaps).', dataset: { col: 'blocks' } }, 'Blocks'),
      el('th', { title: helpText(COLUMN_HELP, 'largest') || 'Largest single allocation of this type; for Free, the largest free range.', dataset: { col: 'largest' } }, 'Largest' + unitSuffix(u)));
    const body = el('tbody');
    for (const t of TYPES) {
      const s = byType[t.key] || { columns: {}, blocks: 0, largest: 0 };
      const c = s.columns || {};
      const isFree = t.key === 'free';
      const empty = !c.size && !s.blocks;
      const sw = el('span', { className: `swatch${isFree ? ' free' : ''}` });
      sw.style.backgroundColor = t.color;
      const tr = el('tr', {
        className: `type-row${empty ? ' empty' : ''}${this.filter === t.key ? ' active' : ''}`,
        dataset: { type: t.key }, tabIndex: 0,
        onclick: () => this.opts.onType(this.filter === t.key ? null : t.key),
        onkeydown: (ev) => { if (ev.key === 'Enter') this.opts.onType(this.filter === t.key ? null : t.key); },
      },
      el('th', { className: 'left', scope: 'row', title: helpText(TYPE_HELP, t.key) || t.name }, sw, t.name),
      TABLE_COLS.map((k) => el('td', null, isFree && k !== 'size' ? '' : fmtSize(c[k] || 0, u))),
      el('td', null, fmtInt(s.blocks || 0)),
      el('td', { className: isFree && s.largest ? 'largest-free' : '', title: isFree ? 'The largest free range: the biggest single mapping that can still succeed.' : null },
        fmtSize(s.largest || 0, u)));
      body.appendChild(tr);
    }
    const totalRow = el('tr', {
      className: `type-row total${this.filter ? '' : ' active'}`, dataset: { type: '' }, tabIndex: 0,
      onclick: () => this.opts.onType(null),
      onkeydown: (ev) => { if (ev.key === 'Enter') this.opts.onType(null); },
    },
    el('th', { className: 'left', scope: 'row', title: 'Every type except Free. Click to show all rows.' }, 'Total'),
    TABLE_COLS.map((k) => el('td', null, fmtSize(total[k] || 0, u))),
    el('td', null, fmtInt(TYPES.filter((t) => t.key !== 'free').reduce((n, t) => n + ((byType[t.key] || {}).blocks || 0), 0))),
    el('td'));
    body.appendChild(totalRow);
    const table = el('table', { className: 'type-table' }, el('thead', null, head), body);

    // ---- largest free block callout ----
    let callout = null;
    if (m.largestGap >= 0) {
      const g = m.gaps[m.largestGap];
      callout = el('p', { className: 'callout' },
        el('strong', null, 'Largest free block: '),
        el('button', { type: 'button', className: 'link largest-free-link', onclick: () => this.opts.onLargestFree(), title: 'Show it on the map and in the details' },
          `${human(g.size)} at ${fmtAddr(m.gStart[m.largestGap], m.addrWidth)}`),
        ' — the biggest single mapping this process could still get without fragmentation getting in the way.');
    }

    this.el.append(
      el('div', { className: 'summary-top' }, bars, legend),
      el('div', { className: 'table-wrap' }, table),
      callout);
  }
}
