/* GET /api/v1/health, /api/v1/version and /api/v1/openapi.json. */
#include <sys/utsname.h>

#include <civetweb.h>
#include <sys/statvfs.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/snapshot.h"
#include "vmscope/store.h"
#include "vmscope_build.h"

int vms_h_health(struct vms_req *r)
{
	struct vms_store_usage u;
	int err = vms_store_usage(r->h->store, &u);
	if (err != VMS_OK)
		return vms_send_error(r, 503, "store_unavailable", "the snapshot store cannot be read");
	/* The disk: full when the last write found it so, or when nothing is left for us on it. */
	char dir[512];
	struct statvfs vfs;
	vms_db_dir(r->h, dir, sizeof dir);
	int have_vfs = statvfs(dir, &vfs) == 0;
	uint64_t disk_free = have_vfs ? (uint64_t)vfs.f_bavail * vfs.f_frsize : 0;
	int disk_full = vms_store_disk_full(r->h->store) || (have_vfs && disk_free < 64 * 1024);
	cJSON *root = cJSON_CreateObject(), *st = cJSON_AddObjectToObject(root, "store");
	cJSON_AddStringToObject(root, "status", disk_full ? "disk_full" : "ok");
	cJSON_AddBoolToObject(root, "auth", r->h->api_token_len != 0);
	if (st) {
		cJSON_AddNumberToObject(st, "snapshots", (double)u.snapshots);
		cJSON_AddNumberToObject(st, "bytes", (double)u.bytes);
		cJSON_AddNumberToObject(st, "json_bytes", (double)u.json_bytes);
		cJSON_AddNumberToObject(st, "max_snapshots", (double)u.max_snapshots);
		cJSON_AddNumberToObject(st, "max_bytes", (double)u.max_bytes);
		cJSON_AddBoolToObject(st, "full",
		                      disk_full || u.snapshots >= u.max_snapshots || u.bytes >= u.max_bytes);
		cJSON_AddBoolToObject(st, "disk_full", disk_full);
		if (have_vfs)
			cJSON_AddNumberToObject(st, "disk_free_bytes", (double)disk_free);
		else
			cJSON_AddNullToObject(st, "disk_free_bytes");
	}
	return vms_send_json(r, 200, root);
}

int vms_h_version(struct vms_req *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "version", VMSCOPE_VERSION);
	cJSON_AddStringToObject(root, "commit", VMSCOPE_COMMIT);
	cJSON_AddStringToObject(root, "build_date", VMSCOPE_BUILD_DATE);
	cJSON_AddStringToObject(root, "api", "v1");
	cJSON_AddNumberToObject(root, "format_version", VMS_FORMAT_VERSION);
	cJSON_AddNumberToObject(root, "schema_version", VMS_STORE_SCHEMA_VERSION);
	cJSON_AddStringToObject(root, "civetweb", mg_version());
	cJSON_AddStringToObject(root, "sqlite", vms_store_sqlite_version());
	/* --allow-memory-read: the dashboard shows Strings and Trim only when it is on */
	cJSON_AddBoolToObject(root, "memory_read", r->h->allow_memory_read);
	/* the daemon's host, as scans record it (uname nodename): the dashboard marks snapshots
	 * taken elsewhere */
	struct utsname u;
	if (uname(&u) == 0)
		cJSON_AddStringToObject(root, "host", u.nodename);
	else
		cJSON_AddNullToObject(root, "host");
	return vms_send_json(r, 200, root);
}

/* docs/openapi.json, embedded at build time (cmake/embed.cmake): the document is kept once. */
extern const unsigned char vms_openapi_json[];
extern const size_t vms_openapi_json_len;

int vms_h_openapi(struct vms_req *r)
{
	return vms_send(r, 200, "application/json; charset=utf-8", vms_openapi_json, vms_openapi_json_len,
	                NULL);
}
