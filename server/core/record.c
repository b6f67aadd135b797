/* The field tables of the snapshot records (contract in include/vmscope/record.h).
 *
 * Tags: stable numbers of the packed store format v2 (server/store/pack.c). Within a record a
 * tag is never renumbered or reused, even when its field is removed; a new field takes the next
 * free tag of its record (noted at the end of each table). Order of entries = JSON key order. */
#include "vmscope/record.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

#define JK(k)                                                                                                \
	","                                                                                                  \
	"\"" k "\":"
/* F(struct, key, tag, kind, flags, member, min, max, dflt) */
#define F(T, k, tg, kd, fl, m, lo, hi, df)                                                                   \
	{                                                                                                    \
		.key = k, .tag = tg, .kind = kd, .flags = fl, .offset = offsetof(T, m), .min = lo,           \
		.max = hi, .dflt = df, .jkey = JK(k), .jkey_len = sizeof(JK(k)) - 1                          \
	}
/* A string field with its default. */
#define S(T, k, tg, fl, m, ds)                                                                               \
	{                                                                                                    \
		.key = k, .tag = tg, .kind = VMS_FK_STR, .flags = fl, .offset = offsetof(T, m),              \
		.dflt_str = ds, .jkey = JK(k), .jkey_len = sizeof(JK(k)) - 1                                 \
	}
/* A field the JSON does not carry (stored only). */
#define H(T, tg, kd, m, lo, hi, df)                                                                          \
	{                                                                                                    \
		.key = NULL, .tag = tg, .kind = kd, .offset = offsetof(T, m), .min = lo, .max = hi,          \
		.dflt = df                                                                                   \
	}
/* A field with a second offset (DEV: minor; SIZE: end). */
#define F2(T, k, tg, kd, fl, m, m2)                                                                          \
	{                                                                                                    \
		.key = k, .tag = tg, .kind = kd, .flags = fl, .offset = offsetof(T, m),                      \
		.aux = offsetof(T, m2), .jkey = JK(k), .jkey_len = sizeof(JK(k)) - 1                         \
	}
/* A derived field (no tag: written, never stored), with a second offset or without. */
#define D2(T, k, kd, fl, m, m2) F2(T, k, 0, kd, fl, m, m2)
#define D(T, k, kd, m) D2(T, k, kd, 0, m, m)
/* The [start, end) of a region or a part: packed tags 1 and 2, and the derived size. */
#define SPAN(T)                                                                                              \
	F(T, "start", 1, VMS_FK_ADDR, VMS_FF_REQUIRED | VMS_FF_DELTA, start, 0, 0, 0),                       \
	    F(T, "end", 2, VMS_FK_ADDR, VMS_FF_REQUIRED | VMS_FF_LENGTH, end, 0, 0, 0),                      \
	    D2(T, "size", VMS_FK_SIZE, 0, start, end)
#define SP(k, sp)                                                                                            \
	{                                                                                                    \
		.key = k, .kind = VMS_FK_SPECIAL, .aux = sp, .jkey = JK(k), .jkey_len = sizeof(JK(k)) - 1    \
	}
#define OBJ(k, r)                                                                                            \
	{                                                                                                    \
		.key = k, .kind = VMS_FK_OBJECT, .sub = &r, .jkey = JK(k), .jkey_len = sizeof(JK(k)) - 1     \
	}
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- snapshot header: tags 1..60 ------------------------------------------------------------ */

#define SN struct vms_snapshot
static const struct vms_field arch_fields[] = {
    F(SN, "bits", 10, VMS_FK_INT, 0, arch.bits, 0, 64, 0),
    S(SN, "machine", 11, 0, arch.machine, "unknown"),
};
static const struct vms_record rec_arch = {"arch", 1, arch_fields, N(arch_fields), sizeof(SN)};

static const struct vms_field process_fields[] = {
    F(SN, "pid", 3, VMS_FK_INT, VMS_FF_REQUIRED, pid, 0, INT_MAX, 0), /* 0: unknown (bare smaps) */
    F(SN, "ppid", 4, VMS_FK_INT, 0, ppid, 0, INT_MAX, 0),
    S(SN, "name", 5, 0, name, NULL),
    S(SN, "cmdline", 6, VMS_FF_PRIVATE, cmdline, ""),
    S(SN, "user", 7, 0, user, NULL),
    F(SN, "uid", 8, VMS_FK_U32, 0, uid, 0, UINT32_MAX, 0),
    F(SN, "start_time_ticks", 9, VMS_FK_U64, 0, start_time, 0, 0, 0),
    OBJ("arch", rec_arch),
};
static const struct vms_record rec_process = {"process", 1, process_fields, N(process_fields), sizeof(SN)};

#define ST(k, tg, m) F(SN, k, tg, VMS_FK_U64, 0, status.m, 0, 0, 0)
static const struct vms_field status_fields[] = {
    ST("vm_size", 20, vm_size),     ST("vm_rss", 21, vm_rss),
    ST("rss_anon", 22, rss_anon),   ST("rss_file", 23, rss_file),
    ST("rss_shmem", 24, rss_shmem), ST("vm_swap", 25, vm_swap),
    ST("vm_pte", 26, vm_pte),       ST("vm_lck", 27, vm_lck),
    ST("vm_hwm", 28, vm_hwm),       ST("vm_data", 29, vm_data),
    ST("vm_stk", 30, vm_stk),       F(SN, "threads", 31, VMS_FK_INT, 0, status.threads, 0, INT_MAX, 0),
};
#undef ST
static const struct vms_record rec_status = {"status", 1, status_fields, N(status_fields), sizeof(SN)};

static const char *const peek_names[] = {"denied", "off", "allowed"};
static const struct vms_field attribution_fields[] = {
    {.key = "peek",
     .tag = 40,
     .kind = VMS_FK_ENUM,
     .offset = offsetof(SN, peek),
     .min = -1,
     .max = 1,
     .dflt = 0,
     .names = peek_names,
     .jkey = JK("peek"),
     .jkey_len = sizeof(JK("peek")) - 1},
    S(SN, "peek_note", 41, 0, peek_note, NULL),
    SP("recognisers", VMS_SP_RECOGNISERS),
};
static const struct vms_record rec_attribution = {"attribution", 1, attribution_fields, N(attribution_fields),
                                                  sizeof(SN)};

static const struct vms_field snapshot_fields[] = {
    SP("format_version", VMS_SP_FORMAT_VERSION),
    H(SN, 1, VMS_FK_INT, format_version, 0, INT_MAX, VMS_FORMAT_VERSION),
    SP("generator", VMS_SP_GENERATOR),
    S(SN, "host", 12, 0, host, NULL),
    S(SN, "kernel", 13, 0, kernel, NULL),
    D(SN, "taken_at", VMS_FK_TIME, taken_at_ms),
    F(SN, "taken_at_ms", 2, VMS_FK_I64, 0, taken_at_ms, INT64_MIN, INT64_MAX, 0),
    OBJ("process", rec_process),
    F(SN, "page_size", 14, VMS_FK_U64, 0, page_size, 0, 0, 4096),
    F(SN, "mmap_min_addr", 15, VMS_FK_ADDR, 0, mmap_min_addr, 0, 0, 4096),
    OBJ("status", rec_status),
    SP("allocations", VMS_SP_ALLOCATIONS),
    F(SN, "user_top", 16, VMS_FK_ADDR, 0, user_top, 0, 0, 0),
    SP("free", VMS_SP_FREE),
    SP("threads", VMS_SP_THREADS),
    S(SN, "thread_note", 17, 0, thread_note, NULL),
    SP("summary", VMS_SP_SUMMARY),
    SP("total", VMS_SP_TOTAL),
    {.key = "rollup",
     .tag = 18,
     .kind = VMS_FK_ROLLUP,
     .offset = offsetof(SN, rollup),
     .aux = offsetof(SN, has_rollup),
     .jkey = JK("rollup"),
     .jkey_len = sizeof(JK("rollup")) - 1},
    F(SN, "malformed_lines", 19, VMS_FK_U32, 0, malformed_lines, 0, UINT_MAX, 0),
    H(SN, 32, VMS_FK_U64, page_table_bytes, 0, 0, 0),
    OBJ("attribution", rec_attribution),
    /* next free tag: 42 */
};
const struct vms_record vms_rec_snapshot = {"snapshot", 1, snapshot_fields, N(snapshot_fields), sizeof(SN)};
#undef SN

/* ---- region --------------------------------------------------------------------------------- */

#define RG struct vms_region
static const struct vms_field region_fields[] = {
    SPAN(RG),
    F(RG, "perms", 3, VMS_FK_PERMS, VMS_FF_REQUIRED, perms, 0, 0, 0),
    F(RG, "offset", 4, VMS_FK_ADDR, 0, offset, 0, 0, 0),
    F2(RG, "dev", 5, VMS_FK_DEV, 0, dev_major, dev_minor),
    F(RG, "inode", 6, VMS_FK_U64, 0, inode, 0, 0, 0),
    S(RG, "path", 7, VMS_FF_BACKREF, path, NULL),
    F(RG, "deleted", 8, VMS_FK_BOOL, 0, deleted, 0, 1, 0),
    S(RG, "role", 9, VMS_FF_BACKREF, role, NULL),
    F(RG, "smaps", 10, VMS_FK_SMAPS, VMS_FF_REQUIRED, smaps, 0, 0, 0),
    F(RG, "thp_eligible", 11, VMS_FK_INT_NULL, VMS_FF_NULL_OK, thp_eligible, 0, 1, -1),
    F(RG, "protection_key", 12, VMS_FK_INT_NULL, VMS_FF_NULL_OK, protection_key, 0, INT_MAX, -1),
    S(RG, "vm_flags", 13, VMS_FF_BACKREF, vm_flags, ""),
    D(RG, "columns", VMS_FK_COLS, cols),
    /* next free tag: 14 */
};
const struct vms_record vms_rec_region = {"region", 1, region_fields, N(region_fields), sizeof(RG)};
#undef RG

/* ---- allocation ------------------------------------------------------------------------------ */

#define AL struct vms_allocation
static const struct vms_field allocation_fields[] = {
    F(AL, "start", 0, VMS_FK_ADDR, VMS_FF_CHECK, start, 0, 0, 0),
    F(AL, "end", 0, VMS_FK_ADDR, VMS_FF_CHECK, end, 0, 0, 0),
    D2(AL, "size", VMS_FK_SIZE, 0, start, end),
    F(AL, "type", 1, VMS_FK_TYPE, VMS_FF_REQUIRED, type, 0, 0, 0),
    S(AL, "details", 3, VMS_FF_BACKREF, details, NULL),
    F(AL, "tid", 4, VMS_FK_INT, 0, tid, 0, INT_MAX, 0),
    S(AL, "owner", 5, VMS_FF_BACKREF, owner, NULL),
    S(AL, "signal", 6, VMS_FF_BACKREF, signal, NULL),
    F(AL, "guess", 7, VMS_FK_BOOL, 0, guess, 0, 1, 0),
    SP("parts", VMS_SP_PARTS),
    D(AL, "columns", VMS_FK_COLS, cols),
    SP("regions", VMS_SP_REGIONS),
    H(AL, 2, VMS_FK_U32, n_regions, 1, UINT32_MAX, 0),
    /* next free tag: 8 */
};
const struct vms_record vms_rec_allocation = {"allocation", 1, allocation_fields, N(allocation_fields),
                                              sizeof(AL)};
#undef AL

/* ---- part of an allocation ------------------------------------------------------------------- */

#define PT struct vms_part
static const struct vms_field part_fields[] = {
    SPAN(PT), S(PT, "details", 3, VMS_FF_BACKREF, details, NULL),
    H(PT, 4, VMS_FK_U32, allocation, 0, UINT32_MAX, 0),
    /* next free tag: 5 */
};
const struct vms_record vms_rec_part = {"part", 1, part_fields, N(part_fields), sizeof(PT)};
#undef PT

/* ---- thread ---------------------------------------------------------------------------------- */

#define TH struct vms_thread
static const struct vms_field thread_fields[] = {
    F(TH, "tid", 1, VMS_FK_INT, VMS_FF_REQUIRED, tid, 1, INT_MAX, 0),
    S(TH, "name", 2, 0, name, NULL),
    F(TH, "sp", 3, VMS_FK_ADDR, VMS_FF_NULL_OK, sp, 0, 0, 0),
    F(TH, "stack_allocation", 4, VMS_FK_INT, VMS_FF_NULL_OK, stack_allocation, -1, INT_MAX, -1),
    S(TH, "stack_note", 5, VMS_FF_BACKREF, stack_note, NULL),
    /* next free tag: 6 */
};
const struct vms_record vms_rec_thread = {"thread", 1, thread_fields, N(thread_fields), sizeof(TH)};
#undef TH

/* ---- recogniser run -------------------------------------------------------------------------- */

#define RR struct vms_recogniser_run
static const struct vms_field recogniser_fields[] = {
    S(RR, "key", 1, VMS_FF_REQUIRED, key, NULL),
    F(RR, "claimed", 2, VMS_FK_U32, 0, claimed, 0, UINT32_MAX, 0),
    F(RR, "read_memory", 3, VMS_FK_BOOL, 0, read_memory, 0, 1, 0), S(RR, "note", 4, 0, note, NULL),
    /* next free tag: 5 */
};
const struct vms_record vms_rec_recogniser = {"recogniser", 1, recogniser_fields, N(recogniser_fields),
                                              sizeof(RR)};
#undef RR

/* ---- summary row (derived: written, never stored or imported) ---------------------------------- */

#define SR struct vms_type_summary
static const struct vms_field summary_fields[] = {
    SP("type", VMS_SP_TYPE_KEY),
    SP("name", VMS_SP_TYPE_NAME),
    F(SR, "blocks", 0, VMS_FK_U64, 0, blocks, 0, 0, 0),
    F(SR, "largest", 0, VMS_FK_U64, 0, largest, 0, 0, 0),
    F(SR, "regions", 0, VMS_FK_U64, 0, regions, 0, 0, 0),
    D(SR, "columns", VMS_FK_COLS, cols),
};
const struct vms_record vms_rec_summary = {"summary", 1, summary_fields, N(summary_fields), sizeof(SR)};
#undef SR

/* ---- smaps tags ------------------------------------------------------------------------------ */

const unsigned vms_smaps_tags[VMS_SF_COUNT] = {
    [VMS_SF_SIZE] = 1,
    [VMS_SF_KERNEL_PAGE_SIZE] = 2,
    [VMS_SF_MMU_PAGE_SIZE] = 3,
    [VMS_SF_RSS] = 4,
    [VMS_SF_PSS] = 5,
    [VMS_SF_PSS_DIRTY] = 6,
    [VMS_SF_SHARED_CLEAN] = 7,
    [VMS_SF_SHARED_DIRTY] = 8,
    [VMS_SF_PRIVATE_CLEAN] = 9,
    [VMS_SF_PRIVATE_DIRTY] = 10,
    [VMS_SF_REFERENCED] = 11,
    [VMS_SF_ANONYMOUS] = 12,
    [VMS_SF_KSM] = 13,
    [VMS_SF_LAZY_FREE] = 14,
    [VMS_SF_ANON_HUGE_PAGES] = 15,
    [VMS_SF_SHMEM_PMD_MAPPED] = 16,
    [VMS_SF_FILE_PMD_MAPPED] = 17,
    [VMS_SF_SHARED_HUGETLB] = 18,
    [VMS_SF_PRIVATE_HUGETLB] = 19,
    [VMS_SF_SWAP] = 20,
    [VMS_SF_SWAP_PSS] = 21,
    [VMS_SF_LOCKED] = 22,
    /* next free tag: 23 */
};

int vms_smaps_field_from_tag(unsigned tag)
{
	/* Tags 1..22 are today's enum order + 1; look up rather than assume it stays so. */
	if (tag >= 1 && tag <= VMS_SF_COUNT && vms_smaps_tags[tag - 1] == tag)
		return (int)tag - 1;
	for (int f = 0; f < VMS_SF_COUNT; f++)
		if (vms_smaps_tags[f] == tag)
			return f;
	return -1;
}

/* ---- access ---------------------------------------------------------------------------------- */

int vms_field_is_int(enum vms_fkind kind)
{
	switch (kind) {
	case VMS_FK_U64:
	case VMS_FK_U32:
	case VMS_FK_INT:
	case VMS_FK_INT_NULL:
	case VMS_FK_I64:
	case VMS_FK_BOOL:
	case VMS_FK_ADDR:
	case VMS_FK_ENUM:
	case VMS_FK_TYPE:
		return 1;
	default:
		return 0;
	}
}

void vms_record_defaults(const struct vms_record *rec, void *base)
{
	for (size_t i = 0; i < rec->n_fields; i++) {
		const struct vms_field *f = &rec->fields[i];
		if (f->kind == VMS_FK_OBJECT)
			vms_record_defaults(f->sub, base);
		else if (!f->tag && !f->key)
			continue;
		else if (f->kind == VMS_FK_STR && f->tag)
			*(const char **)VMS_FIELD_PTR(base, f) = f->dflt_str;
		else if (vms_field_is_int(f->kind) && f->tag)
			vms_field_set_int(base, f, f->dflt);
	}
}
