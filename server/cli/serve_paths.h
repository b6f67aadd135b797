/* Where `vmscope serve` and `vmscope token` keep their files (serve_paths.c). */
#ifndef VMSCOPE_CLI_SERVE_PATHS_H
#define VMSCOPE_CLI_SERVE_PATHS_H

#include <stddef.h>

/* The default database: $XDG_DATA_HOME/vmscope/vmscope.db, else ~/.local/share/vmscope/vmscope.db.
 * With create_dir, missing directories are created with mode 0700. Returns 0, or -1 with a
 * sentence in errbuf. */
int vms_default_db_path(char *buf, size_t size, int create_dir, char *errbuf, size_t errlen);
/* db when it is not NULL, else the default database (directories created): the path to use,
 * or NULL with a sentence in errbuf. buf holds the default. */
const char *vms_db_path_or_default(const char *db, char *buf, size_t size, char *errbuf, size_t errlen);
/* The API token file beside the database: DB + ".token". Returns 0, -1 when too long. */
int vms_token_path(const char *db, char *buf, size_t size);
/* Load (or create) the API token kept beside the database db into token. Returns 0, or -1 with
 * a sentence in errbuf. */
int vms_load_token_beside(const char *db, char *token, char *errbuf, size_t errlen);
/* The dashboard directory when --web is not given, the first with an index.html of:
 * ../share/vmscope/web relative to the binary (an installed vmscope: /usr/bin -> /usr/share),
 * VMSCOPE_WEB_DIR (compile time: the source tree's web/ for `make run`), ../web and web/ beside
 * the binary. NULL when none. */
const char *vms_default_web_dir(char *buf, size_t size);

#endif
