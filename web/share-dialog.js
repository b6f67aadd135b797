// The Share dialog of a snapshot (snapshot-view.js) and of a watch's timeline (timeline.js):
// options (command line, lifetime, most views), the new link copied, and the live links with
// Revoke. opts: {title, what ('this snapshot'), intro, create(opts) -> share, list() -> {shares}
// or null (no list)}.
import { api } from './api.js';
import { el, clear, fmtTime } from './format.js';
import { errorPanel, toast, toastError, dialog, copyText } from './ui.js';

export function shareDialog(o) {
  const omit = el('input', { type: 'checkbox', id: 'share-omit' });
  // Lifetime of a new link (issue 15): 7 days unless said; "never" only when chosen.
  const lifetime = el('select', { id: 'share-lifetime', 'aria-label': 'Link lifetime' },
    [['1h', '1 hour'], ['1d', '1 day'], ['7d', '7 days'], ['30d', '30 days'], ['never', 'never (until revoked)']]
      .map(([v, t]) => el('option', { value: v, text: t, selected: v === '7d' })));
  const maxViews = el('input', { type: 'number', id: 'share-max-views', min: '1', max: '1000000', placeholder: 'no limit', 'aria-label': 'Most views' });
  const expiry = (sh) => sh.expired ? (sh.max_views && sh.views >= sh.max_views ? 'used up' : `expired ${fmtTime(sh.expires_at, sh.expires_at_ms)}`)
    : sh.expires_at ? `expires ${fmtTime(sh.expires_at, sh.expires_at_ms)}` : 'never expires';
  const views = (sh) => `${sh.views} view${sh.views === 1 ? '' : 's'}${sh.max_views ? ` of ${sh.max_views}` : ''}`;
  const out = el('div', { className: 'share-out' });
  const list = el('div', { className: 'share-list', id: 'share-list' });
  const linkOf = (r) => new URL(r.url || r.path || `/s/${r.token}`, location.origin).href;
  // The live links, each with Revoke.
  const loadList = async () => {
    if (!o.list) { clear(list); return; }
    try {
      const r = await o.list();
      const shares = (r && r.shares) || [];
      const gone = shares.filter((x) => x.expired).length;
      clear(list).appendChild(el('h3', { text: !shares.length ? `No live links to ${o.what}.`
        : gone ? `Links to ${o.what} (${shares.length}, ${gone} expired)` : `Live links to ${o.what} (${shares.length})` }));
      for (const sh of shares) {
        const url = linkOf(sh);
        const input = el('input', { type: 'text', className: 'share-link mono', value: url, 'aria-label': 'Share link' });
        input.readOnly = true;
        const revoke = el('button', { type: 'button', className: 'small danger', dataset: { token: sh.token }, onclick: async () => {
          try { await api.revokeShare(sh.token); toast('The link was revoked: it no longer works.'); } catch (err) { toastError(err); }
          loadList();
        } }, 'Revoke');
        list.appendChild(el('div', { className: `share-item${sh.expired ? ' expired' : ''}`, dataset: { token: sh.token } }, input,
          el('span', { className: 'small muted share-expiry', text: `created ${fmtTime(sh.created_at, sh.created_at_ms)}, ${expiry(sh)}, ${views(sh)}${sh.omit_cmdline ? ', command line left out' : ''}` }), revoke));
      }
    } catch (err) {
      clear(list).appendChild(errorPanel(err));
    }
  };
  dialog(o.title, [
    el('p', { text: o.intro }),
    el('label', { className: 'check' }, omit, ' Leave out the command line (it can hold secrets)'),
    el('div', { className: 'share-limits' },
      el('label', null, 'Link works for ', lifetime),
      el('label', null, ' at most ', maxViews, ' views')),
    out,
    list,
  ], [
    { label: 'Create link and copy', primary: true, onclick: async () => {
      try {
        const opts = { omit_cmdline: omit.checked, lifetime: lifetime.value };
        if (maxViews.value) opts.max_views = Number(maxViews.value);
        const r = await o.create(opts);
        const url = linkOf(r);
        const copied = await copyText(url);
        const input = el('input', { type: 'text', className: 'share-link mono', id: 'share-link', value: url });
        input.readOnly = true;
        clear(out).append(el('p', { text: `${copied ? 'New link, copied to the clipboard' : 'New link; copy it'} (${expiry(r)}):` }), input);
        input.focus();
        input.select();
        toast(copied ? 'Share link copied.' : 'Share link created.');
        loadList();
      } catch (err) {
        clear(out).appendChild(errorPanel(err));
      }
      return false; // keep the dialog open to show the link
    } },
    { label: 'Close' },
  ]);
  loadList();
}
