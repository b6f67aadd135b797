/* Serving on a listening socket someone else opened (systemd socket activation, vmscope.socket).
 *
 * civetweb 1.15 has no option to take a listening descriptor: it binds what "listening_ports"
 * says. Its accept loop (master_thread_run) re-reads each listener's descriptor number before
 * every poll() (at most SOCKET_TIMEOUT_QUANTUM = 2 s long) and accepts from that number; the
 * local address of a connection comes from getsockname() on the accepted socket. So civetweb is
 * started on an ephemeral port of 127.0.0.1, and that listener's descriptor is replaced
 * (dup2) by the inherited socket: the number stays, the socket behind it is systemd's.
 * Connections that came before wait in the inherited socket's backlog; none is lost. The TLS flag stays with
 * the listener entry, so
 * --tls on an inherited port works as on a bound one. Checked against civetweb v1.15 src/civetweb.c
 * (master_thread_run, accept_new_connection: a failed accept is ignored). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_internal.h"
#include "vmscope/error.h"

/* The port of listening TCP socket fd, or -1 when fd is not one. */
static int listening_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int on = 0;
	socklen_t olen = sizeof on;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &olen) != 0 || !on)
		return -1;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sin_family != AF_INET)
		return -1;
	return ntohs(sa.sin_port);
}

/* Our own descriptor listening on 127.0.0.1:port other than skip (civetweb's listener), or -1. */
static int find_listener(int port, int skip)
{
	DIR *d = opendir("/proc/self/fd");
	int found = -1;
	if (!d)
		return -1;
	for (struct dirent *e; found < 0 && (e = readdir(d)) != NULL;) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		struct stat sb;
		if (*end || end == e->d_name || fd == dirfd(d) || fd == skip || fstat((int)fd, &sb) != 0 ||
		    !S_ISSOCK(sb.st_mode))
			continue;
		if (listening_port((int)fd) == port)
			found = (int)fd;
	}
	closedir(d);
	return found;
}

int vms_http_adopt_listener(struct vms_http *h, int fd, int civetweb_port, char *errbuf, size_t errlen)
{
	int port = listening_port(fd);
	if (port < 0) {
		snprintf(errbuf, errlen, "descriptor %d is not a listening IPv4 TCP socket", fd);
		return VMS_ERR_INVALID;
	}
	int civ = find_listener(civetweb_port, fd);
	if (civ < 0) {
		snprintf(errbuf, errlen, "cannot find civetweb's listening socket (port %d)", civetweb_port);
		return VMS_ERR_IO;
	}
	/* Non-blocking, as a woken accept loop must never wait in accept() (mg_stop would wait for
	 * it); civetweb ignores a failed accept. This runs in civetweb's init_context callback
	 * (server.c), before its accept loop first polls, so every poll watches the inherited
	 * socket. Shutting civetweb's own listener down before its number is taken is only a
	 * safeguard should a poll already sleep on it: a listener shut down polls readable, so that
	 * poll returns at once instead of sleeping on for its 2 s quantum. */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || shutdown(civ, SHUT_RDWR) != 0 ||
	    dup2(fd, civ) < 0 || fcntl(civ, F_SETFD, FD_CLOEXEC) != 0) {
		snprintf(errbuf, errlen, "cannot take over descriptor %d: %s", fd, strerror(errno));
		return VMS_ERR_IO;
	}
	close(fd);
	__atomic_store_n(&h->port, port, __ATOMIC_RELEASE);
	return VMS_OK;
}
