/* Views across processes on saved text: /proc/meminfo into areas (smem -w's arithmetic), the
 * process list into totals by user, and smaps of several processes into mapped files with their
 * processes (grouped by path, device and inode; anonymous and pseudo mappings left out; a
 * pattern and an exact path filter). */
#include <string.h>

#include "test.h"
#include "vmscope/error.h"
#include "vmscope/systemwide.h"

static const char meminfo[] = "MemTotal:       16000000 kB\n"
                              "MemFree:         4000000 kB\n"
                              "MemAvailable:    9000000 kB\n"
                              "Buffers:          100000 kB\n"
                              "Cached:          3000000 kB\n"
                              "SwapCached:            0 kB\n"
                              "AnonPages:       5000000 kB\n"
                              "Mapped:           800000 kB\n"
                              "Shmem:            200000 kB\n"
                              "SReclaimable:     400000 kB\n"
                              "SUnreclaim:       100000 kB\n"
                              "HugePages_Total:       0\n"
                              "garbage line without colon\n"
                              "PageTables:        50000 kB";

/* Two processes: libx mapped in two VMAs by A, one by B; a deleted file; heap and anon skipped. */
static const char smaps_a[] =
    "00400000-00401000 r-xp 00000000 08:01 100 /usr/lib/libx.so\n"
    "Size:                  4 kB\nRss:                   4 kB\nPss:                   2 kB\n"
    "Private_Clean:         0 kB\nPrivate_Dirty:         0 kB\nSwap:                  0 kB\n"
    "00401000-00403000 r--p 00001000 08:01 100 /usr/lib/libx.so\n"
    "Size:                  8 kB\nRss:                   8 kB\nPss:                   6 kB\n"
    "Private_Clean:         4 kB\nPrivate_Dirty:         0 kB\nSwap:                  0 kB\n"
    "00500000-00600000 rw-p 00000000 00:00 0 [heap]\n"
    "Size:               1024 kB\nRss:                1024 kB\nPss:                1024 kB\n"
    "Private_Dirty:      1024 kB\n"
    "00600000-00601000 rw-s 00000000 08:01 200 /tmp/data (deleted)\n"
    "Size:                  4 kB\nRss:                   4 kB\nPss:                   4 kB\n"
    "Private_Dirty:         4 kB\nSwap:                  0 kB\n"
    "00700000-00701000 rw-p 00000000 00:00 0 \n"
    "Size:                  4 kB\nRss:                   4 kB\nPss:                   4 kB\n";
static const char smaps_b[] =
    "00400000-00402000 r-xp 00000000 08:01 100 /usr/lib/libx.so\n"
    "Size:                  8 kB\nRss:                   4 kB\nPss:                   2 kB\n"
    "Shared_Clean:          4 kB\nPrivate_Clean:         0 kB\nPrivate_Dirty:         0 kB\n"
    "Swap:                  4 kB\n"
    /* same path, another inode (a container's copy): another file */
    "00800000-00801000 r-xp 00000000 08:02 300 /usr/lib/libx.so\n"
    "Size:                  4 kB\nRss:                   4 kB\nPss:                   4 kB\n"
    "Private_Clean:         4 kB\n";

static const struct vms_mapped_file *find(const struct vms_mapped_files *f, const char *path, uint64_t inode)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->files[i].path, path) && f->files[i].inode == inode)
			return &f->files[i];
	return NULL;
}

static int build(const struct vms_mapped_files_opts *o, struct vms_mapped_files *out)
{
	struct vms_files_builder *b = vms_files_builder_new(o);
	if (!b)
		return VMS_ERR_NOMEM;
	if (vms_files_builder_add(b, 10, "a", "alice", smaps_a, sizeof smaps_a - 1) ||
	    vms_files_builder_add(b, 20, "b", "bob", smaps_b, sizeof smaps_b - 1)) {
		vms_files_builder_free(b);
		return VMS_ERR_NOMEM;
	}
	return vms_files_builder_finish(b, out);
}

int main(void)
{
	struct vms_meminfo m;
	vms_meminfo_parse(meminfo, sizeof meminfo - 1, &m);
	CHECK_EQ_U64(m.mem_total, 16000000ull * 1024);
	CHECK_EQ_U64(m.page_tables, 50000ull * 1024); /* last line, no newline */
	CHECK_EQ_U64(m.swap_total, 0);                /* missing: 0 */
	struct vms_area_row a[VMS_AREA_COUNT];
	vms_areas(&m, a);
	CHECK_EQ_U64(a[VMS_AREA_USER].used, 5800000ull * 1024);
	CHECK_EQ_U64(a[VMS_AREA_USER].cache, 800000ull * 1024);
	CHECK_EQ_U64(a[VMS_AREA_KERNEL].used, (16000000ull - 4000000 - 5800000) * 1024);
	CHECK_EQ_U64(a[VMS_AREA_KERNEL].cache, (100000ull + 400000 + 3000000 - 800000) * 1024);
	CHECK_EQ_U64(a[VMS_AREA_KERNEL].used + a[VMS_AREA_USER].used + a[VMS_AREA_FREE].used, m.mem_total);

	/* users: by uid, kernel threads left out uncounted, unreadable counted, sorted by Pss */
	struct vms_proc procs[4] = {
	    {.pid = 1, .uid = 0, .user = "root", .has_rollup = 1, .vm_rss = 100, .pss = 50, .uss = 10},
	    {.pid = 2, .uid = 1000, .user = "alice", .has_rollup = 1, .vm_rss = 300, .pss = 200, .uss = 100},
	    {.pid = 3, .uid = 1000, .user = "alice", .has_rollup = 0},
	    {.pid = 4, .uid = 0, .user = "root", .kernel_thread = 1},
	};
	struct vms_proclist l = {procs, 4};
	struct vms_user_totals t;
	CHECK(vms_user_totals(&l, NULL, &t) == VMS_OK);
	CHECK(t.n == 2 && !strcmp(t.users[0].user, "alice") && t.users[0].n_procs == 1);
	CHECK_EQ_U64(t.all.pss, 250);
	CHECK_EQ_U64(t.all.rss, 400);
	CHECK_EQ_U64(t.n_unreadable, 1);
	vms_user_totals_free(&t);
	CHECK(vms_user_totals(&l, "root", &t) == VMS_OK);
	CHECK(t.n == 1 && t.all.n_procs == 1 && t.n_unreadable == 0);
	vms_user_totals_free(&t);

	/* files */
	struct vms_mapped_files f;
	CHECK(build(NULL, &f) == VMS_OK);
	CHECK_EQ_U64(f.n, 3);
	const struct vms_mapped_file *x = find(&f, "/usr/lib/libx.so", 100);
	CHECK(x != NULL);
	if (x) {
		CHECK_EQ_U64(x->n_procs, 2);
		CHECK_EQ_U64(x->pss, 10 * 1024); /* 2 + 6 (A) + 2 (B) */
		CHECK_EQ_U64(x->rss, 16 * 1024);
		CHECK_EQ_U64(x->swap, 4 * 1024);
		CHECK(x->procs[0].pid == 10 && x->procs[0].n_maps == 2 && x->procs[0].pss == 8 * 1024);
		CHECK(!strcmp(x->procs[1].user, "bob") && x->procs[1].n_maps == 1);
		CHECK(x == &f.files[0]); /* largest Pss first */
	}
	const struct vms_mapped_file *y = find(&f, "/usr/lib/libx.so", 300);
	CHECK(y && y->n_procs == 1 && y->dev_minor == 2);
	const struct vms_mapped_file *d = find(&f, "/tmp/data", 200);
	CHECK(d && d->deleted && d->uss == 4 * 1024);
	CHECK_EQ_U64(f.pss, (10 + 4 + 4) * 1024);
	vms_mapped_files_free(&f);

	struct vms_mapped_files_opts o = {.match = "data"};
	CHECK(build(&o, &f) == VMS_OK);
	CHECK(f.n == 1 && !strcmp(f.files[0].path, "/tmp/data"));
	vms_mapped_files_free(&f);
	o = (struct vms_mapped_files_opts){.path = "/usr/lib/libx"}; /* exact: a prefix is not it */
	CHECK(build(&o, &f) == VMS_OK);
	CHECK_EQ_U64(f.n, 0);
	vms_mapped_files_free(&f);
	vms_mapped_files_free(NULL);
	vms_files_builder_free(NULL);
	TEST_MAIN_END();
}
