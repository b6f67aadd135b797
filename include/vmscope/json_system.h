/* JSON of the views across processes (include/vmscope/systemwide.h). Sizes in bytes, snake_case
 * keys. Each returns a new tree (cJSON_Delete) or NULL when memory runs out. */
#ifndef VMSCOPE_JSON_SYSTEM_H
#define VMSCOPE_JSON_SYSTEM_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "vmscope/systemwide.h"

/* {"meminfo":{...},"areas":[{key,name,used,cache,noncache}...],"users":[...]|null,
 *  "total":{...}|null,"unreadable":N|null}; users NULL leaves the user part null. */
cJSON *vms_json_system(const struct vms_meminfo *m, const struct vms_user_totals *users);

/* {"files":[{path,dev,inode,deleted,n_procs,rss,pss,uss,swap,"processes":[{pid,name,user,
 *  n_maps,size,rss,pss,uss,swap}...]}...],"count":N,"shown":N,"pss":..,"rss":..,
 *  "processes_read":N,"unreadable":N}: at most limit files (0: all), each with at most
 *  per_file processes (0: all; its n_procs always says how many). */
cJSON *vms_json_mapped_files(const struct vms_mapped_files *f, size_t limit, size_t per_file);

/* Add "by_type" to root (a vms_json_system tree): {"types":[{type,key,size,committed,private,
 *  total_ws,...,pss,uss,swap,swap_pss,dirty,blocks}...] (every type but Free, in type order),
 *  "total":{...},"processes_read":N,"unreadable":N,"gone":N,"processes":[{pid,name,pss}...]}.
 * 0, or -1 when memory ran out (root may hold part of it: delete it). */
int vms_json_add_type_totals(cJSON *root, const struct vms_type_totals *t);

#endif
