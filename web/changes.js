// Changes in place: what the diff engine says changed (GET /processes/{pid}/changes or /diff),
// reduced to what the snapshot view marks on its map and details and the diff view filters by.
// One place for: the kind of a change, the colours (more memory red, less green, never for
// Free), "from → to" texts, and which changes only moved the sharing-dependent columns.
import { el, fmtSize, fmtAddr, human } from './format.js';
import { COLUMN_LABEL, typeName } from './palette.js';

// Columns that move when OTHER processes map or unmap the same pages: Pss, Swap Pss and Shared
// WS. A change in these alone says nothing about this process.
export const SHARING_COLUMNS = ['pss', 'swap_pss', 'shared_ws'];

// added | removed | grown | shrunk | changed (protection, path or usage)
export function changeKind(e) {
  const ch = e.changes || [];
  for (const k of ['added', 'removed', 'grown', 'shrunk']) if (ch.includes(k)) return k;
  return 'changed';
}

// True when nothing but the sharing-dependent columns moved (e.g. another process mapped the
// same library): hidden unless asked for.
export function onlySharingMoved(e) {
  const ch = e.changes || [];
  if (ch.length !== 1 || ch[0] !== 'usage') return false;
  const d = e.delta || {};
  return Object.keys(d).every((k) => !d[k] || SHARING_COLUMNS.includes(k));
}

export const MARK_COLOR = { added: '#c2410c', removed: '#6b7280', grown: '#dc2626', shrunk: '#15803d', changed: '#7c3aed' };

// The value of column key on one side of an entry (null when that side does not exist).
export function sideValue(side, key) {
  if (!side) return null;
  if (side.columns && side.columns[key] != null) return side.columns[key];
  return key === 'size' ? side.size ?? null : null;
}

// "1.5 MiB → 3 MiB" (— for a side that does not exist).
export function fromTo(e, key, units = 'auto') {
  const a = sideValue(e.from, key);
  const b = sideValue(e.to, key);
  return `${a != null ? fmtSize(a, units) : '—'} → ${b != null ? fmtSize(b, units) : '—'}`;
}

// The changed columns of an entry as [[label, "a → b"]], in snapshot column order.
export function changedColumns(e, units = 'auto') {
  const d = e.delta || {};
  return Object.keys(COLUMN_LABEL).filter((k) => d[k]).map((k) => [COLUMN_LABEL[k], fromTo(e, k, units)]);
}

// The diff d reduced for snapshot `toId`'s view: {byAlloc: Map(index -> entry), removed: [entry],
// hidden: number of sharing-only entries left out (unless withSharing)}.
export function changesFor(d, withSharing) {
  const byAlloc = new Map();
  const removed = [];
  let hidden = 0;
  for (const e of d.allocations || []) {
    if (!withSharing && onlySharingMoved(e)) { hidden++; continue; }
    if (e.to) byAlloc.set(e.to.index, e);
    else if (e.from) removed.push(e);
  }
  return { byAlloc, removed, hidden };
}

// A link to one allocation of a diff: in the `to` snapshot, or for a removed one in `from`.
export function allocHref(e, fromId, toId) {
  const side = e.to || e.from;
  const id = e.to ? toId : fromId;
  if (id == null || !side) return null;
  return `#/snapshot/${encodeURIComponent(id)}?sel=${encodeURIComponent(side.start)}&mark=1`;
}

// The short line for a removed allocation in the snapshot view's changes panel.
export function removedItem(e, fromId) {
  const f = e.from;
  return el('li', null, el('a', { href: allocHref(e, fromId, null), className: 'mono', text: fmtAddr(f.start) }),
    ` ${typeName(f.type)}, ${human(f.size)}${f.details ? ' — ' + f.details : ''}`);
}
