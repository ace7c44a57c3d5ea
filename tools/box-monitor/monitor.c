/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* box-monitor: what stays of `boxctl run -d` once the box runs (conmon's
 * job).  It is the box's parent: it holds the box's stdout and stderr,
 * writes them to the box's log with timestamps and stream tags (CRI's
 * format: "TIME STREAM F|P TEXT"), rotates the log, waits for the box,
 * records its exit next to its state, and removes it on --rm, or starts
 * it again (`boxctl start`, which becomes the next monitor) as its
 * --restart policy says.
 *
 * It also serves DIR/attach, a SOCK_SEQPACKET socket for `boxctl attach`:
 * what the box prints goes to every client as it comes; a client sends
 * 'i' + bytes for the box's input (--in: the pty master with -t, a pipe
 * with -i), 'w' + struct winsize for the terminal's size (--tty), 'c' to
 * close a piped input.
 *
 * Small on purpose (a static binary with libc only, no libbox): it lives
 * as long as the box.
 *
 *   box-monitor --pid PID --dir STATE/boxes/ID --out FD --err FD
 *               [--in FD [--tty]]
 *               [--log-max BYTES] [--oom FILE] [--boxctl PATH STATEDIR ID
 *               [--rm | --restart no|always|unless-stopped|on-failure[:N]
 *                [--restarts DONE]]] */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF 16384

struct stream {
	const char *name;
	int fd;
	char buf[BUF];
	size_t len;
};

#define CLIENTS 8

static const char *dir;
static int logfd = -1;
static int clients[CLIENTS] = { -1, -1, -1, -1, -1, -1, -1, -1 };
static off_t logsize, logmax = 10 << 20;

static void now(char out[40])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out + strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm), 21, ".%09ldZ", ts.tv_nsec);
}

static void open_log(void)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/log", dir);
	logfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	logsize = logfd >= 0 && fstat(logfd, &st) == 0 ? st.st_size : 0;
}

/* The log is bounded: past logmax it becomes log.1 (the one before goes). */
static void rotate(void)
{
	char from[4096], to[4096];

	snprintf(from, sizeof(from), "%s/log", dir);
	snprintf(to, sizeof(to), "%s/log.1", dir);
	close(logfd);
	rename(from, to);
	open_log();
}

/* One record; the text has no newline.  full: the line ended. */
static void record(const char *stream, const char *text, size_t len, int full)
{
	char head[96], t[40];
	int n;

	if (logfd < 0)
		return;
	now(t);
	n = snprintf(head, sizeof(head), "%s %s %c ", t, stream, full ? 'F' : 'P');
	/* one write per record, so that a reader never sees half of one */
	{
		char *line = malloc((size_t)n + len + 1);

		if (!line)
			return;
		memcpy(line, head, (size_t)n);
		memcpy(line + n, text, len);
		line[(size_t)n + len] = '\n';
		if (write(logfd, line, (size_t)n + len + 1) > 0)
			logsize += (off_t)((size_t)n + len + 1);
		free(line);
	}
	if (logsize > logmax)
		rotate();
}

/* What the box printed, to every attached client as it comes; one that
 * cannot keep up is let go rather than stall the box. */
static void broadcast(const char *data, size_t len)
{
	for (int i = 0; i < CLIENTS; i++) {
		if (clients[i] < 0)
			continue;
		if (send(clients[i], data, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
			close(clients[i]);
			clients[i] = -1;
		}
	}
}

/* Read what is there; log every complete line, and a full buffer as a
 * partial one.  Returns 0 at end of stream. */
static int drain(struct stream *s)
{
	ssize_t n = read(s->fd, s->buf + s->len, BUF - s->len);
	char *nl, *p;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n > 0)
		broadcast(s->buf + s->len, (size_t)n);
	if (n == 0) {
		if (s->len)
			record(s->name, s->buf, s->len, 0);
		s->len = 0;
		return 0;
	}
	s->len += (size_t)n;
	p = s->buf;
	while ((nl = memchr(p, '\n', s->len - (size_t)(p - s->buf)))) {
		record(s->name, p, (size_t)(nl - p), 1);
		p = nl + 1;
	}
	s->len -= (size_t)(p - s->buf);
	memmove(s->buf, p, s->len);
	if (s->len == BUF) {
		record(s->name, s->buf, s->len, 0);
		s->len = 0;
	}
	return 1;
}

static unsigned long long oom_kills(const char *file)
{
	char buf[2048], *p;
	unsigned long long n = 0;
	ssize_t len;
	int fd;

	if (!file || (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	p = strstr(buf, "oom_kill ");
	if (p && (p == buf || p[-1] == '\n'))
		n = strtoull(p + 9, NULL, 10);
	return n;
}

/* DIR/exit: "CODE SIGNAL OOM FINISHED", written atomically. */
static void record_exit(int code, int sig, int oom)
{
	char tmp[4096], path[4096], line[128], t[40];
	int fd, n;

	now(t);
	n = snprintf(line, sizeof(line), "%d %d %d %s\n", code, sig, oom, t);
	snprintf(tmp, sizeof(tmp), "%s/exit.tmp", dir);
	snprintf(path, sizeof(path), "%s/exit", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) == n && fsync(fd) == 0 && close(fd) == 0) {
		rename(tmp, path);
		return;
	}
	close(fd); /* (after a failed close, EBADF: harmless) */
	unlink(tmp);
}

/* DIR/attach.  Bound through /proc/self/fd: the path may be longer than a
 * socket address holds. */
static int listen_attach(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (dfd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/attach", dfd);
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, CLIENTS) < 0)) {
		close(fd);
		fd = -1;
	}
	close(dfd);
	return fd;
}

static void unlink_attach(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/attach", dir);
	unlink(path);
}

/* One message of client i: input, a window size, or the input's end.
 * The client is let go at its end (or on a message we cannot use). */
static void from_client(int i, int *in, int tty)
{
	char msg[BUF + 1];
	ssize_t n = recv(clients[i], msg, sizeof(msg), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(clients[i]);
		clients[i] = -1;
		return;
	}
	if (msg[0] == 'i' && *in >= 0) {
		for (ssize_t off = 1; off < n;) {
			ssize_t w = write(*in, msg + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += w;
		}
	} else if (msg[0] == 'w' && tty && *in >= 0 && n == 1 + (ssize_t)sizeof(struct winsize)) {
		struct winsize ws;

		memcpy(&ws, msg + 1, sizeof(ws));
		ioctl(*in, TIOCSWINSZ, &ws);
	} else if (msg[0] == 'c' && !tty && *in >= 0) {
		close(*in); /* the box reads the end of its input */
		*in = -1;
	}
}

/* What the --restart policy says of an exit (docker's rules): 1 start the
 * box again, 0 not.  A box a user stopped (DIR/stopped, written by boxctl
 * stop and kill) stays stopped. */
static int wants_restart(const char *policy, int restarts, int code, int sig)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/stopped", dir);
	if (!policy || access(path, F_OK) == 0)
		return 0;
	if (strcmp(policy, "always") == 0 || strcmp(policy, "unless-stopped") == 0)
		return 1;
	if (strncmp(policy, "on-failure", 10) == 0 && (code != 0 || sig != 0)) {
		int max = policy[10] == ':' ? atoi(policy + 11) : 0;

		return max <= 0 || restarts < max;
	}
	return 0;
}

/* docker's back-off: 100 ms, doubling with each restart, at most a
 * minute; a box that ran 10 s or more starts the count again. */
static void back_off(int restarts, time_t ran)
{
	long long ms = 100;

	for (int i = 0; ran < 10 && i < restarts && ms < 60000; i++)
		ms *= 2;
	if (ms > 60000)
		ms = 60000;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	struct stream *s = calloc(2, sizeof(*s));
	const char *oom = NULL, *boxctl[3] = { NULL, NULL, NULL }, *restart = NULL;
	pid_t pid = -1;
	int pidfd, open_streams = 0, r, remove = 0, restarts = 0, in = -1, tty = 0, lfd;
	time_t started = time(NULL);
	siginfo_t si = { 0 };

	if (!s)
		return 1;
	s[0] = (struct stream){ .name = "stdout", .fd = -1 };
	s[1] = (struct stream){ .name = "stderr", .fd = -1 };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc)
			pid = atoi(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			s[0].fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--err") == 0 && i + 1 < argc)
			s[1].fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--in") == 0 && i + 1 < argc)
			in = atoi(argv[++i]);
		else if (strcmp(argv[i], "--tty") == 0)
			tty = 1;
		else if (strcmp(argv[i], "--log-max") == 0 && i + 1 < argc)
			logmax = atoll(argv[++i]);
		else if (strcmp(argv[i], "--oom") == 0 && i + 1 < argc)
			oom = argv[++i];
		else if (strcmp(argv[i], "--boxctl") == 0 && i + 3 < argc) {
			boxctl[0] = argv[++i];
			boxctl[1] = argv[++i];
			boxctl[2] = argv[++i];
		} else if (strcmp(argv[i], "--rm") == 0)
			remove = 1;
		else if (strcmp(argv[i], "--restart") == 0 && i + 1 < argc)
			restart = argv[++i];
		else if (strcmp(argv[i], "--restarts") == 0 && i + 1 < argc)
			restarts = atoi(argv[++i]);
		else {
			fprintf(stderr, "box-monitor: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (pid <= 0 || !dir || s[0].fd < 0) {
		fprintf(stderr, "box-monitor: --pid, --dir and --out are needed\n");
		return 2;
	}
	open_streams = s[1].fd >= 0 ? 2 : 1;
	if ((remove || restart) && !boxctl[0]) {
		fprintf(stderr, "box-monitor: --rm and --restart need --boxctl\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	open_log();
	lfd = listen_attach();
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		struct pollfd p[4 + CLIENTS];
		int n = 0, first_client;

		for (int i = 0; i < 2; i++)
			if (s[i].fd >= 0)
				p[n++] = (struct pollfd){ .fd = s[i].fd, .events = POLLIN };
		if (pidfd >= 0)
			p[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		if (n == 0)
			break;
		p[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		first_client = n;
		for (int i = 0; i < CLIENTS; i++)
			p[n++] = (struct pollfd){ .fd = clients[i], .events = POLLIN };
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < CLIENTS; i++)
			if (p[first_client + i].revents && clients[i] >= 0)
				from_client(i, &in, tty);
		if (p[first_client - 1].revents) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			for (int i = 0; c >= 0 && i < CLIENTS; i++)
				if (clients[i] < 0) {
					clients[i] = c;
					c = -1;
				}
			if (c >= 0)
				close(c); /* no room: the client sees its end */
		}
		for (int i = 0, k = 0; i < 2; i++) {
			if (s[i].fd < 0)
				continue;
			if (p[k].revents && !drain(&s[i])) {
				close(s[i].fd);
				s[i].fd = -1;
				open_streams--;
			}
			k++;
		}
		/* the box is gone: what is left in the pipes, then the end */
		if (pidfd >= 0 && p[first_client - 2].revents)
			break;
		if (!open_streams && pidfd < 0)
			break;
	}
	/* the box's first process gone, its namespace's other processes go
	 * too and the pipes end; take what they still hold */
	for (int i = 0; i < 2; i++) {
		if (s[i].fd < 0)
			continue;
		fcntl(s[i].fd, F_SETFL, O_NONBLOCK);
		while (drain(&s[i]) && s[i].len < BUF) {
			struct pollfd q = { .fd = s[i].fd, .events = POLLIN };

			if (poll(&q, 1, 200) <= 0)
				break;
		}
	}
	/* a last line without its newline (a process that keeps the pipe
	 * open, outside a pid namespace) is still the box's */
	for (int i = 0; i < 2; i++)
		if (s[i].len)
			record(s[i].name, s[i].buf, s[i].len, 0);
	/* no status, nothing recorded: the box ends as "unknown", not as a
	 * made-up exit */
	while ((r = waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL)) < 0 && errno == EINTR)
		;
	if (r == 0)
		record_exit(si.si_code == CLD_EXITED ? si.si_status : -1,
			    si.si_code == CLD_EXITED ? 0 : si.si_status, oom_kills(oom) > 0);
	if (logfd >= 0)
		close(logfd);
	/* attached clients see their end once the exit is on record */
	if (lfd >= 0) {
		unlink_attach();
		close(lfd);
	}
	for (int i = 0; i < CLIENTS; i++)
		if (clients[i] >= 0)
			close(clients[i]);
	if (remove) {
		pid_t c = fork();

		if (c == 0) {
			execl(boxctl[0], boxctl[0], "--root", boxctl[1], "rm", "-f", boxctl[2],
			      (char *)NULL);
			_exit(127);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
	} else if (r == 0 && wants_restart(restart, restarts,
					   si.si_code == CLD_EXITED ? si.si_status : 0,
					   si.si_code == CLD_EXITED ? 0 : si.si_status)) {
		back_off(restarts, time(NULL) - started);
		/* a stop during the back-off wins */
		if (wants_restart(restart, restarts, 1, 0)) {
			/* boxctl start makes the box again under its id and name,
			 * and its child becomes the next monitor */
			execl(boxctl[0], boxctl[0], "--root", boxctl[1], "start", "--restarted",
			      boxctl[2], (char *)NULL);
		}
	}
	return 0;
}
