/* The API token file: created once with 32 bytes from getrandom(2) as 64 hex characters,
 * mode 0600, and never readable by anyone else. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmscope/error.h"
#include "vmscope/http.h"
#include "vmscope/util.h"

static int create_token(const char *path, char out[VMS_API_TOKEN_LEN + 1], char *errbuf, size_t errlen)
{
	if (vms_random_hex(out, VMS_API_TOKEN_LEN / 2) != VMS_OK) {
		snprintf(errbuf, errlen, "getrandom: %s", strerror(errno));
		return VMS_ERR_IO;
	}

	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot create token file %s: %s", path, strerror(errno));
		return errno == EEXIST ? VMS_ERR_AMBIGUOUS : VMS_ERR_IO; /* EEXIST: lost a race, re-read */
	}
	char line[VMS_API_TOKEN_LEN + 2];
	memcpy(line, out, VMS_API_TOKEN_LEN);
	line[VMS_API_TOKEN_LEN] = '\n';
	ssize_t w = write(fd, line, sizeof line - 1);
	int ok = w == (ssize_t)(sizeof line - 1) && fsync(fd) == 0;
	close(fd);
	if (!ok) {
		snprintf(errbuf, errlen, "cannot write token file %s", path);
		unlink(path);
		return VMS_ERR_IO;
	}
	return VMS_OK;
}

/* The token in the open file fd. Ours (owned by our uid) unless any_owner; a file of ours that
 * others may read is narrowed to 0600, another owner's file that others may read is refused. */
static int read_token(int fd, const char *path, int any_owner, char out[VMS_API_TOKEN_LEN + 1], char *errbuf,
                      size_t errlen)
{
	struct stat sb;
	char buf[VMS_API_TOKEN_LEN + 8];
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(errbuf, errlen, "token file %s is not a regular file", path);
		return VMS_ERR_INVALID;
	}
	int ours = sb.st_uid == geteuid();
	if (!ours && (!any_owner || (sb.st_mode & 077))) {
		snprintf(errbuf, errlen, "token file %s belongs to uid %u, not to us (uid %u): refusing it",
		         path, (unsigned)sb.st_uid, (unsigned)geteuid());
		return VMS_ERR_INVALID;
	}
	if (ours && (sb.st_mode & 077) && fchmod(fd, 0600) != 0) {
		snprintf(errbuf, errlen, "token file %s is readable by others and cannot be narrowed: %s",
		         path, strerror(errno));
		return VMS_ERR_INVALID;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (n < 0) {
		snprintf(errbuf, errlen, "cannot read token file %s: %s", path, strerror(errno));
		return VMS_ERR_IO;
	}
	size_t len = 0;
	while (len < (size_t)n &&
	       ((buf[len] >= '0' && buf[len] <= '9') || (buf[len] >= 'a' && buf[len] <= 'f') ||
	        (buf[len] >= 'A' && buf[len] <= 'F')))
		len++;
	/* At least 128 bits; nothing but a trailing newline after it. */
	if (len < 32 || len > VMS_API_TOKEN_LEN || (len < (size_t)n && buf[len] != '\n')) {
		snprintf(
		    errbuf, errlen,
		    "token file %s does not hold a token of 32 to %d hex digits; delete it to get a new one",
		    path, VMS_API_TOKEN_LEN);
		return VMS_ERR_INVALID;
	}
	memcpy(out, buf, len);
	out[len] = '\0';
	return VMS_OK;
}

int vms_api_token_load(const char *path, char out[VMS_API_TOKEN_LEN + 1], char *errbuf, size_t errlen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			int err = read_token(fd, path, 0, out, errbuf, errlen);
			close(fd);
			return err;
		}
		if (errno != ENOENT) {
			snprintf(errbuf, errlen, "cannot open token file %s: %s", path, strerror(errno));
			return VMS_ERR_IO;
		}
		int err = create_token(path, out, errbuf, errlen);
		if (err != VMS_ERR_AMBIGUOUS)
			return err;
	}
	return VMS_ERR_IO;
}

int vms_api_token_read(const char *path, int any_owner, char out[VMS_API_TOKEN_LEN + 1], char *errbuf,
                       size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot open token file %s: %s", path, strerror(errno));
		return errno == ENOENT ? VMS_ERR_NOT_FOUND : VMS_ERR_IO;
	}
	int err = read_token(fd, path, any_owner, out, errbuf, errlen);
	close(fd);
	return err;
}
