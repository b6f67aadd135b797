// vmscope dashboard: start-up and routing. Each view is its own module; each returns a cleanup
// function that the router calls before showing the next view.
import { captureToken, shareToken, hasToken } from './api.js';
import { parseRoute } from './route.js';
import { pickerView } from './picker.js';
import { snapshotView } from './snapshot-view.js';
import { diffView } from './diff.js';
import { snapshotsView } from './snapshots.js';
import { watchesView, timelineView } from './timeline.js';
import { installImport, openImportDialog } from './import.js';
import { el, clear } from './format.js';
import { dialog } from './ui.js';
import { tokenForm } from './token.js';

captureToken();

const main = document.getElementById('main');
const share = shareToken();
let cleanup = null;

function setNav(name) {
  for (const a of document.querySelectorAll('.topnav a')) a.classList.toggle('current', a.dataset.nav === name);
}

function route() {
  if (cleanup) cleanup();
  cleanup = null;
  delete document.body.dataset.ready;
  const { parts, params } = parseRoute();
  window.scrollTo(0, 0);
  const [view, a, b] = parts;
  if (share) { // a share link: a snapshot, or a watch's timeline (/s/TOKEN#/timeline)
    document.getElementById('shared-badge').textContent = `Shared ${view === 'timeline' ? 'timeline' : 'snapshot'} · read only`;
    cleanup = view === 'timeline' ? timelineView(main, null, params, share)
      : snapshotView(main, { kind: 'shared', token: share }, params);
    return;
  }
  switch (view) {
    case 'snapshot':
      setNav('');
      document.title = `vmscope · snapshot #${a}`;
      cleanup = snapshotView(main, { kind: 'snapshot', id: a }, params);
      break;
    case 'live':
      setNav('');
      document.title = `vmscope · pid ${a}`;
      cleanup = snapshotView(main, { kind: 'live', pid: a }, params);
      break;
    case 'diff':
      setNav('');
      document.title = `vmscope · changes #${a} → #${b}`;
      cleanup = diffView(main, { from: a, to: b }, params);
      break;
    case 'changes':
      setNav('');
      document.title = `vmscope · changes in pid ${a}`;
      cleanup = diffView(main, { pid: a, to: params.to }, params);
      break;
    case 'watches':
      setNav('watches');
      document.title = 'vmscope · watches';
      cleanup = watchesView(main);
      break;
    case 'watch':
      setNav('watches');
      document.title = `vmscope · watch #${a}`;
      cleanup = timelineView(main, a, params);
      break;
    case 'snapshots':
      setNav('snapshots');
      document.title = 'vmscope · snapshots';
      cleanup = snapshotsView(main, params);
      break;
    case 'processes':
    case undefined:
      setNav('processes');
      document.title = 'vmscope · processes';
      cleanup = pickerView(main, params);
      break;
    default:
      setNav('');
      clear(main).appendChild(el('div', { className: 'error-panel' },
        el('h2', { text: 'No such page' }),
        el('p', null, 'This link points to a view vmscope does not know. ', el('a', { href: '#/processes', text: 'Go to the process list' }))));
  }
}

if (share) {
  document.body.classList.add('shared');
  document.querySelector('.topnav').classList.add('hidden');
  document.getElementById('shared-badge').classList.remove('hidden');
} else {
  installImport();
  document.getElementById('top-open').addEventListener('click', () => openImportDialog());
  if (!hasToken()) document.getElementById('no-token').classList.remove('hidden');
  // the badge is also where to give the token (token.js)
  document.getElementById('no-token').addEventListener('click', () => {
    const shown = document.getElementById('token-input');
    if (shown) shown.focus(); else dialog('API token', [tokenForm()]);
  });
}
window.addEventListener('hashchange', route);
route();
