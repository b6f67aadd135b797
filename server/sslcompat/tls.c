/* The daemon's certificates: the server context civetweb hands us (init_ssl), pair checks,
 * fingerprints, and the self-signed certificate `vmscope serve --tls-self-signed` keeps beside the
 * database. OpenSSL's error queue is per thread; every failure drains it into errbuf. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls_module.h"

/* "what: OpenSSL's reason" into errbuf; clears the error queue. Returns -1. */
static int ssl_fail(char *errbuf, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[200] = "";
	if (e)
		ERR_error_string_n(e, reason, sizeof reason);
	ERR_clear_error();
	snprintf(errbuf, errlen, "%s%s%s", what, *reason ? ": " : "", reason);
	return -1;
}

int vms_tlsm_server_ctx(void *ssl_ctx, const char *cert, const char *key, char *errbuf, size_t errlen)
{
	SSL_CTX *ctx = ssl_ctx;
	char what[600];
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, VMS_TLS_CIPHERS_12) != 1)
		return ssl_fail(errbuf, errlen, "cannot set the TLS protocol floor and ciphers");
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE);
	snprintf(what, sizeof what, "certificate %s", cert);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return ssl_fail(errbuf, errlen, what);
	snprintf(what, sizeof what, "private key %s", key);
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		return ssl_fail(errbuf, errlen, what);
	snprintf(what, sizeof what, "private key %s does not belong to certificate %s", key, cert);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return ssl_fail(errbuf, errlen, what);
	return 0;
}

int vms_tlsm_check_pair(const char *cert, const char *key, char *errbuf, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return ssl_fail(errbuf, errlen, "cannot make a TLS context");
	int rc = vms_tlsm_server_ctx(ctx, cert, key, errbuf, errlen);
	SSL_CTX_free(ctx);
	return rc;
}

/* The fingerprint of x into fp. 0 or -1. */
static int fingerprint_of(X509 *x, char fp[VMS_TLS_FP_LEN + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		fp[i * 3] = hex[md[i] >> 4];
		fp[i * 3 + 1] = hex[md[i] & 15];
		fp[i * 3 + 2] = i + 1 < n ? ':' : '\0';
	}
	return 0;
}

int vms_tlsm_fingerprint_x509(void *x509, char fp[VMS_TLS_FP_LEN + 1])
{
	return fingerprint_of(x509, fp);
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

int vms_tlsm_fingerprint_file(const char *path, char fp[VMS_TLS_FP_LEN + 1], char *errbuf, size_t errlen)
{
	X509 *x = read_cert(path);
	if (!x) {
		char what[600];
		snprintf(what, sizeof what, "cannot read a PEM certificate from %s", path);
		return ssl_fail(errbuf, errlen, what);
	}
	int rc = fingerprint_of(x, fp);
	X509_free(x);
	if (rc)
		snprintf(errbuf, errlen, "cannot hash the certificate in %s", path);
	return rc;
}

/* Write PEM text through write_pem into path, created 0600 (exclusive: a file that appeared
 * meanwhile is not overwritten). 0 or -1 with a sentence. */
static int write_private(const char *path, int (*write_pem)(FILE *, void *), void *obj, char *errbuf,
                         size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		snprintf(errbuf, errlen, "cannot create %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int ok = write_pem(f, obj) == 1;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		unlink(path);
		return ssl_fail(errbuf, errlen, "cannot write the certificate files");
	}
	return 0;
}

static int write_key(FILE *f, void *k)
{
	return PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
}

static int write_x509(FILE *f, void *x)
{
	return PEM_write_X509(f, x);
}

/* subjectAltName: "DNS:a,IP:127.0.0.1,..." for names. */
static void san_of(const char *const *names, size_t n, char *buf, size_t size)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && k < size; i++) {
		struct in_addr a;
		/* a name with ',' would add entries of its own: leave it out */
		if (!names[i] || !*names[i] || strchr(names[i], ','))
			continue;
		int w = snprintf(buf + k, size - k, "%s%s:%s", k ? "," : "",
		                 inet_pton(AF_INET, names[i], &a) == 1 ? "IP" : "DNS", names[i]);
		if (w < 0 || (size_t)w >= size - k)
			break;
		k += (size_t)w;
	}
}

/* A new key and self-signed certificate for names. NULL on failure (OpenSSL's queue says why). */
static X509 *make_cert(EVP_PKEY *key, const char *const *names, size_t n)
{
	char san[1024];
	unsigned char serial[16];
	X509 *x = X509_new();
	X509V3_CTX v3;
	BIGNUM *bn = NULL;
	X509_EXTENSION *ext = NULL;
	int ok = x && X509_set_version(x, 2) == 1 && RAND_bytes(serial, sizeof serial) == 1;
	if (ok) {
		serial[0] &= 0x7f; /* positive */
		ok = (bn = BN_bin2bn(serial, sizeof serial, NULL)) &&
		     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	}
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 825L * 86400) && X509_set_pubkey(x, key) == 1;
	X509_NAME *nm = ok ? X509_get_subject_name(x) : NULL;
	ok =
	    ok && nm &&
	    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8, (const unsigned char *)"vmscope", -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)names[0], -1, -1, 0) &&
	    X509_set_issuer_name(x, nm) == 1;
	if (ok) {
		san_of(names, n, san, sizeof san);
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		ok = (ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san)) &&
		     X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		ext = NULL;
	}
	if (ok) {
		X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
		ok = (ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:FALSE")) &&
		     X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int vms_tlsm_self_signed(const char *cert_path, const char *key_path, const char *const *names,
                         size_t n_names, char fp[VMS_TLS_FP_LEN + 1], int *created, char *errbuf,
                         size_t errlen)
{
	struct stat cs, ks;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int rc = -1;
	*created = 0;
	int have_c = lstat(cert_path, &cs) == 0, have_k = lstat(key_path, &ks) == 0;
	if (have_c && have_k) {
		if (!S_ISREG(cs.st_mode) || !S_ISREG(ks.st_mode) || cs.st_uid != geteuid() ||
		    ks.st_uid != geteuid() || (ks.st_mode & 077)) {
			snprintf(
			    errbuf, errlen,
			    "%s and %s must be regular files of ours, the key readable by us only (0600)",
			    cert_path, key_path);
			return -1;
		}
		if (vms_tlsm_check_pair(cert_path, key_path, errbuf, errlen) != 0)
			return -1;
		return vms_tlsm_fingerprint_file(cert_path, fp, errbuf, errlen);
	}
	if (have_c != have_k) {
		snprintf(errbuf, errlen, "%s exists without %s: remove it to make a new pair",
		         have_c ? cert_path : key_path, have_c ? key_path : cert_path);
		return -1;
	}
	if (!n_names || !names[0] || !*names[0]) {
		snprintf(errbuf, errlen, "a self-signed certificate needs a host name");
		return -1;
	}
	if (!(key = EVP_EC_gen("P-256"))) {
		ssl_fail(errbuf, errlen, "cannot make a P-256 key");
		goto out;
	}
	if (!(x = make_cert(key, names, n_names))) {
		ssl_fail(errbuf, errlen, "cannot make the certificate");
		goto out;
	}
	if (write_private(key_path, write_key, key, errbuf, errlen) != 0)
		goto out;
	if (write_private(cert_path, write_x509, x, errbuf, errlen) != 0) {
		unlink(key_path);
		goto out;
	}
	if (fingerprint_of(x, fp) != 0) {
		snprintf(errbuf, errlen, "cannot hash the new certificate");
		goto out;
	}
	*created = 1;
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

const struct vms_tls_module vms_tls_module = {
    .version = VMS_TLS_MODULE_VERSION,
    .server_ctx = vms_tlsm_server_ctx,
    .check_pair = vms_tlsm_check_pair,
    .fingerprint_file = vms_tlsm_fingerprint_file,
    .self_signed = vms_tlsm_self_signed,
    .https_request = vms_tlsm_https_request,
};
