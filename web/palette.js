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

// Byte columns of the snapshot format (docs/snapshot-format.md), with display labels.
export const COLUMNS = [
  { key: 'size',         label: 'Size' },
  { key: 'committed',    label: 'Committed' },
  { key: 'private',      label: 'Private' },
  { key: 'total_ws',     label: 'Total WS' },
  { key: 'private_ws',   label: 'Private WS' },
  { key: 'shareable_ws', label: 'Shareable WS' },
  { key: 'shared_ws',    label: 'Shared WS' },
  { key: 'locked_ws',    label: 'Locked WS' },
  { key: 'pss',          label: 'Pss' },
  { key: 'uss',          label: 'Uss' },
  { key: 'swap',         label: 'Swap' },
  { key: 'swap_pss',     label: 'Swap Pss' },
  { key: 'dirty',        label: 'Dirty' },
];

// The columns the summary and details tables show (VMMap's, plus Pss and Swap).
export const SHOWN_COLUMNS = ['size', 'committed', 'private', 'total_ws', 'private_ws', 'shareable_ws',
  'shared_ws', 'locked_ws', 'pss', 'swap'];

export const COLUMN_LABEL = Object.fromEntries(COLUMNS.map((c) => [c.key, c.label]));
