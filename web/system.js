// Across processes (smem's -w, -u and -m): memory of the whole host by area and by user, and the
// mapped files with the processes that map each (who uses libssl, and how much). Only processes
// the daemon may read are counted or named; the others are a count. Deep links:
//   #/system?q=libssl            files whose path contains "libssl", their processes listed
//   #/system?path=/usr/lib/…     one file: which processes map it (from a snapshot's Image row)
//   #/system?types=1             also the totals by VMMap type over every readable process
import { api } from './api.js';
import { el, clear, human, fmtInt } from './format.js';
import { navigate, updateParams, routeHash } from './route.js';
import { errorPanel, loading } from './ui.js';
import { TYPE_BY_KEY, COLUMN_LABEL } from './palette.js';

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

// Totals by VMMap type (GET /system?types=1): every readable process's full smaps, classified
// as a snapshot is; Pss adds up to those processes' Pss.
const TYPE_COLS = [
  ['size', 'Address space reserved or committed'],
  ['committed', 'Address space with storage behind it'],
  ['total_ws', 'Resident pages (Rss), a shared page once per process, plus the page tables'],
  ['private', "Commit-style, VMMap's Private Bytes: counted whether touched or not"],
  ['private_ws', 'The resident part of Private'],
  ['pss', WORDS.pss],
  ['uss', WORDS.uss],
];

function swatch(key) {
  const s = el('span', { className: 'swatch' });
  s.style.background = (TYPE_BY_KEY[key] || TYPE_BY_KEY.private_data).color; // CSSOM: CSP allows it
  return s;
}

function typesTable(bt) {
  const cells = (v) => TYPE_COLS.map(([k]) => el('td', { text: human(v[k]) }));
  const rows = (bt.types || []).map((t) => el('tr', { dataset: { type: t.key } },
    el('td', { className: 'left' }, swatch(t.key), t.type),
    ...cells(t), el('td', { text: fmtInt(t.blocks) })));
  rows.push(el('tr', { className: 'total', dataset: { type: 'total' } }, el('td', { className: 'left', text: 'Total' }), ...cells(bt.total), el('td', { text: fmtInt(bt.total.blocks) })));
  return table('types', [['Type', 'VMMap types, as a snapshot classifies each process (Free left out)', true],
    ...TYPE_COLS.map(([k, title]) => [COLUMN_LABEL[k], title]), ['Blocks', 'Allocations of this type']], rows);
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
  const typesWrap = el('section', { className: 'card sys-card sys-types' });
  const filesWrap = el('div', { className: 'table-wrap sys-files-wrap' }, loading('Reading the smaps of every process…'));
  const pathChip = path ? el('span', { className: 'chip', title: path }, `file: ${path}`,
    el('button', { type: 'button', className: 'chip-x', 'aria-label': 'Show every file', title: 'Show every file', onclick: () => navigate(['system'], {}) }, '✕')) : null;
  clear(container).append(
    el('header', { className: 'view-header' },
      el('h1', { text: 'System — across processes' }),
      el('p', { className: 'muted', text: 'Memory of this host by area and by user, and every mapped file with the processes that map it. Pss adds up across processes; Rss counts a shared page once per process. Only processes the daemon can read are counted.' })),
    top,
    typesWrap,
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
    return [head, ...(f.processes || []).map((p) => el('tr', { className: 'mapper', dataset: { pid: String(p.pid), file: f.path } },
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

  function typesOffer() {
    clear(typesWrap).append(el('h2', { text: 'By type' }),
      el('p', { className: 'muted' }, 'Image, Heap, Stack … summed over every process the daemon can read. ',
        el('button', { type: 'button', id: 'load-types', title: "Reads and classifies every process's full smaps (walks every page table: costly on a big host)", onclick: () => { updateParams({ types: '1' }); loadTypes(); } }, 'Add up by type')));
  }

  async function loadTypes() {
    clear(typesWrap).append(el('h2', { text: 'By type' }), loading('Reading and classifying every process’s smaps…'));
    try {
      const r = await api.system({ users: 0, types: 1 });
      if (!alive) return;
      const bt = r.by_type;
      const left = [bt.unreadable ? `${procs(bt.unreadable)} the daemon cannot read` : '', bt.gone ? `${procs(bt.gone)} that exited during the scan` : ''].filter(Boolean).join(', ');
      clear(typesWrap).append(el('h2', { text: `By type, over ${procs(bt.processes_read)}` }),
        el('div', { className: 'table-wrap' }, typesTable(bt)),
        el('p', { className: 'muted', text: `Pss adds up: its total is the Pss of these processes. Free address space is left out.${left ? ` Not counted: ${left}.` : ''}` }));
      typesWrap.dataset.ready = '1';
    } catch (err) {
      if (alive) clear(typesWrap).append(el('h2', { text: 'By type' }), errorPanel(err, loadTypes));
    }
  }
  if (params.types === '1') loadTypes(); else typesOffer();

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
