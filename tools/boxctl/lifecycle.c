/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl start, restart and attach.  start and restart: a detached box that exited is made again, with
 * the arguments its `run` recorded (the annotation boxctl.args), under its
 * id and name, keeping its log.  The monitor's restart policies use the
 * same path (`start --restarted`).  attach: a client of the monitor's
 * DIR/attach socket (see tools/box-monitor). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "box.h"
#include "boxctl.h"

struct boxctl_again boxctl_again;

static void box_dir(box_ctx *ctx, const char *id, const char *file, char *out, size_t len)
{
	snprintf(out, len, "%s/boxes/%s%s%s", box_ctx_state_dir(ctx), id, file ? "/" : "",
		 file ? file : "");
}

/* boxctl stop and kill: the user stopped the box, so its restart policy
 * leaves it stopped (docker's rule). */
void boxctl_mark_stopped(box_ctx *ctx, box *b)
{
	char path[PATH_MAX];
	int fd;

	box_dir(ctx, box_id(b), "stopped", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

static const char *const logs[] = { "log", "log.1" };

/* Move the log files from one directory to another (to NULL: remove
 * them); an absent file is no error. */
static void move_logs(const char *from_dir, const char *to_dir)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];

	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		snprintf(from, sizeof(from), "%s/%s", from_dir, logs[i]);
		snprintf(to, sizeof(to), "%s/%s", to_dir ? to_dir : "", logs[i]);
		if (to_dir)
			rename(from, to);
		else
			unlink(from);
	}
}

static json_t *inspect_json(box *b)
{
	char *text = box_inspect(b);
	json_t *root = text ? json_loads(text, 0, NULL) : NULL;

	box_string_free(text);
	return root;
}

static const char *annotation(json_t *root, const char *key)
{
	return json_string_value(json_object_get(json_object_get(root, "annotations"), key));
}

/* The box made again could not start: the writable layer it took goes
 * back where boxctl start kept it, before box_destroy removes the box. */
void boxctl_give_back_upper(box *b)
{
	json_t *root;
	const char *bdir, *storage;
	char from[PATH_MAX + 8];

	if (!boxctl_again.upper)
		return;
	root = inspect_json(b);
	bdir = json_string_value(json_object_get(root, "box_dir"));
	storage = json_string_value(json_object_get(root, "storage"));
	if (bdir) {
		snprintf(from, sizeof(from), "%s/%s", bdir,
			 storage && strcmp(storage, "vfs") == 0 ? "rootfs" : "upper");
		rename(from, boxctl_again.upper);
	}
	json_decref(root);
}

/* The log files of the box made again, back in its directory. */
void boxctl_restore_logs(const char *keep, const char *dir)
{
	move_logs(keep, dir);
	rmdir(keep);
}

/* Wait (up to 10 s) for the process that recorded the box's exit, its
 * monitor, to be done with the box's directory.  Its own restart policy
 * runs `start` as that very process. */
static void wait_owner(json_t *root)
{
	json_int_t pid = json_integer_value(json_object_get(json_object_get(root, "owner"), "pid"));
	int fd;

	if (pid <= 0 || pid == getpid())
		return;
	fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (fd >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 10000);
		close(fd);
	}
}


/* STATE/boxes/.restarting-NAME: there while boxctl start makes the box
 * NAME again (between removing it and making it, it is nowhere). */
static void restarting_path(box_ctx *ctx, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/boxes/.restarting-%s", box_ctx_state_dir(ctx), name);
}

/* Whether the box called what is being made again (a mark of the last
 * 10 s: one left by a start that died is not believed). */
static bool restarting(box_ctx *ctx, const char *what)
{
	char path[PATH_MAX];
	struct stat st;

	if (strchr(what, '/'))
		return false;
	restarting_path(ctx, what, path, sizeof(path));
	return stat(path, &st) == 0 && time(NULL) - st.st_mtime < 10;
}

/* boxctl stop and restart.  A box with a restart policy may be in the
 * middle of being made again by its monitor, which would not see a mark
 * put in the old box's directory: wait for the process that owned the box
 * we stopped to be done and, if it made the box again, stop that one too. */
int boxctl_stop_for_good(box_ctx *ctx, const char *what, int seconds)
{
	char created[64] = "";

	for (int round = 0; round < 5; round++) {
		box *b = NULL;
		json_t *root;
		int r;

		if (box_open(ctx, what, &b) < 0) {
			if (round > 0)
				return 0;
			/* a box its monitor is making again right now (up to 5 s) */
			for (int i = 0; i < 100 && restarting(ctx, what); i++) {
				usleep(50000);
				if (box_open(ctx, what, &b) == 0)
					break;
			}
			if (!b) {
				boxctl_error("%s", box_last_error());
				return -1;
			}
		}
		root = inspect_json(b);
		if (round > 0 && (box_status(b) != BOX_STATUS_RUNNING ||
				  strcmp(json_string_value(json_object_get(root, "created")) ?: "",
					 created) == 0)) {
			json_decref(root);
			box_close(b);
			return 0;
		}
		snprintf(created, sizeof(created), "%s",
			 json_string_value(json_object_get(root, "created")) ?: "");
		boxctl_mark_stopped(ctx, b);
		r = boxctl_stop_box(b, seconds);
		if (r < 0)
			boxctl_error("%s", box_last_error());
		box_close(b);
		if (r < 0 || !annotation(root, "boxctl.restart")) {
			json_decref(root);
			return r;
		}
		wait_owner(root);
		json_decref(root);
	}
	return 0;
}

static int start_one(box_ctx *ctx, const char *what, bool restarted)
{
	char keep[PATH_MAX], dir[PATH_MAX], id[65], name[160], upper[PATH_MAX] = "";
	char from[PATH_MAX + 8] = "", mark[PATH_MAX], image[80] = "";
	const char **args = NULL;
	json_t *root, *recorded;
	box *b = NULL;
	int st, r = 1, n, lock = -1;

	if (box_open(ctx, what, &b) < 0) {
		boxctl_error("%s", box_last_error());
		return 1;
	}
	st = box_status(b);
	if (st == BOX_STATUS_RUNNING || st == BOX_STATUS_PAUSED || st == BOX_STATUS_CREATED) {
		box_close(b); /* as docker: starting a running box does nothing */
		return 0;
	}
	root = inspect_json(b);
	recorded = json_loads(annotation(root, "boxctl.args") ?: "", 0, NULL);
	if (!json_is_array(recorded)) {
		boxctl_error("box %s was not made by boxctl run -d: nothing records how to start "
			     "it again",
			     what);
		goto out;
	}
	snprintf(id, sizeof(id), "%s", box_id(b));
	snprintf(name, sizeof(name), "%s", box_name(b));
	n = (int)json_array_size(recorded);
	args = calloc((size_t)n + 2, sizeof(*args));
	if (!args) {
		boxctl_error("out of memory");
		goto out;
	}
	args[0] = "run";
	for (int i = 0; i < n; i++)
		args[i + 1] = json_string_value(json_array_get(recorded, (size_t)i));
	/* its monitor done with it (or done making it again itself) */
	wait_owner(root);
	/* one start of a box at a time: the lock on its mark, held to the end
	 * (the mark also tells boxctl stop that the box is being made again) */
	restarting_path(ctx, name, mark, sizeof(mark));
	lock = open(mark, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		boxctl_error("%s: %s", mark, strerror(errno));
		goto out;
	}
	/* seen again under the lock: made again meanwhile, it is left as it is */
	box_close(b);
	b = NULL;
	json_decref(root);
	root = NULL;
	if (box_open(ctx, id, &b) < 0) {
		boxctl_error("%s", box_last_error());
		goto out;
	}
	st = box_status(b);
	if (st == BOX_STATUS_RUNNING || st == BOX_STATUS_PAUSED || st == BOX_STATUS_CREATED) {
		r = 0;
		goto out;
	}
	root = inspect_json(b);
	/* a box of an image: made again from the same store and the same image
	 * (by id: its name may have moved), which must still be there */
	{
		const char *bdir = json_string_value(json_object_get(root, "box_dir"));
		const char *img = json_string_value(json_object_get(root, "image"));
		char store[PATH_MAX], *text;
		size_t len = bdir ? strlen(bdir) : 0;

		/* bdir is STORE/boxes/ID */
		if (bdir && img && len > 71 && strncmp(bdir + len - 71, "/boxes/", 7) == 0) {
			snprintf(store, sizeof(store), "%.*s", (int)(len - 71), bdir);
			snprintf(image, sizeof(image), "%s", img);
			if (box_ctx_set_store_dir(ctx, store) < 0 ||
			    !(text = box_image_inspect(ctx, image))) {
				boxctl_error("box %s cannot be made again: %s", what, box_last_error());
				goto out;
			}
			box_string_free(text);
		}
	}
	/* the log outlives the box's directory, which box_destroy removes */
	box_dir(ctx, id, NULL, dir, sizeof(dir));
	snprintf(keep, sizeof(keep), "%s/boxes/.logs-%s", box_ctx_state_dir(ctx), id);
	if (mkdir(keep, 0700) < 0 && errno != EEXIST) {
		boxctl_error("%s: %s", keep, strerror(errno));
		goto out;
	}
	move_logs(dir, keep);
	/* and so does its writable layer (a box of an image), beside its
	 * directory of the store, for box_config_set_upper */
	{
		const char *bdir = json_string_value(json_object_get(root, "box_dir"));
		const char *storage = json_string_value(json_object_get(root, "storage"));

		if (bdir && strrchr(bdir, '/')) {
			snprintf(from, sizeof(from), "%s/%s", bdir,
				 storage && strcmp(storage, "vfs") == 0 ? "rootfs" : "upper");
			snprintf(upper, sizeof(upper), "%.*s/.upper-%s",
				 (int)(strrchr(bdir, '/') - bdir), bdir, id);
			if (rename(from, upper) < 0)
				upper[0] = '\0';
			/* made again the way it was made (a --storage-driver given
			 * to its run is not among the run's arguments) */
			box_ctx_set_storage(ctx, storage && strcmp(storage, "vfs") == 0
							 ? BOX_STORAGE_VFS
							 : BOX_STORAGE_OVERLAY);
		}
	}
	if (box_destroy(b) < 0) {
		boxctl_error("%s", box_last_error());
		b = NULL;
		boxctl_restore_logs(keep, dir);
		if (upper[0])
			rename(upper, from);
		goto out;
	}
	b = NULL;
	{
		const char *count = annotation(root, "boxctl.restarts");

		boxctl_again = (struct boxctl_again){ .id = id, .name = name, .keep = keep,
						      .upper = upper[0] ? upper : NULL,
						      .image = image[0] ? image : NULL,
						      .restarts = (count ? atoi(count) : 0) +
								  (restarted ? 1 : 0) };
	}
	/* cmd_run prints the id of the box it starts, as `run -d` does; start
	 * prints what it was given, as docker start does */
	{
		int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		fflush(stdout);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		r = cmd_run(ctx, n + 1, (char **)args);
		fflush(stdout);
		if (saved >= 0) {
			dup2(saved, STDOUT_FILENO);
			close(saved);
		}
		if (null >= 0)
			close(null);
	}
	memset(&boxctl_again, 0, sizeof(boxctl_again));
	/* a box that could not be made again has no directory for its log */
	if (r != 0) {
		move_logs(keep, NULL);
		rmdir(keep);
		if (upper[0] && access(upper, F_OK) == 0)
			boxctl_error("box %s: its writable layer is kept in %s", what, upper);
	}
out:
	if (lock >= 0) {
		unlink(mark);
		close(lock);
	}
	free(args);
	json_decref(recorded);
	json_decref(root);
	box_close(b);
	return r;
}

static const char start_usage[] =
	"Usage: boxctl start BOX...\n\n"
	"Start boxes that exited, made again as `boxctl run -d` made them (the\n"
	"same arguments, id, name and log).  A running box is left as it is.\n";
static const char restart_usage[] =
	"Usage: boxctl restart [-t SECONDS] BOX...\n\n"
	"Stop boxes (SIGTERM, then SIGKILL after the grace time) and start them\n"
	"again.\n\n  -t, --time SECONDS   grace time (default 10)\n";

static int start_or_restart(box_ctx *ctx, int argc, char **argv, bool restart)
{
	static const struct option longs[] = { { "help", no_argument, NULL, 'h' },
					       { "time", required_argument, NULL, 't' },
					       { "restarted", no_argument, NULL, 'R' },
					       { NULL, 0, NULL, 0 } };
	const char *verb = restart ? "restart" : "start";
	bool restarted = false;
	int c, seconds = 10, failed = 0;
	char *end;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, restart ? "+:t:h" : "+:h", longs, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(restart ? restart_usage : start_usage, stdout);
			return 0;
		case 't':
			seconds = (int)strtol(optarg, &end, 10);
			if (!restart || *end || seconds < 0)
				return boxctl_usage_error(verb, "invalid --time \"%s\"", optarg);
			break;
		case 'R': /* the monitor's restart policy */
			restarted = !restart;
			break;
		case ':':
			return boxctl_usage_error(verb, "flag needs an argument: %s", argv[optind - 1]);
		default:
			return optopt ? boxctl_usage_error(verb, "unknown shorthand flag: '%c'", optopt)
				      : boxctl_usage_error(verb, "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return boxctl_usage_error(verb, "\"%s\" needs at least one box", verb);
	for (int i = optind; i < argc; i++) {
		if (restart && boxctl_stop_for_good(ctx, argv[i], seconds) < 0) {
			failed = 1;
			continue;
		}
		if (start_one(ctx, argv[i], restarted) != 0)
			failed = 1;
		else
			puts(argv[i]);
	}
	return failed;
}

int cmd_start(box_ctx *ctx, int argc, char **argv)
{
	return start_or_restart(ctx, argc, argv, false);
}

int cmd_restart(box_ctx *ctx, int argc, char **argv)
{
	return start_or_restart(ctx, argc, argv, true);
}

/* ---- attach ---- */

/* Write all of buf, across short writes; 0 or -1. */
int boxctl_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Docker's --detach-keys: "ctrl-p,ctrl-q", each a ctrl-LETTER (or @, [,
 * \, ], ^, _) or one character.  Returns how many keys (at most max), 0 if
 * the spec is invalid. */
static size_t parse_detach_keys(const char *spec, char *keys, size_t max)
{
	size_t n = 0;

	while (*spec && n < max) {
		size_t len = strcspn(spec, ",");

		if (len == 6 && strncmp(spec, "ctrl-", 5) == 0 && spec[5] >= '@' && spec[5] <= '~')
			keys[n++] = (char)(spec[5] & 0x1f);
		else if (len == 1)
			keys[n++] = spec[0];
		else
			return 0;
		spec += len;
		if (*spec == ',' && *++spec == '\0')
			return 0;
	}
	return *spec ? 0 : n;
}

/* Send a window size message for our terminal. */
static void send_winsize(int sock)
{
	char msg[1 + sizeof(struct winsize)] = { 'w' };
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
		memcpy(msg + 1, &ws, sizeof(ws));
		send(sock, msg, sizeof(msg), MSG_NOSIGNAL);
	}
}

/* Connect to the monitor's DIR/attach (through /proc/self/fd: the path may
 * be longer than a socket address holds). */
static int connect_attach(box_ctx *ctx, box *b)
{
	char dir[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int dfd, fd, r = -1;

	box_dir(ctx, box_id(b), NULL, dir, sizeof(dir));
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/attach", dfd);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	/* a box of a run -d that just returned: its monitor may not listen
	 * yet (up to 5 s) */
	for (int i = 0; fd >= 0; i++) {
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		if (r == 0 || (errno != ENOENT && errno != ECONNREFUSED) || i == 250 ||
		    box_status(b) != BOX_STATUS_RUNNING)
			break;
		usleep(20000);
	}
	if (r < 0 && fd >= 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		fd = -1;
	}
	close(dfd);
	return fd;
}

/* Relay until the box ends (1), the detach keys are typed (0) or an
 * error (-1).  keys: the detach sequence, matched across reads. */
static int relay_attach(int sock, bool with_stdin, const char *keys, size_t nkeys)
{
	char buf[8192], msg[8193];
	size_t matched = 0;
	int sfd;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = with_stdin ? 0 : -1, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			n = recv(sock, buf, sizeof(buf), 0);
			if (n <= 0)
				break; /* the box ended: the monitor let us go */
			if (boxctl_write_all(1, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents) {
			size_t m = 1;

			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				/* our input ended: so does the box's (a pipe) */
				send(sock, "c", 1, MSG_NOSIGNAL);
				with_stdin = false;
				continue;
			}
			msg[0] = 'i';
			for (ssize_t i = 0; i < n; i++) {
				if (nkeys && buf[i] == keys[matched]) {
					if (++matched == nkeys)
						goto detached;
					continue;
				}
				/* a partial match that failed is input after all */
				memcpy(msg + m, keys, matched);
				m += matched;
				matched = 0;
				if (nkeys && buf[i] == keys[0]) {
					matched = 1;
					continue;
				}
				msg[m++] = buf[i];
			}
			if (m > 1 && send(sock, msg, m, MSG_NOSIGNAL) < 0)
				break;
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				send_winsize(sock);
		}
	}
	if (sfd >= 0)
		close(sfd);
	return 1;
detached:
	if (sfd >= 0)
		close(sfd);
	return 0;
}

static const char attach_usage[] =
	"Usage: boxctl attach [OPTIONS] BOX\n\n"
	"Attach to a detached box: its output from now on, and, if it was run\n"
	"with -i or -t, its input.  The detach keys leave it running.\n\n"
	"      --detach-keys KEYS   the keys that detach (default ctrl-p,ctrl-q)\n"
	"      --no-stdin           do not send our input\n";

int cmd_attach(box_ctx *ctx, int argc, char **argv)
{
	static const struct option longs[] = { { "help", no_argument, NULL, 'h' },
					       { "detach-keys", required_argument, NULL, 'k' },
					       { "no-stdin", no_argument, NULL, 'n' },
					       { NULL, 0, NULL, 0 } };
	char keys[16];
	size_t nkeys = parse_detach_keys("ctrl-p,ctrl-q", keys, sizeof(keys));
	bool no_stdin = false, tty, raw;
	struct termios saved;
	json_t *root;
	box *b = NULL;
	int c, sock, r, code = 0, sig = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:h", longs, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(attach_usage, stdout);
			return 0;
		case 'k':
			nkeys = optarg[0] ? parse_detach_keys(optarg, keys, sizeof(keys)) : 0;
			if (optarg[0] && nkeys == 0)
				return boxctl_usage_error("attach", "invalid --detach-keys \"%s\" "
								    "(ctrl-p,ctrl-q)", optarg);
			break;
		case 'n':
			no_stdin = true;
			break;
		case ':':
			return boxctl_usage_error("attach", "flag needs an argument: %s",
						  argv[optind - 1]);
		default:
			return optopt ? boxctl_usage_error("attach", "unknown shorthand flag: '%c'",
							   optopt)
				      : boxctl_usage_error("attach", "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return boxctl_usage_error("attach", "\"attach\" needs exactly one box");
	if (box_open(ctx, argv[optind], &b) < 0) {
		boxctl_error("%s", box_last_error());
		return 1;
	}
	if (box_status(b) != BOX_STATUS_RUNNING && box_status(b) != BOX_STATUS_PAUSED) {
		boxctl_error("box %s is not running", argv[optind]);
		box_close(b);
		return 1;
	}
	root = inspect_json(b);
	tty = annotation(root, "boxctl.tty") != NULL;
	sock = annotation(root, "boxctl.detached") ? connect_attach(ctx, b) : (errno = ENOENT, -1);
	json_decref(root);
	if (sock < 0) {
		boxctl_error("box %s: no monitor to attach to (only a box of boxctl run -d has one): "
			     "%s",
			     argv[optind], strerror(errno));
		box_close(b);
		return 1;
	}
	raw = tty && !no_stdin && isatty(0) && tcgetattr(0, &saved) == 0;
	if (raw) {
		struct termios t = saved;

		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
	}
	if (tty)
		send_winsize(sock);
	r = relay_attach(sock, !no_stdin, keys, nkeys);
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	close(sock);
	if (r == 0) {
		box_close(b);
		return 0; /* detached: the box runs on */
	}
	/* the box ended: its status, as the monitor recorded it */
	r = box_wait(b, &code, &sig);
	box_close(b);
	if (r < 0) {
		boxctl_error("%s", box_last_error());
		return 1;
	}
	return sig ? 128 + sig : code;
}
