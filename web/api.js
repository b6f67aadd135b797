// The API client: the token, one fetch wrapper, and errors turned into words.
//
// The daemon prints a URL ending in #token=…; we read it once, keep it in sessionStorage (gone
// when the tab closes), strip it from the address bar and send it as a Bearer header on every
// /api/v1 call. Share links (/s/{token}) need no API token: they use /api/v1/shared/{token}.
//
// A new tab has an empty sessionStorage, so a deep link pasted there would have no token. The
// page then asks for it (token.js); only when the person ticks "Remember in this browser" is it
// kept in localStorage too, which the same origin (scheme, host, port) alone can read. The token
// never goes into a URL the server sees: the fragment is not sent, and it is stripped at once.

const TOKEN_KEY = 'vmscope.token';
const REMEMBER_KEY = 'vmscope.token.remembered';

function storage(kind) {
  try { return kind === 'local' ? window.localStorage : window.sessionStorage; } catch { return null; }
}

// The API token of this tab: this tab's own, else one remembered with consent.
export function getToken() {
  const s = storage('session');
  const l = storage('local');
  return (s && s.getItem(TOKEN_KEY)) || (l && l.getItem(REMEMBER_KEY)) || '';
}

// Keep a token for this tab, and in this browser's localStorage only when remember is true.
export function setToken(token, remember) {
  const s = storage('session');
  if (s) s.setItem(TOKEN_KEY, token);
  const l = storage('local');
  if (l && remember) l.setItem(REMEMBER_KEY, token);
}

// Forget the token everywhere this page kept it.
export function forgetToken() {
  for (const [k, key] of [['session', TOKEN_KEY], ['local', REMEMBER_KEY]]) {
    const st = storage(k);
    if (st) st.removeItem(key);
  }
}

export function tokenRemembered() {
  const l = storage('local');
  return !!(l && l.getItem(REMEMBER_KEY));
}
const BASE = '/api/v1';

// Take a token out of the URL fragment ("#token=abc" or "#/view?...&token=abc"), store it and
// remove it from the address bar so that it does not end up in history, bookmarks or screenshots.
export function captureToken() {
  const h = location.hash;
  const m = h.match(/(^#|[&?])token=([^&]*)/);
  if (!m) return;
  const token = decodeURIComponent(m[2]);
  if (token) setToken(token, false);
  let rest = h.slice(0, m.index) + h.slice(m.index + m[0].length);
  rest = rest.replace(/^#&/, '#').replace(/[?&]$/, '');
  if (rest === '#') rest = '';
  history.replaceState(history.state, '', location.pathname + location.search + rest);
}

export function hasToken() {
  return !!getToken();
}

// The share token when this page is a share link (/s/{token}), else null.
export function shareToken() {
  const m = location.pathname.match(/^\/s\/([A-Za-z0-9_-]+)\/?$/);
  return m ? m[1] : null;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const DEFAULT_TEXT = {
  unauthorized: 'This page has no valid API token.',
  forbidden: 'The daemon refused this request.',
  permission_denied: 'Permission denied.',
  no_such_process: 'That process does not exist (any more).',
  process_exited: 'The process exited while it was being scanned.',
  not_found: 'Not found.',
  rate_limited: 'Too many scans in a short time.',
  store_full: 'The snapshot store is full.',
  too_large: 'The file is too large for the daemon.',
  no_address_space: 'The process has no address space.',
};

// What to tell a person about an error: a title, the daemon's own words (detail) and, where
// there is one, what to do about it (advice).
export function describeError(err) {
  if (!(err instanceof ApiError)) {
    return { title: 'Something went wrong', detail: String((err && err.message) || err), advice: '' };
  }
  const s = err.status;
  const msg = ensureStop(err.message || DEFAULT_TEXT[err.code] || '');
  const r = (title, advice = '') => ({ title, detail: msg, advice });
  if (s === 0) return r('Cannot reach the vmscope daemon', 'Is `vmscope serve` still running?');
  if (s === 401) return r(getToken() ? 'This API token is not valid' : 'This tab needs the API token',
    `A new tab does not inherit the token of the tab it came from. Paste it below (\`vmscope token\` prints it), or open the link \`vmscope serve\` printed (it ends in #token=…).`);
  if (s === 403) return r('Permission denied');
  if (s === 404 && /process/.test(err.code || '')) return r('Process gone', 'Pick another process in the process list.');
  if (s === 404) return r('Not found');
  if (s === 413) return r('Too large');
  if (s === 429) return r('Too many scans', 'Wait a moment and try again.');
  if (s === 507) return r('Snapshot store full', 'Delete old snapshots in the Snapshots list.');
  if (s === 400) return r('Bad request');
  if (err.code === 'no_address_space') return r('Nothing to map', 'Kernel threads and zombie processes (exited, not yet reaped by their parent) have no address space. Pick another process in the process list.');
  if (err.code === 'process_exited') return r('Process gone', 'Pick another process in the process list.');
  return r(`Error ${s}${err.code ? ' (' + err.code + ')' : ''}`);
}

function ensureStop(t) {
  const x = String(t).trim();
  return x && !/[.!?…]$/.test(x) ? `${x}.` : x;
}

// One request. opts: {method, body (string), type (Content-Type), as: 'json'|'text'|'none', auth}
async function request(path, opts = {}) {
  const headers = {};
  if (opts.auth !== false) {
    const t = getToken();
    if (t) headers.Authorization = `Bearer ${t}`;
  }
  if (opts.body != null) headers['Content-Type'] = opts.type || 'application/json';
  let res;
  try {
    res = await fetch(BASE + path, { method: opts.method || 'GET', headers, body: opts.body, cache: 'no-store', credentials: 'omit', signal: opts.signal });
  } catch (e) {
    throw new ApiError(0, 'network', `The request to ${BASE + path} failed (${e.message}).`);
  }
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = `${res.status} ${res.statusText}`;
    try {
      const j = await res.json();
      if (j && j.error) {
        code = j.error.code || code;
        message = j.error.message || message;
      }
    } catch { /* not JSON: keep the status line */ }
    throw new ApiError(res.status, code, message);
  }
  if (opts.as === 'none' || res.status === 204) return null;
  if (opts.as === 'text') return res.text();
  return res.json();
}

const enc = encodeURIComponent;

function query(params) {
  const q = Object.entries(params || {}).filter(([, v]) => v != null && v !== '');
  return q.length ? '?' + q.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&') : '';
}

export const api = {
  processes: (params) => request('/processes' + query(params)),
  system: (params) => request('/system' + query(params)),
  systemFiles: (params) => request('/system/files' + query(params)),
  liveScan: (pid) => request(`/processes/${enc(pid)}`),
  // share: false — a snapshot gets a share link only when someone presses Share.
  takeSnapshot: (pid) => request(`/processes/${enc(pid)}/snapshots`, { method: 'POST', body: '{"share":false}' }),
  // from the previous snapshot of the same process instance (the server decides which) to `to`
  // (default: its newest stored snapshot)
  changes: (pid, to) => request(`/processes/${enc(pid)}/changes` + query({ to })),
  at: (pid, addr) => request(`/processes/${enc(pid)}/at/${enc(addr)}`),
  // several addresses at once (a pasted stack trace): {"results": [...]} in the same order.
  // source: {kind: 'snapshot', id} | {kind: 'shared', token} | {kind: 'live', pid}
  atMany: (source, addresses) => {
    const body = JSON.stringify({ addresses });
    if (source.kind === 'snapshot') return request(`/snapshots/${enc(source.id)}/at`, { method: 'POST', body });
    if (source.kind === 'shared') return request(`/shared/${enc(source.token)}/at`, { method: 'POST', body, auth: false });
    return request(`/processes/${enc(source.pid)}/at`, { method: 'POST', body });
  },
  snapshots: (params) => request('/snapshots' + query(params)),
  snapshot: (id) => request(`/snapshots/${enc(id)}`),
  snapshotRaw: (id) => request(`/snapshots/${enc(id)}`, { as: 'text' }),
  snapshotExport: (id, ext) => request(`/snapshots/${enc(id)}.${ext}`, { as: 'text' }),
  deleteSnapshot: (id) => request(`/snapshots/${enc(id)}`, { method: 'DELETE', as: 'none' }),
  // share=0: opening a file never publishes it; Share makes a link when asked.
  importSnapshot: (text) => request('/snapshots?share=0', { method: 'POST', body: text }),
  // the list entry of one snapshot: source (scan | import), host, process, totals
  snapshotMeta: (id) => request(`/snapshots/${enc(id)}/meta`),
  version: () => request('/version'),
  // the CSV / text export of a document (a live scan on screen), stored nowhere
  exportDocument: (text, ext) => request(`/export.${ext}`, { method: 'POST', body: text, as: 'text' }),
  share: (id, opts) => request(`/snapshots/${enc(id)}/share`, { method: 'POST', body: JSON.stringify(opts || {}) }),
  shares: (id) => request(`/snapshots/${enc(id)}/shares`),
  // Send a stored snapshot to another daemon ({url, token, fingerprint, lifetime}) -> {share_url}.
  sendTo: (id, opts) => request(`/snapshots/${enc(id)}/send`, { method: 'POST', body: JSON.stringify(opts) }),
  revokeShare: (token) => request(`/shares/${enc(token)}`, { method: 'DELETE', as: 'none' }),
  diff: (from, to) => request('/diff' + query({ from, to })),
  watches: () => request('/watches'),
  watch: (id) => request(`/watches/${enc(id)}`),
  createWatch: (body) => request('/watches', { method: 'POST', body: JSON.stringify(body) }),
  stopWatch: (id) => request(`/watches/${enc(id)}`, { method: 'DELETE' }),
  // params.after + params.wait_s: a long poll that returns when a newer sample is stored
  watchSamples: (id, params, signal) => request(`/watches/${enc(id)}/samples` + query(params), { signal }),
  watchGrowth: (id, params) => request(`/watches/${enc(id)}/growth` + query(params)),
  // inside the pages (pages.js): start/end are BigInt addresses
  residency: (pid, start, end) => request(`/processes/${enc(pid)}/residency` + query({ start: '0x' + start.toString(16), end: '0x' + end.toString(16) })),
  residencyAll: (pid) => request(`/processes/${enc(pid)}/residency?exclusive=0`),
  strings: (pid, start, end, params) => request(`/processes/${enc(pid)}/strings` + query({ start: '0x' + start.toString(16), end: '0x' + end.toString(16), ...params })),
  takeSnapshotWithResidency: (pid) => request(`/processes/${enc(pid)}/snapshots?residency=1`, { method: 'POST', body: '{"share":false}' }),
  // the residency stored with a snapshot (?residency=1 when it was taken), for [start, end)
  snapshotResidency: (id, start, end) => request(`/snapshots/${enc(id)}/residency` + query({ start: '0x' + start.toString(16), end: '0x' + end.toString(16) })),
  // clear_refs, wait, Referenced per mapping: changes the target (pages.js asks first)
  workingSet: (pid, start, end, seconds) => request(`/processes/${enc(pid)}/workingset` + query({ start: '0x' + start.toString(16), end: '0x' + end.toString(16), seconds }), { method: 'POST', body: '{}' }),
  trim: (pid, start, end, waitS) => request(`/processes/${enc(pid)}/trim` + query({ start: '0x' + start.toString(16), end: '0x' + end.toString(16), wait_s: waitS }), { method: 'POST', body: '{}' }),
  shared: (token) => request(`/shared/${enc(token)}`, { auth: false }),
  // Who shared it, when, until when (issue 15); not counted as a view.
  sharedAbout: (token) => request(`/shared/${enc(token)}/about`, { auth: false }),
  sharedRaw: (token) => request(`/shared/${enc(token)}`, { auth: false, as: 'text' }),
  sharedExport: (token, ext) => request(`/shared/${enc(token)}.${ext}`, { auth: false, as: 'text' }),
  // a watch's timeline (issue 10): a `vmscope watch -o` file opened, share links of a watch and
  // what such a link reads (no token; no long polls)
  importTimeline: (text) => request('/watches/import', { method: 'POST', body: text }),
  shareWatch: (id, opts) => request(`/watches/${enc(id)}/share`, { method: 'POST', body: JSON.stringify(opts || {}) }),
  watchShares: (id) => request(`/watches/${enc(id)}/shares`),
  sharedWatch: (token) => request(`/shared/${enc(token)}/watch`, { auth: false }),
  sharedWatchSamples: (token, params) => request(`/shared/${enc(token)}/watch/samples` + query(params), { auth: false }),
  sharedWatchGrowth: (token, params) => request(`/shared/${enc(token)}/watch/growth` + query(params), { auth: false }),
};
