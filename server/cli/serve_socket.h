/* systemd socket activation for `vmscope serve` (serve_socket.c). */
#ifndef VMSCOPE_CLI_SERVE_SOCKET_H
#define VMSCOPE_CLI_SERVE_SOCKET_H

#include <stddef.h>

/* The socket systemd passed us (sd_listen_fds(3): LISTEN_PID is our pid, LISTEN_FDS the count,
 * the first at descriptor 3), checked to be exactly one listening IPv4 TCP socket. Returns 0
 * when there is none for us (the variables absent, or for another pid); 1 with *fd = 3 and its
 * "ADDR:PORT" in listen; -1 with a sentence in errbuf. The LISTEN_* variables are removed
 * either way (so no child inherits them) and the descriptor gets FD_CLOEXEC. */
int vms_serve_inherited_socket(int *fd, char *listen, size_t listen_len, char *errbuf, size_t errlen);

#endif
