/* GET /api/v1/health and /api/v1/version. */
#include <sys/utsname.h>

#include <civetweb.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/snapshot.h"
#include "vmscope/store.h"

int vms_h_health(struct vms_req *r)
{
	struct vms_store_usage u;
	int err = vms_store_usage(r->h->store, &u);
	if (err != VMS_OK)
		return vms_send_error(r, 503, "store_unavailable", "the snapshot store cannot be read");
	cJSON *root = cJSON_CreateObject(), *st = cJSON_AddObjectToObject(root, "store");
	cJSON_AddStringToObject(root, "status", "ok");
	cJSON_AddBoolToObject(root, "auth", r->h->api_token_len != 0);
	if (st) {
		cJSON_AddNumberToObject(st, "snapshots", (double)u.snapshots);
		cJSON_AddNumberToObject(st, "bytes", (double)u.bytes);
		cJSON_AddNumberToObject(st, "json_bytes", (double)u.json_bytes);
		cJSON_AddNumberToObject(st, "max_snapshots", (double)u.max_snapshots);
		cJSON_AddNumberToObject(st, "max_bytes", (double)u.max_bytes);
		cJSON_AddBoolToObject(st, "full", u.snapshots >= u.max_snapshots || u.bytes >= u.max_bytes);
	}
	return vms_send_json(r, 200, root);
}

int vms_h_version(struct vms_req *r)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "version", VMSCOPE_VERSION);
	cJSON_AddStringToObject(root, "api", "v1");
	cJSON_AddNumberToObject(root, "format_version", VMS_FORMAT_VERSION);
	cJSON_AddNumberToObject(root, "schema_version", VMS_STORE_SCHEMA_VERSION);
	cJSON_AddStringToObject(root, "civetweb", mg_version());
	cJSON_AddStringToObject(root, "sqlite", vms_store_sqlite_version());
	/* the daemon's host, as scans record it (uname nodename): the dashboard marks snapshots
	 * taken elsewhere */
	struct utsname u;
	if (uname(&u) == 0)
		cJSON_AddStringToObject(root, "host", u.nodename);
	else
		cJSON_AddNullToObject(root, "host");
	return vms_send_json(r, 200, root);
}
