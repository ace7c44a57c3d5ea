/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroups: one internal interface, two backends (v1.c, v2.c).
 * cgroup.c detects the host (unified, hybrid, legacy), creates the parent
 * and the box's cgroup, and dispatches to the backend. */
#ifndef LIBBOX_CGROUP_H
#define LIBBOX_CGROUP_H

#include "internal.h"

enum box_ctrl {
	CTRL_MEMORY,
	CTRL_CPU,
	CTRL_CPUACCT, /* v1 only: on v2 cpu.stat is always there */
	CTRL_CPUSET,
	CTRL_PIDS,
	CTRL_IO,      /* v1: blkio */
	CTRL_FREEZER, /* v1 only: on v2 cgroup.freeze is always there */
	CTRL_DEVICES, /* v1 only: on v2 a BPF program */
	CTRL_COUNT,
};

/* The controller's name in the kernel's terms for version v. */
const char *box_ctrl_name(enum box_ctrl c, int v);

/* What the host offers, detected once per process. */
struct box_cg_host {
	int version;                  /* 1 (legacy/hybrid: v1 controllers), 2, 0: none */
	char *v2_mount;               /* the cgroup2 mount point, or NULL */
	char *v1_mount[CTRL_COUNT];   /* v1: the hierarchy's mount point per controller */
	char *v1_root[CTRL_COUNT];    /* v1: the cgroup that mount point shows */
	char *v1_self[CTRL_COUNT];    /* v1: our own cgroup in that hierarchy */
	char *v1_ctrls[CTRL_COUNT];   /* v1: the hierarchy's controllers, "cpu,cpuacct" */
	char *v2_root;                /* v2: the cgroup the mount point shows */
	char *v2_self;                /* v2: our own cgroup */
};
int box_cg_host_get(const struct box_cg_host **out);

struct box_cgroup {
	int version;
	char *path;                    /* from the hierarchy roots: "/libbox/<id>" (on v1 with a
					  relative parent: the memory hierarchy's) */
	int fd[CTRL_COUNT];            /* v1: dirfd per controller used (-1: not used) */
	int v2fd;                      /* v2: the box's cgroup directory */
	char *v1_dir[CTRL_COUNT];      /* v1: absolute directory per controller */
	char *v2_dir;                  /* v2: absolute directory */
};

/* Make the box's cgroup for cfg under ctx's parent.  *out is NULL when
 * cfg's cgroup mode is auto, no limit is set and the host gives none.
 * journal (or -1): each directory is written to it, a line each, before
 * it is made, so that a clean-up after a crash in the middle finds it. */
int box_cgroup_create(const box_ctx *ctx, const struct box_config *cfg, const char *id,
		      int journal, struct box_cgroup **out);
/* Reopen the cgroup at path ("/libbox/<id>", as box_cgroup() gives it)
 * for a box made by another process.  -ENOENT when it is gone. */
int box_cgroup_open(const char *path, const char *const *dirs, int ndirs, struct box_cgroup **out);
/* Whether the box's cgroup is frozen. */
bool box_cgroup_frozen(struct box_cgroup *cg);
/* Write cfg's limits (those it sets) into the cgroup. */
int box_cgroup_apply(struct box_cgroup *cg, const struct box_config *cfg);
/* v1: open <dir>/tasks of each hierarchy, for the child to write "0" into
 * (a process moving itself skips the wait for an RCU grace period that
 * moving another costs).  Returns how many fds were stored, or -errno. */
int box_cgroup_join_fds(struct box_cgroup *cg, int *fds, int max);
/* The box's directories (v2: one; v1: one per hierarchy), for the state. */
int box_cgroup_dirs(struct box_cgroup *cg, const char **dirs, int max);
/* Place pid in the cgroup (v1, and v2 when clone3 could not). */
int box_cgroup_enter(struct box_cgroup *cg, pid_t pid);
/* The device rules (Docker's defaults). */
int box_cgroup_devices(struct box_cgroup *cg);
int box_cgroup_stats(struct box_cgroup *cg, uint64_t *v, int n);
/* The pids in the box's cgroup, up to max; returns how many there are. */
int box_cgroup_pids(struct box_cgroup *cg, int *pids, int max);
int box_cgroup_freeze(struct box_cgroup *cg, bool frozen);
int box_cgroup_kill(struct box_cgroup *cg, int sig);
/* The OOM killer's kills in the box so far (0 if unknown). */
uint64_t box_cgroup_oom_kills(struct box_cgroup *cg);
/* Free the handle, leaving the cgroup as it is. */
void box_cgroup_close(struct box_cgroup *cg);
/* Kill what is left, wait for it to go, remove the directories, free. */
int box_cgroup_destroy(struct box_cgroup *cg);

/* helpers for the backends (cgroup.c) */
int box_cg_write(int dirfd, const char *dir, const char *file, const char *value);
int box_cg_read(int dirfd, const char *file, char *buf, size_t len);
/* The value of "key N" in a flat-keyed file (cpu.stat, memory.events). */
int box_cg_read_key(int dirfd, const char *file, const char *key, uint64_t *out);
int box_cg_read_u64(int dirfd, const char *file, uint64_t *out);

/* backends */
int box_cg_v1_apply(struct box_cgroup *cg, const struct box_config *cfg);
int box_cg_v2_apply(struct box_cgroup *cg, const struct box_config *cfg);
int box_cg_v1_stats(struct box_cgroup *cg, uint64_t *v);
int box_cg_v2_stats(struct box_cgroup *cg, uint64_t *v);
uint64_t box_cg_v1_oom_kills(struct box_cgroup *cg);
uint64_t box_cg_v2_oom_kills(struct box_cgroup *cg);
int box_cg_v1_freeze(struct box_cgroup *cg, bool frozen);
int box_cg_v2_freeze(struct box_cgroup *cg, bool frozen);

#endif
