/* The timeline document (vmscope/json_timeline.h, docs/timeline-format.md): its lines written
 * and read, and the sample object read back (json_write_samples.c writes samples). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmscope/error.h"
#include "vmscope/json.h"
#include "vmscope/json_timeline.h"
#include "vmscope/util.h"

/* A whole number from 0 to 2^53 (what a double holds exactly). */
static int whole(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

/* The column members of o into cols (unknown keys skipped). */
static int read_cols(const cJSON *o, uint64_t cols[VMS_COL_COUNT], uint64_t *blocks, uint64_t *largest,
                     uint64_t *regions)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, o)
	{
		uint64_t v;
		int c = vms_col_from_key(m->string);
		uint64_t *dst = c >= 0                                     ? &cols[c]
		                : blocks && !strcmp(m->string, "blocks")   ? blocks
		                : largest && !strcmp(m->string, "largest") ? largest
		                : regions && !strcmp(m->string, "regions") ? regions
		                                                           : NULL;
		if (!dst)
			continue;
		if (whole(m, &v) != 0)
			return -1;
		*dst = v;
	}
	return 0;
}

int vms_json_sample_read(const cJSON *o, struct vms_sample *out, char *errbuf, size_t errlen)
{
	static const char *const counters[] = {"threads", "vm_rss", "vm_swap", "min_flt", "maj_flt"};
	uint64_t *dst[] = {&out->threads, &out->vm_rss, &out->vm_swap, &out->min_flt, &out->maj_flt};
	uint64_t t;
	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(o))
		return vms_errorf(errbuf, errlen, VMS_ERR_INVALID, "a sample must be an object");
	if (whole(cJSON_GetObjectItemCaseSensitive(o, "t_ms"), &t) != 0 || !t)
		return vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
		                  "a sample needs \"t_ms\" (Unix milliseconds)");
	out->t_ms = (int64_t)t;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "gap_before")))
		out->flags |= VMS_SAMPLE_GAP_BEFORE;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "restart")))
		out->flags |= VMS_SAMPLE_RESTART;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "snapshot_by_threshold")))
		out->flags |= VMS_SAMPLE_THRESHOLD;
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, counters[i]);
		if (v && whole(v, dst[i]) != 0)
			return vms_errorf(errbuf, errlen, VMS_ERR_INVALID, "\"%s\" must be a whole number",
			                  counters[i]);
	}
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(o, "total");
	const cJSON *types = cJSON_GetObjectItemCaseSensitive(o, "types");
	if (!cJSON_IsObject(total) || !cJSON_IsObject(types))
		return vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
		                  "a sample needs \"total\" and \"types\" objects");
	if (read_cols(total, out->total, NULL, NULL, NULL) != 0)
		return vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
		                  "\"total\" holds a value that is not a whole number");
	const cJSON *e;
	cJSON_ArrayForEach(e, types)
	{
		int k = vms_type_from_key(e->string);
		if (k < 0)
			continue; /* a type this build does not know */
		struct vms_type_summary *ts = &out->summary[k];
		if (!cJSON_IsObject(e) ||
		    read_cols(e, ts->cols, &ts->blocks, &ts->largest, &ts->regions) != 0)
			return vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
			                  "type \"%s\" holds a value that is not a whole number", e->string);
	}
	return VMS_OK;
}

/* o printed compactly with a newline; o is deleted. */
static char *line_of(cJSON *o)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL, *line = NULL;
	cJSON_Delete(o);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	if ((line = malloc(n + 2))) {
		memcpy(line, text, n);
		line[n] = '\n';
		line[n + 1] = '\0';
	}
	cJSON_free(text);
	return line;
}

char *vms_json_timeline_head(const struct vms_timeline_head *h)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "format", VMS_TIMELINE_FORMAT);
	cJSON_AddNumberToObject(o, "format_version", VMS_TIMELINE_FORMAT_VERSION);
	cJSON *p = cJSON_AddObjectToObject(o, "process");
	cJSON_AddNumberToObject(p, "pid", h->pid);
	cJSON_AddNumberToObject(p, "start_time", (double)h->start_time);
	cJSON_AddItemToObject(p, "name", vms_json_string_repaired(h->name));
	cJSON_AddItemToObject(o, "host", vms_json_string_repaired(h->host));
	cJSON_AddNumberToObject(o, "interval_ms", h->interval_ms);
	cJSON_AddNumberToObject(o, "snapshot_every_s", h->snapshot_every_s);
	cJSON_AddNumberToObject(o, "started_at_ms", (double)h->started_at_ms);
	return line_of(o);
}

char *vms_json_timeline_end(int64_t at_ms, const char *note, uint64_t n_samples, uint64_t n_snapshots)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *e = o ? cJSON_AddObjectToObject(o, "end") : NULL;
	if (!e) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddNumberToObject(e, "at_ms", (double)at_ms);
	cJSON_AddItemToObject(e, "note", vms_json_string_repaired(note ? note : ""));
	cJSON_AddNumberToObject(e, "samples", (double)n_samples);
	cJSON_AddNumberToObject(e, "snapshots", (double)n_snapshots);
	return line_of(o);
}

static int read_head(const cJSON *o, struct vms_timeline_head *h, char *errbuf, size_t errlen)
{
	uint64_t v;
	memset(h, 0, sizeof *h);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "format");
	if (!cJSON_IsString(f) || strcmp(f->valuestring, VMS_TIMELINE_FORMAT) != 0)
		return vms_errorf(
		    errbuf, errlen, VMS_ERR_INVALID,
		    "not a vmscope timeline (its first line has no \"format\":\"%s\"); a single "
		    "snapshot is imported with POST /api/v1/snapshots",
		    VMS_TIMELINE_FORMAT);
	if (whole(cJSON_GetObjectItemCaseSensitive(o, "format_version"), &v) != 0 || !v)
		return vms_errorf(errbuf, errlen, VMS_ERR_INVALID, "the timeline has no format_version");
	if (v > VMS_TIMELINE_FORMAT_VERSION) {
		vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
		           "timeline format_version %llu is newer than this vmscope reads (%d)",
		           (unsigned long long)v, VMS_TIMELINE_FORMAT_VERSION);
		return VMS_ERR_UNSUPPORTED;
	}
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "process");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
	if (!cJSON_IsObject(p) || whole(cJSON_GetObjectItemCaseSensitive(p, "pid"), &v) != 0 || v > 4194304 ||
	    !cJSON_IsString(name))
		return vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
		                  "the head needs \"process\" with \"pid\" and \"name\"");
	h->pid = (pid_t)v;
	snprintf(h->name, sizeof h->name, "%s", name->valuestring);
	if (whole(cJSON_GetObjectItemCaseSensitive(p, "start_time"), &h->start_time) != 0)
		h->start_time = 0;
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(o, "host");
	if (cJSON_IsString(host))
		snprintf(h->host, sizeof h->host, "%s", host->valuestring);
	if (whole(cJSON_GetObjectItemCaseSensitive(o, "interval_ms"), &v) != 0 ||
	    v < VMS_WATCH_MIN_INTERVAL_MS || v > VMS_WATCH_MAX_INTERVAL_MS)
		return vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
		                  "the head needs \"interval_ms\" from %u to %u", VMS_WATCH_MIN_INTERVAL_MS,
		                  VMS_WATCH_MAX_INTERVAL_MS);
	h->interval_ms = (uint32_t)v;
	if (whole(cJSON_GetObjectItemCaseSensitive(o, "snapshot_every_s"), &v) == 0 && v <= UINT32_MAX)
		h->snapshot_every_s = (uint32_t)v;
	if (whole(cJSON_GetObjectItemCaseSensitive(o, "started_at_ms"), &v) == 0)
		h->started_at_ms = (int64_t)v;
	return VMS_OK;
}

/* The reader's place in the text. */
struct cursor {
	const char *p, *end;
	size_t line;
};

/* The next non-empty line: *s and *n; 0 when there is none. */
static int next_line(struct cursor *c, const char **s, size_t *n)
{
	while (c->p < c->end) {
		const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
		const char *stop = nl ? nl : c->end;
		*s = c->p;
		*n = (size_t)(stop - c->p);
		c->p = nl ? nl + 1 : c->end;
		c->line++;
		if (*n && (*s)[*n - 1] == '\r')
			(*n)--;
		if (*n)
			return 1;
	}
	return 0;
}

int vms_json_timeline_read(const char *text, size_t len, const struct vms_timeline_sink *sink, char *errbuf,
                           size_t errlen)
{
	struct cursor c = {text, text + len, 0};
	struct vms_timeline_head head;
	const char *s;
	size_t n;
	int err = VMS_OK, ended = 0, have_head = 0;
	cJSON *o = NULL;
	char why[200] = "";
	int64_t last_t = 0;
	while (err == VMS_OK && !ended && next_line(&c, &s, &n)) {
		const char *endp = NULL;
		o = cJSON_ParseWithLengthOpts(s, n, &endp, 0);
		if (!o || !cJSON_IsObject(o)) {
			err = vms_errorf(errbuf, errlen, VMS_ERR_INVALID, "line %zu is not a JSON object",
			                 c.line);
			break;
		}
		const cJSON *smp = cJSON_GetObjectItemCaseSensitive(o, "sample");
		const cJSON *end = cJSON_GetObjectItemCaseSensitive(o, "end");
		if (!have_head) { /* the first line is the head */
			if ((err = read_head(o, &head, errbuf, errlen)) == VMS_OK && sink->head)
				err = sink->head(sink->arg, &head);
			have_head = 1;
		} else if (smp) {
			struct vms_sample sm;
			struct vms_snapshot *snap = NULL;
			if ((err = vms_json_sample_read(smp, &sm, why, sizeof why)) != VMS_OK) {
				vms_errorf(errbuf, errlen, VMS_ERR_INVALID, "line %zu: %s", c.line, why);
				break;
			}
			if (sm.t_ms < last_t) {
				err = vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
				                 "line %zu: samples must be in time order", c.line);
				break;
			}
			last_t = sm.t_ms;
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(smp, "full_snapshot"))) {
				const char *ss;
				size_t sn;
				if (!next_line(&c, &ss, &sn)) {
					err = vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
					                 "the timeline ends inside a full snapshot");
					break;
				}
				int perr = vms_json_parse_snapshot(ss, sn, &snap, why, sizeof why);
				if (perr != VMS_OK) {
					err = perr == VMS_ERR_NOMEM ? perr : VMS_ERR_INVALID;
					vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
					           "line %zu (a full snapshot): %s", c.line, why);
					break;
				}
			}
			err = sink->sample ? sink->sample(sink->arg, &sm, snap)
			                   : (vms_snapshot_free(snap), VMS_OK);
		} else if (end) {
			const cJSON *note = cJSON_GetObjectItemCaseSensitive(end, "note");
			uint64_t at = 0;
			whole(cJSON_GetObjectItemCaseSensitive(end, "at_ms"), &at);
			err = sink->end ? sink->end(sink->arg, (int64_t)at,
			                            cJSON_IsString(note) ? note->valuestring : "")
			                : VMS_OK;
			ended = 1;
		} /* any other line: a kind this version does not know, skipped */
		cJSON_Delete(o);
		o = NULL;
	}
	cJSON_Delete(o);
	if (err == VMS_OK && !have_head)
		err = vms_errorf(errbuf, errlen, VMS_ERR_INVALID, "the timeline is empty");
	else if (err == VMS_OK && !ended)
		err =
		    vms_errorf(errbuf, errlen, VMS_ERR_INVALID,
		               "the timeline ends early (no end line): the file is truncated or still being "
		               "written");
	return err;
}
