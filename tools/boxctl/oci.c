/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl as an OCI runtime: the command line of runc and crun, as podman
 * (through conmon) and containerd (through its runc shim) call it.
 *
 *   create --bundle B --pid-file P [--console-socket S] [--no-pivot] ID
 *   start ID · state ID · kill [--all] ID [SIG] · delete [--force] ID
 *   exec --process F [--detach] [--pid-file P] [--console-socket S] [--tty] ID
 *   run [--bundle B] [--detach] ID · pause ID · resume ID · ps [--format json] ID
 *   list [--format json] [-q] · spec [--bundle B] · features
 *
 * A container is a box whose name is the container's id, in the state
 * directory given by --root.  `create` leaves its first process waiting on
 * a FIFO in the box's state directory (box_config_set_start_fifo) and exits,
 * so that the process's parent becomes the engine's subreaper (conmon, the
 * containerd shim), which reaps it, as with runc.  `start` writes the byte
 * the box waits for. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "box.h"
#include "boxctl.h"

#define OCI_VERSION "1.2.0"
#define BUNDLE_KEY "org.libbox.oci.bundle"

struct oci_globals oci_g;

static void now_iso(char out[40])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out + strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm), 21, ".%09ldZ", ts.tv_nsec);
}

/* A message to the --log file (JSON lines with --log-format json) and,
 * for errors, to stderr. */
static void oci_log(const char *level, const char *fmt, va_list ap)
{
	char msg[4096], t[40];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (strcmp(level, "debug") == 0 && !oci_g.debug)
		return;
	if (strcmp(level, "debug") != 0)
		fprintf(stderr, "%s: %s\n", boxctl_prog, msg);
	if (!oci_g.log)
		return;
	{
		FILE *f = fopen(oci_g.log, "ae");

		if (!f)
			return;
		now_iso(t);
		if (oci_g.json_log) {
			json_t *o = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", t);
			char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;

			if (line)
				fprintf(f, "%s\n", line);
			free(line);
			json_decref(o);
		} else {
			fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", t, level, msg);
		}
		fclose(f);
	}
}

__attribute__((format(printf, 1, 2))) static int oci_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oci_log("error", fmt, ap);
	va_end(ap);
	return 1;
}

__attribute__((format(printf, 1, 2))) static void oci_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oci_log("warning", fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2))) static void oci_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oci_log("debug", fmt, ap);
	va_end(ap);
}

/* "KILL", "SIGKILL", "9", any case; -1 if none. */
static int signal_from(const char *s)
{
	char *end;
	long n;

	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *abbrev = sigabbrev_np(i);

		if (abbrev && strcasecmp(s, abbrev) == 0)
			return i;
	}
	if (strncasecmp(s, "RTMIN+", 6) == 0) {
		n = strtol(s + 6, &end, 10);
		return *end || n < 0 || SIGRTMIN + n > SIGRTMAX ? -1 : SIGRTMIN + (int)n;
	}
	n = strtol(s, &end, 10);
	return *s && !*end && n > 0 && n < NSIG ? (int)n : -1;
}

bool oci_is_signal(const char *s)
{
	return signal_from(s) > 0;
}

/* ---- the state ---- */

static const char *oci_status(int st)
{
	switch (st) {
	case BOX_STATUS_CREATED:
		return "created";
	case BOX_STATUS_RUNNING:
		return "running";
	case BOX_STATUS_PAUSED:
		return "paused";
	default:
		return "stopped";
	}
}

/* The spec's state of b; with status overriding it when not NULL
 * ("creating" for the createRuntime hooks). */
static json_t *state_of(box *b, const char *status)
{
	char *text = box_inspect(b);
	json_t *in = text ? json_loads(text, 0, NULL) : NULL, *ann, *out, *v;
	int st = box_status(b);
	const char *k;

	box_string_free(text);
	if (!in)
		return NULL;
	ann = json_object();
	json_object_foreach(json_object_get(in, "annotations"), k, v)
		if (strcmp(k, BUNDLE_KEY) != 0)
			json_object_set(ann, k, v);
	out = json_pack("{s:s, s:s, s:s, s:i, s:s, s:o}", "ociVersion", OCI_VERSION, "id",
			box_name(b), "status", status ? status : oci_status(st), "pid",
			st == BOX_STATUS_CREATED || st == BOX_STATUS_RUNNING || st == BOX_STATUS_PAUSED
				? box_pid(b)
				: 0,
			"bundle",
			json_string_value(json_object_get(json_object_get(in, "annotations"), BUNDLE_KEY))
				?: "",
			"annotations", ann);
	v = json_object_get(in, "created");
	if (out && v)
		json_object_set(out, "created", v);
	v = json_object_get(in, "rootfs");
	if (out && v)
		json_object_set(out, "rootfs", v);
	if (out)
		json_object_set_new(out, "owner", json_string(""));
	json_decref(in);
	return out;
}

static const char *bundle_of(box *b, char *out, size_t len)
{
	char *text = box_inspect(b);
	json_t *in = text ? json_loads(text, 0, NULL) : NULL;
	const char *v = json_string_value(json_object_get(json_object_get(in, "annotations"), BUNDLE_KEY));

	snprintf(out, len, "%s", v ? v : "");
	json_decref(in);
	box_string_free(text);
	return out;
}

/* ---- hooks ---- */

/* Run one hook with the state on its stdin; 0, or a message made. */
static int run_hook(const char *kind, size_t i, json_t *hook, const char *state)
{
	const char *path = json_string_value(json_object_get(hook, "path"));
	json_t *args = json_object_get(hook, "args"), *env = json_object_get(hook, "env");
	int timeout = (int)json_integer_value(json_object_get(hook, "timeout"));
	char **argv, **envp;
	int in[2], status = 0;
	size_t n;
	pid_t pid;

	if (!path || path[0] != '/')
		return oci_error("hooks.%s[%zu].path: not an absolute path", kind, i);
	argv = calloc(json_array_size(args) + 2, sizeof(char *));
	envp = calloc(json_array_size(env) + 1, sizeof(char *));
	if (!argv || !envp) {
		free(argv);
		free(envp);
		return oci_error("out of memory");
	}
	for (n = 0; n < json_array_size(args); n++)
		argv[n] = (char *)json_string_value(json_array_get(args, n));
	if (n == 0)
		argv[0] = (char *)path;
	for (n = 0; n < json_array_size(env); n++)
		envp[n] = (char *)json_string_value(json_array_get(env, n));
	if (pipe2(in, O_CLOEXEC) < 0) {
		free(argv);
		free(envp);
		return oci_error("hooks.%s[%zu]: pipe: %s", kind, i, strerror(errno));
	}
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		/* the hook's output is not the container's */
		dup2(2, 1);
		execve(path, argv, envp);
		_exit(127);
	}
	close(in[0]);
	free(argv);
	free(envp);
	if (pid < 0) {
		close(in[1]);
		return oci_error("hooks.%s[%zu]: fork: %s", kind, i, strerror(errno));
	}
	{
		struct sigaction ign = { .sa_handler = SIG_IGN }, old;

		sigaction(SIGPIPE, &ign, &old);
		if (write(in[1], state, strlen(state)) < 0 && errno != EPIPE)
			oci_debug("hook %s: writing the state: %s", path, strerror(errno));
		close(in[1]);
		sigaction(SIGPIPE, &old, NULL);
	}
	for (int waited = 0;; waited++) {
		pid_t w = waitpid(pid, &status, timeout > 0 ? WNOHANG : 0);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return oci_error("hooks.%s[%zu]: waitpid: %s", kind, i, strerror(errno));
		if (timeout > 0 && waited >= timeout * 100) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return oci_error("hooks.%s[%zu] (%s): timed out after %d s", kind, i, path,
					 timeout);
		}
		if (timeout > 0)
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return oci_error("hooks.%s[%zu] (%s): exited with status %d", kind, i, path,
				 WEXITSTATUS(status));
	return oci_error("hooks.%s[%zu] (%s): killed by signal %d", kind, i, path, WTERMSIG(status));
}

/* Run every hook of one kind; stops at the first failure (1) unless
 * warn_only, where a failure is logged and the rest still run. */
static int run_hooks(json_t *config, const char *kind, box *b, const char *status, bool warn_only)
{
	json_t *hooks = json_object_get(json_object_get(config, "hooks"), kind), *h, *st;
	char *state;
	size_t i;
	int r = 0;

	if (!json_array_size(hooks))
		return 0;
	st = state_of(b, status);
	state = st ? json_dumps(st, JSON_COMPACT) : NULL;
	json_decref(st);
	if (!state)
		return oci_error("hooks.%s: the state of %s", kind, box_name(b));
	json_array_foreach(hooks, i, h) {
		if (run_hook(kind, i, h, state) == 0)
			continue;
		if (!warn_only) {
			r = 1;
			break;
		}
		oci_warn("hooks.%s[%zu] failed; going on", kind, i);
	}
	free(state);
	return r;
}

static json_t *load_config(const char *bundle)
{
	char path[PATH_MAX + 16];

	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >= (int)sizeof(path))
		return NULL;
	return json_load_file(path, 0, NULL);
}

/* ---- the console socket ---- */

/* Send fd to the AF_UNIX socket at path, as SCM_RIGHTS with the pty's
 * name, as runc does. */
static int send_console(const char *path, int fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char data[] = "/dev/ptmx";
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	int s, r = 0;

	if (fd < 0)
		return oci_error("--console-socket: the process has no terminal (process.terminal)");
	if (strlen(path) >= sizeof(sa.sun_path))
		return oci_error("--console-socket %s: path too long", path);
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = oci_error("--console-socket %s: %s", path, strerror(errno));
		if (s >= 0)
			close(s);
		return r;
	}
	memset(u.buf, 0, sizeof(u.buf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		r = oci_error("--console-socket %s: sendmsg: %s", path, strerror(errno));
	close(s);
	return r;
}

/* Write pid to path atomically (write a temporary, rename), as engines
 * read it as soon as it appears. */
static int write_pid_file(const char *path, int pid)
{
	char tmp[PATH_MAX + 16];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.boxctl-tmp", path) >= (int)sizeof(tmp))
		return oci_error("--pid-file %s: path too long", path);
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "%d", pid) < 0 || fclose(f) != 0) {
		if (f)
			fclose(f);
		unlink(tmp);
		return oci_error("--pid-file %s: %s", path, strerror(errno));
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return oci_error("--pid-file %s: %s", path, strerror(errno));
	}
	return 0;
}

/* ---- options ---- */

struct oci_opts {
	const char *bundle, *pid_file, *console, *process, *format, *cwd, *user;
	bool no_pivot, detach, tty, all, force, quiet, rootless, keep;
	const char *env[64];
	int nenv;
};

enum {
	O_BUNDLE = 'b', O_DETACH = 'd', O_TTY = 't', O_ALL = 'a', O_FORCE = 'f', O_QUIET = 'q',
	O_PROCESS = 'p', O_ENV = 'e', O_CWD = 256, O_PIDFILE, O_CONSOLE, O_NOPIVOT, O_FORMAT,
	O_IGNORED, O_IGNORED_ARG, O_USER, O_ROOTLESS, O_KEEP,
};

static const struct option oci_longopts[] = {
	{ "bundle", required_argument, NULL, O_BUNDLE },
	{ "pid-file", required_argument, NULL, O_PIDFILE },
	{ "console-socket", required_argument, NULL, O_CONSOLE },
	{ "no-pivot", no_argument, NULL, O_NOPIVOT },
	{ "detach", no_argument, NULL, O_DETACH },
	{ "tty", no_argument, NULL, O_TTY },
	{ "all", no_argument, NULL, O_ALL },
	{ "force", no_argument, NULL, O_FORCE },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "process", required_argument, NULL, O_PROCESS },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "env", required_argument, NULL, O_ENV },
	{ "cwd", required_argument, NULL, O_CWD },
	{ "user", required_argument, NULL, O_USER },
	{ "rootless", required_argument, NULL, O_ROOTLESS },
	{ "keep", no_argument, NULL, O_KEEP },
	/* accepted for the engines' sake, without effect here */
	{ "no-new-keyring", no_argument, NULL, O_IGNORED },
	{ "no-subreaper", no_argument, NULL, O_IGNORED },
	{ "preserve-fds", required_argument, NULL, O_IGNORED_ARG },
	{ "criu", required_argument, NULL, O_IGNORED_ARG },
	{ "process-label", required_argument, NULL, O_IGNORED_ARG },
	{ "apparmor", required_argument, NULL, O_IGNORED_ARG },
	{ "cap", required_argument, NULL, O_IGNORED_ARG },
	{ "additional-gids", required_argument, NULL, O_IGNORED_ARG },
	{ "signal", required_argument, NULL, O_IGNORED_ARG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Parse argv (argv[0] the verb); the positionals are left from *first. */
static int oci_parse(int argc, char **argv, struct oci_opts *o, int *first)
{
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+b:dtafqp:e:h", oci_longopts, NULL)) != -1) {
		switch (c) {
		case O_BUNDLE: o->bundle = optarg; break;
		case O_PIDFILE: o->pid_file = optarg; break;
		case O_CONSOLE: o->console = optarg; break;
		case O_NOPIVOT: o->no_pivot = true; break;
		case O_DETACH: o->detach = true; break;
		case O_TTY: o->tty = true; break;
		case O_ALL: o->all = true; break;
		case O_FORCE: o->force = true; break;
		case O_QUIET: o->quiet = true; break;
		case O_PROCESS: o->process = optarg; break;
		case O_FORMAT: o->format = optarg; break;
		case O_CWD: o->cwd = optarg; break;
		case O_USER: o->user = optarg; break;
		case O_ROOTLESS: o->rootless = strcmp(optarg, "true") == 0; break;
		case O_KEEP: o->keep = true; break;
		case O_ENV:
			if (o->nenv >= (int)(sizeof(o->env) / sizeof(o->env[0])))
				return oci_error("%s: too many --env", argv[0]);
			o->env[o->nenv++] = optarg;
			break;
		case O_IGNORED:
		case O_IGNORED_ARG:
			break;
		case 'h':
			printf("See boxctl(1), section OCI RUNTIME.\n");
			exit(0);
		default:
			return oci_error("%s: unknown flag or missing argument: %s", argv[0],
					 argv[optind - 1]);
		}
	}
	*first = optind;
	return 0;
}

static int need_id(int argc, char **argv, int first, int max)
{
	if (argc - first < 1)
		return oci_error("%s: a container id is needed", argv[0]);
	if (argc - first > max)
		return oci_error("%s: too many arguments: %s", argv[0], argv[first + max]);
	return 0;
}

static int open_container(box_ctx *ctx, const char *id, box **b)
{
	int r = box_open(ctx, id, b);

	if (r == -ENOENT)
		return oci_error("container \"%s\" does not exist", id);
	if (r < 0)
		return oci_error("%s", box_last_error());
	return 0;
}

/* ---- create, start, run ---- */

/* Make the container of bundle as box id; *out gets it, waiting on its
 * FIFO when fifo. */
static int make_container(box_ctx *ctx, const struct oci_opts *o, const char *id, bool fifo,
			  json_t **config, box **out)
{
	const char *bundle = o->bundle ? o->bundle : ".";
	char abs[PATH_MAX];
	box_config *cfg = NULL;
	box *b = NULL;
	int r;

	*out = NULL;
	if (!realpath(bundle, abs))
		return oci_error("bundle %s: %s", bundle, strerror(errno));
	r = box_config_from_oci(abs, &cfg);
	if (r < 0)
		return oci_error("%s", box_last_error());
	*config = load_config(abs);
	if ((r = box_config_set_name(cfg, id)) < 0 ||
	    (r = box_config_set_annotation(cfg, BUNDLE_KEY, abs)) < 0 ||
	    (fifo && (r = box_config_set_start_fifo(cfg, 1)) < 0) ||
	    (o->no_pivot && (r = box_config_set_no_pivot(cfg, 1)) < 0)) {
		box_config_free(cfg);
		return oci_error("%s", box_last_error());
	}
	oci_debug("create %s from %s", id, abs);
	r = box_create(ctx, cfg, &b);
	box_config_free(cfg);
	if (r == -EEXIST)
		return oci_error("container \"%s\" already exists", id);
	if (r < 0)
		return oci_error("%s", box_last_error());
	/* the runtime's environment exists: the hooks of create, which see
	 * the state (prestart is createRuntime's deprecated twin) */
	if (run_hooks(*config, "prestart", b, "created", false) ||
	    run_hooks(*config, "createRuntime", b, "creating", false) ||
	    run_hooks(*config, "createContainer", b, "creating", false)) {
		box_destroy(b);
		return 1;
	}
	if (o->console && send_console(o->console, box_tty_fd(b))) {
		box_destroy(b);
		return 1;
	}
	if (o->pid_file && write_pid_file(o->pid_file, box_pid(b))) {
		box_destroy(b);
		return 1;
	}
	*out = b;
	return 0;
}

static int oci_create(box_ctx *ctx, int argc, char **argv)
{
	struct oci_opts o;
	json_t *config = NULL;
	box *b;
	int first;

	if (oci_parse(argc, argv, &o, &first) || need_id(argc, argv, first, 1))
		return 1;
	if (make_container(ctx, &o, argv[first], true, &config, &b)) {
		json_decref(config);
		return 1;
	}
	json_decref(config);
	/* the box waits on its FIFO; its parent becomes our reaper's child */
	box_close(b);
	return 0;
}

/* After a start: the poststart hooks (a failure only warns, as the spec
 * says). */
static void after_start(box *b, json_t *config)
{
	run_hooks(config, "poststart", b, NULL, true);
}

static int oci_start(box_ctx *ctx, int argc, char **argv)
{
	struct oci_opts o;
	char bundle[PATH_MAX];
	json_t *config;
	box *b;
	int first, st, r;

	if (oci_parse(argc, argv, &o, &first) || need_id(argc, argv, first, 1))
		return 1;
	if (open_container(ctx, argv[first], &b))
		return 1;
	st = box_status(b);
	if (st != BOX_STATUS_CREATED) {
		box_close(b);
		return oci_error("container \"%s\" is %s, not created", argv[first], oci_status(st));
	}
	config = load_config(bundle_of(b, bundle, sizeof(bundle)));
	/* startContainer hooks run in the runtime's namespaces here (see the
	 * compatibility table) */
	if (run_hooks(config, "startContainer", b, NULL, false)) {
		json_decref(config);
		box_close(b);
		return 1;
	}
	r = box_start(b);
	if (r < 0) {
		json_decref(config);
		box_close(b);
		return oci_error("%s", box_last_error());
	}
	after_start(b, config);
	json_decref(config);
	box_close(b);
	return 0;
}

static int oci_delete_box(box *b, json_t *config);

static int oci_run(box_ctx *ctx, int argc, char **argv)
{
	struct oci_opts o;
	json_t *config = NULL;
	int first, code = 0, sig = 0, r;
	box *b;

	if (oci_parse(argc, argv, &o, &first) || need_id(argc, argv, first, 1))
		return 1;
	if (make_container(ctx, &o, argv[first], o.detach, &config, &b)) {
		json_decref(config);
		return 1;
	}
	if (run_hooks(config, "startContainer", b, NULL, false)) {
		box_destroy(b);
		json_decref(config);
		return 1;
	}
	r = box_start(b);
	if (r < 0) {
		oci_error("%s", box_last_error());
		box_destroy(b);
		json_decref(config);
		return 1;
	}
	after_start(b, config);
	if (o.detach) {
		box_close(b);
		json_decref(config);
		return 0;
	}
	/* in the foreground: wait, then delete, as runc run does */
	box_wait(b, &code, &sig);
	oci_delete_box(b, config);
	json_decref(config);
	return sig ? 128 + sig : code;
}

/* ---- state, kill, delete, pause, resume, ps, list ---- */

static int oci_state(box_ctx *ctx, int argc, char **argv)
{
	struct oci_opts o;
	json_t *st;
	char *text;
	box *b;
	int first;

	if (oci_parse(argc, argv, &o, &first) || need_id(argc, argv, first, 1))
		return 1;
	if (open_container(ctx, argv[first], &b))
		return 1;
	st = state_of(b, NULL);
	text = st ? json_dumps(st, JSON_INDENT(2)) : NULL;
	json_decref(st);
	box_close(b);
	if (!text)
		return oci_error("state of %s: out of memory", argv[first]);
	printf("%s\n", text);
	free(text);
	return 0;
}

static int oci_kill(box_ctx *ctx, int argc, char **argv)
{
	struct oci_opts o;
	int first, sig = SIGTERM, st, r;
	box *b;

	if (oci_parse(argc, argv, &o, &first) || need_id(argc, argv, first, 2))
		return 1;
	if (argc - first == 2 && (sig = signal_from(argv[first + 1])) < 0)
		return oci_error("kill: invalid signal \"%s\"", argv[first + 1]);
	if (open_container(ctx, argv[first], &b))
		return 1;
	st = box_status(b);
	if (st != BOX_STATUS_CREATED && st != BOX_STATUS_RUNNING && st != BOX_STATUS_PAUSED &&
	    !o.all) {
		box_close(b);
		return oci_error("container \"%s\" is not running", argv[first]);
	}
	r = o.all ? box_kill_all(b, sig) : box_kill(b, sig);
	if (r == -ENOTSUP && o.all)
		r = box_kill(b, sig);
	if (r == -ESRCH && o.all)
		r = 0;
	box_close(b);
	if (r < 0)
		return oci_error("%s", box_last_error());
	return 0;
}

/* Remove a box and run the poststop hooks (whose failure only warns). */
static int oci_delete_box(box *b, json_t *config)
{
	json_t *st = state_of(b, "stopped");
	char *state = st ? json_dumps(st, JSON_COMPACT) : NULL;
	json_t *hooks = json_object_get(json_object_get(config, "hooks"), "poststop"), *h;
	size_t i;
	int r;

	json_decref(st);
	r = box_destroy(b);
	json_array_foreach(hooks, i, h)
		if (state && run_hook("poststop", i, h, state))
			oci_warn("hooks.poststop[%zu] failed; going on", i);
	free(state);
	if (r < 0)
		return oci_error("%s", box_last_error());
	return 0;
}

static int oci_delete(box_ctx *ctx, int argc, char **argv)
{
	struct oci_opts o;
	char bundle[PATH_MAX];
	json_t *config;
	int first, st, r;
	box *b;

	if (oci_parse(argc, argv, &o, &first) || need_id(argc, argv, first, 1))
		return 1;
	r = box_open(ctx, argv[first], &b);
	if (r == -ENOENT && o.force)
		return 0; /* gone already: what --force asks for */
	if (r == -ENOENT)
		return oci_error("container \"%s\" does not exist", argv[first]);
	if (r < 0)
		return oci_error("%s", box_last_error());
	st = box_status(b);
	if (!o.force && (st == BOX_STATUS_CREATED || st == BOX_STATUS_RUNNING ||
			 st == BOX_STATUS_PAUSED)) {
		box_close(b);
		return oci_error("container \"%s\" is %s: stop it first, or use --force", argv[first],
				 oci_status(st));
	}
	config = load_config(bundle_of(b, bundle, sizeof(bundle)));
	r = oci_delete_box(b, config);
	json_decref(config);
	return r;
}

static int oci_pause_resume(box_ctx *ctx, int argc, char **argv, bool pause)
{
	struct oci_opts o;
	int first, st, r;
	box *b;

	if (oci_parse(argc, argv, &o, &first) || need_id(argc, argv, first, 1))
		return 1;
	if (open_container(ctx, argv[first], &b))
		return 1;
	st = box_status(b);
	if (pause ? st != BOX_STATUS_RUNNING && st != BOX_STATUS_CREATED : st != BOX_STATUS_PAUSED) {
		box_close(b);
		return oci_error("container \"%s\" is %s, not %s", argv[first], oci_status(st),
				 pause ? "running" : "paused");
	}
	r = pause ? box_pause(b) : box_resume(b);
	box_close(b);
	if (r < 0)
		return oci_error("%s", box_last_error());
	return 0;
}

static int oci_ps(box_ctx *ctx, int argc, char **argv)
{
	struct oci_opts o;
	int first, n, pids[4096];
	box *b;

	if (oci_parse(argc, argv, &o, &first) || need_id(argc, argv, first, 64))
		return 1;
	if (open_container(ctx, argv[first], &b))
		return 1;
	n = box_pids(b, pids, 4096);
	box_close(b);
	if (n < 0)
		return oci_error("%s", box_last_error());
	if (n > 4096)
		n = 4096;
	if (o.format && strcmp(o.format, "json") == 0) {
		printf("[");
		for (int i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", pids[i]);
		printf("]\n");
		return 0;
	}
	if (o.format && strcmp(o.format, "table") != 0)
		return oci_error("ps: unknown format \"%s\"", o.format);
	{
		/* runc hands the rest to ps(1); the pids alone here */
		printf("PID\n");
		for (int i = 0; i < n; i++)
			printf("%d\n", pids[i]);
	}
	return 0;
}

struct list_ctx {
	box_ctx *ctx;
	json_t *all;
};

static int list_one(const char *id, void *user)
{
	struct list_ctx *l = user;
	json_t *st;
	box *b;

	if (box_open(l->ctx, id, &b) < 0)
		return 0; /* gone meanwhile */
	st = state_of(b, NULL);
	if (st)
		json_array_append_new(l->all, st);
	box_close(b);
	return 0;
}

static int oci_list(box_ctx *ctx, int argc, char **argv)
{
	struct oci_opts o;
	struct list_ctx l = { ctx, json_array() };
	json_t *st;
	size_t i;
	int first, r;

	if (oci_parse(argc, argv, &o, &first))
		return 1;
	r = box_list(ctx, list_one, &l);
	if (r < 0) {
		json_decref(l.all);
		return oci_error("%s", box_last_error());
	}
	if (o.format && strcmp(o.format, "json") == 0) {
		char *text = json_dumps(l.all, JSON_COMPACT);

		printf("%s\n", text ? text : "[]");
		free(text);
	} else if (o.quiet) {
		json_array_foreach(l.all, i, st)
			printf("%s\n", json_string_value(json_object_get(st, "id")));
	} else {
		printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
		json_array_foreach(l.all, i, st)
			printf("%-24s %-8lld %-10s %-40s %s\n",
			       json_string_value(json_object_get(st, "id")),
			       (long long)json_integer_value(json_object_get(st, "pid")),
			       json_string_value(json_object_get(st, "status")),
			       json_string_value(json_object_get(st, "bundle")),
			       json_string_value(json_object_get(st, "created")) ?: "");
	}
	json_decref(l.all);
	return 0;
}

/* ---- exec ---- */

static int oci_exec(box_ctx *ctx, int argc, char **argv)
{
	struct oci_opts o;
	box_config *proc = NULL;
	box *b = NULL, *e = NULL;
	int first, r, code = 0, sig = 0;

	if (oci_parse(argc, argv, &o, &first))
		return 1;
	if (argc - first < 1)
		return oci_error("exec: a container id is needed");
	if (o.process) {
		if (argc - first > 1)
			return oci_error("exec: --process and a command: one or the other");
		r = box_config_from_oci_process(o.process, &proc);
	} else if (argc - first < 2) {
		return oci_error("exec: a command or --process is needed");
	} else {
		r = box_config_new(&proc);
		if (r == 0)
			r = box_config_set_argv(proc, argc - first - 1,
						(const char *const *)argv + first + 1);
		for (int i = 0; r == 0 && i < o.nenv; i++) {
			char name[1024];
			const char *eq = strchr(o.env[i], '=');

			if (!eq || (size_t)(eq - o.env[i]) >= sizeof(name)) {
				box_config_free(proc);
				return oci_error("exec: --env %s: not NAME=VALUE", o.env[i]);
			}
			snprintf(name, sizeof(name), "%.*s", (int)(eq - o.env[i]), o.env[i]);
			r = box_config_set_env(proc, name, eq + 1);
		}
		if (r == 0 && o.cwd)
			r = box_config_set_cwd(proc, o.cwd);
	}
	if (r == 0 && o.tty)
		r = box_config_set_tty(proc, 1);
	if (r < 0) {
		box_config_free(proc);
		return oci_error("%s", box_last_error());
	}
	if (open_container(ctx, argv[first], &b)) {
		box_config_free(proc);
		return 1;
	}
	r = box_exec(b, proc, &e);
	box_config_free(proc);
	box_close(b);
	if (r < 0)
		return oci_error("%s", box_last_error());
	if (o.console && send_console(o.console, box_tty_fd(e))) {
		box_destroy(e);
		return 1;
	}
	if (o.pid_file && write_pid_file(o.pid_file, box_pid(e))) {
		box_destroy(e);
		return 1;
	}
	if (o.detach) {
		/* its parent becomes our reaper's: the engine waits for it */
		box_close(e);
		return 0;
	}
	box_wait(e, &code, &sig);
	box_destroy(e);
	return sig ? 128 + sig : code;
}

/* ---- spec, features ---- */

static int oci_spec(box_ctx *ctx, int argc, char **argv)
{
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };
	struct oci_opts o;
	char path[PATH_MAX + 16];
	json_t *spec, *c, *ns, *mounts;
	int first, fd;
	FILE *f;

	(void)ctx;
	if (oci_parse(argc, argv, &o, &first))
		return 1;
	snprintf(path, sizeof(path), "%s/config.json", o.bundle ? o.bundle : ".");
	c = json_array();
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		json_array_append_new(c, json_string(caps[i]));
	ns = json_pack("[{s:s},{s:s},{s:s},{s:s},{s:s}]", "type", "pid", "type", "network", "type",
		       "ipc", "type", "uts", "type", "mount");
	if (ns && !o.rootless)
		json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
	mounts = json_pack(
		"[{s:s, s:s, s:s},"
		" {s:s, s:s, s:s, s:[s,s,s,s]},"
		" {s:s, s:s, s:s, s:[s,s,s,s,s,s]},"
		" {s:s, s:s, s:s, s:[s,s,s]},"
		" {s:s, s:s, s:s, s:[s,s,s]},"
		" {s:s, s:s, s:s, s:[s,s,s,s]},"
		" {s:s, s:s, s:s, s:[s,s,s,s,s]}]",
		"destination", "/proc", "type", "proc", "source", "proc",
		"destination", "/dev", "type", "tmpfs", "source", "tmpfs", "options", "nosuid",
		"strictatime", "mode=755", "size=65536k",
		"destination", "/dev/pts", "type", "devpts", "source", "devpts", "options", "nosuid",
		"noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
		"destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options", "nosuid",
		"noexec", "nodev",
		"destination", "/dev/mqueue", "type", "mqueue", "source", "mqueue", "options",
		"nosuid", "noexec", "nodev",
		"destination", "/sys", "type", "sysfs", "source", "sysfs", "options", "nosuid",
		"noexec", "nodev", "ro",
		"destination", "/sys/fs/cgroup", "type", "cgroup", "source", "cgroup", "options",
		"nosuid", "noexec", "nodev", "relatime", "ro");
	spec = json_pack(
		"{s:s, s:{s:b, s:{s:i, s:i}, s:[s], s:[s,s], s:s, s:{s:O, s:O, s:O},"
		" s:[{s:s, s:i, s:i}], s:b}, s:{s:s, s:b}, s:s, s:o,"
		" s:{s:o, s:[s,s,s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s],"
		" s:{s:[{s:b, s:s}]}}}",
		"ociVersion", OCI_VERSION,
		"process", "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
		"cwd", "/", "capabilities", "bounding", c, "effective", c, "permitted", c,
		"rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
		"noNewPrivileges", 1,
		"root", "path", "rootfs", "readonly", 1, "hostname", "boxctl", "mounts", mounts,
		"linux", "namespaces", ns, "maskedPaths", "/proc/acpi", "/proc/asound", "/proc/kcore",
		"/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/sys/firmware", "/proc/scsi",
		"readonlyPaths", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
		"/proc/sysrq-trigger", "/sys/fs/cgroup",
		"resources", "devices", "allow", 0, "access", "rwm");
	json_decref(c);
	if (!spec)
		return oci_error("spec: out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		json_decref(spec);
		return oci_error("spec: %s: %s", path, strerror(errno));
	}
	f = fdopen(fd, "w");
	if (!f || json_dumpf(spec, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF ||
	    fclose(f) != 0) {
		json_decref(spec);
		unlink(path);
		return oci_error("spec: writing %s", path);
	}
	json_decref(spec);
	return 0;
}

static int oci_features(box_ctx *ctx, int argc, char **argv)
{
	json_t *caps = json_array(), *f;
	char *text;

	(void)ctx;
	(void)argc;
	(void)argv;
	for (int c = 0; c <= 40; c++) {
		char name[32];
		const char *const known[] = {
			"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
			"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
			"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
			"SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
			"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
			"AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
			"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
		};

		snprintf(name, sizeof(name), "CAP_%s", known[c]);
		json_array_append_new(caps, json_string(name));
	}
	f = json_pack(
		"{s:s, s:s, s:[s,s,s,s,s,s], s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s],"
		" s:{s:[s,s,s,s,s,s,s,s], s:o,"
		"    s:{s:b, s:b, s:b, s:b, s:b},"
		"    s:{s:b, s:[s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s,s], s:[s,s,s,s]},"
		"    s:{s:b}, s:{s:b}},"
		" s:{s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION,
		"hooks", "prestart", "createRuntime", "createContainer", "startContainer", "poststart",
		"poststop",
		"mountOptions", "bind", "rbind", "norbind", "ro", "rw", "nosuid", "suid", "nodev", "dev",
		"noexec", "exec", "relatime", "norelatime", "strictatime", "noatime", "nodiratime",
		"diratime", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable",
		"linux", "namespaces", "cgroup", "ipc", "mount", "network", "pid", "user", "uts",
		"time", "capabilities", caps,
		"cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0,
		"seccomp", "enabled", 1, "actions", "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
		"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE",
		"SCMP_ACT_TRAP", "operators", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
		"SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", "archs",
		"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
		"apparmor", "enabled", 0, "selinux", "enabled", 0,
		"annotations", "org.libbox.version", box_version());
	if (!f)
		return oci_error("features: out of memory");
	text = json_dumps(f, JSON_INDENT(4));
	json_decref(f);
	printf("%s\n", text ? text : "{}");
	free(text);
	return 0;
}

/* ---- dispatch ---- */

static const struct {
	const char *name;
	int (*fn)(box_ctx *ctx, int argc, char **argv);
} oci_verbs[] = {
	{ "create", oci_create }, { "start", oci_start },   { "state", oci_state },
	{ "kill", oci_kill },	  { "delete", oci_delete }, { "run", oci_run },
	{ "exec", oci_exec },	  { "ps", oci_ps },	    { "list", oci_list },
	{ "spec", oci_spec },	  { "features", oci_features },
};

static int oci_pause(box_ctx *ctx, int argc, char **argv)
{
	return oci_pause_resume(ctx, argc, argv, true);
}

static int oci_resume(box_ctx *ctx, int argc, char **argv)
{
	return oci_pause_resume(ctx, argc, argv, false);
}

int (*oci_verb(const char *name))(box_ctx *, int, char **)
{
	if (strcmp(name, "pause") == 0)
		return oci_pause;
	if (strcmp(name, "resume") == 0)
		return oci_resume;
	for (size_t i = 0; i < sizeof(oci_verbs) / sizeof(oci_verbs[0]); i++)
		if (strcmp(name, oci_verbs[i].name) == 0)
			return oci_verbs[i].fn;
	return NULL;
}

/* Whether argv (argv[0] the verb) is the OCI form of a verb both
 * languages have: recognised by its OCI flags, or for kill by its
 * "ID SIGNAL" shape, for ps by its container id, for start by its
 * container being created. */
bool oci_form(box_ctx *ctx, int argc, char **argv)
{
	const char *verb = argv[0];
	int positional = 0;

	if (strcmp(verb, "start") == 0) {
		box *b;
		bool created;

		if (argc != 2 || argv[1][0] == '-' || box_open(ctx, argv[1], &b) < 0)
			return false;
		created = box_status(b) == BOX_STATUS_CREATED;
		box_close(b);
		return created;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(verb, "run") == 0 &&
		    (strcmp(a, "--bundle") == 0 || strncmp(a, "--bundle=", 9) == 0 ||
		     strcmp(a, "-b") == 0 || strcmp(a, "--pid-file") == 0 ||
		     strncmp(a, "--pid-file=", 11) == 0 || strcmp(a, "--console-socket") == 0))
			return true;
		if (strcmp(verb, "exec") == 0 &&
		    (strcmp(a, "--process") == 0 || strncmp(a, "--process=", 10) == 0 ||
		     strcmp(a, "--pid-file") == 0 || strncmp(a, "--pid-file=", 11) == 0 ||
		     strcmp(a, "--console-socket") == 0))
			return true;
		if (strcmp(verb, "kill") == 0 && (strcmp(a, "--all") == 0 || strcmp(a, "-a") == 0))
			return true;
		if (a[0] != '-')
			positional++;
	}
	if (strcmp(verb, "kill") == 0)
		return positional == 2 && argv[argc - 1][0] != '-' && oci_is_signal(argv[argc - 1]);
	if (strcmp(verb, "ps") == 0)
		return positional >= 1;
	return false;
}
