// Across processes (smem's -w, -u and -m): memory of the whole host by area and by user, and the
// mapped files with the processes that map each (who uses libssl, and how much). Only processes
// the daemon may read are counted or named; the others are a count. Deep links:
//   #/system?q=libssl            files whose path contains "libssl", their processes listed
//   #/system?path=/usr/lib/…     one file: which processes map it (from a snapshot's Image row)
import { api } from './api.js';
import { el, clear, human, fmtInt } from './format.js';
import { navigate, updateParams, routeHash } from './route.js';
import { errorPanel, loading } from './ui.js';

const AREA_HELP = {
  kernel: 'MemTotal − MemFree − userspace; of it cache = Buffers + SReclaimable + (Cached − Mapped) (as smem -w)',
  userspace: 'AnonPages + Mapped; of it cache = Mapped (file pages the kernel can drop and read again)',
  free: 'MemFree',
};
const WORDS = {
  pss: 'Pss: resident memory with each shared page divided among the processes mapping it. Adds up: the sum is the RAM the pages take.',
  rss: 'Rss: resident memory, a shared page counted once in every process that maps it (does not add up).',
  uss: 'Uss: pages mapped by one process alone (Private_Clean + Private_Dirty), roughly what exiting would free.',
  swap: 'Swap: swapped-out pages (VmSwap for users; smaps Swap for files).',
};

const procs = (n) => `${fmtInt(n)} process${n === 1 ? '' : 'es'}`;

function table(cls, head, rows) {
  return el('table', { className: `sys ${cls}` },
    el('thead', null, el('tr', null, head.map(([label, title, left]) => el('th', { className: left ? 'left' : '', title: title || '', text: label })))),
    el('tbody', null, rows));
}

function areasTable(r) {
  const rows = (r.areas || []).map((a) => el('tr', { dataset: { area: a.key }, title: AREA_HELP[a.key] || '' },
    el('td', { className: 'left', text: a.name }), el('td', { text: human(a.used) }),
    el('td', { text: human(a.cache) }), el('td', { text: human(a.noncache) })));
  rows.push(el('tr', { className: 'total' }, el('td', { className: 'left', text: 'total (MemTotal)' }),
    el('td', { text: human(r.meminfo.mem_total) }), el('td'), el('td')));
  return table('areas', [['Area', 'As smem -w: from /proc/meminfo', true], ['Used'], ['Cache', 'What the kernel can reclaim'], ['Noncache']], rows);
}

function usersTable(r) {
  const row = (u, cls) => el('tr', { className: cls || '', dataset: { user: u.user } },
    el('td', { className: 'left', text: u.user }), el('td', { text: fmtInt(u.processes) }),
    el('td', { text: human(u.pss) }), el('td', { text: human(u.uss) }), el('td', { text: human(u.rss) }), el('td', { text: u.swap ? human(u.swap) : '' }));
  const rows = (r.users || []).map((u) => row(u));
  if (r.total) rows.push(row({ ...r.total, user: 'total' }, 'total'));
  return table('users', [['User', 'Processes the daemon can read, grouped by owner (as smem -u)', true], ['Processes'],
    ['Pss', WORDS.pss], ['Uss', WORDS.uss], ['Rss', WORDS.rss], ['Swap', WORDS.swap]], rows);
}

export function systemView(container, params) {
  let alive = true;
  let q = params.q || '';
  const path = params.path || '';
  const open = new Set(path ? [path] : []);
  let files = null;

  const search = el('input', { type: 'search', id: 'file-search', className: 'find', placeholder: 'Files whose path contains… (libssl, libc.so, .jar)', value: q, 'aria-label': 'Filter mapped files' });
  const count = el('span', { className: 'count muted' });
  const top = el('div', { className: 'sys-top' }, loading('Reading /proc/meminfo and every smaps_rollup…'));
  const filesWrap = el('div', { className: 'table-wrap sys-files-wrap' }, loading('Reading the smaps of every process…'));
  const pathChip = path ? el('span', { className: 'chip', title: path }, `file: ${path}`,
    el('button', { type: 'button', className: 'chip-x', 'aria-label': 'Show every file', title: 'Show every file', onclick: () => navigate(['system'], {}) }, '✕')) : null;
  clear(container).append(
    el('header', { className: 'view-header' },
      el('h1', { text: 'System — across processes' }),
      el('p', { className: 'muted', text: 'Memory of this host by area and by user, and every mapped file with the processes that map it. Pss adds up across processes; Rss counts a shared page once per process. Only processes the daemon can read are counted.' })),
    top,
    el('h2', { className: 'sys-h', text: 'Mapped files' }),
    el('div', { className: 'toolbar' }, pathChip || search, el('span', { className: 'spacer' }), count),
    filesWrap);

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { q = search.value.trim(); updateParams({ q: q || null }); loadFiles(); }, 300);
  });

  function fileRows(f) {
    const isOpen = open.has(f.path);
    const head = el('tr', {
      className: `file${isOpen ? ' open' : ''}`, dataset: { path: f.path }, tabIndex: 0,
      title: `${f.path}${f.deleted ? ' (deleted)' : ''} — click for the processes that map it`,
      onclick: () => toggle(f.path), onkeydown: (ev) => { if (ev.key === 'Enter') toggle(f.path); },
    },
    el('td', { text: human(f.pss) }), el('td', { text: human(f.rss) }), el('td', { text: human(f.uss) }),
    el('td', { text: f.swap ? human(f.swap) : '' }), el('td', { text: fmtInt(f.n_procs) }),
    el('td', { className: 'left mono path', text: `${isOpen ? '▾' : '▸'} ${f.path}${f.deleted ? ' (deleted)' : ''}` }));
    if (!isOpen) return [head];
    return [head, ...(f.processes || []).map((p) => el('tr', { className: 'mapper', dataset: { pid: String(p.pid) } },
      el('td', { text: human(p.pss) }), el('td', { text: human(p.rss) }), el('td', { text: human(p.uss) }),
      el('td', { text: p.swap ? human(p.swap) : '' }), el('td', { className: 'muted', title: 'Mappings (VMAs) of the file in this process', text: `${p.n_maps} map${p.n_maps === 1 ? '' : 's'}` }),
      el('td', { className: 'left' }, el('a', { href: routeHash(['live', String(p.pid)], {}), title: `Scan ${p.name} (${p.pid}) now`, text: `${p.name} (${p.pid})` }),
        el('span', { className: 'muted', text: ` · ${p.user}` }))))];
  }

  function toggle(p) {
    if (open.has(p)) open.delete(p); else open.add(p);
    renderFiles();
  }

  function renderFiles() {
    if (!files) return;
    const list = files.files || [];
    const rows = list.flatMap(fileRows);
    clear(filesWrap).appendChild(table('files', [['Pss', WORDS.pss], ['Rss', WORDS.rss], ['Uss', WORDS.uss], ['Swap', WORDS.swap],
      ['Processes', 'How many processes map it'], ['File', 'Path, device and inode identify a file', true]], rows));
    if (!list.length) filesWrap.appendChild(el('p', { className: 'muted empty', text: path ? 'No process the daemon can read maps this file now.' : 'No mapped file matches.' }));
    const shown = files.shown < files.count ? `${fmtInt(files.shown)} of ${fmtInt(files.count)} files` : `${fmtInt(files.count)} file${files.count === 1 ? '' : 's'}`;
    count.textContent = `${shown}, Pss ${human(files.pss)} over ${procs(files.processes_read)}${files.unreadable ? `; ${procs(files.unreadable)} the daemon cannot read ${files.unreadable === 1 ? 'is' : 'are'} not counted` : ''}`;
  }

  async function loadTop() {
    try {
      const r = await api.system();
      if (!alive) return;
      clear(top).append(
        el('section', { className: 'card sys-card' }, el('h2', { text: 'Memory by area' }), areasTable(r)),
        el('section', { className: 'card sys-card' }, el('h2', { text: 'By user' }), usersTable(r),
          r.unreadable ? el('p', { className: 'muted', text: `${procs(r.unreadable)} the daemon cannot read ${r.unreadable === 1 ? 'is' : 'are'} not counted.` }) : null));
    } catch (err) {
      if (alive) clear(top).appendChild(errorPanel(err, loadTop));
    }
  }

  let seq = 0;
  async function loadFiles() {
    const mine = ++seq;
    try {
      const r = await api.systemFiles(path ? { path } : { q: q || null, limit: q ? 1000 : 200 });
      if (!alive || mine !== seq) return;
      files = r;
      if (q && r.files.length <= 3) for (const f of r.files) open.add(f.path);
      renderFiles();
      document.body.dataset.view = 'system';
      document.body.dataset.ready = '1';
    } catch (err) {
      if (alive && mine === seq) clear(filesWrap).appendChild(errorPanel(err, loadFiles));
    }
  }
  loadTop().then(loadFiles);
  return () => { alive = false; clearTimeout(timer); delete document.body.dataset.ready; };
}
