// Open (import) a snapshot file: VMMap's "open a saved report". The file goes to the daemon
// (POST /api/v1/snapshots), which validates it, recomputes its totals and stores it. A timeline
// file (`vmscope watch -o`) goes to POST /api/v1/watches/import and opens as a watch.
import { api } from './api.js';
import { MAX_JSON_DEPTH, jsonTooDeep } from './jsonlimits.js';
import { navigate } from './route.js';
import { toast, toastError } from './ui.js';

export function importInput() {
  return document.getElementById('import-file');
}

export function openImportDialog() {
  const input = importInput();
  input.value = '';
  input.click();
}

export async function importFile(file) {
  if (!file) return;
  let text;
  try {
    text = await file.text();
    const deep = jsonTooDeep(text);
    if (deep >= 0) {
      toast(`${file.name} is not a vmscope snapshot: it nests deeper than ${MAX_JSON_DEPTH} levels ` +
        `(at character ${deep}); a snapshot nests 6.`, 'error');
      return;
    }
    // a timeline (`vmscope watch -o FILE`): JSON Lines whose first line names the format
    const first = text.slice(0, Math.max(0, text.indexOf('\n')) || text.length);
    if (/"format"\s*:\s*"vmscope-timeline"/.test(first)) return importTimelineFile(file, text);
    const j = JSON.parse(text);
    if (!j || typeof j !== 'object' || j.format_version == null) {
      toast(`${file.name} is not a vmscope snapshot (it has no format_version).`, 'error');
      return;
    }
  } catch (e) {
    toast(`${file.name} is not a JSON file: ${e.message}`, 'error');
    return;
  }
  try {
    const r = await api.importSnapshot(text);
    toast(`Opened ${file.name} as snapshot #${r.id}.`);
    navigate(['snapshot', String(r.id)], {});
  } catch (err) {
    toastError(err);
  }
}

// A timeline file becomes an imported watch (POST /api/v1/watches/import) and opens in the
// timeline view.
async function importTimelineFile(file, text) {
  try {
    const r = await api.importTimeline(text);
    toast(`Opened ${file.name} as watch #${r.id} (${r.samples} samples, ${r.snapshots} full snapshots).`);
    navigate(['watch', String(r.id)], {});
  } catch (err) {
    toastError(err);
  }
}

export function installImport() {
  const input = importInput();
  input.addEventListener('change', () => importFile(input.files && input.files[0]));
  // Dropping a .json file anywhere on the page opens it too.
  window.addEventListener('dragover', (ev) => {
    if (document.body.classList.contains('shared')) return;
    if (ev.dataTransfer && [...ev.dataTransfer.types].includes('Files')) ev.preventDefault();
  });
  window.addEventListener('drop', (ev) => {
    if (document.body.classList.contains('shared')) return;
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (!f) return;
    ev.preventDefault();
    importFile(f).catch(toastError);
  });
}
