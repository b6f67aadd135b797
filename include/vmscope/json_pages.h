/* JSON of the page views (vmscope/pages.h), shared by the CLI's --json and the API
 * (docs/api.md, "Inside the pages"). Addresses are "0x..." strings, sizes integer bytes. */
#ifndef VMSCOPE_JSON_PAGES_H
#define VMSCOPE_JSON_PAGES_H

#include <cjson/cJSON.h>
#include <sys/types.h>

#include "vmscope/pages.h"

/* {"pid","start","end","page_size","method","slower","known":[...],"truncated","walk_end",
 *  "pages":{flag:count},"runs":[{"start","end","pages","flags":[...]
 *  (,"swap_type","swap_offset" when known)}]}. NULL on ENOMEM. */
cJSON *vms_json_residency(pid_t pid, const struct vms_residency *r);
/* {"pid","start","end","min_chars","offset","limit","total","bytes_read","bytes_skipped",
 *  "truncated","read_end","strings":[{"addr","encoding","chars","text"}]} */
cJSON *vms_json_strings(pid_t pid, uint64_t start, uint64_t end, const struct vms_strings_opts *o,
                        const struct vms_strings *s);
/* {"pid","start","end","advised_bytes","vmas","skipped_vmas","before":{...},"after":{...},
 *  "rss_freed"} with figures {"rss","anonymous","file","swap","pss"}. */
cJSON *vms_json_trim(pid_t pid, uint64_t start, uint64_t end, const struct vms_trim *t);
cJSON *vms_json_mem_figure(const struct vms_mem_figure *f);
/* {"pid","seconds","rss","referenced","vmas":[{"start","end","rss","referenced"}]} */
cJSON *vms_json_working_set(pid_t pid, const struct vms_working_set *w);

#endif
