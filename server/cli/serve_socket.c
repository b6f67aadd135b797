/* systemd socket activation (see serve_socket.h): what sd_listen_fds(3) does, without libsystemd. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "serve_socket.h"

#define LISTEN_FDS_START 3 /* SD_LISTEN_FDS_START */

/* A decimal number filling s, or -1. */
static long whole_number(const char *s)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	return *end || errno || v < 0 ? -1 : v;
}

int vms_serve_inherited_socket(int *fd, char *listen, size_t listen_len, char *errbuf, size_t errlen)
{
	long pid = whole_number(getenv("LISTEN_PID"));
	long n = whole_number(getenv("LISTEN_FDS"));
	int have = getenv("LISTEN_FDS") != NULL;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (!have || pid != (long)getpid())
		return 0;
	if (n != 1) {
		snprintf(errbuf, errlen,
		         "systemd passed %s sockets (LISTEN_FDS): vmscope serves exactly one (one "
		         "ListenStream= in vmscope.socket)",
		         n < 0    ? "an unreadable number of"
		         : n == 0 ? "no"
		                  : "several");
		return -1;
	}
	int s = LISTEN_FDS_START, type = 0, on = 0;
	socklen_t tl = sizeof type, ol = sizeof on;
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	char addr[INET_ADDRSTRLEN];
	if (getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM ||
	    getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) != 0 || !on ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) != 0 || sa.sin_family != AF_INET ||
	    !inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof addr)) {
		snprintf(errbuf, errlen,
		         "the socket systemd passed (descriptor 3) is not a listening IPv4 TCP socket "
		         "(vmscope.socket wants ListenStream=ADDR:PORT with an IPv4 address)");
		return -1;
	}
	if (fcntl(s, F_SETFD, FD_CLOEXEC) != 0) {
		snprintf(errbuf, errlen, "descriptor 3: %s", strerror(errno));
		return -1;
	}
	snprintf(listen, listen_len, "%s:%u", addr, (unsigned)ntohs(sa.sin_port));
	*fd = s;
	return 1;
}
