/* The TLS API (include/vmscope/tls.h) in the binary: fingerprints typed by people are parsed here;
 * everything that needs OpenSSL lives in libvmscope-sslcompat.so (server/sslcompat/tls_module.h
 * says why), loaded on the first call that needs it and kept for the life of the process. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../sslcompat/tls_module.h"
#include "http_internal.h"
#include "vmscope/tls.h"
#include "vmscope/util.h"

static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static int lib_tried;
static void *lib;                          /* the handle, or NULL */
static const struct vms_tls_module *table; /* its table, or NULL */
static char lib_path[PATH_MAX + 64];       /* the path asked for first */
static char lib_error[PATH_MAX + 300];     /* why lib or table is NULL */

/* dlopen the library: $VMSCOPE_SSL_COMPAT when set, else the copy beside the binary (the build
 * tree) or in ../lib/vmscope from it (an install: /usr/bin -> /usr/lib/vmscope, a directory
 * ldconfig does not scan: the library's SONAME is "libssl.so", ssl_compat.c). Only paths the binary's own
 * location names: never a path compiled in (the build directory of a package may exist, and be
 * writable by anyone, on the machine that runs it: a daemon running as root would load a
 * stranger's code). Called once, under lib_lock. */
static void load(void)
{
	const char *path = getenv("VMSCOPE_SSL_COMPAT");
	char exe_dir[PATH_MAX], beside[PATH_MAX + 64];
	lib_path[0] = '\0';
	if (path && *path) {
		snprintf(lib_path, sizeof lib_path, "%s", path);
		lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	}
	ssize_t n = lib ? -1 : readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
	if (n > 0) {
		exe_dir[n] = '\0';
		char *slash = strrchr(exe_dir, '/');
		if (slash)
			*slash = '\0';
		for (int k = 0; k < 2 && !lib; k++) {
			snprintf(beside, sizeof beside, "%s/%slibvmscope-sslcompat.so", exe_dir,
			         k ? "../lib/vmscope/" : "");
			if (!lib_path[0])
				snprintf(lib_path, sizeof lib_path, "%s", beside);
			lib = dlopen(beside, RTLD_NOW | RTLD_GLOBAL);
		}
	}
	if (!lib) {
		const char *why = dlerror();
		snprintf(lib_error, sizeof lib_error,
		         "TLS needs libvmscope-sslcompat.so (%s), which could not be loaded%s%s", lib_path,
		         why ? ": " : "", why ? why : "");
		return;
	}
	const struct vms_tls_module *t = dlsym(lib, VMS_TLS_MODULE_SYMBOL);
	if (!t || t->version != VMS_TLS_MODULE_VERSION)
		snprintf(lib_error, sizeof lib_error,
		         "TLS needs libvmscope-sslcompat.so (%s) of this build, and the one loaded is %s",
		         lib_path, t ? "of another version" : "not it");
	else
		table = t;
}

void *vms_http_tls_library(const char **path)
{
	pthread_mutex_lock(&lib_lock);
	if (!lib_tried++)
		load();
	pthread_mutex_unlock(&lib_lock);
	*path = lib_path;
	return lib;
}

/* The library's table, or NULL with a sentence in errbuf. */
static const struct vms_tls_module *module(char *errbuf, size_t errlen)
{
	const char *path;
	vms_http_tls_library(&path);
	if (!table && errbuf && errlen)
		snprintf(errbuf, errlen, "%s", lib_error);
	return table;
}

int vms_tls_server_ctx(void *ssl_ctx, const char *cert, const char *key, char *errbuf, size_t errlen)
{
	const struct vms_tls_module *m = module(errbuf, errlen);
	return m ? m->server_ctx(ssl_ctx, cert, key, errbuf, errlen) : -1;
}

int vms_tls_check_pair(const char *cert, const char *key, char *errbuf, size_t errlen)
{
	const struct vms_tls_module *m = module(errbuf, errlen);
	return m ? m->check_pair(cert, key, errbuf, errlen) : -1;
}

int vms_tls_fingerprint_file(const char *path, char fp[VMS_TLS_FP_LEN + 1], char *errbuf, size_t errlen)
{
	const struct vms_tls_module *m = module(errbuf, errlen);
	return m ? m->fingerprint_file(path, fp, errbuf, errlen) : -1;
}

int vms_tls_self_signed(const char *cert_path, const char *key_path, const char *const *names, size_t n_names,
                        char fp[VMS_TLS_FP_LEN + 1], int *created, char *errbuf, size_t errlen)
{
	const struct vms_tls_module *m = module(errbuf, errlen);
	return m ? m->self_signed(cert_path, key_path, names, n_names, fp, created, errbuf, errlen) : -1;
}

int vms_https_request(const char *url, const struct vms_tls_trust *trust, const char *method,
                      const char *path, const char *headers, const char *body, size_t body_len,
                      unsigned timeout_ms, int *status, char **resp, size_t *resp_len, char *errbuf,
                      size_t errlen)
{
	const struct vms_tls_module *m = module(errbuf, errlen);
	return m ? m->https_request(url, trust, method, path, headers, body, body_len, timeout_ms, status,
	                            resp, resp_len, errbuf, errlen)
	         : -1;
}

int vms_tls_fingerprint_parse(const char *text, char fp[VMS_TLS_FP_LEN + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;
	if (!strncasecmp(text, "sha256:", 7) || !strncasecmp(text, "sha256=", 7))
		text += 7;
	for (const char *p = text; *p; p++) {
		if (*p == ':')
			continue;
		int v = vms_hex_digit((unsigned char)*p);
		if (v < 0 || k == 64)
			return -1;
		fp[k / 2 * 3 + k % 2] = hex[v];
		if (k % 2 && k < 63)
			fp[k / 2 * 3 + 2] = ':';
		k++;
	}
	if (k != 64)
		return -1;
	fp[VMS_TLS_FP_LEN] = '\0';
	return 0;
}
