/* One description of each snapshot record (house style 16): the snapshot header, region,
 * allocation, part, thread, recogniser run and summary row are field tables that every codec
 * walks — the direct JSON writer (server/json/json_write.c), the cJSON oracle (json.c), the
 * importer (json_parse.c) and the packed store codec (server/store/pack.c) — the way procps-ng's
 * Item_table drives every reader of its stacks.
 *
 * A field says:
 *   key     its JSON key (NULL: stored but not in the JSON, e.g. an allocation's region count);
 *           the table's order is the JSON key order (docs/snapshot-format.md).
 *   tag     its stable tag in the packed store format (>= 1, unique within the record, never
 *           renumbered or reused; 0: derived, never stored, recomputed on load).
 *   kind    the C type at `offset` and the JSON shape (enum vms_fkind).
 *   range   [min, max] for integer kinds, checked on import and on unpack; dflt is the value a
 *           missing field takes (JSON import and packed v2 alike), dflt_str for strings.
 *
 * Adding a field to a record: add the struct member (include/vmscope/snapshot.h), one entry here
 * in server/core/record.c at its place in the key order with the next free tag of its record
 * and its default, and a line in docs/snapshot-format.md. Every codec then writes, reads and
 * stores it; old JSON and old packed bodies give it its default.
 *
 * Core (libc only): this header describes; it does not encode. */
#ifndef VMSCOPE_RECORD_H
#define VMSCOPE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "vmscope/snapshot.h"

enum vms_fkind {
	VMS_FK_U64 = 1,  /* uint64_t; JSON number */
	VMS_FK_U32,      /* unsigned / uint32_t / uid_t; JSON number */
	VMS_FK_INT,      /* int / pid_t; JSON number */
	VMS_FK_INT_NULL, /* int; JSON null when below min (then the value is dflt, e.g. -1) */
	VMS_FK_I64,      /* int64_t; JSON number */
	VMS_FK_BOOL,     /* int 0/1; JSON true/false */
	VMS_FK_ADDR,     /* uint64_t; JSON "0x…" */
	VMS_FK_STR,      /* const char *; JSON string or null (NULL is written as dflt_str when set) */
	VMS_FK_ENUM,     /* int in [min, max]; JSON names[v - min] */
	VMS_FK_TYPE,     /* enum vms_type; JSON and store: vms_type_key(), never the enum number */
	VMS_FK_PERMS,    /* char[5] "rw-p" */
	VMS_FK_DEV,      /* unsigned major at offset, minor at aux; JSON "MAJ:MIN" in hex */
	VMS_FK_SMAPS,    /* uint64_t[VMS_SF_COUNT]; JSON object of every smaps key; stored by tag */
	VMS_FK_ROLLUP,   /* like SMAPS (without size/kernel_page_size/mmu_page_size) or null; the
	                  * int at aux says whether it is there */
	VMS_FK_OBJECT,   /* a nested JSON object whose fields (sub) address the same struct */
	/* Derived: written to JSON only (tag 0), recomputed on load. */
	VMS_FK_SIZE, /* end - start: uint64_t start at offset, end at aux */
	VMS_FK_TIME, /* ISO 8601 text of the int64_t Unix ms at offset */
	VMS_FK_COLS, /* uint64_t[VMS_COL_COUNT]; JSON object of every column key */
	/* Structure the codecs build themselves (arrays of other records, constants): */
	VMS_FK_SPECIAL, /* aux = enum vms_special */
};

enum vms_special {
	VMS_SP_FORMAT_VERSION = 1, /* the JSON format version (a constant of the writer) */
	VMS_SP_GENERATOR,          /* "vmscope X.Y.Z" */
	VMS_SP_ALLOCATIONS,        /* [ALLOCATION...] */
	VMS_SP_FREE,               /* [{start,end,size}...] of s->gaps */
	VMS_SP_THREADS,            /* [THREAD...] */
	VMS_SP_SUMMARY,            /* [TYPE_SUMMARY...] */
	VMS_SP_TOTAL,              /* COLUMNS of s->total */
	VMS_SP_RECOGNISERS,        /* [RECOGNISER_RUN...] */
	VMS_SP_REGIONS,            /* an allocation's [REGION...] */
	VMS_SP_PARTS,              /* an allocation's [PART...] (s->parts whose allocation is it) */
	VMS_SP_TYPE_KEY,           /* a summary row's type key (the row's index) */
	VMS_SP_TYPE_NAME,          /* a summary row's display name */
};

/* Field flags. */
#define VMS_FF_REQUIRED 0x01u /* an import without it fails */
#define VMS_FF_PRIVATE 0x02u  /* left out (null) in a share that omits the command line */
#define VMS_FF_BACKREF 0x04u  /* packed: "same as this field's previous value" (strings) */
#define VMS_FF_DELTA 0x08u    /* packed: as a signed delta from the previous record's end */
#define VMS_FF_LENGTH 0x10u   /* packed: as the length from this record's DELTA field */
#define VMS_FF_NULL_OK 0x20u  /* import: null is accepted and means dflt */
#define VMS_FF_CHECK 0x40u    /* import: derived, but when given it must equal the derived value */

struct vms_record;

struct vms_field {
	const char *key; /* JSON key, or NULL */
	unsigned tag;    /* packed tag, 0 = not stored */
	enum vms_fkind kind;
	unsigned flags;
	size_t offset;                /* into the record's struct */
	size_t aux;                   /* second offset (DEV, ROLLUP, SIZE) or enum vms_special */
	int64_t min, max;             /* valid range (integer kinds) */
	int64_t dflt;                 /* value when missing */
	const char *dflt_str;         /* STR: value when missing or null (NULL: NULL) */
	const char *const *names;     /* ENUM: names[v - min] */
	const struct vms_record *sub; /* OBJECT */
	const char *jkey;             /* ",\"key\":" as the writers emit it (jkey + 1 when first) */
	size_t jkey_len;
};

/* A record: its fields in JSON order and the version its packed form is written with. */
struct vms_record {
	const char *name; /* "region" */
	unsigned version; /* packed record version (bumped when a field changes meaning) */
	const struct vms_field *fields;
	size_t n_fields;
	size_t size; /* sizeof the struct */
};

extern const struct vms_record vms_rec_snapshot;   /* struct vms_snapshot (top level) */
extern const struct vms_record vms_rec_region;     /* struct vms_region */
extern const struct vms_record vms_rec_allocation; /* struct vms_allocation */
extern const struct vms_record vms_rec_part;       /* struct vms_part */
extern const struct vms_record vms_rec_thread;     /* struct vms_thread */
extern const struct vms_record vms_rec_recogniser; /* struct vms_recogniser_run */
extern const struct vms_record vms_rec_summary;    /* struct vms_type_summary (+ the row's type) */

/* Stable packed tags of the smaps fields (and rollup), by enum vms_smaps_field: a new kernel
 * field gets the next free tag, whatever its place in the enum. */
extern const unsigned vms_smaps_tags[VMS_SF_COUNT];
/* The smaps field with that tag, or -1 (a field this build does not know: skipped). */
int vms_smaps_field_from_tag(unsigned tag);

/* Typed access to a field of the record at base. */
#define VMS_FIELD_PTR(base, f) ((void *)((char *)(base) + (f)->offset))
#define VMS_FIELD_CPTR(base, f) ((const void *)((const char *)(base) + (f)->offset))

/* The integer value of an integer-like field (U64, U32, INT, INT_NULL, I64, BOOL, ADDR, ENUM,
 * TYPE) as int64_t (U64/ADDR: the bits); set stores one. */
/* 1 when kind is one of those integer-like kinds. */
int vms_field_is_int(enum vms_fkind kind);

static inline int64_t vms_field_get_int(const void *base, const struct vms_field *f)
{
	const void *p = VMS_FIELD_CPTR(base, f);
	switch (f->kind) {
	case VMS_FK_U64:
	case VMS_FK_ADDR:
		return (int64_t) * (const uint64_t *)p;
	case VMS_FK_I64:
		return *(const int64_t *)p;
	case VMS_FK_U32:
		return (int64_t) * (const unsigned *)p;
	case VMS_FK_TYPE:
		return (int64_t) * (const enum vms_type *)p;
	case VMS_FK_INT:
	case VMS_FK_INT_NULL:
	case VMS_FK_BOOL:
	case VMS_FK_ENUM:
		return *(const int *)p;
	default:
		return 0;
	}
}

static inline void vms_field_set_int(void *base, const struct vms_field *f, int64_t v)
{
	void *p = VMS_FIELD_PTR(base, f);
	switch (f->kind) {
	case VMS_FK_U64:
	case VMS_FK_ADDR:
		*(uint64_t *)p = (uint64_t)v;
		break;
	case VMS_FK_I64:
		*(int64_t *)p = v;
		break;
	case VMS_FK_U32:
		*(unsigned *)p = (unsigned)v;
		break;
	case VMS_FK_TYPE:
		*(enum vms_type *)p = (enum vms_type)v;
		break;
	case VMS_FK_INT:
	case VMS_FK_INT_NULL:
	case VMS_FK_BOOL:
	case VMS_FK_ENUM:
		*(int *)p = (int)v;
		break;
	default:
		break;
	}
}

/* Set every stored field of the record at base to its default (dflt / dflt_str); nested
 * OBJECT fields included. Derived and special fields are left alone. */
void vms_record_defaults(const struct vms_record *rec, void *base);

#endif
