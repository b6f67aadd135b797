// Formatting and DOM helpers shared by every view.
// Untrusted text (paths, thread names, command lines) only ever reaches the page through
// textContent, title or value: el() below has no way to set innerHTML.

const KIB = 1024;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const TIB = 1024 * GIB;

export const UNIT_MODES = [
  { key: 'auto', label: 'auto' },
  { key: 'kib', label: 'KiB' },
  { key: 'mib', label: 'MiB' },
];

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const mibFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function fmtInt(n) {
  return intFmt.format(n);
}

function trim1(x) {
  // 12.0 -> "12", 12.34 -> "12.3"; three significant digits are plenty for reading.
  const v = x >= 100 ? Math.round(x) : Math.round(x * 10) / 10;
  return String(v);
}

// Human size: "4 KiB", "12.5 MiB", "127.9 TiB".
export function human(n) {
  if (n == null || Number.isNaN(n)) return '';
  const a = Math.abs(n);
  if (a < KIB) return `${Math.round(n)} B`;
  if (a < MIB) return `${trim1(n / KIB)} KiB`;
  if (a < GIB) return `${trim1(n / MIB)} MiB`;
  if (a < TIB) return `${trim1(n / GIB)} GiB`;
  return `${trim1(n / TIB)} TiB`;
}

// A size in the chosen unit mode. zeroBlank: VMMap leaves zero cells empty in Details.
export function fmtSize(n, unit = 'auto', zeroBlank = false) {
  if (n == null) return '';
  if (n === 0 && zeroBlank) return '';
  if (unit === 'kib') return fmtInt(Math.round(n / KIB));
  if (unit === 'mib') return mibFmt.format(n / MIB);
  return human(n);
}

// A signed change: "+1.5 MiB", "−4 KiB"; "" for 0.
export function fmtDelta(n, unit = 'auto') {
  if (!n) return '';
  const s = fmtSize(Math.abs(n), unit);
  return (n > 0 ? '+' : '−') + s;
}

export function unitSuffix(unit) {
  return unit === 'kib' ? ' (KiB)' : unit === 'mib' ? ' (MiB)' : '';
}

// ---- addresses: always BigInt, never Number (JavaScript numbers stop being exact at 2^53) ----

export function parseAddr(text) {
  if (typeof text === 'bigint') return text;
  if (text == null) return null;
  // fast path for the snapshot format's own spelling ("0x7f15d8fd4000")
  if (typeof text === 'string' && text.length > 2 && text.length <= 18 && text[0] === '0' && text[1] === 'x') {
    try { return BigInt(text); } catch { return null; }
  }
  const t = String(text).trim().toLowerCase().replace(/_/g, '');
  if (!/^(0x)?[0-9a-f]{1,16}$/.test(t)) return null;
  return BigInt(t.startsWith('0x') ? t : '0x' + t);
}

export function fmtAddr(a, width = 12) {
  if (a == null) return '';
  const v = typeof a === 'bigint' ? a : parseAddr(a);
  return '0x' + v.toString(16).padStart(width, '0');
}

// Does the text look like an address the user wants to jump to? "0x7f15d8fd4000", or 8 to 16 hex
// digits with at least one digit (so "deadbeef" stays a word but "7f15d8fd4000" is an address).
// Every address in a pasted text (a stack trace from a log): 0x-prefixed hex of 4 to 16 digits
// not preceded by "+" (an offset: "malloc+0x2a"), at most `max`, in order, without repeats.
export function addressesIn(text, max = 256) {
  const out = [];
  const seen = new Set();
  for (const m of String(text).matchAll(/(^|[^+\w])(0x[0-9a-fA-F]{4,16})(?![\w])/g)) {
    const a = m[2].toLowerCase();
    if (seen.has(a)) continue;
    seen.add(a);
    out.push(a);
    if (out.length >= max) break;
  }
  return out;
}

export function looksLikeAddress(text) {
  const t = text.trim().toLowerCase();
  return /^0x[0-9a-f]{1,16}$/.test(t) || (/^[0-9a-f]{8,16}$/.test(t) && /[0-9]/.test(t));
}

// ---- time ----

// ms 0: unknown (a snapshot made from a bare smaps file has no time).
export function fmtTime(iso, ms) {
  if (ms === 0) return 'unknown';
  const d = ms != null ? new Date(ms) : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  const pad = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtAgo(ms) {
  if (ms == null || ms === 0) return '';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

// ---- DOM ----

// el('div', {className: 'x', title: untrusted, onclick: fn, dataset: {...}}, child, 'text', ...)
// Strings become text nodes. There is deliberately no innerHTML path.
export function el(tag, props, ...children) {
  const e = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'text') e.textContent = v;
      else if (k === 'className' || k === 'title' || k === 'value' || k === 'type' || k === 'id' ||
               k === 'href' || k === 'checked' || k === 'disabled' || k === 'placeholder' ||
               k === 'tabIndex' || k === 'selected' || k === 'htmlFor' || k === 'download' || k === 'accept')
        e[k] = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else if (c instanceof Node) e.appendChild(c);
    else e.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}
