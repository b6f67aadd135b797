/* The API's JSON of a stored snapshot, and the decision to keep it (moved here from the store,
 * which keeps opaque bytes): serve the kept rendering when there is one; else load the snapshot,
 * render it with the direct writer and ask the store to keep the text. Rendering a 60,000-VMA
 * snapshot costs ~0.3 s, streaming a kept one ~20 ms (docs/benchmarks.md, "Daemon"). */
#include <stdlib.h>

#include "vmscope/error.h"
#include "vmscope/http.h"
#include "vmscope/json.h"

#define CHUNK (256u * 1024u)

int vms_http_snapshot_json(struct vms_store *st, int64_t id, const struct vms_store_sink *sink)
{
	int err = vms_store_rendering_stream(st, id, sink);
	if (err != VMS_ERR_NOT_FOUND)
		return err;
	/* None kept (or no such snapshot: the load says which). */
	struct vms_snapshot *s = NULL;
	if ((err = vms_store_load(st, id, &s)) != VMS_OK)
		return err;
	char *text = NULL;
	size_t len = 0;
	err = vms_json_write_snapshot(s, NULL, &text, &len); /* no cJSON tree: ~1x the text in memory */
	vms_snapshot_free(s);
	if (err != VMS_OK)
		return err;
	(void)vms_store_rendering_keep(st, id, text, len); /* no room to keep it: still served */
	if (sink->size && sink->size(sink->arg, len) != 0)
		err = VMS_ERR_IO;
	for (size_t off = 0; err == VMS_OK && off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		if (sink->chunk(sink->arg, text + off, n) != 0)
			err = VMS_ERR_IO;
	}
	free(text);
	return err;
}
