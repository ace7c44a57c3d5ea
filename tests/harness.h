/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared test support: a throwaway host (network + mount namespace) for
 * every test program, the busybox rootfs, running boxes with captured
 * output, and the "nothing left behind" checks. */
#ifndef LIBBOX_TEST_HARNESS_H
#define LIBBOX_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "box.h"

/* Enter a new network and mount namespace (lo up, / private).  Returns 0,
 * or -1 when not root (the caller then skips everything, or fails in CI). */
int harness_enter_throwaway_host(void);
/* Skip the current test for a missing feature; under CI=true, fail. */
#define harness_skip(why)                                                   \
	do {                                                                \
		if (harness_in_ci())                                        \
			fail_msg("would skip in CI: %s", why);               \
		print_message("# skipped: %s\n", why);                         \
		skip();                                                     \
	} while (0)
int harness_in_ci(void);

const char *harness_rootfs(void);  /* the busybox rootfs */
const char *harness_probe(void);   /* the static probe binary */
box_ctx *harness_ctx(void);
const char *harness_state_dir(void); /* the ctx's private state directory */
const char *harness_cgroup_parent(void); /* the ctx's cgroup parent, removed at exit */
int harness_cgroup_mounts(char mounts[][256], int max);
void harness_remove_stray_cgroups(void);

/* A config on the test rootfs running argv (NULL-terminated). */
box_config *harness_config(const char *const *argv);
#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct run_result {
	int rc;          /* 0 or the negative errno of create/start/wait */
	int code, sig;
	char out[16384]; /* stdout and stderr together */
	char msg[1024];  /* box_last_error() on failure */
};

/* Create, start, collect output, wait, destroy. */
void harness_run(box_config *cfg, struct run_result *res);
/* The same, with another context. */
void harness_run_in(box_ctx *ctx, box_config *cfg, struct run_result *res);
/* Run argv with the default test config and return the result. */
void harness_sh(const char *script, struct run_result *res);

/* Snapshot of what a box could leave behind in the test's host: mounts in
 * our namespace, our child processes, our open fds. */
struct leftovers {
	int mounts, children, fds, cgroups;
};
void harness_snapshot(struct leftovers *s);
/* Assert that nothing changed since the snapshot. */
void harness_assert_clean(const struct leftovers *before);

/* Write a file (test fixtures). */
void harness_write_file(const char *path, const char *content, int mode);



/* main() of every test program: enter the throwaway host, run the tests
 * with TAP output.  Without root: everything is skipped, or fails in CI. */
int harness_main(const char *name, const struct CMUnitTest *tests, size_t n);
#endif
