/* The packed store body (server/store/pack.c, pack_v1.c): version 2 round-trips every field of
 * the record tables; version 1 (frozen) still decodes; unknown tags and sections are skipped;
 * missing fields take their defaults; types are stored by key; damage never crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../server/store/store_internal.h"
#include "handmade_snapshot.h"
#include "test.h"
#include "vmscope/error.h"
#include "vmscope/json.h"
#include "vmscope/record.h"

static char *json_of(const struct vms_snapshot *s)
{
	char *out = NULL;
	size_t len = 0;
	if (vms_json_write_snapshot(s, NULL, &out, &len) != VMS_OK)
		return NULL;
	return out;
}

static void same_json(const struct vms_snapshot *a, const struct vms_snapshot *b, const char *what)
{
	char *x = json_of(a), *y = json_of(b);
	CHECK(x && y);
	if (x && y && strcmp(x, y) != 0) {
		size_t i = 0;
		while (x[i] && x[i] == y[i])
			i++;
		fprintf(stderr, "%s: differs at byte %zu:\n want: %.100s\n got:  %.100s\n", what, i,
		        x + (i > 30 ? i - 30 : 0), y + (i > 30 ? i - 30 : 0));
		t_failed++;
	} else if (x && y) {
		t_passed++;
	}
	free(x);
	free(y);
}

static void test_v2_roundtrip(struct vms_snapshot *s, const char *what)
{
	unsigned char *p = NULL;
	size_t n = 0;
	struct vms_snapshot *back = NULL;
	CHECK(vms_store_pack(s, &p, &n) == VMS_OK);
	CHECK(n > 5 && memcmp(p, "VMSP\002", 5) == 0);
	CHECK(vms_store_unpack(p, n, &back) == VMS_OK);
	if (back)
		same_json(s, back, what);
	/* every truncation is refused, never read past (ASan watches) */
	for (size_t k = 0; k < n; k += (n > 4000 ? 97 : 1)) {
		struct vms_snapshot *t = NULL;
		unsigned char *cut = malloc(k ? k : 1);
		memcpy(cut, p, k);
		int err = vms_store_unpack(cut, k, &t);
		if (err == VMS_OK) {
			fprintf(stderr, "%s: a body cut at %zu of %zu bytes loaded\n", what, k, n);
			t_failed++;
		}
		vms_snapshot_free(t);
		free(cut);
	}
	/* and a byte flipped anywhere gives an error or a snapshot, never a crash */
	for (size_t k = 5; k < n; k += (n > 4000 ? 101 : 1)) {
		struct vms_snapshot *t = NULL;
		p[k] ^= 0x5a;
		(void)vms_store_unpack(p, n, &t);
		vms_snapshot_free(t);
		p[k] ^= 0x5a;
	}
	vms_snapshot_free(back);
	free(p);
}

/* Version 1 bodies (the released layout) still decode into the same snapshot, new fields at
 * their defaults. */
static void test_v1(void)
{
	struct vms_snapshot *s = hs_demo(), *back = NULL;
	unsigned char *p = NULL;
	size_t n = 0;
	CHECK(vms_store_pack_v1(s, &p, &n) == VMS_OK);
	CHECK(n > 5 && memcmp(p, "VMSP\001", 5) == 0);
	CHECK(vms_store_unpack(p, n, &back) == VMS_OK);
	if (back) {
		same_json(s, back, "v1");
		CHECK(back->peek == 0 && back->n_parts == 0 && back->n_recognisers == 0);
		CHECK(back->allocations[0].owner == NULL && back->allocations[0].guess == 0);
	}
	vms_snapshot_free(back);
	free(p);
	vms_snapshot_free(s);
}

/* Insert bytes at offset off of a body (fixing nothing: the caller inserts whole sections or
 * fixes the enclosing section length itself). */
static unsigned char *splice(const unsigned char *p, size_t n, size_t off, const void *ins, size_t k,
                             size_t *len)
{
	unsigned char *q = malloc(n + k);
	memcpy(q, p, off);
	memcpy(q + off, ins, k);
	memcpy(q + off + k, p + off, n - off);
	*len = n + k;
	return q;
}

/* CHECK that the packed bytes q (n of them, freed here) unpack to what s writes as JSON. */
static void unpacks_same(const struct vms_snapshot *s, unsigned char *q, size_t n, const char *what)
{
	struct vms_snapshot *back = NULL;
	CHECK(vms_store_unpack(q, n, &back) == VMS_OK);
	if (back)
		same_json(s, back, what);
	vms_snapshot_free(back);
	free(q);
}

static void test_unknown_and_defaults(void)
{
	struct vms_snapshot *s = hs_demo(), *back = NULL;
	hs_attribute(s);
	unsigned char *p = NULL;
	size_t n = 0;
	CHECK(vms_store_pack(s, &p, &n) == VMS_OK);

	/* A section a later version added (id 99), before the header: skipped. */
	static const unsigned char sec99[] = {99, 3, 'a', 'b', 'c'};
	size_t n2 = 0;
	unsigned char *q = splice(p, n, 5, sec99, sizeof sec99, &n2);
	unpacks_same(s, q, n2, "unknown section");

	/* Unknown fields inside the header record (tags 60-62: a string, a varint and bytes), right
	 * after its record version: skipped. The header is section 1 at p[5]; its length follows. */
	CHECK(p[5] == 1);
	size_t hlen = 0, lb = 0;
	for (unsigned sh = 0;; sh += 7) {
		hlen |= (size_t)(p[6 + lb] & 0x7f) << sh;
		if (!(p[6 + lb++] & 0x80))
			break;
	}
	static const unsigned char fields[] = {0xf1, 0x01, 5,    'x',  'y', 'z', /* tag 60 string "xyz" */
	                                       0xf4, 0x01, 0x80, 0x01,           /* tag 61 varint 128 */
	                                       0xfa, 0x01, 2,    7,    7};       /* tag 62 2 bytes */
	unsigned char head[64];
	size_t hn = 0;
	head[hn++] = 1;
	for (size_t v = hlen + sizeof fields;; v >>= 7) {
		head[hn++] = (unsigned char)(v >= 0x80 ? (v & 0x7f) | 0x80 : v);
		if (v < 0x80)
			break;
	}
	head[hn++] = p[6 + lb]; /* the record version */
	memcpy(head + hn, fields, sizeof fields);
	hn += sizeof fields;
	size_t rest = 6 + lb + 1;
	n2 = 5 + hn + (n - rest);
	q = malloc(n2);
	memcpy(q, p, 5);
	memcpy(q + 5, head, hn);
	memcpy(q + 5 + hn, p + rest, n - rest);
	unpacks_same(s, q, n2, "unknown fields");

	/* A header with no fields at all: every one takes its documented default. */
	static const unsigned char minimal[] = {'V', 'M', 'S', 'P', 2, 1, 2, 1, 0, 0};
	CHECK(vms_store_unpack(minimal, sizeof minimal, &back) == VMS_OK);
	if (back) {
		CHECK(back->pid == 0 && back->page_size == 4096 && back->peek == 0 && back->n_regions == 0);
		CHECK(back->format_version == VMS_FORMAT_VERSION && back->has_rollup == 0);
		CHECK_STR(back->arch.machine, "unknown");
	}
	vms_snapshot_free(back);
	back = NULL;

	/* A record version this build does not know is refused, not misread. */
	unsigned char *r = malloc(n);
	memcpy(r, p, n);
	r[6 + lb] = 9; /* the header record's version */
	CHECK(vms_store_unpack(r, n, &back) == VMS_ERR_UNSUPPORTED);
	free(r);

	/* Types are stored by key: the body names them. */
	CHECK(memmem(p, n, "private_data", 12) != NULL && memmem(p, n, "mapped_file", 11) != NULL);
	free(p);
	vms_snapshot_free(s);
}

int main(void)
{
	struct vms_snapshot *s = hs_demo();
	test_v2_roundtrip(s, "demo");
	hs_attribute(s);
	test_v2_roundtrip(s, "demo, attributed");
	vms_snapshot_free(s);

	/* this process, live */
	struct vms_snapshot *live = NULL;
	if (vms_snapshot_take(getpid(), NULL, &live) == VMS_OK) {
		test_v2_roundtrip(live, "live");
		unsigned char *p1 = NULL, *p2 = NULL;
		size_t n1 = 0, n2 = 0;
		CHECK(vms_store_pack_v1(live, &p1, &n1) == VMS_OK &&
		      vms_store_pack(live, &p2, &n2) == VMS_OK);
		printf("live: %zu regions, packed v1 %zu bytes, v2 %zu bytes\n", live->n_regions, n1, n2);
		free(p1);
		free(p2);
	} else {
		t_failed++;
	}
	vms_snapshot_free(live);

	test_v1();
	test_unknown_and_defaults();
	TEST_MAIN_END();
}
