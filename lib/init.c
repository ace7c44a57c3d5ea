/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in init (docker run --init, tini's job): pid 1 starts the
 * command, forwards every signal it gets to it, reaps orphans, and exits
 * when the command does, reporting the command's exact wait status to
 * the parent over the sync socket. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

/* The init is a copy of the program that embeds libbox: rename it, and
 * blank its command line (our own copy of the argument area, found from
 * /proc/self/stat fields 48 and 49), so that the box sees "box-init"
 * rather than the host's command with its paths and arguments. */
static void rename_self(void)
{
	static const char name[] = "box-init";
	char buf[1024], *p;
	unsigned long start = 0, end = 0;
	ssize_t n;
	int fd;

	prctl(PR_SET_NAME, name, 0, 0, 0);
	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* the space after ")" starts field 3; stop at the one before field 48 */
	for (int field = 2; p && field < 48; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return;
	start = strtoul(p + 1, &p, 10);
	end = strtoul(p, NULL, 10);
	if (start && end > start + sizeof(name)) {
		memset((void *)start, 0, end - start);
		memcpy((void *)start, name, sizeof(name));
	}
}

_Noreturn void box_init_main(const struct box_child_args *a, const char *path)
{
	sigset_t all, none;
	int status = 0, p[2], err = 0;
	pid_t child;

	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, NULL);
	rename_self();
	/* Box processes must not ptrace their init. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (pipe2(p, O_CLOEXEC) < 0) {
		box_msg_send(a->sync_fd, STEP_INIT_FORK, errno, 0);
		_exit(127);
	}
	/* A raw clone, not fork(): the embedding program's atfork handlers
	 * have no business running here. */
	child = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (child < 0) {
		box_msg_send(a->sync_fd, STEP_INIT_FORK, errno, 0);
		_exit(127);
	}
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		/* the terminal is the command's: its own session takes it */
		if (a->cfg->tty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
			err = errno;
		if (!err && syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC) == 0)
			execve(path, a->cfg->argv, a->envp);
		if (!err)
			err = errno;
		while (write(p[1], &err, sizeof(err)) < 0 && errno == EINTR)
			;
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], &err, sizeof(err)) == (ssize_t)sizeof(err))
		box_msg_send(a->sync_fd, STEP_EXEC, err, 0);
	else
		box_msg_send(a->sync_fd, STEP_STARTED, 0, 0);
	close(p[0]);
	/* keep only stdio and the sync socket */
	if (a->sync_fd > 3)
		syscall(SYS_close_range, 3, (unsigned)a->sync_fd - 1, 0);
	syscall(SYS_close_range, (unsigned)a->sync_fd + 1, ~0u, 0);

	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, WNOHANG);

			if (w <= 0)
				break;
			if (w == child) {
				box_msg_send(a->sync_fd, STEP_EXITED, 0, st);
				status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				_exit(status);
			}
		}
	}
}
