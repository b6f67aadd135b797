/* Checks every JSON input passes before cJSON sees it: nesting depth and UTF-8.
 *
 * The nesting check. cJSON parses recursively (one
 * C stack frame chain per level, its own limit is 1000 levels): ~800 levels of '[' overflowed a
 * civetweb worker's stack and took the daemon down. A linear scan with a counter needs no stack
 * and no allocation, so it runs first and the parser only ever sees shallow text. */
#include <stdlib.h>
#include <string.h>

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

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The duplicated key of one object's members, or NULL; *nomem set when the sort could not be
 * done. Small objects compare pairwise, large ones sort their names (no quadratic time on an
 * object with a million members). */
static const char *dup_in_object(const cJSON *o, int *nomem)
{
	size_t n = 0;
	const cJSON *it;
	for (it = o->child; it; it = it->next)
		n++;
	if (n < 2)
		return NULL;
	if (n <= 16) {
		for (it = o->child; it; it = it->next)
			for (const cJSON *jt = it->next; jt; jt = jt->next)
				if (it->string && jt->string && !strcmp(it->string, jt->string))
					return it->string;
		return NULL;
	}
	const char **names = malloc(n * sizeof *names);
	const char *dup = NULL;
	if (!names) {
		*nomem = 1;
		return NULL;
	}
	size_t k = 0;
	for (it = o->child; it; it = it->next)
		names[k++] = it->string ? it->string : "";
	qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 1; i < n && !dup; i++)
		if (!strcmp(names[i - 1], names[i]))
			dup = names[i];
	free(names);
	return dup;
}

const char *vms_json_dup_key(const cJSON *j, int *nomem)
{
	/* Depth is bounded: every input passed vms_json_too_deep first. */
	if (!j)
		return NULL;
	if (cJSON_IsObject(j)) {
		const char *d = dup_in_object(j, nomem);
		if (d || *nomem)
			return d;
	}
	if (cJSON_IsObject(j) || cJSON_IsArray(j))
		for (const cJSON *it = j->child; it; it = it->next) {
			const char *d = vms_json_dup_key(it, nomem);
			if (d || *nomem)
				return d;
		}
	return NULL;
}
