/* HotSpot's performance data (hsperfdata): the file /tmp/hsperfdata_<user>/<pid> that every JVM
 * with -XX:+UsePerfData (the default) maps rw-s and keeps its counters in. Parsed from a byte
 * buffer so that tests can feed saved bytes. Layout: PerfDataPrologue and PerfDataEntry in
 * openjdk/jdk src/hotspot/share/runtime/perfMemory.hpp and perfData.hpp (mirrored by
 * jdk.internal.jvmstat PerfDataBufferPrologue.java); summary in
 * ../shared/docs/runtime-heaps.md section 8. */
#ifndef VMSCOPE_CORE_HSPERFDATA_H
#define VMSCOPE_CORE_HSPERFDATA_H

#include <stddef.h>
#include <stdint.h>

#define VMS_HSPERF_GENS 4

/* The counters the hotspot recogniser uses. Sizes in bytes, 0 when the counter is absent;
 * strings "" when absent (always NUL-terminated, truncated to fit). */
struct vms_hsperf {
	unsigned entries;                   /* entries parsed */
	int n_gens;                         /* highest N + 1 of sun.gc.generation.N.maxCapacity */
	uint64_t gen_max[VMS_HSPERF_GENS];  /* sun.gc.generation.N.maxCapacity */
	uint64_t gen_cap[VMS_HSPERF_GENS];  /* sun.gc.generation.N.capacity (about the committed bytes) */
	char gen_name[VMS_HSPERF_GENS][16]; /* sun.gc.generation.N.name ("new", "young", "old") */
	uint64_t ccs_max;                   /* sun.gc.compressedclassspace.maxCapacity */
	uint64_t meta_max;                  /* sun.gc.metaspace.maxCapacity */
	char policy[48];    /* sun.gc.policy.name ("GarbageFirst", "ParScav:MSC", "Copy:MSC") */
	char collector[64]; /* the first sun.gc.collector.N.name in the file ("G1 young
	                     * collection pauses"; ZGC has only N = 2, "Z concurrent
	                     * cycle pauses") */
	char version[64];   /* java.property.java.vm.version ("17.0.15+6-Debian-1deb12u1") */
};

/* Parse len bytes of an hsperfdata file. Returns 0 and fills *out (zeroed first) when the
 * prologue is valid (magic CAFEC0C0, major 2); entries that run past len or past `used` end the
 * walk without failing. -1 when the buffer is not hsperfdata. */
int vms_hsperf_parse(const void *buf, size_t len, struct vms_hsperf *out);

#endif
