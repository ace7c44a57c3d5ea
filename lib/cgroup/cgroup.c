/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroups, the common part: what the host has, the box's cgroup, and the
 * operations both versions share (placing, killing, removing). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "cgroup/devices.h"

static const char *const v1_names[CTRL_COUNT] = {
	[CTRL_MEMORY] = "memory", [CTRL_CPU] = "cpu",	  [CTRL_CPUACCT] = "cpuacct",
	[CTRL_CPUSET] = "cpuset", [CTRL_PIDS] = "pids",	  [CTRL_IO] = "blkio",
	[CTRL_FREEZER] = "freezer", [CTRL_DEVICES] = "devices",
};

const char *box_ctrl_name(enum box_ctrl c, int v)
{
	if (v == 2 && c == CTRL_IO)
		return "io";
	return v1_names[c];
}

/* ---- the host, detected once ---- */

static struct box_cg_host host;
static int host_err;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p;) {
		const char *e = strchrnul(p, ',');

		if ((size_t)(e - p) == n && strncmp(p, word, n) == 0)
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

static void detect(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	if (!f) {
		host_err = -errno;
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char root[PATH_MAX], mnt[PATH_MAX], fstype[64], opts[1024];
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*d %*d %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && !host.v2_mount) {
			host.v2_mount = strdup(mnt);
			host.v2_root = strdup(root);
		} else if (strcmp(fstype, "cgroup") == 0) {
			char ctrls[256] = "";

			for (int c = 0; c < CTRL_COUNT; c++) {
				if (!has_word(opts, v1_names[c]))
					continue;
				snprintf(ctrls + strlen(ctrls), sizeof(ctrls) - strlen(ctrls), "%s%s",
					 ctrls[0] ? "," : "", v1_names[c]);
			}
			for (int c = 0; c < CTRL_COUNT; c++) {
				if (host.v1_mount[c] || !has_word(opts, v1_names[c]))
					continue;
				host.v1_mount[c] = strdup(mnt);
				host.v1_root[c] = strdup(root);
				host.v1_ctrls[c] = strdup(ctrls);
				host.version = 1;
			}
		}
	}
	fclose(f);
	if (!host.version && host.v2_mount)
		host.version = 2;

	/* our own cgroups: "N:ctrl,ctrl:/path" and "0::/path" */
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (c1[1] == '\0') {
			host.v2_self = strdup(c2 + 1);
			continue;
		}
		for (int c = 0; c < CTRL_COUNT; c++)
			if (has_word(c1 + 1, v1_names[c]) && !host.v1_self[c])
				host.v1_self[c] = strdup(c2 + 1);
	}
	if (f)
		fclose(f);
}

int box_cg_host_get(const struct box_cg_host **out)
{
	pthread_once(&host_once, detect);
	if (host_err)
		return box_err_errno(-host_err, "cgroups: reading /proc/self/mountinfo");
	*out = &host;
	return 0;
}

/* ---- small file helpers ---- */

int box_cg_write(int dirfd, const char *dir, const char *file, const char *value)
{
	int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return box_err_errno(errno, "cgroup %s: open %s", dir, file);
	n = write(fd, value, len);
	if (n != (ssize_t)len)
		r = box_err_errno(n < 0 ? errno : EIO, "cgroup %s: write \"%s\" to %s", dir, value,
				  file);
	close(fd);
	return r;
}

int box_cg_read(int dirfd, const char *file, char *buf, size_t len)
{
	return box_read_small(dirfd, file, buf, len);
}

int box_cg_read_u64(int dirfd, const char *file, uint64_t *out)
{
	char buf[64];
	int r = box_cg_read(dirfd, file, buf, sizeof(buf));

	if (r < 0)
		return r;
	*out = strncmp(buf, "max", 3) == 0 ? UINT64_MAX : strtoull(buf, NULL, 10);
	return 0;
}

int box_cg_read_key(int dirfd, const char *file, const char *key, uint64_t *out)
{
	char buf[4096];
	size_t n = strlen(key);
	int r = box_cg_read(dirfd, file, buf, sizeof(buf));

	if (r < 0)
		return r;
	for (char *p = buf; *p; p = strchrnul(p, '\n'), p += !!*p) {
		if (strncmp(p, key, n) == 0 && p[n] == ' ') {
			*out = strtoull(p + n + 1, NULL, 10);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- creating ---- */

/* mkdir -p of rel under base, into out. */
static int mkdir_under(const char *base, const char *rel, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", base, rel);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	for (char *p = out + strlen(base) + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(out, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

/* The box's path relative to a hierarchy's root: the ctx's parent (from
 * the root, or from our own cgroup when relative) and the id. */
static int box_rel(const char *parent, const char *self, const char *id, char *out, size_t len)
{
	const char *p = parent;
	int n;

	while (*p == '/')
		p++;
	if (parent[0] == '/' || !self)
		n = snprintf(out, len, "%s%s%s", p, *p ? "/" : "", id);
	else if (!*p)
		n = snprintf(out, len, "%s%s%s", self + (self[0] == '/'),
			     self[0] && strcmp(self, "/") ? "/" : "", id);
	else
		n = snprintf(out, len, "%s%s%s/%s", self + (self[0] == '/'),
			     self[0] && strcmp(self, "/") ? "/" : "", p, id);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The directory of a hierarchy where the path rel lives: the mount point
 * shows the cgroup mroot, so rel must be below it. */
static int hier_base(const char *mnt, const char *mroot, const char *rel, char *out, size_t len,
		     const char **rel_in_mount)
{
	size_t rl = strcmp(mroot, "/") == 0 ? 0 : strlen(mroot) - 1;

	if (rl && (strncmp(rel, mroot + 1, rl) != 0 || rel[rl] != '/'))
		return -EACCES;
	*rel_in_mount = rel + (rl ? rl + 1 : 0);
	return snprintf(out, len, "%s", mnt) >= (int)len ? -ENAMETOOLONG : 0;
}

/* On v1 a box joins every hierarchy we know, whatever its limits now:
 * box_update_limits() may set any of them later, and a process cannot be
 * moved into a hierarchy behind its children's backs.  Only a controller
 * that a limit needs is required. */
static bool v1_required(const struct box_config *cfg, enum box_ctrl c)
{
	switch (c) {
	case CTRL_MEMORY:
		return cfg_has_limit(cfg, BOX_LIMIT_MEMORY) || cfg_has_limit(cfg, BOX_LIMIT_MEMORY_SWAP) ||
		       cfg_has_limit(cfg, BOX_LIMIT_MEMORY_RESERVATION);
	case CTRL_PIDS:
		return cfg_has_limit(cfg, BOX_LIMIT_PIDS);
	case CTRL_IO:
		return cfg->nio || cfg_has_limit(cfg, BOX_LIMIT_IO_WEIGHT);
	case CTRL_CPU:
		return cfg_has_limit(cfg, BOX_LIMIT_CPU_QUOTA) || cfg_has_limit(cfg, BOX_LIMIT_CPU_PERIOD) ||
		       cfg_has_limit(cfg, BOX_LIMIT_CPU_SHARES) || cfg_has_limit(cfg, BOX_LIMIT_CPU_WEIGHT);
	case CTRL_CPUSET:
		return cfg->cpuset_cpus || cfg->cpuset_mems;
	default:
		return false;
	}
}

/* cpuset: a new v1 cpuset cgroup starts with no cpus and no mems, and
 * takes no task until it has some: give dir its parent's when empty. */
static void cpuset_inherit(char *dir)
{
	char *slash = strrchr(dir, '/');
	int pfd, fd;

	if (!slash)
		return;
	*slash = '\0';
	pfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*slash = '/';
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; pfd >= 0 && fd >= 0 && i < 2; i++) {
		const char *file = i ? "cpuset.mems" : "cpuset.cpus";
		char cur[4096], up[4096];

		if (box_cg_read(fd, file, cur, sizeof(cur)) < 0 || (cur[0] && cur[0] != '\n'))
			continue;
		if (box_cg_read(pfd, file, up, sizeof(up)) > 0) {
			up[strcspn(up, "\n")] = '\0';
			box_cg_write(fd, dir, file, up);
		}
	}
	if (pfd >= 0)
		close(pfd);
	if (fd >= 0)
		close(fd);
}

static int cpuset_fill_down(const char *mnt, const char *rel)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", mnt, rel);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	/* each level below the mount point, top down */
	for (char *p = path + strlen(mnt) + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		cpuset_inherit(path);
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

static void cg_free(struct box_cgroup *cg)
{
	if (!cg)
		return;
	for (int c = 0; c < CTRL_COUNT; c++) {
		if (cg->fd[c] >= 0)
			close(cg->fd[c]);
		free(cg->v1_dir[c]);
	}
	if (cg->v2fd >= 0)
		close(cg->v2fd);
	free(cg->v2_dir);
	free(cg->path);
	free(cg);
}

void box_cgroup_close(struct box_cgroup *cg)
{
	cg_free(cg);
}

static int enable_v2_controllers(const char *dir)
{
	char buf[512];
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (box_cg_read(fd, "cgroup.controllers", buf, sizeof(buf)) > 0) {
		buf[strcspn(buf, "\n")] = '\0';
		char *save = NULL;

		for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			char plus[64];

			snprintf(plus, sizeof(plus), "+%s", tok);
			/* one at a time: one refusal must not stop the others;
			 * a missing one is reported when a limit needs it */
			box_cg_write(fd, dir, "cgroup.subtree_control", plus);
		}
	}
	close(fd);
	box_err_clear();
	return 0;
}

/* The journal (see box_cgroup_create) gets dir before it is made. */
static int journal_dir(int journal, const char *base, const char *rel)
{
	if (journal >= 0 && dprintf(journal, "%s/%s\n", base, rel) < 0)
		return box_err_errno(errno, "cgroup: noting %s/%s", base, rel);
	return 0;
}

static int create_v2(const struct box_cg_host *h, const char *rel, int journal,
		     struct box_cgroup *cg)
{
	char dir[PATH_MAX], parent[PATH_MAX];
	const char *in_mount;
	char *slash;
	int r;

	r = hier_base(h->v2_mount, h->v2_root ? h->v2_root : "/", rel, parent, sizeof(parent),
		      &in_mount);
	if (r < 0)
		return box_err_errno(-r, "cgroup /%s: outside the cgroup2 mount %s", rel, h->v2_mount);
	/* the parent first, top down: controllers are enabled in every
	 * directory made here (a child can only have what its parent enables)
	 * and in the parent itself, which is libbox's */
	snprintf(dir, sizeof(dir), "%s", in_mount);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		r = snprintf(parent, sizeof(parent), "%s/%s", h->v2_mount, dir);
		if (r < 0 || (size_t)r >= sizeof(parent))
			return box_err(ENAMETOOLONG, "cgroup %s: too long", dir);
		for (char *p = parent + strlen(h->v2_mount) + 1;; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char saved = *p;

			*p = '\0';
			if (mkdir(parent, 0755) == 0)
				enable_v2_controllers(parent);
			else if (errno != EEXIST)
				return box_err_errno(errno, "cgroup: mkdir %s", parent);
			*p = saved;
			if (!saved)
				break;
		}
		enable_v2_controllers(parent);
	}
	if ((r = journal_dir(journal, h->v2_mount, in_mount)) < 0)
		return r;
	r = mkdir_under(h->v2_mount, in_mount, dir, sizeof(dir));
	if (r < 0)
		return box_err_errno(-r, "cgroup: mkdir %s", dir);
	cg->v2_dir = strdup(dir);
	cg->v2fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!cg->v2_dir || cg->v2fd < 0)
		return box_err_errno(cg->v2_dir ? errno : ENOMEM, "cgroup: open %s", dir);
	return 0;
}

static int create_v1(const struct box_cg_host *h, const struct box_config *cfg, const char *parent,
		     const char *id, int journal, struct box_cgroup *cg)
{
	for (int c = 0; c < CTRL_COUNT; c++) {
		char rel[PATH_MAX], base[PATH_MAX], dir[PATH_MAX];
		const char *in_mount = "";
		int r;

		if (!h->v1_mount[c]) {
			if (v1_required(cfg, (enum box_ctrl)c))
				return box_err(ENOTSUP, "cgroup: the %s controller is not mounted on "
							"this host, so its limits cannot be enforced",
					       v1_names[c]);
			continue;
		}
		/* the same hierarchy as a controller already done (cpu,cpuacct) */
		for (int d = 0; d < c; d++) {
			if (cg->v1_dir[d] && strcmp(h->v1_mount[d], h->v1_mount[c]) == 0) {
				cg->v1_dir[c] = strdup(cg->v1_dir[d]);
				cg->fd[c] = dup(cg->fd[d]);
				break;
			}
		}
		if (cg->v1_dir[c])
			continue;
		r = box_rel(parent, h->v1_self[c], id, rel, sizeof(rel));
		in_mount = rel;
		if (r == 0)
			r = hier_base(h->v1_mount[c], h->v1_root[c], rel, base, sizeof(base), &in_mount);
		if (r == 0 && (r = journal_dir(journal, base, in_mount)) < 0)
			return r;
		if (r == 0)
			r = mkdir_under(base, in_mount, dir, sizeof(dir));
		if (r < 0) {
			if (!v1_required(cfg, (enum box_ctrl)c) && c != CTRL_DEVICES &&
			    (r == -EACCES || r == -EPERM || r == -EROFS))
				continue;
			return box_err_errno(-r, "cgroup: mkdir %s/%s", h->v1_mount[c], in_mount);
		}
		if (c == CTRL_CPUSET)
			cpuset_fill_down(base, in_mount);
		cg->v1_dir[c] = strdup(dir);
		cg->fd[c] = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (!cg->v1_dir[c] || cg->fd[c] < 0)
			return box_err_errno(cg->v1_dir[c] ? errno : ENOMEM, "cgroup: open %s", dir);
	}
	return 0;
}

int box_cgroup_create(const box_ctx *ctx, const struct box_config *cfg, const char *id,
		      int journal, struct box_cgroup **out)
{
	const struct box_cg_host *h;
	struct box_cgroup *cg;
	char rel[PATH_MAX], oparent[PATH_MAX], oid[256];
	const char *parent = ctx->cgroup_parent;
	bool required = cfg->cgroup_mode == BOX_CGROUP_ON || cfg_needs_cgroup(cfg);
	int r;

	*out = NULL;
	if (cfg->cgroup_mode == BOX_CGROUP_OFF) {
		if (cfg_needs_cgroup(cfg))
			return box_err(EINVAL, "box_create: limits are set but cgroups are off");
		return 0;
	}
	r = box_cg_host_get(&h);
	if (r < 0)
		return required ? r : 0;
	if (!h->version) {
		if (required)
			return box_err(ENOTSUP, "cgroup: no cgroup file system is mounted");
		return 0;
	}
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return box_err(ENOMEM, "box_create: out of memory");
	cg->version = h->version;
	cg->v2fd = -1;
	for (int c = 0; c < CTRL_COUNT; c++)
		cg->fd[c] = -1;
	if (cfg->oci && cfg->oci->cgroup_path) {
		/* the OCI bundle's linux.cgroupsPath: absolute from the roots,
		 * relative from our own cgroup, or systemd's "slice:prefix:name"
		 * taken as the path /slice/prefix-name.scope */
		const char *cp = cfg->oci->cgroup_path, *c1 = strchr(cp, ':'), *slash;
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (c1 && c2 && !strchr(cp, '/')) {
			snprintf(oparent, sizeof(oparent), "/%.*s", (int)(c1 - cp), cp);
			snprintf(oid, sizeof(oid), "%.*s%s%s.scope", (int)(c2 - c1 - 1), c1 + 1,
				 c2 > c1 + 1 ? "-" : "", c2 + 1);
		} else {
			slash = strrchr(cp, '/');
			snprintf(oparent, sizeof(oparent), "%.*s", slash ? (int)(slash - cp) : 0, cp);
			if (cp[0] == '/' && !oparent[0])
				strcpy(oparent, "/");
			snprintf(oid, sizeof(oid), "%s", slash ? slash + 1 : cp);
		}
		if (!oid[0] || strcmp(oid, ".") == 0)
			return box_err(EINVAL, "linux.cgroupsPath %s: no cgroup name", cp);
		parent = oparent;
		id = oid;
	}
	r = box_rel(parent, h->version == 2 ? h->v2_self : h->v1_self[CTRL_MEMORY], id,
		    rel, sizeof(rel));
	if (r == 0) {
		cg->path = malloc(strlen(rel) + 2);
		if (cg->path)
			sprintf(cg->path, "/%s", rel);
		else
			r = box_err(ENOMEM, "box_create: out of memory");
	} else {
		r = box_err(ENAMETOOLONG, "cgroup parent %s: too long", ctx->cgroup_parent);
	}
	if (r == 0)
		r = h->version == 2 ? create_v2(h, rel, journal, cg)
				    : create_v1(h, cfg, parent, id, journal, cg);
	if (r == 0 && h->version == 1) {
		bool any = false;

		for (int c = 0; c < CTRL_COUNT; c++)
			any |= cg->fd[c] >= 0;
		if (!any)
			r = -EACCES;
	}
	if (r < 0) {
		char msg[1024];
		bool denied = r == -EACCES || r == -EPERM || r == -EROFS;

		snprintf(msg, sizeof(msg), "%s", box_last_error());
		box_cgroup_destroy(cg);
		if (!required && denied) {
			box_err_clear();
			return 0; /* auto: no cgroup here, and that is fine */
		}
		return box_err(-r, "%s", msg[0] ? msg : "cgroup: cannot create the box's cgroup");
	}
	*out = cg;
	return 0;
}

int box_cgroup_open(const char *path, const char *const *dirs, int ndirs, struct box_cgroup **out)
{
	const struct box_cg_host *h;
	struct box_cgroup *cg;
	int r = box_cg_host_get(&h), found = 0;

	if (r < 0)
		return r;
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return box_err(ENOMEM, "box_open: out of memory");
	cg->version = h->version;
	cg->v2fd = -1;
	for (int c = 0; c < CTRL_COUNT; c++)
		cg->fd[c] = -1;
	cg->path = strdup(path);
	/* each recorded directory, matched to its hierarchy by mount point */
	for (int i = 0; cg->path && i < ndirs; i++) {
		int fd = open(dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (h->version == 2) {
			if (cg->v2fd < 0) {
				cg->v2fd = fd;
				cg->v2_dir = strdup(dirs[i]);
				found++;
			} else {
				close(fd);
			}
			continue;
		}
		for (int c = 0; c < CTRL_COUNT; c++) {
			size_t ml = h->v1_mount[c] ? strlen(h->v1_mount[c]) : 0;

			if (!ml || cg->fd[c] >= 0 || strncmp(dirs[i], h->v1_mount[c], ml) != 0 ||
			    dirs[i][ml] != '/')
				continue;
			cg->fd[c] = fd < 0 ? -1 : fd;
			cg->v1_dir[c] = strdup(dirs[i]);
			fd = dup(fd); /* the next controller of a shared hierarchy */
			found++;
		}
		if (fd >= 0)
			close(fd);
	}
	if (!found) {
		cg_free(cg);
		return -ENOENT;
	}
	*out = cg;
	return 0;
}

bool box_cgroup_frozen(struct box_cgroup *cg)
{
	char buf[32];
	uint64_t v = 0;

	if (cg->version == 2)
		return box_cg_read_key(cg->v2fd, "cgroup.events", "frozen", &v) == 0 && v == 1;
	return cg->fd[CTRL_FREEZER] >= 0 &&
	       box_cg_read(cg->fd[CTRL_FREEZER], "freezer.state", buf, sizeof(buf)) > 0 &&
	       strncmp(buf, "FROZEN", 6) == 0;
}

int box_cgroup_apply(struct box_cgroup *cg, const struct box_config *cfg)
{
	return cg->version == 2 ? box_cg_v2_apply(cg, cfg) : box_cg_v1_apply(cg, cfg);
}

int box_cgroup_devices(struct box_cgroup *cg, const struct box_dev_rule *extra, size_t nextra)
{
	_cleanup_free_ struct box_dev_rule *rules = NULL;
	size_t n = box_dev_rules_default(NULL, 0);
	int r;

	/* The defaults, the caller's (the last matching rule wins), and the
	 * defaults' allowances again: a bundle's rules start with "deny all",
	 * and the standard devices made in every box stay usable, as runc
	 * keeps them. */
	size_t ndef = n;

	rules = calloc(2 * n + nextra + 1, sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	box_dev_rules_default(rules, n);
	for (size_t i = 0; i < nextra; i++)
		rules[n++] = extra[i];
	for (size_t i = 0; nextra && i < ndef; i++)
		if (rules[i].allow)
			rules[n++] = rules[i];

	if (cg->version == 2) {
		r = box_dev_bpf_attach(cg->v2fd, cg->path, rules, n);
		if (r >= 0)
			close(r);
		return r < 0 ? r : 0;
	}
	if (cg->fd[CTRL_DEVICES] < 0)
		return -ENOTSUP;
	return box_dev_v1_apply(cg->fd[CTRL_DEVICES], cg->path, rules, n);
}

/* Each distinct directory of the box, once. */
#define for_each_dir(cg, c)                                                          \
	for (int c = 0; c < CTRL_COUNT; c++)                                          \
		if ((cg)->v1_dir[c] && ({                                             \
			    bool _first = true;                                      \
			    for (int _d = 0; _d < c; _d++)                            \
				    if ((cg)->v1_dir[_d] &&                           \
					strcmp((cg)->v1_dir[_d], (cg)->v1_dir[c]) == 0) \
					    _first = false;                           \
			    _first;                                                   \
		    }))

int box_cgroup_join_fds(struct box_cgroup *cg, int *fds, int max)
{
	int n = 0;

	for_each_dir(cg, c) {
		if (n == max)
			break;
		fds[n] = openat(cg->fd[c], "tasks", O_WRONLY | O_CLOEXEC);
		if (fds[n] < 0) {
			int r = box_err_errno(errno, "cgroup %s: open tasks", cg->v1_dir[c]);

			while (n > 0)
				close(fds[--n]);
			return r;
		}
		n++;
	}
	return n;
}

int box_cgroup_dirs(struct box_cgroup *cg, const char **dirs, int max)
{
	int n = 0;

	if (cg->version == 2) {
		if (max > 0 && cg->v2_dir)
			dirs[n++] = cg->v2_dir;
		return n;
	}
	for_each_dir(cg, c)
		if (n < max)
			dirs[n++] = cg->v1_dir[c];
	return n;
}

int box_cgroup_enter(struct box_cgroup *cg, pid_t pid)
{
	char buf[32];
	int r;

	snprintf(buf, sizeof(buf), "%d", pid);
	if (cg->version == 2)
		return box_cg_write(cg->v2fd, cg->path, "cgroup.procs", buf);
	for_each_dir(cg, c) {
		r = box_cg_write(cg->fd[c], cg->v1_dir[c], "cgroup.procs", buf);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The directory whose cgroup.procs lists the box's processes. */
static int procs_fd(struct box_cgroup *cg)
{
	static const enum box_ctrl order[] = { CTRL_FREEZER, CTRL_PIDS, CTRL_MEMORY, CTRL_CPUACCT,
					       CTRL_DEVICES, CTRL_IO, CTRL_CPU, CTRL_CPUSET };

	if (cg->version == 2)
		return cg->v2fd;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (cg->fd[order[i]] >= 0)
			return cg->fd[order[i]];
	return -1;
}

/* cgroup.procs whole, however long (a number cut in two would name
 * another process). */
static char *read_procs(int dirfd)
{
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 65536;
	char *buf = fd >= 0 ? malloc(cap) : NULL;
	ssize_t n;

	while (buf && (n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len == cap - 1) {
			char *grown = realloc(buf, cap * 2);

			if (!grown) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = '\0';
	if (fd >= 0)
		close(fd);
	return buf;
}

int box_cgroup_pids(struct box_cgroup *cg, int *pids, int max)
{
	_cleanup_free_ char *buf = NULL;
	int fd = procs_fd(cg), n = 0;

	if (fd < 0)
		return -ENOTSUP;
	buf = read_procs(fd);
	if (!buf)
		return -errno ? -errno : -ENOMEM;
	for (char *p = buf; *p;) {
		long pid = strtol(p, &p, 10);

		if (pid > 0) {
			if (n < max)
				pids[n] = (int)pid;
			n++;
		}
		while (*p == '\n')
			p++;
	}
	return n;
}

/* Signal every pid in cgroup.procs; returns how many there were. */
static int signal_procs(int dirfd, int sig)
{
	_cleanup_free_ char *buf = read_procs(dirfd);
	int n = 0;

	if (!buf)
		return -errno ? -errno : -ENOMEM;
	for (char *p = buf; *p;) {
		pid_t pid = (pid_t)strtol(p, &p, 10);

		if (pid > 0) {
			kill(pid, sig);
			n++;
		}
		while (*p == '\n')
			p++;
	}
	return n;
}

int box_cgroup_kill(struct box_cgroup *cg, int sig)
{
	int fd = procs_fd(cg), r;
	bool was_frozen;

	if (fd < 0)
		return box_err(ENOTSUP, "cgroup %s: no hierarchy lists the box's processes", cg->path);
	if (cg->version == 2 && sig == SIGKILL &&
	    box_cg_write(cg->v2fd, cg->path, "cgroup.kill", "1") == 0)
		return 0;
	box_err_clear();
	/* v1 (or a kernel without cgroup.kill): freeze, so that nothing forks
	 * while we go through the list, signal, thaw -- unless the box was
	 * paused (then it stays so), but SIGKILL always thaws: frozen tasks
	 * do not die on v1 */
	was_frozen = box_cgroup_frozen(cg);
	r = box_cgroup_freeze(cg, true);
	/* frozen, nothing forks: one pass is all of them (twice if the
	 * freezer could not be used) */
	signal_procs(fd, sig);
	if (r < 0)
		signal_procs(fd, sig);
	if (r == 0 && (!was_frozen || sig == SIGKILL))
		box_cgroup_freeze(cg, false);
	box_err_clear();
	return 0;
}

int box_cgroup_freeze(struct box_cgroup *cg, bool frozen)
{
	return cg->version == 2 ? box_cg_v2_freeze(cg, frozen) : box_cg_v1_freeze(cg, frozen);
}

int box_cgroup_stats(struct box_cgroup *cg, uint64_t *v, int n)
{
	uint64_t all[BOX_STAT_COUNT];
	int k = n < BOX_STAT_COUNT ? n : BOX_STAT_COUNT;

	for (int i = 0; i < BOX_STAT_COUNT; i++)
		all[i] = UINT64_MAX;
	if (cg->version == 2)
		box_cg_v2_stats(cg, all);
	else
		box_cg_v1_stats(cg, all);
	for (int i = 0; i < n; i++)
		v[i] = i < k ? all[i] : UINT64_MAX;
	return k;
}

uint64_t box_cgroup_oom_kills(struct box_cgroup *cg)
{
	return cg->version == 2 ? box_cg_v2_oom_kills(cg) : box_cg_v1_oom_kills(cg);
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static bool populated(struct box_cgroup *cg)
{
	char buf[64];
	int fd = procs_fd(cg);

	if (fd < 0)
		return false;
	return box_cg_read(fd, "cgroup.procs", buf, sizeof(buf)) > 0;
}

int box_cgroup_destroy(struct box_cgroup *cg)
{
	int r = 0;

	if (!cg)
		return 0;
	if (populated(cg)) {
		box_cgroup_kill(cg, SIGKILL);
		for (long waited = 0, step = 100; populated(cg) && waited < 5000000;
		     waited += step, step = step < 20000 ? step * 2 : step)
			sleep_us(step);
	}
	/* rmdir can race with the last exit's bookkeeping: retry on EBUSY */
	for (int attempt = 0; attempt < 50; attempt++) {
		int busy = 0;

		if (cg->version == 2 && cg->v2_dir) {
			if (rmdir(cg->v2_dir) < 0 && errno != ENOENT)
				busy = errno;
		}
		for_each_dir(cg, c) {
			if (rmdir(cg->v1_dir[c]) < 0 && errno != ENOENT)
				busy = errno;
		}
		if (!busy)
			break;
		if (busy != EBUSY || attempt == 49) {
			r = box_err_errno(busy, "cgroup %s: rmdir", cg->path);
			break;
		}
		sleep_us(1000);
	}
	cg_free(cg);
	return r;
}
