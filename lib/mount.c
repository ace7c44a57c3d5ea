/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The box's mounts as data (bubblewrap's idea): box_plan_build() turns a
 * config into an ordered list of operations in the parent; the child runs
 * it with box_plan_run() against the new root, before pivot_root.  Every
 * target is resolved inside the root (util/fs.c) and mounted with the new
 * mount API, so no path string is ever re-resolved after the check. */
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "internal.h"
#include "cgroup/cgroup.h"

/* ---- building (parent) ---- */

static struct box_op *plan_add(struct box_plan *p, enum box_op_kind kind, const char *target)
{
	struct box_op *op;

	if (p->nops == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 48;
		struct box_op *ops = realloc(p->ops, cap * sizeof(*ops));

		if (!ops)
			return NULL;
		p->ops = ops;
		p->cap = cap;
	}
	op = &p->ops[p->nops++];
	*op = (struct box_op){ .kind = kind, .target = target };
	return op;
}

static struct box_op *plan_fs(struct box_plan *p, const char *fstype, const char *target,
			      uint64_t attr, const struct box_op_opt *opts, size_t nopts)
{
	struct box_op *op = plan_add(p, OP_MOUNT_FS, target);

	if (op) {
		op->strict = true; /* built-in; a user mount clears it */
		op->fstype = fstype;
		op->attr_set = attr;
		op->opts = opts;
		op->nopts = nopts;
	}
	return op;
}

static const char *const masked_paths[] = {
	"proc/asound",	   "proc/acpi",	     "proc/kcore",	    "proc/keys",
	"proc/latency_stats", "proc/timer_list", "proc/timer_stats", "proc/sched_debug",
	"proc/scsi",	   "sys/firmware",   "sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
	"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

static const struct {
	const char *name;
	unsigned major, minor;
} devices[] = {
	{ "dev/null", 1, 3 },	 { "dev/zero", 1, 5 },	  { "dev/full", 1, 7 },
	{ "dev/random", 1, 8 }, { "dev/urandom", 1, 9 }, { "dev/tty", 5, 0 },
};

static const char *const dev_links[][2] = {
	{ "dev/fd", "/proc/self/fd" },	  { "dev/stdin", "/proc/self/fd/0" },
	{ "dev/stdout", "/proc/self/fd/1" }, { "dev/stderr", "/proc/self/fd/2" },
	{ "dev/ptmx", "pts/ptmx" },	  { "dev/core", "/proc/kcore" },
};

#define NOSUID_NODEV_NOEXEC (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

/* The standard devices and /dev's symlinks. */
static int plan_devices(struct box_plan *p)
{
	struct box_op *op;

	for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
		if (!(op = plan_add(p, OP_MKNOD, devices[i].name)))
			return -ENOMEM;
		op->strict = true;
		op->mode = S_IFCHR | 0666;
		op->dev = makedev(devices[i].major, devices[i].minor);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++) {
		if (!(op = plan_add(p, OP_SYMLINK, dev_links[i][0])))
			return -ENOMEM;
		op->strict = true;
		op->source = dev_links[i][1];
	}
	return 0;
}

/* The box's own cgroups on target, read-only, as its cgroup namespace
 * shows them. */
static int plan_cgroup(struct box_plan *p, const struct box_config *cfg,
		       const struct box_cgroup *cg, const char *target)
{
	static const struct box_op_opt cgroup_tmpfs_opts[] = { { "mode", "755" } };
	bool userns = cfg->ns & BOX_NS_USER;
	struct box_op *op;

	if (!cg || !(cfg->ns & BOX_NS_CGROUP))
		return 0;
	if (cg->version == 2)
		return plan_fs(p, "cgroup2", target, NOSUID_NODEV_NOEXEC | MOUNT_ATTR_RDONLY, NULL,
			       0) ? 0 : -ENOMEM;
	if (userns) /* v1 cannot be mounted in a user namespace */
		return 0;
	if (!plan_fs(p, "tmpfs", target, NOSUID_NODEV_NOEXEC, cgroup_tmpfs_opts,
		     ARRAY_SIZE(cgroup_tmpfs_opts)))
		return -ENOMEM;
	op = plan_add(p, OP_CGROUP_V1, target);
	if (!op)
		return -ENOMEM;
	op->cg = cg;
	for (size_t k = 0; k < ARRAY_SIZE(op->trees); k++)
		op->trees[k] = -1;
	op->strict = true;
	op = plan_add(p, OP_READONLY, target);
	if (!op)
		return -ENOMEM;
	op->strict = true;
	return 0;
}

int box_plan_build(const struct box_config *cfg, const struct box_cgroup *cg, struct box_plan *p)
{
	static const struct box_op_opt dev_opts[] = { { "mode", "755" }, { "size", "65536k" } };
	static const struct box_op_opt shm_opts[] = { { "mode", "1777" }, { "size", "65536k" } };
	/* gid=5 (tty) is left out in a user namespace, where it may be unmapped */
	static const struct box_op_opt pts_opts[] = {
		{ "newinstance", NULL }, { "ptmxmode", "0666" }, { "mode", "0620" }, { "gid", "5" },
	};
	bool userns = cfg->ns & BOX_NS_USER;
	/* an OCI bundle: its mounts replace ours; devices come after them */
	bool spec = cfg->oci && cfg->oci->spec;
	struct box_op *op;

	memset(p, 0, sizeof(*p));
#define ADD(expr)                        \
	do {                             \
		if (!(op = (expr)))      \
			goto oom;        \
	} while (0)

	if (!spec) {
		/* no fallback for proc: binding the host's would show its processes */
		ADD(plan_fs(p, "proc", "proc", NOSUID_NODEV_NOEXEC, NULL, 0));
		ADD(plan_fs(p, "sysfs", "sys", NOSUID_NODEV_NOEXEC | MOUNT_ATTR_RDONLY, NULL, 0));
		op->fallback_bind = true;
		ADD(plan_fs(p, "tmpfs", "dev", MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME, dev_opts,
			    ARRAY_SIZE(dev_opts)));
		if (plan_devices(p) < 0)
			goto oom;
		ADD(plan_fs(p, "devpts", "dev/pts", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, pts_opts,
			    ARRAY_SIZE(pts_opts) - (userns ? 1 : 0)));
		ADD(plan_fs(p, "tmpfs", "dev/shm", NOSUID_NODEV_NOEXEC, shm_opts, ARRAY_SIZE(shm_opts)));
		if (cfg->ns & BOX_NS_IPC)
			ADD(plan_fs(p, "mqueue", "dev/mqueue", NOSUID_NODEV_NOEXEC, NULL, 0));
	}
	if (!spec && plan_cgroup(p, cfg, cg, "sys/fs/cgroup") < 0)
		goto oom;

	/* the box's /etc/hosts and /etc/resolv.conf, from its state directory,
	 * where the image has them (the caller's mounts may replace them) */
	if (cfg->hosts_file) {
		ADD(plan_add(p, OP_BIND, "etc/hosts"));
		op->source = cfg->hosts_file;
		op->optional = op->existing = true;
		op->strict = true;
	}
	if (cfg->resolv_file) {
		ADD(plan_add(p, OP_BIND, "etc/resolv.conf"));
		op->source = cfg->resolv_file;
		op->optional = op->existing = true;
		op->strict = true;
	}
	for (size_t i = 0; i < cfg->nmounts; i++) {
		const struct box_mount *m = &cfg->mounts[i];
		const char *target = m->target + 1; /* inside the root, no leading '/' */

		/* the caller's mounts follow the image's symlinks, inside the
		 * root (as docker's volumes do) */
		if (spec && (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0)) {
			/* the box's own, whatever the host's version */
			if (plan_cgroup(p, cfg, cg, target) < 0)
				goto oom;
			continue;
		}
		if (strcmp(m->type, "bind") == 0) {
			ADD(plan_add(p, OP_BIND, target));
			op->source = m->source;
			op->recursive = m->recursive;
			op->attr_clr = m->attr_clr;
		} else {
			ADD(plan_fs(p, m->type, target, 0, m->fs_opts, m->nfs_opts));
			op->source = m->source;
			op->strict = false;
			/* e.g. sysfs in a user namespace without a net namespace */
			op->fallback_bind = spec && strcmp(m->type, "sysfs") == 0;
		}
		op->attr_set = m->attr_set;
		op->propagation = m->propagation;
	}
	if (spec) {
		if (plan_devices(p) < 0)
			goto oom;
		for (size_t i = 0; i < cfg->oci->ndevices; i++) {
			const struct box_oci_device *d = &cfg->oci->devices[i];

			ADD(plan_add(p, OP_MKNOD, d->path + 1));
			op->mode = d->mode;
			op->dev = d->dev;
		}
	}
	if (spec && cfg->oci->masked) {
		for (size_t i = 0; cfg->oci->masked[i]; i++) {
			ADD(plan_add(p, OP_MASK, cfg->oci->masked[i] + 1));
			op->optional = true;
			op->strict = true;
		}
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(masked_paths); i++) {
			ADD(plan_add(p, OP_MASK, masked_paths[i]));
			op->optional = true;
			op->strict = true;
		}
	}
	if (spec && cfg->oci->readonly) {
		for (size_t i = 0; cfg->oci->readonly[i]; i++) {
			ADD(plan_add(p, OP_READONLY, cfg->oci->readonly[i] + 1));
			op->optional = true;
			op->strict = true;
		}
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(readonly_paths); i++) {
			ADD(plan_add(p, OP_READONLY, readonly_paths[i]));
			op->optional = true;
			op->strict = true;
		}
	}

	if (cfg->cwd && strcmp(cfg->cwd, "/") != 0) {
		ADD(plan_add(p, OP_MKDIR, cfg->cwd + 1));
		op->mode = 0755;
	}
#undef ADD
	return 0;
oom:
	box_plan_free(p);
	return box_err(ENOMEM, "box_create: out of memory");
}

int box_plan_prepare(struct box_plan *p)
{
	for (size_t i = 0; i < p->nops; i++) {
		struct box_op *op = &p->ops[i];
		size_t k = 0;

		if (op->kind != OP_CGROUP_V1)
			continue;
		for (int c = 0; c < CTRL_COUNT && k < ARRAY_SIZE(op->trees); c++) {
			bool first = op->cg->v1_dir[c] != NULL;

			for (int d = 0; first && d < c; d++)
				if (op->cg->v1_dir[d] && strcmp(op->cg->v1_dir[d], op->cg->v1_dir[c]) == 0)
					first = false;
			if (!first)
				continue;
			op->trees[k] = open_tree(AT_FDCWD, op->cg->v1_dir[c],
						 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
			if (op->trees[k] < 0)
				return box_err_errno(errno, "open_tree %s", op->cg->v1_dir[c]);
			k++;
		}
	}
	return 0;
}

void box_plan_free(struct box_plan *p)
{
	for (size_t i = 0; i < p->nops; i++)
		if (p->ops[i].kind == OP_CGROUP_V1)
			for (size_t k = 0; k < ARRAY_SIZE(p->ops[i].trees); k++)
				if (p->ops[i].trees[k] >= 0)
					close(p->ops[i].trees[k]);
	free(p->ops);
	memset(p, 0, sizeof(*p));
}

void box_plan_describe(const struct box_plan *p, size_t i, const char *rootfs, char *buf,
		       size_t len)
{
	const struct box_op *op;

	if (i >= p->nops) {
		snprintf(buf, len, "setup step %zu", i);
		return;
	}
	op = &p->ops[i];
	switch (op->kind) {
	case OP_MOUNT_FS:
		snprintf(buf, len, "mount %s on %s/%s", op->fstype, rootfs, op->target);
		break;
	case OP_BIND:
		snprintf(buf, len, "bind mount %s on %s/%s", op->source, rootfs, op->target);
		break;
	case OP_MKNOD:
		snprintf(buf, len, "mknod %s/%s", rootfs, op->target);
		break;
	case OP_SYMLINK:
		snprintf(buf, len, "symlink %s/%s -> %s", rootfs, op->target, op->source);
		break;
	case OP_MASK:
		snprintf(buf, len, "mask %s/%s", rootfs, op->target);
		break;
	case OP_READONLY:
		snprintf(buf, len, "remount %s/%s read-only", rootfs, op->target);
		break;
	case OP_MKDIR:
		snprintf(buf, len, "mkdir %s/%s", rootfs, op->target);
		break;
	case OP_CGROUP_V1:
		snprintf(buf, len, "mount the box's cgroups on %s/%s", rootfs, op->target);
		break;
	}
}

/* ---- running (child: no heap from here on) ---- */

static int attach(int tree, int targetfd)
{
	int r = move_mount(tree, "", targetfd, "",
			   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);

	return r < 0 ? -errno : 0;
}

static int set_attr(int tree, uint64_t set, uint64_t clr, uint64_t propagation, bool recursive)
{
	struct mount_attr attr = {
		.attr_set = set,
		.attr_clr = clr,
		.propagation = propagation & ~(uint64_t)MS_REC,
	};
	unsigned flags = AT_EMPTY_PATH | (recursive || (propagation & MS_REC) ? AT_RECURSIVE : 0);

	if (!set && !clr && !propagation)
		return 0;
	return mount_setattr(tree, "", flags, &attr, sizeof(attr)) < 0 ? -errno : 0;
}

/* Clone a host path (before pivot_root, "/" is still the host's root)
 * and attach it on targetfd. */
static int bind_host(const char *source, int targetfd, bool recursive, uint64_t set, uint64_t clr,
		     uint64_t propagation)
{
	int tree = open_tree(AT_FDCWD, source,
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	int r;

	if (tree < 0)
		return -errno;
	r = set_attr(tree, set, clr, propagation, recursive);
	if (r == 0)
		r = attach(tree, targetfd);
	close(tree);
	return r;
}

static int mount_fs(const struct box_op *op, int targetfd)
{
	int fsfd, mfd, r = 0;

	fsfd = fsopen(op->fstype, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	if (op->source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", op->source, 0) < 0) {
		r = -errno;
		goto out;
	}
	for (size_t i = 0; i < op->nopts; i++) {
		const struct box_op_opt *o = &op->opts[i];

		if (fsconfig(fsfd, o->value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o->key,
			     o->value, 0) < 0) {
			r = -errno;
			goto out;
		}
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		r = -errno;
		goto out;
	}
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned)op->attr_set);
	if (mfd < 0) {
		r = -errno;
		goto out;
	}
	r = set_attr(mfd, 0, 0, op->propagation, false);
	if (r == 0)
		r = attach(mfd, targetfd);
	close(mfd);
out:
	close(fsfd);
	return r;
}

/* A mount on the root itself would cover everything the plan mounted
 * before and escape what comes after (the masks of /proc): refused. */
static int not_the_root(int rootfd, int fd)
{
	struct stat a, b;

	if (fstat(rootfd, &a) < 0 || fstat(fd, &b) < 0)
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? -EINVAL : 0;
}

/* Split "a/b/c" into an O_PATH fd of "a/b" (inside root) and "c". */
static int open_parent(int rootfd, const char *target, char *buf, size_t len, const char **name)
{
	const char *slash = strrchr(target, '/');
	size_t n = slash ? (size_t)(slash - target) : 0;

	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, target, n);
	buf[n] = '\0';
	*name = slash ? slash + 1 : target;
	return box_mkdir_in_root(rootfd, buf, 0755, true);
}

/* Each v1 hierarchy the box is in, on TARGET/<its controllers>: a
 * read-only bind of the box's own cgroup directory, which is what a cgroup
 * mount in its cgroup namespace would show, at a fraction of the cost of
 * eight file system contexts.  The parent cloned them (box_plan_prepare):
 * with "/" as the root, the box's own /sys would hide the host's by now. */
static int mount_cgroup_v1(const struct box_op *op, int rootfd)
{
	const struct box_cg_host *h;
	const struct box_cgroup *cg = op->cg;
	char path[4096];
	int r;

	r = box_cg_host_get(&h); /* detected by the parent already: no work here */
	if (r < 0)
		return r;
	for (int c = 0, k = 0; c < CTRL_COUNT; c++) {
		bool first = cg->v1_dir[c] != NULL;
		int fd;

		for (int d = 0; first && d < c; d++)
			if (cg->v1_dir[d] && strcmp(cg->v1_dir[d], cg->v1_dir[c]) == 0)
				first = false;
		if (!first)
			continue;
		/* the same order as box_plan_prepare */
		if (k >= (int)ARRAY_SIZE(op->trees) || op->trees[k] < 0 || !h->v1_ctrls[c])
			return -EBADF;
		if (snprintf(path, sizeof(path), "%s/%s", op->target, h->v1_ctrls[c]) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		fd = box_mkdir_in_root(rootfd, path, 0755, true);
		if (fd < 0)
			return fd;
		r = set_attr(op->trees[k], MOUNT_ATTR_RDONLY | NOSUID_NODEV_NOEXEC, 0, 0, false);
		if (r == 0)
			r = attach(op->trees[k], fd);
		close(fd);
		k++;
		if (r < 0)
			return r;
	}
	return 0;
}

static int run_op(const struct box_op *op, int rootfd, bool in_userns)
{
	char parent[4096], host[4096];
	const char *name;
	struct stat st;
	int fd, r;

	switch (op->kind) {
	case OP_MOUNT_FS:
		fd = box_mkdir_in_root(rootfd, op->target, 0755, op->strict);
		if (fd < 0)
			return fd;
		r = not_the_root(rootfd, fd);
		if (r == 0)
			r = mount_fs(op, fd);
		if (r == -EPERM && op->fallback_bind) {
			/* e.g. sysfs in a user namespace without a net namespace */
			snprintf(host, sizeof(host), "/%s", op->target);
			r = bind_host(host, fd, true, op->attr_set, 0, 0);
		}
		close(fd);
		return r;
	case OP_BIND:
		if (stat(op->source, &st) < 0)
			return -errno;
		if (op->existing)
			fd = box_open_in_root(rootfd, op->target, O_PATH | O_CLOEXEC, op->strict);
		else
			fd = S_ISDIR(st.st_mode) ? box_mkdir_in_root(rootfd, op->target, 0755, false)
						 : box_mkfile_in_root(rootfd, op->target, 0644, false);
		if (fd < 0)
			return fd;
		r = not_the_root(rootfd, fd);
		if (r == 0)
			r = bind_host(op->source, fd, op->recursive, op->attr_set, op->attr_clr,
				      op->propagation);
		close(fd);
		return r;
	case OP_MKNOD:
		fd = open_parent(rootfd, op->target, parent, sizeof(parent), &name);
		if (fd < 0)
			return fd;
		r = mknodat(fd, name, op->mode, op->dev) < 0 ? -errno : 0;
		close(fd);
		if (r == -EEXIST)
			r = 0;
		if (r == -EPERM && in_userns) {
			/* no mknod in a user namespace: bind the host's node */
			fd = box_mkfile_in_root(rootfd, op->target, 0666, true);
			if (fd < 0)
				return fd;
			snprintf(host, sizeof(host), "/%s", op->target);
			r = bind_host(host, fd, false, 0, 0, 0);
			close(fd);
		}
		return r;
	case OP_SYMLINK:
		fd = open_parent(rootfd, op->target, parent, sizeof(parent), &name);
		if (fd < 0)
			return fd;
		r = symlinkat(op->source, fd, name) < 0 && errno != EEXIST ? -errno : 0;
		close(fd);
		return r;
	case OP_MASK:
		fd = box_open_in_root(rootfd, op->target, O_PATH, true);
		if (fd < 0)
			return fd;
		if (fstat(fd, &st) < 0) {
			r = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			static const struct box_op_opt ro_tmpfs_opts[] = { { "size", "0" } };
			struct box_op mask = { .kind = OP_MOUNT_FS, .fstype = "tmpfs",
					       .opts = ro_tmpfs_opts, .nopts = 1,
					       .attr_set = MOUNT_ATTR_RDONLY | NOSUID_NODEV_NOEXEC };
			r = mount_fs(&mask, fd);
		} else {
			r = bind_host("/dev/null", fd, false, 0, 0, 0);
		}
		close(fd);
		return r;
	case OP_READONLY: {
		int tree;

		fd = box_open_in_root(rootfd, op->target, O_PATH, true);
		if (fd < 0)
			return fd;
		tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
					 AT_RECURSIVE);
		r = tree < 0 ? -errno : set_attr(tree, MOUNT_ATTR_RDONLY, 0, 0, true);
		if (r == 0)
			r = attach(tree, fd);
		if (tree >= 0)
			close(tree);
		close(fd);
		return r;
	}
	case OP_MKDIR:
		fd = box_mkdir_in_root(rootfd, op->target, op->mode, false);
		if (fd < 0)
			return fd;
		close(fd);
		return 0;
	case OP_CGROUP_V1:
		return mount_cgroup_v1(op, rootfd);
	}
	return -EINVAL;
}

int box_plan_run(const struct box_plan *p, int rootfd, bool in_userns, size_t *failed)
{
	for (size_t i = 0; i < p->nops; i++) {
		int r = run_op(&p->ops[i], rootfd, in_userns);

		if (r == -ENOENT && p->ops[i].optional)
			continue;
		if (r < 0) {
			*failed = i;
			return r;
		}
	}
	return 0;
}
