/* Checks every JSON input passes before cJSON sees it: nesting depth and UTF-8.
 *
 * The nesting check. cJSON parses recursively (one
 * C stack frame chain per level, its own limit is 1000 levels): ~800 levels of '[' overflowed a
 * civetweb worker's stack and took the daemon down. A linear scan with a counter needs no stack
 * and no allocation, so it runs first and the parser only ever sees shallow text. */
#include <stdlib.h>

#include "textutil.h"
#include "vmscope/json.h"

int vms_json_too_deep(const char *text, size_t len, unsigned limit, size_t *where)
{
	unsigned depth = 0;
	int in_string = 0;

	if (!text)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (in_string) {
			if (ch == '\\')
				i++; /* the escaped character, whatever it is, cannot end the string */
			else if (ch == '"')
				in_string = 0;
			continue;
		}
		switch (ch) {
		case '"':
			in_string = 1;
			break;
		case '[':
		case '{':
			if (++depth > limit) {
				if (where)
					*where = i;
				return 1;
			}
			break;
		case ']':
		case '}':
			if (depth) /* unbalanced text is the parser's to refuse */
				depth--;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* RFC 8259 section 8.1: JSON text exchanged between systems is UTF-8. cJSON copies raw bytes
 * into strings as they are, so without this an import carried invalid bytes into every answer
 * that shows its names (strict JSON readers then fail on GET /snapshots). */
int vms_json_bad_utf8(const char *text, size_t len, size_t *where)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0;
	if (!text)
		return 0;
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t l = vms_utf8_seq_len(p + i, len - i);
		if (!l) {
			if (where)
				*where = i;
			return 1;
		}
		i += l;
	}
	return 0;
}

cJSON *vms_json_string_repaired(const char *s)
{
	if (!s)
		return cJSON_CreateNull();
	if (vms_utf8_valid(s))
		return cJSON_CreateString(s);
	char *fixed = vms_utf8_repair(s);
	if (!fixed)
		return NULL;
	cJSON *j = cJSON_CreateString(fixed);
	free(fixed);
	return j;
}
