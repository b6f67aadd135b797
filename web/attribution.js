// What the attribution stage said about a snapshot (docs/memory-types.md, "Attribution"):
// which recognisers named memory, whether the process's memory was read, why threads have no
// stack row, and the hover text of an allocation's Details. Snapshots stored before the
// attribution stage existed have none of these keys: every function copes with their absence.
import { el, human } from './format.js';

// Hover text for an allocation's Details cell: the details, who named it and from which
// signal, and its parts (sub-blocks delimited by the owner's own size fields).
export function detailsTitle(al) {
  const lines = [al.details || ''];
  if (al.owner) lines.push(`Named by the ${al.owner} recogniser${al.signal ? ` from ${al.signal}` : ''}${al.guess ? ' (a guess from geometry)' : ''}.`);
  const parts = al.parts || [];
  if (parts.length) {
    lines.push(`${parts.length} part(s):`);
    for (const p of parts.slice(0, 12)) lines.push(`  ${p.start}  ${human(p.size)}  ${p.details || ''}`);
    if (parts.length > 12) lines.push(`  … ${parts.length - 12} more`);
  }
  return lines.filter(Boolean).join('\n');
}

// Notes for the snapshot header: recognisers that named something, memory reads, threads
// without a stack row. Returns an array of elements (maybe empty).
export function attributionNotes(s) {
  const notes = [];
  const at = s.attribution;
  if (at) {
    const named = (at.recognisers || []).filter((r) => r.claimed > 0);
    if (named.length) {
      notes.push(el('p', { className: 'note', dataset: { note: 'recognisers' } },
        'Named by: ' + named.map((r) => `${r.key} (${r.claimed}${r.note ? ': ' + r.note : ''})`).join('; ')));
    }
    if (at.peek_note) notes.push(el('p', { className: 'note', dataset: { note: 'peek' }, text: `Memory reads: ${at.peek_note}` }));
  }
  const noStack = (s.threads || []).filter((t) => t.stack_allocation < 0 && t.stack_note);
  if (noStack.length) {
    const shown = noStack.slice(0, 4).map((t) => `${t.tid} (${t.name || '?'}): ${t.stack_note}`);
    const more = noStack.length > 4 ? `; … ${noStack.length - 4} more` : '';
    notes.push(el('p', { className: 'note', dataset: { note: 'threads' }, title: noStack.map((t) => `${t.tid} (${t.name || '?'}): ${t.stack_note}`).join('\n'),
      text: `Threads without a stack row: ${shown.join('; ')}${more}` }));
  }
  return notes;
}
