// Snapshots list: time, process, totals; open, compare, share, delete. Newest first, paged.
import { api } from './api.js';
import { el, clear, fmtTime, fmtAgo, human, fmtInt } from './format.js';
import { navigate, updateParams } from './route.js';
import { errorPanel, loading, toast, toastError, dialog, copyText } from './ui.js';

const PAGE = 100;

// A list entry: {id, taken_at, taken_at_ms, process: {pid, name, cmdline, …}, regions, total, …}
const proc = (s) => s.process || s;

function total(s, key) {
  const t = s.total || s.totals || {};
  return t[key] ?? 0;
}

// The columns a click on the header sorts by (every column but the tick box and the buttons):
// [key, label, left-aligned, hover, value of an entry]. Sorting orders the loaded entries; paging
// ("Load older snapshots") still goes by id.
const SORTS = [
  ['id', 'Id', false, 'Snapshot id', (s) => Number(s.id)],
  ['taken', 'Taken', true, 'When it was taken', (s) => s.taken_at_ms ?? (Date.parse(s.taken_at) || 0)],
  ['name', 'Process', true, 'Process name', (s) => String(proc(s).name || '').toLowerCase()],
  ['host', 'Host', true, 'The host the snapshot was taken on', (s) => String(s.host || '')],
  ['pid', 'PID', false, 'Process id', (s) => Number(proc(s).pid ?? 0)],
  ['committed', 'Committed', false, 'Committed memory', (s) => total(s, 'committed')],
  ['private', 'Private', false, 'Private (committed): VMMap\'s Private Bytes, counted whether touched or not; the same number as the snapshot\'s Private bar', (s) => total(s, 'private')],
  ['total_ws', 'Total WS', false, 'Total WS: resident in RAM, page tables included (ps RSS + VmPTE); the snapshot\'s Total WS', (s) => total(s, 'total_ws')],
  ['regions', 'Regions', false, 'Regions (VMAs)', (s) => Number(s.regions ?? s.n_regions ?? 0)],
  ['cmdline', 'Command line', true, 'Command line', (s) => String(proc(s).cmdline || '')],
];

export function snapshotsView(container, params) {
  let alive = true;
  let items = [];
  let more = false;
  const picked = new Set();
  let daemonHost = null; // GET /version: scans from other hosts are marked
  // a substring of the process name or command line, any case (GET /snapshots?q=)
  let nameFilter = params.q || params.name || '';
  const pidFilter = params.pid || '';

  const nameInput = el('input', { type: 'search', className: 'find', placeholder: 'Filter by name or command line', value: nameFilter, id: 'snap-filter', 'aria-label': 'Filter by process name or command line' });
  const compareBtn = el('button', { type: 'button', className: 'primary', disabled: true, id: 'btn-compare', onclick: () => compare() }, 'Compare selected');
  const count = el('span', { className: 'count muted' });
  const tbody = el('tbody');
  const thead = el('tr');
  let sortKey = 'taken';
  let sortDir = 'desc';
  if (params.sort) {
    const [k, d] = params.sort.split(':');
    if (SORTS.some((c) => c[0] === k)) { sortKey = k; sortDir = d === 'asc' ? 'asc' : 'desc'; }
  }
  function header() {
    clear(thead).append(el('th', { title: 'Tick two snapshots to compare them' }, ''),
      ...SORTS.map(([key, label, left, title]) => el('th', {
        className: `${left ? 'left ' : ''}sortable${sortKey === key ? ' sorted' : ''}`, title: `${title}. Click to sort.`, tabIndex: 0, dataset: { sort: key },
        'aria-sort': sortKey === key ? (sortDir === 'asc' ? 'ascending' : 'descending') : 'none',
        onclick: () => sortBy(key),
        onkeydown: (ev) => { if (ev.key === 'Enter') sortBy(key); },
      }, label, el('span', { className: 'vt-sort', text: sortKey === key ? (sortDir === 'asc' ? '▲' : '▼') : '' }))),
      el('th', { className: 'left' }, ''));
  }
  function sortBy(key) {
    if (sortKey === key) sortDir = sortDir === 'asc' ? 'desc' : 'asc';
    else { sortKey = key; sortDir = ['name', 'host', 'cmdline', 'pid'].includes(key) ? 'asc' : 'desc'; }
    updateParams({ sort: sortKey === 'taken' && sortDir === 'desc' ? null : `${sortKey}:${sortDir}` });
    render();
  }
  function sorted() {
    const get = SORTS.find((c) => c[0] === sortKey)[4];
    const dir = sortDir === 'asc' ? 1 : -1;
    return items.map((x, i) => [get(x), i, x]).sort((a, b) => (a[0] < b[0] ? -dir : a[0] > b[0] ? dir : a[1] - b[1])).map((t) => t[2]);
  }
  const wrap = el('div', { className: 'table-wrap' });
  const moreBtn = el('button', { type: 'button', className: 'hidden', onclick: () => load(true) }, 'Load older snapshots');

  clear(container).append(
    el('header', { className: 'view-header' },
      el('h1', { text: 'Snapshots' }),
      el('p', { className: 'muted', text: 'Every Refresh stores a snapshot. Tick two to compare them, or open one to see it as it was.' }),
      pidFilter ? el('p', null, `Only pid ${pidFilter}. `, el('a', { href: '#/snapshots', text: 'Show all' })) : null),
    el('div', { className: 'toolbar' }, nameInput, compareBtn, el('span', { className: 'spacer' }), count),
    wrap, moreBtn);

  let timer = 0;
  nameInput.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { nameFilter = nameInput.value.trim(); updateParams({ q: nameFilter || null, name: null }); load(false); }, 250);
  });

  function compare() {
    const ids = [...picked];
    if (ids.length !== 2) return;
    const [a, b] = ids.map((id) => items.find((s) => String(s.id) === id));
    const older = (a.taken_at_ms ?? 0) < (b.taken_at_ms ?? 0) || ((a.taken_at_ms === b.taken_at_ms) && Number(a.id) < Number(b.id)) ? a : b;
    const newer = older === a ? b : a;
    navigate(['diff', String(older.id), String(newer.id)], {});
  }

  async function del(s) {
    dialog(`Delete snapshot #${s.id}?`, [el('p', { text: `${proc(s).name} (pid ${proc(s).pid}), taken ${fmtTime(s.taken_at, s.taken_at_ms)}. Its share links stop working too. This cannot be undone.` })], [
      { label: 'Delete', primary: true, onclick: async () => {
        try {
          await api.deleteSnapshot(s.id);
          items = items.filter((x) => x !== s);
          picked.delete(String(s.id));
          render();
          toast(`Snapshot #${s.id} deleted.`);
        } catch (err) { toastError(err); }
      } },
      { label: 'Cancel' },
    ]);
  }

  async function share(s) {
    try {
      const r = await api.share(s.id, {});
      const url = new URL(r.url || r.path || `/s/${r.token}`, location.origin).href;
      const ok = await copyText(url);
      const input = el('input', { type: 'text', className: 'share-link mono', value: url });
      input.readOnly = true;
      dialog('Share link', [el('p', { text: ok ? 'Copied to the clipboard. Anyone with this link can see this one snapshot, read only.' : 'Copy this link. Anyone with it can see this one snapshot, read only.' }), input]);
      input.select();
    } catch (err) { toastError(err); }
  }

  function render() {
    header();
    const rows = sorted().map((s) => {
      const id = String(s.id);
      const box = el('input', { type: 'checkbox', checked: picked.has(id), 'aria-label': `Select snapshot ${id} to compare`,
        onclick: (ev) => ev.stopPropagation(),
        onchange: () => {
          if (box.checked) picked.add(id); else picked.delete(id);
          if (picked.size > 2) { const first = [...picked][0]; picked.delete(first); render(); return; }
          compareBtn.disabled = picked.size !== 2;
        } });
      const open = () => navigate(['snapshot', id], {});
      return el('tr', { className: 'snap', dataset: { id }, tabIndex: 0, onclick: open, onkeydown: (ev) => { if (ev.key === 'Enter') open(); } },
        el('td', { className: 'pick' }, box),
        el('td', { text: `#${id}` }),
        el('td', { className: 'left', title: fmtAgo(s.taken_at_ms), text: fmtTime(s.taken_at, s.taken_at_ms) }),
        el('td', { className: 'left name' }, proc(s).name || '',
          s.source === 'import' ? el('span', { className: 'tag origin', dataset: { mark: 'imported' }, title: 'Stored from a file (Open file…), not scanned by this daemon', text: 'imported' }) : null),
        el('td', { className: `left host${daemonHost && s.host && s.host !== daemonHost ? ' foreign' : ''}`,
          title: daemonHost && s.host && s.host !== daemonHost ? `Taken on another host: this daemon runs on ${daemonHost}` : '', text: s.host || '' }),
        el('td', { text: String(proc(s).pid ?? '') }),
        el('td', { text: human(total(s, 'committed')) }),
        el('td', { text: human(total(s, 'private')) }),
        el('td', { text: human(total(s, 'total_ws')) }),
        el('td', { text: typeof s.regions === 'number' ? fmtInt(s.regions) : s.n_regions != null ? fmtInt(s.n_regions) : '' }),
        el('td', { className: 'left mono cmd', title: proc(s).cmdline || '', text: proc(s).cmdline || '' }),
        el('td', { className: 'left' }, el('div', { className: 'row-actions' },
          el('button', { type: 'button', className: 'small', onclick: (ev) => { ev.stopPropagation(); open(); } }, 'Open'),
          el('button', { type: 'button', className: 'small', dataset: { act: 'share' }, onclick: (ev) => { ev.stopPropagation(); share(s); } }, 'Share'),
          el('button', { type: 'button', className: 'small danger', dataset: { act: 'delete' }, onclick: (ev) => { ev.stopPropagation(); del(s); } }, 'Delete'))));
    });
    clear(tbody).append(...rows);
    compareBtn.disabled = picked.size !== 2;
    count.textContent = `${fmtInt(items.length)}${more ? '+' : ''} snapshot${items.length === 1 ? '' : 's'}`;
    moreBtn.className = more ? '' : 'hidden';
    if (!items.length) clear(tbody).appendChild(el('tr', null, el('td', { colSpan: 12, className: 'left muted', text: 'No snapshots yet. Pick a process and it is stored here.' })));
  }

  async function load(append) {
    if (!append) clear(wrap).appendChild(loading('Loading snapshots…'));
    try {
      const before = append && items.length ? items[items.length - 1].id : null;
      if (daemonHost == null) daemonHost = await api.version().then((v) => v.host || '', () => '');
      const r = await api.snapshots({ limit: PAGE, q: nameFilter || null, pid: pidFilter || null, before });
      if (!alive) return;
      const page = Array.isArray(r) ? r : (r.snapshots || r.items || []);
      items = append ? items.concat(page) : page;
      more = r.next_before != null || (r.next_before === undefined && page.length === PAGE);
      if (!append) {
        clear(wrap).appendChild(el('table', { className: 'snaps' }, el('thead', null, thead), tbody));
      }
      render();
      document.body.dataset.view = 'snapshots';
      document.body.dataset.ready = '1';
    } catch (err) {
      if (!alive) return;
      clear(wrap).appendChild(errorPanel(err, () => load(false)));
    }
  }
  load(false);
  // The name filter's debounce must not fire into the next view (it would rewrite its URL).
  return () => { alive = false; clearTimeout(timer); delete document.body.dataset.ready; };
}
