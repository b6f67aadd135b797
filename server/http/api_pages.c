/* Inside the pages of a live process (issue 14; docs/api.md, "Inside the pages"):
 *   GET  /api/v1/processes/{pid}/residency  page states as runs (the right to read the process)
 *   GET  /api/v1/processes/{pid}/strings    strings of a range      } only with --allow-memory-read,
 *   POST /api/v1/processes/{pid}/trim       MADV_PAGEOUT + figures  } ptrace-attach rights, rate
 *                                                                     limited, every call logged
 * None is a public route: a share link never reaches them. Nothing here is stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/json_pages.h"
#include "vmscope/pages.h"

#define RES_DEFAULT_RUNS 100000u
#define RES_MAX_RUNS 1000000u
#define STR_DEFAULT_LIMIT 200u
#define STR_MAX_LIMIT 5000u
#define STR_MAX_BYTES (16ull << 20) /* resident bytes read per request at most */
#define TRIM_MAX_WAIT_S 30u
#define WS_MAX_SECONDS 30u

/* The range of a request: ?start=&end= (hex), or ?addr= (the mapping holding it), or neither
 * (the whole address space, when whole is allowed). 0 or the status sent. */
static int query_range(struct vms_req *r, int pid, int whole, uint64_t *start, uint64_t *end)
{
	char s[24], e[24], a[24];
	int ns = vms_query(r, "start", s, sizeof s), ne = vms_query(r, "end", e, sizeof e),
	    na = vms_query(r, "addr", a, sizeof a);
	*start = *end = 0;
	if (ns < -1 || ne < -1 || na < -1)
		return vms_send_error(r, 400, "bad_address",
		                      "an address is hexadecimal, e.g. 0x7f15d8fd4000");
	if (na >= 0) {
		uint64_t addr;
		int st = vms_param_addr(r, a, &addr);
		if (st)
			return st;
		int err = vms_pages_vma_at(pid, addr, start, end);
		if (err == VMS_ERR_NOT_FOUND)
			return vms_send_error(r, 404, "not_mapped", "no mapping of process %d holds %s", pid,
			                      a);
		return err ? vms_send_vms_err(r, err, pid) : 0;
	}
	if (ns < 0 && ne < 0) {
		if (whole)
			return 0;
		return vms_send_error(r, 400, "bad_query",
		                      "say which range: ?addr= (its mapping) or ?start=&end=");
	}
	if (ns < 0 || ne < 0)
		return vms_send_error(r, 400, "bad_query", "?start= and ?end= go together");
	int st = vms_param_addr(r, s, start);
	if (!st)
		st = vms_param_addr(r, e, end);
	if (!st && *start >= *end)
		st = vms_send_error(r, 400, "bad_range", "?start= must be below ?end=");
	return st;
}

static const char *requester(const struct vms_req *r, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%d", r->ri->remote_addr, r->ri->remote_port);
	return buf;
}

/* The gate of strings and trim: the daemon's flag, the rate limit, ptrace-attach rights. */
static int memory_gate(struct vms_req *r, int pid, const char *what)
{
	if (!r->h->allow_memory_read)
		return vms_send_error(
		    r, 403, "memory_read_disabled",
		    "%s is off: start the daemon with --allow-memory-read to allow reading and "
		    "paging out process memory",
		    what);
	int st = vms_rate_gate(r, &r->h->memory_rate, "memory reads");
	if (st)
		return st;
	int err = vms_pages_may_attach(pid);
	if (err == VMS_ERR_PERMISSION)
		return vms_send_error(
		    r, 403, "permission_denied",
		    "vmscope (uid %u) has no ptrace-attach rights on process %d: %s needs them "
		    "(its user with kernel.yama.ptrace_scope 0, or root / CAP_SYS_PTRACE)",
		    (unsigned)geteuid(), pid, what);
	return err ? vms_send_vms_err(r, err, pid) : 0;
}

int vms_h_process_residency(struct vms_req *r)
{
	int pid, st;
	uint64_t start, end, max_runs = RES_DEFAULT_RUNS;
	struct vms_residency res;
	if ((st = vms_param_pid(r, r->param[0], &pid)) != 0 ||
	    (st = query_range(r, pid, 1, &start, &end)) != 0 ||
	    (st = vms_query_u64(r, "max_runs", 1, RES_MAX_RUNS, &max_runs)) != 0)
		return st;
	/* Swap locations are never sent: smaps does not show them either. */
	int exclusive = 1;
	if ((st = vms_query_bool(r, "exclusive", &exclusive)) != 0)
		return st;
	struct vms_residency_opts o = {.max_runs = (size_t)max_runs, .no_exclusive = !exclusive};
	/* The whole address space walks every page table, like a scan: the scan gate. A range (the
	 * dashboard asks for the selected allocation's on each selection) has its own limit, so
	 * that clicking through the map never uses up the scans. */
	int whole = !start && !end;
	if (whole && (st = vms_scan_begin(r)) != 0)
		return st;
	if (!whole && (st = vms_rate_gate(r, &r->h->residency_rate, "residency reads")) != 0)
		return st;
	int err = vms_residency_read(pid, start, end, &o, &res);
	if (whole)
		vms_scan_end(r);
	if (err)
		return vms_send_vms_err(r, err, pid);
	st = vms_send_json(r, 200, vms_json_residency(pid, &res));
	vms_residency_free(&res);
	return st;
}

int vms_h_process_strings(struct vms_req *r)
{
	int pid, st;
	uint64_t start, end, min = 8, offset = 0, limit = STR_DEFAULT_LIMIT, max_bytes = STR_MAX_BYTES;
	char q[128], enc[16], who[64];
	struct vms_strings_opts o = {0};
	struct vms_strings s;
	if ((st = vms_param_pid(r, r->param[0], &pid)) != 0 ||
	    (st = memory_gate(r, pid, "reading strings")) != 0 ||
	    (st = query_range(r, pid, 0, &start, &end)) != 0 ||
	    (st = vms_query_u64(r, "min", 4, 1024, &min)) != 0 ||
	    (st = vms_query_u64(r, "offset", 0, 1u << 30, &offset)) != 0 ||
	    (st = vms_query_u64(r, "limit", 1, STR_MAX_LIMIT, &limit)) != 0 ||
	    (st = vms_query_u64(r, "max_bytes", 4096, STR_MAX_BYTES, &max_bytes)) != 0)
		return st;
	int n = vms_query(r, "q", q, sizeof q);
	o.contains = n > 0 ? q : NULL;
	if (n == -2)
		return vms_send_error(r, 400, "bad_query", "?q= is longer than 127 bytes");
	if ((n = vms_query(r, "encoding", enc, sizeof enc)) >= 0) {
		if (!strcmp(enc, "ascii"))
			o.encodings = VMS_STR_ASCII;
		else if (!strcmp(enc, "utf16le"))
			o.encodings = VMS_STR_UTF16LE;
		else if (strcmp(enc, "both"))
			return vms_send_error(r, 400, "bad_query", "?encoding= takes ascii, utf16le or both");
	} else if (n == -2)
		return vms_send_error(r, 400, "bad_query", "?encoding= takes ascii, utf16le or both");
	o.min_chars = (unsigned)min;
	o.offset = (size_t)offset;
	o.limit = (size_t)limit;
	o.max_bytes = max_bytes;
	int err = vms_strings_read(pid, start, end, &o, &s);
	vms_log(r->h, VMS_LOG_INFO,
	        "memory read: strings pid %d range 0x%llx-0x%llx requester %s: %s, %llu bytes read", pid,
	        (unsigned long long)start, (unsigned long long)end, requester(r, who, sizeof who),
	        err ? vms_err_code(err) : "ok", err ? 0ull : (unsigned long long)s.bytes_read);
	if (err)
		return vms_send_vms_err(r, err, pid);
	st = vms_send_json(r, 200, vms_json_strings(pid, start, end, &o, &s));
	vms_strings_free(&s);
	return st;
}

/* The body of a POST whose options are query parameters: empty or an empty JSON object. 0, or
 * the 400 sent (options names them). */
static int empty_body(struct vms_req *r, const char *what, const char *options)
{
	char *body = NULL;
	size_t len = 0;
	int st = vms_read_body(r, &body, &len);
	if (st)
		return st;
	char seen[3] = "";
	size_t n = 0;
	for (size_t i = 0; i < len && n < 3; i++)
		if (!strchr(" \t\r\n", body[i]))
			seen[n++] = body[i];
	int empty = n == 0 || (n == 2 && seen[0] == '{' && seen[1] == '}');
	free(body);
	if (!empty)
		return vms_send_error(r, 400, "bad_json",
		                      "%s takes its options as query parameters (%s); the body must be empty "
		                      "or {}",
		                      what, options);
	return 0;
}

int vms_h_process_trim(struct vms_req *r)
{
	int pid, st;
	uint64_t start, end, wait = 0;
	char who[64];
	struct vms_trim t;
	struct vms_mem_figure later;
	if ((st = vms_param_pid(r, r->param[0], &pid)) != 0 ||
	    (st = empty_body(r, "trim", "?addr= or ?start=&end=, ?wait_s=")) != 0)
		return st;
	if ((st = memory_gate(r, pid, "trimming the working set")) != 0 ||
	    (st = query_range(r, pid, 1, &start, &end)) != 0 ||
	    (st = vms_query_u64(r, "wait_s", 0, TRIM_MAX_WAIT_S, &wait)) != 0)
		return st;
	int err = vms_trim(pid, start, end, &t);
	vms_log(
	    r->h, VMS_LOG_INFO,
	    "memory trim: MADV_PAGEOUT pid %d range 0x%llx-0x%llx requester %s: %s, rss %llu -> %llu bytes",
	    pid, (unsigned long long)start, (unsigned long long)end, requester(r, who, sizeof who),
	    err ? vms_err_code(err) : "ok", err ? 0ull : (unsigned long long)t.before.rss,
	    err ? 0ull : (unsigned long long)t.after.rss);
	if (!err && wait) {
		sleep((unsigned)wait);
		err = vms_mem_figure_read(pid, start, end, &later);
	}
	if (err)
		return vms_send_vms_err(r, err, pid);
	cJSON *j = vms_json_trim(pid, start, end, &t);
	if (j && wait) {
		cJSON_AddNumberToObject(j, "wait_s", (double)wait);
		cJSON_AddItemToObject(j, "after_wait", vms_json_mem_figure(&later));
	}
	return vms_send_json(r, 200, j);
}

/* o.start / o.end as "0x..." (0 and 0: the whole address space). */
static void add_range(cJSON *o, uint64_t start, uint64_t end)
{
	char buf[24];
	snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)start);
	cJSON_AddStringToObject(o, "start", buf);
	snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)end);
	cJSON_AddStringToObject(o, "end", buf);
}

/* POST /processes/{pid}/workingset?seconds=N[&addr= | &start=&end=]: clear the referenced bits
 * (clear_refs "1": this changes the target, its reclaim sees every page as idle for a moment),
 * wait N seconds, and answer which mappings' pages were touched (smaps Referenced). Behind the
 * same gate as trim; logged. */
int vms_h_process_workingset(struct vms_req *r)
{
	int pid, st;
	uint64_t start, end, seconds = 5;
	char who[64];
	struct vms_working_set w;
	if ((st = vms_param_pid(r, r->param[0], &pid)) != 0 ||
	    (st = empty_body(r, "workingset", "?seconds=, ?addr= or ?start=&end=")) != 0 ||
	    (st = vms_query_u64(r, "seconds", 1, WS_MAX_SECONDS, &seconds)) != 0 ||
	    (st = memory_gate(r, pid, "measuring the working set")) != 0 ||
	    (st = query_range(r, pid, 1, &start, &end)) != 0)
		return st;
	int err = vms_working_set(pid, start, end, (unsigned)seconds, &w);
	vms_log(r->h, VMS_LOG_INFO,
	        "working set: clear_refs pid %d range 0x%llx-0x%llx for %llu s requester %s: %s, "
	        "referenced %llu of rss %llu bytes",
	        pid, (unsigned long long)start, (unsigned long long)end, (unsigned long long)seconds,
	        requester(r, who, sizeof who), err ? vms_err_code(err) : "ok",
	        err ? 0ull : (unsigned long long)w.referenced, err ? 0ull : (unsigned long long)w.rss);
	if (err)
		return vms_send_vms_err(r, err, pid);
	cJSON *j = vms_json_working_set(pid, &w);
	vms_working_set_free(&w);
	if (j) {
		add_range(j, start, end);
		cJSON_AddStringToObject(j, "perturbs",
		                        "clear_refs reset the referenced bits of every page of the process: "
		                        "for a moment its reclaim saw all its pages as idle");
	}
	return vms_send_json(r, 200, j);
}
