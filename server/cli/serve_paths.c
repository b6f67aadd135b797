/* Default locations of the daemon's database, token and dashboard files. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve_paths.h"
#include "vmscope/error.h"
#include "vmscope/http.h"

/* mkdir -p with mode 0700 for every directory we create (XDG base directories are 0700). */
static int mkdirs(char *path, char *errbuf, size_t errlen)
{
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(path, 0700) != 0 && errno != EEXIST) {
				snprintf(errbuf, errlen, "cannot create directory %s: %s", path,
				         strerror(errno));
				*p = c;
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int vms_default_db_path(char *buf, size_t size, int create_dir, char *errbuf, size_t errlen)
{
	char dir[PATH_MAX];
	const char *xdg = getenv("XDG_DATA_HOME");
	int n;
	if (xdg && xdg[0] == '/') { /* the spec: relative values are invalid and ignored */
		n = snprintf(dir, sizeof dir, "%s/vmscope", xdg);
	} else {
		const char *home = getenv("HOME");
		if (!home || !*home) {
			struct passwd *pw = getpwuid(geteuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home) {
			snprintf(errbuf, errlen, "no HOME: pass --db PATH");
			return -1;
		}
		n = snprintf(dir, sizeof dir, "%s/.local/share/vmscope", home);
	}
	if (n < 0 || (size_t)n >= sizeof dir || (size_t)n + sizeof "/vmscope.db" > size) {
		snprintf(errbuf, errlen, "the default database path is too long: pass --db PATH");
		return -1;
	}
	if (create_dir) {
		if (mkdirs(dir, errbuf, errlen) != 0)
			return -1;
		/* Our own directory is ours alone, even if it existed with a wider mode. */
		struct stat sb;
		if (stat(dir, &sb) == 0 && sb.st_uid == geteuid() && (sb.st_mode & 077))
			(void)chmod(dir, 0700);
	}
	snprintf(buf, size, "%s/vmscope.db", dir);
	return 0;
}

int vms_token_path(const char *db, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s.token", db);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

const char *vms_db_path_or_default(const char *db, char *buf, size_t size, char *errbuf, size_t errlen)
{
	if (db)
		return db;
	return vms_default_db_path(buf, size, 1, errbuf, errlen) == 0 ? buf : NULL;
}

int vms_load_token_beside(const char *db, char *token, char *errbuf, size_t errlen)
{
	char path[PATH_MAX + 8];
	if (vms_token_path(db, path, sizeof path) != 0) {
		snprintf(errbuf, errlen, "database path too long");
		return -1;
	}
	if (vms_api_token_load(path, token, errbuf, errlen) != VMS_OK) {
		if (!*errbuf)
			snprintf(errbuf, errlen, "cannot load the API token from %s", path);
		return -1;
	}
	return 0;
}

static int has_index(const char *dir)
{
	char p[PATH_MAX + 64];
	struct stat sb;
	snprintf(p, sizeof p, "%s/index.html", dir);
	return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* dir_of_exe + rel into buf when it holds an index.html (resolved). */
static const char *beside_exe(const char *rel, char *buf, size_t size)
{
	char exe[PATH_MAX], cand[PATH_MAX + 32], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	snprintf(cand, sizeof cand, "%s%s", exe, rel);
	if (!has_index(cand) || !realpath(cand, real))
		return NULL;
	snprintf(buf, size, "%s", real);
	return buf;
}

/* An installed binary (PREFIX/bin/vmscope, the .deb's /usr/bin) serves its own PREFIX/share first,
 * even when the source tree it was built from is still on this machine; a build-tree binary has
 * no ../share and serves the source tree's web/ compiled in by CMake. */
const char *vms_default_web_dir(char *buf, size_t size)
{
	if (beside_exe("/../share/vmscope/web", buf, size))
		return buf;
#ifdef VMSCOPE_WEB_DIR
	if (has_index(VMSCOPE_WEB_DIR)) {
		snprintf(buf, size, "%s", VMSCOPE_WEB_DIR);
		return buf;
	}
#endif
	if (beside_exe("/../web", buf, size) || beside_exe("/web", buf, size))
		return buf;
	return NULL;
}
