/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An OCI runtime bundle (config.json, runtime spec 1.0 to 1.2) read into a
 * box_config.  Unknown fields are ignored, as the spec says; a value of
 * the wrong type or out of range is an error naming its JSON path
 * ("linux.resources.memory.limit: not an integer"). */
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "internal.h"
#include "cgroup/devices.h"

/* Where we are in the document, for messages. */
struct oci {
	const char *file;
	const char *bundle;
	box_config *cfg;
};

#define OERR(o, path, ...) oci_err(o, path, __VA_ARGS__)

__attribute__((format(printf, 3, 4))) static int oci_err(const struct oci *o, const char *path,
							const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return box_err(EINVAL, "%s: %s: %s", o->file, path, msg);
}

/* A library call failed: keep its message, with the JSON path first. */
static int oci_wrap(const struct oci *o, const char *path, int r)
{
	char msg[1024];

	if (r >= 0)
		return r;
	snprintf(msg, sizeof(msg), "%s", box_last_error());
	return box_err(-r, "%s: %s: %s", o->file, path, msg);
}

static json_t *get(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* The typed readers: 1 when present and valid, 0 when absent, -EINVAL
 * (message made) when of the wrong type. */
static int get_obj(const struct oci *o, json_t *obj, const char *key, const char *path, json_t **out)
{
	json_t *v = get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return OERR(o, path, "not an object");
	*out = v;
	return 1;
}

static int get_arr(const struct oci *o, json_t *obj, const char *key, const char *path, json_t **out)
{
	json_t *v = get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return OERR(o, path, "not an array");
	*out = v;
	return 1;
}

static int get_str(const struct oci *o, json_t *obj, const char *key, const char *path,
		   const char **out)
{
	json_t *v = get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return OERR(o, path, "not a string");
	*out = json_string_value(v);
	return 1;
}

static int get_bool(const struct oci *o, json_t *obj, const char *key, const char *path, bool *out)
{
	json_t *v = get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return OERR(o, path, "not a boolean");
	*out = json_is_true(v);
	return 1;
}

static int get_int(const struct oci *o, json_t *obj, const char *key, const char *path,
		   int64_t min, int64_t max, int64_t *out)
{
	json_t *v = get(obj, key);

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return OERR(o, path, "not an integer");
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return OERR(o, path, "%lld is out of range (%lld..%lld)", (long long)*out,
			    (long long)min, (long long)max);
	return 1;
}

/* uint64 values (rlimits, rates) may exceed jansson's int64: a real too
 * big for it is taken as the largest. */
static int get_u64(const struct oci *o, json_t *obj, const char *key, const char *path,
		   uint64_t *out)
{
	json_t *v = get(obj, key);

	if (!v)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 1;
	}
	if (json_is_real(v) && json_real_value(v) >= 9.2e18) {
		*out = UINT64_MAX;
		return 1;
	}
	return OERR(o, path, "not an unsigned integer");
}

#define P(buf, ...) (snprintf(buf, sizeof(buf), __VA_ARGS__), buf)

static char **strv_from_json(const struct oci *o, json_t *arr, const char *path, int *r)
{
	char **v = calloc(json_array_size(arr) + 1, sizeof(char *));
	char p[256];
	json_t *e;
	size_t i;

	*r = 0;
	if (!v) {
		*r = box_err(ENOMEM, "%s: out of memory", o->file);
		return NULL;
	}
	json_array_foreach(arr, i, e) {
		if (!json_is_string(e)) {
			*r = OERR(o, P(p, "%s[%zu]", path, i), "not a string");
			strv_free(v);
			return NULL;
		}
		v[i] = strdup(json_string_value(e));
		if (!v[i]) {
			*r = box_err(ENOMEM, "%s: out of memory", o->file);
			strv_free(v);
			return NULL;
		}
	}
	return v;
}

/* ---- process ---- */

static int caps_of(const struct oci *o, json_t *caps, const char *set, uint64_t *mask, bool *present)
{
	char p[128];
	json_t *arr, *e;
	size_t i;
	int r;

	*mask = 0;
	r = get_arr(o, caps, set, P(p, "process.capabilities.%s", set), &arr);
	*present = r > 0;
	if (r <= 0)
		return r;
	json_array_foreach(arr, i, e) {
		int c = json_is_string(e) ? box_cap_from_name(json_string_value(e)) : -1;

		if (!json_is_string(e))
			return OERR(o, P(p, "process.capabilities.%s[%zu]", set, i), "not a string");
		if (c < 0)
			return OERR(o, P(p, "process.capabilities.%s[%zu]", set, i),
				    "unknown capability \"%s\"", json_string_value(e));
		*mask |= 1ull << c;
	}
	return 0;
}

static int read_process(const struct oci *o, json_t *proc, bool need_args)
{
	box_config *c = o->cfg;
	json_t *args, *env, *user, *caps, *rl, *e;
	const char *cwd;
	char p[128];
	bool b;
	int64_t n;
	size_t i;
	int r;

	if ((r = get_arr(o, proc, "args", "process.args", &args)) < 0)
		return r;
	if (args && json_array_size(args) > 0) {
		int rr;
		char **argv = strv_from_json(o, args, "process.args", &rr);

		if (!argv)
			return rr;
		rr = box_config_set_argv(c, (int)strv_len(argv), (const char *const *)argv);
		strv_free(argv);
		if ((r = oci_wrap(o, "process.args", rr)) < 0)
			return r;
	} else if (need_args) {
		return OERR(o, "process.args", "missing or empty");
	}
	if ((r = get_arr(o, proc, "env", "process.env", &env)) < 0)
		return r;
	json_array_foreach(env, i, e) {
		const char *kv = json_string_value(e), *eq = kv ? strchr(kv, '=') : NULL;
		char name[1024];

		if (!kv)
			return OERR(o, P(p, "process.env[%zu]", i), "not a string");
		if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(name))
			return OERR(o, P(p, "process.env[%zu]", i), "not NAME=VALUE");
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		if ((r = oci_wrap(o, P(p, "process.env[%zu]", i), box_config_set_env(c, name, eq + 1))) < 0)
			return r;
	}
	if ((r = get_str(o, proc, "cwd", "process.cwd", &cwd)) < 0)
		return r;
	if (cwd && (r = oci_wrap(o, "process.cwd", box_config_set_cwd(c, cwd))) < 0)
		return r;
	if (cwd)
		c->cwd_set = true;
	b = false;
	if ((r = get_bool(o, proc, "terminal", "process.terminal", &b)) < 0)
		return r;
	c->tty = b;
	if ((r = get_obj(o, proc, "user", "process.user", &user)) < 0)
		return r;
	if (user) {
		int64_t uid = 0, gid = 0;
		json_t *groups;

		if ((r = get_int(o, user, "uid", "process.user.uid", 0, UINT32_MAX - 1, &uid)) < 0 ||
		    (r = get_int(o, user, "gid", "process.user.gid", 0, UINT32_MAX - 1, &gid)) < 0)
			return r;
		box_config_set_user(c, (uint32_t)uid, (uint32_t)gid);
		c->user_set = true;
		if ((r = get_arr(o, user, "additionalGids", "process.user.additionalGids", &groups)) < 0)
			return r;
		if (groups) {
			size_t ng = json_array_size(groups);
			_cleanup_free_ uint32_t *g = calloc(ng + 1, sizeof(uint32_t));

			if (!g)
				return box_err(ENOMEM, "%s: out of memory", o->file);
			json_array_foreach(groups, i, e) {
				if (!json_is_integer(e) || json_integer_value(e) < 0 ||
				    json_integer_value(e) >= UINT32_MAX)
					return OERR(o, P(p, "process.user.additionalGids[%zu]", i),
						    "not a gid");
				g[i] = (uint32_t)json_integer_value(e);
			}
			if ((r = oci_wrap(o, "process.user.additionalGids",
					  box_config_set_groups(c, (int)ng, g))) < 0)
				return r;
		}
	}
	if ((r = get_obj(o, proc, "capabilities", "process.capabilities", &caps)) < 0)
		return r;
	/* The box keeps one set: the bounding set, which is also its
	 * permitted and effective set (the spec's engines give the same list
	 * for each).  Every name is checked. */
	{
		static const char *const sets[] = { "bounding", "effective", "permitted", "inheritable",
						    "ambient" };
		uint64_t m[5] = { 0 }, all = 0;
		bool present[5] = { false };

		for (size_t k = 0; caps && k < ARRAY_SIZE(sets); k++) {
			if ((r = caps_of(o, caps, sets[k], &m[k], &present[k])) < 0)
				return r;
			all |= m[k];
		}
		c->caps = !caps ? 0 : present[0] ? m[0] : all;
		c->caps_added = 0;
	}
	if ((r = get_arr(o, proc, "rlimits", "process.rlimits", &rl)) < 0)
		return r;
	json_array_foreach(rl, i, e) {
		const char *type;
		uint64_t soft = 0, hard = 0;

		if (!json_is_object(e))
			return OERR(o, P(p, "process.rlimits[%zu]", i), "not an object");
		if ((r = get_str(o, e, "type", P(p, "process.rlimits[%zu].type", i), &type)) < 0)
			return r;
		if (!type)
			return OERR(o, p, "missing");
		if ((r = get_u64(o, e, "soft", P(p, "process.rlimits[%zu].soft", i), &soft)) < 0 ||
		    (r = get_u64(o, e, "hard", P(p, "process.rlimits[%zu].hard", i), &hard)) < 0)
			return r;
		if ((r = oci_wrap(o, P(p, "process.rlimits[%zu]", i),
				  box_config_set_rlimit(c, type, soft, hard))) < 0)
			return r;
	}
	b = false;
	if ((r = get_bool(o, proc, "noNewPrivileges", "process.noNewPrivileges", &b)) < 0)
		return r;
	c->no_new_privs = b;
	n = 0;
	if ((r = get_int(o, proc, "oomScoreAdj", "process.oomScoreAdj", -1000, 1000, &n)) < 0)
		return r;
	if (r > 0) {
		c->oci->oom_score_adj = (int)n;
		c->oci->oom_score_adj_set = true;
	}
	return 0;
}

/* ---- mounts ---- */

static int read_mounts(const struct oci *o, json_t *root)
{
	json_t *mounts, *m;
	char p[128];
	size_t i;
	int r;

	if ((r = get_arr(o, root, "mounts", "mounts", &mounts)) < 0)
		return r;
	json_array_foreach(mounts, i, m) {
		const char *dst, *type, *src;
		json_t *opts, *e;
		bool bind = false;
		char options[4096] = "";
		size_t len = 0, k;
		_cleanup_free_ char *abs_src = NULL;

		if (!json_is_object(m))
			return OERR(o, P(p, "mounts[%zu]", i), "not an object");
		if ((r = get_str(o, m, "destination", P(p, "mounts[%zu].destination", i), &dst)) < 0)
			return r;
		if (!dst || dst[0] != '/')
			return OERR(o, p, dst ? "not an absolute path" : "missing");
		if ((r = get_str(o, m, "type", P(p, "mounts[%zu].type", i), &type)) < 0 ||
		    (r = get_str(o, m, "source", P(p, "mounts[%zu].source", i), &src)) < 0 ||
		    (r = get_arr(o, m, "options", P(p, "mounts[%zu].options", i), &opts)) < 0)
			return r;
		json_array_foreach(opts, k, e) {
			const char *w = json_string_value(e);

			if (!w)
				return OERR(o, P(p, "mounts[%zu].options[%zu]", i, k), "not a string");
			if (strcmp(w, "bind") == 0 || strcmp(w, "rbind") == 0)
				bind = true;
			/* for the kernel's default, or SELinux's relabel: nothing to do */
			if (strcmp(w, "defaults") == 0 || strcmp(w, "z") == 0 || strcmp(w, "Z") == 0)
				continue;
			if (len + strlen(w) + 2 >= sizeof(options))
				return OERR(o, P(p, "mounts[%zu].options", i), "too long");
			len += (size_t)snprintf(options + len, sizeof(options) - len, "%s%s",
						len ? "," : "", w);
		}
		if (type && strcmp(type, "bind") == 0)
			bind = true;
		if (bind) {
			if (!src)
				return OERR(o, P(p, "mounts[%zu].source", i), "missing for a bind mount");
			if (src[0] != '/') {
				/* relative to the bundle, as for root.path */
				if (asprintf(&abs_src, "%s/%s", o->bundle, src) < 0)
					return box_err(ENOMEM, "%s: out of memory", o->file);
				src = abs_src;
			}
		} else if (!type) {
			return OERR(o, P(p, "mounts[%zu].type", i), "missing");
		}
		if ((r = oci_wrap(o, P(p, "mounts[%zu]", i),
				  box_config_add_mount(o->cfg, bind ? "bind" : type, src, dst,
						       len ? options : NULL))) < 0)
			return r;
	}
	return 0;
}

/* ---- linux ---- */

static const struct {
	const char *name;
	unsigned flag;
} ns_types[] = {
	{ "pid", BOX_NS_PID },	   { "network", BOX_NS_NET }, { "mount", BOX_NS_MOUNT },
	{ "ipc", BOX_NS_IPC },	   { "uts", BOX_NS_UTS },     { "user", BOX_NS_USER },
	{ "cgroup", BOX_NS_CGROUP }, { "time", BOX_NS_TIME },
};

static int read_namespaces(const struct oci *o, json_t *linux_)
{
	json_t *arr, *e;
	unsigned ns = 0;
	char p[128];
	size_t i;
	int r;

	if ((r = get_arr(o, linux_, "namespaces", "linux.namespaces", &arr)) < 0)
		return r;
	json_array_foreach(arr, i, e) {
		const char *type, *path;
		unsigned flag = 0;

		if (!json_is_object(e))
			return OERR(o, P(p, "linux.namespaces[%zu]", i), "not an object");
		if ((r = get_str(o, e, "type", P(p, "linux.namespaces[%zu].type", i), &type)) < 0)
			return r;
		for (size_t k = 0; type && k < ARRAY_SIZE(ns_types); k++)
			if (strcmp(type, ns_types[k].name) == 0)
				flag = ns_types[k].flag;
		if (!flag)
			return OERR(o, p, type ? "unknown namespace type \"%s\"" : "missing",
				    type ? type : "");
		if (ns & flag)
			return OERR(o, p, "namespace \"%s\" given twice", type);
		if ((r = get_str(o, e, "path", P(p, "linux.namespaces[%zu].path", i), &path)) < 0)
			return r;
		if (path && !(flag & (BOX_NS_NET | BOX_NS_IPC | BOX_NS_UTS | BOX_NS_CGROUP)))
			return box_err(ENOTSUP,
				       "%s: %s: joining an existing %s namespace (%s) is not supported "
				       "(only network, ipc, uts and cgroup ones)",
				       o->file, p, type, path);
		if (path && path[0] != '/')
			return OERR(o, p, "not an absolute path");
		if (path) {
			int bit = __builtin_ctz(flag);

			o->cfg->oci->ns_path[bit] = strdup(path);
			if (!o->cfg->oci->ns_path[bit])
				return box_err(ENOMEM, "%s: out of memory", o->file);
			o->cfg->oci->ns_joined |= flag;
		}
		ns |= flag;
	}
	/* without a mount namespace the box would change the host's mounts */
	if (o->cfg->rootfs && !(ns & BOX_NS_MOUNT))
		return OERR(o, "linux.namespaces", "a mount namespace is required");
	return oci_wrap(o, "linux.namespaces", box_config_set_namespaces(o->cfg, ns));
}

static int read_idmaps(const struct oci *o, json_t *linux_, const char *key, int kind)
{
	json_t *arr, *e;
	char p[128];
	size_t i;
	int r;

	if ((r = get_arr(o, linux_, key, P(p, "linux.%s", key), &arr)) < 0)
		return r;
	json_array_foreach(arr, i, e) {
		int64_t in = 0, out = 0, size = 0;

		if (!json_is_object(e))
			return OERR(o, P(p, "linux.%s[%zu]", key, i), "not an object");
		if ((r = get_int(o, e, "containerID", P(p, "linux.%s[%zu].containerID", key, i), 0,
				 UINT32_MAX, &in)) < 0 ||
		    (r = get_int(o, e, "hostID", P(p, "linux.%s[%zu].hostID", key, i), 0, UINT32_MAX,
				 &out)) < 0 ||
		    (r = get_int(o, e, "size", P(p, "linux.%s[%zu].size", key, i), 1, UINT32_MAX,
				 &size)) < 0)
			return r;
		if ((r = oci_wrap(o, P(p, "linux.%s[%zu]", key, i),
				  box_config_add_id_map(o->cfg, kind, (uint32_t)in, (uint32_t)out,
							(uint32_t)size))) < 0)
			return r;
	}
	return 0;
}

static int read_devices(const struct oci *o, json_t *linux_)
{
	struct box_oci_extra *x = o->cfg->oci;
	json_t *arr, *e;
	char p[128];
	size_t i;
	int r;

	if ((r = get_arr(o, linux_, "devices", "linux.devices", &arr)) < 0 || !arr)
		return r;
	x->devices = calloc(json_array_size(arr) + 1, sizeof(*x->devices));
	if (!x->devices)
		return box_err(ENOMEM, "%s: out of memory", o->file);
	json_array_foreach(arr, i, e) {
		struct box_oci_device *d = &x->devices[x->ndevices];
		const char *path, *type;
		int64_t major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;

		if (!json_is_object(e))
			return OERR(o, P(p, "linux.devices[%zu]", i), "not an object");
		if ((r = get_str(o, e, "path", P(p, "linux.devices[%zu].path", i), &path)) < 0)
			return r;
		if (!path || path[0] != '/')
			return OERR(o, p, path ? "not an absolute path" : "missing");
		if ((r = get_str(o, e, "type", P(p, "linux.devices[%zu].type", i), &type)) < 0)
			return r;
		if (!type || strlen(type) != 1 || !strchr("cubp", type[0]))
			return OERR(o, p, type ? "not c, u, b or p" : "missing");
		if ((r = get_int(o, e, "major", P(p, "linux.devices[%zu].major", i), 0, UINT32_MAX,
				 &major)) < 0 ||
		    (r = get_int(o, e, "minor", P(p, "linux.devices[%zu].minor", i), 0, UINT32_MAX,
				 &minor)) < 0 ||
		    (r = get_int(o, e, "fileMode", P(p, "linux.devices[%zu].fileMode", i), 0, 07777,
				 &mode)) < 0 ||
		    (r = get_int(o, e, "uid", P(p, "linux.devices[%zu].uid", i), 0, UINT32_MAX - 1,
				 &uid)) < 0 ||
		    (r = get_int(o, e, "gid", P(p, "linux.devices[%zu].gid", i), 0, UINT32_MAX - 1,
				 &gid)) < 0)
			return r;
		d->path = strdup(path);
		if (!d->path)
			return box_err(ENOMEM, "%s: out of memory", o->file);
		d->mode = (mode_t)mode | (type[0] == 'b' ? S_IFBLK : type[0] == 'p' ? S_IFIFO : S_IFCHR);
		d->dev = makedev((unsigned)major, (unsigned)minor);
		d->uid = (uint32_t)uid;
		d->gid = (uint32_t)gid;
		x->ndevices++;
	}
	return 0;
}

static int read_dev_rules(const struct oci *o, json_t *res)
{
	struct box_oci_extra *x = o->cfg->oci;
	json_t *arr, *e;
	char p[128];
	size_t i;
	int r;

	if ((r = get_arr(o, res, "devices", "linux.resources.devices", &arr)) < 0 || !arr)
		return r;
	x->dev_rules = calloc(json_array_size(arr) + 1, sizeof(*x->dev_rules));
	if (!x->dev_rules)
		return box_err(ENOMEM, "%s: out of memory", o->file);
	json_array_foreach(arr, i, e) {
		struct box_dev_rule *d = &x->dev_rules[i];
		const char *type, *access;
		bool allow = false;

		if (!json_is_object(e))
			return OERR(o, P(p, "linux.resources.devices[%zu]", i), "not an object");
		if ((r = get_bool(o, e, "allow", P(p, "linux.resources.devices[%zu].allow", i),
				  &allow)) < 0)
			return r;
		if (r == 0)
			return OERR(o, p, "missing");
		d->allow = allow;
		d->major = d->minor = -1;
		if ((r = get_str(o, e, "type", P(p, "linux.resources.devices[%zu].type", i), &type)) < 0)
			return r;
		d->type = type ? type[0] : 'a';
		if (type && (strlen(type) != 1 || !strchr("abc", type[0])))
			return OERR(o, p, "not a, b or c");
		if ((r = get_int(o, e, "major", P(p, "linux.resources.devices[%zu].major", i), -1,
				 UINT32_MAX, &d->major)) < 0 ||
		    (r = get_int(o, e, "minor", P(p, "linux.resources.devices[%zu].minor", i), -1,
				 UINT32_MAX, &d->minor)) < 0)
			return r;
		if ((r = get_str(o, e, "access", P(p, "linux.resources.devices[%zu].access", i),
				 &access)) < 0)
			return r;
		d->access = access ? 0 : BOX_DEV_ALL;
		for (const char *a = access; a && *a; a++) {
			if (*a == 'r')
				d->access |= BOX_DEV_READ;
			else if (*a == 'w')
				d->access |= BOX_DEV_WRITE;
			else if (*a == 'm')
				d->access |= BOX_DEV_MKNOD;
			else
				return OERR(o, p, "\"%s\" is not made of r, w and m", access);
		}
		if (!d->access)
			return OERR(o, p, "empty");
		x->ndev_rules++;
	}
	return 0;
}

static int set_limit(const struct oci *o, const char *path, int limit, int64_t v)
{
	return oci_wrap(o, path, box_config_set_limit(o->cfg, limit, v));
}

static int read_throttle(const struct oci *o, json_t *bio, const char *key, int kind)
{
	json_t *arr, *e;
	char p[160], dev[64];
	size_t i;
	int r;

	if ((r = get_arr(o, bio, key, P(p, "linux.resources.blockIO.%s", key), &arr)) < 0)
		return r;
	json_array_foreach(arr, i, e) {
		int64_t major = 0, minor = 0;
		uint64_t rate = 0;

		if (!json_is_object(e))
			return OERR(o, P(p, "linux.resources.blockIO.%s[%zu]", key, i), "not an object");
		if ((r = get_int(o, e, "major", P(p, "linux.resources.blockIO.%s[%zu].major", key, i),
				 0, UINT32_MAX, &major)) < 0 ||
		    (r = get_int(o, e, "minor", P(p, "linux.resources.blockIO.%s[%zu].minor", key, i),
				 0, UINT32_MAX, &minor)) < 0 ||
		    (r = get_u64(o, e, "rate", P(p, "linux.resources.blockIO.%s[%zu].rate", key, i),
				 &rate)) < 0)
			return r;
		snprintf(dev, sizeof(dev), "%lld:%lld", (long long)major, (long long)minor);
		if ((r = oci_wrap(o, P(p, "linux.resources.blockIO.%s[%zu]", key, i),
				  box_config_add_io_limit(o->cfg, dev, kind, rate))) < 0)
			return r;
	}
	return 0;
}

static int read_resources(const struct oci *o, json_t *linux_)
{
	json_t *res, *mem, *cpu, *pids, *bio;
	const char *cpus = NULL, *mems = NULL;
	int64_t v;
	uint64_t u;
	int r;

	if ((r = get_obj(o, linux_, "resources", "linux.resources", &res)) <= 0)
		return r;
	if ((r = read_dev_rules(o, res)) < 0)
		return r;
	if ((r = get_obj(o, res, "memory", "linux.resources.memory", &mem)) < 0)
		return r;
	/* -1: unlimited, as the spec's engines write it */
	if ((r = get_int(o, mem, "limit", "linux.resources.memory.limit", -1, INT64_MAX, &v)) < 0 ||
	    (r > 0 && (r = set_limit(o, "linux.resources.memory.limit", BOX_LIMIT_MEMORY, v)) < 0))
		return r;
	if ((r = get_int(o, mem, "reservation", "linux.resources.memory.reservation", -1, INT64_MAX,
			 &v)) < 0 ||
	    (r > 0 && (r = set_limit(o, "linux.resources.memory.reservation",
				     BOX_LIMIT_MEMORY_RESERVATION, v)) < 0))
		return r;
	if ((r = get_int(o, mem, "swap", "linux.resources.memory.swap", -1, INT64_MAX, &v)) < 0 ||
	    (r > 0 && (r = set_limit(o, "linux.resources.memory.swap", BOX_LIMIT_MEMORY_SWAP, v)) < 0))
		return r;
	if ((r = get_obj(o, res, "cpu", "linux.resources.cpu", &cpu)) < 0)
		return r;
	if ((r = get_u64(o, cpu, "shares", "linux.resources.cpu.shares", &u)) < 0 ||
	    (r > 0 && u && (r = set_limit(o, "linux.resources.cpu.shares", BOX_LIMIT_CPU_SHARES,
					   u > INT64_MAX ? INT64_MAX : (int64_t)u)) < 0))
		return r;
	if ((r = get_int(o, cpu, "quota", "linux.resources.cpu.quota", -1, INT64_MAX, &v)) < 0 ||
	    (r > 0 && v && (r = set_limit(o, "linux.resources.cpu.quota", BOX_LIMIT_CPU_QUOTA, v)) < 0))
		return r;
	if ((r = get_u64(o, cpu, "period", "linux.resources.cpu.period", &u)) < 0 ||
	    (r > 0 && u && (r = set_limit(o, "linux.resources.cpu.period", BOX_LIMIT_CPU_PERIOD,
					   u > INT64_MAX ? INT64_MAX : (int64_t)u)) < 0))
		return r;
	if ((r = get_str(o, cpu, "cpus", "linux.resources.cpu.cpus", &cpus)) < 0 ||
	    (r = get_str(o, cpu, "mems", "linux.resources.cpu.mems", &mems)) < 0)
		return r;
	if ((cpus && cpus[0]) || (mems && mems[0])) {
		if ((r = oci_wrap(o, "linux.resources.cpu",
				  box_config_set_cpuset(o->cfg, cpus && cpus[0] ? cpus : NULL,
							mems && mems[0] ? mems : NULL))) < 0)
			return r;
	}
	if ((r = get_obj(o, res, "pids", "linux.resources.pids", &pids)) < 0)
		return r;
	if ((r = get_int(o, pids, "limit", "linux.resources.pids.limit", INT64_MIN, INT64_MAX, &v)) < 0)
		return r;
	if (r > 0 && v > 0 && (r = set_limit(o, "linux.resources.pids.limit", BOX_LIMIT_PIDS, v)) < 0)
		return r;
	if ((r = get_obj(o, res, "blockIO", "linux.resources.blockIO", &bio)) < 0)
		return r;
	if ((r = get_int(o, bio, "weight", "linux.resources.blockIO.weight", 0, 10000, &v)) < 0)
		return r;
	if (r > 0 && v && (r = set_limit(o, "linux.resources.blockIO.weight", BOX_LIMIT_IO_WEIGHT, v)) < 0)
		return r;
	if ((r = read_throttle(o, bio, "throttleReadBpsDevice", BOX_IO_READ_BPS)) < 0 ||
	    (r = read_throttle(o, bio, "throttleWriteBpsDevice", BOX_IO_WRITE_BPS)) < 0 ||
	    (r = read_throttle(o, bio, "throttleReadIOPSDevice", BOX_IO_READ_IOPS)) < 0 ||
	    (r = read_throttle(o, bio, "throttleWriteIOPSDevice", BOX_IO_WRITE_IOPS)) < 0)
		return r;
	return 0;
}

static int read_paths(const struct oci *o, json_t *linux_, const char *key, char ***out)
{
	json_t *arr, *e;
	char p[128];
	size_t i;
	int r;

	if ((r = get_arr(o, linux_, key, P(p, "linux.%s", key), &arr)) < 0)
		return r;
	if (!arr)
		return 0; /* absent: Docker's defaults */
	json_array_foreach(arr, i, e)
		if (!json_is_string(e) || json_string_value(e)[0] != '/')
			return OERR(o, P(p, "linux.%s[%zu]", key, i), "not an absolute path");
	*out = strv_from_json(o, arr, p, &r);
	return *out ? 0 : r;
}

static int read_sysctl(const struct oci *o, json_t *linux_)
{
	json_t *obj, *v;
	const char *k;
	size_t n = 0;
	char p[300];
	int r;

	if ((r = get_obj(o, linux_, "sysctl", "linux.sysctl", &obj)) <= 0)
		return r;
	o->cfg->oci->sysctl = calloc(json_object_size(obj) + 1, sizeof(char *));
	if (!o->cfg->oci->sysctl)
		return box_err(ENOMEM, "%s: out of memory", o->file);
	json_object_foreach(obj, k, v) {
		if (!json_is_string(v))
			return OERR(o, P(p, "linux.sysctl.%s", k), "not a string");
		if (!k[0] || strstr(k, "..") || strchr(k, '/') || k[0] == '.')
			return OERR(o, P(p, "linux.sysctl.%s", k), "not a sysctl name");
		if (asprintf(&o->cfg->oci->sysctl[n++], "%s=%s", k, json_string_value(v)) < 0) {
			o->cfg->oci->sysctl[--n] = NULL;
			return box_err(ENOMEM, "%s: out of memory", o->file);
		}
	}
	return 0;
}

static int read_linux(const struct oci *o, json_t *root)
{
	struct box_oci_extra *x = o->cfg->oci;
	json_t *linux_, *sc;
	const char *s;
	int r;

	if ((r = get_obj(o, root, "linux", "linux", &linux_)) < 0)
		return r;
	if (!linux_)
		return OERR(o, "linux", "missing (only Linux containers run here)");
	if ((r = read_namespaces(o, linux_)) < 0 ||
	    (r = read_idmaps(o, linux_, "uidMappings", BOX_MAP_UID)) < 0 ||
	    (r = read_idmaps(o, linux_, "gidMappings", BOX_MAP_GID)) < 0 ||
	    (r = read_devices(o, linux_)) < 0 || (r = read_resources(o, linux_)) < 0 ||
	    (r = read_paths(o, linux_, "maskedPaths", &x->masked)) < 0 ||
	    (r = read_paths(o, linux_, "readonlyPaths", &x->readonly)) < 0 ||
	    (r = read_sysctl(o, linux_)) < 0)
		return r;
	if ((r = get_str(o, linux_, "cgroupsPath", "linux.cgroupsPath", &s)) < 0)
		return r;
	if (s && s[0]) {
		if (strstr(s, ".."))
			return OERR(o, "linux.cgroupsPath", "\"%s\" has a \"..\"", s);
		x->cgroup_path = strdup(s);
		if (!x->cgroup_path)
			return box_err(ENOMEM, "%s: out of memory", o->file);
	}
	if ((r = get_str(o, linux_, "rootfsPropagation", "linux.rootfsPropagation", &s)) < 0)
		return r;
	if (s && s[0]) {
		static const struct {
			const char *name;
			unsigned long flags;
		} props[] = {
			{ "private", MS_PRIVATE },	   { "rprivate", MS_PRIVATE | MS_REC },
			{ "slave", MS_SLAVE },		   { "rslave", MS_SLAVE | MS_REC },
			{ "shared", MS_SHARED },	   { "rshared", MS_SHARED | MS_REC },
			{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
		};

		for (size_t k = 0; k < ARRAY_SIZE(props); k++)
			if (strcmp(s, props[k].name) == 0)
				x->root_propagation = props[k].flags;
		if (!x->root_propagation)
			return OERR(o, "linux.rootfsPropagation", "unknown propagation \"%s\"", s);
	}
	if ((r = get_obj(o, linux_, "seccomp", "linux.seccomp", &sc)) < 0)
		return r;
	if (sc) {
		/* checked now, compiled by box_create() against the final caps */
		if (!json_is_string(get(sc, "defaultAction")))
			return OERR(o, "linux.seccomp.defaultAction", "missing or not a string");
		x->seccomp_json = json_dumps(sc, JSON_COMPACT);
		if (!x->seccomp_json)
			return box_err(ENOMEM, "%s: out of memory", o->file);
		o->cfg->seccomp_mode = BOX_SECCOMP_PROFILE;
	} else {
		o->cfg->seccomp_mode = BOX_SECCOMP_UNCONFINED;
	}
	return 0;
}

void box_oci_extra_free(struct box_oci_extra *x)
{
	if (!x)
		return;
	strv_free(x->masked);
	strv_free(x->readonly);
	for (size_t i = 0; i < x->ndevices; i++)
		free(x->devices[i].path);
	free(x->devices);
	free(x->dev_rules);
	strv_free(x->sysctl);
	free(x->cgroup_path);
	free(x->seccomp_json);
	for (size_t i = 0; i < ARRAY_SIZE(x->ns_path); i++)
		free(x->ns_path[i]);
	free(x);
}

static int load(const char *path, bool whole, box_config **out)
{
	_cleanup_free_ char *file = NULL, *bundle = NULL;
	struct oci o = { 0 };
	json_error_t jerr;
	json_t *root, *proc;
	struct stat st;
	box_config *c = NULL;
	int r;

	box_err_clear();
	if (!path || !path[0] || !out)
		return box_err(EINVAL, "box_config_from_oci: %s is NULL", !out ? "out" : "path");
	*out = NULL;
	if (stat(path, &st) < 0)
		return box_err_errno(errno, "OCI %s %s", whole ? "bundle" : "process", path);
	if (S_ISDIR(st.st_mode)) {
		bundle = realpath(path, NULL);
		if (!bundle || asprintf(&file, "%s/config.json", bundle) < 0) {
			file = NULL;
			return box_err_errno(bundle ? ENOMEM : errno, "OCI bundle %s", path);
		}
	} else {
		char *slash;

		file = strdup(path);
		bundle = realpath(path, NULL);
		if (!file || !bundle)
			return box_err_errno(file ? errno : ENOMEM, "OCI %s %s", whole ? "bundle" : "process",
					     path);
		slash = strrchr(bundle, '/');
		if (slash == bundle)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return box_err(access(file, R_OK) == 0 ? EINVAL : ENOENT, "%s: line %d: %s", file,
			       jerr.line, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return box_err(EINVAL, "%s: not a JSON object", file);
	}
	r = box_config_new(&c);
	if (r == 0) {
		c->oci = calloc(1, sizeof(*c->oci));
		if (!c->oci)
			r = box_err(ENOMEM, "%s: out of memory", file);
		else
			c->oci->spec = whole;
	}
	o = (struct oci){ .file = file, .bundle = bundle, .cfg = c };
	if (r == 0 && !whole) {
		/* an exec's process.json: the process object itself */
		r = read_process(&o, root, true);
		json_decref(root);
		if (r < 0) {
			box_config_free(c);
			return r;
		}
		*out = c;
		return 0;
	}
	if (r == 0) {
		const char *v;

		r = get_str(&o, root, "ociVersion", "ociVersion", &v);
		if (r == 0)
			r = OERR(&o, "ociVersion", "missing");
		else if (r > 0 && strncmp(v, "1.", 2) != 0)
			r = OERR(&o, "ociVersion", "version \"%s\" is not 1.x", v);
		else if (r > 0)
			r = 0;
	}
	if (r == 0) {
		json_t *rootobj;
		const char *rp = NULL;
		bool ro = false;

		r = get_obj(&o, root, "root", "root", &rootobj);
		if (r == 0)
			r = OERR(&o, "root", "missing");
		if (r > 0)
			r = get_str(&o, rootobj, "path", "root.path", &rp);
		if (r == 0)
			r = OERR(&o, "root.path", "missing");
		if (r > 0)
			r = get_bool(&o, rootobj, "readonly", "root.readonly", &ro);
		if (r >= 0) {
			_cleanup_free_ char *abs = NULL;

			if (rp[0] != '/' && asprintf(&abs, "%s/%s", bundle, rp) < 0)
				abs = NULL;
			r = oci_wrap(&o, "root.path", box_config_set_rootfs(c, abs ? abs : rp));
			c->readonly_root = ro;
		}
	}
	if (r == 0) {
		r = get_obj(&o, root, "process", "process", &proc);
		if (r > 0)
			r = read_process(&o, proc, true);
		/* (absent: the spec allows it for create; start then fails) */
	}
	if (r == 0) {
		const char *h;

		r = get_str(&o, root, "hostname", "hostname", &h);
		if (r > 0 && h[0])
			r = oci_wrap(&o, "hostname", box_config_set_hostname(c, h));
		else if (r > 0)
			r = 0;
	}
	if (r == 0)
		r = read_linux(&o, root);
	if (r == 0 && c->hostname && !(c->ns & BOX_NS_UTS))
		r = OERR(&o, "hostname", "needs a uts namespace");
	if (r == 0)
		r = read_mounts(&o, root);
	if (r == 0) {
		json_t *ann;
		const char *k;
		json_t *v;
		char p[300];

		r = get_obj(&o, root, "annotations", "annotations", &ann);
		if (r > 0)
			r = 0;
		json_object_foreach(ann, k, v) {
			if (r < 0)
				break;
			if (!json_is_string(v))
				r = OERR(&o, P(p, "annotations.%s", k), "not a string");
			else
				r = oci_wrap(&o, P(p, "annotations.%s", k),
					     box_config_set_annotation(c, k, json_string_value(v)));
		}
	}
	json_decref(root);
	if (r < 0) {
		box_config_free(c);
		return r;
	}
	/* the spec's process does not hold the host's fds open */
	*out = c;
	return 0;
}

BOX_EXPORT int box_config_from_oci(const char *path, box_config **out)
{
	return load(path, true, out);
}

BOX_EXPORT int box_config_from_oci_process(const char *path, box_config **out)
{
	return load(path, false, out);
}

BOX_EXPORT int box_config_set_start_fifo(box_config *cfg, int on)
{
	box_err_clear();
	if (!cfg)
		return box_err(EINVAL, "box_config_set_start_fifo: config is NULL");
	if (!cfg->oci) {
		cfg->oci = calloc(1, sizeof(*cfg->oci));
		if (!cfg->oci)
			return box_err(ENOMEM, "box_config_set_start_fifo: out of memory");
	}
	cfg->oci->start_fifo = on != 0;
	return 0;
}
