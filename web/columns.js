// Which columns the details and diff tables show: one choice for both, chosen in a "Columns"
// menu, kept in localStorage (the next snapshot opens with it) and in the deep link (`cols=`,
// written when it differs from the default, so a copied URL shows the same columns).
//
// Address and Type are always shown (they say where and what a row is). The default set fits a
// 1024 px window with the Details column readable; the others are one click away.
import { el } from './format.js';
import { COLUMNS, COLUMN_LABEL } from './palette.js';
import { COLUMN_HELP, helpText } from './help-texts.js';

const STORE_KEY = 'vmscope.columns';

// Every optional column, in display order: the 13 byte columns of the snapshot format, then
// Blocks, Protection, Named by (the allocation's `owner`) and Details.
export const OPTIONAL_COLUMNS = [
  ...COLUMNS.map((c) => ({ key: c.key, label: c.label, numeric: true })),
  { key: 'blocks', label: 'Blocks', numeric: false },
  { key: 'protection', label: 'Protection', numeric: false },
  { key: 'owner', label: 'Named by', numeric: false },
  { key: 'details', label: 'Details', numeric: false },
];
const KNOWN = new Set(OPTIONAL_COLUMNS.map((c) => c.key));
export const BYTE_COLUMNS = new Set(COLUMNS.map((c) => c.key));

export const DEFAULT_COLUMNS = ['size', 'committed', 'private', 'total_ws', 'private_ws', 'details'];

export const EXTRA_HELP = {
  owner: 'Which recogniser named the allocation (glibc, hotspot, go, v8 …), from which signal; empty when the classifier\'s own rules did.',
};

export function columnLabel(key) {
  const c = OPTIONAL_COLUMNS.find((x) => x.key === key);
  return c ? c.label : COLUMN_LABEL[key] || key;
}

export function columnHelp(key) {
  return helpText(EXTRA_HELP, key) || helpText(COLUMN_HELP, key);
}

// "size,committed" -> ['size','committed'] in display order, unknown keys dropped; null if none.
export function parseColumns(text) {
  if (!text) return null;
  const want = new Set(String(text).split(',').map((s) => s.trim()).filter((k) => KNOWN.has(k)));
  if (!want.size) return null;
  return OPTIONAL_COLUMNS.map((c) => c.key).filter((k) => want.has(k));
}

// The columns to show: the link's `cols`, else the saved choice, else the default.
export function initialColumns(params) {
  const fromLink = parseColumns(params && params.cols);
  if (fromLink) return fromLink;
  let saved = null;
  try { saved = parseColumns(localStorage.getItem(STORE_KEY)); } catch { saved = null; }
  return saved || DEFAULT_COLUMNS.slice();
}

// Column widths set by dragging a header's edge (vtable.js onResize), per table ('details',
// 'diff'): {key: px}. "Default columns" forgets them.
const WIDTH_KEY = 'vmscope.widths.';

export function loadWidths(table) {
  try { return JSON.parse(localStorage.getItem(WIDTH_KEY + table) || '{}') || {}; } catch { return {}; }
}

export function saveWidth(table, key, px) {
  const w = loadWidths(table);
  w[key] = px;
  try { localStorage.setItem(WIDTH_KEY + table, JSON.stringify(w)); } catch { /* private mode */ }
}

export function clearWidths() {
  try { for (const t of ['details', 'diff']) localStorage.removeItem(WIDTH_KEY + t); } catch { /* private mode */ }
}

// A spec's width with the saved one applied (a flexible column keeps taking the spare room).
export function widthOf(table, key, dflt) {
  const px = loadWidths(table)[key];
  if (!(px > 0)) return dflt;
  return /fr\)?$/.test(dflt) ? `minmax(${px}px, 1fr)` : `${px}px`;
}

export function saveColumns(cols) {
  try { localStorage.setItem(STORE_KEY, cols.join(',')); } catch { /* private mode: the link still has it */ }
}

// The `cols` URL parameter for a choice: null (left out) for the default.
export function colsParam(cols) {
  return cols.join(',') === DEFAULT_COLUMNS.join(',') ? null : cols.join(',');
}

// A "Columns ▾" button with a checkbox per optional column. onChange(cols) gets the new choice.
// Returns {el, set(cols)}. `signal` ends the document listener with the view.
export function columnChooser(current, onChange, signal, { id = 'btn-columns', omit = [] } = {}) {
  let cols = current.slice();
  const boxes = new Map();
  const panel = el('div', { className: 'menu-items columns-menu', role: 'group', 'aria-label': 'Columns to show' });
  panel.addEventListener('click', (ev) => ev.stopPropagation());
  panel.appendChild(el('p', { className: 'small muted columns-note', text: 'Address and Type are always shown. The choice is kept for the next snapshot and in the link.' }));
  for (const c of OPTIONAL_COLUMNS) {
    if (omit.includes(c.key)) continue;
    const box = el('input', { type: 'checkbox', checked: cols.includes(c.key), dataset: { col: c.key } });
    box.addEventListener('change', () => {
      const want = new Set(OPTIONAL_COLUMNS.map((x) => x.key).filter((k) => (k === c.key ? box.checked : cols.includes(k))));
      cols = OPTIONAL_COLUMNS.map((x) => x.key).filter((k) => want.has(k));
      saveColumns(cols);
      onChange(cols);
    });
    boxes.set(c.key, box);
    panel.appendChild(el('label', { className: 'check column-choice', title: columnHelp(c.key) || c.label }, box, ' ', c.label));
  }
  const reset = el('button', { type: 'button', className: 'small', title: 'The default columns at their default widths', onclick: () => {
    cols = DEFAULT_COLUMNS.slice();
    clearWidths();
    for (const [k, b] of boxes) b.checked = cols.includes(k);
    saveColumns(cols);
    onChange(cols);
  } }, 'Default columns');
  panel.appendChild(el('p', { className: 'columns-reset' }, reset));
  const btn = el('button', { type: 'button', className: 'small', id, 'aria-haspopup': 'true', title: 'Choose the columns of this table',
    onclick: (ev) => { ev.stopPropagation(); panel.classList.toggle('open'); } }, 'Columns ▾');
  document.addEventListener('click', () => panel.classList.remove('open'), signal ? { signal } : undefined);
  const wrap = el('div', { className: 'menu columns' }, btn, panel);
  wrap.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && panel.classList.contains('open')) { panel.classList.remove('open'); btn.focus(); } });
  return { el: wrap, set(next) { cols = next.slice(); for (const [k, b] of boxes) b.checked = cols.includes(k); } };
}
