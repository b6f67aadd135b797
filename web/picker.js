// The process picker: searchable, sortable; processes the daemon cannot read are greyed out with
// the reason. Picking one takes a snapshot (VMMap: every refresh is a snapshot) and opens it.
import { api } from './api.js';
import { el, clear, human, fmtInt } from './format.js';
import { navigate, updateParams } from './route.js';
import { errorPanel, loading, toast, toastError } from './ui.js';
import { startWatch } from './timeline.js';

const COLS = [
  { key: 'pid', label: 'PID', num: true, title: 'Process ID' },
  { key: 'name', label: 'Name', title: 'The process name (comm)' },
  { key: 'user', label: 'User', title: 'Owner of the process' },
  { key: 'rss', label: 'RSS', num: true, title: 'Resident set size: memory in RAM now, shared pages counted in full' },
  // Not "Private": the snapshot's Private is commit-style (VMMap's Private Bytes). This column is
  // the kernel's RssAnon (/proc/PID/status), the only private measure the list can read cheaply.
  { key: 'anon', label: 'RssAnon', num: true, title: 'Anonymous resident memory (RssAnon in /proc/PID/status): heap, stacks and other anonymous pages in RAM now. Not the snapshot\'s Private, which counts committed private memory whether touched or not (VMMap\'s Private Bytes).' },
  // Pss and Uss come from smaps_rollup (a second, slower request: it walks every page table);
  // the same names and meanings as the snapshot's Pss and Uss columns (docs/memory-types.md).
  { key: 'pss', label: 'Pss', num: true, title: 'Proportional set size (smaps_rollup Pss): resident memory with each shared page divided among the processes mapping it; adds up across processes. Blank until read, or when the daemon cannot read the process.' },
  { key: 'uss', label: 'Uss', num: true, title: 'Unique set size (smaps_rollup Private_Clean + Private_Dirty): resident pages this process alone maps, roughly what exiting would free. The snapshot\'s Uss column is the same number.' },
  { key: 'swap', label: 'Swap', num: true, title: 'Memory of this process currently swapped out' },
  { key: 'threads', label: 'Threads', num: true, title: 'Number of threads' },
  { key: 'arch', label: 'Arch', title: 'Instruction set and word size of the program' },
  { key: 'cmdline', label: 'Command line', title: 'The command line (or why the process cannot be read)' },
];

function val(p, key) {
  switch (key) {
    case 'rss': return p.vm_rss ?? p.rss ?? 0;
    case 'anon': return p.rss_anon ?? 0;
    case 'swap': return p.vm_swap ?? p.swap ?? 0;
    case 'arch': return p.arch && p.arch.bits ? `${p.arch.machine || ''} ${p.arch.bits}-bit` : '';
    case 'cmdline': return p.cmdline || '';
    default: return p[key] ?? '';
  }
}

function readable(p) {
  return p.maps_readable !== false;
}

// Why the daemon cannot read a process, in words.
function reason(p) {
  if (p.reason) return p.reason;
  const u = p.unreadable;
  if (u && typeof u === 'object') return u.message || u.code || 'cannot be read';
  if (typeof u === 'string') return u;
  return p.kernel_thread ? 'kernel thread: no user address space' : 'cannot be read';
}

export function pickerView(container, params) {
  let alive = true;
  let procs = [];
  let sortKey = 'rss';
  let sortDir = 'desc';
  if (params.sort) {
    const [k, d] = params.sort.split(':');
    const key = k === 'private' ? 'anon' : k; // links made before the column was renamed
    if (COLS.some((c) => c.key === key)) { sortKey = key; sortDir = d === 'asc' ? 'asc' : 'desc'; }
  }
  let filter = params.q || '';
  let hideUnreadable = params.all === '0';

  const search = el('input', { type: 'search', id: 'proc-search', className: 'find', placeholder: 'Filter by name, pid, user or command line', value: filter, 'aria-label': 'Filter processes' });
  const hide = el('input', { type: 'checkbox', id: 'hide-unreadable', checked: hideUnreadable });
  const count = el('span', { className: 'count muted' });
  const tbody = el('tbody');
  const thead = el('thead');
  const tableWrap = el('div', { className: 'table-wrap procs-wrap' });
  const reload = el('button', { type: 'button', className: 'small', onclick: () => load() }, 'Reload');
  clear(container).append(
    el('header', { className: 'view-header' },
      el('h1', { text: 'Pick a process' }),
      el('p', { className: 'muted', text: 'Click a process to take a snapshot of its address space. Greyed processes cannot be read by the daemon; the reason is shown.' })),
    el('div', { className: 'toolbar' }, search,
      el('label', { className: 'check' }, hide, ' Hide processes I cannot read'),
      el('span', { className: 'spacer' }), count, reload),
    tableWrap);

  search.addEventListener('input', () => { filter = search.value; render(); updateParams({ q: filter || null }); });
  hide.addEventListener('change', () => { hideUnreadable = hide.checked; render(); updateParams({ all: hideUnreadable ? '0' : null }); });
  search.focus();

  function header() {
    clear(thead).appendChild(el('tr', null, COLS.map((c) => el('th', {
      className: `${c.num ? '' : 'left'} sortable${sortKey === c.key ? ' sorted' : ''}`,
      title: c.title, tabIndex: 0, dataset: { key: c.key },
      'aria-sort': sortKey === c.key ? (sortDir === 'asc' ? 'ascending' : 'descending') : 'none',
      onclick: () => sortBy(c),
      onkeydown: (ev) => { if (ev.key === 'Enter') sortBy(c); },
    }, c.label, el('span', { className: 'vt-sort', text: sortKey === c.key ? (sortDir === 'asc' ? '▲' : '▼') : '' })))));
  }

  function sortBy(c) {
    if (sortKey === c.key) sortDir = sortDir === 'asc' ? 'desc' : 'asc';
    else { sortKey = c.key; sortDir = c.num && c.key !== 'pid' ? 'desc' : 'asc'; }
    updateParams({ sort: `${sortKey}:${sortDir}` });
    render();
  }

  async function pick(p) {
    if (!readable(p)) {
      toast(`Cannot read ${p.name} (${p.pid}): ${reason(p)}`, 'error');
      return;
    }
    const row = tbody.querySelector(`tr[data-pid="${p.pid}"]`);
    if (row) row.classList.add('busy');
    try {
      const r = await api.takeSnapshot(p.pid);
      navigate(['snapshot', String(r.id)], {});
    } catch (err) {
      if (row) row.classList.remove('busy');
      toastError(err);
    }
  }

  function render() {
    header();
    const f = filter.trim().toLowerCase();
    let list = procs.filter((p) => (!hideUnreadable || readable(p)) &&
      (!f || String(p.pid) === f || `${p.pid}\n${p.name}\n${p.user}\n${p.cmdline || ''}`.toLowerCase().includes(f)));
    const dir = sortDir === 'asc' ? 1 : -1;
    const num = COLS.find((c) => c.key === sortKey).num;
    list = list.sort((a, b) => {
      const x = val(a, sortKey);
      const y = val(b, sortKey);
      const c = num ? x - y : String(x).localeCompare(String(y));
      return c * dir || a.pid - b.pid;
    });
    const rows = list.map((p) => {
      const ok = readable(p);
      const cmd = ok ? (p.cmdline || `[${p.name}]`) : `${reason(p)}${p.cmdline ? ' — ' + p.cmdline : ''}`;
      return el('tr', {
        className: ok ? 'proc' : 'proc unreadable', dataset: { pid: String(p.pid) },
        title: ok ? `Take a snapshot of ${p.name} (${p.pid})` : `Cannot read this process: ${reason(p)}`,
        tabIndex: 0, 'aria-disabled': ok ? null : 'true',
        onclick: () => pick(p),
        onkeydown: (ev) => { if (ev.key === 'Enter') pick(p); },
      },
      el('td', { text: String(p.pid) }),
      el('td', { className: 'left name' }, el('span', { className: 'proc-label', text: p.name || '' }), ok ? el('button', {
        type: 'button', className: 'small pick-watch', title: `Watch this process: sample ${p.name} (${p.pid}) every second and chart what grows`,
        onclick: (ev) => { ev.stopPropagation(); startWatch(p.pid); },
        onkeydown: (ev) => ev.stopPropagation(),
      }, 'Watch') : null),
      el('td', { className: 'left', text: p.user ?? '' }),
      el('td', { text: human(val(p, 'rss')) }),
      el('td', { dataset: { col: 'anon' }, text: human(val(p, 'anon')) }),
      el('td', { dataset: { col: 'pss' }, text: p.pss != null ? human(p.pss) : '' }),
      el('td', { dataset: { col: 'uss' }, text: p.uss != null ? human(p.uss) : '' }),
      el('td', { text: val(p, 'swap') ? human(val(p, 'swap')) : '' }),
      el('td', { text: p.threads != null ? fmtInt(p.threads) : '' }),
      el('td', { className: 'left', text: val(p, 'arch') }),
      el('td', { className: `left cmd${ok ? ' mono' : ' reason'}`, title: cmd, text: cmd }));
    });
    clear(tbody).append(...rows);
    const unreadable = procs.filter((p) => !readable(p)).length;
    count.textContent = `${fmtInt(list.length)} of ${fmtInt(procs.length)} processes${unreadable ? `, ${fmtInt(unreadable)} unreadable` : ''}`;
  }

  async function load() {
    if (!procs.length) clear(tableWrap).appendChild(loading('Listing processes…'));
    try {
      const r = await api.processes();
      if (!alive) return;
      procs = Array.isArray(r) ? r : (r.processes || r.items || []);
      clear(tableWrap).appendChild(el('table', { className: 'procs' }, thead, tbody));
      render();
      document.body.dataset.view = 'processes';
      document.body.dataset.ready = '1';
      loadRollup();
    } catch (err) {
      if (!alive) return;
      clear(tableWrap).appendChild(errorPanel(err, load));
    }
  }
  // Pss and Uss for every readable process, merged into the list when they arrive.
  async function loadRollup() {
    try {
      const r = await api.processes({ rollup: 1 });
      if (!alive) return;
      const by = new Map((r.processes || []).map((p) => [p.pid, p]));
      for (const p of procs) {
        const q = by.get(p.pid);
        if (q && q.start_time_ticks === p.start_time_ticks) { p.pss = q.pss; p.uss = q.uss; }
      }
      render();
      document.body.dataset.rollup = '1';
    } catch { /* the columns stay blank: the list itself is fine */ }
  }
  load();
  return () => { alive = false; delete document.body.dataset.ready; delete document.body.dataset.rollup; };
}
