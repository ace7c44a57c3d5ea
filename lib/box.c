/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifecycle of a box: create, start, wait, kill, destroy. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <jansson.h>

#include "internal.h"
#include "cgroup/cgroup.h"

static void handle_free(box *b);

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

/* A handle with no process, fd or lock yet. */
static struct box *handle_new(box_ctx *ctx)
{
	struct box *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->ctx = ctx;
	b->pid = -1;
	b->pidfd = -1;
	b->tty_fd = -1;
	b->sync_fd = -1;
	b->lockfd = -1;
	return b;
}

BOX_EXPORT int box_create(box_ctx *ctx, const box_config *cfg, box **out)
{
	struct box_config img = { 0 };
	const struct box_config *use = cfg;
	_cleanup_free_ char *box_dir = NULL, *image_id = NULL;
	const char *storage = NULL;
	struct box *b;
	int r;

	box_err_clear();
	if (!ctx || !cfg || !out)
		return box_err(EINVAL, "box_create: %s is NULL", !ctx ? "ctx" : !cfg ? "config" : "out");
	b = handle_new(ctx);
	if (!b)
		return box_err(ENOMEM, "box_create: out of memory");
	b->init = cfg->init;
	b->start_fifo = cfg->oci && cfg->oci->start_fifo;
	if (cfg->id[0])
		memcpy(b->id, cfg->id, sizeof(b->id));
	r = cfg->id[0] ? 0 : make_id(b->id);
	if (r < 0) {
		free(b);
		return box_err_errno(-r, "box_create: getrandom");
	}
	/* a root from an image: its directory in the store, its defaults */
	if (cfg->image) {
		r = box_image_root(ctx, cfg, b->id, &img, &box_dir, &storage, &image_id);
		if (r < 0) {
			free(b);
			return r;
		}
		use = &img;
	}
	/* the name is reserved (or refused) before anything runs */
	{
		_cleanup_free_ char *canon = use->rootfs ? realpath(use->rootfs, NULL) : NULL;

		r = box_state_create(b, use, canon ? canon : use->rootfs);
	}
	/* noted for box_gc, in case we die before the record says it */
	if (r == 0 && box_dir && dprintf(b->lockfd, "store:%s\n", box_dir) < 0)
		r = box_err_errno(errno, "box %.12s: noting its store directory", b->id);
	if (r == 0 && cfg->image &&
	    json_object_update_new(b->pending, json_pack("{s:s, s:s, s:s, s:s}", "image", image_id,
						     "image_ref", cfg->image, "storage", storage,
						     "box_dir", box_dir)) < 0)
		r = box_err(ENOMEM, "box_create: out of memory");
	if (r < 0) {
		if (box_dir)
			box_image_abandon(box_dir, cfg);
		box_image_root_free(&img, cfg);
		handle_free(b);
		return r;
	}
	r = box_spawn(b, use);
	box_image_root_free(&img, cfg);
	if (r == 0) {
		b->pid_start = box_proc_start_time(b->pid);
		r = box_state_update(b, "pid");
		if (r < 0) {
			char msg[1024];

			snprintf(msg, sizeof(msg), "box %.12s: recording its pid: %s", b->id,
				 box_strerror(r));
			close(TAKE_FD(b->lockfd));
			box_destroy(b);
			return box_err(-r, "%s", msg);
		}
	}
	close(TAKE_FD(b->lockfd));
	if (r < 0) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", box_last_error());
		box_state_remove(ctx, b->id, b->name);
		if (box_dir)
			box_image_abandon(box_dir, cfg);
		handle_free(b);
		return box_err(-r, "%s", msg);
	}
	*out = b;
	return 0;
}

/* A box that waits on its FIFO (box_config_set_start_fifo): one byte
 * there, under the box's lock, by any process.  The FIFO goes with it, so
 * that a second start finds none. */
static int start_by_fifo(box *b)
{
	char path[PATH_MAX];
	int lock, fd, r = 0;

	snprintf(path, sizeof(path), "%s/boxes/%s/start.fifo", b->ctx->state_dir, b->id);
	lock = box_state_lock(b->ctx, b->id);
	if (lock < 0)
		return box_err_errno(-lock, "box %.12s: lock", b->id);
	/* O_NONBLOCK: without a reader (the box died) this fails, ENXIO,
	 * instead of waiting for one */
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT ? box_err(EALREADY, "box %.12s: already started", b->id)
				    : box_err(ESRCH, "box %.12s: its first process is gone", b->id);
		close(lock);
		return r;
	}
	b->started = true;
	if (b->lockfd < 0) {
		b->lockfd = lock;
		box_state_update(b, "started");
		b->lockfd = -1;
	}
	if (write(fd, "g", 1) != 1)
		r = box_err_errno(errno, "box %.12s: start", b->id);
	close(fd);
	unlink(path);
	close(lock);
	return r;
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
	if (b->start_fifo)
		return start_by_fifo(b);
	if (b->opened)
		return box_err(EPERM, "box %.12s: only its creator can start it", b->id);
	b->started = true;
	box_state_update(b, "started");
	/* MSG_NOSIGNAL: a box that died before start must not SIGPIPE us */
	if (send(b->sync_fd, "g", 1, MSG_NOSIGNAL) != 1) {
		if (errno == EPIPE || errno == ECONNRESET)
			return box_err(ESRCH, "box %.12s: its first process died before start", b->id);
		return box_err_errno(errno, "box %.12s: start", b->id);
	}
	/* Without init, the socket reaches end of stream when execve closes
	 * the child's end; with init, the init reports STARTED. */
	r = box_msg_recv(b->sync_fd, &m, 0, NULL);
	if (r < 0)
		return box_err_errno(-r, "box %.12s: reading the start report", b->id);
	if (r == 0 || m.step == STEP_STARTED)
		return 0;
	if (m.step == STEP_EXEC)
		return box_err_errno(m.err, "box %.12s: execve", b->id);
	return box_err_errno(m.err > 0 ? m.err : EIO, "box %.12s: %s", b->id,
			     box_step_name(m.step));
}

/* A box made by another process: we cannot reap it, only see it go, then
 * read the exit its creator (or monitor) recorded. */
static int wait_opened(box *b, int *exit_code, int *signal)
{
	struct pollfd p = { .fd = b->pidfd, .events = POLLIN };

	while (b->pidfd >= 0 && poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return box_err_errno(errno, "box %.12s: poll", b->id);
	for (int i = 0; i < 200; i++) {
		struct box fresh = { .ctx = b->ctx, .pidfd = -1, .tty_fd = -1, .sync_fd = -1, .lockfd = -1 };

		memcpy(fresh.id, b->id, sizeof(fresh.id));
		if (box_state_load(&fresh) < 0)
			return box_err(ENOENT, "box %.12s: removed while we waited", b->id);
		if (fresh.pidfd >= 0)
			close(fresh.pidfd);
		if (fresh.cg)
			box_cgroup_close(fresh.cg);
		box_net_free(fresh.net);
		free(fresh.name);
		if (fresh.waited) {
			b->waited = true;
			b->exit_code = fresh.exit_code;
			b->signal = fresh.signal;
			b->oom = fresh.oom;
			break;
		}
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	if (!b->waited) {
		/* gone, and nobody recorded how: its creator is gone too */
		b->waited = true;
		b->exit_code = -1;
		b->signal = 0;
	}
	b->pid = -1;
	if (exit_code)
		*exit_code = b->exit_code;
	if (signal)
		*signal = b->signal;
	return 0;
}

BOX_EXPORT int box_wait(box *b, int *exit_code, int *signal)
{
	siginfo_t si = { 0 };

	box_err_clear();
	if (!b)
		return box_err(EINVAL, "box_wait: box is NULL");
	if (!b->waited && b->opened)
		return wait_opened(b, exit_code, signal);
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
		while (b->init && box_msg_recv(b->sync_fd, &m, MSG_DONTWAIT, NULL) == 1)
			if (m.step == STEP_EXITED)
				status = (int)m.detail;
		b->oom = b->cg && box_cgroup_oom_kills(b->cg) > 0;
		b->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		b->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
		b->waited = true;
		b->pid = -1;
		if (!b->exec)
			box_state_update(b, "exit");
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
		/* SIGKILL of pid 1 ends the whole pid namespace; the cgroup's
		 * kill reaches every process, and thaws a paused box (frozen
		 * tasks do not die on cgroup v1) */
		if (!b->cg || b->exec || box_cgroup_kill(b->cg, SIGKILL) < 0)
			syscall(SYS_pidfd_send_signal, b->pidfd, SIGKILL, NULL, 0);
		if (b->opened) {
			/* not ours to reap: see it go (its creator reaps it) */
			struct pollfd p = { .fd = b->pidfd, .events = POLLIN };

			poll(&p, 1, 5000);
		} else {
			r = box_wait(b, NULL, NULL);
		}
	}
	if (b->exec) {
		/* a process in a box: it alone goes */
		handle_free(b);
		return r;
	}
	{
		/* its address, ports, veth and rules, before its record goes */
		int rc = box_net_release(b->ctx, b->id, b->net);

		if (r == 0)
			r = rc;
	}
	box_state_remove(b->ctx, b->id, b->name);
	/* what is left of the box (all of it without a pid namespace) goes
	 * with its cgroup */
	if (b->cg) {
		int rc = box_cgroup_destroy(TAKE_PTR(b->cg));

		if (r == 0)
			r = rc;
	}
	handle_free(b);
	return r;
}

static void handle_free(box *b)
{
	if (b->cg)
		box_cgroup_close(b->cg);
	if (b->pidfd >= 0)
		close(b->pidfd);
	if (b->tty_fd >= 0)
		close(b->tty_fd);
	if (b->sync_fd >= 0)
		close(b->sync_fd);
	if (b->lockfd >= 0)
		close(b->lockfd);
	if (b->pending)
		json_decref(b->pending);
	box_net_free(b->net);
	free(b->name);
	free(b);
}

BOX_EXPORT void box_close(box *b)
{
	if (b)
		handle_free(b);
}

BOX_EXPORT int box_open(box_ctx *ctx, const char *name_or_id, box **out)
{
	box *b;
	int r;

	box_err_clear();
	if (!ctx || !name_or_id || !out)
		return box_err(EINVAL, "box_open: %s is NULL", !ctx ? "ctx" : !out ? "out" : "name");
	b = handle_new(ctx);
	if (!b)
		return box_err(ENOMEM, "box_open: out of memory");
	b->opened = true;
	r = box_state_resolve(ctx, name_or_id, b->id);
	if (r == 0)
		r = box_state_load(b);
	if (r < 0) {
		handle_free(b);
		return r;
	}
	*out = b;
	return 0;
}

BOX_EXPORT int box_exec(box *b, const box_config *proc, box **out)
{
	struct box *e;
	int st, r;

	box_err_clear();
	if (!b || !proc || !out)
		return box_err(EINVAL, "box_exec: %s is NULL", !b ? "box" : !proc ? "config" : "out");
	if (!proc->argv)
		return box_err(EINVAL, "box_exec: no command (box_config_set_argv)");
	if (b->exec)
		return box_err(EINVAL, "box_exec: that handle is an exec'd process, not a box");
	st = box_status(b);
	if (st != BOX_STATUS_RUNNING)
		return box_err(st == BOX_STATUS_PAUSED ? EAGAIN : ESRCH, "box %.12s is %s, not running",
			       b->id, box_status_name(st));
	e = handle_new(b->ctx);
	if (!e)
		return box_err(ENOMEM, "box_exec: out of memory");
	e->exec = true;
	e->started = true;
	memcpy(e->id, b->id, sizeof(e->id));
	e->name = b->name ? strdup(b->name) : NULL;
	r = box_spawn_exec(b, proc, e);
	if (r < 0) {
		handle_free(e);
		return r;
	}
	*out = e;
	return 0;
}

BOX_EXPORT int box_rename(box *b, const char *name)
{
	box_err_clear();
	if (!b || !name)
		return box_err(EINVAL, "box_rename: %s is NULL", !b ? "box" : "name");
	if (!box_name_valid(name))
		return box_err(EINVAL, "box_rename: \"%s\" is not a valid name", name);
	if (b->exec)
		return box_err(EINVAL, "box_rename: that handle is an exec'd process, not a box");
	if (b->name && strcmp(b->name, name) == 0)
		return 0;
	return box_state_rename(b, name);
}

BOX_EXPORT int box_pids(box *b, int *pids, int max)
{
	int st;

	box_err_clear();
	if (!b || (!pids && max > 0) || max < 0)
		return box_err(EINVAL, "box_pids: %s", !b ? "box is NULL" : "no array to fill");
	if (b->cg) {
		int r = box_cgroup_pids(b->cg, pids, max);

		return r < 0 ? box_err_errno(-r, "box %.12s: its cgroup's processes", b->id) : r;
	}
	/* no cgroup: the first process is all we know of */
	st = box_status(b);
	if (st != BOX_STATUS_RUNNING && st != BOX_STATUS_PAUSED && st != BOX_STATUS_CREATED)
		return 0;
	if (max > 0)
		pids[0] = b->pid;
	return 1;
}

BOX_EXPORT const char *box_name(const box *b)
{
	return b ? b->name : NULL;
}

BOX_EXPORT int box_status(box *b)
{
	struct pollfd p;

	box_err_clear();
	if (!b)
		return box_err(EINVAL, "box_status: box is NULL");
	if (b->waited)
		return b->exit_code < 0 && !b->signal ? BOX_STATUS_UNKNOWN : BOX_STATUS_EXITED;
	p = (struct pollfd){ .fd = b->pidfd, .events = POLLIN };
	if (b->pidfd < 0 || poll(&p, 1, 0) == 1) {
		/* gone: its owner records how (box_wait() tells), unless the
		 * owner is gone too */
		return !b->opened || b->owner_alive ? BOX_STATUS_EXITED : BOX_STATUS_UNKNOWN;
	}
	if (b->cg && box_cgroup_frozen(b->cg))
		return BOX_STATUS_PAUSED;
	return b->started ? BOX_STATUS_RUNNING : BOX_STATUS_CREATED;
}

static const char *const status_names[] = {
	[BOX_STATUS_CREATED] = "created", [BOX_STATUS_RUNNING] = "running",
	[BOX_STATUS_PAUSED] = "paused",	  [BOX_STATUS_EXITED] = "exited",
	[BOX_STATUS_UNKNOWN] = "unknown",
};

BOX_EXPORT const char *box_status_name(int status)
{
	if (status < BOX_STATUS_CREATED || status > BOX_STATUS_UNKNOWN)
		return "invalid";
	return status_names[status];
}

BOX_EXPORT char *box_inspect(box *b)
{
	int st = box_status(b);
	char *text;

	if (st < 0)
		return NULL;
	text = box_state_json(b, box_status_name(st));
	if (!text)
		box_err(ENOENT, "box %.12s: no state", b->id);
	return text;
}

BOX_EXPORT void box_string_free(char *s)
{
	free(s);
}

BOX_EXPORT int box_list(box_ctx *ctx, box_list_fn fn, void *user)
{
	box_err_clear();
	if (!ctx || !fn)
		return box_err(EINVAL, "box_list: %s is NULL", !ctx ? "ctx" : "fn");
	return box_state_list(ctx, fn, user);
}

struct gc {
	box_ctx *ctx;
	int removed;
};

static int gc_one(const char *id, void *user)
{
	struct gc *g = user;
	box *b = handle_new(g->ctx);
	int lock;

	if (!b)
		return -ENOMEM;
	b->opened = true;
	snprintf(b->id, sizeof(b->id), "%s", id);
	/* wait for a box_create() in progress to record its pid */
	lock = box_state_lock(g->ctx, id);
	if (lock >= 0 && box_state_remove_stillborn(g->ctx, id, lock) == 1) {
		g->removed++;
	} else if (box_state_load(b) == 0 && box_status(b) == BOX_STATUS_UNKNOWN) {
		/* its creator died without destroying it: free what it held;
		 * the record stays while its cgroup cannot go */
		if (!b->cg || box_cgroup_destroy(TAKE_PTR(b->cg)) == 0) {
			box_net_release(g->ctx, b->id, b->net);
			box_state_remove(g->ctx, b->id, b->name);
			g->removed++;
		}
	}
	if (lock >= 0)
		close(lock);
	handle_free(b);
	return 0;
}

BOX_EXPORT int box_gc(box_ctx *ctx)
{
	struct gc g = { ctx, 0 };
	int r;

	box_err_clear();
	if (!ctx)
		return box_err(EINVAL, "box_gc: ctx is NULL");
	r = box_state_list(ctx, gc_one, &g);
	return r < 0 ? box_err_errno(-r, "box_gc: %s", ctx->state_dir) : g.removed;
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

BOX_EXPORT int box_tty_fd(const box *b)
{
	return b ? b->tty_fd : -1;
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
