/* vmscope token: print the API token of a daemon that has run with this database, for curl:
 * curl -H "Authorization: Bearer $(vmscope token)" http://127.0.0.1:8080/api/v1/processes
 * It only reads: a mistyped --db must fail, not create a token nobody uses. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "serve_paths.h"
#include "vmscope/error.h"
#include "vmscope/http.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vmscope token [--db PATH]\n\n"
	           "Print the API token of the daemon that uses database PATH (default: the default\n"
	           "database of vmscope serve). Send it as \"Authorization: Bearer TOKEN\", or open\n"
	           "http://127.0.0.1:PORT/#token=TOKEN in a browser. vmscope serve creates the token\n"
	           "(PATH.token) when it first starts; before that there is none and this fails.\n");
}

static int token_option(int c, void *cookie)
{
	*(const char **)cookie = optarg; /* 'd': the only option besides --help */
	(void)c;
	return -1;
}

int vms_cmd_token(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char dbbuf[PATH_MAX], token[VMS_API_TOKEN_LEN + 1], errbuf[512] = "";
	const char *db = NULL;
	int rc = vms_cli_options(argc, argv, longopts, token_option, &db, usage);
	if (rc != -1)
		return rc;
	if (!(db = vms_db_path_or_default(db, dbbuf, sizeof dbbuf, errbuf, sizeof errbuf))) {
		fprintf(stderr, "vmscope token: %s\n", errbuf);
		return VMS_EXIT_ERROR;
	}
	char tpath[PATH_MAX + 8];
	if (vms_token_path(db, tpath, sizeof tpath) != 0) {
		fprintf(stderr, "vmscope token: database path too long\n");
		return VMS_EXIT_ERROR;
	}
	/* root may print the token of a service's daemon, which runs as its own (dynamic) user */
	int err = vms_api_token_read(tpath, geteuid() == 0, token, errbuf, sizeof errbuf);
	if (err == VMS_ERR_NOT_FOUND) {
		fprintf(
		    stderr,
		    "vmscope token: no token for %s: %s does not exist (vmscope serve --db %s creates it)\n",
		    db, tpath, db);
		return VMS_EXIT_ERROR;
	}
	if (err) {
		fprintf(stderr, "vmscope token: %s\n", errbuf);
		return VMS_EXIT_ERROR;
	}
	printf("%s\n", token);
	return VMS_EXIT_OK;
}
