/* Writing responses: the security headers every answer carries, JSON bodies and the one error
 * shape {"error":{"code":"...","message":"..."}}. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_internal.h"
#include "vmscope/error.h"
#include "vmscope/json.h"

/* A request body we have not read must not be parsed as the next request: close instead. */
static void close_if_unread_body(struct mg_connection *conn, int body_read)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	if (body_read)
		return;
	if (ri->content_length > 0 || (ri->content_length < 0 && mg_get_header(conn, "Transfer-Encoding")))
		mg_disable_connection_keep_alive(conn);
}

/* civetweb 1.15 writes the request's own version into the status line ("HTTP/%s"). After a
 * malformed request line that "version" is the rest of the request, headers included, so a
 * client could make us echo anything: answer such requests as HTTP/1.1 and close. */
static void sane_http_version(struct mg_connection *conn)
{
	/* request_info lives in the (non-const) connection; only civetweb's accessor is const. */
	struct mg_request_info *ri = (struct mg_request_info *)mg_get_request_info(conn);
	if (ri->http_version && (!strcmp(ri->http_version, "1.0") || !strcmp(ri->http_version, "1.1")))
		return;
	ri->http_version = "1.1";
	mg_disable_connection_keep_alive(conn);
}

static int start(struct mg_connection *conn, int status, const char *content_type, int64_t len,
                 const struct vms_header *extra)
{
	char lenbuf[24];
	sane_http_version(conn);
	if (mg_response_header_start(conn, status) != 0)
		return -1;
	if (content_type)
		mg_response_header_add(conn, "Content-Type", content_type, -1);
	if (len >= 0 && status != 204 && status != 304) {
		snprintf(lenbuf, sizeof lenbuf, "%" PRId64, len);
		mg_response_header_add(conn, "Content-Length", lenbuf, -1);
	}
	mg_response_header_add(conn, "Content-Security-Policy", VMS_CSP, -1);
	mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
	mg_response_header_add(conn, "Referrer-Policy", "no-referrer", -1);
	mg_response_header_add(conn, "X-Frame-Options", "DENY", -1);
	mg_response_header_add(conn, "Cache-Control", "no-store", -1);
	for (; extra && extra->name; extra++)
		mg_response_header_add(conn, extra->name, extra->value, -1);
	return mg_response_header_send(conn);
}

static int is_head(struct mg_connection *conn)
{
	const char *m = mg_get_request_info(conn)->request_method;
	return m && !strcmp(m, "HEAD");
}

int vms_send_headers(struct vms_req *r, int status, const char *content_type, uint64_t len,
                     const struct vms_header *extra)
{
	close_if_unread_body(r->conn, r->body_read);
	return start(r->conn, status, content_type, (int64_t)len, extra);
}

int vms_send(struct vms_req *r, int status, const char *content_type, const void *body, size_t len,
             const struct vms_header *extra)
{
	close_if_unread_body(r->conn, r->body_read);
	if (start(r->conn, status, content_type, (int64_t)len, extra) == 0 && len && !is_head(r->conn))
		mg_write(r->conn, body, len);
	return status;
}

int vms_send_json_x(struct vms_req *r, int status, cJSON *j, const struct vms_header *extra)
{
	char *text = j ? vms_json_print(j, 0) : NULL;
	cJSON_Delete(j);
	if (!text)
		return vms_send_vms_err(r, VMS_ERR_NOMEM, 0);
	vms_send(r, status, "application/json; charset=utf-8", text, strlen(text), extra);
	free(text);
	return status;
}

int vms_send_json(struct vms_req *r, int status, cJSON *j)
{
	return vms_send_json_x(r, status, j, NULL);
}

static char *error_body(const char *code, const char *message)
{
	cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");
	char *text = NULL;
	cJSON *m = vms_json_string_repaired(message); /* messages may quote input cut mid-character */
	if (e && m && cJSON_AddStringToObject(e, "code", code) && cJSON_AddItemToObject(e, "message", m)) {
		m = NULL;
		text = vms_json_print(root, 0);
	}
	cJSON_Delete(m);
	cJSON_Delete(root);
	return text;
}

static int error_response(struct mg_connection *conn, int status, const char *code, const char *message,
                          const struct vms_header *extra, int body_read)
{
	close_if_unread_body(conn, body_read);
	if (!code) { /* bodiless answer (204) */
		start(conn, status, NULL, 0, extra);
		return status;
	}
	struct vms_http *h = mg_get_user_data(mg_get_context(conn));
	if (h)
		vms_stats_error(&h->stats, code);
	char *text = error_body(code, message);
	static const char fallback[] =
	    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\"}}";
	const char *body = text ? text : fallback;
	size_t len = strlen(body);
	if (start(conn, status, "application/json; charset=utf-8", (int64_t)len, extra) == 0 &&
	    !is_head(conn))
		mg_write(conn, body, len);
	free(text);
	return status;
}

int vms_send_error_conn(struct mg_connection *conn, int status, const char *code, const char *message,
                        const struct vms_header *extra)
{
	return error_response(conn, status, code, message, extra, 0);
}

/* The one formatter behind vms_send_error and vms_send_error_x: the message is fmt with ap (cut
 * at 511 bytes), extra as for vms_send (or NULL). Returns the status. */
static __attribute__((format(printf, 5, 0))) int error_v(struct vms_req *r, int status, const char *code,
                                                         const struct vms_header *extra, const char *fmt,
                                                         va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	return error_response(r->conn, status, code, msg, extra, r->body_read);
}

int vms_send_error(struct vms_req *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int st = error_v(r, status, code, NULL, fmt, ap);
	va_end(ap);
	return st;
}

int vms_send_error_x(struct vms_req *r, int status, const char *code, const struct vms_header *extra,
                     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int st = error_v(r, status, code, extra, fmt, ap);
	va_end(ap);
	return st;
}

int vms_answer_store(struct vms_req *r, int err, const char *fmt, ...)
{
	if (err == VMS_OK)
		return 0;
	if (err != VMS_ERR_NOT_FOUND)
		return vms_send_vms_err(r, err, 0);
	va_list ap;
	va_start(ap, fmt);
	int st = error_v(r, 404, "not_found", NULL, fmt, ap);
	va_end(ap);
	return st;
}

int vms_send_vms_err(struct vms_req *r, int err, int pid)
{
	switch (err) {
	case VMS_ERR_NO_SUCH_PROCESS:
		return vms_send_error(r, 404, "no_such_process", "no process with pid %d", pid);
	case VMS_ERR_EXITED:
		return vms_send_error(r, 404, "no_such_process", "process %d exited during the scan", pid);
	case VMS_ERR_PERMISSION:
		return vms_send_error(
		    r, 403, "permission_denied",
		    "permission denied reading the memory map of process %d: vmscope runs as uid %u; "
		    "run it as the process's user or as root (or give it CAP_SYS_PTRACE)",
		    pid, (unsigned)geteuid());
	case VMS_ERR_NO_ADDRESS_SPACE:
		return vms_send_error(r, 422, "no_address_space",
		                      "process %d has no address space (kernel thread or zombie)", pid);
	case VMS_ERR_NOT_FOUND:
		return vms_send_error(r, 404, "not_found", "no such snapshot");
	case VMS_ERR_FULL:
		if (vms_store_disk_full(r->h->store)) {
			char dir[512];
			vms_db_dir(r->h, dir, sizeof dir);
			if (!__atomic_exchange_n(&r->h->disk_full_logged, 1, __ATOMIC_RELAXED))
				vms_log(
				    r->h, VMS_LOG_ERROR,
				    "the disk holding %s is full: snapshots cannot be stored until there is "
				    "space (deleting snapshots makes room inside the database)",
				    dir);
			return vms_send_error(r, 507, "disk_full",
			                      "the disk holding %s is full; free space there (deleting "
			                      "snapshots makes room inside the database)",
			                      dir);
		}
		return vms_send_error(r, 507, "store_full", "%s; delete snapshots to make room",
		                      vms_strerror(err));
	case VMS_ERR_INVALID:
		return vms_send_error(r, 400, "invalid_input", "%s", vms_strerror(err));
	case VMS_ERR_UNSUPPORTED:
		return vms_send_error(r, 400, "unsupported_version", "%s", vms_strerror(err));
	case VMS_ERR_NOMEM:
		return vms_send_error(r, 503, "out_of_memory", "out of memory");
	default:
		return vms_send_error(r, 500, vms_err_code(err), "%s", vms_strerror(err));
	}
}

void vms_db_dir(const struct vms_http *h, char *buf, size_t size)
{
	const char *p = vms_store_path(h->store), *slash = strrchr(p, '/');
	if (!slash)
		snprintf(buf, size, ".");
	else if (slash == p)
		snprintf(buf, size, "/");
	else
		snprintf(buf, size, "%.*s", (int)(slash - p), p);
}
