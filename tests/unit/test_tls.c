/* vmscope/tls.h without a network: fingerprints typed by people, the self-signed certificate
 * kept beside a database (made once, then reused with the same fingerprint; the key file's mode
 * and a lone half of the pair refused), and a certificate checked against a key not its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "vmscope/tls.h"

#define FP_A "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

int main(void)
{
	char fp[VMS_TLS_FP_LEN + 1], fp2[VMS_TLS_FP_LEN + 1], err[512];
	/* fingerprints as people paste them */
	CHECK(vms_tls_fingerprint_parse(FP_A, fp) == 0);
	CHECK_STR(fp, FP_A);
	CHECK(vms_tls_fingerprint_parse("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
	                                fp) == 0);
	CHECK_STR(fp, FP_A);
	CHECK(vms_tls_fingerprint_parse("SHA256:" FP_A, fp) == 0 && !strcmp(fp, FP_A));
	CHECK(vms_tls_fingerprint_parse(
	          "sha256=ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:"
	          "89:ab:cd:ef:01:23:45:67:89",
	          fp) == 0 &&
	      !strcmp(fp, FP_A));
	CHECK(vms_tls_fingerprint_parse("AB:CD", fp) != 0);    /* too short */
	CHECK(vms_tls_fingerprint_parse(FP_A ":00", fp) != 0); /* too long */
	char bad[] = FP_A;
	bad[0] = 'Z';
	CHECK(vms_tls_fingerprint_parse(bad, fp) != 0); /* not hex */
	CHECK(vms_tls_fingerprint_parse("", fp) != 0);

	char dir[] = "/tmp/vms-test-tls.XXXXXX", cert[256], key[256];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cert, sizeof cert, "%s/db.tls-cert.pem", dir);
	snprintf(key, sizeof key, "%s/db.tls-key.pem", dir);
	const char *names[] = {"vmscope-test.invalid", "localhost", "127.0.0.1"};
	int created = 0;
	struct stat sb;
	CHECK(vms_tls_self_signed(cert, key, names, 3, fp, &created, err, sizeof err) == 0 && created);
	CHECK(stat(key, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(stat(cert, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(strlen(fp) == VMS_TLS_FP_LEN);
	CHECK(vms_tls_fingerprint_file(cert, fp2, err, sizeof err) == 0 && !strcmp(fp, fp2));
	CHECK(vms_tls_check_pair(cert, key, err, sizeof err) == 0);
	/* the second start reuses it */
	CHECK(vms_tls_self_signed(cert, key, names, 3, fp2, &created, err, sizeof err) == 0 && !created &&
	      !strcmp(fp, fp2));
	/* a key others can read is refused, not used */
	chmod(key, 0644);
	CHECK(vms_tls_self_signed(cert, key, names, 3, fp2, &created, err, sizeof err) != 0 &&
	      strstr(err, "0600"));
	chmod(key, 0600);
	/* a second pair: its key does not belong to the first certificate */
	char cert2[256], key2[256];
	snprintf(cert2, sizeof cert2, "%s/b.tls-cert.pem", dir);
	snprintf(key2, sizeof key2, "%s/b.tls-key.pem", dir);
	CHECK(vms_tls_self_signed(cert2, key2, names, 1, fp2, &created, err, sizeof err) == 0 && created &&
	      strcmp(fp, fp2) != 0);
	CHECK(vms_tls_check_pair(cert, key2, err, sizeof err) != 0 && strstr(err, "private key"));
	/* half a pair: refused, nothing overwritten */
	unlink(key2);
	CHECK(vms_tls_self_signed(cert2, key2, names, 1, fp2, &created, err, sizeof err) != 0 &&
	      strstr(err, "without"));
	CHECK(vms_tls_fingerprint_file(key, fp2, err, sizeof err) != 0); /* a key is no certificate */

	unlink(cert);
	unlink(key);
	unlink(cert2);
	rmdir(dir);
	TEST_MAIN_END();
}
