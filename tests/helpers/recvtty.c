/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The other end of an OCI runtime's --console-socket, for the tests (what
 * conmon and the containerd shim do): listen on SOCKET, take one
 * connection, receive the pty master passed with SCM_RIGHTS, and copy
 * what the container writes to it into OUT until the first newline or the
 * end (30 s at most).  Static: the VM tests have no libraries.
 *
 *   recvtty SOCKET OUT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char data[256], out[4096];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	size_t len = 0;
	int s, conn, pty = -1, fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: recvtty SOCKET OUT\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0) {
		perror("recvtty: socket");
		return 1;
	}
	if (poll(&(struct pollfd){ .fd = s, .events = POLLIN }, 1, 30000) != 1 ||
	    (conn = accept4(s, NULL, NULL, SOCK_CLOEXEC)) < 0) {
		fprintf(stderr, "recvtty: no connection\n");
		return 1;
	}
	if (recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) < 0) {
		perror("recvtty: recvmsg");
		return 1;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&pty, CMSG_DATA(c), sizeof(int));
	if (pty < 0) {
		fprintf(stderr, "recvtty: no fd came\n");
		return 1;
	}
	while (len < sizeof(out) && !memchr(out, '\n', len)) {
		ssize_t n;

		if (poll(&(struct pollfd){ .fd = pty, .events = POLLIN }, 1, 30000) != 1)
			break;
		n = read(pty, out + len, sizeof(out) - len);
		if (n <= 0)
			break; /* EIO: the other side closed */
		len += (size_t)n;
	}
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, out, len) != (ssize_t)len) {
		perror("recvtty: OUT");
		return 1;
	}
	close(fd);
	return 0;
}
