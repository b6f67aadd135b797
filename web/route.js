// Deep links: the URL fragment holds the view and its state, so a copied URL reopens it.
//   #/processes?q=bash&sort=rss:desc          process picker
//   #/snapshot/ID?type=heap&sel=0x…&lvl=r&q=libc&units=kib&sort=size:desc&zoom=0xA-0xB
//   #/live/PID?…                               a live scan (not stored)
//   #/diff/FROM/TO?show=changed
//   #/snapshots?name=bash
//   #/watches                                  watches (timeline.js)
//   #/system?q=libssl | ?path=/usr/lib/…       across processes (system.js)
//   #/watch/ID?col=committed|private|total_ws  one watch's timeline
// On a share link (/s/TOKEN) the fragment holds only the state: #?type=heap&sel=0x…

export function parseRoute() {
  const h = location.hash.replace(/^#/, '');
  const qi = h.indexOf('?');
  const path = qi >= 0 ? h.slice(0, qi) : h;
  const qs = qi >= 0 ? h.slice(qi + 1) : '';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(qs));
  return { parts, params };
}

export function routeHash(parts, params) {
  const p = parts.map(encodeURIComponent).join('/');
  const q = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v != null && v !== '')).toString();
  return '#' + (p ? '/' + p : '') + (q ? '?' + q : '');
}

// Go to another view (a new history entry; fires hashchange).
export function navigate(parts, params) {
  const h = routeHash(parts, params);
  if (h === location.hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = h;
}

// Record state inside the current view (filter, selection …) without a new history entry and
// without re-rendering the view.
export function updateParams(patch) {
  const { parts, params } = parseRoute();
  for (const [k, v] of Object.entries(patch)) {
    if (v == null || v === '') delete params[k];
    else params[k] = String(v);
  }
  const h = routeHash(parts, params);
  if (h !== location.hash) history.replaceState(history.state, '', location.pathname + location.search + (h === '#' ? '' : h));
}
