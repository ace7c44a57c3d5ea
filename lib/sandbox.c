/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* box_sandbox_run(): one command as a CI step, in one call.  The caller's
 * config says what to run and on what (the root, a workspace bind, the
 * limits); the sandbox makes the root read-only, adds a tmpfs /tmp (unless
 * the config mounts one), keeps the network to loopback, requires a
 * cgroup, captures stdout and stderr up to a cap, and kills the whole
 * cgroup when the time is up. */
#include <fcntl.h>
#include <linux/mount.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

struct box_sandbox_result {
	int exit_code, signal;
	bool oom, timed_out;
	uint64_t peak_memory;
	int64_t wall_ms;
	char *out[2];
	size_t len[2];
	bool truncated[2];
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Keep up to cap bytes; read (and drop) the rest, so the box never blocks
 * on a full pipe.  Returns 0 at end of stream. */
static int take(int fd, struct box_sandbox_result *r, int i, size_t cap)
{
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	if (r->len[i] < cap) {
		size_t k = (size_t)n < cap - r->len[i] ? (size_t)n : cap - r->len[i];

		memcpy(r->out[i] + r->len[i], buf, k);
		r->len[i] += k;
		r->truncated[i] |= k < (size_t)n;
	} else {
		r->truncated[i] = true;
	}
	return 1;
}

BOX_EXPORT void box_sandbox_result_free(box_sandbox_result *r)
{
	if (!r)
		return;
	free(r->out[0]);
	free(r->out[1]);
	free(r);
}

BOX_EXPORT int box_sandbox_run(box_ctx *ctx, const box_config *cfg, int64_t timeout_ms,
			       int64_t output_cap, box_sandbox_result **out)
{
	struct box_config local;
	struct box_mount *mounts = NULL;
	struct box_sandbox_result *r;
	int pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, rc, open_streams = 2;
	bool has_tmp = false;
	int64_t start, deadline;
	box *b = NULL;
	char msg[1024];

	box_err_clear();
	if (!ctx || !cfg || !out)
		return box_err(EINVAL, "box_sandbox_run: %s is NULL", !ctx ? "ctx" : !cfg ? "config" : "out");
	if (timeout_ms < 0 || output_cap < 0)
		return box_err(EINVAL, "box_sandbox_run: negative timeout or output cap");
	r = calloc(1, sizeof(*r));
	if (!r || !(r->out[0] = malloc((size_t)output_cap + 1)) ||
	    !(r->out[1] = malloc((size_t)output_cap + 1))) {
		box_sandbox_result_free(r);
		return box_err(ENOMEM, "box_sandbox_run: out of memory for %lld bytes of output",
			       (long long)output_cap);
	}
	/* the caller's config, with the sandbox's rules on top (a shallow
	 * copy: the strings stay the caller's) */
	local = *cfg;
	local.readonly_root = true;
	local.ns |= BOX_NS_NET | BOX_NS_MOUNT | BOX_NS_PID;
	local.cgroup_mode = BOX_CGROUP_ON;
	local.tty = false;
	for (size_t i = 0; i < cfg->nmounts; i++)
		has_tmp |= strcmp(cfg->mounts[i].target, "/tmp") == 0;
	if (!has_tmp) {
		static struct box_op_opt tmp_opts[] = { { "mode", "1777" } };

		mounts = calloc(cfg->nmounts + 1, sizeof(*mounts));
		if (!mounts) {
			box_sandbox_result_free(r);
			return box_err(ENOMEM, "box_sandbox_run: out of memory");
		}
		if (cfg->nmounts)
			memcpy(mounts, cfg->mounts, cfg->nmounts * sizeof(*mounts));
		mounts[cfg->nmounts] = (struct box_mount){
			.type = "tmpfs", .source = "tmpfs", .target = "/tmp",
			.fs_opts = tmp_opts, .nfs_opts = 1,
			.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, .recursive = true,
		};
		local.mounts = mounts;
		local.nmounts = cfg->nmounts + 1;
	}
	if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
		rc = box_err_errno(errno, "box_sandbox_run: pipe");
		goto out;
	}
	local.stdio[0] = -1;
	local.stdio[1] = pout[1];
	local.stdio[2] = perr[1];
	start = now_ms();
	deadline = timeout_ms ? start + timeout_ms : INT64_MAX;
	rc = box_create(ctx, &local, &b);
	close(TAKE_FD(pout[1]));
	close(TAKE_FD(perr[1]));
	if (rc == 0)
		rc = box_start(b);
	if (rc < 0)
		goto out;
	/* With its own pid namespace, all of the box is gone with its first
	 * process, and its output ends: read until both have happened, and
	 * kill everything when the time is up. */
	for (bool gone = false; rc == 0 && (open_streams || !gone);) {
		struct pollfd p[3] = {
			{ .fd = pout[0], .events = POLLIN },
			{ .fd = perr[0], .events = POLLIN },
			{ .fd = gone ? -1 : box_pidfd(b), .events = POLLIN },
		};
		int64_t left = deadline == INT64_MAX || r->timed_out ? -1 : deadline - now_ms();
		int n = poll(p, 3, left < 0 ? (left == -1 ? -1 : 0) : left > INT32_MAX ? INT32_MAX : (int)left);

		if (n < 0 && errno != EINTR) {
			rc = box_err_errno(errno, "box_sandbox_run: poll");
			break;
		}
		for (int i = 0; n > 0 && i < 2; i++) {
			if (p[i].fd >= 0 && p[i].revents && !take(p[i].fd, r, i, (size_t)output_cap)) {
				close(i ? TAKE_FD(perr[0]) : TAKE_FD(pout[0]));
				open_streams--;
			}
		}
		gone |= n > 0 && p[2].revents;
		if (!r->timed_out && deadline != INT64_MAX && now_ms() >= deadline) {
			r->timed_out = true;
			box_kill_all(b, SIGKILL);
		}
	}
	if (rc == 0) {
		uint64_t v[BOX_STAT_COUNT];

		rc = box_wait(b, &r->exit_code, &r->signal);
		r->oom = box_oom_killed(b) == 1;
		r->peak_memory = box_stats(b, v, BOX_STAT_COUNT) > BOX_STAT_MEMORY_PEAK
					 ? v[BOX_STAT_MEMORY_PEAK]
					 : UINT64_MAX;
		r->wall_ms = now_ms() - start;
	}
out:
	snprintf(msg, sizeof(msg), "%s", box_last_error());
	box_destroy(b);
	for (int i = 0; i < 2; i++) {
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	free(mounts);
	if (rc < 0) {
		box_sandbox_result_free(r);
		return box_err(-rc, "%s", msg);
	}
	r->out[0][r->len[0]] = '\0';
	r->out[1][r->len[1]] = '\0';
	*out = r;
	return 0;
}

BOX_EXPORT int box_sandbox_exit_code(const box_sandbox_result *r)
{
	return r ? r->exit_code : -1;
}

BOX_EXPORT int box_sandbox_signal(const box_sandbox_result *r)
{
	return r ? r->signal : 0;
}

BOX_EXPORT int box_sandbox_oom(const box_sandbox_result *r)
{
	return r && r->oom;
}

BOX_EXPORT int box_sandbox_timed_out(const box_sandbox_result *r)
{
	return r && r->timed_out;
}

BOX_EXPORT uint64_t box_sandbox_peak_memory(const box_sandbox_result *r)
{
	return r ? r->peak_memory : UINT64_MAX;
}

BOX_EXPORT int64_t box_sandbox_wall_ms(const box_sandbox_result *r)
{
	return r ? r->wall_ms : -1;
}

BOX_EXPORT const char *box_sandbox_stdout(const box_sandbox_result *r, size_t *len)
{
	if (len)
		*len = r ? r->len[0] : 0;
	return r ? r->out[0] : NULL;
}

BOX_EXPORT const char *box_sandbox_stderr(const box_sandbox_result *r, size_t *len)
{
	if (len)
		*len = r ? r->len[1] : 0;
	return r ? r->out[1] : NULL;
}

BOX_EXPORT int box_sandbox_truncated(const box_sandbox_result *r)
{
	return r ? (r->truncated[0] ? 1 : 0) | (r->truncated[1] ? 2 : 0) : 0;
}
