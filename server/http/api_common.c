/* What several /api/v1 handlers answer the same way (http_internal.h, "shared handler helpers"):
 * an object that names a stored thing by id and URL, a 201 Created with its Location, and a
 * store lookup's error as an HTTP answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/json.h"

cJSON *vms_id_url_json(const char *collection, int64_t id, char *url, size_t url_len)
{
	char buf[96];
	if (!url) {
		url = buf;
		url_len = sizeof buf;
	}
	snprintf(url, url_len, "/api/v1/%s/%lld", collection, (long long)id);
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "url", url);
	return o;
}

int vms_send_created(struct vms_req *r, cJSON *root, const char *url)
{
	char *text = vms_json_print(root, 0);
	cJSON_Delete(root);
	if (!text)
		return vms_send_error(r, 503, "out_of_memory", "out of memory");
	struct vms_header h[] = {{"Location", url}, {NULL, NULL}};
	vms_send(r, 201, "application/json; charset=utf-8", text, strlen(text), h);
	free(text);
	return 201;
}

int vms_send_lookup_err(struct vms_req *r, int err, const char *not_found)
{
	if (err == VMS_OK)
		return 0;
	if (err == VMS_ERR_NOT_FOUND)
		return vms_send_error(r, 404, "not_found", "%s", not_found);
	return vms_send_vms_err(r, err, 0);
}
