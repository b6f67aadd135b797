/* vmscope snapshot --upload (upload.c). */
#ifndef VMSCOPE_CLI_UPLOAD_H
#define VMSCOPE_CLI_UPLOAD_H

#include <stddef.h>

struct vms_upload_opts {
	const char *url;         /* "https://HOST:PORT" */
	const char *token_file;  /* the other daemon's API token, or NULL (a --no-auth daemon) */
	const char *ca_file;     /* trust: a CA bundle, */
	const char *fingerprint; /* or a pinned SHA-256 fingerprint as typed; neither: system CAs */
	const char *lifetime;    /* the link's lifetime ("7d", "never"); NULL: 7d */
};

/* POST the snapshot JSON to o->url's import route with ?share=1 and print the share link on
 * stdout. Returns an exit code (enum vms_exit) after saying what went wrong on stderr. */
int vms_upload(const char *json, size_t len, const struct vms_upload_opts *o);

#endif
