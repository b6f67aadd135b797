// Memory types, their fixed colours and the columns, in display order.
// The colours are documented in docs/dashboard.md; change both together.

export const TYPES = [
  { key: 'image',        name: 'Image',        color: '#7b52c7' }, // purple
  { key: 'mapped_file',  name: 'Mapped File',  color: '#4f9fe6' }, // light blue
  { key: 'shareable',    name: 'Shareable',    color: '#1fa38a' }, // teal
  { key: 'heap',         name: 'Heap',         color: '#f28e2b' }, // orange
  { key: 'managed_heap', name: 'Managed Heap', color: '#a8743a' }, // brown
  { key: 'stack',        name: 'Stack',        color: '#e0557a' }, // rose
  { key: 'private_data', name: 'Private Data', color: '#e6c01e' }, // yellow
  { key: 'page_table',   name: 'Page Table',   color: '#5f9a3a' }, // green
  { key: 'kernel',       name: 'Kernel',       color: '#4d5d73' }, // slate
  { key: 'reserved',     name: 'Reserved',     color: '#a3abb6' }, // grey
  { key: 'free',         name: 'Free',         color: '#f3f4f6' }, // near white (hatched on the map)
];

export const TYPE_BY_KEY = Object.fromEntries(TYPES.map((t, i) => [t.key, { ...t, index: i }]));

export function typeColor(key) {
  return (TYPE_BY_KEY[key] || TYPE_BY_KEY.private_data).color;
}

export function typeName(key) {
  return TYPE_BY_KEY[key] ? TYPE_BY_KEY[key].name : String(key);
}

// Byte columns of the snapshot format (docs/snapshot-format.md) in display order: key -> label.
export const COLUMN_LABEL = {
  size: 'Size', committed: 'Committed', private: 'Private', // the address space
  total_ws: 'Total WS', private_ws: 'Private WS', shareable_ws: 'Shareable WS', // the working set
  shared_ws: 'Shared WS', locked_ws: 'Locked WS',
  pss: 'Pss', uss: 'Uss', swap: 'Swap', swap_pss: 'Swap Pss', dirty: 'Dirty', // shares, swap, dirty
};

export const COLUMNS = Object.entries(COLUMN_LABEL).map(([key, label]) => ({ key, label }));

// The columns the summary's type table shows (VMMap's, plus Pss and Swap).
export const SHOWN_COLUMNS = ['size', 'committed', 'private', 'total_ws', 'private_ws', 'shareable_ws',
  'shared_ws', 'locked_ws', 'pss', 'swap'];
