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
		"Commands:\n"
		"  run        Run a command in a new box, in the foreground\n"
		"\n"
		"Run 'boxctl COMMAND --help' for more information on a command.\n");
}

int main(int argc, char **argv)
{
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
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return boxctl_usage_error(NULL, "unknown flag: %s", argv[1]);
	return boxctl_usage_error(NULL, "'%s' is not a boxctl command", argv[1]);
}
