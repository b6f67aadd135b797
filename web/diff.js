// Diff view (VMMap's Show Changes): per-type deltas, then the allocations and regions that were
// added, removed or changed, coloured, with a delta per column. Reads GET /api/v1/diff.
import { api } from './api.js';
import { el, clear, fmtTime, fmtAddr, parseAddr, fmtDelta, fmtSize, human, fmtInt, unitSuffix, UNIT_MODES } from './format.js';
import { TYPES, TYPE_BY_KEY, typeName, COLUMN_LABEL } from './palette.js';
import { VirtualTable } from './vtable.js';
import { navigate, updateParams, routeHash } from './route.js';
import { errorPanel, loading } from './ui.js';
import { COLUMN_HELP, TYPE_HELP, helpText } from './help-texts.js';
import { initialColumns, columnChooser, colsParam, BYTE_COLUMNS, columnHelp, widthOf, saveWidth } from './columns.js';
import { onlySharingMoved, fromTo, allocHref } from './changes.js';

const SHOW = [
  { key: 'all', label: 'All changes' },
  { key: 'added', label: 'Added' },
  { key: 'removed', label: 'Removed' },
  { key: 'changed', label: 'Changed' },
];

function kindOf(changes) {
  if (changes.includes('added')) return 'added';
  if (changes.includes('removed')) return 'removed';
  return 'changed';
}

// source: {from, to} snapshot ids, or {pid, to?} for snapshot `to` of a process (default: its
// newest) and the one before it, as the server chooses; the URL then becomes #/diff/FROM/TO.
export function diffView(container, source, params) {
  let alive = true;
  let table = null;
  const load = async () => {
    clear(container).appendChild(loading('Comparing snapshots…'));
    let d;
    try {
      d = source.pid != null ? await api.changes(source.pid, source.to) : await api.diff(source.from, source.to);
    } catch (err) {
      if (!alive) return;
      clear(container).appendChild(errorPanel(err, err && (err.status === 404 || err.status === 400) ? null : load));
      container.appendChild(el('p', null, source.pid != null && source.to != null
        ? el('a', { href: `#/snapshot/${encodeURIComponent(source.to)}`, text: `Back to snapshot #${source.to}` })
        : el('a', { href: '#/snapshots', text: 'Back to the snapshots list' })));
      return;
    }
    if (!alive) return;
    if (source.pid != null && d.from_id != null && d.to_id != null) {
      // the pair the server chose, as a link that keeps meaning the same pair
      history.replaceState(history.state, '', location.pathname + location.search + routeHash(['diff', String(d.from_id), String(d.to_id)], { ...params, to: null }));
      source = { from: String(d.from_id), to: String(d.to_id) };
      document.title = `vmscope · changes #${source.from} → #${source.to}`;
    }
    table = render(container, d, source, params);
    const side = d.to || d.from || {};
    document.title = `${side.name || '?'} (pid ${side.pid}) · changes #${source.from ?? d.from_id} → #${source.to ?? d.to_id} · vmscope`;
    document.body.dataset.view = 'diff';
    document.body.dataset.ready = '1';
  };
  load();
  return () => { alive = false; if (table) table.destroy(); delete document.body.dataset.ready; };
}

function render(container, d, source, params) {
  let units = UNIT_MODES.some((u) => u.key === params.units) ? params.units : 'auto';
  let show = SHOW.some((s) => s.key === params.show) ? params.show : 'all';
  // rows where only Pss / Swap Pss / Shared WS moved (other processes' doing) are hidden unless asked
  let withSharing = params.sharing === '1';
  // the byte cells show the change (Δ) or the values before and after (from → to)
  let vals = params.vals === 'ft' ? 'ft' : 'delta';
  // The details table's column choice (columns.js): its byte columns as deltas, and Protection,
  // Named by and Details when chosen.
  let cols = initialColumns(params);
  let shown = cols.filter((k) => BYTE_COLUMNS.has(k));
  const ac = new AbortController();
  const from = d.from || {};
  const to = d.to || {};
  const fromId = source.from ?? from.id;
  const toId = source.to ?? to.id;

  // ---- header ----
  const snapLink = (id, side) => (id != null
    ? el('a', { href: `#/snapshot/${encodeURIComponent(id)}`, text: `#${id}` })
    : el('span', { text: side }));
  const header = el('header', { className: 'view-header' },
    el('div', { className: 'title-row' },
      el('div', null,
        el('h1', { className: 'proc-title' }, 'Changes in ', el('span', { className: 'proc-name', text: to.name || from.name || '?' }),
          el('span', { className: 'proc-pid', text: ` pid ${to.pid ?? from.pid}` })),
        el('p', { className: 'where' }, 'From snapshot ', snapLink(fromId ?? d.from_id, '?'), ` (${fmtTime(from.taken_at, from.taken_at_ms)}) to `,
          snapLink(toId ?? d.to_id, '?'), ` (${fmtTime(to.taken_at, to.taken_at_ms)})`,
          from.taken_at_ms && to.taken_at_ms ? `, ${human0((to.taken_at_ms - from.taken_at_ms) / 1000)} apart` : '')),
      el('div', { className: 'actions' },
        fromId != null && toId != null ? el('button', { type: 'button', onclick: () => navigate(['diff', String(toId), String(fromId)], {}), title: 'Swap the two snapshots' }, 'Swap') : null,
        el('a', { className: 'button', href: '#/snapshots' + (to.pid ? `?pid=${to.pid}` : '') }, 'Pick other snapshots'))),
    d.same_process === false ? el('p', { className: 'note warn', text: 'These snapshots are of different processes (or of one pid reused by a new process): addresses are not comparable in a meaningful way.' }) : null);

  // ---- per-type deltas ----
  const sumByType = Object.fromEntries((d.summary || d.types || []).map((s) => [s.type, s]));
  const typeTable = () => {
    const head = el('tr', null, el('th', { className: 'left' }, 'Type'),
      shown.map((k) => el('th', { title: helpText(COLUMN_HELP, k) || COLUMN_LABEL[k] }, `Δ ${COLUMN_LABEL[k]}${unitSuffix(units)}`)),
      el('th', { title: 'Change in the number of allocations of this type' }, 'Δ Blocks'));
    const rows = TYPES.map((t) => {
      const s = sumByType[t.key] || { columns: {}, blocks: 0 };
      const c = s.columns || {};
      const zero = shown.every((k) => !c[k]) && !s.blocks;
      const sw = el('span', { className: `swatch${t.key === 'free' ? ' free' : ''}` });
      sw.style.backgroundColor = t.color;
      return el('tr', { className: zero ? 'empty' : '', dataset: { type: t.key } },
        el('th', { className: 'left', scope: 'row', title: helpText(TYPE_HELP, t.key) || t.name }, sw, t.name),
        shown.map((k) => deltaCell(c[k], units, t.key === 'free')),
        deltaCell(s.blocks, null, t.key === 'free'));
    });
    const tot = d.total || {};
    rows.push(el('tr', { className: 'total' }, el('th', { className: 'left', scope: 'row' }, 'Total'),
      shown.map((k) => deltaCell(tot[k], units)), el('td')));
    return el('table', { className: 'type-table diff-types' }, el('thead', null, head), el('tbody', null, rows));
  };
  const typeWrap = el('div', { className: 'table-wrap' }, typeTable());

  const allocs = d.allocations || [];
  const regions = d.regions || [];
  const counts = { added: 0, removed: 0, changed: 0 };
  for (const a of allocs) counts[kindOf(a.changes || [])]++;
  const tot = d.total || {};
  const sentence = el('p', { className: 'diff-summary' },
    `Committed ${signed(tot.committed)}, Private ${signed(tot.private)}, Total WS ${signed(tot.total_ws)}. `,
    el('span', { className: 'tag added' }, `${fmtInt(counts.added)} added`), ' ',
    el('span', { className: 'tag removed' }, `${fmtInt(counts.removed)} removed`), ' ',
    el('span', { className: 'tag changed' }, `${fmtInt(counts.changed)} changed`), ' allocations.');

  // ---- changes table: allocations, expandable to their region changes ----
  const regsOfAlloc = new Map(); // allocation entry index -> region entry indices
  const byToAlloc = new Map();
  const byFromAlloc = new Map();
  allocs.forEach((a, i) => {
    if (a.to) byToAlloc.set(a.to.index, i);
    if (a.from) byFromAlloc.set(a.from.index, i);
  });
  regions.forEach((r, j) => {
    let i;
    if (r.to && byToAlloc.has(r.to.allocation)) i = byToAlloc.get(r.to.allocation);
    else if (r.from && byFromAlloc.has(r.from.allocation)) i = byFromAlloc.get(r.from.allocation);
    if (i === undefined) return;
    if (!regsOfAlloc.has(i)) regsOfAlloc.set(i, []);
    regsOfAlloc.get(i).push(j);
  });
  const expanded = new Set();
  let sortKey = 'address';
  let sortDir = 'asc';
  let rows = []; // {a: i} or {r: j}

  const addrOf = (e) => parseAddr((e.to || e.from).start);
  const rebuild = () => {
    let idx = allocs.map((_, i) => i).filter((i) => (show === 'all' || kindOf(allocs[i].changes || []) === show) &&
      (withSharing || !onlySharingMoved(allocs[i])));
    sharingNote.textContent = withSharing ? '' : `(${fmtInt(allocs.filter(onlySharingMoved).length)} hidden)`;
    const dir = sortDir === 'asc' ? 1 : -1;
    if (sortKey === 'address') idx.sort((x, y) => (addrOf(allocs[x]) < addrOf(allocs[y]) ? -dir : dir));
    else idx.sort((x, y) => ((allocs[x].delta || {})[sortKey] - (allocs[y].delta || {})[sortKey]) * dir || x - y);
    rows = [];
    for (const i of idx) {
      rows.push({ a: i });
      if (expanded.has(i)) for (const j of regsOfAlloc.get(i) || []) rows.push({ r: j });
    }
    table.setSortIndicator(sortKey === 'address' && sortDir === 'asc' ? null : sortKey, sortDir);
    table.setCount(rows.length, show === 'all' ? 'Nothing changed between these snapshots.' : `No ${show} allocations.`);
    countEl.textContent = `${fmtInt(idx.length)} allocation${idx.length === 1 ? '' : 's'}`;
  };

  const addrPx = Math.round((String(((allocs[0] && (allocs[0].to || allocs[0].from)) || {}).start || '0x000000000000').length + 4) * 7.3 + 18);
  const columnSpecs = () => {
    const specs = [
      { key: 'address', label: 'Address', width: `${Math.max(150, addrPx)}px`, cellClass: 'mono addr' },
      { key: 'change', label: 'Change', width: '92px', sortable: false, title: 'added, removed, grown, shrunk, protection, path, or usage (only the numbers moved)' },
      { key: 'type', label: 'Type', width: '108px', cellClass: 'type', sortable: false },
    ];
    for (const k of cols) {
      if (BYTE_COLUMNS.has(k)) specs.push(vals === 'ft' ? { key: k, label: COLUMN_LABEL[k], width: '150px', align: 'right', title: `${helpText(COLUMN_HELP, k) || COLUMN_LABEL[k]} Before → after.` }
        : { key: k, label: `Δ ${COLUMN_LABEL[k]}`, width: '84px', align: 'right', title: `${helpText(COLUMN_HELP, k) || COLUMN_LABEL[k]} Hover a cell for the values before and after.` });
      else if (k === 'protection') specs.push({ key: k, label: 'Protection', width: '120px', cellClass: 'mono', sortable: false });
      else if (k === 'owner') specs.push({ key: k, label: 'Named by', width: '100px', cellClass: 'owner', sortable: false, title: columnHelp('owner') });
      else if (k === 'details') specs.push({ key: k, label: 'Details', width: 'minmax(170px, 1fr)', cellClass: 'details', sortable: false });
    }
    for (const c of specs) c.width = widthOf('diff', c.key, c.width);
    return specs;
  };
  let columns = columnSpecs();
  const table = new VirtualTable({
    className: 'diff-table',
    columns,
    frozen: 1,
    onResize: (key, px) => saveWidth('diff', key, px),
    rowHeight: 22,
    onSort: (key) => {
      if (key === sortKey) {
        if (key !== 'address' && sortDir === 'asc') { sortKey = 'address'; sortDir = 'asc'; } else sortDir = sortDir === 'asc' ? 'desc' : 'asc';
      } else { sortKey = key; sortDir = key === 'address' ? 'asc' : 'desc'; }
      rebuild();
    },
    onRowClick: (i) => {
      const row = rows[i];
      if (row && row.a !== undefined && regsOfAlloc.has(row.a)) {
        if (expanded.has(row.a)) expanded.delete(row.a); else expanded.add(row.a);
        rebuild();
      }
    },
    renderRow: (i, rowEl, cells) => {
      const row = rows[i];
      const isAlloc = row.a !== undefined;
      const e = isAlloc ? allocs[row.a] : regions[row.r];
      const side = e.to || e.from;
      const ch = e.changes || [];
      const kind = kindOf(ch);
      const nreg = isAlloc ? (regsOfAlloc.get(row.a) || []).length : 0;
      const dl = e.delta || {};
      const fc = (e.from && e.from.columns) || null;
      const tc = (e.to && e.to.columns) || null;
      for (let k = 0; k < columns.length; k++) {
        const key = columns[k].key;
        const c = cells[k];
        if (key === 'address') {
          // an allocation's address leads to it in its snapshot (the later one; a removed one in
          // the earlier), with the changes marked there
          const href = isAlloc ? allocHref(e, fromId, toId) : null;
          const lead = (isAlloc ? (nreg ? (expanded.has(row.a) ? '▾ ' : '▸ ') : '  ') : '    ');
          if (href) c.replaceChildren(lead, el('a', { href, className: 'alloc-link', title: `Open this allocation in snapshot #${e.to ? toId : fromId}`, text: fmtAddr(side.start) }));
          else c.textContent = lead + fmtAddr(side.start);
        }
        else if (key === 'change') { c.textContent = ch.join(', '); c.title = ch.join(', '); }
        else if (key === 'type') {
          c.textContent = isAlloc ? typeName(side.type) : (side.role || typeName(side.type));
          c.style.setProperty('--swatch', (TYPE_BY_KEY[side.type] || TYPE_BY_KEY.private_data).color);
        } else if (BYTE_COLUMNS.has(key)) {
          const v = dl[key] || 0;
          c.textContent = vals === 'ft' ? (v || !isAlloc ? fromTo(e, key, units) : '') : fmtDelta(v, units);
          c.className = `vt-cell right ${v > 0 ? 'up' : v < 0 ? 'down' : ''}`;
          const was = fc ? fc[key] : key === 'size' && e.from ? e.from.size : null;
          const now = tc ? tc[key] : key === 'size' && e.to ? e.to.size : null;
          c.title = `${COLUMN_LABEL[key]}: ${was != null ? fmtSize(was, units) : '—'} → ${now != null ? fmtSize(now, units) : '—'}`;
        } else if (key === 'protection') {
          const pf = e.from && e.from.perms;
          const pt = e.to && e.to.perms;
          c.textContent = isAlloc ? '' : (pf && pt && pf !== pt ? `${pf} → ${pt}` : pt || pf || '');
        } else if (key === 'owner') c.textContent = isAlloc ? side.owner || '' : '';
        else if (key === 'details') {
          let det;
          if (isAlloc) det = side.details || '';
          else {
            const pa = e.from && e.from.path;
            const pb = e.to && e.to.path;
            det = pa && pb && pa !== pb ? `${pa} → ${pb}` : (pb || pa || '');
          }
          c.textContent = det;
          c.title = det;
        }
      }
      return `${kind}${isAlloc ? ' alloc' : ' region'}`;
    },
  });

  const units$ = el('select', { 'aria-label': 'Units', onchange: () => { units = units$.value; updateParams({ units: units === 'auto' ? null : units }); clear(typeWrap).appendChild(typeTable()); table.refresh(); } },
    UNIT_MODES.map((u) => el('option', { value: u.key, selected: u.key === units }, u.label)));
  const chips = el('div', { className: 'segmented', role: 'radiogroup', 'aria-label': 'Which changes' },
    SHOW.map((s) => el('button', {
      type: 'button', role: 'radio', className: s.key === show ? 'on' : '', 'aria-checked': s.key === show ? 'true' : 'false', dataset: { show: s.key },
      onclick: (ev) => {
        show = s.key;
        for (const b of chips.children) { b.className = b === ev.currentTarget ? 'on' : ''; b.setAttribute('aria-checked', b === ev.currentTarget ? 'true' : 'false'); }
        updateParams({ show: show === 'all' ? null : show });
        rebuild();
      },
    }, s.label)));
  const countEl = el('span', { className: 'count muted' });
  const sharingNote = el('span', { className: 'muted small' });
  const sharingBox = el('input', { type: 'checkbox', id: 'diff-sharing', checked: withSharing, onchange: () => {
    withSharing = sharingBox.checked;
    updateParams({ sharing: withSharing ? '1' : null });
    rebuild();
  } });
  const sharingToggle = el('label', { className: 'check', title: 'Pss, Swap Pss and Shared WS move when other processes map or unmap the same pages: nothing this process did.' },
    sharingBox, ' Show rows where only Pss moved ', sharingNote);
  const vals$ = el('select', { id: 'diff-values', 'aria-label': 'Show the change or the values', onchange: () => {
    vals = vals$.value;
    updateParams({ vals: vals === 'ft' ? 'ft' : null });
    columns = columnSpecs();
    table.setColumns(columns);
    table.setSortIndicator(sortKey === 'address' && sortDir === 'asc' ? null : sortKey, sortDir);
  } }, el('option', { value: 'delta', selected: vals !== 'ft' }, 'Δ change'), el('option', { value: 'ft', selected: vals === 'ft' }, 'from → to'));
  const chooser = columnChooser(cols, (next) => {
    cols = next;
    shown = cols.filter((k) => BYTE_COLUMNS.has(k));
    columns = columnSpecs();
    table.setColumns(columns);
    table.setSortIndicator(sortKey === 'address' && sortDir === 'asc' ? null : sortKey, sortDir);
    clear(typeWrap).appendChild(typeTable());
    updateParams({ cols: colsParam(cols) });
  }, ac.signal, { omit: ['blocks'] });
  updateParams({ cols: colsParam(cols) });

  clear(container).append(header,
    el('section', { className: 'panel' }, el('h2', { text: 'Per type' }), sentence, typeWrap),
    el('section', { className: 'panel details-panel' }, el('h2', { text: 'What changed' }),
      el('div', { className: 'toolbar' }, chips, sharingToggle, el('span', { className: 'spacer' }), countEl,
        el('label', { className: 'units' }, 'Cells ', vals$),
        el('label', { className: 'units' }, 'Units ', units$), chooser.el,
        el('span', { className: 'legend-inline' },
          el('span', { className: 'tag added' }, 'added'), el('span', { className: 'tag removed' }, 'removed'),
          el('span', { className: 'tag changed' }, 'changed'), el('span', { className: 'up' }, ' red: more memory,'), el('span', { className: 'down' }, ' green: less'), el('span', { className: 'muted' }, ' (Free: neither)'))),
      table.el));
  rebuild();
  const destroy = table.destroy.bind(table);
  table.destroy = () => { ac.abort(); destroy(); };
  return table;
}

// neutral: no red or green (Free: less free address space is not "good").
function deltaCell(v, units, neutral = false) {
  const txt = units === null ? (v ? (v > 0 ? '+' : '−') + fmtInt(Math.abs(v)) : '') : fmtDelta(v || 0, units);
  return el('td', { className: neutral ? 'neutral' : v > 0 ? 'up' : v < 0 ? 'down' : '', text: txt });
}

function signed(v) {
  if (!v) return 'unchanged';
  return fmtDelta(v, 'auto');
}

function human0(sec) {
  if (sec < 90) return `${Math.round(sec)} s`;
  if (sec < 5400) return `${Math.round(sec / 60)} min`;
  return `${Math.round(sec / 3600)} h`;
}
