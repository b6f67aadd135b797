/* TLS for the daemon and for `vmscope snapshot --upload` (server/sslcompat/tls.c, tls_client.c),
 * with Debian's OpenSSL 3 (libssl-dev): the same libssl that civetweb 1.15 loads with dlopen. The
 * binary does not link OpenSSL: the first call that needs it loads libvmscope-sslcompat.so
 * (server/http/tls_load.c); when that fails, it returns -1 with a sentence saying so.
 *
 * Certificates are PEM files. A fingerprint is the SHA-256 of the certificate's DER bytes as 32
 * upper-case hex pairs joined by ':' (what `openssl x509 -noout -fingerprint -sha256` prints). */
#ifndef VMSCOPE_TLS_H
#define VMSCOPE_TLS_H

#include <stddef.h>

#define VMS_TLS_FP_LEN 95 /* "AB:CD:...": 32 * 3 - 1 */

/* Protocol floor and TLS 1.2 ciphers of every context we make: TLS 1.2 and 1.3 only, forward
 * secrecy and AEAD only (TLS 1.3's own suites are all of that kind). */
#define VMS_TLS_CIPHERS_12                                                                                   \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"           \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Load cert (a PEM chain, leaf first) and key into ssl_ctx (an SSL_CTX *), check that they
 * belong together, and set the protocol floor and ciphers above. Returns 0, or -1 with a
 * sentence in errbuf. */
int vms_tls_server_ctx(void *ssl_ctx, const char *cert, const char *key, char *errbuf, size_t errlen);
/* Check a certificate and key pair without serving: 0, or -1 with a sentence in errbuf. */
int vms_tls_check_pair(const char *cert, const char *key, char *errbuf, size_t errlen);

/* The certificate in PEM file path: its fingerprint into fp. 0, or -1 with a sentence. */
int vms_tls_fingerprint_file(const char *path, char fp[VMS_TLS_FP_LEN + 1], char *errbuf, size_t errlen);
/* Normalise a fingerprint someone typed ("ab:cd..", "ABCD..", with or without "sha256:" /
 * "SHA256=" in front) into the canonical form. 0, or -1 when it is not 32 hex bytes. */
int vms_tls_fingerprint_parse(const char *text, char fp[VMS_TLS_FP_LEN + 1]);

/* The self-signed certificate of this host kept at cert_path / key_path (both mode 0600, ours):
 * loaded when both exist and belong together, else made (an ECDSA P-256 key, valid 825 days,
 * CN = names[0], subjectAltName = every name: an IPv4 address becomes an IP entry, anything else
 * a DNS entry). *created says which. Its fingerprint goes into fp. 0, or -1 with a sentence. */
int vms_tls_self_signed(const char *cert_path, const char *key_path, const char *const *names, size_t n_names,
                        char fp[VMS_TLS_FP_LEN + 1], int *created, char *errbuf, size_t errlen);

/* How `vmscope snapshot --upload` trusts the other daemon: exactly one of ca_file (a PEM bundle;
 * the name in the URL must match the certificate), fingerprint (canonical form: the leaf must
 * be that certificate; nothing else is checked), or neither (the system's CA store and the
 * name). Verification is never skipped. */
struct vms_tls_trust {
	const char *ca_file;
	const char *fingerprint;
};

/* One HTTPS request to url ("https://HOST:PORT", a path appended): method, path (with its
 * query), the headers (each "Name: value\r\n", may be NULL) and the body. On a completed
 * exchange returns 0 with the status in *status and the malloc'd, NUL-terminated response body
 * in *resp (*resp_len bytes). -1 with a sentence in errbuf when it could not talk to the server,
 * including any certificate that does not pass trust (the message says what was presented).
 * Waits at most timeout_ms for each step. The caller ignores SIGPIPE (a server that closes early
 * would otherwise end the process). */
int vms_https_request(const char *url, const struct vms_tls_trust *trust, const char *method,
                      const char *path, const char *headers, const char *body, size_t body_len,
                      unsigned timeout_ms, int *status, char **resp, size_t *resp_len, char *errbuf,
                      size_t errlen);

#endif
