/* The shared helpers of include/vmscope/util.h: ISO 8601 time (before 1970 too), hex digits,
 * random hex tokens, whole-file reads (multi-page /proc files, size cap, errors). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "vmscope/error.h"
#include "vmscope/util.h"

static void check_time(int64_t ms, const char *want)
{
	char buf[32];
	vms_format_time_ms(ms, buf, sizeof buf);
	CHECK_STR(buf, want);
}

static int all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

int main(void)
{
	/* time: C's % truncates towards zero, so a naive formatter prints "59.-500Z" */
	check_time(-1500, "1969-12-31T23:59:58.500Z");
	check_time(-1, "1969-12-31T23:59:59.999Z");
	check_time(-1000, "1969-12-31T23:59:59.000Z");
	check_time(0, "1970-01-01T00:00:00.000Z");
	check_time(1500, "1970-01-01T00:00:01.500Z");
	check_time(1796113007325, "2026-12-01T08:16:47.325Z");
	char small[8];
	vms_format_time_ms(0, small, sizeof small);
	CHECK_STR(small, "1970-01"); /* truncated, still terminated */

	/* hex digits */
	const char *digits = "0123456789abcdefABCDEF";
	for (int i = 0; digits[i]; i++)
		CHECK_EQ_U64(vms_hex_digit(digits[i]), i < 16 ? i : i - 6);
	CHECK(vms_hex_digit('g') == -1 && vms_hex_digit('G') == -1 && vms_hex_digit('x') == -1);
	CHECK(vms_hex_digit('/') == -1 && vms_hex_digit(':') == -1 && vms_hex_digit('@') == -1);
	CHECK(vms_hex_digit('`') == -1 && vms_hex_digit(0) == -1 && vms_hex_digit(0xff) == -1);

	/* random hex: the right length and alphabet, and two draws differ */
	char a[129], b[129];
	memset(a, 'X', sizeof a);
	CHECK(vms_random_hex(a, 32) == VMS_OK && all_lower_hex(a, 64));
	CHECK(vms_random_hex(b, 32) == VMS_OK && all_lower_hex(b, 64) && strcmp(a, b) != 0);
	CHECK(vms_random_hex(a, 64) == VMS_OK && all_lower_hex(a, 128));
	CHECK(vms_random_hex(a, 65) == VMS_ERR_INVALID);
	CHECK(vms_random_hex(a, 0) == VMS_OK && a[0] == '\0');

	/* whole files: a /proc file longer than a page (it arrives a page per read) */
	char *text = NULL;
	size_t len = 0;
	CHECK(vms_read_file(AT_FDCWD, "/proc/self/smaps", 0, &text, &len) == 0);
	CHECK(text && len > 8192 && strlen(text) == len && text[len - 1] == '\n');
	free(text);
	CHECK(vms_read_file(AT_FDCWD, "/proc/self/smaps", 4096, &text, &len) == -EFBIG && !text && !len);
	CHECK(vms_read_file(AT_FDCWD, "/nonexistent/vmscope", 0, &text, &len) == -ENOENT && !text);
	/* relative to a directory fd, and an empty file */
	int dir = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(dir >= 0 && vms_read_file(dir, "status", 0, &text, &len) == 0 && text &&
	      strncmp(text, "Name:", 5) == 0);
	free(text);
	if (dir >= 0)
		close(dir);
	char path[] = "/tmp/vms-util-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd >= 0) {
		close(fd);
		CHECK(vms_read_file(AT_FDCWD, path, 0, &text, &len) == 0 && text && len == 0 &&
		      text[0] == '\0');
		free(text);
		unlink(path);
	}
	/* the buffer form keeps its memory between reads */
	struct vms_buf buf = {0};
	CHECK(vms_buf_read_file(AT_FDCWD, "/proc/self/stat", 0, &buf) == 0 && buf.len > 0);
	char *kept = buf.data;
	CHECK(vms_buf_read_file(AT_FDCWD, "/proc/self/stat", 0, &buf) == 0 && buf.data == kept);
	CHECK(vms_buf_read_file(AT_FDCWD, "/nonexistent", 0, &buf) == -ENOENT && buf.len == 0);
	free(buf.data);
	TEST_MAIN_END();
}
