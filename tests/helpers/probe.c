/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A static helper the tests bind into boxes: it tries one system call and
 * prints "ok" or the errno name, so a test can tell EPERM (seccomp) from
 * ENOSYS or success.   probe SYSCALL */
#include <errno.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

static int report(long r)
{
	if (r < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	printf("ok\n");
	return 0;
}

/* probe serve tcp|udp PORT TEXT: answer every connection or datagram
 * with TEXT and the peer's address ("TEXT from 10.88.0.1"), forever. */
static int serve(const char *proto, int port, const char *text)
{
	bool udp = strcmp(proto, "udp") == 0;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0), one = 1;
	char buf[256], out[300];

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (!udp && listen(fd, 64) < 0)) {
		perror("serve");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);

		if (udp) {
			ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);

			if (n < 0)
				continue;
			snprintf(out, sizeof(out), "%s from %s\n", text, inet_ntoa(peer.sin_addr));
			sendto(fd, out, strlen(out), 0, (struct sockaddr *)&peer, len);
		} else {
			int c = accept(fd, (struct sockaddr *)&peer, &len);

			if (c < 0)
				continue;
			snprintf(out, sizeof(out), "%s from %s\n", text, inet_ntoa(peer.sin_addr));
			if (write(c, out, strlen(out)) < 0)
				perror("write");
			close(c);
		}
	}
}

/* probe get tcp|udp IP PORT: print what the server answers (5 s at most,
 * udp: asking again each second). */
static int get(const char *proto, const char *ip, int port)
{
	bool udp = strcmp(proto, "udp") == 0;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	char buf[512];
	ssize_t n = -1;

	inet_pton(AF_INET, ip, &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("connect: %s\n", strerrorname_np(errno));
		return 1;
	}
	for (int i = 0; i < 5 && n < 0; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (udp && send(fd, "?", 1, 0) < 0) {
			printf("send: %s\n", strerrorname_np(errno));
			return 1;
		}
		if (poll(&p, 1, 1000) == 1)
			n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0 && errno && errno != EAGAIN && p.revents) {
			printf("read: %s\n", strerrorname_np(errno));
			return 1;
		}
	}
	if (n < 0) {
		printf("timeout\n");
		return 1;
	}
	buf[n] = '\0';
	printf("%s", buf);
	return 0;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (strcmp(what, "serve") == 0 && argc == 5)
		return serve(argv[2], atoi(argv[3]), argv[4]);
	if (strcmp(what, "get") == 0 && argc == 5)
		return get(argv[2], argv[3], atoi(argv[4]));

	if (strcmp(what, "keyctl") == 0)
		return report(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	if (strcmp(what, "unshare") == 0)
		return report(syscall(SYS_unshare, CLONE_NEWUTS));
	if (strcmp(what, "mount") == 0)
		return report(syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
	if (strcmp(what, "clone3") == 0)
		return report(syscall(SYS_clone3, NULL, 0));
	if (strcmp(what, "getpid") == 0)
		return report(syscall(SYS_getpid));
	if (strcmp(what, "vsock") == 0)
		return report(socket(40 /* AF_VSOCK */, SOCK_STREAM, 0));
	if (strcmp(what, "personality") == 0)
		return report(personality(0x0008 /* allowed? no: READ_IMPLIES_EXEC */ | 0x0400000));
#if defined(__x86_64__)
	/* the i386 entry point (int 0x80) from a 64-bit process: the filter
	 * must cover the compat architecture too */
	if (strcmp(what, "keyctl32") == 0 || strcmp(what, "getpid32") == 0) {
		long nr = what[0] == 'k' ? 288 /* i386 keyctl */ : 20 /* i386 getpid */, ret;

		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(0), "c"(0), "d"(0) : "memory");
		if (ret < 0 && ret > -4096) {
			errno = (int)-ret;
			ret = -1;
		}
		return report(ret);
	}
#endif
	if (strcmp(what, "hog") == 0) {
		/* touch memory until the OOM killer ends us */
		for (size_t total = 0;; total += 1 << 20) {
			char *p = malloc(1 << 20);

			if (!p) {
				printf("malloc failed after %zu MiB\n", total >> 20);
				return 1;
			}
			memset(p, 0x5a, 1 << 20);
		}
	}
	if (strcmp(what, "spin") == 0) {
		/* burn cpu for argv[2] seconds of wall time */
		struct timespec t0, t;
		double secs = argc > 2 ? atof(argv[2]) : 1;
		volatile unsigned long n = 0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			for (int i = 0; i < 100000; i++)
				n++;
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
		printf("ok\n");
		return 0;
	}
	if (strcmp(what, "cpu") == 0) {
		/* burn argv[2] seconds of cpu time (however long that takes on
		 * a loaded machine) */
		struct timespec t;
		double secs = argc > 2 ? atof(argv[2]) : 1;
		volatile unsigned long n = 0;

		do {
			for (int i = 0; i < 100000; i++)
				n++;
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
		} while ((double)t.tv_sec + t.tv_nsec / 1e9 < secs);
		printf("ok\n");
		return 0;
	}
	if (strcmp(what, "mkdir") == 0)
		return report(syscall(SYS_mkdir, "/tmp/probe-dir", 0755));
	fprintf(stderr, "probe: unknown call %s\n", what);
	return 2;
}
