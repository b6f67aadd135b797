/* The nesting check every JSON input passes before cJSON sees it. cJSON parses recursively (one
 * C stack frame chain per level, its own limit is 1000 levels): ~800 levels of '[' overflowed a
 * civetweb worker's stack and took the daemon down. A linear scan with a counter needs no stack
 * and no allocation, so it runs first and the parser only ever sees shallow text. */
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
