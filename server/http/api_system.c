/* /api/v1/system and /api/v1/system/files: views across processes (smem -w, -u, -m). Only
 * processes the daemon may read are counted or named (the kernel's ptrace-read check on each
 * /proc/PID/smaps*), the others are a count. Both walk page tables (smaps_rollup, smaps), so
 * they pass the scan gate as a scan does; /system?types=1 (totals by VMMap type) scans every
 * readable process in full. */
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/json_system.h"
#include "vmscope/systemwide.h"

/* ?NAME= as text (NULL when absent or empty); 0 or the status of the 400 sent. */
static int text_param(struct vms_req *r, const char *name, char *buf, size_t size, const char **out)
{
	int n = vms_query(r, name, buf, size);
	*out = NULL;
	if (n == -2)
		return vms_send_error(r, 400, "bad_query", "?%s= is too long", name);
	if (n > 0)
		*out = buf;
	return 0;
}

/* ?NAME= as a count in [0, max] (def when absent); 0 or the status of the 400 sent. */
static int count_param(struct vms_req *r, const char *name, uint64_t max, size_t def, size_t *out)
{
	uint64_t v = def;
	int st = vms_query_u64(r, name, 0, max, &v);
	*out = (size_t)v;
	return st;
}

int vms_h_system(struct vms_req *r)
{
	char ubuf[64];
	const char *user;
	int st, with_users = 1, with_types = 0, err = VMS_OK;
	struct vms_meminfo m;
	struct vms_proclist l = {0};
	struct vms_user_totals t = {0};
	struct vms_type_totals tt = {0};
	struct vms_proclist_opts opts = {.with_rollup = 1};

	if ((st = vms_query_bool(r, "users", &with_users)) ||
	    (st = vms_query_bool(r, "types", &with_types)) ||
	    (st = text_param(r, "user", ubuf, sizeof ubuf, &user)))
		return st;
	if (vms_meminfo_read(&m) != VMS_OK)
		return vms_send_error(r, 500, "io_error", "cannot read /proc/meminfo");
	if (with_users || with_types) {
		if ((st = vms_scan_begin(r)))
			return st;
		opts.with_rollup = with_users;
		err = vms_proclist_read(&opts, &l);
		/* ?types=1: every readable process's full smaps, classified (costly, asked for) */
		if (!err && with_types)
			err = vms_type_totals_read(&l, user, &tt);
		vms_scan_end(r);
		if (!err && with_users)
			err = vms_user_totals(&l, user, &t);
		vms_proclist_free(&l);
		if (err)
			return vms_send_vms_err(r, err, 0);
	}
	cJSON *j = vms_json_system(&m, with_users ? &t : NULL);
	if (j && with_types && vms_json_add_type_totals(j, &tt) != 0) {
		cJSON_Delete(j);
		j = NULL;
	}
	vms_user_totals_free(&t);
	vms_type_totals_free(&tt);
	return vms_send_json(r, 200, j);
}

int vms_h_system_files(struct vms_req *r)
{
	char qbuf[256], pbuf[4096], ubuf[64];
	struct vms_mapped_files_opts o = {0};
	struct vms_mapped_files f = {0};
	size_t limit, per_file;
	int st;

	if ((st = text_param(r, "q", qbuf, sizeof qbuf, &o.match)) ||
	    (st = text_param(r, "path", pbuf, sizeof pbuf, &o.path)) ||
	    (st = text_param(r, "user", ubuf, sizeof ubuf, &o.user)) ||
	    (st = count_param(r, "limit", 100000, 200, &limit)) ||
	    (st = count_param(r, "per_file", 100000, 0, &per_file)))
		return st;
	if ((st = vms_scan_begin(r)))
		return st;
	int err = vms_mapped_files_read(&o, &f);
	vms_scan_end(r);
	if (err)
		return vms_send_vms_err(r, err, 0);
	cJSON *j = vms_json_mapped_files(&f, limit, per_file);
	vms_mapped_files_free(&f);
	return vms_send_json(r, 200, j);
}
