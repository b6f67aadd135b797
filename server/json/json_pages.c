/* JSON of the page views: residency runs, strings, trim figures (vmscope/json_pages.h). */
#include <inttypes.h>
#include <stdio.h>

#include "vmscope/json.h"
#include "vmscope/json_pages.h"

static void add_addr(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "0x%" PRIx64, v);
	cJSON_AddStringToObject(o, key, buf);
}

/* A new object with the process and the range a page view covers: {"pid", "start", "end"}.
 * NULL when out of memory. */
static cJSON *range_object(pid_t pid, uint64_t start, uint64_t end)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "pid", pid);
	add_addr(o, "start", start);
	add_addr(o, "end", end);
	return o;
}

/* The last step of each document: parent[key] = an array of n objects, the i-th filled in by
 * put(x, from, i). Returns parent, or NULL when out of memory (parent is then deleted). */
static cJSON *finish_with_array(cJSON *parent, const char *key, size_t n,
                                void (*put)(cJSON *x, const void *from, size_t i), const void *from)
{
	cJSON *a = cJSON_AddArrayToObject(parent, key);
	for (size_t i = 0; a && i < n; i++) {
		cJSON *x = cJSON_CreateObject();
		if (!x) {
			a = NULL;
			break;
		}
		cJSON_AddItemToArray(a, x);
		put(x, from, i);
	}
	if (!a) {
		cJSON_Delete(parent);
		return NULL;
	}
	return parent;
}

static cJSON *flag_list(uint32_t flags)
{
	cJSON *a = cJSON_CreateArray();
	for (unsigned i = 0; a && vms_page_flag_name(i); i++)
		if (flags & (1u << i))
			cJSON_AddItemToArray(a, cJSON_CreateString(vms_page_flag_name(i)));
	return a;
}

static void put_run(cJSON *x, const void *from, size_t i)
{
	const struct vms_residency *r = from;
	const struct vms_page_run *p = &r->runs[i];
	add_addr(x, "start", p->start);
	add_addr(x, "end", p->end);
	cJSON_AddNumberToObject(x, "pages", (double)((p->end - p->start) / r->page_size));
	cJSON_AddItemToObject(x, "flags", flag_list(p->flags));
	if (p->swap_offset) {
		cJSON_AddNumberToObject(x, "swap_type", p->swap_type);
		cJSON_AddNumberToObject(x, "swap_offset", (double)p->swap_offset);
	}
}

cJSON *vms_json_residency(pid_t pid, const struct vms_residency *r)
{
	cJSON *o = range_object(pid, r->start, r->end), *pages;
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "page_size", (double)r->page_size);
	cJSON_AddStringToObject(o, "method", r->method == VMS_RES_PAGEMAP_SCAN ? "pagemap_scan" : "pagemap");
	/* the fallback reads 8 bytes per page of every VMA: say so */
	cJSON_AddBoolToObject(o, "slower", r->method != VMS_RES_PAGEMAP_SCAN);
	cJSON_AddItemToObject(o, "known", flag_list(r->known));
	cJSON_AddBoolToObject(o, "truncated", r->truncated);
	add_addr(o, "walk_end", r->walk_end);
	/* present pages whose exclusive bit came from smaps (no shared page in their region) */
	if (r->exclusive_from_smaps)
		cJSON_AddNumberToObject(o, "exclusive_from_smaps", (double)r->exclusive_from_smaps);
	/* a state this method or kernel cannot tell is null, never a 0 that reads as "none" */
	if ((pages = cJSON_AddObjectToObject(o, "pages")))
		for (unsigned i = 0; vms_page_flag_name(i); i++) {
			if (r->known & (1u << i))
				cJSON_AddNumberToObject(pages, vms_page_flag_name(i), (double)r->pages[i]);
			else
				cJSON_AddNullToObject(pages, vms_page_flag_name(i));
		}
	return finish_with_array(o, "runs", r->n_runs, put_run, r);
}

static void put_string(cJSON *x, const void *from, size_t i)
{
	const struct vms_string *v = (const struct vms_string *)from + i;
	add_addr(x, "addr", v->addr);
	cJSON_AddStringToObject(x, "encoding", v->enc == VMS_STR_ASCII ? "ascii" : "utf16le");
	cJSON_AddNumberToObject(x, "chars", v->chars);
	cJSON_AddItemToObject(x, "text", vms_json_string_repaired(v->text));
}

cJSON *vms_json_strings(pid_t pid, uint64_t start, uint64_t end, const struct vms_strings_opts *o,
                        const struct vms_strings *s)
{
	cJSON *j = range_object(pid, start, end);
	if (!j)
		return NULL;
	cJSON_AddNumberToObject(j, "min_chars", o->min_chars ? o->min_chars : 8);
	cJSON_AddNumberToObject(j, "offset", (double)o->offset);
	cJSON_AddNumberToObject(j, "limit", (double)o->limit);
	cJSON_AddNumberToObject(j, "total", (double)s->total);
	cJSON_AddNumberToObject(j, "bytes_read", (double)s->bytes_read);
	cJSON_AddNumberToObject(j, "bytes_skipped", (double)s->bytes_skipped);
	cJSON_AddBoolToObject(j, "truncated", s->truncated);
	add_addr(j, "read_end", s->read_end);
	return finish_with_array(j, "strings", s->n, put_string, s->v);
}

cJSON *vms_json_mem_figure(const struct vms_mem_figure *f)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "rss", (double)f->rss);
	cJSON_AddNumberToObject(o, "anonymous", (double)f->anonymous);
	cJSON_AddNumberToObject(o, "file", (double)f->file);
	cJSON_AddNumberToObject(o, "swap", (double)f->swap);
	cJSON_AddNumberToObject(o, "pss", (double)f->pss);
	return o;
}

cJSON *vms_json_trim(pid_t pid, uint64_t start, uint64_t end, const struct vms_trim *t)
{
	cJSON *o = range_object(pid, start, end);
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "advised_bytes", (double)t->advised);
	cJSON_AddNumberToObject(o, "vmas", (double)t->vmas);
	cJSON_AddNumberToObject(o, "skipped_vmas", (double)t->skipped);
	cJSON_AddItemToObject(o, "before", vms_json_mem_figure(&t->before));
	cJSON_AddItemToObject(o, "after", vms_json_mem_figure(&t->after));
	cJSON_AddNumberToObject(o, "rss_freed",
	                        (double)(t->before.rss > t->after.rss ? t->before.rss - t->after.rss : 0));
	return o;
}

static void put_ws_vma(cJSON *x, const void *from, size_t i)
{
	const struct vms_ws_vma *v = (const struct vms_ws_vma *)from + i;
	add_addr(x, "start", v->start);
	add_addr(x, "end", v->end);
	cJSON_AddNumberToObject(x, "rss", (double)v->rss);
	cJSON_AddNumberToObject(x, "referenced", (double)v->referenced);
}

cJSON *vms_json_working_set(pid_t pid, const struct vms_working_set *w)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "pid", pid);
	cJSON_AddNumberToObject(o, "seconds", w->seconds);
	cJSON_AddNumberToObject(o, "rss", (double)w->rss);
	cJSON_AddNumberToObject(o, "referenced", (double)w->referenced);
	return finish_with_array(o, "vmas", w->n, put_ws_vma, w->v);
}
