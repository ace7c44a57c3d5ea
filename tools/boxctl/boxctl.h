/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BOXCTL_H
#define BOXCTL_H

extern const char *boxctl_prog;

/* Print "boxctl: MSG" to stderr. */
void boxctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An unknown flag or bad usage: one line and a hint; returns 125. */
int boxctl_usage_error(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int cmd_run(int argc, char **argv);

#endif
