/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BOXCTL_H
#define BOXCTL_H

extern const char *boxctl_prog;

/* Print "boxctl: MSG" to stderr. */
void boxctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An unknown flag or bad usage: one line and a hint; returns 125. */
int boxctl_usage_error(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#include <stddef.h>

#include "box.h"

int cmd_run(box_ctx *ctx, int argc, char **argv);
int cmd_exec(box_ctx *ctx, int argc, char **argv);
int cmd_ps(box_ctx *ctx, int argc, char **argv);
int cmd_logs(box_ctx *ctx, int argc, char **argv);
int cmd_rename(box_ctx *ctx, int argc, char **argv);
int cmd_top(box_ctx *ctx, int argc, char **argv);
int cmd_inspect(box_ctx *ctx, int argc, char **argv);
int cmd_stats(box_ctx *ctx, int argc, char **argv);
int cmd_stop(box_ctx *ctx, int argc, char **argv);
int cmd_kill(box_ctx *ctx, int argc, char **argv);
int cmd_pause(box_ctx *ctx, int argc, char **argv);
int cmd_unpause(box_ctx *ctx, int argc, char **argv);
int cmd_wait(box_ctx *ctx, int argc, char **argv);
int cmd_rm(box_ctx *ctx, int argc, char **argv);
int cmd_gc(box_ctx *ctx, int argc, char **argv);
/* image.c */
int cmd_images(box_ctx *ctx, int argc, char **argv);
int cmd_load(box_ctx *ctx, int argc, char **argv);
int cmd_import(box_ctx *ctx, int argc, char **argv);
int cmd_save(box_ctx *ctx, int argc, char **argv);
int cmd_commit(box_ctx *ctx, int argc, char **argv);
int cmd_rmi(box_ctx *ctx, int argc, char **argv);
int cmd_tag(box_ctx *ctx, int argc, char **argv);
int cmd_image(box_ctx *ctx, int argc, char **argv);
int cmd_port(box_ctx *ctx, int argc, char **argv);
int cmd_network(box_ctx *ctx, int argc, char **argv);
int cmd_start(box_ctx *ctx, int argc, char **argv);
int cmd_restart(box_ctx *ctx, int argc, char **argv);
int cmd_attach(box_ctx *ctx, int argc, char **argv);
/* Write all of buf, across short writes; 0 or -1. */
int boxctl_write_all(int fd, const char *buf, size_t len);

/* Set while boxctl start makes a box again (run.c reads it): its id,
 * name, the directory holding its log meanwhile, its writable layer
 * meanwhile and its image's id (a box of an image), its restarts so far. */
struct boxctl_again {
	const char *id, *name, *keep, *upper, *image;
	int restarts;
};
extern struct boxctl_again boxctl_again;
void boxctl_restore_logs(const char *keep, const char *dir);
void boxctl_give_back_upper(box *b);
/* The user stopped b: its restart policy leaves it stopped. */
void boxctl_mark_stopped(box_ctx *ctx, box *b);
/* docker stop: SIGTERM, SIGKILL after seconds; 0 or -1 (box_last_error). */
int boxctl_stop_box(box *b, int seconds);
/* boxctl stop of the box named what, and of the box its restart policy
 * may be making again meanwhile; 0 or -1 (said). */
int boxctl_stop_for_good(box_ctx *ctx, const char *what, int seconds);

/* The OCI runtime command line (oci.c). */
#include <stdbool.h>
struct oci_globals {
	const char *log;      /* --log FILE */
	bool json_log;        /* --log-format json */
	bool debug;           /* --debug */
	bool systemd_cgroup;  /* --systemd-cgroup (accepted; cgroupfs paths are used) */
	bool any;             /* one of the above: an engine calls */
};
extern struct oci_globals oci_g;
/* The OCI verb called name, or NULL. */
int (*oci_verb(const char *name))(box_ctx *, int, char **);
/* Whether argv (argv[0] the verb) is the OCI form of run, exec, kill, ps
 * or start. */
bool oci_form(box_ctx *ctx, int argc, char **argv);
bool oci_is_signal(const char *s);

#endif
