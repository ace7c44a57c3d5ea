/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifecycle of a box: create, start, wait, kill, destroy. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"
#include "cgroup/cgroup.h"

static int make_id(char out[65])
{
	unsigned char raw[32];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

BOX_EXPORT int box_create(box_ctx *ctx, const box_config *cfg, box **out)
{
	struct box *b;
	int r;

	box_err_clear();
	if (!ctx || !cfg || !out)
		return box_err(EINVAL, "box_create: %s is NULL", !ctx ? "ctx" : !cfg ? "config" : "out");
	b = calloc(1, sizeof(*b));
	if (!b)
		return box_err(ENOMEM, "box_create: out of memory");
	b->ctx = ctx;
	b->pid = -1;
	b->pidfd = -1;
	b->sync_fd = -1;
	b->init = cfg->init;
	r = make_id(b->id);
	if (r < 0) {
		free(b);
		return box_err_errno(-r, "box_create: getrandom");
	}
	r = box_spawn(b, cfg);
	if (r < 0) {
		free(b);
		return r;
	}
	*out = b;
	return 0;
}

BOX_EXPORT int box_start(box *b)
{
	struct box_msg m;
	int r;

	box_err_clear();
	if (!b)
		return box_err(EINVAL, "box_start: box is NULL");
	if (b->started)
		return box_err(EALREADY, "box %.12s: already started", b->id);
	if (b->pid < 0)
		return box_err(ESRCH, "box %.12s: not running", b->id);
	b->started = true;
	/* MSG_NOSIGNAL: a box that died before start must not SIGPIPE us */
	if (send(b->sync_fd, "g", 1, MSG_NOSIGNAL) != 1) {
		if (errno == EPIPE || errno == ECONNRESET)
			return box_err(ESRCH, "box %.12s: its first process died before start", b->id);
		return box_err_errno(errno, "box %.12s: start", b->id);
	}
	/* Without init, the socket reaches end of stream when execve closes
	 * the child's end; with init, the init reports STARTED. */
	r = box_msg_recv(b->sync_fd, &m, 0);
	if (r < 0)
		return box_err_errno(-r, "box %.12s: reading the start report", b->id);
	if (r == 0 || m.step == STEP_STARTED)
		return 0;
	if (m.step == STEP_EXEC)
		return box_err_errno(m.err, "box %.12s: execve", b->id);
	return box_err_errno(m.err > 0 ? m.err : EIO, "box %.12s: %s", b->id,
			     box_step_name(m.step));
}

BOX_EXPORT int box_wait(box *b, int *exit_code, int *signal)
{
	siginfo_t si = { 0 };

	box_err_clear();
	if (!b)
		return box_err(EINVAL, "box_wait: box is NULL");
	if (!b->waited) {
		struct box_msg m;
		int status;

		if (b->pidfd < 0)
			return box_err(ESRCH, "box %.12s: no process to wait for", b->id);
		while (waitid((idtype_t)P_PIDFD, (id_t)b->pidfd, &si, WEXITED | __WALL) < 0) {
			if (errno != EINTR)
				return box_err_errno(errno, "box %.12s: waitid", b->id);
		}
		status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
		/* The init reports the command's own status before it exits. */
		while (b->init && box_msg_recv(b->sync_fd, &m, MSG_DONTWAIT) == 1)
			if (m.step == STEP_EXITED)
				status = (int)m.detail;
		b->oom = b->cg && box_cgroup_oom_kills(b->cg) > 0;
		b->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		b->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		b->waited = true;
		b->pid = -1;
	}
	if (exit_code)
		*exit_code = b->exit_code;
	if (signal)
		*signal = b->signal;
	return 0;
}

BOX_EXPORT int box_kill(box *b, int sig)
{
	box_err_clear();
	if (!b)
		return box_err(EINVAL, "box_kill: box is NULL");
	if (sig < 0 || sig >= _NSIG)
		return box_err(EINVAL, "box %.12s: invalid signal %d", b->id, sig);
	if (b->waited || b->pidfd < 0)
		return box_err(ESRCH, "box %.12s: not running", b->id);
	if (syscall(SYS_pidfd_send_signal, b->pidfd, sig, NULL, 0) < 0)
		return box_err_errno(errno, "box %.12s: kill %d", b->id, sig);
	return 0;
}

BOX_EXPORT int box_destroy(box *b)
{
	int r = 0;

	box_err_clear();
	if (!b)
		return 0;
	if (!b->waited && b->pidfd >= 0) {
		/* SIGKILL of pid 1 ends the whole pid namespace. */
		syscall(SYS_pidfd_send_signal, b->pidfd, SIGKILL, NULL, 0);
		r = box_wait(b, NULL, NULL);
	}
	/* what is left of the box (all of it without a pid namespace) goes
	 * with its cgroup */
	if (b->cg) {
		int rc = box_cgroup_destroy(TAKE_PTR(b->cg));

		if (r == 0)
			r = rc;
	}
	if (b->pidfd >= 0)
		close(b->pidfd);
	if (b->sync_fd >= 0)
		close(b->sync_fd);
	free(b);
	return r;
}

/* ---- the box's cgroup ---- */

static int need_cgroup(box *b, const char *fn)
{
	box_err_clear();
	if (!b)
		return box_err(EINVAL, "%s: box is NULL", fn);
	if (!b->cg)
		return box_err(ENOTSUP, "box %.12s: %s: the box has no cgroup", b->id, fn);
	return 0;
}

BOX_EXPORT int box_update_limits(box *b, const box_config *cfg)
{
	int r = need_cgroup(b, "box_update_limits");

	if (r < 0)
		return r;
	if (!cfg)
		return box_err(EINVAL, "box_update_limits: config is NULL");
	return box_cgroup_apply(b->cg, cfg);
}

BOX_EXPORT int box_stats(box *b, uint64_t *values, int n)
{
	int r = need_cgroup(b, "box_stats");

	if (r < 0)
		return r;
	if (!values || n < 0)
		return box_err(EINVAL, "box_stats: no array to fill");
	return box_cgroup_stats(b->cg, values, n);
}

BOX_EXPORT int box_pause(box *b)
{
	int r = need_cgroup(b, "box_pause");

	return r < 0 ? r : box_cgroup_freeze(b->cg, true);
}

BOX_EXPORT int box_resume(box *b)
{
	int r = need_cgroup(b, "box_resume");

	return r < 0 ? r : box_cgroup_freeze(b->cg, false);
}

BOX_EXPORT int box_kill_all(box *b, int sig)
{
	int r = need_cgroup(b, "box_kill_all");

	if (r < 0)
		return r;
	if (sig < 0 || sig >= _NSIG)
		return box_err(EINVAL, "box %.12s: invalid signal %d", b->id, sig);
	return box_cgroup_kill(b->cg, sig);
}

BOX_EXPORT int box_oom_killed(const box *b)
{
	if (!b)
		return box_err(EINVAL, "box_oom_killed: box is NULL");
	return b->oom ? 1 : 0;
}

BOX_EXPORT const char *box_cgroup(const box *b)
{
	return b && b->cg ? b->cg->path : NULL;
}

BOX_EXPORT int box_pid(const box *b)
{
	return b && !b->waited ? b->pid : -1;
}

BOX_EXPORT int box_pidfd(const box *b)
{
	return b ? b->pidfd : -1;
}

BOX_EXPORT const char *box_id(const box *b)
{
	return b ? b->id : NULL;
}

BOX_EXPORT int box_run(box_ctx *ctx, const box_config *cfg, int *exit_code, int *signal)
{
	box *b = NULL;
	int r;

	r = box_create(ctx, cfg, &b);
	if (r < 0)
		return r;
	r = box_start(b);
	if (r == 0)
		r = box_wait(b, exit_code, signal);
	if (r < 0) {
		/* keep the first failure's message */
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", box_last_error());
		box_destroy(b);
		return box_err(-r, "%s", msg);
	}
	return box_destroy(b);
}
