/* What libvmscope-sslcompat.so offers the vmscope binary besides the shim: the TLS code that
 * needs OpenSSL (tls.c, tls_client.c). vmscope does not link libssl and libcrypto: loading them
 * costs every start ~1.5 ms (ld.so resolves ~6,000 symbols and applies ~22,000 relocations;
 * docs/benchmarks.md), and only serving TLS, --upload and the daemon's send use them. The binary
 * loads this library on its first TLS call (server/http/tls_load.c) and calls through the table
 * below; include/vmscope/tls.h is the contract of each function (vms_tlsm_x implements vms_tls_x,
 * vms_tlsm_https_request vms_https_request). */
#ifndef VMSCOPE_SSLCOMPAT_TLS_MODULE_H
#define VMSCOPE_SSLCOMPAT_TLS_MODULE_H

#include <stddef.h>

#include "vmscope/tls.h"

/* Bumped whenever the table changes: a binary refuses a library of another version. */
#define VMS_TLS_MODULE_VERSION 1

struct vms_tls_module {
	unsigned version; /* VMS_TLS_MODULE_VERSION */
	int (*server_ctx)(void *ssl_ctx, const char *cert, const char *key, char *errbuf, size_t errlen);
	int (*check_pair)(const char *cert, const char *key, char *errbuf, size_t errlen);
	int (*fingerprint_file)(const char *path, char fp[VMS_TLS_FP_LEN + 1], char *errbuf, size_t errlen);
	int (*self_signed)(const char *cert_path, const char *key_path, const char *const *names,
	                   size_t n_names, char fp[VMS_TLS_FP_LEN + 1], int *created, char *errbuf,
	                   size_t errlen);
	int (*https_request)(const char *url, const struct vms_tls_trust *trust, const char *method,
	                     const char *path, const char *headers, const char *body, size_t body_len,
	                     unsigned timeout_ms, int *status, char **resp, size_t *resp_len, char *errbuf,
	                     size_t errlen);
};

/* The table, found by dlsym under this name. */
#define VMS_TLS_MODULE_SYMBOL "vms_tls_module"
extern const struct vms_tls_module vms_tls_module;

/* Inside the library. */
int vms_tlsm_server_ctx(void *ssl_ctx, const char *cert, const char *key, char *errbuf, size_t errlen);
int vms_tlsm_check_pair(const char *cert, const char *key, char *errbuf, size_t errlen);
int vms_tlsm_fingerprint_file(const char *path, char fp[VMS_TLS_FP_LEN + 1], char *errbuf, size_t errlen);
/* The fingerprint of x509 (an X509 *) into fp. 0, or -1. */
int vms_tlsm_fingerprint_x509(void *x509, char fp[VMS_TLS_FP_LEN + 1]);
int vms_tlsm_self_signed(const char *cert_path, const char *key_path, const char *const *names,
                         size_t n_names, char fp[VMS_TLS_FP_LEN + 1], int *created, char *errbuf,
                         size_t errlen);
int vms_tlsm_https_request(const char *url, const struct vms_tls_trust *trust, const char *method,
                           const char *path, const char *headers, const char *body, size_t body_len,
                           unsigned timeout_ms, int *status, char **resp, size_t *resp_len, char *errbuf,
                           size_t errlen);

#endif
