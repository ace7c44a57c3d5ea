/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl ps, inspect, rm, kill, stop, wait, stats, pause, unpause, gc:
 * the verbs on existing boxes, through box_open(). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "box.h"
#include "boxctl.h"

/* Each verb parses "--help" and its own flags, then works on the rest. */
struct verb_opts {
	const char *usage;
	const char *flags; /* getopt short flags */
	const struct option *longs;
};

static int parse(int argc, char **argv, const char *verb, const struct verb_opts *o,
		 int (*flag)(int c, const char *arg, void *user), void *user)
{
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, o->flags, o->longs, NULL)) != -1) {
		if (c == 'h') {
			fputs(o->usage, stdout);
			return -1;
		}
		if (c == ':')
			return boxctl_usage_error(verb, "flag needs an argument: %s", argv[optind - 1]);
		if (c == '?')
			return optopt ? boxctl_usage_error(verb, "unknown shorthand flag: '%c'", optopt)
				      : boxctl_usage_error(verb, "unknown flag: %s", argv[optind - 1]);
		if (flag && flag(c, optarg, user) != 0)
			return 125;
	}
	return 0;
}

static box *open_box(box_ctx *ctx, const char *what)
{
	box *b = NULL;

	if (box_open(ctx, what, &b) < 0) {
		boxctl_error("%s", box_last_error());
		return NULL;
	}
	return b;
}

/* ---- ps ---- */

static void ago(char *out, size_t len, const char *iso, const char *suffix)
{
	struct tm tm = { 0 };
	time_t t, now = time(NULL);
	long d;

	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(out, len, "?");
		return;
	}
	t = timegm(&tm);
	d = (long)(now - t);
	if (d < 1)
		snprintf(out, len, "Less than a second%s", suffix);
	else if (d < 60)
		snprintf(out, len, "%ld second%s%s", d, d == 1 ? "" : "s", suffix);
	else if (d < 3600)
		snprintf(out, len, "%ld minute%s%s", d / 60, d / 60 == 1 ? "" : "s", suffix);
	else if (d < 86400)
		snprintf(out, len, "%ld hour%s%s", d / 3600, d / 3600 == 1 ? "" : "s", suffix);
	else
		snprintf(out, len, "%ld day%s%s", d / 86400, d / 86400 == 1 ? "" : "s", suffix);
}

struct ps {
	box_ctx *ctx;
	int all, quiet;
};

static int ps_one(const char *id, void *user)
{
	struct ps *p = user;
	char created[64], status[96], when[64], cmd[64] = "";
	json_t *root, *exit;
	box *b = NULL;
	char *text;
	int st;

	if (box_open(p->ctx, id, &b) < 0)
		return 0; /* removed meanwhile */
	st = box_status(b);
	if (!p->all && st != BOX_STATUS_RUNNING && st != BOX_STATUS_PAUSED) {
		box_close(b);
		return 0;
	}
	if (p->quiet) {
		printf("%.12s\n", id);
		box_close(b);
		return 0;
	}
	text = box_inspect(b);
	root = text ? json_loads(text, 0, NULL) : NULL;
	box_string_free(text);
	if (root) {
		json_t *args = json_object_get(json_object_get(root, "process"), "args"), *a;
		size_t i;

		json_array_foreach(args, i, a) {
			size_t n = strlen(cmd);

			snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "\"", json_string_value(a));
		}
		if (strlen(cmd) > 20)
			strcpy(cmd + 17, "...");
		strcat(cmd, "\"");
	}
	ago(created, sizeof(created), json_string_value(json_object_get(root, "created")), " ago");
	exit = json_object_get(root, "exit");
	switch (st) {
	case BOX_STATUS_RUNNING:
	case BOX_STATUS_PAUSED:
		ago(when, sizeof(when), json_string_value(json_object_get(root, "started")), "");
		snprintf(status, sizeof(status), "Up %s%s", when,
			 st == BOX_STATUS_PAUSED ? " (Paused)" : "");
		break;
	case BOX_STATUS_EXITED:
		ago(when, sizeof(when), json_string_value(json_object_get(exit, "finished")), " ago");
		{
			int code = (int)json_integer_value(json_object_get(exit, "code"));
			int sig = (int)json_integer_value(json_object_get(exit, "signal"));

			snprintf(status, sizeof(status), "Exited (%d) %s", sig ? 128 + sig : code, when);
		}
		break;
	case BOX_STATUS_CREATED:
		snprintf(status, sizeof(status), "Created");
		break;
	default:
		snprintf(status, sizeof(status), "Exited (unknown)");
	}
	printf("%-12.12s   %-20.20s   %-22s   %-18s   %-28s   %s\n", id,
	       json_string_value(json_object_get(root, "rootfs")) ?: "-", cmd, created, status,
	       box_name(b));
	json_decref(root);
	box_close(b);
	return 0;
}

static int ps_flag(int c, const char *arg, void *user)
{
	struct ps *p = user;

	(void)arg;
	if (c == 'a')
		p->all = 1;
	if (c == 'q')
		p->quiet = 1;
	return 0;
}

int cmd_ps(box_ctx *ctx, int argc, char **argv)
{
	static const struct option longs[] = { { "all", no_argument, NULL, 'a' },
					       { "quiet", no_argument, NULL, 'q' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	static const struct verb_opts o = {
		"Usage: boxctl ps [-a] [-q]\n\nList boxes (running ones; -a: all).\n\n"
		"  -a, --all     all boxes, not only running ones\n"
		"  -q, --quiet   only the ids\n",
		"+:aqh", longs,
	};
	struct ps p = { ctx, 0, 0 };
	int r = parse(argc, argv, "ps", &o, ps_flag, &p);

	if (r)
		return r < 0 ? 0 : r;
	if (optind < argc)
		return boxctl_usage_error("ps", "ps takes no arguments");
	if (!p.quiet)
		printf("%-12s   %-20s   %-22s   %-18s   %-28s   %s\n", "BOX ID", "ROOTFS", "COMMAND",
		       "CREATED", "STATUS", "NAMES");
	if (box_list(ctx, ps_one, &p) < 0) {
		boxctl_error("%s", box_last_error());
		return 1;
	}
	return 0;
}

/* ---- verbs on one or more boxes ---- */

struct many {
	int force, seconds, sig;
	const char *signame;
};

static int parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{ "HUP", SIGHUP },   { "INT", SIGINT },	  { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
		{ "STOP", SIGSTOP }, { "WINCH", SIGWINCH }, { "ALRM", SIGALRM },
	};
	char *end;
	long n;

	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].sig;
	n = strtol(s, &end, 10);
	return *s && !*end && n > 0 && n < 65 ? (int)n : -1;
}

static int many_flag(int c, const char *arg, void *user)
{
	struct many *m = user;
	char *end;

	switch (c) {
	case 'f':
		m->force = 1;
		break;
	case 't':
		m->seconds = (int)strtol(arg, &end, 10);
		if (*end || m->seconds < 0) {
			boxctl_error("invalid --time \"%s\"", arg);
			return 1;
		}
		break;
	case 's':
		m->sig = parse_signal(arg);
		if (m->sig < 0) {
			boxctl_error("invalid signal \"%s\"", arg);
			return 1;
		}
		break;
	}
	return 0;
}

/* Wait up to ms for the box to go; 1 if it went. */
static int gone_within(box *b, int ms)
{
	struct pollfd p = { .fd = box_pidfd(b), .events = POLLIN };

	return p.fd < 0 || poll(&p, 1, ms) == 1;
}

int boxctl_stop_box(box *b, int seconds)
{
	int st = box_status(b);

	if (st != BOX_STATUS_RUNNING && st != BOX_STATUS_PAUSED && st != BOX_STATUS_CREATED)
		return 0;
	if (st == BOX_STATUS_PAUSED)
		box_resume(b);
	/* as docker stop: SIGTERM, then SIGKILL after the grace time */
	if (box_kill(b, SIGTERM) == 0 && gone_within(b, seconds * 1000))
		return 0;
	if (box_kill_all(b, SIGKILL) < 0 && box_kill(b, SIGKILL) < 0)
		return -1;
	gone_within(b, 5000);
	return 0;
}

static int each_box(box_ctx *ctx, const char *verb, int argc, char **argv, struct many *m)
{
	int failed = 0;

	if (optind >= argc)
		return boxctl_usage_error(verb, "\"%s\" needs at least one box", verb);
	for (int i = optind; i < argc; i++) {
		box *b = open_box(ctx, argv[i]);
		int r = 0, st;

		if (!b) {
			failed = 1;
			continue;
		}
		st = box_status(b);
		if (strcmp(verb, "rm") == 0) {
			if ((st == BOX_STATUS_RUNNING || st == BOX_STATUS_PAUSED) && !m->force) {
				boxctl_error("box %s is %s: stop it first, or rm -f", argv[i],
					     box_status_name(st));
				box_close(b);
				failed = 1;
				continue;
			}
			r = box_destroy(b);
			b = NULL;
		} else if (strcmp(verb, "kill") == 0) {
			if (st != BOX_STATUS_RUNNING && st != BOX_STATUS_PAUSED) {
				boxctl_error("box %s is not running", argv[i]);
				failed = 1;
				box_close(b);
				continue;
			} else {
				boxctl_mark_stopped(ctx, b);
				r = box_kill(b, m->sig);
			}
		} else if (strcmp(verb, "stop") == 0) {
			box_close(b);
			b = NULL;
			if (boxctl_stop_for_good(ctx, argv[i], m->seconds) < 0)
				failed = 1;
			else
				puts(argv[i]);
			continue;
		} else if (strcmp(verb, "pause") == 0) {
			r = box_pause(b);
		} else if (strcmp(verb, "unpause") == 0) {
			r = box_resume(b);
		} else if (strcmp(verb, "wait") == 0) {
			int code, sig;

			r = box_wait(b, &code, &sig);
			if (r == 0)
				printf("%d\n", sig ? 128 + sig : code);
		} else if (strcmp(verb, "inspect") == 0) {
			char *text = box_inspect(b);

			if (text)
				printf("%s\n", text);
			else
				r = -1;
			box_string_free(text);
		}
		if (r < 0) {
			boxctl_error("%s", box_last_error());
			failed = 1;
		} else if (strcmp(verb, "wait") != 0 && strcmp(verb, "inspect") != 0) {
			puts(argv[i]);
		}
		box_close(b);
	}
	return failed;
}

#define SIMPLE_VERB(fn, verb, text, shorts, ...)                                    \
	int fn(box_ctx *ctx, int argc, char **argv)                                  \
	{                                                                            \
		static const struct option longs[] = { __VA_ARGS__ { "help", no_argument, \
							   NULL, 'h' },           \
						       { NULL, 0, NULL, 0 } };    \
		static const struct verb_opts o = { text, shorts, longs };           \
		struct many m = { .seconds = 10, .sig = SIGKILL };                   \
		int r = parse(argc, argv, verb, &o, many_flag, &m);                  \
                                                                                     \
		if (r)                                                               \
			return r < 0 ? 0 : r;                                        \
		return each_box(ctx, verb, argc, argv, &m);                          \
	}

SIMPLE_VERB(cmd_rm, "rm",
	    "Usage: boxctl rm [-f] BOX...\n\nRemove boxes (their processes, cgroup and state).\n\n"
	    "  -f, --force   remove running boxes too (killing them)\n",
	    "+:fh", { "force", no_argument, NULL, 'f' },)
SIMPLE_VERB(cmd_kill, "kill",
	    "Usage: boxctl kill [-s SIGNAL] BOX...\n\nSend a signal (default KILL) to boxes.\n\n"
	    "  -s, --signal SIG   a name (TERM, SIGHUP) or a number\n",
	    "+:s:h", { "signal", required_argument, NULL, 's' },)
SIMPLE_VERB(cmd_stop, "stop",
	    "Usage: boxctl stop [-t SECONDS] BOX...\n\nStop boxes: SIGTERM, then SIGKILL after "
	    "the grace time.\n\n  -t, --time SECONDS   grace time (default 10)\n",
	    "+:t:h", { "time", required_argument, NULL, 't' },)
SIMPLE_VERB(cmd_pause, "pause", "Usage: boxctl pause BOX...\n\nFreeze every process of boxes.\n",
	    "+:h", )
SIMPLE_VERB(cmd_unpause, "unpause", "Usage: boxctl unpause BOX...\n\nThaw paused boxes.\n",
	    "+:h", )
SIMPLE_VERB(cmd_wait, "wait",
	    "Usage: boxctl wait BOX...\n\nWait for boxes to exit and print their exit codes.\n",
	    "+:h", )
SIMPLE_VERB(cmd_inspect, "inspect", "Usage: boxctl inspect BOX...\n\nPrint boxes as JSON.\n",
	    "+:h", )

/* ---- stats ---- */

static void human(char *out, size_t len, uint64_t v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	if (v == UINT64_MAX) {
		snprintf(out, len, "--");
		return;
	}
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.2f%s" : "%.0f%s", d, units[u]);
}

struct stats_row {
	char id[65], name[130];
	uint64_t cpu0;
	double t0;
};

#define STATS_MAX 256

struct stats {
	box_ctx *ctx;
	struct stats_row rows[STATS_MAX];
	int n;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A row for b; 0, or 1 (said) when the table is full. */
static int stats_add(struct stats *s, box *b)
{
	if (s->n >= STATS_MAX) {
		boxctl_error("stats: more than %d boxes", STATS_MAX);
		return 1;
	}
	snprintf(s->rows[s->n].id, sizeof(s->rows[0].id), "%s", box_id(b));
	snprintf(s->rows[s->n].name, sizeof(s->rows[0].name), "%s", box_name(b));
	s->n++;
	return 0;
}

static int stats_collect(const char *id, void *user)
{
	struct stats *s = user;
	box *b = NULL;
	int r = 0;

	if (box_open(s->ctx, id, &b) < 0)
		return 0; /* removed meanwhile */
	if (box_status(b) == BOX_STATUS_RUNNING || box_status(b) == BOX_STATUS_PAUSED)
		r = stats_add(s, b);
	box_close(b);
	return r;
}

/* Take a sample of every row; print the table unless first (the cpu
 * column is the difference of two samples). */
static void stats_print(struct stats *s, bool first)
{
	if (!first)
		printf("%-12s   %-20s   %-7s   %-22s   %-6s   %-20s   %s\n", "BOX ID", "NAME",
		       "CPU %", "MEM USAGE / LIMIT", "MEM %", "BLOCK I/O", "PIDS");
	for (int i = 0; i < s->n; i++) {
		struct stats_row *r = &s->rows[i];
		uint64_t v[BOX_STAT_COUNT];
		char mem[32], lim[32], rd[32], wr[32], pct[16] = "--", cpu[16] = "--";
		double t = now_s();
		box *b = NULL;

		if (box_open(s->ctx, r->id, &b) < 0 || box_stats(b, v, BOX_STAT_COUNT) < 0) {
			box_close(b);
			continue;
		}
		box_close(b);
		{
			uint64_t c = v[BOX_STAT_CPU_USER] + v[BOX_STAT_CPU_SYSTEM];

			if (!first && t > r->t0)
				snprintf(cpu, sizeof(cpu), "%.2f%%", (double)(c - r->cpu0) / 1e4 / (t - r->t0));
			r->cpu0 = c;
			r->t0 = t;
		}
		if (first)
			continue;
		human(mem, sizeof(mem), v[BOX_STAT_MEMORY_CURRENT]);
		human(lim, sizeof(lim), v[BOX_STAT_MEMORY_LIMIT]);
		if (v[BOX_STAT_MEMORY_LIMIT] != UINT64_MAX && v[BOX_STAT_MEMORY_LIMIT])
			snprintf(pct, sizeof(pct), "%.2f%%",
				 100.0 * (double)v[BOX_STAT_MEMORY_CURRENT] / (double)v[BOX_STAT_MEMORY_LIMIT]);
		human(rd, sizeof(rd), v[BOX_STAT_IO_READ_BYTES]);
		human(wr, sizeof(wr), v[BOX_STAT_IO_WRITE_BYTES]);
		printf("%-12.12s   %-20.20s   %-7s   %10s / %-9s   %-6s   %9s / %-8s   %llu\n", r->id,
		       r->name, cpu, mem, lim, pct, rd, wr,
		       (unsigned long long)(v[BOX_STAT_PIDS_CURRENT] == UINT64_MAX ? 0 : v[BOX_STAT_PIDS_CURRENT]));
	}
	fflush(stdout);
}

static int stats_flag(int c, const char *arg, void *user)
{
	(void)arg;
	if (c == 'n')
		*(int *)user = 1;
	return 0;
}

int cmd_stats(box_ctx *ctx, int argc, char **argv)
{
	static const struct option longs[] = { { "no-stream", no_argument, NULL, 'n' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	static const struct verb_opts o = {
		"Usage: boxctl stats [--no-stream] [BOX...]\n\nA live table of boxes' resource "
		"use (all running boxes when none is named).\n\n"
		"      --no-stream   print once (cpu % over one second) and exit\n",
		"+:h", longs,
	};
	struct stats *s = calloc(1, sizeof(*s));
	int no_stream = 0, r = parse(argc, argv, "stats", &o, stats_flag, &no_stream);

	if (!s)
		return 125;
	s->ctx = ctx;
	if (r) {
		free(s);
		return r < 0 ? 0 : r;
	}
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			box *b = open_box(ctx, argv[i]);

			r = b ? stats_add(s, b) : 1;
			box_close(b);
			if (r) {
				free(s);
				return 1;
			}
		}
	} else if ((r = box_list(ctx, stats_collect, s)) != 0) {
		if (r < 0)
			boxctl_error("%s", box_last_error());
		free(s);
		return 1;
	}
	/* the cpu column needs two samples, one second apart */
	stats_print(s, true);
	for (;;) {
		sleep(1);
		if (!no_stream)
			printf("\033[2J\033[H");
		stats_print(s, false);
		if (no_stream)
			break;
	}
	free(s);
	return 0;
}

int cmd_gc(box_ctx *ctx, int argc, char **argv)
{
	static const struct option longs[] = { { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	static const struct verb_opts o = {
		"Usage: boxctl gc\n\nClean up after boxes whose creator died without removing "
		"them.\n",
		"+:h", longs,
	};
	int r = parse(argc, argv, "gc", &o, NULL, NULL);

	if (r)
		return r < 0 ? 0 : r;
	r = box_gc(ctx);
	if (r < 0) {
		boxctl_error("%s", box_last_error());
		return 1;
	}
	printf("%d box%s cleaned up\n", r, r == 1 ? "" : "es");
	return 0;
}

/* ---- logs ---- */

struct logs_opts {
	int follow, timestamps;
	long tail; /* -1: all */
	/* bounds, in the log's own time format (UTC, nanoseconds): "" none */
	char since[40], until[40];
};

/* The log's time format for t (seconds and nanoseconds since the epoch). */
static void log_time(time_t sec, long nsec, char out[40])
{
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out + strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm), 21, ".%09ldZ", nsec);
}

/* docker's --since/--until: a duration before now (10m, 1h30m, 2.5s), a
 * Unix time (1700000000[.5]), or a date and time (2026-11-27,
 * 2026-11-27T22:00:00[.frac][Z|+HH:MM], UTC when no zone).  0 or -1. */
static int parse_log_time(const char *arg, char out[40])
{
	struct timespec now;
	struct tm tm = { 0 };
	double secs = 0, unit;
	const char *p = arg, *rest;
	char *end;
	time_t t;
	long nsec = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	/* a duration: numbers with units */
	while (*p) {
		double v = strtod(p, &end);

		if (end == p || v < 0)
			break;
		if (strncmp(end, "ns", 2) == 0)
			unit = 1e-9, end += 2;
		else if (strncmp(end, "us", 2) == 0)
			unit = 1e-6, end += 2;
		else if (strncmp(end, "ms", 2) == 0)
			unit = 1e-3, end += 2;
		else if (*end == 's')
			unit = 1, end++;
		else if (*end == 'm')
			unit = 60, end++;
		else if (*end == 'h')
			unit = 3600, end++;
		else
			break;
		secs += v * unit;
		p = end;
	}
	if (!*p && p != arg) {
		double at = (double)now.tv_sec + now.tv_nsec / 1e9 - secs;

		t = (time_t)at;
		log_time(t, (long)((at - (double)t) * 1e9), out);
		return 0;
	}
	/* a Unix time */
	secs = strtod(arg, &end);
	if (end != arg && !*end && strspn(arg, "0123456789.") == strlen(arg)) {
		t = (time_t)secs;
		log_time(t, (long)((secs - (double)t) * 1e9), out);
		return 0;
	}
	/* a date, and maybe a time and a zone */
	rest = strptime(arg, "%Y-%m-%d", &tm);
	if (!rest)
		return -1;
	if (*rest == 'T' || *rest == ' ') {
		rest = strptime(rest + 1, "%H:%M:%S", &tm);
		if (!rest)
			return -1;
		if (*rest == '.') {
			long scale = 100000000;

			for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
				nsec += (*rest - '0') * scale;
		}
	}
	t = timegm(&tm);
	if (*rest == 'Z') {
		rest++;
	} else if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':') {
		int off = atoi(rest + 1) * 3600 + atoi(rest + 4) * 60;

		t += *rest == '+' ? -off : off;
		rest += 6;
	}
	if (*rest)
		return -1;
	log_time(t, nsec, out);
	return 0;
}

static int logs_flag(int c, const char *arg, void *user)
{
	struct logs_opts *o = user;
	char *end;

	switch (c) {
	case 'f':
		o->follow = 1;
		break;
	case 't':
		o->timestamps = 1;
		break;
	case 'S':
	case 'U':
		if (parse_log_time(arg, c == 'S' ? o->since : o->until) < 0) {
			boxctl_error("invalid --%s \"%s\" (a duration like 10m, a Unix time, or "
				     "2026-11-27T22:00:00Z)",
				     c == 'S' ? "since" : "until", arg);
			return 1;
		}
		break;
	case 'n':
		if (strcmp(arg, "all") == 0) {
			o->tail = -1;
			break;
		}
		o->tail = strtol(arg, &end, 10);
		if (*end || o->tail < 0) {
			boxctl_error("invalid --tail \"%s\"", arg);
			return 1;
		}
		break;
	}
	return 0;
}

/* One record, "TIME STREAM F|P TEXT", to stdout or stderr as it came. */
static void print_record(const char *line, const struct logs_opts *o)
{
	const char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	FILE *f;
	bool full;

	if (!sp2 || !sp2[1] || sp2[2] != ' ')
		return;
	/* the time fields have one width: compared as strings */
	if ((o->since[0] && strncmp(line, o->since, (size_t)(sp1 - line)) < 0) ||
	    (o->until[0] && strncmp(line, o->until, (size_t)(sp1 - line)) > 0))
		return;
	f = strncmp(sp1 + 1, "stderr", 6) == 0 ? stderr : stdout;
	full = sp2[1] == 'F';
	if (o->timestamps)
		fprintf(f, "%.*s ", (int)(sp1 - line), line);
	fputs(sp2 + 3, f);
	if (full)
		fputc('\n', f);
}

int cmd_logs(box_ctx *ctx, int argc, char **argv)
{
	static const struct option longs[] = { { "follow", no_argument, NULL, 'f' },
					       { "timestamps", no_argument, NULL, 't' },
					       { "tail", required_argument, NULL, 'n' },
					       { "since", required_argument, NULL, 'S' },
					       { "until", required_argument, NULL, 'U' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	static const struct verb_opts vo = {
		"Usage: boxctl logs [-f] [-t] [--tail N] [--since T] [--until T] BOX\n\nPrint the output of a detached box "
		"(run -d).\n\n"
		"  -f, --follow       keep printing what comes, until the box exits\n"
		"  -t, --timestamps   show each line's time\n"
		"  -n, --tail N       only the last N lines (default: all)\n"
		"      --since TIME   only lines from TIME on: a duration before now\n"
		"                     (10m, 1h30m), a Unix time, or 2026-11-27T22:00:00Z\n"
		"      --until TIME   only lines up to TIME (the same forms)\n",
		"+:ftn:h", longs,
	};
	struct logs_opts o = { .tail = -1 };
	char path[4096], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	box *b;
	FILE *f;
	int r = parse(argc, argv, "logs", &vo, logs_flag, &o);

	if (r)
		return r < 0 ? 0 : r;
	if (argc - optind != 1)
		return boxctl_usage_error("logs", "logs needs one box");
	b = open_box(ctx, argv[optind]);
	if (!b)
		return 1;
	snprintf(path, sizeof(path), "%s/boxes/%s/log", box_ctx_state_dir(ctx), box_id(b));
	f = fopen(path, "re");
	if (!f) {
		boxctl_error("box %s has no log (only detached boxes, run -d, have one)", argv[optind]);
		box_close(b);
		return 1;
	}
	if (o.tail >= 0) {
		/* count the lines, then skip all but the last N */
		long total = 0, skip;

		while (getline(&line, &cap, f) > 0)
			total++;
		rewind(f);
		for (skip = total - o.tail; skip > 0 && getline(&line, &cap, f) > 0; skip--)
			;
	}
	for (;;) {
		while ((n = getline(&line, &cap, f)) > 0) {
			if (line[n - 1] != '\n') {
				/* a record still being written: read it again later */
				fseek(f, -n, SEEK_CUR);
				break;
			}
			line[n - 1] = '\0';
			print_record(line, &o);
		}
		fflush(stdout);
		fflush(stderr);
		if (!o.follow)
			break;
		if (o.until[0]) {
			/* following stops at --until */
			struct timespec ts;
			char t[40];

			clock_gettime(CLOCK_REALTIME, &ts);
			log_time(ts.tv_sec, ts.tv_nsec, t);
			if (strcmp(t, o.until) > 0)
				break;
		}
		{
			int st = box_status(b);
			struct stat a, c;

			if (st != BOX_STATUS_RUNNING && st != BOX_STATUS_PAUSED &&
			    st != BOX_STATUS_CREATED) {
				/* gone: what the monitor still writes comes within its
				 * last drain; one more pass, then stop */
				usleep(300000);
				while ((n = getline(&line, &cap, f)) > 0 && line[n - 1] == '\n') {
					line[n - 1] = '\0';
					print_record(line, &o);
				}
				break;
			}
			/* rotated: go on in the new file */
			if (fstat(fileno(f), &a) == 0 && stat(path, &c) == 0 && a.st_ino != c.st_ino) {
				FILE *g = fopen(path, "re");

				if (g) {
					fclose(f);
					f = g;
					continue;
				}
			}
		}
		clearerr(f);
		usleep(100000);
	}
	free(line);
	fclose(f);
	box_close(b);
	return 0;
}

/* ---- rename, top ---- */

int cmd_rename(box_ctx *ctx, int argc, char **argv)
{
	static const struct option longs[] = { { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	static const struct verb_opts o = { "Usage: boxctl rename BOX NEW_NAME\n\nRename a box.\n",
					    "+:h", longs };
	int r = parse(argc, argv, "rename", &o, NULL, NULL);
	box *b;

	if (r)
		return r < 0 ? 0 : r;
	if (argc - optind != 2)
		return boxctl_usage_error("rename", "rename needs a box and a new name");
	b = open_box(ctx, argv[optind]);
	if (!b)
		return 1;
	r = box_rename(b, argv[optind + 1]);
	if (r < 0)
		boxctl_error("%s", box_last_error());
	box_close(b);
	return r < 0;
}

int cmd_top(box_ctx *ctx, int argc, char **argv)
{
	static const struct option longs[] = { { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	static const struct verb_opts o = {
		"Usage: boxctl top BOX\n\nThe processes of a box, as the host sees them.\n", "+:h",
		longs,
	};
	int r = parse(argc, argv, "top", &o, NULL, NULL), pids[4096], n;
	long ticks = sysconf(_SC_CLK_TCK);
	box *b;

	if (r)
		return r < 0 ? 0 : r;
	if (argc - optind != 1)
		return boxctl_usage_error("top", "top needs one box");
	b = open_box(ctx, argv[optind]);
	if (!b)
		return 1;
	n = box_pids(b, pids, 4096);
	if (n < 0) {
		boxctl_error("%s", box_last_error());
		box_close(b);
		return 1;
	}
	printf("%-8s %-8s %-8s %-10s %s\n", "UID", "PID", "PPID", "TIME", "CMD");
	for (int i = 0; i < n && i < 4096; i++) {
		char path[64], line[1024], cmd[4096] = "", *rp;
		unsigned long long ut = 0, stt = 0;
		int ppid = 0, uid = -1;
		struct stat st;
		FILE *f;
		size_t len;

		snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && (rp = strrchr(line, ')')))
			sscanf(rp + 2, "%*c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &ppid, &ut,
			       &stt);
		fclose(f);
		snprintf(path, sizeof(path), "/proc/%d", pids[i]);
		if (stat(path, &st) == 0)
			uid = (int)st.st_uid;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pids[i]);
		f = fopen(path, "re");
		len = f ? fread(cmd, 1, sizeof(cmd) - 1, f) : 0;
		if (f)
			fclose(f);
		for (size_t k = 0; k + 1 < len; k++)
			if (!cmd[k])
				cmd[k] = ' ';
		{
			unsigned long long secs = (ut + stt) / (unsigned long long)ticks;

			printf("%-8d %-8d %-8d %02llu:%02llu:%02llu   %s\n", uid, pids[i], ppid,
			       secs / 3600, secs / 60 % 60, secs % 60, cmd);
		}
	}
	box_close(b);
	return 0;
}
