/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* box_config: the builder for what to run.  Every setter validates its
 * input and copies it; nothing touches the system until box_create(). */
#include <arpa/inet.h>
#include <ctype.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "internal.h"

#define CFG_CHECK(cfg, fn)                                             \
	do {                                                           \
		box_err_clear();                                       \
		if (!(cfg))                                            \
			return box_err(EINVAL, "%s: config is NULL", fn); \
	} while (0)

BOX_EXPORT int box_config_new(box_config **out)
{
	box_config *c;

	box_err_clear();
	if (!out)
		return box_err(EINVAL, "box_config_new: out is NULL");
	c = calloc(1, sizeof(*c));
	if (!c)
		return box_err(ENOMEM, "box_config_new: out of memory");
	c->env = calloc(1, sizeof(char *));
	c->cwd = strdup("/");
	if (!c->env || !c->cwd) {
		box_config_free(c);
		return box_err(ENOMEM, "box_config_new: out of memory");
	}
	c->ns = BOX_NS_DEFAULT;
	c->caps = box_caps_default();
	c->seccomp_mode = BOX_SECCOMP_DEFAULT;
	c->no_new_privs = true;
	c->stdio[0] = 0;
	c->stdio[1] = 1;
	c->stdio[2] = 2;
	*out = c;
	return 0;
}

static void mount_free(struct box_mount *m)
{
	free(m->type);
	free(m->source);
	free(m->target);
	for (size_t i = 0; i < m->nfs_opts; i++)
		free((char *)m->fs_opts[i].key); /* value points into the same string */
	free(m->fs_opts);
}

BOX_EXPORT void box_config_free(box_config *c)
{
	if (!c)
		return;
	strv_free(c->argv);
	strv_free(c->env);
	free(c->cwd);
	free(c->groups);
	free(c->hostname);
	free(c->rootfs);
	free(c->image);
	free(c->upper);
	free(c->user_name);
	for (size_t i = 0; i < c->nmounts; i++)
		mount_free(&c->mounts[i]);
	free(c->mounts);
	free(c->rlimits);
	free(c->seccomp_profile);
	free(c->name);
	strv_free(c->annotations);
	free(c->cpuset_cpus);
	free(c->cpuset_mems);
	free(c->io);
	box_oci_extra_free(c->oci);
	free(c->ports);
	strv_free(c->dns);
	free(c);
}

static int replace_str(char **slot, const char *v, const char *what)
{
	char *copy = strdup(v);

	if (!copy)
		return box_err(ENOMEM, "%s: out of memory", what);
	free(*slot);
	*slot = copy;
	return 0;
}

BOX_EXPORT int box_config_set_argv(box_config *c, int argc, const char *const *argv)
{
	char **v;

	CFG_CHECK(c, "box_config_set_argv");
	if (argc < 1 || !argv)
		return box_err(EINVAL, "box_config_set_argv: the command is empty");
	for (int i = 0; i < argc; i++)
		if (!argv[i])
			return box_err(EINVAL, "box_config_set_argv: argv[%d] is NULL", i);
	if (!argv[0][0])
		return box_err(EINVAL, "box_config_set_argv: argv[0] is an empty string");
	v = strv_dup(argc, argv);
	if (!v)
		return box_err(ENOMEM, "box_config_set_argv: out of memory");
	strv_free(c->argv);
	c->argv = v;
	return 0;
}

BOX_EXPORT int box_config_set_env(box_config *c, const char *name, const char *value)
{
	size_t nlen, n;
	char *kv = NULL;

	CFG_CHECK(c, "box_config_set_env");
	if (!name || !name[0] || strchr(name, '='))
		return box_err(EINVAL, "box_config_set_env: invalid variable name \"%s\"",
			       name ? name : "(null)");
	nlen = strlen(name);
	if (value && asprintf(&kv, "%s=%s", name, value) < 0)
		return box_err(ENOMEM, "box_config_set_env: out of memory");
	n = strv_len(c->env);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(c->env[i], name, nlen) == 0 && c->env[i][nlen] == '=') {
			free(c->env[i]);
			if (kv) {
				c->env[i] = kv;
			} else {
				memmove(&c->env[i], &c->env[i + 1], (n - i) * sizeof(char *));
			}
			return 0;
		}
	}
	if (!kv)
		return 0;
	char **grown = realloc(c->env, (n + 2) * sizeof(char *));
	if (!grown) {
		free(kv);
		return box_err(ENOMEM, "box_config_set_env: out of memory");
	}
	grown[n] = kv;
	grown[n + 1] = NULL;
	c->env = grown;
	return 0;
}

static int check_abs(const char *path, const char *fn, const char *what)
{
	if (!path || path[0] != '/')
		return box_err(EINVAL, "%s: %s \"%s\" is not an absolute path", fn, what,
			       path ? path : "(null)");
	if (strlen(path) >= 4096)
		return box_err(ENAMETOOLONG, "%s: %s is too long", fn, what);
	return 0;
}

BOX_EXPORT int box_config_set_cwd(box_config *c, const char *path)
{
	int r;

	CFG_CHECK(c, "box_config_set_cwd");
	r = check_abs(path, "box_config_set_cwd", "working directory");
	if (r < 0)
		return r;
	r = replace_str(&c->cwd, path, "box_config_set_cwd");
	c->cwd_set |= r == 0;
	return r;
}

BOX_EXPORT int box_config_set_user(box_config *c, uint32_t uid, uint32_t gid)
{
	CFG_CHECK(c, "box_config_set_user");
	if (uid == (uint32_t)-1 || gid == (uint32_t)-1)
		return box_err(EINVAL, "box_config_set_user: %u:%u is not a valid user", uid, gid);
	c->uid = uid;
	c->gid = gid;
	c->user_set = true;
	free(c->user_name);
	c->user_name = NULL;
	return 0;
}

BOX_EXPORT int box_config_set_user_name(box_config *c, const char *user)
{
	CFG_CHECK(c, "box_config_set_user_name");
	if (!user || !user[0] || user[0] == ':' || strlen(user) > 255 || strchr(user, '\n') ||
	    strchr(strchr(user, ':') ? strchr(user, ':') + 1 : "", ':'))
		return box_err(EINVAL, "box_config_set_user_name: \"%s\" is not USER[:GROUP]",
			       user ? user : "(null)");
	if (replace_str(&c->user_name, user, "box_config_set_user_name") < 0)
		return -ENOMEM;
	c->user_set = true;
	return 0;
}

BOX_EXPORT int box_config_set_groups(box_config *c, int n, const uint32_t *gids)
{
	uint32_t *copy = NULL;

	CFG_CHECK(c, "box_config_set_groups");
	if (n < 0 || n > 65536 || (n > 0 && !gids))
		return box_err(EINVAL, "box_config_set_groups: invalid group list (%d groups)", n);
	if (n > 0) {
		copy = malloc((size_t)n * sizeof(uint32_t));
		if (!copy)
			return box_err(ENOMEM, "box_config_set_groups: out of memory");
		memcpy(copy, gids, (size_t)n * sizeof(uint32_t));
	}
	free(c->groups);
	c->groups = copy;
	c->ngroups = n;
	return 0;
}

BOX_EXPORT int box_config_set_hostname(box_config *c, const char *name)
{
	CFG_CHECK(c, "box_config_set_hostname");
	if (!name || !name[0] || strlen(name) > 64)
		return box_err(EINVAL, "box_config_set_hostname: \"%s\" is not a valid host name",
			       name ? name : "(null)");
	return replace_str(&c->hostname, name, "box_config_set_hostname");
}

BOX_EXPORT int box_config_set_namespaces(box_config *c, unsigned int flags)
{
	CFG_CHECK(c, "box_config_set_namespaces");
	if (flags & ~BOX_NS_ALL)
		return box_err(EINVAL, "box_config_set_namespaces: unknown namespace flags 0x%x",
			       flags & ~BOX_NS_ALL);
	c->ns = flags;
	return 0;
}

BOX_EXPORT int box_config_add_id_map(box_config *c, int kind, uint32_t inside, uint32_t outside,
				     uint32_t count)
{
	struct box_idmap *map;
	int *n;

	CFG_CHECK(c, "box_config_add_id_map");
	if (kind != BOX_MAP_UID && kind != BOX_MAP_GID)
		return box_err(EINVAL, "box_config_add_id_map: unknown map kind %d", kind);
	if (count == 0 || (uint64_t)inside + count > UINT32_MAX ||
	    (uint64_t)outside + count > UINT32_MAX)
		return box_err(EINVAL, "box_config_add_id_map: invalid range %u %u %u", inside,
			       outside, count);
	map = kind == BOX_MAP_UID ? c->uidmap : c->gidmap;
	n = kind == BOX_MAP_UID ? &c->nuidmap : &c->ngidmap;
	if (*n >= BOX_MAX_IDMAP)
		return box_err(E2BIG, "box_config_add_id_map: more than %d lines", BOX_MAX_IDMAP);
	map[*n] = (struct box_idmap){ inside, outside, count };
	(*n)++;
	return 0;
}

BOX_EXPORT int box_config_set_rootfs(box_config *c, const char *dir)
{
	CFG_CHECK(c, "box_config_set_rootfs");
	if (!dir || !dir[0])
		return box_err(EINVAL, "box_config_set_rootfs: the root directory is empty");
	return replace_str(&c->rootfs, dir, "box_config_set_rootfs");
}

BOX_EXPORT int box_config_set_image(box_config *c, const char *ref)
{
	CFG_CHECK(c, "box_config_set_image");
	if (!ref || !ref[0])
		return box_err(EINVAL, "box_config_set_image: the image name is empty");
	return replace_str(&c->image, ref, "box_config_set_image");
}

BOX_EXPORT int box_config_set_upper(box_config *c, const char *dir)
{
	CFG_CHECK(c, "box_config_set_upper");
	if (!dir) {
		free(c->upper);
		c->upper = NULL;
		return 0;
	}
	if (dir[0] != '/')
		return box_err(EINVAL, "box_config_set_upper: %s is not an absolute path", dir);
	return replace_str(&c->upper, dir, "box_config_set_upper");
}

BOX_EXPORT int box_config_set_readonly_root(box_config *c, int on)
{
	CFG_CHECK(c, "box_config_set_readonly_root");
	c->readonly_root = on != 0;
	return 0;
}

/* ---- mounts ---- */

struct mount_flag {
	const char *name;
	uint64_t set, clr, propagation;
	int bind; /* 1: bind, 2: rbind, -1: norbind */
};

static const struct mount_flag mount_flags[] = {
	{ "ro", MOUNT_ATTR_RDONLY, 0, 0, 0 },
	{ "rw", 0, MOUNT_ATTR_RDONLY, 0, 0 },
	{ "nosuid", MOUNT_ATTR_NOSUID, 0, 0, 0 },
	{ "suid", 0, MOUNT_ATTR_NOSUID, 0, 0 },
	{ "nodev", MOUNT_ATTR_NODEV, 0, 0, 0 },
	{ "dev", 0, MOUNT_ATTR_NODEV, 0, 0 },
	{ "noexec", MOUNT_ATTR_NOEXEC, 0, 0, 0 },
	{ "exec", 0, MOUNT_ATTR_NOEXEC, 0, 0 },
	{ "relatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME, 0, 0 },
	{ "norelatime", 0, MOUNT_ATTR__ATIME, 0, 0 },
	{ "strictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, 0, 0 },
	{ "noatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME, 0, 0 },
	{ "nodiratime", MOUNT_ATTR_NODIRATIME, 0, 0, 0 },
	{ "diratime", 0, MOUNT_ATTR_NODIRATIME, 0, 0 },
	{ "bind", 0, 0, 0, 1 },
	{ "rbind", 0, 0, 0, 2 },
	{ "norbind", 0, 0, 0, -1 },
	{ "private", 0, 0, MS_PRIVATE, 0 },
	{ "rprivate", 0, 0, MS_PRIVATE | MS_REC, 0 },
	{ "slave", 0, 0, MS_SLAVE, 0 },
	{ "rslave", 0, 0, MS_SLAVE | MS_REC, 0 },
	{ "shared", 0, 0, MS_SHARED, 0 },
	{ "rshared", 0, 0, MS_SHARED | MS_REC, 0 },
	{ "unbindable", 0, 0, MS_UNBINDABLE, 0 },
	{ "runbindable", 0, 0, MS_UNBINDABLE | MS_REC, 0 },
};

static int parse_mount_options(struct box_mount *m, const char *options)
{
	char **words;
	int r = 0;

	m->recursive = true;
	if (!options || !options[0])
		return 0;
	words = strv_split(options, ',');
	if (words)
		m->fs_opts = calloc(strv_len(words) + 1, sizeof(*m->fs_opts));
	if (!words || !m->fs_opts) {
		strv_free(words);
		return box_err(ENOMEM, "box_config_add_mount: out of memory");
	}
	/* Each word is either a generic flag (freed here) or a file system
	 * option (handed to m->fs_opts). */
	for (size_t i = 0; words[i]; i++) {
		const struct mount_flag *f = NULL;

		for (size_t j = 0; j < ARRAY_SIZE(mount_flags); j++)
			if (strcmp(words[i], mount_flags[j].name) == 0)
				f = &mount_flags[j];
		if (f) {
			m->attr_set = (m->attr_set & ~f->clr) | f->set;
			m->attr_clr = (m->attr_clr & ~f->set) | f->clr;
			if (f->propagation)
				m->propagation = f->propagation;
			if (f->bind)
				m->recursive = f->bind == 2;
		} else if (r == 0 && strcmp(m->type, "bind") == 0) {
			r = box_err(EINVAL, "box_config_add_mount: unknown bind mount option \"%s\"",
				    words[i]);
		} else if (r == 0) {
			char *key = TAKE_PTR(words[i]), *eq = strchr(key, '=');

			if (eq)
				*eq = '\0';
			m->fs_opts[m->nfs_opts++] = (struct box_op_opt){ key, eq ? eq + 1 : NULL };
		}
		free(words[i]);
	}
	free(words);
	return r;
}

BOX_EXPORT int box_config_add_mount(box_config *c, const char *type, const char *source,
				    const char *target, const char *options)
{
	struct box_mount m = { 0 };
	struct box_mount *grown;
	int r;

	CFG_CHECK(c, "box_config_add_mount");
	if (!type || !type[0])
		return box_err(EINVAL, "box_config_add_mount: the mount type is empty");
	r = check_abs(target, "box_config_add_mount", "mount target");
	if (r < 0)
		return r;
	if (strcmp(type, "bind") == 0 && (!source || source[0] != '/'))
		return box_err(EINVAL, "box_config_add_mount: bind source \"%s\" is not an absolute path",
			       source ? source : "(null)");
	m.type = strdup(type);
	m.source = strdup(source ? source : type);
	m.target = strdup(target);
	if (!m.type || !m.source || !m.target) {
		mount_free(&m);
		return box_err(ENOMEM, "box_config_add_mount: out of memory");
	}
	r = parse_mount_options(&m, options);
	if (r < 0) {
		mount_free(&m);
		return r;
	}
	grown = realloc(c->mounts, (c->nmounts + 1) * sizeof(*grown));
	if (!grown) {
		mount_free(&m);
		return box_err(ENOMEM, "box_config_add_mount: out of memory");
	}
	c->mounts = grown;
	c->mounts[c->nmounts++] = m;
	return 0;
}

/* ---- rlimits ---- */

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "as", RLIMIT_AS },		 { "core", RLIMIT_CORE },
	{ "cpu", RLIMIT_CPU },		 { "data", RLIMIT_DATA },
	{ "fsize", RLIMIT_FSIZE },	 { "locks", RLIMIT_LOCKS },
	{ "memlock", RLIMIT_MEMLOCK },	 { "msgqueue", RLIMIT_MSGQUEUE },
	{ "nice", RLIMIT_NICE },	 { "nofile", RLIMIT_NOFILE },
	{ "nproc", RLIMIT_NPROC },	 { "rss", RLIMIT_RSS },
	{ "rtprio", RLIMIT_RTPRIO },	 { "rttime", RLIMIT_RTTIME },
	{ "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK },
};

BOX_EXPORT int box_config_set_rlimit(box_config *c, const char *resource, uint64_t soft,
				     uint64_t hard)
{
	const char *n = resource;
	int res = -1;
	struct box_rlimit *grown;

	CFG_CHECK(c, "box_config_set_rlimit");
	if (!n)
		return box_err(EINVAL, "box_config_set_rlimit: resource is NULL");
	if (strncasecmp(n, "RLIMIT_", 7) == 0)
		n += 7;
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (strcasecmp(n, rlimit_names[i].name) == 0)
			res = rlimit_names[i].resource;
	if (res < 0)
		return box_err(EINVAL, "box_config_set_rlimit: unknown resource \"%s\"", resource);
	if (soft > hard)
		return box_err(EINVAL, "box_config_set_rlimit: %s: soft limit above hard limit",
			       resource);
	for (size_t i = 0; i < c->nrlimits; i++) {
		if (c->rlimits[i].resource == res) {
			c->rlimits[i].soft = soft;
			c->rlimits[i].hard = hard;
			return 0;
		}
	}
	grown = realloc(c->rlimits, (c->nrlimits + 1) * sizeof(*grown));
	if (!grown)
		return box_err(ENOMEM, "box_config_set_rlimit: out of memory");
	c->rlimits = grown;
	c->rlimits[c->nrlimits++] = (struct box_rlimit){ res, soft, hard };
	return 0;
}

/* ---- capabilities ---- */

static int cap_change(box_config *c, const char *name, bool add, const char *fn)
{
	int cap;

	CFG_CHECK(c, fn);
	if (!name)
		return box_err(EINVAL, "%s: capability name is NULL", fn);
	if (strcasecmp(name, "ALL") == 0) {
		/* ALL means all that the caller can give */
		c->caps = add ? ~0ull : 0;
		c->caps_added = 0;
		return 0;
	}
	cap = box_cap_from_name(name);
	if (cap < 0)
		return box_err(EINVAL, "%s: unknown capability \"%s\"", fn, name);
	if (add) {
		c->caps |= 1ull << cap;
		c->caps_added |= 1ull << cap;
	} else {
		c->caps &= ~(1ull << cap);
		c->caps_added &= ~(1ull << cap);
	}
	return 0;
}

BOX_EXPORT int box_config_add_cap(box_config *c, const char *name)
{
	return cap_change(c, name, true, "box_config_add_cap");
}

BOX_EXPORT int box_config_drop_cap(box_config *c, const char *name)
{
	return cap_change(c, name, false, "box_config_drop_cap");
}

BOX_EXPORT int box_config_set_seccomp(box_config *c, int mode, const char *profile)
{
	CFG_CHECK(c, "box_config_set_seccomp");
	switch (mode) {
	case BOX_SECCOMP_DEFAULT:
	case BOX_SECCOMP_UNCONFINED:
		free(c->seccomp_profile);
		c->seccomp_profile = NULL;
		break;
	case BOX_SECCOMP_PROFILE:
		if (!profile || !profile[0])
			return box_err(EINVAL, "box_config_set_seccomp: no profile file given");
		if (replace_str(&c->seccomp_profile, profile, "box_config_set_seccomp") < 0)
			return -ENOMEM;
		break;
	default:
		return box_err(EINVAL, "box_config_set_seccomp: unknown mode %d", mode);
	}
	c->seccomp_mode = mode;
	return 0;
}

BOX_EXPORT int box_config_set_no_new_privs(box_config *c, int on)
{
	CFG_CHECK(c, "box_config_set_no_new_privs");
	c->no_new_privs = on != 0;
	return 0;
}

BOX_EXPORT int box_config_set_stdio(box_config *c, int in_fd, int out_fd, int err_fd)
{
	CFG_CHECK(c, "box_config_set_stdio");
	if (in_fd < -1 || out_fd < -1 || err_fd < -1)
		return box_err(EINVAL, "box_config_set_stdio: invalid fd (%d, %d, %d)", in_fd,
			       out_fd, err_fd);
	c->stdio[0] = in_fd;
	c->stdio[1] = out_fd;
	c->stdio[2] = err_fd;
	return 0;
}

BOX_EXPORT int box_config_set_init(box_config *c, int on)
{
	CFG_CHECK(c, "box_config_set_init");
	c->init = on != 0;
	return 0;
}

BOX_EXPORT int box_config_set_no_pivot(box_config *c, int on)
{
	CFG_CHECK(c, "box_config_set_no_pivot");
	c->no_pivot = on != 0;
	return 0;
}

/* ---- cgroup limits ---- */

static const struct {
	int64_t min, max;
	bool unlimited; /* -1 allowed */
	const char *name;
} limit_range[BOX_LIMIT_LAST + 1] = {
	[BOX_LIMIT_MEMORY] = { 1, INT64_MAX, true, "memory" },
	[BOX_LIMIT_MEMORY_SWAP] = { 1, INT64_MAX, true, "memory+swap" },
	[BOX_LIMIT_MEMORY_RESERVATION] = { 0, INT64_MAX, true, "memory reservation" },
	[BOX_LIMIT_CPU_QUOTA] = { 1000, INT64_MAX / 2, true, "cpu quota" },
	[BOX_LIMIT_CPU_PERIOD] = { 1000, 1000000, false, "cpu period" },
	[BOX_LIMIT_CPU_SHARES] = { 2, 262144, false, "cpu shares" },
	[BOX_LIMIT_CPU_WEIGHT] = { 1, 10000, false, "cpu weight" },
	[BOX_LIMIT_PIDS] = { 1, INT64_MAX, true, "pids" },
	[BOX_LIMIT_IO_WEIGHT] = { 1, 10000, false, "io weight" },
};

BOX_EXPORT int box_config_set_limit(box_config *c, int limit, int64_t value)
{
	CFG_CHECK(c, "box_config_set_limit");
	if (limit < 1 || limit > BOX_LIMIT_LAST)
		return box_err(EINVAL, "box_config_set_limit: unknown limit %d", limit);
	if (!(value == -1 && limit_range[limit].unlimited) &&
	    (value < limit_range[limit].min || value > limit_range[limit].max))
		return box_err(EINVAL, "box_config_set_limit: %s %lld is out of range (%lld to %lld%s)",
			       limit_range[limit].name, (long long)value,
			       (long long)limit_range[limit].min, (long long)limit_range[limit].max,
			       limit_range[limit].unlimited ? ", or -1" : "");
	/* shares and weight are one setting in two scales: the last one wins */
	if (limit == BOX_LIMIT_CPU_SHARES)
		c->limits_set &= ~(1u << BOX_LIMIT_CPU_WEIGHT);
	if (limit == BOX_LIMIT_CPU_WEIGHT)
		c->limits_set &= ~(1u << BOX_LIMIT_CPU_SHARES);
	c->limits[limit] = value;
	c->limits_set |= 1u << limit;
	return 0;
}

static bool valid_cpu_list(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == ',' || *s == '-'))
			return false;
	return true;
}

BOX_EXPORT int box_config_set_cpuset(box_config *c, const char *cpus, const char *mems)
{
	CFG_CHECK(c, "box_config_set_cpuset");
	if ((cpus && !valid_cpu_list(cpus)) || (mems && !valid_cpu_list(mems)))
		return box_err(EINVAL, "box_config_set_cpuset: \"%s\" is not a list like 0-2,4",
			       cpus && !valid_cpu_list(cpus) ? cpus : mems);
	if (cpus && replace_str(&c->cpuset_cpus, cpus, "box_config_set_cpuset") < 0)
		return -ENOMEM;
	if (mems && replace_str(&c->cpuset_mems, mems, "box_config_set_cpuset") < 0)
		return -ENOMEM;
	return 0;
}

BOX_EXPORT int box_config_add_io_limit(box_config *c, const char *device, int kind, uint64_t value)
{
	struct box_io_limit *grown;
	unsigned major, minor;
	struct stat st;
	char end;

	CFG_CHECK(c, "box_config_add_io_limit");
	if (kind < BOX_IO_READ_BPS || kind > BOX_IO_WRITE_IOPS)
		return box_err(EINVAL, "box_config_add_io_limit: unknown kind %d", kind);
	if (value == 0)
		return box_err(EINVAL, "box_config_add_io_limit: a limit of 0 would stop all io");
	if (!device)
		return box_err(EINVAL, "box_config_add_io_limit: device is NULL");
	if (sscanf(device, "%u:%u%c", &major, &minor, &end) == 2) {
		/* as given */
	} else if (stat(device, &st) < 0) {
		return box_err_errno(errno, "box_config_add_io_limit: %s", device);
	} else if (!S_ISBLK(st.st_mode)) {
		return box_err(ENOTBLK, "box_config_add_io_limit: %s is not a block device", device);
	} else {
		major = major(st.st_rdev);
		minor = minor(st.st_rdev);
	}
	for (size_t i = 0; i < c->nio; i++) {
		if (c->io[i].major == major && c->io[i].minor == minor && c->io[i].kind == kind) {
			c->io[i].value = value;
			return 0;
		}
	}
	grown = realloc(c->io, (c->nio + 1) * sizeof(*grown));
	if (!grown)
		return box_err(ENOMEM, "box_config_add_io_limit: out of memory");
	c->io = grown;
	c->io[c->nio++] = (struct box_io_limit){ major, minor, kind, value };
	return 0;
}

BOX_EXPORT int box_config_set_cgroup(box_config *c, int mode)
{
	CFG_CHECK(c, "box_config_set_cgroup");
	if (mode != BOX_CGROUP_AUTO && mode != BOX_CGROUP_ON && mode != BOX_CGROUP_OFF)
		return box_err(EINVAL, "box_config_set_cgroup: unknown mode %d", mode);
	c->cgroup_mode = mode;
	return 0;
}

BOX_EXPORT int box_config_set_name(box_config *c, const char *name)
{
	CFG_CHECK(c, "box_config_set_name");
	if (!name || !box_name_valid(name))
		return box_err(EINVAL, "box_config_set_name: \"%s\" is not a valid name "
				       "([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128)",
			       name ? name : "(null)");
	return replace_str(&c->name, name, "box_config_set_name");
}

BOX_EXPORT int box_config_set_id(box_config *c, const char *id)
{
	CFG_CHECK(c, "box_config_set_id");
	if (!id) {
		c->id[0] = '\0';
		return 0;
	}
	if (strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64)
		return box_err(EINVAL, "box_config_set_id: \"%s\" is not an id (64 lowercase hex "
				       "digits)", id);
	memcpy(c->id, id, 65);
	return 0;
}

BOX_EXPORT int box_config_set_annotation(box_config *c, const char *key, const char *value)
{
	size_t klen, n;
	char *kv = NULL, **grown;

	CFG_CHECK(c, "box_config_set_annotation");
	if (!key || !key[0] || strchr(key, '=') || strlen(key) > 255)
		return box_err(EINVAL, "box_config_set_annotation: invalid key \"%.64s\"",
			       key ? key : "(null)");
	klen = strlen(key);
	if (value && asprintf(&kv, "%s=%s", key, value) < 0)
		return box_err(ENOMEM, "box_config_set_annotation: out of memory");
	n = strv_len(c->annotations);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(c->annotations[i], key, klen) == 0 && c->annotations[i][klen] == '=') {
			free(c->annotations[i]);
			if (kv)
				c->annotations[i] = kv;
			else
				memmove(&c->annotations[i], &c->annotations[i + 1], (n - i) * sizeof(char *));
			return 0;
		}
	}
	if (!kv)
		return 0;
	grown = realloc(c->annotations, (n + 2) * sizeof(char *));
	if (!grown) {
		free(kv);
		return box_err(ENOMEM, "box_config_set_annotation: out of memory");
	}
	grown[n] = kv;
	grown[n + 1] = NULL;
	c->annotations = grown;
	return 0;
}

BOX_EXPORT int box_config_set_tty(box_config *c, int on)
{
	CFG_CHECK(c, "box_config_set_tty");
	c->tty = on != 0;
	return 0;
}

/* ---- network ---- */

BOX_EXPORT int box_config_set_network(box_config *c, int mode)
{
	CFG_CHECK(c, "box_config_set_network");
	if (mode != BOX_NET_NONE && mode != BOX_NET_HOST && mode != BOX_NET_BRIDGE)
		return box_err(EINVAL, "box_config_set_network: unknown mode %d (BOX_NET_NONE, "
				       "_HOST or _BRIDGE)", mode);
	c->net_mode = mode;
	if (mode == BOX_NET_HOST)
		c->ns &= ~BOX_NS_NET;
	else
		c->ns |= BOX_NS_NET;
	return 0;
}

BOX_EXPORT int box_config_add_port(box_config *c, int proto, const char *host_ip,
				   uint16_t host_port, uint16_t box_port, uint16_t count)
{
	struct box_port *p;
	struct in_addr a = { 0 };

	CFG_CHECK(c, "box_config_add_port");
	if (proto != BOX_PROTO_TCP && proto != BOX_PROTO_UDP)
		return box_err(EINVAL, "box_config_add_port: unknown protocol %d (BOX_PROTO_TCP or "
				       "BOX_PROTO_UDP)", proto);
	if (host_port == 0 || box_port == 0 || count == 0)
		return box_err(EINVAL, "box_config_add_port: %s is 0",
			       !host_port ? "the host port" : !box_port ? "the box port" : "count");
	if ((uint32_t)host_port + count - 1 > 65535 || (uint32_t)box_port + count - 1 > 65535)
		return box_err(EINVAL, "box_config_add_port: %u ports from %u:%u go past 65535", count,
			       host_port, box_port);
	if (host_ip && host_ip[0] && inet_pton(AF_INET, host_ip, &a) != 1)
		return box_err(EINVAL, "box_config_add_port: host address \"%s\" is not an IPv4 "
				       "address", host_ip);
	p = realloc(c->ports, (c->nports + 1) * sizeof(*p));
	if (!p)
		return box_err(ENOMEM, "box_config_add_port: out of memory");
	c->ports = p;
	c->ports[c->nports++] = (struct box_port){ .proto = (uint8_t)proto, .host_ip = a.s_addr,
						   .host_port = host_port, .box_port = box_port,
						   .count = count };
	return 0;
}

BOX_EXPORT int box_config_set_ip(box_config *c, const char *ip)
{
	struct in_addr a = { 0 };

	CFG_CHECK(c, "box_config_set_ip");
	if (ip && inet_pton(AF_INET, ip, &a) != 1)
		return box_err(EINVAL, "box_config_set_ip: \"%s\" is not an IPv4 address", ip);
	c->ip = a.s_addr;
	return 0;
}

BOX_EXPORT int box_config_add_dns(box_config *c, const char *server)
{
	unsigned char buf[16];
	size_t n;
	char **v;

	CFG_CHECK(c, "box_config_add_dns");
	if (!server || (inet_pton(AF_INET, server, buf) != 1 && inet_pton(AF_INET6, server, buf) != 1))
		return box_err(EINVAL, "box_config_add_dns: \"%s\" is not an IP address",
			       server ? server : "(null)");
	n = c->dns ? strv_len(c->dns) : 0;
	v = realloc(c->dns, (n + 2) * sizeof(*v));
	if (!v)
		return box_err(ENOMEM, "box_config_add_dns: out of memory");
	c->dns = v;
	v[n] = strdup(server);
	v[n + 1] = NULL;
	if (!v[n])
		return box_err(ENOMEM, "box_config_add_dns: out of memory");
	return 0;
}
