// Small pieces of UI shared by the views: error panels, toasts, dialogs, downloads, clipboard.
import { describeError, shareToken } from './api.js';
import { tokenForm } from './token.js';
import { el, clear } from './format.js';

// An error shown in words, never a blank page. retry: optional function for a "Try again" button.
export function errorPanel(err, retry) {
  const { title, detail, advice } = describeError(err);
  return el('div', { className: 'error-panel', role: 'alert' },
    el('h2', { text: title }),
    el('p', { text: detail }),
    advice ? el('p', { className: 'advice', text: advice }) : null,
    err && err.code ? el('p', { className: 'muted small', text: `code: ${err.code}${err.status ? ', HTTP ' + err.status : ''}` }) : null,
    err && err.status === 401 && !shareToken() ? tokenForm() : null,
    retry && !(err && err.status === 401) ? el('button', { type: 'button', onclick: retry, text: 'Try again' }) : null);
}

export function showError(container, err, retry) {
  clear(container).appendChild(errorPanel(err, retry));
}

let toastTimer = 0;
export function toast(message, kind = 'info') {
  let t = document.getElementById('toast');
  if (!t) {
    t = el('div', { id: 'toast', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(t);
  }
  t.textContent = message;
  t.className = `toast show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = 'toast'; }, kind === 'error' ? 8000 : 3500);
}

export function toastError(err) {
  const { title, detail, advice } = describeError(err);
  toast(`${title}: ${detail}${advice ? ' ' + advice : ''}`, 'error');
}

// A modal dialog. content: nodes; buttons: [{label, onclick, primary}]. Returns the dialog.
export function dialog(title, content, buttons = [{ label: 'Close' }]) {
  const d = el('dialog', { className: 'dialog' });
  const close = () => { d.close(); d.remove(); };
  d.append(
    el('h2', { text: title }),
    el('div', { className: 'dialog-body' }, content),
    el('div', { className: 'dialog-buttons' }, buttons.map((b) => el('button', {
      type: 'button', className: b.primary ? 'primary' : '', text: b.label,
      onclick: async () => { if (b.onclick && (await b.onclick()) === false) return; close(); },
    }))));
  d.addEventListener('close', () => d.remove());
  document.body.appendChild(d);
  d.showModal();
  return d;
}

export function downloadText(filename, text, mime) {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = el('a', { href: url, download: filename, className: 'hidden' });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = el('textarea', { className: 'offscreen', value: text });
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

export function loading(text = 'Loading…') {
  return el('div', { className: 'loading', role: 'status' }, el('span', { className: 'spinner' }), text);
}
