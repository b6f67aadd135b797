/* The image-sections pass of a scan (server/core/imageinfo_internal.h), on this test's own
 * images: an image done as it is classified gets its notes ("build-id ...") and its sections;
 * when the attribution stage leaves it alone it keeps both as they are (no second read); when
 * the attribution stage copied or split it (same_as -1), it is done again from its plain
 * details, so its notes are never added twice. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../server/core/imageinfo_internal.h"
#include "../../server/core/scanfiles.h"
#include "test.h"
#include "vmscope/snapshot.h"

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static size_t parts_of(const struct vms_snapshot *s, size_t ai)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_parts; i++)
		n += s->parts[i].allocation == ai;
	return n;
}

int main(void)
{
	struct vms_snapshot_opts opts = {.read_rollup = 0, .thread_stacks = 0};
	struct vms_snapshot *s = NULL;
	CHECK(vms_snapshot_take(getpid(), &opts, &s) == VMS_OK && s);
	if (!s)
		TEST_MAIN_END();
	/* an image whose details carry a build-id (libc, or this test itself) */
	size_t ai = s->n_allocations;
	for (size_t i = 0; i < s->n_allocations && ai == s->n_allocations; i++)
		if (s->allocations[i].type == VMS_TYPE_IMAGE &&
		    count(s->allocations[i].details, "build-id") == 1 && parts_of(s, i) > 0)
			ai = i;
	CHECK(ai < s->n_allocations);
	if (ai == s->n_allocations) {
		vms_snapshot_free(s);
		TEST_MAIN_END();
	}
	struct vms_allocation *a = &s->allocations[ai];
	char final[2048];
	snprintf(final, sizeof final, "%s", a->details);
	/* as the classifier left it: the path of its first file region, no notes, no parts */
	const char *path = NULL;
	for (uint32_t k = 0; k < a->n_regions && !path; k++)
		path = s->regions[a->first_region + k].path;
	CHECK(path != NULL);
	a->details = vms_snapshot_strdup(s, path);
	s->parts = NULL;
	s->n_parts = 0;

	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = 0;
	int rootfd = open("/proc/self/root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct vms_scan_files *files = rootfd >= 0 ? vms_scan_files_new(rootfd, NULL) : NULL;
	struct vms_image_pass *ip = files ? vms_image_pass_new(files, exe) : NULL;
	CHECK(ip != NULL);
	if (!ip)
		goto out;

	/* as classified: the notes and the sections, as the whole scan found them */
	CHECK(vms_image_pass_allocation(ip, s, ai) == 0);
	const char *noted = a->details;
	CHECK_STR(noted, final);
	size_t found;
	CHECK(vms_image_pass_parts(ip, &found) != NULL && found > 0);

	unsigned char *touched = calloc(s->n_allocations, 1);
	long *same_as = malloc(s->n_allocations * sizeof *same_as);
	CHECK(touched && same_as);
	if (!touched || !same_as) {
		free(touched);
		free(same_as);
		goto out;
	}

	/* left alone: the same text, the same parts, nothing done again */
	CHECK(vms_image_pass_finish(ip, s, NULL, touched) == VMS_OK);
	CHECK(a->details == noted && !touched[ai]);
	CHECK_EQ_U64(parts_of(s, ai), found);

	/* copied by the attribution stage (a split, a role on one of its regions): done again,
	 * its notes once */
	s->parts = NULL;
	s->n_parts = 0;
	for (size_t i = 0; i < s->n_allocations; i++)
		same_as[i] = (long)i;
	same_as[ai] = -1;
	memset(touched, 0, s->n_allocations);
	CHECK(vms_image_pass_finish(ip, s, same_as, touched) == VMS_OK);
	CHECK_MSG(count(a->details, "build-id") == 1, "details: %s", a->details);
	CHECK_STR(a->details, final);
	CHECK(touched[ai] == 1);
	CHECK_EQ_U64(parts_of(s, ai), found);
	free(touched);
	free(same_as);
out:
	vms_image_pass_free(ip);
	vms_scan_files_free(files);
	if (rootfd >= 0)
		close(rootfd);
	vms_snapshot_free(s);
	TEST_MAIN_END();
}
