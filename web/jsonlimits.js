// Limits the daemon puts on every JSON input (docs/api.md "Limits"), checked here first so that
// the dashboard refuses such a file with a message instead of sending it.

// A snapshot nests 6 levels; the daemon refuses anything deeper than this (400 too_deep).
export const MAX_JSON_DEPTH = 64;

// The offset of the bracket that nests deeper than `limit` (outside strings), or -1. A linear
// scan with a counter: no recursion, whatever the text.
export function jsonTooDeep(text, limit = MAX_JSON_DEPTH) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return i;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return -1;
}
