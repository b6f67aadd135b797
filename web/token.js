// "Paste your token": what a tab without a valid API token shows (a deep link opened in a new
// tab has none, because sessionStorage is per tab). The token is checked against the daemon
// before it is kept; "Remember in this browser" (off by default) also keeps it in localStorage,
// which only this origin can read. The token never goes into a URL.
import { el } from './format.js';
import { setToken, forgetToken, tokenRemembered } from './api.js';

// A form: password field, remember box, Use. On success the current view is shown again.
export function tokenForm() {
  const input = el('input', { type: 'password', id: 'token-input', className: 'mono', placeholder: 'API token', 'aria-label': 'API token', autocomplete: 'off' });
  const remember = el('input', { type: 'checkbox', id: 'token-remember' });
  const msg = el('p', { className: 'small muted', role: 'status' });
  const use = async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!/^[A-Za-z0-9_-]{8,256}$/.test(t)) { msg.textContent = 'That is not a vmscope token (letters, digits, - and _ only).'; return; }
    // check it before keeping it: the snapshots list needs the token and changes nothing
    let res;
    try {
      res = await fetch('/api/v1/snapshots?limit=1', { headers: { Authorization: `Bearer ${t}` }, cache: 'no-store', credentials: 'omit' });
    } catch (e) { msg.textContent = `Cannot reach the daemon (${e.message}).`; return; }
    if (res.status === 401) { msg.textContent = 'The daemon does not accept this token. `vmscope token` prints the current one.'; return; }
    setToken(t, remember.checked);
    input.value = '';
    const badge = document.getElementById('no-token');
    if (badge) badge.classList.add('hidden');
    const dlg = form.closest('dialog'); // opened from the badge
    if (dlg) { dlg.close(); dlg.remove(); }
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  };
  const form = el('form', { className: 'token-form', id: 'token-form', onsubmit: use },
    el('label', { htmlFor: 'token-input', text: 'API token ' }), input,
    el('button', { type: 'submit', className: 'primary' }, 'Use this token'),
    el('label', { className: 'check', title: 'Keep the token in this browser\'s localStorage (readable by pages of this origin only) so new tabs open without asking. Leave it off on a shared computer.' },
      remember, ' Remember in this browser'),
    msg);
  if (tokenRemembered()) {
    form.appendChild(el('button', { type: 'button', className: 'small', onclick: () => { forgetToken(); msg.textContent = 'Forgotten in this browser.'; } }, 'Forget the remembered token'));
  }
  return form;
}
