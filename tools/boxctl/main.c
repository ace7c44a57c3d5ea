/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl: the reference command line of libbox.  One file per verb
 * family; every verb is a thin layer over the library. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "box.h"
#include "boxctl.h"

const char *boxctl_prog = "boxctl";

void boxctl_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", boxctl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int boxctl_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", boxctl_prog, verb ? " " : "", verb ? verb : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nSee '%s%s%s --help'.\n", boxctl_prog, verb ? " " : "", verb ? verb : "");
	return 125;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: boxctl [--version] [--help] COMMAND [ARGS...]\n"
		"\n"
		"Run Linux containers with libbox, without a daemon.\n"
		"\n"
		"Options:\n"
		"      --root DIR   state directory (default /run/libbox)\n"
		"\n"
		"Commands:\n"
		"  run        Run a command in a new box, in the foreground\n"
		"  exec       Run a command in a running box\n"
		"  attach     Attach to a detached box's input and output\n"
		"  ps         List boxes\n"
		"  inspect    Show boxes as JSON\n"
		"  logs       Print the output of a detached box\n"
		"  stats      Show boxes' resource use\n"
		"  start      Start boxes that exited again\n"
		"  restart    Stop boxes and start them again\n"
		"  stop       Stop boxes (SIGTERM, then SIGKILL)\n"
		"  kill       Send a signal to boxes\n"
		"  pause      Freeze boxes\n"
		"  unpause    Thaw boxes\n"
		"  wait       Wait for boxes and print their exit codes\n"
		"  rename     Rename a box\n"
		"  top        Show the processes of a box\n"
		"  rm         Remove boxes\n"
		"  gc         Clean up after boxes whose creator died\n"
		"  port       List a box's port maps\n"
		"  network    List or inspect the bridges (ls, inspect)\n"
		"\n"
		"Run 'boxctl COMMAND --help' for more information on a command.\n");
}

static const struct {
	const char *name;
	int (*fn)(box_ctx *ctx, int argc, char **argv);
} verbs[] = {
	{ "run", cmd_run },	    { "exec", cmd_exec },   { "ps", cmd_ps },	    { "inspect", cmd_inspect },
	{ "stats", cmd_stats },	    { "stop", cmd_stop },   { "kill", cmd_kill },
	{ "pause", cmd_pause },	    { "unpause", cmd_unpause }, { "wait", cmd_wait },
	{ "rm", cmd_rm },	    { "gc", cmd_gc },	    { "logs", cmd_logs },
	{ "rename", cmd_rename },   { "top", cmd_top },	    { "start", cmd_start },
	{ "restart", cmd_restart }, { "attach", cmd_attach },   { "port", cmd_port },
	{ "network", cmd_network },
};

int main(int argc, char **argv)
{
	box_ctx *ctx = NULL;
	const char *root = NULL;
	int r;

	/* global options, before the verb */
	while (argc >= 2 && strncmp(argv[1], "--root", 6) == 0 &&
	       (argv[1][6] == '\0' || argv[1][6] == '=')) {
		if (argv[1][6] == '=') {
			root = argv[1] + 7;
		} else if (argv[1][6] == '\0' && argc >= 3) {
			root = argv[2];
			argv++;
			argc--;
		} else {
			return boxctl_usage_error(NULL, "flag needs an argument: --root");
		}
		argv++;
		argc--;
	}
	if (argc < 2) {
		usage(stderr);
		return 125;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("boxctl version %s (libbox %s)\n", LIBBOX_CLI_VERSION, box_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[1], verbs[i].name) != 0)
			continue;
		if (box_ctx_new(&ctx) < 0 || (root && box_ctx_set_state_dir(ctx, root) < 0)) {
			boxctl_error("%s", box_last_error());
			box_ctx_free(ctx);
			return 125;
		}
		r = verbs[i].fn(ctx, argc - 1, argv + 1);
		box_ctx_free(ctx);
		return r;
	}
	if (argv[1][0] == '-')
		return boxctl_usage_error(NULL, "unknown flag: %s", argv[1]);
	return boxctl_usage_error(NULL, "'%s' is not a boxctl command", argv[1]);
}
