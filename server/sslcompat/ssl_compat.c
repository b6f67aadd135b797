/* libvmscope-sslcompat.so: what Debian 12's civetweb 1.15 needs from OpenSSL 3 and does not find.
 *
 * civetweb as Debian builds it loads TLS at run time: dlopen("libssl.so") and then dlsym() on that
 * handle for each function it uses (OpenSSL 1.1 names). OpenSSL 3 renamed one of them:
 * SSL_get_peer_certificate is only a macro for SSL_get1_peer_certificate there, so the symbol is
 * absent, civetweb's table holds NULL, and every TLS connection crashes a worker the moment the
 * handshake is done (ssl_get_client_cert_info calls it unconditionally; found with gdb, issue 15).
 *
 * This library's SONAME is "libssl.so" and it depends on the real libssl.so.3. The daemon dlopens
 * it by path before civetweb starts (server/http/server.c, load_ssl_compat); glibc then hands
 * civetweb's dlopen("libssl.so") this already-loaded object (matched by SONAME), and dlsym on it
 * finds SSL_get_peer_certificate here and every other function in libssl.so.3 / libcrypto.so.3,
 * its dependencies. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *s);

/* OpenSSL 1.1's contract: a new reference the caller frees with X509_free (civetweb does). */
X509 *SSL_get_peer_certificate(const SSL *s)
{
	return SSL_get1_peer_certificate(s);
}
