/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl run: a box in the foreground, with docker run's flags. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <termios.h>
#include <sys/wait.h>
#include <unistd.h>

#include "box.h"
#include "boxctl.h"

static void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: boxctl run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
		"       boxctl run [OPTIONS] --rootfs DIR COMMAND [ARG...]\n"
		"\n"
		"Run a command in a new box and wait for it.  boxctl exits with the\n"
		"command's status (128+N when it was killed by signal N), 125 when the\n"
		"box could not be made, 126 when the command cannot be run, 127 when it\n"
		"is not found.\n"
		"\n"
		"Options:\n"
		"      --rootfs DIR            root filesystem (a directory) instead of an\n"
		"                              image of the store\n"
		"  -i, --interactive           keep stdin open (without it: /dev/null)\n"
		"  -t, --tty                   give the command a terminal\n"
		"  -d, --detach                run the box in the background and print its\n"
		"                              id; a small monitor keeps its logs\n"
		"      --log-opt max-size=SIZE  rotate a detached box's log past SIZE\n"
		"                              (default 10m; one older file is kept)\n"
		"      --rm                    remove the box when it exits (what a\n"
		"                              foreground box does anyway)\n"
		"      --restart POLICY        for -d: no (default), always, unless-stopped,\n"
		"                              on-failure[:N] (at most N restarts)\n"
		"  -e, --env KEY=VALUE         set an environment variable (KEY alone:\n"
		"                              take its value from boxctl's environment)\n"
		"  -w, --workdir DIR           working directory inside the box\n"
		"  -u, --user USER[:GROUP]     user and group (names from the box's\n"
		"                              /etc/passwd and /etc/group)\n"
		"      --group-add GID         add a supplementary group\n"
		"      --hostname NAME         host name of the box\n"
		"      --read-only             mount the root filesystem read-only\n"
		"  -v, --volume SRC:DST[:ro]   bind mount a host path (rw by default)\n"
		"      --tmpfs DST[:OPTIONS]   mount a tmpfs (default rw,nosuid,nodev,noexec)\n"
		"      --network MODE          bridge (the default: eth0 on the bridge box0,\n"
		"                              an address of 10.88.0.0/16, NAT), none (own\n"
		"                              namespace, lo only) or host\n"
		"  -p, --publish [IP:]HOST:BOX[/tcp|/udp]  map a host port (or a range,\n"
		"                              8000-8010:8000-8010) to the box (bridge)\n"
		"      --ip ADDR               a static address on the bridge\n"
		"      --dns ADDR              a nameserver for the box's resolv.conf\n"
		"      --cap-add CAP           add a capability (or ALL)\n"
		"      --cap-drop CAP          drop a capability (or ALL)\n"
		"      --security-opt OPT      seccomp=unconfined, seccomp=FILE,\n"
		"                              no-new-privileges[=true|false]\n"
		"      --ulimit NAME=SOFT[:HARD]  set a resource limit\n"
		"  -m, --memory SIZE           memory limit (bytes, or 512k, 64m, 2g)\n"
		"      --memory-swap SIZE      memory plus swap limit (-1: unlimited)\n"
		"      --memory-reservation SIZE  soft memory limit\n"
		"      --cpus N                cpus' worth of time (1.5)\n"
		"      --cpu-period US         cfs period, microseconds\n"
		"      --cpu-quota US          cfs quota, microseconds per period\n"
		"  -c, --cpu-shares N          relative cpu weight (2 to 262144)\n"
		"      --cpuset-cpus LIST      cpus the box may use (0-1,3)\n"
		"      --cpuset-mems LIST      memory nodes the box may use\n"
		"      --pids-limit N          most tasks at once (-1: unlimited)\n"
		"      --blkio-weight N        relative io weight (10 to 1000)\n"
		"      --device-read-bps DEV:RATE   read limit on a device (/dev/vda:1m)\n"
		"      --device-write-bps DEV:RATE  write limit on a device\n"
		"      --device-read-iops DEV:N     read operations per second\n"
		"      --device-write-iops DEV:N    write operations per second\n"
		"      --name NAME             the box's name (default: one is made up)\n"
		"      --cgroup-parent PATH    the cgroup under which the box gets its own\n"
		"                              (default /libbox)\n"
		"      --init                  run a tiny init as pid 1 (the default)\n"
		"      --no-init               run the command itself as pid 1\n"
		"      --help                  show this help\n");
}

enum {
	OPT_ROOTFS = 256, OPT_RM, OPT_HOSTNAME, OPT_READ_ONLY, OPT_TMPFS, OPT_NETWORK,
	OPT_CAP_ADD, OPT_CAP_DROP, OPT_SECURITY_OPT, OPT_INIT, OPT_NO_INIT, OPT_HELP,
	OPT_GROUP_ADD, OPT_ULIMIT, OPT_CGROUP_PARENT, OPT_MEMORY_SWAP, OPT_MEMORY_RESERVATION,
	OPT_CPUS, OPT_CPU_PERIOD, OPT_CPU_QUOTA, OPT_CPUSET_CPUS, OPT_CPUSET_MEMS, OPT_PIDS_LIMIT,
	OPT_NAME, OPT_LOG_OPT, OPT_RESTART, OPT_BLKIO_WEIGHT, OPT_DEV_READ_BPS, OPT_DEV_WRITE_BPS, OPT_DEV_READ_IOPS, OPT_DEV_WRITE_IOPS,
	OPT_IP, OPT_DNS,
};

static const struct option run_options[] = {
	{ "rootfs", required_argument, NULL, OPT_ROOTFS },
	{ "rm", no_argument, NULL, OPT_RM },
	{ "restart", required_argument, NULL, OPT_RESTART },
	{ "detach", no_argument, NULL, 'd' },
	{ "interactive", no_argument, NULL, 'i' },
	{ "tty", no_argument, NULL, 't' },
	{ "log-opt", required_argument, NULL, OPT_LOG_OPT },
	{ "env", required_argument, NULL, 'e' },
	{ "workdir", required_argument, NULL, 'w' },
	{ "user", required_argument, NULL, 'u' },
	{ "group-add", required_argument, NULL, OPT_GROUP_ADD },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "read-only", no_argument, NULL, OPT_READ_ONLY },
	{ "volume", required_argument, NULL, 'v' },
	{ "tmpfs", required_argument, NULL, OPT_TMPFS },
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "net", required_argument, NULL, OPT_NETWORK },
	{ "publish", required_argument, NULL, 'p' },
	{ "ip", required_argument, NULL, OPT_IP },
	{ "dns", required_argument, NULL, OPT_DNS },
	{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
	{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
	{ "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
	{ "ulimit", required_argument, NULL, OPT_ULIMIT },
	{ "cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "memory", required_argument, NULL, 'm' },
	{ "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
	{ "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
	{ "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
	{ "cpu-shares", required_argument, NULL, 'c' },
	{ "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
	{ "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
	{ "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
	{ "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
	{ "device-read-bps", required_argument, NULL, OPT_DEV_READ_BPS },
	{ "device-write-bps", required_argument, NULL, OPT_DEV_WRITE_BPS },
	{ "device-read-iops", required_argument, NULL, OPT_DEV_READ_IOPS },
	{ "device-write-iops", required_argument, NULL, OPT_DEV_WRITE_IOPS },
	{ "init", no_argument, NULL, OPT_INIT },
	{ "no-init", no_argument, NULL, OPT_NO_INIT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v >= UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_limit(const char *s, uint64_t *out)
{
	char *end;

	if (strcmp(s, "unlimited") == 0 || strcmp(s, "-1") == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || !*s || *end || *s == '-' ? -EINVAL : 0;
}

/* docker's sizes: a number of bytes with an optional b, k, m, g or t
 * (powers of 1024), or -1 where unlimited is allowed. */
static int parse_size(const char *s, bool allow_unlimited, int64_t *out)
{
	static const char units[] = "bkmgt";
	char *end;
	double v;
	const char *u;

	if (allow_unlimited && strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0 && v < 1e19) || (*end && end[1] && !(end[2] == '\0' &&
							       (end[1] == 'b' || end[1] == 'B'))))
		return -EINVAL;
	if (*end) {
		u = strchr(units, *end | 0x20);
		if (!u)
			return -EINVAL;
		for (long i = u - units; i > 0; i--)
			v *= 1024;
	}
	if (v < 1 || v > 9.2e18)
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end ? -EINVAL : 0;
}

static int set_limit(box_config *cfg, int limit, int64_t value)
{
	if (box_config_set_limit(cfg, limit, value) < 0) {
		boxctl_error("%s", box_last_error());
		return 125;
	}
	return 0;
}

/* --device-read-bps /dev/vda:1m */
static int io_limit(box_config *cfg, int kind, char *spec, bool rate)
{
	char *colon = strrchr(spec, ':');
	int64_t v;

	if (!colon)
		return boxctl_usage_error("run", "invalid device limit \"%s\": want DEVICE:%s", spec,
					  rate ? "RATE" : "N");
	*colon = '\0';
	if ((rate ? parse_size(colon + 1, false, &v) : parse_i64(colon + 1, &v)) < 0 || v < 1)
		return boxctl_usage_error("run", "invalid device limit value \"%s\"", colon + 1);
	if (box_config_add_io_limit(cfg, spec, kind, (uint64_t)v) < 0) {
		boxctl_error("%s", box_last_error());
		return 125;
	}
	return 0;
}

/* The value of a library failure: print its message, return 125. */
static int lib_fail(int r)
{
	(void)r;
	boxctl_error("%s", box_last_error());
	return 125;
}

/* -u USER[:GROUP]: numbers as they are (group 0 unless given); names
 * looked up in the box's own /etc/passwd and /etc/group, as docker. */
static int set_user(box_config *cfg, char *spec, const char *verb)
{
	char *colon = strchr(spec, ':');
	uint32_t uid, gid = 0;
	int numeric;

	if (colon)
		*colon = '\0';
	numeric = parse_u32(spec, &uid) == 0 && (!colon || parse_u32(colon + 1, &gid) == 0);
	if (colon)
		*colon++ = ':';
	if (numeric)
		return box_config_set_user(cfg, uid, gid) < 0 ? lib_fail(-1) : 0;
	if (box_config_set_user_name(cfg, spec) < 0)
		return boxctl_usage_error(verb, "invalid user \"%s\": want USER[:GROUP]", spec);
	return 0;
}

static int add_volume(box_config *cfg, char *spec)
{
	char *src = spec, *dst = strchr(spec, ':'), *mode = NULL;

	if (!dst)
		return boxctl_usage_error("run", "invalid volume \"%s\": want SRC:DST[:ro|rw]", spec);
	*dst++ = '\0';
	mode = strchr(dst, ':');
	if (mode)
		*mode++ = '\0';
	if (src[0] != '/')
		return boxctl_usage_error("run", "volume source \"%s\" is not an absolute path "
						 "(named volumes do not exist yet)", src);
	if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
		return boxctl_usage_error("run", "invalid volume mode \"%s\": want ro or rw", mode);
	if (box_config_add_mount(cfg, "bind", src, dst, mode ? mode : "rw") < 0)
		return lib_fail(-1);
	return 0;
}

static int add_tmpfs(box_config *cfg, char *spec)
{
	char opts[1024], *colon = strchr(spec, ':');

	if (colon)
		*colon++ = '\0';
	snprintf(opts, sizeof(opts), "nosuid,nodev,noexec%s%s", colon ? "," : "", colon ? colon : "");
	if (box_config_add_mount(cfg, "tmpfs", "tmpfs", spec, opts) < 0)
		return lib_fail(-1);
	return 0;
}

static int add_env(box_config *cfg, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char name[256];
	int r;

	if (!eq) {
		const char *v = getenv(kv);

		if (!v)
			return 0; /* docker skips unset variables named alone */
		r = box_config_set_env(cfg, kv, v);
	} else {
		if ((size_t)(eq - kv) >= sizeof(name) || eq == kv)
			return boxctl_usage_error("run", "invalid environment variable \"%s\"", kv);
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		r = box_config_set_env(cfg, name, eq + 1);
	}
	return r < 0 ? lib_fail(r) : 0;
}

static int security_opt(box_config *cfg, const char *opt)
{
	int r;

	if (strcmp(opt, "seccomp=unconfined") == 0 || strcmp(opt, "seccomp:unconfined") == 0)
		r = box_config_set_seccomp(cfg, BOX_SECCOMP_UNCONFINED, NULL);
	else if (strncmp(opt, "seccomp=", 8) == 0 || strncmp(opt, "seccomp:", 8) == 0)
		r = box_config_set_seccomp(cfg, BOX_SECCOMP_PROFILE, opt + 8);
	else if (strcmp(opt, "no-new-privileges") == 0 || strcmp(opt, "no-new-privileges=true") == 0 ||
		 strcmp(opt, "no-new-privileges:true") == 0)
		r = box_config_set_no_new_privs(cfg, 1);
	else if (strcmp(opt, "no-new-privileges=false") == 0 ||
		 strcmp(opt, "no-new-privileges:false") == 0)
		r = box_config_set_no_new_privs(cfg, 0);
	else
		return boxctl_usage_error("run", "unknown security option \"%s\"", opt);
	return r < 0 ? lib_fail(r) : 0;
}

static int ulimit_opt(box_config *cfg, char *spec)
{
	char *eq = strchr(spec, '='), *colon;
	uint64_t soft, hard;

	if (!eq)
		return boxctl_usage_error("run", "invalid ulimit \"%s\": want NAME=SOFT[:HARD]", spec);
	*eq++ = '\0';
	colon = strchr(eq, ':');
	if (colon)
		*colon++ = '\0';
	if (parse_limit(eq, &soft) < 0 || parse_limit(colon ? colon : eq, &hard) < 0)
		return boxctl_usage_error("run", "invalid ulimit value for %s", spec);
	if (box_config_set_rlimit(cfg, spec, soft, hard) < 0)
		return lib_fail(-1);
	return 0;
}

/* Forward the signals a terminal or a supervisor sends to boxctl to the
 * box, as docker run's sig-proxy does, and wait for it. */
static int wait_forwarding(box *b, int *code, int *sig)
{
	static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	sigset_t set;
	struct pollfd p[2];
	int sfd;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	p[0] = (struct pollfd){ .fd = box_pidfd(b), .events = POLLIN };
	p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		struct signalfd_siginfo si;

		if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			box_kill(b, (int)si.ssi_signo);
	}
	if (sfd >= 0)
		close(sfd);
	return box_wait(b, code, sig);
}

/* The monitor: beside boxctl in a build tree, else where it is installed. */
static int monitor_path(char *out, size_t len)
{
	char self[PATH_MAX];
	const char *env = getenv("LIBBOX_MONITOR");
	ssize_t n;

	if (env && env[0]) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(out, len, "%s/../box-monitor/box-monitor", self) < (int)len &&
			    access(out, X_OK) == 0)
				return 0;
		}
	}
	snprintf(out, len, "%s", LIBBOX_MONITOR_PATH);
	return access(out, X_OK);
}

/* The file the monitor reads the box's OOM kills from, from its state. */
static void oom_file(box *b, char *out, size_t len)
{
	char *text = box_inspect(b);
	json_t *root = text ? json_loads(text, 0, NULL) : NULL, *v;
	size_t i;

	out[0] = '\0';
	json_array_foreach(json_object_get(root, "cgroup_dirs"), i, v) {
		const char *d = json_string_value(v);

		if (d && strstr(d, "/memory/"))
			snprintf(out, len, "%s/memory.oom_control", d);
		else if (d && json_array_size(json_object_get(root, "cgroup_dirs")) == 1)
			snprintf(out, len, "%s/memory.events", d);
	}
	json_decref(root);
	box_string_free(text);
}

/* docker's convention: 127 the command is not found, 126 it cannot be
 * invoked, 125 the box could not be made.  box_start() fails only when
 * execve does; box_create() reports its lookup of the command as
 * "COMMAND: ...". */
static int exit_status_for(int r, bool started, const char *cmd)
{
	const char *msg = box_last_error();
	size_t n = strlen(cmd);
	bool about_cmd = started || (strncmp(msg, cmd, n) == 0 && msg[n] == ':');

	boxctl_error("%s", msg);
	if (about_cmd && r == -ENOENT)
		return 127;
	if (about_cmd && (r == -EACCES || r == -ENOEXEC || started))
		return 126;
	return 125;
}

/* boxctl run -d: a child makes and starts the box (so it is the box's
 * parent and owner), reports the id, then becomes the monitor. */
static int run_detached(box_ctx *ctx, box_config *cfg, const char *cmd, int remove,
			const char *restart, int64_t log_max, int interactive, int tty)
{
	char mon[PATH_MAX], buf[1200], restarts[16];
	int rep[2];
	ssize_t n;
	size_t len = 0;
	pid_t m;

	if (monitor_path(mon, sizeof(mon)) < 0) {
		boxctl_error("box-monitor not found at %s (set LIBBOX_MONITOR)", mon);
		return 125;
	}
	if (pipe2(rep, O_CLOEXEC) < 0) {
		boxctl_error("pipe: %s", strerror(errno));
		return 125;
	}
	fflush(stdout);
	m = fork();
	if (m < 0) {
		boxctl_error("fork: %s", strerror(errno));
		return 125;
	}
	if (m == 0) {
		char self[PATH_MAX], dir[PATH_MAX], pidbuf[16], oom[PATH_MAX], maxbuf[24];
		const char *args[28];
		/* the box's output, errors and input, and the monitor's ends of
		 * them (with -t, the pty's master for all three) */
		int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 }, mon_fd[3];
		int k = 0, null, r;
		box *b = NULL;
		ssize_t sn;

		close(rep[0]);
		setsid();
		if ((!tty && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)) ||
		    (!tty && interactive && pipe2(in, O_CLOEXEC) < 0)) {
			boxctl_error("pipe: %s", strerror(errno));
			_exit(125);
		}
		if ((!tty && box_config_set_stdio(cfg, in[0], out[1], err[1]) < 0) ||
		    box_config_set_annotation(cfg, "boxctl.detached", "true") < 0 ||
		    (tty && box_config_set_annotation(cfg, "boxctl.tty", "true") < 0))
			_exit(lib_fail(-1));
		/* the same exit status as a foreground run's (125, 126, 127) */
		if ((r = box_create(ctx, cfg, &b)) < 0)
			_exit(exit_status_for(r, false, cmd));
		if ((r = box_start(b)) < 0) {
			r = exit_status_for(r, true, cmd);
			boxctl_give_back_upper(b);
			box_destroy(b);
			_exit(r);
		}
		if (tty) {
			mon_fd[0] = box_tty_fd(b);
			mon_fd[1] = -1;
			mon_fd[2] = interactive ? mon_fd[0] : -1;
		} else {
			close(out[1]);
			close(err[1]);
			if (in[0] >= 0)
				close(in[0]);
			mon_fd[0] = out[0];
			mon_fd[1] = err[0];
			mon_fd[2] = in[1];
		}
		snprintf(pidbuf, sizeof(pidbuf), "%d", box_pid(b));
		snprintf(dir, sizeof(dir), "%s/boxes/%s", box_ctx_state_dir(ctx), box_id(b));
		if (boxctl_again.keep)
			boxctl_restore_logs(boxctl_again.keep, dir);
		oom_file(b, oom, sizeof(oom));
		sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[sn > 0 ? sn : 0] = '\0';
		args[k++] = "box-monitor";
		args[k++] = "--pid";
		args[k++] = pidbuf;
		args[k++] = "--dir";
		args[k++] = dir;
		args[k++] = "--out";
		args[k++] = "3";
		if (mon_fd[1] >= 0) {
			args[k++] = "--err";
			args[k++] = "4";
		}
		if (mon_fd[2] >= 0) {
			args[k++] = "--in";
			args[k++] = tty ? "3" : "5";
		}
		if (tty)
			args[k++] = "--tty";
		snprintf(maxbuf, sizeof(maxbuf), "%lld", (long long)log_max);
		args[k++] = "--log-max";
		args[k++] = maxbuf;
		if (oom[0]) {
			args[k++] = "--oom";
			args[k++] = oom;
		}
		if (remove || restart) {
			args[k++] = "--boxctl";
			args[k++] = self;
			args[k++] = box_ctx_state_dir(ctx);
			args[k++] = box_id(b);
		}
		if (remove)
			args[k++] = "--rm";
		if (restart) {
			snprintf(restarts, sizeof(restarts), "%d", boxctl_again.restarts);
			args[k++] = "--restart";
			args[k++] = restart;
			args[k++] = "--restarts";
			args[k++] = restarts;
		}
		args[k] = NULL;
		/* the log exists once run -d returns (the monitor appends to it),
		 * so that `logs` right after finds it */
		{
			char log[PATH_MAX + 8];
			int fd;

			snprintf(log, sizeof(log), "%s/log", dir);
			fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
			if (fd >= 0)
				close(fd);
		}
		if (write(rep[1], box_id(b), 64) != 64)
			_exit(125);
		close(rep[1]);
		/* nothing on the terminal; the monitor's fds on 3, 4 and 5
		 * (moved out of the way first: dup2 onto itself would keep
		 * close-on-exec; /dev/null where there is none); nothing else of
		 * ours or our caller's (the monitor outlives us: an inherited
		 * pipe would stay open as long) */
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		for (int i = 0; i < 3; i++)
			if ((mon_fd[i] = fcntl(mon_fd[i] >= 0 ? mon_fd[i] : null, F_DUPFD_CLOEXEC, 10)) < 0)
				_exit(127);
		for (int i = 0; i < 3; i++)
			if (dup2(mon_fd[i], 3 + i) < 0)
				_exit(127);
		if (syscall(SYS_close_range, 6, ~0u, 0) < 0)
			_exit(127);
		execv(mon, (char *const *)args);
		_exit(127);
	}
	close(rep[1]);
	while ((n = read(rep[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(rep[0]);
	buf[len] = '\0';
	if (len != 64) {
		int st = 0;

		/* the child said why on stderr, and exits as a foreground run */
		while (waitpid(m, &st, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
			return WEXITSTATUS(st);
		boxctl_error("the box could not be started");
		return 125;
	}
	printf("%s\n", buf);
	return 0;
}

/* -t: relay between our terminal (raw, when -i and it is one) and the
 * box's, forward the window size and the signals, until the process ends. */
static int relay_tty(box *b, int interactive, int *code, int *sig)
{
	static const int forwarded[] = { SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGINT };
	int master = box_tty_fd(b), sfd, in_open = interactive;
	struct termios saved;
	bool raw = interactive && isatty(0) && tcgetattr(0, &saved) == 0;
	/* in raw mode ^C reaches the box through its terminal, not as our
	 * SIGINT; without it SIGINT is forwarded like the others */
	size_t nfwd = sizeof(forwarded) / sizeof(forwarded[0]) - (raw ? 1 : 0);
	struct winsize ws;
	sigset_t set;
	char buf[8192];

	if (isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
	if (raw) {
		struct termios t = saved;

		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	for (size_t i = 0; i < nfwd; i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[4] = {
			{ .fd = master, .events = POLLIN },
			{ .fd = in_open ? 0 : -1, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = box_pidfd(b), .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			n = read(master, buf, sizeof(buf));
			if (n > 0 && boxctl_write_all(1, buf, (size_t)n) < 0)
				break;
			if (n <= 0 && p[3].revents)
				break;
		}
		if (p[1].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0)
				in_open = 0;
			else if (boxctl_write_all(master, buf, (size_t)n) < 0)
				in_open = 0;
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGWINCH) {
					if (ioctl(0, TIOCGWINSZ, &ws) == 0)
						ioctl(master, TIOCSWINSZ, &ws);
				} else {
					box_kill(b, (int)si.ssi_signo);
				}
			}
		}
		if (p[3].revents && !p[0].revents) {
			/* gone: what it wrote last is still in the terminal */
			fcntl(master, F_SETFL, O_NONBLOCK);
			while ((n = read(master, buf, sizeof(buf))) > 0)
				if (boxctl_write_all(1, buf, (size_t)n) < 0)
					break;
			break;
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	if (sfd >= 0)
		close(sfd);
	return box_wait(b, code, sig);
}

/* A number 1..65535, or a range A-B: *first and *count. */
static int port_range(const char *s, unsigned *first, unsigned *count)
{
	char *end;
	unsigned long a, b;

	a = strtoul(s, &end, 10);
	b = a;
	if (end != s && *end == '-')
		b = strtoul(end + 1, &end, 10);
	if (*end || a == 0 || a > 65535 || b < a || b > 65535 || !isdigit((unsigned char)s[0]))
		return -1;
	*first = (unsigned)a;
	*count = (unsigned)(b - a + 1);
	return 0;
}

/* -p [IP:]HOST:BOX[/tcp|/udp], either side a port or a range */
static int add_publish(box_config *cfg, const char *arg)
{
	char buf[128], *proto, *colon, *host, *boxp, *ip = NULL;
	unsigned hp, hn, bp, bn;
	int p = BOX_PROTO_TCP;

	if (strlen(arg) >= sizeof(buf))
		return boxctl_usage_error("run", "-p %s: too long", arg);
	snprintf(buf, sizeof(buf), "%s", arg);
	proto = strchr(buf, '/');
	if (proto) {
		*proto++ = '\0';
		if (strcmp(proto, "udp") == 0)
			p = BOX_PROTO_UDP;
		else if (strcmp(proto, "tcp") != 0)
			return boxctl_usage_error("run", "-p %s: protocol \"%s\" is not tcp or udp",
						  arg, proto);
	}
	colon = strrchr(buf, ':');
	if (!colon)
		return boxctl_usage_error("run", "-p %s: want [IP:]HOST_PORT:BOX_PORT[/tcp|/udp]", arg);
	*colon = '\0';
	boxp = colon + 1;
	host = strrchr(buf, ':');
	if (host) {
		*host++ = '\0';
		ip = buf;
	} else {
		host = buf;
	}
	if (port_range(host, &hp, &hn) < 0 || port_range(boxp, &bp, &bn) < 0)
		return boxctl_usage_error("run", "-p %s: a port is 1-65535, a range A-B with A <= B",
					  arg);
	if (hn != bn)
		return boxctl_usage_error("run", "-p %s: the host range has %u ports, the box's %u",
					  arg, hn, bn);
	if (box_config_add_port(cfg, p, ip, (uint16_t)hp, (uint16_t)bp, (uint16_t)hn) < 0)
		return lib_fail(-1);
	return 0;
}

static bool restart_policy_valid(const char *p)
{
	char *end;

	if (strcmp(p, "no") == 0 || strcmp(p, "always") == 0 || strcmp(p, "unless-stopped") == 0 ||
	    strcmp(p, "on-failure") == 0)
		return true;
	if (strncmp(p, "on-failure:", 11) != 0 || !p[11])
		return false;
	return strtol(p + 11, &end, 10) >= 0 && !*end;
}

/* The run's arguments, as an annotation (a JSON array), for boxctl start;
 * the restart policy and the restarts so far. */
static int record_args(box_config *cfg, int argc, char **argv, const char *restart)
{
	json_t *a = json_array();
	char *text, n[16];
	int r;

	for (int i = 1; a && i < argc; i++)
		json_array_append_new(a, json_string(argv[i]));
	text = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	if (!text) {
		boxctl_error("out of memory");
		return -1;
	}
	r = box_config_set_annotation(cfg, "boxctl.args", text);
	free(text);
	snprintf(n, sizeof(n), "%d", boxctl_again.restarts);
	if (r == 0 && boxctl_again.id)
		r = box_config_set_annotation(cfg, "boxctl.restarts", n);
	if (r == 0 && restart)
		r = box_config_set_annotation(cfg, "boxctl.restart", restart);
	return r;
}

int cmd_run(box_ctx *ctx, int argc, char **argv)
{
	box_config *cfg = NULL;
	box *b = NULL;
	unsigned ns = BOX_NS_DEFAULT;
	int net_mode = BOX_NET_BRIDGE; /* as docker run */
	uint32_t groups[64];
	int ngroups = 0, use_init = 1, status = 125, r, c, code = 0, sig = 0, detach = 0, remove = 0;
	int64_t log_max = 10 << 20;
	int interactive = 0, tty = 0;
	const char *rootfs = NULL, *cmdname = NULL, *restart = NULL;
	sigset_t block, old;

	if (box_config_new(&cfg) < 0) {
		boxctl_error("%s", box_last_error());
		goto out;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:e:w:u:v:m:c:p:dit", run_options, NULL)) != -1) {
		r = 0;
		switch (c) {
		case OPT_HELP:
			run_usage(stdout);
			status = 0;
			goto out;
		case OPT_ROOTFS:
			rootfs = optarg;
			r = box_config_set_rootfs(cfg, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case OPT_RM:
			remove = 1;
			break;
		case OPT_RESTART:
			if (!restart_policy_valid(optarg))
				r = boxctl_usage_error("run", "invalid restart policy \"%s\" (no, always, "
							      "unless-stopped, on-failure[:N])", optarg);
			restart = strcmp(optarg, "no") == 0 ? NULL : optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'i':
			interactive = 1;
			break;
		case 't':
			tty = 1;
			break;
		case OPT_LOG_OPT:
			if (strncmp(optarg, "max-size=", 9) != 0 || parse_size(optarg + 9, false, &log_max) < 0)
				r = boxctl_usage_error("run", "invalid --log-opt \"%s\" (max-size=SIZE)", optarg);
			break;
		case 'e':
			r = add_env(cfg, optarg);
			break;
		case 'w':
			r = box_config_set_cwd(cfg, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case 'u':
			r = set_user(cfg, optarg, "run");
			break;
		case OPT_GROUP_ADD:
			if (ngroups >= 64 || parse_u32(optarg, &groups[ngroups]) < 0)
				r = boxctl_usage_error("run", "invalid group \"%s\"", optarg);
			else
				ngroups++;
			break;
		case OPT_HOSTNAME:
			r = box_config_set_hostname(cfg, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case OPT_READ_ONLY:
			r = box_config_set_readonly_root(cfg, 1) < 0 ? lib_fail(-1) : 0;
			break;
		case 'v':
			r = add_volume(cfg, optarg);
			break;
		case OPT_TMPFS:
			r = add_tmpfs(cfg, optarg);
			break;
		case OPT_NETWORK:
			if (strcmp(optarg, "none") == 0)
				net_mode = BOX_NET_NONE;
			else if (strcmp(optarg, "host") == 0)
				net_mode = BOX_NET_HOST;
			else if (strcmp(optarg, "bridge") == 0)
				net_mode = BOX_NET_BRIDGE;
			else
				r = boxctl_usage_error("run", "network mode \"%s\" does not exist "
							      "(bridge, none or host)", optarg);
			break;
		case 'p':
			r = add_publish(cfg, optarg);
			break;
		case OPT_IP:
			r = box_config_set_ip(cfg, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case OPT_DNS:
			r = box_config_add_dns(cfg, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case OPT_CAP_ADD:
			r = box_config_add_cap(cfg, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case OPT_CAP_DROP:
			r = box_config_drop_cap(cfg, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case OPT_SECURITY_OPT:
			r = security_opt(cfg, optarg);
			break;
		case OPT_ULIMIT:
			r = ulimit_opt(cfg, optarg);
			break;
		case 'm':
		case OPT_MEMORY_SWAP:
		case OPT_MEMORY_RESERVATION: {
			int64_t v;
			int limit = c == 'm' ? BOX_LIMIT_MEMORY
				    : c == OPT_MEMORY_SWAP ? BOX_LIMIT_MEMORY_SWAP
							    : BOX_LIMIT_MEMORY_RESERVATION;

			if (parse_size(optarg, c != 'm', &v) < 0)
				r = boxctl_usage_error("run", "invalid size \"%s\" (bytes, or a number "
							      "with b, k, m, g, t)", optarg);
			else
				r = set_limit(cfg, limit, v);
			break;
		}
		case OPT_CPUS: {
			char *end;
			double cpus = strtod(optarg, &end);

			if (*end || end == optarg || cpus <= 0 || cpus > 1e6)
				r = boxctl_usage_error("run", "invalid --cpus \"%s\"", optarg);
			else
				r = set_limit(cfg, BOX_LIMIT_CPU_PERIOD, 100000) ?:
				    set_limit(cfg, BOX_LIMIT_CPU_QUOTA, (int64_t)(cpus * 100000 + 0.5));
			break;
		}
		case OPT_CPU_PERIOD:
		case OPT_CPU_QUOTA:
		case 'c':
		case OPT_PIDS_LIMIT:
		case OPT_BLKIO_WEIGHT: {
			int64_t v;

			if (parse_i64(optarg, &v) < 0) {
				r = boxctl_usage_error("run", "invalid number \"%s\"", optarg);
			} else if (c == OPT_BLKIO_WEIGHT) {
				if (v < 10 || v > 1000)
					r = boxctl_usage_error("run", "--blkio-weight is 10 to 1000");
				else /* docker's 10..1000 onto 1..10000 */
					r = set_limit(cfg, BOX_LIMIT_IO_WEIGHT, 1 + (v - 10) * 9999 / 990);
			} else {
				r = set_limit(cfg, c == OPT_CPU_PERIOD	? BOX_LIMIT_CPU_PERIOD
						   : c == OPT_CPU_QUOTA ? BOX_LIMIT_CPU_QUOTA
						   : c == 'c'		? BOX_LIMIT_CPU_SHARES
									: BOX_LIMIT_PIDS,
					      v);
			}
			break;
		}
		case OPT_CPUSET_CPUS:
		case OPT_CPUSET_MEMS:
			r = box_config_set_cpuset(cfg, c == OPT_CPUSET_CPUS ? optarg : NULL,
						  c == OPT_CPUSET_MEMS ? optarg : NULL) < 0
				    ? lib_fail(-1)
				    : 0;
			break;
		case OPT_DEV_READ_BPS:
			r = io_limit(cfg, BOX_IO_READ_BPS, optarg, true);
			break;
		case OPT_DEV_WRITE_BPS:
			r = io_limit(cfg, BOX_IO_WRITE_BPS, optarg, true);
			break;
		case OPT_DEV_READ_IOPS:
			r = io_limit(cfg, BOX_IO_READ_IOPS, optarg, false);
			break;
		case OPT_DEV_WRITE_IOPS:
			r = io_limit(cfg, BOX_IO_WRITE_IOPS, optarg, false);
			break;
		case OPT_NAME:
			r = box_config_set_name(cfg, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case OPT_CGROUP_PARENT:
			r = box_ctx_set_cgroup_parent(ctx, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case OPT_INIT:
			use_init = 1;
			break;
		case OPT_NO_INIT:
			use_init = 0;
			break;
		case ':':
			r = boxctl_usage_error("run", "flag needs an argument: %s", argv[optind - 1]);
			break;
		default:
			r = optopt ? boxctl_usage_error("run", "unknown shorthand flag: '%c'", optopt)
				   : boxctl_usage_error("run", "unknown flag: %s", argv[optind - 1]);
			break;
		}
		if (r) {
			status = r;
			goto out;
		}
	}
	if (!rootfs) {
		/* an image of the store; its config gives the command */
		if (optind >= argc) {
			status = boxctl_usage_error("run", "no image given (or --rootfs DIR)");
			goto out;
		}
		/* made again by boxctl start: the image it had, by id */
		if (box_config_set_image(cfg, boxctl_again.image ? boxctl_again.image
								 : argv[optind]) < 0) {
			status = lib_fail(-1);
			goto out;
		}
		cmdname = argv[optind++];
	} else if (optind >= argc) {
		status = boxctl_usage_error("run", "no command given");
		goto out;
	}
	if (optind < argc)
		cmdname = argv[optind];
	if ((optind < argc &&
	     box_config_set_argv(cfg, argc - optind, (const char *const *)argv + optind) < 0) ||
	    box_config_set_namespaces(cfg, ns) < 0 || box_config_set_network(cfg, net_mode) < 0 ||
	    box_config_set_init(cfg, use_init) < 0 ||
	    (ngroups && box_config_set_groups(cfg, ngroups, groups) < 0)) {
		status = lib_fail(-1);
		goto out;
	}

	if (restart && remove) {
		status = boxctl_usage_error("run", "conflicting options: --restart and --rm");
		goto out;
	}
	if (boxctl_again.id)
		detach = 1;
	if (restart && !detach) {
		status = boxctl_usage_error("run", "--restart needs -d (a foreground box has no "
						   "monitor to start it again)");
		goto out;
	}
	/* what boxctl start needs to make the box again; under its id and name
	 * when it is made again */
	if (record_args(cfg, argc, argv, restart) < 0 ||
	    (boxctl_again.id && (box_config_set_id(cfg, boxctl_again.id) < 0 ||
				 box_config_set_name(cfg, boxctl_again.name) < 0)) ||
	    (boxctl_again.upper && box_config_set_upper(cfg, boxctl_again.upper) < 0)) {
		status = lib_fail(-1);
		goto out;
	}
	/* as docker: stdin only with -i; -t: a terminal of the box's */
	if (box_config_set_stdio(cfg, interactive ? 0 : -1, 1, 2) < 0 ||
	    box_config_set_tty(cfg, tty) < 0) {
		status = lib_fail(-1);
		goto out;
	}
	if (detach) {
		status = run_detached(ctx, cfg, cmdname, remove, restart, log_max, interactive, tty);
		goto out;
	}
	/* Block the forwarded signals before the box exists, so none is lost;
	 * the box itself starts with an empty mask. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);
	r = box_create(ctx, cfg, &b);
	if (r < 0) {
		status = exit_status_for(r, false, cmdname);
		goto out;
	}
	r = box_start(b);
	if (r < 0) {
		status = exit_status_for(r, true, cmdname);
		goto out;
	}
	r = tty ? relay_tty(b, interactive, &code, &sig) : wait_forwarding(b, &code, &sig);
	if (r < 0) {
		status = lib_fail(r);
		goto out;
	}
	status = sig ? 128 + sig : code;
	if (box_oom_killed(b) == 1 && sig == SIGKILL) {
		/* as docker: 137, and said */
		boxctl_error("the box ran out of memory: the kernel's OOM killer killed its "
			     "command (its memory limit)");
	} else if (box_oom_killed(b) == 1) {
		boxctl_error("warning: the kernel's OOM killer killed a process of the box "
			     "(its memory limit)");
	}
out:
	box_destroy(b);
	box_config_free(cfg);
	return status;
}

/* ---- boxctl exec ---- */

static void exec_usage(FILE *f)
{
	fprintf(f,
		"Usage: boxctl exec [OPTIONS] BOX COMMAND [ARG...]\n"
		"\n"
		"Run a command in a running box: its namespaces, cgroup, root, capabilities\n"
		"and seccomp filter.  boxctl exits with the command's status.\n"
		"\n"
		"Options:\n"
		"  -i, --interactive        keep stdin open (without it: /dev/null)\n"
		"  -t, --tty                give the command a terminal\n"
		"  -d, --detach             start the command and return (its output\n"
		"                           goes to /dev/null)\n"
		"  -e, --env KEY=VALUE      set an environment variable\n"
		"  -w, --workdir DIR        working directory inside the box\n"
		"  -u, --user USER[:GROUP]  user and group (names: the box's own)\n"
		"      --help               show this help\n");
}

int cmd_exec(box_ctx *ctx, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	box_config *cfg = NULL;
	box *b = NULL, *e = NULL;
	int c, r, status = 125, code = 0, sig = 0, interactive = 0, tty = 0, detach = 0;
	sigset_t block;

	if (box_config_new(&cfg) < 0)
		return lib_fail(-1);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:e:w:u:itdh", longs, NULL)) != -1) {
		r = 0;
		switch (c) {
		case 'h':
			exec_usage(stdout);
			status = 0;
			goto out;
		case 'e':
			r = add_env(cfg, optarg);
			break;
		case 'w':
			r = box_config_set_cwd(cfg, optarg) < 0 ? lib_fail(-1) : 0;
			break;
		case 'u':
			r = set_user(cfg, optarg, "exec");
			break;
		case 'i':
			interactive = 1;
			break;
		case 't':
			tty = 1;
			break;
		case 'd':
			detach = 1;
			break;
		case ':':
			r = boxctl_usage_error("exec", "flag needs an argument: %s", argv[optind - 1]);
			break;
		default:
			r = optopt ? boxctl_usage_error("exec", "unknown shorthand flag: '%c'", optopt)
				   : boxctl_usage_error("exec", "unknown flag: %s", argv[optind - 1]);
		}
		if (r) {
			status = r;
			goto out;
		}
	}
	if (argc - optind < 2) {
		status = boxctl_usage_error("exec", "exec needs a box and a command");
		goto out;
	}
	if (detach && (interactive || tty)) {
		status = boxctl_usage_error("exec", "-d takes no -i or -t (nothing would read or "
						    "write the command's terminal)");
		goto out;
	}
	if (box_open(ctx, argv[optind], &b) < 0 ||
	    box_config_set_argv(cfg, argc - optind - 1, (const char *const *)argv + optind + 1) < 0 ||
	    box_config_set_stdio(cfg, interactive ? 0 : -1, detach ? -1 : 1, detach ? -1 : 2) < 0 ||
	    box_config_set_tty(cfg, tty) < 0) {
		status = lib_fail(-1);
		goto out;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	r = box_exec(b, cfg, &e);
	if (r < 0) {
		/* as docker exec: 126 cannot invoke, 127 not found */
		status = exit_status_for(r, false, argv[optind + 1]);
		goto out;
	}
	if (detach) {
		/* it runs on: once we are gone, the box's init (its pid 1)
		 * reaps it */
		box_close(e);
		e = NULL;
		status = 0;
		goto out;
	}
	r = tty ? relay_tty(e, interactive, &code, &sig) : wait_forwarding(e, &code, &sig);
	status = r < 0 ? lib_fail(r) : sig ? 128 + sig : code;
out:
	box_destroy(e);
	box_close(b);
	box_config_free(cfg);
	return status;
}
