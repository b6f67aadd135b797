/* Integration test of vms_snapshot_take() on live processes.
 *
 * Starts a copy of tests/helpers/vms_testee (VMSCOPE_HELPERS/vms_testee, copied into a temp dir
 * so that nobody can run it wherever the checkout lives), reads its READY line of known
 * addresses, snapshots it and checks that each mapping lands in the right type with the right
 * details, that the arithmetic is consistent (region columns, allocation sums, per-type summary,
 * totals, Free gaps, tiling) and that the sum of per-VMA Rss equals smaps_rollup. Then checks the
 * error codes for a pid that does not exist, a zombie, a kernel thread and (as root, via a child
 * that becomes nobody with every capability set empty) a process we may not read. A part that
 * cannot run here is reported with SKIP and the test exits 77 (ctest shows it as skipped). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "vmscope/snapshot.h"
#include "vmscope/util.h"

#define MAX_KV 128
#define N_WORKERS 4

struct kv {
	char key[64];
	char val[256];
};

struct testee {
	pid_t pid;
	char dir[PATH_MAX];
	struct kv kv[MAX_KV];
	int n_kv;
};

/* Read a whole file (vms_read_file); NULL when it cannot be read. *len (when non-NULL) gets its
 * length. */
static char *read_text(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	if (vms_read_file(AT_FDCWD, path, 0, &buf, &n) != 0)
		return NULL;
	if (len)
		*len = n;
	return buf;
}

/* ---------- READY line ---------- */

static const char *kv_get(const struct testee *t, const char *key)
{
	for (int i = 0; i < t->n_kv; i++)
		if (strcmp(t->kv[i].key, key) == 0)
			return t->kv[i].val;
	fprintf(stderr, "READY line lacks %s\n", key);
	return NULL;
}

static uint64_t kv_u64(const struct testee *t, const char *key)
{
	const char *v = kv_get(t, key);
	return v ? strtoull(v, NULL, 0) : 0;
}

static void parse_ready(struct testee *t, char *line)
{
	char *save = NULL;
	for (char *tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || t->n_kv == MAX_KV)
			continue;
		struct kv *e = &t->kv[t->n_kv++];
		snprintf(e->key, sizeof e->key, "%.*s", (int)(eq - tok), tok);
		snprintf(e->val, sizeof e->val, "%s", eq + 1);
	}
}

/* Wait (up to 5 s) until every thread of pid sleeps (state S): right after printing READY the
 * main thread may still be on its way into sigtimedwait, and task/TID/syscall says "running"
 * for a thread on a CPU. Returns 1 when all sleep. */
static int wait_settled(pid_t pid)
{
	char path[64];
	for (int tries = 0; tries < 500; tries++) {
		snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
		DIR *d = opendir(path);
		int all = d != NULL, n = 0;
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char sp[300];
			snprintf(sp, sizeof sp, "/proc/%d/task/%s/stat", (int)pid, e->d_name);
			int fd = open(sp, O_RDONLY | O_CLOEXEC);
			char buf[512];
			ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
			if (fd >= 0)
				close(fd);
			buf[r > 0 ? r : 0] = 0;
			char *rp = strrchr(buf, ')');
			all &= rp && rp[1] == ' ' && rp[2] == 'S';
			n++;
		}
		if (d)
			closedir(d);
		if (all && n == N_WORKERS + 1)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* Copy the file at from to to (mode 0755). Returns 0 or -1. The tests that run as nobody exec
 * their copy: the build tree may sit below a directory nobody cannot enter (root's home is 0700),
 * and a test must not depend on where the checkout lives. */
static int copy_exe(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	char buf[65536];
	ssize_t r;

	if (in < 0)
		goto out;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0)
		goto out;
	while ((r = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)r) != r)
			goto out;
	rc = r == 0 && fchmod(out, 0755) == 0 ? 0 : -1;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0)
		rc = -1;
	return rc;
}

/* The capability sets of this process from /proc/self/status: 1 when all five are empty. */
static int caps_all_empty(void)
{
	char *txt = read_text("/proc/self/status", NULL);
	int found = 0, empty = txt != NULL;
	for (const char *p = txt; p && (p = strstr(p, "\nCap")); p++) {
		const char *colon = strchr(p, ':');
		if (!colon)
			break;
		found++;
		empty &= strtoull(colon + 1, NULL, 16) == 0;
	}
	free(txt);
	return empty && found == 5; /* CapInh, CapPrm, CapEff, CapBnd, CapAmb */
}

/* Become uid/gid 65534 the way an unprivileged daemon runs: no supplementary groups, an empty
 * capability bounding set (dropped while we still may), then every uid changed, which empties
 * the permitted, effective and ambient sets. Returns 0 only when all five sets are empty. */
static int become_nobody(void)
{
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
			return -1;
	if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0)
		return -1;
	return caps_all_empty() ? 0 : -1;
}

/* Start a copy of vms_testee in a fresh temp dir (the copy lives there too), as user 65534 when
 * as_nobody; returns 0 when its READY line was read. */
static int testee_start(struct testee *t, int as_nobody)
{
	const char *helpers = getenv("VMSCOPE_HELPERS");
	char exe[PATH_MAX], copy[PATH_MAX + 16], line[8192];
	int fds[2];

	memset(t, 0, sizeof *t);
	if (!helpers) {
		fprintf(stderr, "VMSCOPE_HELPERS is not set (run through ctest)\n");
		return -1;
	}
	snprintf(exe, sizeof exe, "%s/vms_testee", helpers);
	snprintf(t->dir, sizeof t->dir, "/tmp/vms-live-XXXXXX");
	if (!mkdtemp(t->dir) || pipe(fds) != 0) {
		perror("mkdtemp/pipe");
		return -1;
	}
	snprintf(copy, sizeof copy, "%s/vms_testee", t->dir);
	if (copy_exe(exe, copy) != 0) {
		fprintf(stderr, "cannot copy %s to %s: %s\n", exe, copy, strerror(errno));
		return -1;
	}
	if (as_nobody && chown(t->dir, 65534, 65534) != 0) {
		perror("chown");
		return -1;
	}
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (t->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		if (as_nobody && become_nobody() != 0)
			_exit(126);
		execl(copy, "vms_testee", t->dir, "600", (char *)NULL);
		perror(copy);
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
	while (n < sizeof line - 1 && !memchr(line, '\n', n)) {
		if (poll(&pfd, 1, 20000) <= 0)
			break;
		ssize_t r = read(fds[0], line + n, sizeof line - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fds[0]);
	line[n] = 0;
	if (strncmp(line, "READY ", 6) != 0) {
		fprintf(stderr, "vms_testee did not report READY (got \"%s\")\n", line);
		return -1;
	}
	parse_ready(t, line);
	if (!wait_settled(t->pid))
		fprintf(stderr, "vms_testee threads did not all reach state S\n");
	return 0;
}

static void testee_stop(struct testee *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		waitpid(t->pid, NULL, 0);
	}
	if (t->dir[0]) {
		char p[PATH_MAX + 64];
		snprintf(p, sizeof p, "%s/data.bin", t->dir);
		unlink(p);
		snprintf(p, sizeof p, "%s/name with space\nand newline.bin", t->dir);
		unlink(p);
		snprintf(p, sizeof p, "%s/vms_testee", t->dir);
		unlink(p);
		rmdir(t->dir);
	}
}

/* ---------- helpers over a snapshot ---------- */

static long region_at(const struct vms_snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n_regions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < s->regions[mid].start)
			hi = mid;
		else if (addr >= s->regions[mid].end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

static const struct vms_allocation *alloc_of(const struct vms_snapshot *s, const struct vms_region *r)
{
	return r->allocation < s->n_allocations ? &s->allocations[r->allocation] : NULL;
}

static const char *tname(int t)
{
	return t >= 0 && t < VMS_TYPE_COUNT ? vms_type_key((enum vms_type)t) : "(bad type)";
}

static int str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* A mapping from the READY line: the region must start at the address and have exactly the size,
 * and belong to an allocation of the expected type. Returns the region or NULL. */
static const struct vms_region *check_mapping(const struct vms_snapshot *s, const struct testee *t,
                                              const char *key, enum vms_type type, const char *perms)
{
	char size_key[80];
	snprintf(size_key, sizeof size_key, "%s_size", key);
	uint64_t addr = kv_u64(t, key), size = kv_u64(t, size_key);
	long i = region_at(s, addr);
	CHECK_MSG(i >= 0, "%s at 0x%" PRIx64 " is not in any region", key, addr);
	if (i < 0)
		return NULL;
	const struct vms_region *r = &s->regions[i];
	CHECK_MSG(r->start == addr && r->end == addr + size,
	          "%s: region %" PRIx64 "-%" PRIx64 ", expected %" PRIx64 "-%" PRIx64, key, r->start, r->end,
	          addr, addr + size);
	CHECK_MSG(strcmp(r->perms, perms) == 0, "%s: perms %s, expected %s", key, r->perms, perms);
	const struct vms_allocation *a = alloc_of(s, r);
	CHECK_MSG(a != NULL, "%s: region has no allocation", key);
	CHECK_MSG(r->type == type, "%s: region type %s, expected %s", key, tname(r->type), tname(type));
	if (a)
		CHECK_MSG(a->type == type, "%s: allocation type %s, expected %s", key, tname(a->type),
		          tname(type));
	return r;
}

/* A Shareable rw-s mapping (check_mapping) with this path, deleted or not, all of it resident
 * (Rss = the size the READY line gave as KEY_size). Returns the region or NULL. */
static const struct vms_region *check_shared(const struct vms_snapshot *s, const struct testee *t,
                                             const char *key, const char *path, int deleted)
{
	const struct vms_region *r = check_mapping(s, t, key, VMS_TYPE_SHAREABLE, "rw-s");
	if (r) {
		char size_key[80];
		snprintf(size_key, sizeof size_key, "%s_size", key);
		CHECK_STR(r->path, path);
		CHECK(r->deleted == deleted);
		CHECK_EQ_U64(r->smaps[VMS_SF_RSS], kv_u64(t, size_key));
	}
	return r;
}

/* One line of /proc/PID/maps, parsed independently of the core (names stay escaped). */
struct mline {
	uint64_t start, end, offset, inode;
	char perms[5];
	const char *name; /* points into the buffer; "" when anonymous */
};

static size_t parse_maps(char *buf, struct mline *out, size_t max)
{
	size_t n = 0;
	for (char *line = buf; line && *line && n < max;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		struct mline *m = &out[n];
		char *p = line;
		m->start = strtoull(p, &p, 16);
		m->end = strtoull(p + 1, &p, 16);
		memcpy(m->perms, p + 1, 4);
		m->perms[4] = 0;
		p += 5;
		m->offset = strtoull(p, &p, 16);
		p = strchr(p + 1, ' '); /* skip dev */
		m->inode = strtoull(p, &p, 10);
		while (*p == ' ')
			p++;
		m->name = p;
		n++;
		line = nl ? nl + 1 : NULL;
	}
	return n;
}

/* ---------- consistency checks ---------- */

static void check_tiling(const struct vms_snapshot *s)
{
	int ok_sorted = 1, ok_tile = 1, ok_bounds = 1, ok_type = 1;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *r = &s->regions[i];
		if (r->start >= r->end || (i > 0 && s->regions[i - 1].end > r->start))
			ok_sorted = 0;
	}
	CHECK_MSG(ok_sorted, "regions are not sorted, non-empty and non-overlapping");

	size_t next = 0;
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_allocation *al = &s->allocations[a];
		if (al->first_region != next || al->n_regions == 0 ||
		    al->first_region + al->n_regions > s->n_regions) {
			ok_tile = 0;
			fprintf(stderr, "allocation %zu: first_region %u n_regions %u, expected first %zu\n",
			        a, al->first_region, al->n_regions, next);
			break;
		}
		next = al->first_region + al->n_regions;
		const struct vms_region *f = &s->regions[al->first_region], *l = &s->regions[next - 1];
		if (al->start != f->start || al->end != l->end) {
			ok_bounds = 0;
			fprintf(stderr,
			        "allocation %zu: %" PRIx64 "-%" PRIx64 " but regions span %" PRIx64
			        "-%" PRIx64 "\n",
			        a, al->start, al->end, f->start, l->end);
		}
		for (size_t i = al->first_region; i < next; i++) {
			if (s->regions[i].allocation != a || s->regions[i].type != al->type) {
				ok_type = 0;
				fprintf(stderr,
				        "region %zu (%" PRIx64
				        ") says allocation %u type %s; owner %zu type %s\n",
				        i, s->regions[i].start, s->regions[i].allocation,
				        tname(s->regions[i].type), a, tname(al->type));
			}
			if (i > al->first_region && s->regions[i - 1].end != s->regions[i].start) {
				ok_bounds = 0;
				fprintf(stderr, "allocation %zu is not contiguous at %" PRIx64 "\n", a,
				        s->regions[i].start);
			}
		}
	}
	CHECK_MSG(ok_tile && next == s->n_regions, "allocations do not tile the regions (%zu of %zu covered)",
	          next, s->n_regions);
	CHECK(ok_bounds);
	CHECK(ok_type);
}

/* Column formulas that docs/memory-types.md fixes without ambiguity. */
static void check_region_columns(const struct vms_snapshot *s)
{
	int bad = 0;
	for (size_t i = 0; i < s->n_regions && bad < 10; i++) {
		const struct vms_region *r = &s->regions[i];
		const uint64_t *m = r->smaps, *c = r->cols;
		uint64_t want[VMS_COL_COUNT];
		vms_region_columns(r, want);
		uint64_t total = m[VMS_SF_RSS] + m[VMS_SF_SHARED_HUGETLB] + m[VMS_SF_PRIVATE_HUGETLB];
		int ok = memcmp(want, c, sizeof want) == 0 && c[VMS_COL_SIZE] == r->end - r->start &&
		         m[VMS_SF_SIZE] == r->end - r->start &&
		         c[VMS_COL_COMMITTED] == (strncmp(r->perms, "---", 3) == 0 ? 0 : r->end - r->start) &&
		         c[VMS_COL_TOTAL_WS] == total &&
		         c[VMS_COL_PRIVATE_WS] + c[VMS_COL_SHAREABLE_WS] == total &&
		         c[VMS_COL_SHARED_WS] <= c[VMS_COL_SHAREABLE_WS] &&
		         c[VMS_COL_LOCKED_WS] == ((r->vm_flag_bits & VMS_VMF_LO) ? m[VMS_SF_RSS] : 0) &&
		         c[VMS_COL_PSS] == m[VMS_SF_PSS] &&
		         c[VMS_COL_USS] == m[VMS_SF_PRIVATE_CLEAN] + m[VMS_SF_PRIVATE_DIRTY] &&
		         c[VMS_COL_SWAP] == m[VMS_SF_SWAP] && c[VMS_COL_SWAP_PSS] == m[VMS_SF_SWAP_PSS] &&
		         c[VMS_COL_DIRTY] <= total;
		if (!ok) {
			bad++;
			fprintf(stderr,
			        "region %" PRIx64 "-%" PRIx64 " %s: columns size %" PRIu64
			        " committed %" PRIu64 " total_ws %" PRIu64 " private_ws %" PRIu64
			        " shareable_ws %" PRIu64 " shared_ws %" PRIu64 " locked_ws %" PRIu64
			        " pss %" PRIu64 " uss %" PRIu64 " (rss %" PRIu64 ", vms_region_columns %s)\n",
			        r->start, r->end, r->perms, c[0], c[1], c[3], c[4], c[5], c[6], c[7], c[8],
			        c[9], m[VMS_SF_RSS],
			        memcmp(want, c, sizeof want) == 0 ? "agrees" : "DISAGREES");
		}
	}
	CHECK_MSG(bad == 0, "%d region(s) with wrong columns", bad);
}

static void check_sums(const struct vms_snapshot *s)
{
	uint64_t sum[VMS_TYPE_COUNT][VMS_COL_COUNT], blocks[VMS_TYPE_COUNT], largest[VMS_TYPE_COUNT],
	    regions[VMS_TYPE_COUNT];
	memset(sum, 0, sizeof sum);
	memset(blocks, 0, sizeof blocks);
	memset(largest, 0, sizeof largest);
	memset(regions, 0, sizeof regions);

	int bad_alloc = 0;
	for (size_t a = 0; a < s->n_allocations; a++) {
		const struct vms_allocation *al = &s->allocations[a];
		uint64_t asum[VMS_COL_COUNT] = {0};
		for (uint32_t i = al->first_region; i < al->first_region + al->n_regions && i < s->n_regions;
		     i++)
			for (int c = 0; c < VMS_COL_COUNT; c++)
				asum[c] += s->regions[i].cols[c];
		if (memcmp(asum, al->cols, sizeof asum) != 0 && bad_alloc++ < 5)
			fprintf(stderr, "allocation %" PRIx64 ": columns are not the sum of its regions\n",
			        al->start);
		if ((int)al->type < 0 || al->type >= VMS_TYPE_COUNT)
			continue;
		for (int c = 0; c < VMS_COL_COUNT; c++)
			sum[al->type][c] += al->cols[c];
		blocks[al->type]++;
		if (al->end - al->start > largest[al->type])
			largest[al->type] = al->end - al->start;
		regions[al->type] += al->n_regions;
	}
	CHECK_MSG(bad_alloc == 0, "%d allocation(s) whose columns are not the sum of their regions",
	          bad_alloc);

	uint64_t total[VMS_COL_COUNT] = {0};
	for (int t = 0; t < VMS_TYPE_COUNT; t++) {
		const struct vms_type_summary *ts = &s->summary[t];
		if (t == VMS_TYPE_FREE) {
			uint64_t fsum = 0, flarge = 0;
			for (size_t g = 0; g < s->n_gaps; g++) {
				fsum += s->gaps[g].end - s->gaps[g].start;
				if (s->gaps[g].end - s->gaps[g].start > flarge)
					flarge = s->gaps[g].end - s->gaps[g].start;
			}
			CHECK_EQ_U64(ts->blocks, s->n_gaps);
			CHECK_EQ_U64(ts->cols[VMS_COL_SIZE], fsum);
			CHECK_EQ_U64(ts->largest, flarge);
			continue;
		}
		if (t == VMS_TYPE_PAGE_TABLE) {
			CHECK_EQ_U64(s->page_table_bytes, s->status.vm_pte);
			CHECK_MSG(s->page_table_bytes > 0, "VmPTE is 0");
			CHECK_EQ_U64(ts->cols[VMS_COL_SIZE], s->page_table_bytes);
			CHECK_EQ_U64(ts->cols[VMS_COL_COMMITTED], s->page_table_bytes);
			CHECK_EQ_U64(ts->cols[VMS_COL_PRIVATE], s->page_table_bytes);
			CHECK_EQ_U64(ts->cols[VMS_COL_TOTAL_WS], s->page_table_bytes);
			CHECK_EQ_U64(ts->cols[VMS_COL_PRIVATE_WS], s->page_table_bytes);
		} else {
			int ok = memcmp(ts->cols, sum[t], sizeof sum[t]) == 0;
			CHECK_MSG(ok, "summary[%s] columns != sum of its allocations", tname(t));
			if (!ok)
				for (int c = 0; c < VMS_COL_COUNT; c++)
					if (ts->cols[c] != sum[t][c])
						fprintf(stderr, "  %s: summary %" PRIu64 " sum %" PRIu64 "\n",
						        vms_col_key((enum vms_col)c), ts->cols[c], sum[t][c]);
			CHECK_MSG(ts->blocks == blocks[t], "summary[%s].blocks %" PRIu64 " != %" PRIu64,
			          tname(t), ts->blocks, blocks[t]);
			CHECK_MSG(ts->largest == largest[t], "summary[%s].largest %" PRIu64 " != %" PRIu64,
			          tname(t), ts->largest, largest[t]);
			CHECK_MSG(ts->regions == regions[t], "summary[%s].regions %" PRIu64 " != %" PRIu64,
			          tname(t), ts->regions, regions[t]);
		}
		for (int c = 0; c < VMS_COL_COUNT; c++)
			total[c] += ts->cols[c];
	}
	int ok = memcmp(total, s->total, sizeof total) == 0;
	CHECK_MSG(ok, "total != sum of the summary rows (Free excluded)");
	if (!ok)
		for (int c = 0; c < VMS_COL_COUNT; c++)
			if (total[c] != s->total[c])
				fprintf(stderr, "  total.%s = %" PRIu64 ", sum %" PRIu64 "\n",
				        vms_col_key((enum vms_col)c), s->total[c], total[c]);
}

/* Free gaps: sorted, outside every region, maximal, inside [mmap_min_addr, user_top]; and every
 * hole between consecutive regions below user_top is reported. */
static void check_gaps(const struct vms_snapshot *s)
{
	int bad = 0;
	CHECK_MSG(s->mmap_min_addr > 0 && s->user_top > s->mmap_min_addr,
	          "mmap_min_addr 0x%" PRIx64 " user_top 0x%" PRIx64, s->mmap_min_addr, s->user_top);
	for (size_t g = 0; g < s->n_gaps; g++) {
		const struct vms_gap *gp = &s->gaps[g];
		int ok = gp->start < gp->end && gp->start >= s->mmap_min_addr && gp->end <= s->user_top &&
		         (g == 0 || s->gaps[g - 1].end < gp->start);
		long below = region_at(s, gp->start - 1), in = region_at(s, gp->start),
		     in_end = region_at(s, gp->end - 1);
		ok = ok && in < 0 && in_end < 0 && (gp->start == s->mmap_min_addr || below >= 0) &&
		     (gp->end == s->user_top || region_at(s, gp->end) >= 0);
		/* No region inside the gap. */
		for (size_t i = 0; ok && i < s->n_regions; i++)
			if (s->regions[i].start < gp->end && s->regions[i].end > gp->start)
				ok = 0;
		if (!ok && bad++ < 5)
			fprintf(stderr, "bad free gap %" PRIx64 "-%" PRIx64 "\n", gp->start, gp->end);
	}
	CHECK_MSG(bad == 0, "%d bad free gap(s)", bad);

	int missing = 0;
	for (size_t i = 0; i + 1 < s->n_regions; i++) {
		uint64_t hs = s->regions[i].end, he = s->regions[i + 1].start;
		if (hs >= he || he > s->user_top)
			continue;
		int found = 0;
		for (size_t g = 0; g < s->n_gaps && !found; g++)
			found = s->gaps[g].start == hs && s->gaps[g].end == he;
		if (!found && missing++ < 5)
			fprintf(stderr, "hole %" PRIx64 "-%" PRIx64 " is not a free gap\n", hs, he);
	}
	CHECK_MSG(missing == 0, "%d hole(s) between regions missing from free gaps", missing);
}

static void check_rollup(const struct vms_snapshot *s)
{
	CHECK(s->has_rollup);
	if (!s->has_rollup)
		return;
	/* Page-exact fields add up; Pss/Locked are truncated per VMA and may not. */
	static const enum vms_smaps_field exact[] = {VMS_SF_RSS, VMS_SF_ANONYMOUS, VMS_SF_PRIVATE_DIRTY,
	                                             VMS_SF_SHARED_DIRTY, VMS_SF_SWAP};
	for (size_t k = 0; k < sizeof exact / sizeof exact[0]; k++) {
		uint64_t sum = 0;
		for (size_t i = 0; i < s->n_regions; i++)
			sum += s->regions[i].smaps[exact[k]];
		CHECK_MSG(sum == s->rollup[exact[k]],
		          "sum of regions' %s %" PRIu64 " != smaps_rollup %" PRIu64,
		          vms_smaps_field_kernel_name(exact[k]), sum, s->rollup[exact[k]]);
	}
	CHECK_MSG(s->rollup[VMS_SF_RSS] > 0, "rollup Rss is 0");
	uint64_t ws = 0;
	for (size_t i = 0; i < s->n_regions; i++)
		ws += s->regions[i].smaps[VMS_SF_RSS];
	CHECK_EQ_U64(s->total[VMS_COL_TOTAL_WS] - s->page_table_bytes, ws);
}

/* ---------- the testee ---------- */

static void check_thread_list(const struct vms_snapshot *s, const struct testee *t)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)t->pid);
	DIR *d = opendir(path);
	int n_task = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int tid = atoi(e->d_name), found = 0;
		n_task++;
		for (size_t i = 0; i < s->n_threads; i++)
			found |= s->threads[i].tid == tid;
		CHECK_MSG(found, "task %d missing from snapshot threads", tid);
	}
	if (d)
		closedir(d);
	CHECK_EQ_U64(n_task, N_WORKERS + 1);
	CHECK_EQ_U64(s->n_threads, (uint64_t)n_task);
	CHECK_EQ_U64(s->status.threads, N_WORKERS + 1);
	CHECK_MSG(s->thread_note == NULL, "thread_note \"%s\" while running as %s",
	          s->thread_note ? s->thread_note : "", geteuid() == 0 ? "root" : "the testee's owner");
	for (size_t i = 0; i < s->n_threads; i++) {
		const struct vms_thread *th = &s->threads[i];
		int sa = th->stack_allocation;
		CHECK_MSG(th->sp != 0, "thread %d: sp unknown", th->tid);
		CHECK_MSG(sa >= 0 && (size_t)sa < s->n_allocations, "thread %d: no stack allocation",
		          th->tid);
		if (sa >= 0 && (size_t)sa < s->n_allocations) {
			const struct vms_allocation *a = &s->allocations[sa];
			CHECK_MSG(th->sp >= a->start && th->sp < a->end,
			          "thread %d: sp 0x%" PRIx64 " outside its stack %" PRIx64 "-%" PRIx64,
			          th->tid, th->sp, a->start, a->end);
			CHECK_MSG(a->type == VMS_TYPE_STACK && a->tid == th->tid,
			          "thread %d: stack allocation type %s tid %d", th->tid, tname(a->type),
			          a->tid);
		}
	}
}

static void check_testee(const struct vms_snapshot *s, const struct testee *t)
{
	char want[PATH_MAX + 64];
	const struct vms_region *r;

	CHECK_EQ_U64(s->pid, t->pid);
	CHECK_STR(s->name, "vms_testee");
	CHECK_EQ_U64(s->page_size, kv_u64(t, "page_size"));
	CHECK_EQ_U64(s->arch.bits, sizeof(void *) * 8);

	/* Shareable: memfd, SysV, POSIX shm, shared anonymous. */
	r = check_shared(s, t, "memfd", "/memfd:vms-memfd", 1);
	r = check_shared(s, t, "sysv", "/SYSV00000000", 1);
	if (r)
		CHECK_EQ_U64(r->inode, kv_u64(t, "shmid"));
	snprintf(want, sizeof want, "/dev/shm%s", kv_get(t, "posix_name"));
	r = check_shared(s, t, "posix", want, 0);
	r = check_shared(s, t, "devzero", "/dev/zero", 1);
	if (r) {
		CHECK_MSG(r->vm_flag_bits & VMS_VMF_SH, "/dev/zero region lacks VmFlag sh");
	}

	/* Mapped files: plain, deleted, and a name with a space and a newline (unescaped). */
	r = check_mapping(s, t, "datafile", VMS_TYPE_MAPPED_FILE, "r--p");
	if (r) {
		snprintf(want, sizeof want, "%s/data.bin", t->dir);
		CHECK_STR(r->path, want);
		CHECK(r->deleted == 0);
		CHECK_EQ_U64(r->smaps[VMS_SF_RSS], kv_u64(t, "datafile_size"));
		CHECK_EQ_U64(r->smaps[VMS_SF_ANONYMOUS], 0);
	}
	r = check_mapping(s, t, "deleted", VMS_TYPE_MAPPED_FILE, "r--p");
	if (r) {
		snprintf(want, sizeof want, "%s/deleted.bin", t->dir);
		CHECK_STR(r->path, want);
		CHECK(r->deleted == 1);
	}
	r = check_mapping(s, t, "weird", VMS_TYPE_MAPPED_FILE, "r--p");
	if (r) {
		snprintf(want, sizeof want, "%s/name with space\nand newline.bin", t->dir);
		CHECK_STR(r->path, want);
		CHECK(r->deleted == 0);
	}

	/* Reservation: stand-alone PROT_NONE, its own allocation, nothing committed. */
	r = check_mapping(s, t, "reserve", VMS_TYPE_RESERVED, "---p");
	if (r) {
		const struct vms_allocation *a = alloc_of(s, r);
		CHECK(a && a->n_regions == 1 && a->start == r->start && a->end == r->end);
		CHECK_EQ_U64(r->cols[VMS_COL_COMMITTED], 0);
		CHECK_EQ_U64(r->cols[VMS_COL_PRIVATE], 0);
		CHECK_EQ_U64(r->smaps[VMS_SF_RSS], 0);
		CHECK_MSG(r->vm_flag_bits & VMS_VMF_NR, "reservation lacks VmFlag nr (\"%s\")",
		          r->vm_flags ? r->vm_flags : "");
	}

	/* mlock: Locked WS = Rss = 64 KiB. */
	r = check_mapping(s, t, "mlock", VMS_TYPE_PRIVATE_DATA, "rw-p");
	if (r && kv_u64(t, "mlock_ok")) {
		CHECK_MSG(r->vm_flag_bits & VMS_VMF_LO, "mlocked region lacks VmFlag lo (\"%s\")",
		          r->vm_flags ? r->vm_flags : "");
		CHECK_EQ_U64(r->smaps[VMS_SF_RSS], kv_u64(t, "mlock_size"));
		CHECK_EQ_U64(r->cols[VMS_COL_LOCKED_WS], r->smaps[VMS_SF_RSS]);
		const struct vms_allocation *a = alloc_of(s, r);
		if (a)
			CHECK_EQ_U64(a->cols[VMS_COL_LOCKED_WS], kv_u64(t, "mlock_size"));
	} else if (r) {
		SKIP("mlock checks: vms_testee could not mlock (errno %s)", kv_get(t, "mlock_errno"));
	}

	/* Plain private anonymous memory. */
	r = check_mapping(s, t, "anon", VMS_TYPE_PRIVATE_DATA, "rw-p");
	if (r) {
		CHECK(r->path == NULL);
		CHECK_EQ_U64(r->smaps[VMS_SF_RSS], kv_u64(t, "anon_size"));
		CHECK_EQ_U64(r->smaps[VMS_SF_ANONYMOUS], kv_u64(t, "anon_size"));
		CHECK_EQ_U64(r->cols[VMS_COL_PRIVATE_WS], kv_u64(t, "anon_size"));
		CHECK_EQ_U64(r->cols[VMS_COL_PRIVATE], kv_u64(t, "anon_size"));
	}

	/* The reservation has an unmapped page on each side (vms_testee unmaps them and maps nothing
	 * there later): a free gap ends at its start and another starts at its end. */
	{
		uint64_t rs = kv_u64(t, "reserve"), re = rs + kv_u64(t, "reserve_size"),
		         ps = kv_u64(t, "page_size");
		int below = 0, above = 0;
		for (size_t g = 0; g < s->n_gaps; g++) {
			below |= s->gaps[g].end == rs && s->gaps[g].start <= rs - ps;
			above |= s->gaps[g].start == re && s->gaps[g].end >= re + ps;
		}
		CHECK_MSG(below && above,
		          "free gaps around the reservation %" PRIx64 "-%" PRIx64 ": below %d above %d", rs,
		          re, below, above);
		struct vms_lookup lk;
		vms_snapshot_lookup(s, rs - ps, &lk);
		CHECK_MSG(lk.kind == 1 && lk.gap_end == rs && lk.gap_start <= rs - ps && lk.region == -1,
		          "lookup(0x%" PRIx64 ") kind %d gap %" PRIx64 "-%" PRIx64, rs - ps, lk.kind,
		          lk.gap_start, lk.gap_end);
		vms_snapshot_lookup(s, kv_u64(t, "anon"), &lk);
		CHECK_MSG(lk.kind == 0 && lk.region == region_at(s, kv_u64(t, "anon")),
		          "lookup(anon) kind %d region %ld", lk.kind, lk.region);
		vms_snapshot_lookup(s, s->user_top, &lk);
		CHECK_MSG(lk.kind == 2, "lookup(user_top) kind %d", lk.kind);
	}

	/* glibc arenas: each worker's 100 KiB block is in a heap allocation = 64 MiB-aligned head + tail. */
	if (kv_u64(t, "asan")) {
		SKIP("arena checks: vms_testee was built with AddressSanitizer (no glibc malloc)");
	} else {
		long seen[N_WORKERS];
		int n_seen = 0;
		for (int w = 0; w < N_WORKERS; w++) {
			char key[32];
			snprintf(key, sizeof key, "w%d_heap", w);
			uint64_t p = kv_u64(t, key);
			long i = region_at(s, p);
			CHECK_MSG(i >= 0, "worker %d heap block 0x%" PRIx64 " not in a region", w, p);
			if (i < 0)
				continue;
			const struct vms_region *hr = &s->regions[i];
			const struct vms_allocation *a = alloc_of(s, hr);
			CHECK_MSG(hr->type == VMS_TYPE_HEAP,
			          "worker %d arena region %" PRIx64 "-%" PRIx64 " type %s", w, hr->start,
			          hr->end, tname(hr->type));
			if (!a)
				continue;
			CHECK_MSG(a->start % (64u << 20) == 0 && a->end - a->start == (64u << 20),
			          "arena allocation %" PRIx64 "-%" PRIx64 " is not one aligned 64 MiB heap",
			          a->start, a->end);
			CHECK_MSG(
			    a->n_regions == 2 && str_eq(s->regions[a->first_region].role, "head") &&
			        str_eq(s->regions[a->first_region + 1].role, "tail"),
			    "arena allocation %" PRIx64 ": %u regions, roles %s/%s", a->start, a->n_regions,
			    s->regions[a->first_region].role ? s->regions[a->first_region].role : "null",
			    a->n_regions > 1 && s->regions[a->first_region + 1].role
			        ? s->regions[a->first_region + 1].role
			        : "null");
			int dup = 0;
			for (int k = 0; k < n_seen; k++)
				dup |= seen[k] == (long)hr->allocation;
			if (!dup)
				seen[n_seen++] = (long)hr->allocation;
		}
		CHECK_MSG(n_seen >= 2, "only %d distinct arena heap allocation(s)", n_seen);
		CHECK_EQ_U64(n_seen, kv_u64(t, "arenas"));
	}

	/* Thread stacks: one allocation per worker (guard + stack), with its tid and name. */
	{
		long seen[N_WORKERS];
		for (int w = 0; w < N_WORKERS; w++) {
			char key[32];
			snprintf(key, sizeof key, "w%d_stack", w);
			uint64_t sp = kv_u64(t, key);
			snprintf(key, sizeof key, "w%d_tid", w);
			int tid = (int)kv_u64(t, key);
			long i = region_at(s, sp);
			seen[w] = -1;
			CHECK_MSG(i >= 0, "worker %d stack address 0x%" PRIx64 " not in a region", w, sp);
			if (i < 0)
				continue;
			const struct vms_region *sr = &s->regions[i];
			const struct vms_allocation *a = alloc_of(s, sr);
			if (!a)
				continue;
			seen[w] = (long)sr->allocation;
			snprintf(want, sizeof want, "Thread ID: %d (worker-%d)", tid, w);
			CHECK_MSG(a->type == VMS_TYPE_STACK, "worker %d stack allocation type %s", w,
			          tname(a->type));
			CHECK_MSG(a->tid == tid, "worker %d stack allocation tid %d, expected %d", w, a->tid,
			          tid);
			CHECK_STR(a->details, want);
			CHECK_MSG(
			    a->n_regions == 2 && strcmp(s->regions[a->first_region].perms, "---p") == 0 &&
			        str_eq(s->regions[a->first_region].role, "guard") &&
			        str_eq(s->regions[a->first_region + 1].role, "stack"),
			    "worker %d stack allocation %" PRIx64 "-%" PRIx64
			    ": %u regions, first %s role %s",
			    w, a->start, a->end, a->n_regions, s->regions[a->first_region].perms,
			    s->regions[a->first_region].role ? s->regions[a->first_region].role : "null");
			for (int k = 0; k < w; k++)
				CHECK_MSG(seen[k] != seen[w], "workers %d and %d share stack allocation", k,
				          w);
		}
	}

	/* Main thread: [stack] with the main tid. */
	{
		long i = region_at(s, kv_u64(t, "main_stack"));
		CHECK(i >= 0);
		if (i >= 0) {
			const struct vms_region *sr = &s->regions[i];
			const struct vms_allocation *a = alloc_of(s, sr);
			CHECK_STR(sr->path, "[stack]");
			CHECK_MSG(sr->vm_flag_bits & VMS_VMF_GD, "[stack] lacks VmFlag gd");
			CHECK_MSG(a && a->type == VMS_TYPE_STACK, "[stack] allocation type %s",
			          a ? tname(a->type) : "none");
			CHECK_MSG(a && a->tid == (int)kv_u64(t, "main_tid"), "[stack] tid %d, expected %d",
			          a ? a->tid : -1, (int)kv_u64(t, "main_tid"));
		}
	}

	check_thread_list(s, t);

	/* Images: the testee's own ELF and libc (with its zero-fill .bss). */
	char exe_path[PATH_MAX], procexe[64];
	snprintf(procexe, sizeof procexe, "/proc/%d/exe", (int)t->pid);
	ssize_t n = readlink(procexe, exe_path, sizeof exe_path - 1);
	exe_path[n > 0 ? n : 0] = 0;
	const char *images[2] = {"exe_fn", "libc_fn"};
	for (int k = 0; k < 2; k++) {
		long i = region_at(s, kv_u64(t, images[k]));
		CHECK_MSG(i >= 0, "%s not in a region", images[k]);
		if (i < 0)
			continue;
		const struct vms_region *ir = &s->regions[i];
		const struct vms_allocation *a = alloc_of(s, ir);
		CHECK_MSG(ir->type == VMS_TYPE_IMAGE, "%s region %s type %s", images[k],
		          ir->path ? ir->path : "(anon)", tname(ir->type));
		CHECK_STR(ir->perms, "r-xp");
		CHECK_STR(ir->role, "text");
		if (k == 0) {
			CHECK_STR(ir->path, exe_path);
		} else {
			const char *base = ir->path ? strrchr(ir->path, '/') : NULL;
			CHECK_STR(base, "/libc.so.6");
		}
		if (!a || !ir->path)
			continue;
		/* Every VMA of that file belongs to this allocation, and it starts with the ELF header. */
		size_t n_file = 0, n_in = 0;
		for (size_t j = 0; j < s->n_regions; j++) {
			if (!str_eq(s->regions[j].path, ir->path) || s->regions[j].inode != ir->inode)
				continue;
			n_file++;
			n_in += s->regions[j].allocation == ir->allocation;
		}
		CHECK_MSG(n_file >= 4 && n_in == n_file, "%s: %zu of %zu VMAs of %s in its image allocation",
		          images[k], n_in, n_file, ir->path);
		const struct vms_region *first = &s->regions[a->first_region];
		CHECK_MSG(first->offset == 0 && str_eq(first->path, ir->path),
		          "%s: image allocation starts at %s+0x%" PRIx64, images[k],
		          first->path ? first->path : "(anon)", first->offset);
		/* the path, then what vms_image_sections() adds: "(main executable|loader, build-id ...)" */
		CHECK_MSG(a->details && !strncmp(a->details, ir->path, strlen(ir->path)) &&
		              (a->details[strlen(ir->path)] == 0 || a->details[strlen(ir->path)] == ' '),
		          "%s: details %s", images[k], a->details ? a->details : "(null)");
	}

	/* libc's .bss: the anonymous rw-p VMA starting exactly at the end of libc's last rw-p
	 * segment (found from /proc/PID/maps read here, not by the core). */
	{
		char mpath[64];
		snprintf(mpath, sizeof mpath, "/proc/%d/maps", (int)t->pid);
		char *buf = read_text(mpath, NULL);
		static struct mline ml[4096];
		size_t nm = buf ? parse_maps(buf, ml, 4096) : 0;
		uint64_t bss = 0;
		for (size_t i = 0; i + 1 < nm; i++) {
			const char *b = strrchr(ml[i].name, '/');
			if (b && strcmp(b, "/libc.so.6") == 0 && strcmp(ml[i].perms, "rw-p") == 0 &&
			    ml[i + 1].inode == 0 && ml[i + 1].name[0] == 0 &&
			    strcmp(ml[i + 1].perms, "rw-p") == 0 && ml[i + 1].start == ml[i].end)
				bss = ml[i + 1].start;
		}
		CHECK_MSG(bss != 0, "no anonymous .bss VMA after libc's rw-p segment in %s", mpath);
		long i = bss ? region_at(s, bss) : -1;
		long libc = region_at(s, kv_u64(t, "libc_fn"));
		if (i >= 0 && libc >= 0) {
			CHECK_MSG(s->regions[i].allocation == s->regions[libc].allocation,
			          "libc .bss at %" PRIx64 " is in allocation of type %s, not libc's image",
			          bss, tname(s->regions[i].type));
			CHECK_STR(s->regions[i].role, "bss");
			CHECK(s->regions[i].path == NULL);
		}
		free(buf);
	}

	/* Pseudo names. */
	int n_vdso = 0;
	for (size_t i = 0; i < s->n_regions; i++) {
		const struct vms_region *pr = &s->regions[i];
		if (!pr->path || pr->path[0] != '[')
			continue;
		if (strcmp(pr->path, "[vdso]") == 0) {
			n_vdso++;
			CHECK_MSG(pr->type == VMS_TYPE_IMAGE, "[vdso] type %s", tname(pr->type));
		} else if (strncmp(pr->path, "[vvar", 5) == 0 || strcmp(pr->path, "[vsyscall]") == 0) {
			CHECK_MSG(pr->type == VMS_TYPE_KERNEL, "%s type %s", pr->path, tname(pr->type));
		} else if (strcmp(pr->path, "[heap]") == 0) {
			CHECK_MSG(pr->type == VMS_TYPE_HEAP, "[heap] type %s", tname(pr->type));
		}
	}
	CHECK_EQ_U64(n_vdso, 1);
}

static void check_snapshot_consistency(struct vms_snapshot *s)
{
	CHECK_EQ_U64(s->format_version, VMS_FORMAT_VERSION);
	CHECK_EQ_U64(s->malformed_lines, 0);
	CHECK(s->n_regions > 0 && s->n_allocations > 0);
	check_tiling(s);
	check_region_columns(s);
	check_sums(s);
	check_gaps(s);
	check_rollup(s);
	/* Re-summarizing must be idempotent (importers rely on it). */
	struct vms_type_summary before[VMS_TYPE_COUNT];
	memcpy(before, s->summary, sizeof before);
	CHECK_EQ_U64(vms_snapshot_summarize(s), VMS_OK);
	CHECK(memcmp(before, s->summary, sizeof before) == 0);
}

/* ---------- errors ---------- */

static pid_t unused_pid(void)
{
	long max = 32768;
	char *txt = read_text("/proc/sys/kernel/pid_max", NULL);
	if (txt) {
		max = strtol(txt, NULL, 10);
		free(txt);
	}
	for (pid_t p = (pid_t)max - 1; p > 300; p--)
		if (kill(p, 0) != 0 && errno == ESRCH)
			return p;
	return -1;
}

static int is_kthread(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	char *txt = read_text(path, NULL);
	int k = txt && strstr(txt, "\nKthread:\t1\n") != NULL;
	free(txt);
	return k;
}

static void check_errors(const struct testee *t)
{
	struct vms_snapshot *s = NULL;
	struct vms_snapshot_opts opts = {.read_rollup = 1, .thread_stacks = 1};
	int rc;

	pid_t none = unused_pid();
	CHECK(none > 0);
	rc = vms_snapshot_take(none, &opts, &s);
	CHECK_MSG(rc == VMS_ERR_NO_SUCH_PROCESS, "pid %d (absent): %s", (int)none, vms_err_code(rc));
	CHECK(s == NULL || rc == VMS_OK);
	vms_snapshot_free(rc == VMS_OK ? s : NULL);
	s = NULL;

	/* Zombie: a child that exited and is not reaped yet. */
	pid_t z = fork();
	if (z == 0)
		_exit(0);
	char spath[64];
	snprintf(spath, sizeof spath, "/proc/%d/stat", (int)z);
	int is_zombie = 0;
	for (int tries = 0; tries < 500 && !is_zombie; tries++) {
		char *st = read_text(spath, NULL);
		char *rp = st ? strrchr(st, ')') : NULL;
		is_zombie = rp && rp[1] == ' ' && rp[2] == 'Z';
		free(st);
		if (!is_zombie)
			usleep(10000);
	}
	CHECK_MSG(is_zombie, "child %d never became a zombie", (int)z);
	rc = vms_snapshot_take(z, &opts, &s);
	CHECK_MSG(rc == VMS_ERR_NO_ADDRESS_SPACE, "zombie %d: %s", (int)z, vms_err_code(rc));
	vms_snapshot_free(rc == VMS_OK ? s : NULL);
	s = NULL;
	waitpid(z, NULL, 0);

	/* Kernel thread: pid 2 (kthreadd) when it is one, else the first kernel thread found. */
	pid_t kt = is_kthread(2) ? 2 : -1;
	if (kt < 0) {
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && kt < 0 && (e = readdir(d)))
			if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && is_kthread(atoi(e->d_name)))
				kt = atoi(e->d_name);
		if (d)
			closedir(d);
	}
	if (kt > 0) {
		rc = vms_snapshot_take(kt, &opts, &s);
		CHECK_MSG(rc == VMS_ERR_NO_ADDRESS_SPACE, "kernel thread %d: %s", (int)kt, vms_err_code(rc));
		vms_snapshot_free(rc == VMS_OK ? s : NULL);
		s = NULL;
	} else {
		SKIP("kernel thread: none visible in /proc (container?)");
	}

	/* Permission: as nobody, scan pid 1 and the root-owned testee. */
	if (geteuid() != 0) {
		SKIP("permission test: needs root to become nobody (uid 65534)");
		return;
	}
	pid_t targets[2] = {1, t->pid};
	for (int k = 0; k < 2; k++) {
		pid_t c = fork();
		if (c == 0) {
			if (become_nobody() != 0)
				_exit(100);
			struct vms_snapshot *cs = NULL;
			int crc = vms_snapshot_take(targets[k], &opts, &cs);
			if (crc == VMS_OK)
				vms_snapshot_free(cs);
			_exit(crc);
		}
		int status = 0;
		waitpid(c, &status, 0);
		int crc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		CHECK_MSG(crc == VMS_ERR_PERMISSION, "nobody scanning pid %d: %s (exit %d)", (int)targets[k],
		          crc >= 0 && crc < VMS_ERR_COUNT ? vms_err_code(crc)
		          : crc == 100                    ? "could not drop every privilege"
		                                          : "child failed",
		          crc);
	}
}

/* A target that maps, mprotects and unmaps all the time: each read() of smaps sees a different
 * moment, so the snapshot is torn; it must still be well-formed (sorted, tiled, summed). */
static void check_churn(void)
{
	pid_t c = fork();
	if (c == 0) {
		size_t ps = (size_t)sysconf(_SC_PAGESIZE);
		unsigned seed = 1;
		char *keep[64] = {0};
		for (unsigned i = 0;; i++) {
			seed = seed * 1103515245u + 12345u;
			unsigned slot = (seed >> 8) % 64, pages = 1 + (seed >> 16) % 32;
			if (keep[slot]) {
				munmap(keep[slot], 32 * ps);
				keep[slot] = NULL;
			}
			char *p =
			    mmap(NULL, 32 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				continue;
			memset(p, 1, pages * ps);
			mprotect(p + ps * (i % 3), ps, PROT_READ);
			keep[slot] = p;
		}
	}
	usleep(50000);
	int ok = 0, bad_rc = 0;
	for (int i = 0; i < 30; i++) {
		struct vms_snapshot *s = NULL;
		struct vms_snapshot_opts opts = {.read_rollup = 0, .thread_stacks = 1};
		int rc = vms_snapshot_take(c, &opts, &s);
		if (rc != VMS_OK) {
			if (bad_rc++ < 3)
				fprintf(stderr, "churn: snapshot %d: %s\n", i, vms_err_code(rc));
			continue;
		}
		int before = t_failed;
		check_tiling(s);
		check_sums(s);
		check_region_columns(s);
		ok += t_failed == before;
		vms_snapshot_free(s);
	}
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	CHECK_MSG(bad_rc == 0, "%d of 30 snapshots of a churning process failed", bad_rc);
	CHECK_MSG(ok == 30 - bad_rc, "%d of 30 torn snapshots well-formed", ok);
}

/* Processes that exit while (or just before) being scanned: only the documented codes, no crash. */
static void check_exit_races(void)
{
	int other = 0, ok = 0, gone = 0;
	for (int i = 0; i < 40; i++) {
		pid_t c = fork();
		if (c == 0) {
			char *p =
			    mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED)
				memset(p, 1, 1 << 20);
			usleep((useconds_t)(i * 50));
			_exit(0);
		}
		struct vms_snapshot *s = NULL;
		int rc = vms_snapshot_take(c, NULL, &s);
		if (rc == VMS_OK) {
			ok++;
			vms_snapshot_free(s);
		} else if (rc == VMS_ERR_EXITED || rc == VMS_ERR_NO_ADDRESS_SPACE ||
		           rc == VMS_ERR_NO_SUCH_PROCESS) {
			gone++;
		} else {
			if (other++ < 3)
				fprintf(stderr, "exit race %d: %s\n", i, vms_err_code(rc));
		}
		waitpid(c, NULL, 0);
	}
	CHECK_MSG(other == 0, "%d scans of exiting processes returned an undocumented error (ok %d, gone %d)",
	          other, ok, gone);
}

/* An unprivileged user scanning its own process gets the full picture (no Yama here: without
 * CAP_SYS_PTRACE, task/TID/syscall needs the same uid and, under Yama ptrace_scope >= 1, a
 * descendant). Run as root: the testee and the scanner both become nobody. */
static void check_unprivileged(void)
{
	struct testee t;
	if (geteuid() != 0) {
		SKIP("unprivileged scan: needs root to become nobody (uid 65534)");
		return;
	}
	if (testee_start(&t, 1) != 0) {
		CHECK_MSG(0, "could not start vms_testee as nobody");
		testee_stop(&t);
		return;
	}
	char *ys = read_text("/proc/sys/kernel/yama/ptrace_scope", NULL);
	int yama = ys ? atoi(ys) : 0;
	free(ys);
	pid_t c = fork();
	if (c == 0) {
		if (become_nobody() != 0)
			_exit(100);
		struct vms_snapshot *s = NULL;
		int rc = vms_snapshot_take(t.pid, NULL, &s);
		if (rc != VMS_OK)
			_exit(10 + rc);
		int code = 0;
		long i = region_at(s, kv_u64(&t, "w0_stack"));
		long m = region_at(s, kv_u64(&t, "memfd"));
		if (s->n_regions < 20 || i < 0 || m < 0)
			code = 50;
		else if (s->allocations[s->regions[i].allocation].type != VMS_TYPE_STACK)
			code = 51;
		else if (!yama && s->allocations[s->regions[i].allocation].tid != (int)kv_u64(&t, "w0_tid"))
			code = 52;
		else if (s->regions[m].type != VMS_TYPE_SHAREABLE || !s->has_rollup)
			code = 53;
		vms_snapshot_free(s);
		_exit(code);
	}
	int status = 0;
	waitpid(c, &status, 0);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	CHECK_MSG(code == 0, "nobody scanning its own vms_testee: exit %d (%s)", code,
	          code >= 10 && code < 10 + VMS_ERR_COUNT ? vms_err_code(code - 10)
	          : code == 51                            ? "worker stack is not a stack"
	          : code == 52                            ? "worker stack has no tid"
	          : code == 53                            ? "memfd not shareable or no rollup"
	          : code == 100                           ? "could not drop every privilege"
	                                                  : "see test_live.c");
	testee_stop(&t);
}

int main(void)
{
	struct testee t;
	struct vms_snapshot *s = NULL;
	struct vms_snapshot_opts opts = {.read_rollup = 1, .thread_stacks = 1};

	if (testee_start(&t, 0) != 0) {
		CHECK_MSG(0, "could not start vms_testee");
		testee_stop(&t);
		TEST_MAIN_END();
	}

	int rc = vms_snapshot_take(t.pid, &opts, &s);
	CHECK_MSG(rc == VMS_OK, "vms_snapshot_take(testee): %s", vms_err_code(rc));
	if (rc == VMS_OK && s) {
		check_snapshot_consistency(s);
		check_testee(s, &t);
	}
	vms_snapshot_free(s);
	s = NULL;

	/* Defaults (opts NULL) read the rollup and thread stacks too. */
	rc = vms_snapshot_take(t.pid, NULL, &s);
	CHECK_MSG(rc == VMS_OK, "vms_snapshot_take(testee, NULL opts): %s", vms_err_code(rc));
	if (rc == VMS_OK && s) {
		CHECK(s->has_rollup);
		long i = region_at(s, kv_u64(&t, "w0_stack"));
		CHECK(i >= 0 && s->allocations[s->regions[i].allocation].tid == (int)kv_u64(&t, "w0_tid"));
	}
	vms_snapshot_free(s);
	s = NULL;

	/* Without rollup and thread attribution: stacks are still stacks, but carry no tid. */
	struct vms_snapshot_opts bare = {.read_rollup = 0, .thread_stacks = 0};
	rc = vms_snapshot_take(t.pid, &bare, &s);
	CHECK_MSG(rc == VMS_OK, "vms_snapshot_take(testee, bare opts): %s", vms_err_code(rc));
	if (rc == VMS_OK && s) {
		CHECK(s->has_rollup == 0);
		check_tiling(s);
		check_sums(s);
		for (int w = 0; w < N_WORKERS; w++) {
			char key[32];
			snprintf(key, sizeof key, "w%d_stack", w);
			long i = region_at(s, kv_u64(&t, key));
			if (i < 0)
				continue;
			const struct vms_allocation *a = &s->allocations[s->regions[i].allocation];
			CHECK_MSG(a->type == VMS_TYPE_STACK && a->tid == 0,
			          "bare: worker %d stack type %s tid %d", w, tname(a->type), a->tid);
		}
	}
	vms_snapshot_free(s);
	s = NULL;

	check_errors(&t);
	testee_stop(&t);
	check_unprivileged();
	check_churn();
	check_exit_races();
	TEST_MAIN_END();
}
