/* Private to the json layer: a pull tokenizer over JSON text that builds no tree, for the
 * snapshot importer (json_parse.c). Two parts:
 *
 *   vms_jscan_check  one pass over the whole text that accepts exactly what cJSON 1.7.15
 *                    (cJSON_ParseWithLengthOpts, not null-terminated) accepts, reports a syntax
 *                    error at the byte cJSON reports it at, and finds a key that appears twice
 *                    in one object (the one vms_json_dup_key names). Allocates only a stack of
 *                    the keys of the objects open at the moment.
 *   readers          cursors over text that passed the check: skip a value, walk an object's
 *                    members or an array's elements, decode a string. They trust the text and
 *                    allocate nothing.
 *
 * Positions are byte offsets into the text. Whitespace is what cJSON skips: every byte <= 32. */
#ifndef VMSCOPE_JSON_SCAN_H
#define VMSCOPE_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define VMS_JSCAN_NONE SIZE_MAX /* "no such member / no more elements" */

enum vms_jscan_result {
	VMS_JSCAN_OK = 0,
	VMS_JSCAN_SYNTAX, /* not JSON: *err_at as cJSON would report it */
	VMS_JSCAN_NOMEM,
};

struct vms_jscan_check_out {
	size_t value;  /* OK: offset of the top-level value (after a UTF-8 BOM and whitespace) */
	size_t end;    /* OK: offset just after the top-level value */
	size_t err_at; /* SYNTAX: offset of the error (< len when len > 0) */
	int has_dup;   /* OK: some object has a key twice */
	char dup[65];  /* that key, decoded, cut at 64 bytes */
};

/* Check text[0..len) (len > 0) as above; fills *o. Returns enum vms_jscan_result (NOMEM also
 * for a text of 2 GiB or more). */
int vms_jscan_check(const char *text, size_t len, struct vms_jscan_check_out *o);

/* ---- readers (text that passed vms_jscan_check) ---------------------------------------------- */

/* The first non-whitespace offset at or after i (len when none). */
size_t vms_jscan_ws(const char *t, size_t len, size_t i);
/* Offset just after the value starting at i. */
size_t vms_jscan_skip(const char *t, size_t len, size_t i);
/* Length of the number token at i (its bytes are [0-9+-.eE]). */
size_t vms_jscan_number_len(const char *t, size_t len, size_t i);
/* *v = what strtod reads from the number token at i (cJSON's valuedouble). 0, or -1 on ENOMEM. */
int vms_jscan_number(const char *t, size_t len, size_t i, double *v);

/* The first member of the object (or element of the array) whose '{' ('[') is at i, or
 * VMS_JSCAN_NONE when it is empty. */
size_t vms_jscan_first(const char *t, size_t len, size_t i);
/* The array element after the one at i, or VMS_JSCAN_NONE after the last. */
size_t vms_jscan_next_element(const char *t, size_t len, size_t i);

/* An object member at i: its key's raw text (between the quotes) and its value's offset. */
struct vms_jscan_member {
	size_t key, key_end; /* [key, key_end): the raw characters of the key */
	size_t value;
};
/* Read the member at i into *m; returns the next member's offset or VMS_JSCAN_NONE. */
size_t vms_jscan_member(const char *t, size_t len, size_t i, struct vms_jscan_member *m);

/* Decode the raw string characters t[from..to) (escapes resolved, as cJSON does: an invalid
 * \u hex digit gives U+0000) into out, which holds at least to - from + 1 bytes; NUL-terminated.
 * Returns the decoded length (a decoded NUL ends the string for every C reader, as in cJSON). */
size_t vms_jscan_decode(const char *t, size_t from, size_t to, char *out);
/* Decode like vms_jscan_decode into out[cap] up to the first NUL; returns 0 when it does not
 * fit (then it cannot equal any key shorter than cap), else 1. */
int vms_jscan_decode_key(const char *t, size_t from, size_t to, char *out, size_t cap);

#endif
