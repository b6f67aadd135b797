/* Minimal test harness: CHECK records a failure and goes on; SKIP says why a part of the test
 * could not run here; TEST_MAIN_END prints "N passed, N failed, N skipped" and returns 1 on any
 * failure, else 77 (ctest's SKIP_RETURN_CODE, set for every test) when any part was skipped, so
 * that ctest shows the test as skipped rather than passed, else 0. Header-only, one per test
 * program. */
#ifndef VMSCOPE_TEST_H
#define VMSCOPE_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_passed, t_failed, t_skipped;

/* A part of the test that cannot run here (no root, no kernel thread visible ...). */
#define SKIP(...)                                                                                            \
	do {                                                                                                 \
		t_skipped++;                                                                                 \
		fprintf(stderr, "SKIP ");                                                                    \
		fprintf(stderr, __VA_ARGS__);                                                                \
		fputc('\n', stderr);                                                                         \
	} while (0)

/* Count one check; on failure print "FILE:LINE: CHECK failed: COND" and end, then return 0. */
static inline int t_check(int ok, const char *file, int line, const char *cond, const char *end)
{
	if (ok) {
		t_passed++;
		return 1;
	}
	t_failed++;
	fprintf(stderr, "%s:%d: CHECK failed: %s%s", file, line, cond, end);
	return 0;
}

#define CHECK(cond) ((void)t_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond, "\n"))

/* CHECK that also says why: the printf-style rest of the arguments after "COND: ". */
#define CHECK_MSG(cond, ...)                                                                                 \
	do {                                                                                                 \
		if (!t_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond, ": ")) {                             \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fputc('\n', stderr);                                                                 \
		}                                                                                            \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                                                   \
	do {                                                                                                 \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                             \
		if (a_ == b_) {                                                                              \
			t_passed++;                                                                          \
		} else {                                                                                     \
			t_failed++;                                                                          \
			fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n", __FILE__,    \
			        __LINE__, #a, #b, a_, b_);                                                   \
		}                                                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                                                      \
	do {                                                                                                 \
		const char *a_ = (a), *b_ = (b);                                                             \
		if (a_ && b_ && strcmp(a_, b_) == 0) {                                                       \
			t_passed++;                                                                          \
		} else {                                                                                     \
			t_failed++;                                                                          \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__,    \
			        #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                             \
		}                                                                                            \
	} while (0)

/* mkdtemp(dir), dir a template ending in XXXXXX; exits 1 saying why when it cannot. */
static inline void test_mkdtemp(char *dir)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
}

/* Remove dir and everything in it; says so when it cannot. */
static inline void test_rmtree(const char *dir)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#define TEST_MAIN_END()                                                                                      \
	do {                                                                                                 \
		printf("%d passed, %d failed, %d skipped\n", t_passed, t_failed, t_skipped);                 \
		return t_failed ? 1 : t_skipped ? 77 : 0;                                                    \
	} while (0)

#endif
