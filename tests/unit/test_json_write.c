/* The streaming writer must print exactly what cJSON prints for the same snapshot, and a streamed
 * scan the same document as a scan written whole. */
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/diff.h"
#include "vmscope/json.h"
#include "vmscope/json_capture.h"
#include "vmscope/parse.h"

/* A pass when texts a and b are equal; else a failure that shows both around the first byte
 * where they part ("WHAT: VERB byte N:"). */
static void check_same(const char *what, const char *verb, const char *name_a, const char *a,
                       const char *name_b, const char *b)
{
	if (strcmp(a, b) == 0) {
		t_passed++;
		return;
	}
	size_t i = 0;
	while (a[i] && a[i] == b[i])
		i++;
	size_t from = i > 20 ? i - 20 : 0;
	fprintf(stderr, "%s: %s byte %zu:\n %-7s %.80s\n %-7s %.80s\n", what, verb, i, name_a, a + from,
	        name_b, b + from);
	t_failed++;
}

static void compare(const struct vms_snapshot *s, const struct vms_json_opts *opts, const char *what)
{
	cJSON *tree = vms_json_snapshot(s, opts);
	char *want = tree ? cJSON_PrintUnformatted(tree) : NULL;
	char *got = NULL;
	size_t len = 0;
	CHECK(vms_json_write_snapshot(s, opts, &got, &len) == VMS_OK);
	CHECK(want && got);
	if (want && got) {
		CHECK_EQ_U64(len, strlen(got));
		check_same(what, "differs at", "cJSON:", want, "ours:", got);
		/* and it parses back into the same snapshot */
		struct vms_snapshot *back = NULL;
		char err[256] = "";
		CHECK(vms_json_parse_snapshot(got, len, &back, err, sizeof err) == VMS_OK);
		if (back) {
			CHECK_EQ_U64(back->n_regions, s->n_regions);
			CHECK_EQ_U64(back->n_allocations, s->n_allocations);
			for (int c = 0; c < VMS_COL_COUNT; c++)
				CHECK_EQ_U64(back->total[c], s->total[c]);
			/* every field survives the import: written again, the same text */
			char *again = NULL;
			size_t alen = 0;
			CHECK(vms_json_write_snapshot(back, opts, &again, &alen) == VMS_OK);
			if (again)
				check_same(what, "import changes", "before:", got, "after:", again);
			free(again);
		} else {
			fprintf(stderr, "%s: parse back failed: %s\n", what, err);
		}
		vms_snapshot_free(back);
	}
	cJSON_free(want);
	cJSON_Delete(tree);
	free(got);
}

static void compare_diff(const struct vms_snapshot *a, const struct vms_snapshot *b, const char *what)
{
	struct vms_diff d;
	CHECK(vms_diff_compute(a, b, &d) == VMS_OK);
	cJSON *tree = vms_json_diff(&d);
	char *want = tree ? cJSON_PrintUnformatted(tree) : NULL;
	char *got = NULL;
	size_t len = 0;
	CHECK(vms_json_write_diff(&d, NULL, &got, &len) == VMS_OK);
	CHECK(want && got && len == strlen(got));
	if (want && got)
		check_same(what, "differs at", "cJSON:", want, "ours:", got);
	free(got);
	/* extra members land inside the object and keep it valid JSON */
	CHECK(vms_json_write_diff(&d, "\"from_id\":1,\"to_id\":2", &got, &len) == VMS_OK);
	cJSON *back = got ? cJSON_Parse(got) : NULL;
	CHECK(back && cJSON_GetNumberValue(cJSON_GetObjectItem(back, "to_id")) == 2.0);
	CHECK(back && cJSON_GetArraySize(cJSON_GetObjectItem(back, "regions")) == (int)d.n_regions);
	cJSON_Delete(back);
	free(got);
	cJSON_free(want);
	cJSON_Delete(tree);
	vms_diff_free(&d);
}

/* The streaming path (allocations written while smaps is still being read) must produce the
 * document a scan that does not stream writes for the same process: two scans of vms_testee held
 * still with SIGSTOP, one streamed, one written whole afterwards. What the kernel may change
 * between the two scans of a stopped process is masked: taken_at, Pss-derived numbers (other
 * processes mapping the same shared pages change them) and Referenced (page aging). */
struct collected {
	char *buf;
	size_t len;
	int restarts;
};

/* Replace the value of every member whose key depends on other processes (see below) or is
 * "referenced" by a single 0, and blank "taken_at", in place (the text only shrinks; the
 * document keeps its shape). */
static void mask_unstable(char *doc)
{
	char *w = doc; /* write position, never ahead of the read position p */
	for (char *p = doc; *p;) {
		if (*p != '"') {
			*w++ = *p++;
			continue;
		}
		char *q = strchr(p + 1, '"');
		if (!q) {
			while (*p)
				*w++ = *p++;
			break;
		}
		size_t klen = (size_t)(q - p - 1);
		int is_key = q[1] == ':';
		char key[64] = "";
		if (klen < sizeof key)
			memcpy(key, p + 1, klen), key[klen] = '\0';
		while (p <= q) /* the string itself, closing quote included */
			*w++ = *p++;
		if (!is_key)
			continue;
		*w++ = *p++; /* ':' */
		/* what other processes' mappings move while ours is stopped: how many map a page
		 * (Pss, shared vs private, Uss and the working-set split built on them) */
		if (strstr(key, "pss") || strstr(key, "shared") || strstr(key, "private_") ||
		    strstr(key, "uss") || !strcmp(key, "shareable_ws") || !strcmp(key, "referenced") ||
		    !strcmp(key, "taken_at_ms")) {
			if (*p >= '0' && *p <= '9') {
				while (*p >= '0' && *p <= '9')
					p++;
				*w++ = '0';
			}
		} else if (!strcmp(key, "taken_at") && *p == '"') {
			*w++ = *p++;
			while (*p && *p != '"')
				p++;
			if (*p)
				*w++ = *p++; /* its closing quote: not the start of another string */
		}
	}
	*w = '\0';
}

/* Wait (5 s at most) until every thread of pid is stopped (state T). Returns 1 when so. */
static int wait_stopped(pid_t pid)
{
	for (int tries = 0; tries < 500; tries++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
		DIR *d = opendir(path);
		int all = d != NULL;
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char sp[300], st[512] = "";
			snprintf(sp, sizeof sp, "/proc/%d/task/%s/stat", (int)pid, e->d_name);
			FILE *f = fopen(sp, "r");
			size_t n = f ? fread(st, 1, sizeof st - 1, f) : 0;
			if (f)
				fclose(f);
			st[n] = '\0';
			char *rp = strrchr(st, ')');
			all &= rp && rp[1] == ' ' && rp[2] == 'T';
		}
		if (d)
			closedir(d);
		if (all)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* Start VMSCOPE_HELPERS/vms_testee in dir and wait for its READY line; -1 when it did not start. */
static pid_t start_testee(const char *dir)
{
	const char *helpers = getenv("VMSCOPE_HELPERS");
	char exe[1024], line[8192];
	int fds[2];
	if (!helpers || pipe(fds) != 0)
		return -1;
	snprintf(exe, sizeof exe, "%s/vms_testee", helpers);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(exe, "vms_testee", dir, "600", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
	while (pid > 0 && n < sizeof line - 1 && !memchr(line, '\n', n) && poll(&pfd, 1, 20000) > 0) {
		ssize_t r = read(fds[0], line + n, sizeof line - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fds[0]);
	line[n] = '\0';
	if (pid > 0 && strncmp(line, "READY ", 6) != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static void check_streamed_scan(void)
{
	char dir[] = "/tmp/vms-stream-XXXXXX";
	if (!getenv("VMSCOPE_HELPERS")) {
		SKIP("streamed scan: VMSCOPE_HELPERS is not set (run through ctest)");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	pid_t pid = start_testee(dir);
	CHECK(pid > 0);
	if (pid <= 0) {
		rmdir(dir);
		return;
	}
	CHECK(kill(pid, SIGSTOP) == 0 && wait_stopped(pid));

	/* The CLI's capture: streamed during the scan, restarted by the attribution stage (glibc
	 * names [heap] in every glibc process) with the untouched allocations copied. */
	struct vms_json_capture *jc = vms_json_capture_new();
	struct vms_snapshot_opts opts = {.read_rollup = 1, .thread_stacks = 1};
	if (jc)
		vms_json_capture_hook(jc, &opts);
	struct vms_snapshot_opts plain = {.read_rollup = 1, .thread_stacks = 1};
	struct vms_snapshot *streamed = NULL, *whole = NULL;
	struct collected c = {0};
	CHECK(jc && vms_snapshot_take(pid, &opts, &streamed) == VMS_OK);
	CHECK(vms_snapshot_take(pid, &plain, &whole) == VMS_OK);
	if (streamed && whole) {
		unsigned restarts = 0;
		size_t copied = 0;
		vms_json_capture_stats(jc, &restarts, &copied);
		c.restarts = (int)restarts;
		/* At most one restart, and one whenever a recogniser named something (glibc names
		 * [heap]; a testee built with ASan has no brk heap and may have nothing named), and
		 * then the untouched allocations were reused, not written again. */
		size_t owned = 0;
		for (size_t k = 0; k < streamed->n_allocations; k++)
			owned += streamed->allocations[k].owner != NULL;
		CHECK(restarts <= 1 && (!owned || restarts == 1));
		if (restarts)
			CHECK(copied > 0 && copied + owned <= streamed->n_allocations);
		/* the images' sections are found as each image is classified, so the first pass
		 * streamed them: an image no recogniser claimed is copied whole after a restart, not
		 * written again (the whole document is compared below) */
		size_t images = 0, with_parts = 0;
		for (size_t k = 0; k < streamed->n_allocations; k++) {
			if (streamed->allocations[k].type != VMS_TYPE_IMAGE || streamed->allocations[k].owner)
				continue;
			images++;
			for (size_t j = 0; j < streamed->n_parts; j++)
				if (streamed->parts[j].allocation == k) {
					with_parts++;
					break;
				}
		}
		CHECK(images > 0 && with_parts > 0);
		/* the testee's claims (glibc's [heap], the vdso) are each one whole allocation: every
		 * other allocation, the images with their sections among them, is copied. (When the
		 * sections were found only after the attribution stage, its 3 images were written
		 * again: 20 copied + 6 claimed of 29.) */
		CHECK_MSG(!restarts || copied + owned == streamed->n_allocations,
		          "%zu copied + %zu claimed of %zu allocations (%zu unclaimed images)", copied, owned,
		          streamed->n_allocations, images);
		FILE *mem = open_memstream(&c.buf, &c.len);
		CHECK(mem && vms_json_capture_write(jc, streamed, mem) == VMS_OK);
		if (mem)
			fclose(mem);
		if (c.len && c.buf[c.len - 1] == '\n')
			c.buf[--c.len] = '\0';
		char *doc = NULL;
		size_t len = 0;
		CHECK(vms_json_write_snapshot(whole, NULL, &doc, &len) == VMS_OK);
		CHECK(whole->n_allocations > 20);
		if (doc && c.buf) {
			mask_unstable(doc);
			mask_unstable(c.buf);
			len = strlen(doc);
			c.len = strlen(c.buf);
			size_t i = 0;
			while (doc[i] && doc[i] == c.buf[i])
				i++;
			CHECK(len == c.len && i == len);
			if (len != c.len || i != len)
				fprintf(
				    stderr,
				    "streamed scan (%d restart(s)) differs from a whole scan at byte %zu:\n"
				    " whole:    %.120s\n streamed: %.120s\n",
				    c.restarts, i, doc + (i > 40 ? i - 40 : 0),
				    c.buf + (i > 40 ? i - 40 : 0));
		}
		free(doc);
	}
	vms_json_capture_free(jc);
	vms_snapshot_free(streamed);
	vms_snapshot_free(whole);
	free(c.buf);
	kill(pid, SIGTERM); /* it removes its POSIX shm object and files itself */
	kill(pid, SIGCONT);
	waitpid(pid, NULL, 0);
	/* in case it could not */
	char p[256];
	static const char *const files[] = {"data.bin", "name with space\nand newline.bin", "deleted.bin"};
	for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[k]);
		unlink(p);
	}
	CHECK(rmdir(dir) == 0);
}

int main(void)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/odd64.smaps",
	         getenv("VMSCOPE_FIXTURES") ? getenv("VMSCOPE_FIXTURES") : "tests/fixtures");
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 2;
	}
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof text, f);
	fclose(f);

	struct vms_snapshot *s = vms_snapshot_new();
	CHECK(vms_smaps_parse(s, text, n) == VMS_OK);
	s->user_top = 0x7ffffffff000ull;
	s->mmap_min_addr = 0x10000;
	s->pid = 4242;
	s->page_size = 4096;
	s->cmdline = "server \"quoted\" \\ tab\there \x01 caf\xc3\xa9 bad\xff";
	struct vms_classify_ctx ctx = {.shmem_minor = 1, .heap_max = 64u << 20, .main_tid = 1};
	CHECK(vms_classify(s, &ctx) == VMS_OK);
	compare(s, NULL, "fixture");
	struct vms_json_opts omit = {.omit_cmdline = 1};
	compare(s, &omit, "fixture without cmdline");

	struct vms_snapshot *live = NULL, *live2 = NULL;
	CHECK(vms_snapshot_take(getpid(), NULL, &live) == VMS_OK);
	if (live)
		compare(live, NULL, "live self");
	/* a change between two scans of this process: a new mapping, touched */
	char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED)
		memset(m, 1, 1 << 20);
	CHECK(vms_snapshot_take(getpid(), NULL, &live2) == VMS_OK);
	if (live && live2) {
		compare_diff(live, live2, "diff live -> live");
		compare_diff(s, live, "diff fixture -> live (nothing in common)");
	}
	if (m != MAP_FAILED)
		munmap(m, 1 << 20);
	vms_snapshot_free(live);
	vms_snapshot_free(live2);
	vms_snapshot_free(s);
	check_streamed_scan();

	/* the attribution stage's fields: owner, signal, guess, parts, stack_note, attribution */
	struct vms_snapshot *demo = hs_demo();
	hs_attribute(demo);
	compare(demo, NULL, "attributed");
	char *t = NULL;
	size_t tl = 0;
	CHECK(vms_json_write_snapshot(demo, NULL, &t, &tl) == VMS_OK);
	CHECK(t &&
	      strstr(t, "\"tid\":0,\"owner\":\"glibc\",\"signal\":\"heap_info read\",\"guess\":false,"
	                "\"parts\":[{\"start\":\"0x55555555c000\",\"end\":\"0x55555556c000\",\"size\":65536,"
	                "\"details\":\"arena #1\"},{\"start\":\"0x55555556c000\"") != NULL);
	CHECK(
	    t &&
	    strstr(t,
	           "\"stack_allocation\":-1,\"stack_note\":\"runs on a goroutine stack in the Go heap\"}") !=
	        NULL);
	CHECK(t &&
	      strstr(t, "\"malformed_lines\":2,\"attribution\":{\"peek\":\"denied\",\"peek_note\":"
	                "\"ptrace: permission denied\",\"recognisers\":[{\"key\":\"names\",\"claimed\":1,"
	                "\"read_memory\":false,\"note\":null},{\"key\":\"glibc\"") != NULL);
	CHECK(t && strstr(t, "\"guess\":true,\"parts\":[{\"start\":\"0x7f0000101000\"") != NULL);
	free(t);
	vms_snapshot_free(demo);
	TEST_MAIN_END();
}
