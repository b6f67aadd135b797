/* What both snapshot importers share (contract in json_import.h). */
#include "json_import.h"

#include <stdio.h>
#include <string.h>

#include "vmscope/json.h"
#include "vmscope/parse.h"
#include "vmscope/util.h"

int vms_imp_vfail(char *err, size_t errlen, const char *path, const char *key, const char *fmt, va_list ap)
{
	if (!err || !errlen)
		return -1;
	int has_path = path && *path, has_key = key && *key;
	int n = 0;
	if (has_path || has_key)
		n = snprintf(err, errlen, "%s%s%s: ", has_path ? path : "", has_path && has_key ? "." : "",
		             has_key ? key : "");
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -1;
}

static int fail(char *err, size_t errlen, const char *path, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t errlen, const char *path, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vms_imp_vfail(err, errlen, path, key, fmt, ap);
	va_end(ap);
	return -1;
}

void vms_imp_line_col(const char *text, size_t off, size_t *line, size_t *col)
{
	size_t l = 1, k = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			l++;
			k = 1;
		} else {
			k++;
		}
	}
	*line = l;
	*col = k;
}

int vms_imp_text_ok(const char *text, size_t len, char *err, size_t errlen)
{
	size_t at, line, col;
	if (vms_json_too_deep(text, len, VMS_JSON_MAX_DEPTH, &at)) {
		vms_imp_line_col(text, at, &line, &col);
		return fail(err, errlen, "", NULL,
		            "nested deeper than %d levels (line %zu, column %zu); a snapshot nests 6",
		            VMS_JSON_MAX_DEPTH, line, col);
	}
	if (vms_json_bad_utf8(text, len, &at)) {
		vms_imp_line_col(text, at, &line, &col);
		return fail(err, errlen, "", NULL, "not valid UTF-8 (byte 0x%02x at line %zu, column %zu)",
		            (unsigned)(unsigned char)text[at], line, col);
	}
	return 0;
}

int vms_imp_syntax_error(const char *text, size_t len, size_t off, char *err, size_t errlen)
{
	size_t line, col;
	vms_imp_line_col(text, off, &line, &col);
	if (off + 1 >= len)
		return fail(err, errlen, "", NULL,
		            "not valid JSON: it ends too early at line %zu, column %zu (truncated?)", line,
		            col);
	return fail(err, errlen, "", NULL, "not valid JSON (line %zu, column %zu)", line, col);
}

int vms_imp_trailing_ok(const char *text, size_t len, size_t end, char *err, size_t errlen)
{
	for (size_t i = end; i < len; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') {
			size_t line, col;
			vms_imp_line_col(text, i, &line, &col);
			return fail(err, errlen, "", NULL,
			            "not valid JSON: unexpected text after the top-level value (line %zu, "
			            "column %zu)",
			            line, col);
		}
	}
	return 0;
}

/* Read the decimal digits p[i..n) into *v (starting from 0) while it stays <= max; returns the
 * index of the first non-digit, or SIZE_MAX when the value would pass max. */
static size_t digits(const char *p, size_t i, size_t n, uint64_t max, uint64_t *v)
{
	*v = 0;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (*v > (max - d) / 10)
			return SIZE_MAX;
		*v = *v * 10 + d;
	}
	return i;
}

int vms_imp_u64(const char *p, size_t n, double dv, uint64_t *out)
{
	uint64_t v;
	size_t i = n ? digits(p, 0, n, UINT64_MAX, &v) : SIZE_MAX;
	if (i == SIZE_MAX)
		return -1;
	if (i == n) {
		*out = v;
		return 0;
	}
	if (!(dv >= 0.0 && dv < 9007199254740992.0) || dv != (double)(uint64_t)dv)
		return -1;
	*out = (uint64_t)dv;
	return 0;
}

int vms_imp_i64(const char *p, size_t n, double dv, int64_t *out)
{
	uint64_t v;
	if (!n)
		return -1;
	if (p[0] != '-') {
		if (vms_imp_u64(p, n, dv, &v) < 0 || v > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)v;
		return 0;
	}
	size_t i = digits(p, 1, n, (uint64_t)INT64_MAX + 1, &v);
	if (i == SIZE_MAX)
		return -1;
	if (i == n && i > 1) {
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		return 0;
	}
	if (!(dv > -9007199254740992.0 && dv <= 0.0) || dv != (double)(int64_t)dv)
		return -1;
	*out = (int64_t)dv;
	return 0;
}

int vms_imp_dev(const char *t, unsigned *maj, unsigned *min)
{
	unsigned v[2] = {0, 0};
	for (int part = 0; part < 2; part++) {
		size_t n = 0;
		for (; *t && *t != ':'; t++, n++) {
			int d = vms_hex_digit((unsigned char)*t);
			if (d < 0 || n >= 8)
				return -1;
			v[part] = v[part] << 4 | (unsigned)d;
		}
		if (n == 0 || (part == 0 && *t != ':') || (part == 1 && *t))
			return -1;
		if (part == 0)
			t++;
	}
	*maj = v[0];
	*min = v[1];
	return 0;
}

int vms_imp_perms_ok(const char *p)
{
	return strlen(p) == 4 && (p[0] == 'r' || p[0] == '-') && (p[1] == 'w' || p[1] == '-') &&
	       (p[2] == 'x' || p[2] == '-') && (p[3] == 'p' || p[3] == 's');
}

int vms_imp_has_required(const struct vms_record *rec)
{
	for (size_t i = 0; i < rec->n_fields; i++)
		if ((rec->fields[i].flags & VMS_FF_REQUIRED) ||
		    (rec->fields[i].kind == VMS_FK_OBJECT && vms_imp_has_required(rec->fields[i].sub)))
			return 1;
	return 0;
}

/* Numeric ranges: the rules of vms_smaps_plausible (parse.h), the same the smaps parser holds
 * scanned text to. With the regions sorted and apart and their sizes under 2^60, no column
 * summed over them can wrap: an import once carried 2^64-1 and its totals wrapped (total_ws
 * below private_ws). Counters no column uses (Referenced, KSM, LazyFree, the PMD-mapped counts)
 * are kept exact as given, over the whole u64 range. The total mapped: VMS_MAX_MAPPED (parse.h). */

int vms_imp_region_done(struct vms_region *r, const char *path, int has_prev, uint64_t prev_end,
                        uint64_t *mapped, char *err, size_t errlen)
{
	char sub[2 * VMS_IMP_PATH_MAX + 16], why[160];
	int f;
	if (r->start >= r->end)
		return fail(err, errlen, path, "end", "must be above start");
	if (has_prev && r->start < prev_end)
		return fail(err, errlen, path, "start",
		            "0x%llx overlaps or precedes the previous region, which ends at 0x%llx "
		            "(regions must be sorted and must not overlap)",
		            (unsigned long long)r->start, (unsigned long long)prev_end);
	r->smaps[VMS_SF_SIZE] = r->end - r->start; /* the address range is authoritative */
	*mapped += r->smaps[VMS_SF_SIZE];          /* sorted and apart: cannot wrap */
	if (*mapped > VMS_MAX_MAPPED)
		return fail(err, errlen, path, "end",
		            "the regions map more than 2^60 bytes, more than any kernel can");
	if (!vms_smaps_plausible(r->smaps, &f, why, sizeof why)) {
		snprintf(sub, sizeof sub, "%s.smaps", path);
		return fail(err, errlen, sub, vms_smaps_field_key((enum vms_smaps_field)f), "%s", why);
	}
	r->vm_flag_bits = vms_vmflags_parse(r->vm_flags, strlen(r->vm_flags));
	return 0;
}

int vms_imp_header_done(struct vms_snapshot *s, int has_mmap_min, char *err, size_t errlen)
{
	if (s->arch.bits != 0 && s->arch.bits != 32 && s->arch.bits != 64)
		return fail(err, errlen, "process.arch", "bits", "must be 32, 64 or 0 (unknown)");
	if (s->page_size != 0 && (s->page_size < 512 || (s->page_size & (s->page_size - 1))))
		return fail(err, errlen, "", "page_size",
		            "must be a power of two, at least 512 (or 0 for unknown)");
	if (!has_mmap_min)
		s->mmap_min_addr = s->page_size ? s->page_size : 4096;
	s->format_version = VMS_FORMAT_VERSION;
	s->page_table_bytes = s->status.vm_pte;
	return 0;
}

int vms_imp_threads_done(const struct vms_snapshot *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n_threads; i++) {
		if (s->threads[i].stack_allocation >= (int64_t)s->n_allocations) {
			char path[VMS_IMP_PATH_MAX];
			snprintf(path, sizeof path, "threads[%zu]", i);
			return fail(err, errlen, path, "stack_allocation", "not an integer in [-1, %lld]",
			            (long long)s->n_allocations - 1);
		}
	}
	return 0;
}

int vms_imp_part_done(struct vms_part *pt, const struct vms_allocation *al, size_t ai, uint64_t *prev_end,
                      const char *path, char *err, size_t errlen)
{
	if (pt->start >= pt->end || pt->start < *prev_end || pt->end > al->end)
		return fail(err, errlen, path, NULL,
		            "must lie inside its allocation, sorted and not overlapping");
	pt->allocation = (uint32_t)ai;
	*prev_end = pt->end;
	return 0;
}
