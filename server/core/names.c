/* Name tables for enums declared in vmscope/types.h and vmscope/error.h. */
#include <stddef.h>
#include <string.h>

#include "names.h"
#include "vmscope/error.h"
#include "vmscope/snapshot.h"
#include "vmscope/types.h"

static const char *const type_names[VMS_TYPE_COUNT] = {
    "Image",        "Mapped File", "Shareable", "Heap",     "Managed Heap", "Stack",
    "Private Data", "Page Table",  "Kernel",    "Reserved", "Free",
};
static const char *const type_keys[VMS_TYPE_COUNT] = {
    "image",        "mapped_file", "shareable", "heap",     "managed_heap", "stack",
    "private_data", "page_table",  "kernel",    "reserved", "free",
};
#define KN(x)                                                                                                \
	{                                                                                                    \
		x, sizeof(x) - 1                                                                             \
	}
static const struct {
	const char *name;
	size_t len;
} sf_kernel[VMS_SF_COUNT] = {
    KN("Size"),          KN("KernelPageSize"), KN("MMUPageSize"),     KN("Rss"),
    KN("Pss"),           KN("Pss_Dirty"),      KN("Shared_Clean"),    KN("Shared_Dirty"),
    KN("Private_Clean"), KN("Private_Dirty"),  KN("Referenced"),      KN("Anonymous"),
    KN("KSM"),           KN("LazyFree"),       KN("AnonHugePages"),   KN("ShmemPmdMapped"),
    KN("FilePmdMapped"), KN("Shared_Hugetlb"), KN("Private_Hugetlb"), KN("Swap"),
    KN("SwapPss"),       KN("Locked"),
};
#undef KN
static const char *const sf_keys[VMS_SF_COUNT] = {
    "size",
    "kernel_page_size",
    "mmu_page_size",
    "rss",
    "pss",
    "pss_dirty",
    "shared_clean",
    "shared_dirty",
    "private_clean",
    "private_dirty",
    "referenced",
    "anonymous",
    "ksm",
    "lazy_free",
    "anon_huge_pages",
    "shmem_pmd_mapped",
    "file_pmd_mapped",
    "shared_hugetlb",
    "private_hugetlb",
    "swap",
    "swap_pss",
    "locked",
};
static const char *const col_names[VMS_COL_COUNT] = {
    "Size",      "Committed", "Private", "Total WS", "Private WS", "Shareable WS", "Shared WS",
    "Locked WS", "Pss",       "Uss",     "Swap",     "SwapPss",    "Dirty",
};
static const char *const col_keys[VMS_COL_COUNT] = {
    "size",      "committed", "private", "total_ws", "private_ws", "shareable_ws", "shared_ws",
    "locked_ws", "pss",       "uss",     "swap",     "swap_pss",   "dirty",
};

static int find_key(const char *const *table, int n, const char *key)
{
	if (!key)
		return -1;
	for (int i = 0; i < n; i++)
		if (!strcmp(table[i], key))
			return i;
	return -1;
}

/* Entry i of a table of n names, or dflt when i is out of range. */
static const char *name_at(const char *const *table, unsigned n, unsigned i, const char *dflt)
{
	return i < n ? table[i] : dflt;
}

/* The three accessors of an enum with a display-name table and a key table of n entries:
 * PREFIX_name (or "Unknown"), PREFIX_key (or "unknown"), PREFIX_from_key (or -1). */
#define NAMED_ENUM_ACCESSORS(prefix, enum_type, names, keys, n)                                              \
	const char *prefix##_name(enum_type v)                                                               \
	{                                                                                                    \
		return name_at(names, n, v, "Unknown");                                                      \
	}                                                                                                    \
	const char *prefix##_key(enum_type v)                                                                \
	{                                                                                                    \
		return name_at(keys, n, v, "unknown");                                                       \
	}                                                                                                    \
	int prefix##_from_key(const char *key)                                                               \
	{                                                                                                    \
		return find_key(keys, n, key);                                                               \
	}

/* vms_type_name, vms_type_key, vms_type_from_key; vms_col_name, vms_col_key, vms_col_from_key */
NAMED_ENUM_ACCESSORS(vms_type, enum vms_type, type_names, type_keys, VMS_TYPE_COUNT)
NAMED_ENUM_ACCESSORS(vms_col, enum vms_col, col_names, col_keys, VMS_COL_COUNT)

const char *vms_smaps_field_kernel_name(enum vms_smaps_field f)
{
	return (unsigned)f < VMS_SF_COUNT ? sf_kernel[f].name : "Unknown";
}
size_t vms_smaps_field_kernel_name_len(enum vms_smaps_field f)
{
	return (unsigned)f < VMS_SF_COUNT ? sf_kernel[f].len : 0;
}
const char *vms_smaps_field_key(enum vms_smaps_field f)
{
	return name_at(sf_keys, VMS_SF_COUNT, f, "unknown");
}
int vms_smaps_field_from_key(const char *key)
{
	return find_key(sf_keys, VMS_SF_COUNT, key);
}

/* Every error code with its stable snake_case key (API "error" field) and its sentence. */
static const struct {
	int err;
	const char *code, *message;
} errors[] = {
    {VMS_OK, "ok", "success"},
    {VMS_ERR_NO_SUCH_PROCESS, "no_such_process", "no such process"},
    {VMS_ERR_EXITED, "process_exited", "the process exited (or ran a new program) during the scan"},
    {VMS_ERR_PERMISSION, "permission_denied",
     "permission denied: reading another user's memory map needs the same user id "
     "(and a dumpable process) or root / CAP_SYS_PTRACE"},
    {VMS_ERR_NO_ADDRESS_SPACE, "no_address_space",
     "the process has no address space (kernel thread or zombie)"},
    {VMS_ERR_NOMEM, "out_of_memory", "out of memory"},
    {VMS_ERR_IO, "io_error", "unexpected error reading /proc"},
    {VMS_ERR_INVALID, "invalid_input", "invalid input"},
    {VMS_ERR_AMBIGUOUS, "ambiguous_name", "the name matches several processes"},
    {VMS_ERR_NOT_FOUND, "not_found", "not found"},
    {VMS_ERR_UNSUPPORTED, "unsupported_version", "unsupported format or schema version"},
    {VMS_ERR_FULL, "store_full", "the snapshot store is full (retention limit reached)"},
};

/* The index of err in errors, or -1. */
static int error_row(int err)
{
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
		if (errors[i].err == err)
			return (int)i;
	return -1;
}

const char *vms_strerror(int err)
{
	int i = error_row(err);
	return i >= 0 ? errors[i].message : "unknown error";
}

const char *vms_err_code(int err)
{
	int i = error_row(err);
	return i >= 0 ? errors[i].code : "unknown_error";
}

#define SF(k, j, f)                                                                                          \
	{                                                                                                    \
		k, j, offsetof(struct vms_status, f)                                                         \
	}
const struct vms_status_field vms_status_fields[VMS_STATUS_NFIELDS] = {
    SF("VmSize", "vm_size", vm_size),       SF("VmRSS", "vm_rss", vm_rss),
    SF("RssAnon", "rss_anon", rss_anon),    SF("RssFile", "rss_file", rss_file),
    SF("RssShmem", "rss_shmem", rss_shmem), SF("VmSwap", "vm_swap", vm_swap),
    SF("VmPTE", "vm_pte", vm_pte),          SF("VmLck", "vm_lck", vm_lck),
    SF("VmHWM", "vm_hwm", vm_hwm),          SF("VmData", "vm_data", vm_data),
    SF("VmStk", "vm_stk", vm_stk),
};
#undef SF
