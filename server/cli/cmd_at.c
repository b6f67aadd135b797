/* vmscope at PID|NAME|FILE.json ADDR...: what is at each address (like `pwndbg vmmap ADDR`):
 * the allocation and region, type, offset into them; for an image the file offset, section and
 * symbol (vmscope/imageinfo.h); for a free gap its size; the neighbours before and after.
 * Human text by default, --json: an array of the API's /at/{addr} objects (docs/api.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "vmscope/filecache.h"
#include "vmscope/imageinfo.h"
#include "vmscope/json.h"
#include "vmscope/proclist.h"
#include "vmscope/snapshot.h"
#include "vmscope/util.h"

static void at_usage(FILE *f)
{
	fprintf(f,
	        "usage: vmscope at [--json] [--no-peek] PID|NAME|FILE.json|FILE.json.gz ADDR...\n\n"
	        "What is at each address (hex, with or without 0x): the allocation and region, their type,\n"
	        "the offset into them; inside an image the file offset, the ELF section and the symbol\n"
	        "(libc.so.6!malloc+0x2a, from .symtab, a debug file under /usr/lib/debug/.build-id/, or\n"
	        ".dynsym); in a free gap its size; the regions before and after.\n"
	        "A FILE.json is a saved snapshot (FILE.json.gz: a capture, docs/capture.md): its images are "
	        "read from this machine's files, and only\n"
	        "when a file is still the one that was mapped (same inode).\n"
	        "  --json     an array of objects, one per address (the API's /at/{addr})\n"
	        "  --no-peek  never read the process's memory (as for `vmscope snapshot`)\n"
	        "Exit codes: 0 ok, 1 error, 2 usage, 3 no such process, 4 permission denied,\n"
	        "            5 no address space, 6 ambiguous name.\n");
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcasecmp(s + n - m, suffix);
}

static int take(const char *target, int no_peek, struct vms_snapshot **out)
{
	pid_t pid = 0, *matches = NULL;
	size_t n_matches = 0;
	int err = vms_proc_resolve(target, &pid, &matches, &n_matches);
	free(matches);
	if (err == VMS_ERR_AMBIGUOUS) {
		fprintf(stderr, "vmscope at: '%s' matches %zu processes; give a PID\n", target, n_matches);
		return VMS_EXIT_AMBIGUOUS;
	}
	if (!err) {
		struct vms_snapshot_opts opts = {.thread_stacks = 1, .no_peek = no_peek};
		err = vms_snapshot_take(pid, &opts, out);
	}
	if (err) {
		fprintf(stderr, "vmscope at: %s: %s\n", target, vms_strerror(err));
		return err == VMS_ERR_INVALID ? VMS_EXIT_ERROR : vms_exit_for_err(err);
	}
	return VMS_EXIT_OK;
}

static const char *base_name(const char *p)
{
	const char *b = p ? strrchr(p, '/') : NULL;
	return b ? b + 1 : p;
}

static void print_region_line(const struct vms_snapshot *s, const char *label, long i)
{
	if (i < 0) {
		printf("  %-7s (none)\n", label);
		return;
	}
	const struct vms_region *r = &s->regions[i];
	const struct vms_allocation *a = &s->allocations[r->allocation];
	printf("  %-7s 0x%llx-0x%llx %s %-12s %s%s%s\n", label, (unsigned long long)r->start,
	       (unsigned long long)r->end, r->perms, vms_type_name(r->type),
	       r->path      ? r->path
	       : a->details ? a->details
	                    : "",
	       r->role ? "  " : "", r->role ? r->role : "");
}

static void print_size(uint64_t b)
{
	if (b >= (1ull << 30))
		printf("%.1f GiB", (double)b / (1ull << 30));
	else if (b >= (1ull << 20))
		printf("%.1f MiB", (double)b / (1ull << 20));
	else
		printf("%llu KiB", (unsigned long long)(b >> 10));
}

static void print_text(const struct vms_snapshot *s, uint64_t addr, const struct vms_lookup *l,
                       const struct vms_image_info *img)
{
	char sym[512];
	vms_image_symbol_text(img, sym, sizeof sym);
	printf("0x%llx", (unsigned long long)addr);
	if (l->kind == 2) {
		printf("  outside the user address space\n");
		return;
	}
	if (l->kind == 1) {
		printf("  free: gap 0x%llx-0x%llx (", (unsigned long long)l->gap_start,
		       (unsigned long long)l->gap_end);
		print_size(l->gap_end - l->gap_start);
		printf("), 0x%llx into it\n", (unsigned long long)(addr - l->gap_start));
		printf("  fits       a mapping of up to ");
		print_size(l->gap_fit);
		printf(" (0x%llx bytes%s)\n", (unsigned long long)l->gap_fit,
		       l->gap_guard ? ", less the kernel's 1 MiB stack guard gap below the stack" : "");
		if (l->prev_region >= 0 && l->next_region >= 0 &&
		    s->regions[l->prev_region].allocation == s->regions[l->next_region].allocation) {
			const struct vms_allocation *a =
			    &s->allocations[s->regions[l->prev_region].allocation];
			printf("  inside     the %s allocation 0x%llx-0x%llx %s (a gap its loader left)\n",
			       vms_type_name(a->type), (unsigned long long)a->start,
			       (unsigned long long)a->end, a->details ? a->details : "");
		}
	} else {
		const struct vms_region *r = &s->regions[l->region];
		const struct vms_allocation *a = &s->allocations[l->allocation];
		printf("  %s%s%s\n", vms_type_name(a->type), sym[0] ? "  " : "", sym);
		printf("  allocation 0x%llx-0x%llx +0x%llx  %s\n", (unsigned long long)a->start,
		       (unsigned long long)a->end, (unsigned long long)(addr - a->start),
		       a->details ? a->details : "");
		printf("  region     0x%llx-0x%llx +0x%llx  %s%s%s\n", (unsigned long long)r->start,
		       (unsigned long long)r->end, (unsigned long long)(addr - r->start), r->perms,
		       r->role ? " " : "", r->role ? r->role : "");
		if (img->found) {
			printf("  image      %s", base_name(img->path));
			if (img->has_file_offset)
				printf("  file offset 0x%llx", (unsigned long long)img->file_offset);
			if (img->has_vaddr)
				printf("  vaddr 0x%llx", (unsigned long long)img->vaddr);
			if (img->section[0])
				printf("  section %s", img->section);
			printf("\n");
			if (img->symbol[0])
				printf("  symbol     %s+0x%llx (size %llu%s, from %s%s%s)\n", img->symbol,
				       (unsigned long long)img->symbol_offset,
				       (unsigned long long)img->symbol_size,
				       img->symbol_inside ? "" : ", the nearest below: past its end",
				       img->symbol_source, img->debug_file[0] ? " " : "", img->debug_file);
			if (img->build_id[0])
				printf("  build-id   %s\n", img->build_id);
			if (img->vdso_note)
				printf("  vdso       %s\n", img->vdso_note);
			if (img->note)
				printf("  note       %s\n", img->note);
		}
	}
	print_region_line(s, "before", l->prev_region);
	print_region_line(s, "after", l->next_region);
}

int vms_cmd_at(int argc, char **argv)
{
	int json = 0, no_peek = 0;
	const struct vms_cli_switch sw[] = {{"json", 'j', &json}, {"no-peek", 0, &no_peek}, {NULL, 0, NULL}};
	int done = vms_cli_switches(argc, argv, sw, at_usage);
	if (done >= 0)
		return done;
	if (argc - optind < 2) {
		fprintf(stderr, "vmscope at: %s\n", argc - optind < 1 ? "which process?" : "which address?");
		at_usage(stderr);
		return VMS_EXIT_USAGE;
	}
	const char *target = argv[optind++];
	size_t n = (size_t)(argc - optind);
	uint64_t *addrs = calloc(n, sizeof *addrs);
	if (!addrs)
		return VMS_EXIT_ERROR;
	for (size_t k = 0; k < n; k++)
		if (vms_parse_address(argv[optind + (int)k], &addrs[k]) != VMS_OK) {
			fprintf(stderr, "vmscope at: not an address: '%s' (hex, with or without 0x)\n",
			        argv[optind + (int)k]);
			free(addrs);
			return VMS_EXIT_USAGE;
		}

	struct vms_snapshot *s = NULL;
	int stored = ends_with(target, ".json") || ends_with(target, ".gz"); /* a capture too */
	int rc = stored ? vms_cli_load_snapshot("at", target, &s) : take(target, no_peek, &s);
	if (rc) {
		free(addrs);
		return rc;
	}
	char root[48];
	if (stored)
		snprintf(root, sizeof root, "/");
	else
		snprintf(root, sizeof root, "/proc/%d/root", (int)s->pid);
	/* a saved snapshot of another host names that host's files: none is read here */
	unsigned flags = stored ? vms_image_stored_flags(s, 0) : VMS_IMAGE_CHECK_INODE | VMS_IMAGE_LIVE;
	struct vms_file_cache *cache = vms_file_cache_new(0);
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	for (size_t k = 0; k < n && rc == VMS_EXIT_OK; k++) {
		struct vms_lookup l;
		struct vms_image_info img;
		vms_snapshot_lookup(s, addrs[k], &l);
		if (vms_image_lookup(s, addrs[k], root, flags, cache, &img) != VMS_OK) {
			fprintf(stderr, "vmscope at: out of memory\n");
			rc = VMS_EXIT_ERROR;
			break;
		}
		if (json) {
			cJSON *o = vms_json_lookup(s, addrs[k], &l, &img);
			if (!o || !arr || !cJSON_AddItemToArray(arr, o)) {
				cJSON_Delete(o);
				rc = VMS_EXIT_ERROR;
			}
		} else {
			if (k)
				printf("\n");
			print_text(s, addrs[k], &l, &img);
		}
	}
	if (json && rc == VMS_EXIT_OK) {
		char *text = vms_json_print(arr, 1);
		if (!text || printf("%s\n", text) < 0)
			rc = VMS_EXIT_ERROR;
		free(text);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "vmscope at: cannot write to standard output: %s\n", strerror(errno));
		rc = VMS_EXIT_ERROR;
	}
	cJSON_Delete(arr);
	vms_file_cache_free(cache);
	vms_snapshot_free(s);
	free(addrs);
	return rc;
}
