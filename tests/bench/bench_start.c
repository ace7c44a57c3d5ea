/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_start: how long it takes to start a box.
 *
 *   bench_start box   [-n N] [-w W] [--no-net] [--bridge] [--state-dir DIR] [--unconfined] [--init] [--phases]
 *                     [--cgroup off|on] [--limits] [--cgroup-parent PATH] [--gap MS] ROOTFS
 *       box_run() of /bin/true in ROOTFS, N times, in this process
 *       (namespaces BOX_NS_DEFAULT, less BOX_NS_NET with --no-net; stdio
 *       to /dev/null).  --unconfined: no seccomp filter.  --phases: also
 *       time box_create, box_start, box_wait and box_destroy apart.
 *       --cgroup: box_config_set_cgroup BOX_CGROUP_OFF or BOX_CGROUP_ON
 *       (default: not called, i.e. BOX_CGROUP_AUTO).  --limits: memory
 *       256 MiB, pids 512, cpu quota 50000 us per period 100000 us.
 *       --cgroup-parent: box_ctx_set_cgroup_parent (default: a unique
 *       /libbox-bench-<pid>).  Whatever levels of the parent did not exist
 *       in a cgroup hierarchy before the first box are removed from it at
 *       exit (with any box cgroup left below them); nothing else is.
 *       --gap: sleep MS milliseconds (untimed) before each box, so that
 *       what a box leaves warm has gone cold, as for a box started on an
 *       idle host: e.g. the kernel's cgroup attach lock (a percpu rwsem)
 *       goes back to its reader-fast mode a grace period after a writer,
 *       and the next writer then waits a grace period to take it.
 *   bench_start floor [-n N] [-w W] [PATH]
 *       fork + execve of PATH (default /bin/true) + waitpid: the floor.
 *   bench_start exec  [-n N] [-w W] [--id PREFIX] [--pre SHELLCMD] [--post SHELLCMD]
 *                     [--gap MS] -- CMD [ARG...] [--then CMD [ARG...]]...
 *       fork + execvp of an external command, N times, stdout to
 *       /dev/null; @ID@ in CMD and SHELLCMD becomes PREFIX-<iteration>.
 *       --post SHELLCMD (run with /bin/sh -c after each iteration, not
 *       timed) is for clean-up, e.g. "crun delete -f @ID@"; --pre
 *       SHELLCMD (the same, before each iteration) prepares what the
 *       command works on, e.g. a running container to stop; the run
 *       fails when it fails.  "--then" separates commands that are run
 *       one after the other and timed as one (e.g. crun create --then
 *       crun start); a command "@wait-pidfile@ FILE" is no process: it
 *       waits until the process whose pid FILE holds has exited (a
 *       pidfd; a zombie has exited).  Also reports the peak RSS of the
 *       commands (wait4's ru_maxrss: a command and the descendants it
 *       reaped; the largest).  --gap as in box mode (after --post, before
 *       --pre).
 *
 * Each mode runs W untimed warm-up iterations (default 2) first, and
 * prints one line:
 *   n=N median_ms=M p90_ms=P min_ms=A max_ms=B [maxrss_kib=R] [self_maxrss_kib=S]
 * Times are CLOCK_MONOTONIC.  p90 is the nearest-rank 90th percentile.
 * Exit status: 0, or 1 when an iteration fails (its error is printed) or a
 * cgroup that box mode made cannot be removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "box.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double median, p90, min, max;
};

static struct stats summarize(double *v, int n)
{
	struct stats s;
	int rank;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	rank = (9 * n + 9) / 10; /* ceil(0.9 n), 1-based */
	s.p90 = v[(rank < 1 ? 1 : rank) - 1];
	s.min = v[0];
	s.max = v[n - 1];
	return s;
}

static void print_stats(const char *prefix, double *v, int n)
{
	struct stats s = summarize(v, n);

	printf("%sn=%d median_ms=%.3f p90_ms=%.3f min_ms=%.3f max_ms=%.3f", prefix, n, s.median,
	       s.p90, s.min, s.max);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long self_maxrss(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_start box   [-n N] [-w W] [--no-net] [--bridge] [--state-dir DIR] [--unconfined] [--init] [--phases] [--sandbox]\n"
		"                         [--cgroup off|on] [--limits] [--cgroup-parent PATH] [--gap MS]\n"
		"                         ROOTFS\n"
		"       bench_start floor [-n N] [-w W] [PATH]\n"
		"       bench_start exec  [-n N] [-w W] [--id PREFIX] [--pre SHELLCMD] [--post SHELLCMD]\n"
		"                         [--gap MS] -- CMD [ARG...] [--then CMD [ARG...]]...\n");
	exit(2);
}

static int parse_count(const char *s, int min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < min || v > 1000000) {
		fprintf(stderr, "bench_start: bad count \"%s\"\n", s);
		exit(2);
	}
	return (int)v;
}

/* ---- the cgroup parent: libbox makes it, we remove what we caused ---- */

static char **cg_ours;   /* directories under cgroup mounts that did not exist */
static size_t cg_nours;  /* before the first box, shallowest first */
static int cg_left;      /* how many of them could not be removed */
static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

/* mountinfo's octal escapes (\040 for a space), in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static bool has_word(const char *list, const char *word, size_t n)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

/* Our own cgroup in the hierarchy of a cgroup (v1, its super options) or
 * cgroup2 mount, from /proc/self/cgroup; 0 or -1. */
static int self_cgroup(bool v2, const char *superopts, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	int r = -1;

	while (f && r < 0 && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		bool match;

		if (!c2)
			continue;
		*c2++ = '\0';
		c2[strcspn(c2, "\n")] = '\0';
		c1++;
		if (v2) {
			match = *c1 == '\0';
		} else {
			match = *c1 != '\0';
			for (const char *p = c1; match && *p;) {
				size_t n = strcspn(p, ",");

				match = has_word(superopts, p, n);
				p += n + (p[n] == ',');
			}
		}
		if (match && snprintf(out, len, "%s", c2) < (int)len)
			r = 0;
	}
	if (f)
		fclose(f);
	return r;
}

static int add_ours(const char *path)
{
	char **grown = realloc(cg_ours, (cg_nours + 1) * sizeof(*grown));

	if (!grown || !(grown[cg_nours] = strdup(path)))
		return -1;
	cg_ours = grown;
	cg_nours++;
	return 0;
}

/* Note, in every cgroup and cgroup2 mount, the levels of parent (absolute:
 * from the hierarchy's root; relative: from our own cgroup there, as
 * libbox takes it) that do not exist yet: those libbox will make for us. */
static int track_parent(const char *parent)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];

	if (!f) {
		perror("bench_start: /proc/self/mountinfo");
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char root[4096], mnt[4096], fstype[64], superopts[1024], self[4096];
		char want[8192], path[8192];
		char *dash = strstr(line, " - ");
		size_t rl, ml;
		bool v2, missing = false;

		if (!dash || sscanf(line, "%*d %*d %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, superopts) != 2)
			continue;
		v2 = strcmp(fstype, "cgroup2") == 0;
		if (!v2 && strcmp(fstype, "cgroup") != 0)
			continue;
		unescape(root);
		unescape(mnt);
		if (parent[0] == '/')
			snprintf(want, sizeof(want), "%s", parent);
		else if (self_cgroup(v2, superopts, self, sizeof(self)) == 0)
			snprintf(want, sizeof(want), "%s/%s", self, parent);
		else
			continue; /* not a hierarchy we are in: libbox does not use it */
		/* the part below the mount's root, which is what the mount shows */
		rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (rl && (strncmp(want, root, rl) != 0 || (want[rl] != '/' && want[rl] != '\0')))
			continue;
		ml = (size_t)snprintf(path, sizeof(path), "%s", strcmp(mnt, "/") == 0 ? "" : mnt);
		for (const char *p = want + rl;;) {
			size_t n;

			while (*p == '/')
				p++;
			if (!*p)
				break;
			n = strcspn(p, "/");
			if ((n == 1 && p[0] == '.') || (n == 2 && strncmp(p, "..", 2) == 0)) {
				fprintf(stderr, "bench_start: --cgroup-parent %s: no . or .. please\n",
					parent);
				fclose(f);
				return -1;
			}
			if (ml + 1 + n >= sizeof(path))
				break;
			path[ml++] = '/';
			memcpy(path + ml, p, n);
			ml += n;
			path[ml] = '\0';
			p += n;
			if (!missing && access(path, F_OK) < 0 && errno == ENOENT)
				missing = true;
			if (missing && add_ours(path) < 0) {
				perror("bench_start");
				fclose(f);
				return -1;
			}
		}
	}
	fclose(f);
	return 0;
}

static void kill_procs(const char *dir)
{
	char path[8192];
	FILE *f;
	long pid;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && fscanf(f, "%ld", &pid) == 1)
		if (pid > 0)
			kill((pid_t)pid, SIGKILL);
	if (f)
		fclose(f);
}

/* rmdir of dir and of the cgroups below it (all of them ours: they are
 * below a level we made), deepest first.  0 or -1 (after saying why). */
static int remove_tree(const char *dir, int depth)
{
	DIR *d = depth < 64 ? opendir(dir) : NULL;
	struct dirent *e;
	int r = 0;

	while (d && (e = readdir(d))) {
		char sub[8192];

		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < (int)sizeof(sub) &&
		    remove_tree(sub, depth + 1) < 0)
			r = -1;
	}
	if (d)
		closedir(d);
	/* a box's last task may still be leaving: EBUSY for a moment; a box
	 * left running (an interrupted run) is killed: its cgroup is ours */
	for (int tries = 0;; tries++) {
		struct timespec ms = { 0, 1000000 };

		if (rmdir(dir) == 0 || errno == ENOENT)
			return r;
		if (errno != EBUSY || tries == 2000) {
			fprintf(stderr, "bench_start: cannot remove cgroup %s: %s\n", dir,
				strerror(errno));
			return -1;
		}
		kill_procs(dir);
		nanosleep(&ms, NULL);
	}
}

static void cg_cleanup(void)
{
	while (cg_nours > 0) {
		char *path = cg_ours[--cg_nours];

		if (remove_tree(path, 0) < 0)
			cg_left++;
		free(path);
	}
	free(cg_ours);
	cg_ours = NULL;
}

/* ---- box: box_run() in this process ---- */

static int mode_box(int argc, char **argv)
{
	const char *rootfs = NULL;
	const char *const cmd[] = { "/bin/true" };
	int n = 30, warm = 2, nonet = 0, unconfined = 0, init = 0, phases = 0, sandbox = 0;
	int cgroup = -1, limits = 0, gap = 0, bridge = 0;
	const char *parent = NULL, *state = NULL;
	char default_parent[64];
	double *t, *tc = NULL, *ts = NULL, *tw = NULL, *td = NULL;
	box_config *cfg = NULL;
	box_ctx *ctx = NULL;
	struct sigaction sa;
	long rss_before;
	unsigned ns;
	int r;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = parse_count(argv[++i], 1);
		else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
			warm = parse_count(argv[++i], 0);
		else if (strcmp(argv[i], "--no-net") == 0)
			nonet = 1;
		else if (strcmp(argv[i], "--unconfined") == 0)
			unconfined = 1;
		else if (strcmp(argv[i], "--sandbox") == 0)
			sandbox = 1; /* box_sandbox_run() instead of box_run() */
		else if (strcmp(argv[i], "--init") == 0)
			init = 1;
		else if (strcmp(argv[i], "--phases") == 0)
			phases = 1;
		else if (strcmp(argv[i], "--cgroup") == 0 && i + 1 < argc &&
			 (strcmp(argv[i + 1], "on") == 0 || strcmp(argv[i + 1], "off") == 0))
			cgroup = strcmp(argv[++i], "on") == 0 ? BOX_CGROUP_ON : BOX_CGROUP_OFF;
		else if (strcmp(argv[i], "--limits") == 0)
			limits = 1;
		else if (strcmp(argv[i], "--bridge") == 0)
			bridge = 1; /* eth0 on a bridge, a leased address */
		else if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc)
			state = argv[++i];
		else if (strcmp(argv[i], "--gap") == 0 && i + 1 < argc)
			gap = parse_count(argv[++i], 0);
		else if (strcmp(argv[i], "--cgroup-parent") == 0 && i + 1 < argc && argv[i + 1][0])
			parent = argv[++i];
		else if (argv[i][0] != '-' && !rootfs)
			rootfs = argv[i];
		else
			usage();
	}
	if (!rootfs)
		usage();

	if (!parent) {
		snprintf(default_parent, sizeof(default_parent), "/libbox-bench-%d", (int)getpid());
		parent = default_parent;
	}

	ns = BOX_NS_DEFAULT & ~(nonet ? BOX_NS_NET : 0u);
	if ((r = box_ctx_new(&ctx)) < 0 || (r = box_ctx_set_cgroup_parent(ctx, parent)) < 0 ||
	    (r = box_config_new(&cfg)) < 0 ||
	    (r = box_config_set_rootfs(cfg, rootfs)) < 0 ||
	    (r = box_config_set_argv(cfg, 1, cmd)) < 0 ||
	    (r = box_config_set_namespaces(cfg, ns)) < 0 ||
	    (r = box_config_set_stdio(cfg, -1, -1, -1)) < 0 ||
	    (r = box_config_set_init(cfg, init)) < 0 ||
	    (bridge && (r = box_config_set_network(cfg, BOX_NET_BRIDGE)) < 0) ||
	    (state && (r = box_ctx_set_state_dir(ctx, state)) < 0) ||
	    (unconfined && (r = box_config_set_seccomp(cfg, BOX_SECCOMP_UNCONFINED, NULL)) < 0) ||
	    (cgroup >= 0 && (r = box_config_set_cgroup(cfg, cgroup)) < 0) ||
	    (limits && ((r = box_config_set_limit(cfg, BOX_LIMIT_MEMORY, 256ll << 20)) < 0 ||
			(r = box_config_set_limit(cfg, BOX_LIMIT_PIDS, 512)) < 0 ||
			(r = box_config_set_limit(cfg, BOX_LIMIT_CPU_PERIOD, 100000)) < 0 ||
			(r = box_config_set_limit(cfg, BOX_LIMIT_CPU_QUOTA, 50000)) < 0))) {
		fprintf(stderr, "bench_start: config: %s\n", box_last_error());
		return 1;
	}
	/* From here on, whatever cgroups of the parent libbox makes go at
	 * exit (main calls cg_cleanup; atexit covers exit()); a signal ends
	 * the loop after the running box rather than leaving them behind. */
	if (track_parent(parent) < 0)
		return 1;
	atexit(cg_cleanup);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	t = calloc((size_t)n, sizeof(*t));
	if (phases) {
		tc = calloc((size_t)n, sizeof(*t));
		ts = calloc((size_t)n, sizeof(*t));
		tw = calloc((size_t)n, sizeof(*t));
		td = calloc((size_t)n, sizeof(*t));
	}
	if (!t || (phases && (!tc || !ts || !tw || !td))) {
		fprintf(stderr, "bench_start: out of memory\n");
		return 1;
	}

	rss_before = -1;
	for (int i = -warm; i < n; i++) {
		int code = -1, sig = 0;
		double t0, t1, t2, t3, t4;

		sleep_ms(gap);
		if (stop_sig) {
			fprintf(stderr, "bench_start: interrupted by signal %d\n", (int)stop_sig);
			return 1;
		}
		if (i == 0)
			rss_before = self_maxrss();
		t0 = now_ms();
		if (sandbox) {
			box_sandbox_result *res = NULL;

			r = box_sandbox_run(ctx, cfg, 0, 1 << 16, &res);
			if (r == 0) {
				code = box_sandbox_exit_code(res);
				sig = box_sandbox_signal(res);
			}
			box_sandbox_result_free(res);
			t4 = now_ms();
		} else if (!phases) {
			r = box_run(ctx, cfg, &code, &sig);
			t4 = now_ms();
		} else {
			box *b = NULL;

			r = box_create(ctx, cfg, &b);
			t1 = now_ms();
			if (r == 0)
				r = box_start(b);
			t2 = now_ms();
			if (r == 0)
				r = box_wait(b, &code, &sig);
			t3 = now_ms();
			if (r < 0) {
				fprintf(stderr, "bench_start: run %d of %d: %s\n", i + warm + 1, n + warm,
					box_last_error());
				box_destroy(b);
				return 1;
			}
			r = box_destroy(b);
			t4 = now_ms();
			if (i >= 0) {
				tc[i] = t1 - t0;
				ts[i] = t2 - t1;
				tw[i] = t3 - t2;
				td[i] = t4 - t3;
			}
		}
		if (r < 0 || code != 0) {
			fprintf(stderr, "bench_start: run %d of %d: %s (exit %d, signal %d)\n",
				i + warm + 1, n + warm, r < 0 ? box_last_error() : "/bin/true failed",
				code, sig);
			return 1;
		}
		if (i >= 0)
			t[i] = t4 - t0;
	}
	print_stats("", t, n);
	printf(" self_maxrss_kib=%ld self_maxrss_before_kib=%ld\n", self_maxrss(), rss_before);
	if (phases) {
		print_stats("  box_create:  ", tc, n);
		putchar('\n');
		print_stats("  box_start:   ", ts, n);
		putchar('\n');
		print_stats("  box_wait:    ", tw, n);
		putchar('\n');
		print_stats("  box_destroy: ", td, n);
		putchar('\n');
	}
	box_config_free(cfg);
	box_ctx_free(ctx);
	free(t);
	free(tc);
	free(ts);
	free(tw);
	free(td);
	return 0;
}

/* ---- floor and exec: fork + exec of a command ---- */

/* "@ID@" in s replaced by id; a new string. */
static char *subst(const char *s, const char *id)
{
	const char *p;
	size_t len = strlen(s) + 1;
	char *out, *o;
	int k = 0;

	for (p = s; (p = strstr(p, "@ID@")); p += 4)
		k++;
	len += (size_t)k * strlen(id);
	out = o = malloc(len);
	if (!out) {
		perror("bench_start");
		exit(1);
	}
	while ((p = strstr(s, "@ID@"))) {
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		o = stpcpy(o, id);
		s = p + 4;
	}
	strcpy(o, s);
	return out;
}

static void dump_fd(int fd)
{
	char buf[4096];
	ssize_t k;

	lseek(fd, 0, SEEK_SET);
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)k, stderr);
}

/* Run argv once; 0 or -1 (after printing why).  *rss gets ru_maxrss. */
static int run_once(char *const *argv, int use_path, int nullfd, int errfd, long *rss)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (errfd >= 0) {
		ftruncate(errfd, 0);
		lseek(errfd, 0, SEEK_SET);
	}
	pid = fork();
	if (pid < 0) {
		perror("bench_start: fork");
		return -1;
	}
	if (pid == 0) {
		dup2(nullfd, 0);
		dup2(nullfd, 1);
		dup2(errfd >= 0 ? errfd : nullfd, 2);
		if (use_path)
			execvp(argv[0], argv);
		else
			execve(argv[0], argv, environ);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("bench_start: wait4");
			return -1;
		}
	}
	*rss = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_start: %s: %s %d\n", argv[0],
			WIFEXITED(status) ? "exit status" : "killed by signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		if (errfd >= 0)
			dump_fd(errfd);
		return -1;
	}
	return 0;
}

/* "@wait-pidfile@ FILE": wait until the process whose pid FILE holds has
 * exited; 0 or -1 (after printing why). */
static int wait_pidfile(char *const *argv)
{
	char buf[32];
	ssize_t len;
	long pid;
	int fd;

	if (!argv[1] || argv[2]) {
		fprintf(stderr, "bench_start: usage: @wait-pidfile@ FILE\n");
		return -1;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bench_start: %s: %s\n", argv[1], strerror(errno));
		return -1;
	}
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	pid = strtol(buf, NULL, 10);
	if (pid <= 0) {
		fprintf(stderr, "bench_start: %s: no pid in it\n", argv[1]);
		return -1;
	}
	fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			return 0; /* gone and reaped already */
		fprintf(stderr, "bench_start: pidfd_open %ld: %s\n", pid, strerror(errno));
		return -1;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, -1);

		if (r == 1)
			break;
		if (r < 0 && errno != EINTR) {
			perror("bench_start: poll");
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* The commands of one iteration, "--then" between them, one after the
 * other; 0 or -1.  *rss gets the largest ru_maxrss. */
static int run_steps(char **cmd, int nullfd, int errfd, long *rss)
{
	int i = 0;

	*rss = 0;
	while (cmd[i]) {
		int j = i, r;
		long one = 0;

		while (cmd[j] && strcmp(cmd[j], "--then") != 0)
			j++;
		if (j == i) {
			fprintf(stderr, "bench_start: an empty command around --then\n");
			return -1;
		}
		{
			char *saved = cmd[j];

			cmd[j] = NULL;
			if (strcmp(cmd[i], "@wait-pidfile@") == 0)
				r = wait_pidfile(cmd + i);
			else
				r = run_once(cmd + i, 1, nullfd, errfd, &one);
			cmd[j] = saved;
		}
		if (r < 0)
			return -1;
		if (one > *rss)
			*rss = one;
		i = cmd[j] ? j + 1 : j;
	}
	return 0;
}

static int run_shell(const char *what, const char *cmd, const char *id, int nullfd, int errfd)
{
	char *sh = subst(cmd, id);
	char *sh_argv[] = { (char *)"/bin/sh", (char *)"-c", sh, NULL };
	long ignored;
	int r = run_once(sh_argv, 0, nullfd, errfd, &ignored);

	if (r < 0)
		fprintf(stderr, "bench_start: %s \"%s\" failed\n", what, sh);
	free(sh);
	return r;
}

static int mode_exec(int argc, char **argv, int floor)
{
	int n = 30, warm = 2, cmd_at = -1, nullfd, errfd = -1, gap = 0;
	const char *prefix = "bench", *pre = NULL, *post = NULL;
	char *floor_argv[] = { (char *)"/bin/true", NULL };
	long rss_max = 0;
	double *t;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = parse_count(argv[++i], 1);
		else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
			warm = parse_count(argv[++i], 0);
		else if (!floor && strcmp(argv[i], "--id") == 0 && i + 1 < argc)
			prefix = argv[++i];
		else if (!floor && strcmp(argv[i], "--pre") == 0 && i + 1 < argc)
			pre = argv[++i];
		else if (!floor && strcmp(argv[i], "--post") == 0 && i + 1 < argc)
			post = argv[++i];
		else if (!floor && strcmp(argv[i], "--gap") == 0 && i + 1 < argc)
			gap = parse_count(argv[++i], 0);
		else if (!floor && strcmp(argv[i], "--") == 0 && i + 1 < argc) {
			cmd_at = i + 1;
			break;
		} else if (floor && argv[i][0] == '/' && i == argc - 1)
			floor_argv[0] = argv[i];
		else
			usage();
	}
	if (!floor && cmd_at < 0)
		usage();

	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (!floor)
		errfd = memfd_create("bench-stderr", MFD_CLOEXEC);
	t = calloc((size_t)n, sizeof(*t));
	if (nullfd < 0 || (!floor && errfd < 0) || !t) {
		perror("bench_start");
		return 1;
	}
	for (int i = -warm; i < n; i++) {
		char id[256], **cmd = floor_argv;
		int cmdc = argc - cmd_at, r;
		long rss = 0;
		double t0;

		if (!floor) {
			snprintf(id, sizeof(id), "%s-%d-%d", prefix, (int)getpid(), i + warm);
			cmd = calloc((size_t)cmdc + 1, sizeof(*cmd));
			if (!cmd) {
				perror("bench_start");
				return 1;
			}
			for (int k = 0; k < cmdc; k++)
				cmd[k] = subst(argv[cmd_at + k], id);
		}
		sleep_ms(gap);
		r = pre ? run_shell("preparation", pre, id, nullfd, errfd) : 0;
		if (r == 0) {
			t0 = now_ms();
			r = floor ? run_once(cmd, 0, nullfd, errfd, &rss)
				  : run_steps(cmd, nullfd, errfd, &rss);
			if (i >= 0)
				t[i] = now_ms() - t0;
		}
		if (post)
			run_shell("clean-up", post, id, nullfd, errfd);
		if (!floor) {
			for (int k = 0; k < cmdc; k++)
				free(cmd[k]);
			free(cmd);
		}
		if (r < 0) {
			fprintf(stderr, "bench_start: run %d of %d failed\n", i + warm + 1, n + warm);
			return 1;
		}
		if (i >= 0 && rss > rss_max)
			rss_max = rss;
	}
	print_stats("", t, n);
	printf(" maxrss_kib=%ld\n", rss_max);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "box") == 0) {
		int rc = mode_box(argc - 2, argv + 2);

		cg_cleanup();
		if (cg_left && !rc)
			rc = 1;
		if (stop_sig) {
			signal(stop_sig, SIG_DFL);
			raise(stop_sig);
		}
		return rc;
	}
	if (strcmp(argv[1], "floor") == 0)
		return mode_exec(argc - 2, argv + 2, 1);
	if (strcmp(argv[1], "exec") == 0)
		return mode_exec(argc - 2, argv + 2, 0);
	usage();
}
