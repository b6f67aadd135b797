/* HotSpot hsperfdata parser (contract in hsperfdata.h).
 *
 * Prologue (32 bytes): magic u32 (0xCAFEC0C0, always big-endian), byte_order u8 (0 big, 1
 * little), major u8 (2), minor u8, accessible u8, used i32, overflow i32, mod_time_stamp i64,
 * entry_offset i32, num_entries i32; the i32/i64 fields in byte_order.
 * Entry (20-byte header): entry_length i32, name_offset i32, vector_length i32, data_type u8
 * ('J' jlong, 'B' byte vector = string), flags u8, data_units u8, data_variability u8,
 * data_offset i32; offsets relative to the entry's start. */
#include "hsperfdata.h"

#include <string.h>

struct rd {
	const unsigned char *p;
	int little;
};

static int64_t get(const struct rd *r, size_t off, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned k = 0; k < bytes; k++) {
		unsigned b = r->little ? bytes - 1 - k : k;
		v = v << 8 | r->p[off + b];
	}
	if (bytes == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

static void copy_str(char *dst, size_t cap, const unsigned char *src, size_t max)
{
	size_t n = 0;
	while (n < max && n + 1 < cap && src[n])
		n++;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* "<prefix>N<tail>" with one digit N below max: N, or -1. */
static int indexed(const char *name, size_t name_len, const char *prefix, const char *tail, int max)
{
	size_t pl = strlen(prefix), tl = strlen(tail);
	if (name_len != pl + 1 + tl || memcmp(name, prefix, pl) != 0)
		return -1;
	char d = name[pl];
	if (d < '0' || d >= '0' + max || memcmp(name + pl + 1, tail, tl) != 0)
		return -1;
	return d - '0';
}

static int gen_index(const char *name, size_t name_len, const char *tail)
{
	return indexed(name, name_len, "sun.gc.generation.", tail, VMS_HSPERF_GENS);
}

static int is(const char *name, size_t name_len, const char *want)
{
	return strlen(want) == name_len && memcmp(name, want, name_len) == 0;
}

int vms_hsperf_parse(const void *buf, size_t len, struct vms_hsperf *out)
{
	memset(out, 0, sizeof *out);
	struct rd r = {.p = buf};
	if (len < 32 || r.p[0] != 0xCA || r.p[1] != 0xFE || r.p[2] != 0xC0 || r.p[3] != 0xC0 || r.p[5] != 2)
		return -1;
	r.little = r.p[4] == 1;
	int64_t used = get(&r, 8, 4);
	int64_t off = get(&r, 24, 4);
	int64_t n = get(&r, 28, 4);
	size_t end = used > 0 && (uint64_t)used < len ? (size_t)used : len;
	for (int64_t k = 0; k < n && off >= 32 && (uint64_t)off + 20 <= end; k++) {
		size_t e = (size_t)off;
		int64_t elen = get(&r, e, 4), noff = get(&r, e + 4, 4), vlen = get(&r, e + 8, 4),
		        doff = get(&r, e + 16, 4);
		unsigned char type = r.p[e + 12];
		if (elen < 20 || (uint64_t)elen > end - e || noff < 20 || noff >= elen || doff < 0 ||
		    doff >= elen)
			break;
		const char *name = (const char *)r.p + e + noff;
		size_t name_max = (size_t)(elen - noff), name_len = 0;
		while (name_len < name_max && name[name_len])
			name_len++;
		const unsigned char *data = r.p + e + doff;
		size_t data_max = (size_t)(elen - doff);
		int64_t v = 0;
		int num = type == 'J' && data_max >= 8;
		if (num)
			v = get(&r, e + (size_t)doff, 8);
		size_t slen =
		    type == 'B' && vlen > 0 ? ((uint64_t)vlen < data_max ? (size_t)vlen : data_max) : 0;
		int g;
		if (num && v > 0 && (g = gen_index(name, name_len, ".maxCapacity")) >= 0) {
			out->gen_max[g] = (uint64_t)v;
			if (g + 1 > out->n_gens)
				out->n_gens = g + 1;
		} else if (num && v > 0 && (g = gen_index(name, name_len, ".capacity")) >= 0) {
			out->gen_cap[g] = (uint64_t)v;
		} else if (slen && (g = gen_index(name, name_len, ".name")) >= 0) {
			copy_str(out->gen_name[g], sizeof out->gen_name[g], data, slen);
		} else if (num && v > 0 && is(name, name_len, "sun.gc.compressedclassspace.maxCapacity")) {
			out->ccs_max = (uint64_t)v;
		} else if (num && v > 0 && is(name, name_len, "sun.gc.metaspace.maxCapacity")) {
			out->meta_max = (uint64_t)v;
		} else if (slen && is(name, name_len, "sun.gc.policy.name")) {
			copy_str(out->policy, sizeof out->policy, data, slen);
		} else if (slen && !out->collector[0] &&
		           indexed(name, name_len, "sun.gc.collector.", ".name", 10) >= 0) {
			copy_str(out->collector, sizeof out->collector, data, slen);
		} else if (slen && is(name, name_len, "java.property.java.vm.version")) {
			copy_str(out->version, sizeof out->version, data, slen);
		}
		out->entries++;
		off += elen;
	}
	return 0;
}
