/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * box.c - the Lua 5.4 module "box": libbox's C API for Lua.
 *
 *   local box = require "box"
 *   local ctx = assert(box.context{ state_dir = "/run/mine" })
 *   local cfg = assert(box.config{ rootfs = "/srv/rootfs", argv = { "sh", "-c", "exit 3" } })
 *   print(ctx:run(cfg))                     --> 3  0
 *
 * Conventions (see README.md here):
 *  - A call that fails in libbox (or finds a bad value in a config table)
 *    returns nil, message, errno (a positive errno), as io.open does; the
 *    message is box_last_error()'s.  Calls that have nothing else to
 *    return return true on success.
 *  - Misuse is thrown (luaL_error): an argument of the wrong Lua type, a
 *    handle used after close/destroy.
 *  - Three userdata types, each with __gc and __close: box.ctx, box.config
 *    and box.box.  A box handle's __gc only closes the handle
 *    (box_close: the box goes on, as after a C program that forgot it);
 *    its __close (a to-be-closed variable) destroys the boxes this handle
 *    made (ctx:create, b:exec) and only closes the ones it opened
 *    (ctx:open).  :destroy() destroys, :close() closes, whatever the
 *    handle's origin.
 *  - A context lives while any of its box handles does (the handles hold
 *    it), and is freed after the last one even when closed first.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "box.h"

#define CTX_MT "box.ctx"
#define CONFIG_MT "box.config"
#define BOX_MT "box.box"
#define RESULT_MT "box.sandbox_result"

#ifndef BOX_LUA_EXPORT
#define BOX_LUA_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------
 * Userdata
 * ------------------------------------------------------------------- */

struct lctx {
	box_ctx *ctx;
	int handles; /* box handles made from it and not yet released */
	int closed;  /* closed or collected: freed with the last handle */
};

struct lconfig {
	box_config *cfg;
};

struct lbox {
	box *b;          /* NULL once closed or destroyed */
	struct lctx *c;  /* set with b; the ctx userdata is the uservalue */
	int owner;       /* made by ctx:create or b:exec (__close destroys) */
};

static void ctx_release(struct lctx *c)
{
	if (c->closed && c->handles == 0 && c->ctx) {
		box_ctx_free(c->ctx);
		c->ctx = NULL;
	}
}

static void ctx_unref(struct lctx *c)
{
	c->handles--;
	ctx_release(c);
}

static struct lctx *check_ctx(lua_State *L, int i)
{
	struct lctx *c = luaL_checkudata(L, i, CTX_MT);

	if (!c->ctx || c->closed)
		luaL_error(L, "attempt to use a closed box context");
	return c;
}

static struct lconfig *check_config(lua_State *L, int i)
{
	struct lconfig *c = luaL_checkudata(L, i, CONFIG_MT);

	if (!c->cfg)
		luaL_error(L, "attempt to use a closed box config");
	return c;
}

static struct lbox *check_box(lua_State *L, int i)
{
	struct lbox *b = luaL_checkudata(L, i, BOX_MT);

	if (!b->b)
		luaL_error(L, "attempt to use a closed box");
	return b;
}

/* ---------------------------------------------------------------------
 * Results: true, or nil + message + errno
 * ------------------------------------------------------------------- */

/* nil, box_last_error() (or the errno's text), -r.  Call right after the
 * failing libbox call: the next one may clear the message. */
static int fail(lua_State *L, int r)
{
	const char *m = box_last_error();
	int e = r < 0 ? -r : r;

	lua_pushnil(L);
	lua_pushstring(L, m && *m ? m : box_strerror(e));
	lua_pushinteger(L, e);
	return 3;
}

static int result(lua_State *L, int r)
{
	if (r < 0)
		return fail(L, r);
	lua_pushboolean(L, 1);
	return 1;
}

static void push_u64(lua_State *L, uint64_t v)
{
	if (v <= (uint64_t)LUA_MAXINTEGER)
		lua_pushinteger(L, (lua_Integer)v);
	else
		lua_pushnumber(L, (lua_Number)v);
}

/* ---------------------------------------------------------------------
 * Signals by number or name ("TERM", "SIGTERM", "term")
 * ------------------------------------------------------------------- */

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },     { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT },   { "BUS", SIGBUS },   { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM },   { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP },   { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG },     { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "PWR", SIGPWR },   { "SYS", SIGSYS },
};

static int check_signal(lua_State *L, int i, int def)
{
	const char *s;

	if (lua_isnoneornil(L, i))
		return def;
	if (lua_type(L, i) == LUA_TNUMBER)
		return (int)luaL_checkinteger(L, i);
	s = luaL_checkstring(L, i);
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t k = 0; k < sizeof(signals) / sizeof(signals[0]); k++)
		if (strcasecmp(s, signals[k].name) == 0)
			return signals[k].sig;
	return luaL_argerror(L, i, lua_pushfstring(L, "unknown signal '%s'", lua_tostring(L, i)));
}

/* ---------------------------------------------------------------------
 * box.config{...}: a table of settings onto a box_config
 * ------------------------------------------------------------------- */

struct apply {
	lua_State *L;
	box_config *cfg;
	int err; /* positive errno once failed */
	char msg[512];
};

static int bad(struct apply *a, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(struct apply *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
	a->err = err;
	return -1;
}

/* a libbox setter's failure */
static int cfail(struct apply *a, int r)
{
	snprintf(a->msg, sizeof(a->msg), "%s", box_last_error());
	if (!a->msg[0])
		snprintf(a->msg, sizeof(a->msg), "%s", box_strerror(r));
	a->err = -r;
	return -1;
}

#define CALL(a, expr)                        \
	do {                                 \
		int r_ = (expr);             \
		if (r_ < 0)                  \
			return cfail(a, r_); \
	} while (0)

static const char *type_of(lua_State *L, int i)
{
	return luaL_typename(L, i);
}

/* The value at i as a string (a string or a number, converted in place:
 * only for values on the stack, not read with lua_next). */
static int get_str(struct apply *a, int i, const char *what, const char **out)
{
	int t = lua_type(a->L, i);

	if (t != LUA_TSTRING && t != LUA_TNUMBER)
		return bad(a, EINVAL, "box.config: %s must be a string, not %s", what, type_of(a->L, i));
	*out = lua_tostring(a->L, i);
	return 0;
}

static int get_int(struct apply *a, int i, const char *what, lua_Integer *out)
{
	int ok = 0;

	if (lua_type(a->L, i) == LUA_TNUMBER)
		*out = lua_tointegerx(a->L, i, &ok);
	if (!ok)
		return bad(a, EINVAL, "box.config: %s must be an integer, not %s", what,
			   lua_type(a->L, i) == LUA_TNUMBER ? "a fraction" : type_of(a->L, i));
	return 0;
}

static int get_u32(struct apply *a, int i, const char *what, uint32_t *out)
{
	lua_Integer v;

	if (get_int(a, i, what, &v) < 0)
		return -1;
	if (v < 0 || v > (lua_Integer)UINT32_MAX)
		return bad(a, EINVAL, "box.config: %s %lld is out of range", what, (long long)v);
	*out = (uint32_t)v;
	return 0;
}

/* A count or size: a non-negative integer, or -1, math.huge, "unlimited",
 * "infinity" or "max" for UINT64_MAX. */
static int get_u64(struct apply *a, int i, const char *what, uint64_t *out)
{
	lua_State *L = a->L;
	lua_Integer v;

	if (lua_type(L, i) == LUA_TSTRING) {
		const char *s = lua_tostring(L, i);

		if (strcmp(s, "unlimited") == 0 || strcmp(s, "infinity") == 0 ||
		    strcmp(s, "max") == 0) {
			*out = UINT64_MAX;
			return 0;
		}
		return bad(a, EINVAL, "box.config: %s: \"%s\" is not a number or \"unlimited\"",
			   what, s);
	}
	if (lua_type(L, i) == LUA_TNUMBER && !lua_isinteger(L, i) &&
	    lua_tonumber(L, i) == (lua_Number)HUGE_VAL) {
		*out = UINT64_MAX;
		return 0;
	}
	if (get_int(a, i, what, &v) < 0)
		return -1;
	if (v < -1)
		return bad(a, EINVAL, "box.config: %s %lld is negative", what, (long long)v);
	*out = v == -1 ? UINT64_MAX : (uint64_t)v;
	return 0;
}

/* A flag: a boolean, or a number (non-zero is on, as in C). */
static int get_flag(struct apply *a, int i, const char *what, int *out)
{
	switch (lua_type(a->L, i)) {
	case LUA_TBOOLEAN:
		*out = lua_toboolean(a->L, i);
		return 0;
	case LUA_TNUMBER:
		*out = lua_tonumber(a->L, i) != 0;
		return 0;
	default:
		return bad(a, EINVAL, "box.config: %s must be a boolean, not %s", what,
			   type_of(a->L, i));
	}
}

static int need_table(struct apply *a, int i, const char *what)
{
	if (!lua_istable(a->L, i))
		return bad(a, EINVAL, "box.config: %s must be a table, not %s", what, type_of(a->L, i));
	return 0;
}

/* For an array at i: the strings in it, kept alive in a new table pushed
 * on the stack, and a const char *[] (a userdata pushed above it). */
static int get_strv(struct apply *a, int i, const char *what, const char ***out, int *n)
{
	lua_State *L = a->L;
	lua_Unsigned len;
	const char **v;

	if (need_table(a, i, what) < 0)
		return -1;
	len = lua_rawlen(L, i);
	if (len > 65536)
		return bad(a, E2BIG, "box.config: %s has too many elements", what);
	lua_createtable(L, (int)len, 0);
	v = lua_newuserdatauv(L, (len + 1) * sizeof(*v), 0);
	for (lua_Unsigned k = 1; k <= len; k++) {
		int t = lua_geti(L, i, (lua_Integer)k);

		if (t != LUA_TSTRING && t != LUA_TNUMBER) {
			bad(a, EINVAL, "box.config: %s[%llu] must be a string, not %s", what,
			    (unsigned long long)k, type_of(L, -1));
			lua_pop(L, 3);
			return -1;
		}
		v[k - 1] = lua_tostring(L, -1);
		lua_seti(L, -3, (lua_Integer)k); /* kept in the table */
	}
	v[len] = NULL;
	*out = v;
	*n = (int)len;
	return 0;
}

static int set_argv(struct apply *a, int i)
{
	const char **v;
	int n, r;

	if (get_strv(a, i, "argv", &v, &n) < 0)
		return -1;
	if (n == 0) {
		lua_pop(a->L, 2);
		return bad(a, EINVAL, "box.config: argv is empty");
	}
	r = box_config_set_argv(a->cfg, n, v);
	lua_pop(a->L, 2);
	CALL(a, r);
	return 0;
}

/* A map of string keys at i: fn(a, key, value index) for each pair, the
 * value on the top of the stack. */
static int each_pair(struct apply *a, int i, const char *what,
		     int (*fn)(struct apply *a, const char *key, int v))
{
	lua_State *L = a->L;

	if (need_table(a, i, what) < 0)
		return -1;
	lua_pushnil(L);
	while (lua_next(L, i)) {
		if (lua_type(L, -2) != LUA_TSTRING) {
			bad(a, EINVAL, "box.config: %s: the keys must be strings, not %s", what,
			    type_of(L, -2));
			lua_pop(L, 2);
			return -1;
		}
		if (fn(a, lua_tostring(L, -2), lua_gettop(L)) < 0) {
			lua_pop(L, 2);
			return -1;
		}
		lua_pop(L, 1);
	}
	return 0;
}

/* env.K = "v" sets, env.K = false removes.  A number is converted in a
 * copy (converting the value itself would confuse lua_next). */
static int env_one(struct apply *a, const char *key, int v)
{
	lua_State *L = a->L;
	int r;

	if (lua_type(L, v) == LUA_TBOOLEAN && !lua_toboolean(L, v)) {
		CALL(a, box_config_set_env(a->cfg, key, NULL));
		return 0;
	}
	if (lua_type(L, v) != LUA_TSTRING && lua_type(L, v) != LUA_TNUMBER)
		return bad(a, EINVAL, "box.config: env.%s must be a string (or false), not %s", key,
			   type_of(L, v));
	lua_pushvalue(L, v);
	r = box_config_set_env(a->cfg, key, lua_tostring(L, -1));
	lua_pop(L, 1);
	CALL(a, r);
	return 0;
}

static int annotation_one(struct apply *a, const char *key, int v)
{
	lua_State *L = a->L;
	int r;

	if (lua_type(L, v) == LUA_TBOOLEAN && !lua_toboolean(L, v)) {
		CALL(a, box_config_set_annotation(a->cfg, key, NULL));
		return 0;
	}
	if (lua_type(L, v) != LUA_TSTRING && lua_type(L, v) != LUA_TNUMBER)
		return bad(a, EINVAL, "box.config: annotations.%s must be a string (or false), not %s",
			   key, type_of(L, v));
	lua_pushvalue(L, v);
	r = box_config_set_annotation(a->cfg, key, lua_tostring(L, -1));
	lua_pop(L, 1);
	CALL(a, r);
	return 0;
}

static int set_env(struct apply *a, int i)
{
	return each_pair(a, i, "env", env_one);
}

static int set_annotations(struct apply *a, int i)
{
	return each_pair(a, i, "annotations", annotation_one);
}

static int set_cwd(struct apply *a, int i)
{
	const char *s;

	if (get_str(a, i, "cwd", &s) < 0)
		return -1;
	CALL(a, box_config_set_cwd(a->cfg, s));
	return 0;
}

/* user = { uid, gid } (gid 0 when missing, as boxctl -u UID), or a uid */
static int set_user(struct apply *a, int i)
{
	lua_State *L = a->L;
	uint32_t uid = 0, gid = 0;
	int r = 0;

	if (lua_type(L, i) == LUA_TNUMBER) {
		if (get_u32(a, i, "user", &uid) < 0)
			return -1;
		CALL(a, box_config_set_user(a->cfg, uid, 0));
		return 0;
	}
	if (lua_type(L, i) == LUA_TSTRING) {
		/* "name[:group]", looked up in the box's own /etc/passwd */
		CALL(a, box_config_set_user_name(a->cfg, lua_tostring(L, i)));
		return 0;
	}
	if (need_table(a, i, "user") < 0)
		return -1;
	lua_geti(L, i, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_getfield(L, i, "uid");
	}
	r = get_u32(a, lua_gettop(L), "user[1] (uid)", &uid);
	lua_pop(L, 1);
	if (r < 0)
		return -1;
	lua_geti(L, i, 2);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_getfield(L, i, "gid");
	}
	if (!lua_isnil(L, -1))
		r = get_u32(a, lua_gettop(L), "user[2] (gid)", &gid);
	lua_pop(L, 1);
	if (r < 0)
		return -1;
	CALL(a, box_config_set_user(a->cfg, uid, gid));
	return 0;
}

static int set_groups(struct apply *a, int i)
{
	lua_State *L = a->L;
	lua_Unsigned n;
	uint32_t *g;
	int r;

	if (need_table(a, i, "groups") < 0)
		return -1;
	n = lua_rawlen(L, i);
	if (n > 65536)
		return bad(a, EINVAL, "box.config: groups has more than 65536 ids");
	g = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*g), 0);
	for (lua_Unsigned k = 1; k <= n; k++) {
		lua_geti(L, i, (lua_Integer)k);
		r = get_u32(a, lua_gettop(L), "groups[]", &g[k - 1]);
		lua_pop(L, 1);
		if (r < 0) {
			lua_pop(L, 1);
			return -1;
		}
	}
	r = box_config_set_groups(a->cfg, (int)n, g);
	lua_pop(L, 1);
	CALL(a, r);
	return 0;
}

static int set_hostname(struct apply *a, int i)
{
	const char *s;

	if (get_str(a, i, "hostname", &s) < 0)
		return -1;
	CALL(a, box_config_set_hostname(a->cfg, s));
	return 0;
}

static const struct {
	const char *name;
	unsigned flag;
} ns_names[] = {
	{ "mount", BOX_NS_MOUNT }, { "uts", BOX_NS_UTS },       { "ipc", BOX_NS_IPC },
	{ "pid", BOX_NS_PID },     { "net", BOX_NS_NET },       { "user", BOX_NS_USER },
	{ "cgroup", BOX_NS_CGROUP }, { "time", BOX_NS_TIME },
};

/* namespaces = mask (box.NS.*) or { "mount", "pid", ... } */
static int set_namespaces(struct apply *a, int i)
{
	lua_State *L = a->L;
	unsigned mask = 0;

	if (lua_type(L, i) == LUA_TNUMBER) {
		lua_Integer v;

		if (get_int(a, i, "namespaces", &v) < 0)
			return -1;
		if (v < 0 || v > (lua_Integer)UINT_MAX)
			return bad(a, EINVAL, "box.config: namespaces %lld is out of range", (long long)v);
		CALL(a, box_config_set_namespaces(a->cfg, (unsigned)v));
		return 0;
	}
	if (need_table(a, i, "namespaces") < 0)
		return -1;
	for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, i); k++) {
		const char *s;
		size_t j;

		lua_geti(L, i, k);
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			return bad(a, EINVAL, "box.config: namespaces[%lld] must be a name", (long long)k);
		}
		s = lua_tostring(L, -1);
		for (j = 0; j < sizeof(ns_names) / sizeof(ns_names[0]); j++)
			if (strcmp(s, ns_names[j].name) == 0)
				break;
		if (j == sizeof(ns_names) / sizeof(ns_names[0])) {
			bad(a, EINVAL, "box.config: unknown namespace \"%s\"", s);
			lua_pop(L, 1);
			return -1;
		}
		mask |= ns_names[j].flag;
		lua_pop(L, 1);
	}
	CALL(a, box_config_set_namespaces(a->cfg, mask));
	return 0;
}

/* uid_map / gid_map = { { inside, outside, count }, ... } */
static int set_id_map(struct apply *a, int i, int kind, const char *what)
{
	lua_State *L = a->L;

	if (need_table(a, i, what) < 0)
		return -1;
	for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, i); k++) {
		uint32_t v[3];
		int r = 0;

		lua_geti(L, i, k);
		if (!lua_istable(L, -1)) {
			lua_pop(L, 1);
			return bad(a, EINVAL, "box.config: %s[%lld] must be { inside, outside, count }",
				   what, (long long)k);
		}
		for (int j = 0; j < 3 && r == 0; j++) {
			lua_geti(L, -1, j + 1);
			r = get_u32(a, lua_gettop(L), what, &v[j]);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		if (r < 0)
			return -1;
		CALL(a, box_config_add_id_map(a->cfg, kind, v[0], v[1], v[2]));
	}
	return 0;
}

static int set_uid_map(struct apply *a, int i)
{
	return set_id_map(a, i, BOX_MAP_UID, "uid_map");
}

static int set_gid_map(struct apply *a, int i)
{
	return set_id_map(a, i, BOX_MAP_GID, "gid_map");
}

static int set_rootfs(struct apply *a, int i)
{
	const char *s;

	if (get_str(a, i, "rootfs", &s) < 0)
		return -1;
	CALL(a, box_config_set_rootfs(a->cfg, s));
	return 0;
}

#define FLAG_SETTER(key, fn)                          \
	static int set_##key(struct apply *a, int i)  \
	{                                             \
		int on;                               \
		if (get_flag(a, i, #key, &on) < 0)    \
			return -1;                    \
		CALL(a, fn(a->cfg, on));              \
		return 0;                             \
	}
FLAG_SETTER(readonly_root, box_config_set_readonly_root)
FLAG_SETTER(no_new_privs, box_config_set_no_new_privs)
FLAG_SETTER(init, box_config_set_init)
FLAG_SETTER(no_pivot, box_config_set_no_pivot)
FLAG_SETTER(tty, box_config_set_tty)

/* An optional string field of the table at t: NULL when nil. */
static int opt_field(struct apply *a, int t, const char *key, const char *what, const char **out)
{
	lua_State *L = a->L;

	lua_getfield(L, t, key); /* left on the stack: keeps a converted number */
	*out = NULL;
	if (lua_isnil(L, -1))
		return 0;
	if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
		return bad(a, EINVAL, "box.config: %s.%s must be a string, not %s", what, key,
			   type_of(L, -1));
	*out = lua_tostring(L, -1);
	return 0;
}

/* mounts = { { type=, source=, target=, options= "ro,nosuid" or { "ro", ... } }, ... }
 * type defaults to "bind" when there is a source. */
static int set_mounts(struct apply *a, int i)
{
	lua_State *L = a->L;

	if (need_table(a, i, "mounts") < 0)
		return -1;
	for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, i); k++) {
		const char *type, *source, *target, *options = NULL;
		int top = lua_gettop(L), m, r;

		lua_geti(L, i, k);
		m = lua_gettop(L);
		if (!lua_istable(L, m)) {
			lua_settop(L, top);
			return bad(a, EINVAL, "box.config: mounts[%lld] must be a table", (long long)k);
		}
		if (opt_field(a, m, "type", "mounts[]", &type) < 0 ||
		    opt_field(a, m, "source", "mounts[]", &source) < 0 ||
		    opt_field(a, m, "target", "mounts[]", &target) < 0) {
			lua_settop(L, top);
			return -1;
		}
		if (!target) {
			lua_settop(L, top);
			return bad(a, EINVAL, "box.config: mounts[%lld] has no target", (long long)k);
		}
		if (!type && !source) {
			lua_settop(L, top);
			return bad(a, EINVAL, "box.config: mounts[%lld] has neither type nor source",
				   (long long)k);
		}
		lua_getfield(L, m, "options");
		if (lua_istable(L, -1)) {
			int o = lua_gettop(L), n = 0;

			for (lua_Integer j = 1; j <= (lua_Integer)lua_rawlen(L, o); j++) {
				if (n) {
					lua_pushliteral(L, ",");
					n++;
				}
				if (lua_geti(L, o, j) != LUA_TSTRING) {
					lua_settop(L, top);
					return bad(a, EINVAL, "box.config: mounts[%lld].options[%lld] must be a string",
						   (long long)k, (long long)j);
				}
				n++;
			}
			lua_concat(L, n);
			options = lua_rawlen(L, -1) ? lua_tostring(L, -1) : NULL;
		} else if (lua_type(L, -1) == LUA_TSTRING) {
			options = lua_tostring(L, -1);
		} else if (!lua_isnil(L, -1)) {
			lua_settop(L, top);
			return bad(a, EINVAL, "box.config: mounts[%lld].options must be a string or a table",
				   (long long)k);
		}
		r = box_config_add_mount(a->cfg, type ? type : "bind", source, target, options);
		lua_settop(L, top);
		CALL(a, r);
	}
	return 0;
}

/* rlimits = { nofile = { soft, hard }, nproc = n (both), ... } */
static int rlimit_one(struct apply *a, const char *name, int v)
{
	lua_State *L = a->L;
	uint64_t soft, hard;
	char what[96];
	int r;

	snprintf(what, sizeof(what), "rlimits.%s", name);
	if (lua_istable(L, v)) {
		lua_geti(L, v, 1);
		r = get_u64(a, lua_gettop(L), what, &soft);
		lua_pop(L, 1);
		if (r < 0)
			return -1;
		lua_geti(L, v, 2);
		r = lua_isnil(L, -1) ? (hard = soft, 0) : get_u64(a, lua_gettop(L), what, &hard);
		lua_pop(L, 1);
		if (r < 0)
			return -1;
	} else {
		if (get_u64(a, v, what, &soft) < 0)
			return -1;
		hard = soft;
	}
	CALL(a, box_config_set_rlimit(a->cfg, name, soft, hard));
	return 0;
}

static int set_rlimits(struct apply *a, int i)
{
	return each_pair(a, i, "rlimits", rlimit_one);
}

/* cap_add, cap_drop: as Docker, dropping "ALL" comes first (then the
 * additions are all there is), otherwise the additions come first (so
 * cap_add = { "ALL" } with cap_drop = { "NET_RAW" } is all but one). */
static int caps_list(struct apply *a, int i, const char *what, int add)
{
	lua_State *L = a->L;

	if (lua_isnil(L, i))
		return 0;
	if (lua_type(L, i) == LUA_TSTRING) { /* one name */
		CALL(a, add ? box_config_add_cap(a->cfg, lua_tostring(L, i)) :
			      box_config_drop_cap(a->cfg, lua_tostring(L, i)));
		return 0;
	}
	if (need_table(a, i, what) < 0)
		return -1;
	for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, i); k++) {
		int r;

		if (lua_geti(L, i, k) != LUA_TSTRING) {
			lua_pop(L, 1);
			return bad(a, EINVAL, "box.config: %s[%lld] must be a capability name", what,
				   (long long)k);
		}
		r = add ? box_config_add_cap(a->cfg, lua_tostring(L, -1)) :
			  box_config_drop_cap(a->cfg, lua_tostring(L, -1));
		lua_pop(L, 1);
		CALL(a, r);
	}
	return 0;
}

static int has_all(lua_State *L, int i)
{
	if (lua_type(L, i) == LUA_TSTRING)
		return strcasecmp(lua_tostring(L, i), "ALL") == 0;
	if (!lua_istable(L, i))
		return 0;
	for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, i); k++) {
		int all = lua_geti(L, i, k) == LUA_TSTRING && strcasecmp(lua_tostring(L, -1), "ALL") == 0;

		lua_pop(L, 1);
		if (all)
			return 1;
	}
	return 0;
}

static int set_caps(struct apply *a, int t)
{
	lua_State *L = a->L;
	int add, drop, r;

	lua_getfield(L, t, "cap_add");
	add = lua_gettop(L);
	lua_getfield(L, t, "cap_drop");
	drop = lua_gettop(L);
	if (has_all(L, drop))
		r = caps_list(a, drop, "cap_drop", 0) < 0 || caps_list(a, add, "cap_add", 1) < 0;
	else
		r = caps_list(a, add, "cap_add", 1) < 0 || caps_list(a, drop, "cap_drop", 0) < 0;
	lua_pop(L, 2);
	return r ? -1 : 0;
}

/* seccomp = "default" | "unconfined" | a profile's path */
static int set_seccomp(struct apply *a, int i)
{
	const char *s;

	if (get_str(a, i, "seccomp", &s) < 0)
		return -1;
	if (strcmp(s, "default") == 0)
		CALL(a, box_config_set_seccomp(a->cfg, BOX_SECCOMP_DEFAULT, NULL));
	else if (strcmp(s, "unconfined") == 0)
		CALL(a, box_config_set_seccomp(a->cfg, BOX_SECCOMP_UNCONFINED, NULL));
	else
		CALL(a, box_config_set_seccomp(a->cfg, BOX_SECCOMP_PROFILE, s));
	return 0;
}

/* stdio = { in, out, err }: each an fd, a Lua file (io.stdout), or
 * false/nil for /dev/null */
static int set_stdio(struct apply *a, int i)
{
	lua_State *L = a->L;
	int fd[3];

	if (need_table(a, i, "stdio") < 0)
		return -1;
	for (int k = 0; k < 3; k++) {
		luaL_Stream *f;

		lua_geti(L, i, k + 1);
		if (lua_isnil(L, -1) || (lua_isboolean(L, -1) && !lua_toboolean(L, -1))) {
			fd[k] = -1;
		} else if ((f = luaL_testudata(L, -1, LUA_FILEHANDLE))) {
			if (!f->closef || !f->f) {
				lua_pop(L, 1);
				return bad(a, EBADF, "box.config: stdio[%d] is a closed file", k + 1);
			}
			fflush(f->f);
			fd[k] = fileno(f->f);
		} else {
			lua_Integer v;

			if (get_int(a, lua_gettop(L), "stdio[]", &v) < 0) {
				lua_pop(L, 1);
				return -1;
			}
			if (v < -1 || v > INT_MAX) {
				lua_pop(L, 1);
				return bad(a, EBADF, "box.config: stdio[%d] = %lld is not an fd", k + 1,
					   (long long)v);
			}
			fd[k] = (int)v;
		}
		lua_pop(L, 1);
	}
	CALL(a, box_config_set_stdio(a->cfg, fd[0], fd[1], fd[2]));
	return 0;
}

static int set_name(struct apply *a, int i)
{
	const char *s;

	if (get_str(a, i, "name", &s) < 0)
		return -1;
	CALL(a, box_config_set_name(a->cfg, s));
	return 0;
}

/* Settings that are one string for one setter. */
#define STRING_SETTER(fn, key, setter)                   \
	static int fn(struct apply *a, int i)            \
	{                                                \
		const char *s;                           \
                                                         \
		if (get_str(a, i, key, &s) < 0)          \
			return -1;                       \
		CALL(a, setter(a->cfg, s));              \
		return 0;                                \
	}
STRING_SETTER(set_image, "image", box_config_set_image)
STRING_SETTER(set_id, "id", box_config_set_id)
STRING_SETTER(set_upper, "upper", box_config_set_upper)
STRING_SETTER(set_ip, "ip", box_config_set_ip)

/* network = "none" | "host" | "bridge" */
static int set_network(struct apply *a, int i)
{
	static const char *const modes[] = { "none", "host", "bridge" };
	const char *s;

	if (get_str(a, i, "network", &s) < 0)
		return -1;
	for (int m = 0; m < 3; m++)
		if (strcmp(s, modes[m]) == 0) {
			CALL(a, box_config_set_network(a->cfg, m + 1)); /* BOX_NET_NONE.. */
			return 0;
		}
	return bad(a, EINVAL, "box.config: network \"%s\": none, host or bridge", s);
}

/* dns = { "192.0.2.53", ... } */
static int set_dns(struct apply *a, int i)
{
	const char **v;
	int n;

	if (get_strv(a, i, "dns", &v, &n) < 0)
		return -1;
	for (int k = 0; k < n; k++) {
		int r = box_config_add_dns(a->cfg, v[k]);

		if (r < 0) {
			lua_pop(a->L, 2);
			return cfail(a, r);
		}
	}
	lua_pop(a->L, 2);
	return 0;
}

/* ports = { { host_port=8080, box_port=80 [, proto="udp"] [, host_ip=]
 *             [, count=] }, ... } */
static int set_ports(struct apply *a, int i)
{
	lua_State *L = a->L;

	if (need_table(a, i, "ports") < 0)
		return -1;
	for (lua_Integer k = 1;; k++) {
		uint32_t hp = 0, bp = 0, count = 1;
		const char *proto = "tcp", *ip = NULL;
		int t, r = 0;

		if (lua_geti(L, i, k) == LUA_TNIL) {
			lua_pop(L, 1);
			return 0;
		}
		t = lua_gettop(L);
		if (!lua_istable(L, t)) {
			lua_pop(L, 1);
			return bad(a, EINVAL, "box.config: ports[%d] must be a table", (int)k);
		}
		lua_getfield(L, t, "host_port");
		r = get_u32(a, lua_gettop(L), "ports[].host_port", &hp);
		lua_getfield(L, t, "box_port");
		if (r == 0)
			r = get_u32(a, lua_gettop(L), "ports[].box_port", &bp);
		lua_getfield(L, t, "count");
		if (r == 0 && !lua_isnil(L, -1))
			r = get_u32(a, lua_gettop(L), "ports[].count", &count);
		lua_getfield(L, t, "proto");
		if (r == 0 && !lua_isnil(L, -1))
			r = get_str(a, lua_gettop(L), "ports[].proto", &proto);
		lua_getfield(L, t, "host_ip");
		if (r == 0 && !lua_isnil(L, -1))
			r = get_str(a, lua_gettop(L), "ports[].host_ip", &ip);
		if (r == 0 && strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)
			r = bad(a, EINVAL, "box.config: ports[%d].proto \"%s\": tcp or udp", (int)k,
				proto);
		if (r == 0 && (hp > 65535 || bp > 65535 || count > 65535))
			r = bad(a, EINVAL, "box.config: ports[%d]: a port or count past 65535", (int)k);
		if (r == 0) {
			r = box_config_add_port(a->cfg, strcmp(proto, "udp") == 0 ? 17 : 6, ip,
						(uint16_t)hp, (uint16_t)bp, (uint16_t)count);
			if (r < 0)
				r = cfail(a, r);
		}
		lua_settop(L, t - 1);
		if (r < 0)
			return -1;
	}
}

static const struct {
	const char *name;
	int limit;
} limit_names[] = {
	{ "memory", BOX_LIMIT_MEMORY },
	{ "memory_swap", BOX_LIMIT_MEMORY_SWAP },
	{ "memory_reservation", BOX_LIMIT_MEMORY_RESERVATION },
	{ "cpu_quota", BOX_LIMIT_CPU_QUOTA },
	{ "cpu_period", BOX_LIMIT_CPU_PERIOD },
	{ "cpu_shares", BOX_LIMIT_CPU_SHARES },
	{ "cpu_weight", BOX_LIMIT_CPU_WEIGHT },
	{ "pids", BOX_LIMIT_PIDS },
	{ "io_weight", BOX_LIMIT_IO_WEIGHT },
};

static int limit_one(struct apply *a, const char *name, int v)
{
	lua_Integer val;
	char what[96];

	snprintf(what, sizeof(what), "limits.%s", name);
	for (size_t k = 0; k < sizeof(limit_names) / sizeof(limit_names[0]); k++) {
		if (strcmp(name, limit_names[k].name) != 0)
			continue;
		if (lua_type(a->L, v) == LUA_TSTRING && strcmp(lua_tostring(a->L, v), "max") == 0)
			val = -1;
		else if (get_int(a, v, what, &val) < 0)
			return -1;
		CALL(a, box_config_set_limit(a->cfg, limit_names[k].limit, (int64_t)val));
		return 0;
	}
	return bad(a, EINVAL, "box.config: unknown limit \"%s\"", name);
}

/* The limits are set in a fixed order (cpu_period before cpu_quota...),
 * not in the table's. */
static int set_limits(struct apply *a, int i)
{
	lua_State *L = a->L;

	if (need_table(a, i, "limits") < 0)
		return -1;
	lua_pushnil(L);
	while (lua_next(L, i)) { /* unknown names first: nothing set yet */
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		size_t j = 0;

		while (k && j < sizeof(limit_names) / sizeof(limit_names[0]) &&
		       strcmp(k, limit_names[j].name) != 0)
			j++;
		if (!k || j == sizeof(limit_names) / sizeof(limit_names[0])) {
			if (k)
				bad(a, EINVAL, "box.config: unknown limit \"%s\"", k);
			else
				bad(a, EINVAL, "box.config: limits: the keys must be strings");
			lua_pop(L, 2);
			return -1;
		}
		lua_pop(L, 1);
	}
	for (size_t j = 0; j < sizeof(limit_names) / sizeof(limit_names[0]); j++) {
		int r = 0;

		lua_getfield(L, i, limit_names[j].name);
		if (!lua_isnil(L, -1))
			r = limit_one(a, limit_names[j].name, lua_gettop(L));
		lua_pop(L, 1);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int set_cpuset(struct apply *a, int i)
{
	lua_State *L = a->L;
	const char *cpus, *mems;
	int top = lua_gettop(L), r;

	if (lua_type(L, i) == LUA_TSTRING) { /* cpuset = "0-1": the cpus */
		CALL(a, box_config_set_cpuset(a->cfg, lua_tostring(L, i), NULL));
		return 0;
	}
	if (need_table(a, i, "cpuset") < 0)
		return -1;
	if (opt_field(a, i, "cpus", "cpuset", &cpus) < 0 ||
	    opt_field(a, i, "mems", "cpuset", &mems) < 0) {
		lua_settop(L, top);
		return -1;
	}
	r = box_config_set_cpuset(a->cfg, cpus, mems);
	lua_settop(L, top);
	CALL(a, r);
	return 0;
}

static const char *const io_kinds[] = { "read_bps", "write_bps", "read_iops", "write_iops" };

/* io = { { device = "/dev/vda" or "8:0", kind = "read_bps"..., value = n }, ... } */
static int set_io(struct apply *a, int i)
{
	lua_State *L = a->L;

	if (need_table(a, i, "io") < 0)
		return -1;
	for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, i); k++) {
		int top = lua_gettop(L), m, kind = -1, r;
		const char *device;
		uint64_t value;

		lua_geti(L, i, k);
		m = lua_gettop(L);
		if (!lua_istable(L, m)) {
			lua_settop(L, top);
			return bad(a, EINVAL, "box.config: io[%lld] must be a table", (long long)k);
		}
		if (opt_field(a, m, "device", "io[]", &device) < 0) {
			lua_settop(L, top);
			return -1;
		}
		lua_getfield(L, m, "kind");
		if (lua_type(L, -1) == LUA_TSTRING) {
			for (int j = 0; j < 4; j++)
				if (strcmp(lua_tostring(L, -1), io_kinds[j]) == 0)
					kind = j;
		} else if (lua_isinteger(L, -1)) {
			lua_Integer v = lua_tointeger(L, -1);

			kind = v >= 0 && v <= INT_MAX ? (int)v : INT_MAX;
		}
		if (kind < 0 || !device) {
			lua_settop(L, top);
			return bad(a, EINVAL,
				   "box.config: io[%lld] needs a device and a kind (read_bps, write_bps, read_iops, write_iops)",
				   (long long)k);
		}
		lua_getfield(L, m, "value");
		if (get_u64(a, lua_gettop(L), "io[].value", &value) < 0) {
			lua_settop(L, top);
			return -1;
		}
		r = box_config_add_io_limit(a->cfg, device, kind, value);
		lua_settop(L, top);
		CALL(a, r);
	}
	return 0;
}

/* cgroup = "auto" | "on" | "off" (or true/false) */
static int set_cgroup(struct apply *a, int i)
{
	lua_State *L = a->L;
	int mode;

	if (lua_isboolean(L, i)) {
		mode = lua_toboolean(L, i) ? BOX_CGROUP_ON : BOX_CGROUP_OFF;
	} else if (lua_type(L, i) == LUA_TSTRING) {
		const char *s = lua_tostring(L, i);

		if (strcmp(s, "auto") == 0)
			mode = BOX_CGROUP_AUTO;
		else if (strcmp(s, "on") == 0)
			mode = BOX_CGROUP_ON;
		else if (strcmp(s, "off") == 0)
			mode = BOX_CGROUP_OFF;
		else
			return bad(a, EINVAL, "box.config: cgroup must be \"auto\", \"on\" or \"off\", not \"%s\"", s);
	} else {
		return bad(a, EINVAL, "box.config: cgroup must be \"auto\", \"on\" or \"off\"");
	}
	CALL(a, box_config_set_cgroup(a->cfg, mode));
	return 0;
}

/* In the order they are applied; cap_add and cap_drop by set_caps. */
static const struct {
	const char *key;
	int (*fn)(struct apply *a, int i);
} keys[] = {
	{ "argv", set_argv },
	{ "env", set_env },
	{ "cwd", set_cwd },
	{ "user", set_user },
	{ "groups", set_groups },
	{ "hostname", set_hostname },
	{ "namespaces", set_namespaces },
	{ "uid_map", set_uid_map },
	{ "gid_map", set_gid_map },
	{ "rootfs", set_rootfs },
	{ "readonly_root", set_readonly_root },
	{ "mounts", set_mounts },
	{ "rlimits", set_rlimits },
	{ "cap_add", NULL },
	{ "cap_drop", NULL },
	{ "seccomp", set_seccomp },
	{ "no_new_privs", set_no_new_privs },
	{ "stdio", set_stdio },
	{ "init", set_init },
	{ "no_pivot", set_no_pivot },
	{ "tty", set_tty },
	{ "name", set_name },
	{ "annotations", set_annotations },
	{ "limits", set_limits },
	{ "cpuset", set_cpuset },
	{ "io", set_io },
	{ "cgroup", set_cgroup },
	{ "image", set_image },
	{ "id", set_id },
	{ "upper", set_upper },
	{ "network", set_network },
	{ "ports", set_ports },
	{ "ip", set_ip },
	{ "dns", set_dns },
};

/* Apply the table at t to cfg: 0, or -1 with a->msg and a->err. */
static int apply_table(struct apply *a, int t)
{
	lua_State *L = a->L;

	/* unknown keys first, so that a typo changes nothing */
	lua_pushnil(L);
	while (lua_next(L, t)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		size_t j = 0;

		while (k && j < sizeof(keys) / sizeof(keys[0]) && strcmp(k, keys[j].key) != 0)
			j++;
		if (!k || j == sizeof(keys) / sizeof(keys[0])) {
			if (k)
				bad(a, EINVAL, "box.config: unknown setting \"%s\"", k);
			else
				bad(a, EINVAL, "box.config: the settings' keys must be strings, not %s",
				    type_of(L, -2));
			lua_pop(L, 2);
			return -1;
		}
		lua_pop(L, 1);
	}
	for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
		int r = 0;

		if (!keys[j].fn) {
			if (strcmp(keys[j].key, "cap_add") == 0 && set_caps(a, t) < 0)
				return -1;
			continue;
		}
		lua_getfield(L, t, keys[j].key);
		if (!lua_isnil(L, -1))
			r = keys[j].fn(a, lua_gettop(L));
		lua_pop(L, 1);
		if (r < 0)
			return -1;
	}
	return 0;
}

static struct lconfig *new_config(lua_State *L)
{
	struct lconfig *c = lua_newuserdatauv(L, sizeof(*c), 0);
	int r;

	c->cfg = NULL;
	luaL_setmetatable(L, CONFIG_MT);
	r = box_config_new(&c->cfg);
	if (r < 0)
		luaL_error(L, "box_config_new: %s", box_strerror(r));
	return c;
}

/* box.config([settings]) -> config | nil, message, errno */
static int l_config(lua_State *L)
{
	struct apply a = { .L = L };
	struct lconfig *c;

	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	c = new_config(L);
	a.cfg = c->cfg;
	if (!lua_isnil(L, 1) && apply_table(&a, 1) < 0) {
		box_config_free(c->cfg);
		c->cfg = NULL;
		lua_pushnil(L);
		lua_pushstring(L, a.msg);
		lua_pushinteger(L, a.err);
		return 3;
	}
	return 1;
}

/* box.config_from_oci(path) -> cfg | nil, message, errno: an OCI
 * bundle's config.json (box_config_from_oci) */
static int l_config_from_oci(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct lconfig *c;
	box_config *cfg = NULL;
	int r = box_config_from_oci(path, &cfg);

	if (r < 0)
		return fail(L, r);
	c = lua_newuserdatauv(L, sizeof(*c), 0);
	c->cfg = cfg;
	luaL_setmetatable(L, CONFIG_MT);
	return 1;
}

/* cfg:set{settings} -> cfg | nil, message, errno (what came before the
 * failing setting stays set) */
static int l_config_set(lua_State *L)
{
	struct lconfig *c = check_config(L, 1);
	struct apply a = { .L = L, .cfg = c->cfg };

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	if (apply_table(&a, 2) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, a.msg);
		lua_pushinteger(L, a.err);
		return 3;
	}
	lua_settop(L, 1);
	return 1;
}

/* The config at i: a box.config, or a table made into a temporary one
 * (pushed on the stack).  NULL with nil, message, errno pushed. */
static const box_config *arg_config(lua_State *L, int i)
{
	struct apply a = { .L = L };
	struct lconfig *c;

	if (!lua_istable(L, i))
		return check_config(L, i)->cfg;
	c = new_config(L);
	a.cfg = c->cfg;
	if (apply_table(&a, i) < 0) {
		lua_pushnil(L);
		lua_pushstring(L, a.msg);
		lua_pushinteger(L, a.err);
		return NULL;
	}
	return c->cfg;
}

static int l_config_gc(lua_State *L)
{
	struct lconfig *c = luaL_checkudata(L, 1, CONFIG_MT);

	box_config_free(c->cfg);
	c->cfg = NULL;
	return 0;
}

static int l_config_close(lua_State *L)
{
	l_config_gc(L);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_config_tostring(lua_State *L)
{
	struct lconfig *c = luaL_checkudata(L, 1, CONFIG_MT);

	lua_pushfstring(L, c->cfg ? "box.config (%p)" : "box.config (closed)", (void *)c);
	return 1;
}

/* ---------------------------------------------------------------------
 * Contexts
 * ------------------------------------------------------------------- */

/* box.context([{ state_dir=, store_dir=, cgroup_parent= }]) -> ctx | nil, message, errno */
static int l_context(lua_State *L)
{
	static const char *const names[] = { "state_dir", "store_dir", "cgroup_parent", "bridge",
					     "subnet" };
	int (*const set[])(box_ctx *, const char *) = { box_ctx_set_state_dir, box_ctx_set_store_dir,
						       box_ctx_set_cgroup_parent, box_ctx_set_bridge,
						       box_ctx_set_subnet };
	const size_t nnames = sizeof(names) / sizeof(names[0]);
	struct lctx *c;
	int r;

	if (!lua_isnoneornil(L, 1))
		luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	c = lua_newuserdatauv(L, sizeof(*c), 0);
	*c = (struct lctx){ 0 };
	luaL_setmetatable(L, CTX_MT);
	r = box_ctx_new(&c->ctx);
	if (r < 0)
		return fail(L, r);
	if (lua_isnil(L, 1))
		return 1;
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
		size_t j = 0;

		while (j < nnames && strcmp(k, names[j]) != 0)
			j++;
		if (j == nnames || lua_type(L, -1) != LUA_TSTRING) {
			lua_pushnil(L);
			if (j == nnames)
				lua_pushfstring(L, "box.context: unknown setting \"%s\"", k);
			else
				lua_pushfstring(L, "box.context: %s must be a string", k);
			lua_pushinteger(L, EINVAL);
			return 3;
		}
		r = set[j](c->ctx, lua_tostring(L, -1));
		if (r < 0)
			return fail(L, r);
		lua_pop(L, 1);
	}
	lua_settop(L, 2);
	return 1;
}

static int l_ctx_gc(lua_State *L)
{
	struct lctx *c = luaL_checkudata(L, 1, CTX_MT);

	c->closed = 1;
	ctx_release(c);
	return 0;
}

static int l_ctx_close(lua_State *L)
{
	l_ctx_gc(L);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_ctx_tostring(lua_State *L)
{
	struct lctx *c = luaL_checkudata(L, 1, CTX_MT);

	if (c->ctx && !c->closed)
		lua_pushfstring(L, "box.ctx (%s)", box_ctx_state_dir(c->ctx));
	else
		lua_pushliteral(L, "box.ctx (closed)");
	return 1;
}

static int l_ctx_state_dir(lua_State *L)
{
	lua_pushstring(L, box_ctx_state_dir(check_ctx(L, 1)->ctx));
	return 1;
}

static int l_ctx_store_dir(lua_State *L)
{
	lua_pushstring(L, box_ctx_store_dir(check_ctx(L, 1)->ctx));
	return 1;
}

static int l_ctx_cgroup_parent(lua_State *L)
{
	lua_pushstring(L, box_ctx_cgroup_parent(check_ctx(L, 1)->ctx));
	return 1;
}

/* A new box handle on the stack, holding the ctx userdata at ci; its box
 * is filled in by the caller (then call box_attach). */
static struct lbox *new_box(lua_State *L, int ci)
{
	struct lbox *b = lua_newuserdatauv(L, sizeof(*b), 1);

	*b = (struct lbox){ 0 };
	luaL_setmetatable(L, BOX_MT);
	lua_pushvalue(L, ci);
	lua_setiuservalue(L, -2, 1);
	return b;
}

static void box_attach(struct lbox *b, struct lctx *c, int owner)
{
	b->c = c;
	b->owner = owner;
	c->handles++;
}

/* ctx:create(cfg) -> box | nil, message, errno */
static int l_ctx_create(lua_State *L)
{
	struct lctx *c = check_ctx(L, 1);
	const box_config *cfg;
	struct lbox *b;
	int r;

	lua_settop(L, 2);
	if (!(cfg = arg_config(L, 2)))
		return 3;
	b = new_box(L, 1);
	r = box_create(c->ctx, cfg, &b->b);
	if (r < 0)
		return fail(L, r);
	box_attach(b, c, 1);
	return 1;
}

/* ctx:run(cfg) -> exit_code, signal | nil, message, errno */
static int l_ctx_run(lua_State *L)
{
	struct lctx *c = check_ctx(L, 1);
	const box_config *cfg;
	int code = -1, sig = 0, r;

	lua_settop(L, 2);
	if (!(cfg = arg_config(L, 2)))
		return 3;
	r = box_run(c->ctx, cfg, &code, &sig);
	if (r < 0)
		return fail(L, r);
	lua_pushinteger(L, code);
	lua_pushinteger(L, sig);
	return 2;
}

/* ctx:open(name_or_id) -> box | nil, message, errno */
static int l_ctx_open(lua_State *L)
{
	struct lctx *c = check_ctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	struct lbox *b = new_box(L, 1);
	int r = box_open(c->ctx, name, &b->b);

	if (r < 0)
		return fail(L, r);
	box_attach(b, c, 0);
	return 1;
}

struct idlist {
	char **v;
	size_t n, cap;
};

static int list_one(const char *id, void *user)
{
	struct idlist *l = user;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(id)))
		return -ENOMEM;
	l->n++;
	return 0;
}

/* ctx:list() -> { id, ... } | nil, message, errno */
static int l_ctx_list(lua_State *L)
{
	struct lctx *c = check_ctx(L, 1);
	struct idlist l = { 0 };
	int r = box_list(c->ctx, list_one, &l);

	if (r < 0) {
		for (size_t k = 0; k < l.n; k++)
			free(l.v[k]);
		free(l.v);
		if (r == -ENOMEM && !*box_last_error()) {
			lua_pushnil(L);
			lua_pushstring(L, "box_list: out of memory");
			lua_pushinteger(L, ENOMEM);
			return 3;
		}
		return fail(L, r);
	}
	/* copy into a table without a chance to throw with l held */
	if (!lua_checkstack(L, 4)) {
		for (size_t k = 0; k < l.n; k++)
			free(l.v[k]);
		free(l.v);
		return luaL_error(L, "stack overflow");
	}
	lua_createtable(L, l.n > INT_MAX ? INT_MAX : (int)l.n, 0);
	for (size_t k = 0; k < l.n; k++) {
		lua_pushstring(L, l.v[k]);
		lua_rawseti(L, -2, (lua_Integer)k + 1);
		free(l.v[k]);
	}
	free(l.v);
	return 1;
}

/* ctx:gc() -> number cleaned up | nil, message, errno */
/* A string the library made for us: pushed, then freed; NULL: the error. */
static int push_owned(lua_State *L, char *text)
{
	if (!text)
		return fail(L, -EIO);
	lua_pushstring(L, text);
	box_string_free(text);
	return 1;
}

/* ctx:default_image() -> id | nil, message, errno */
static int l_ctx_default_image(lua_State *L)
{
	char *id = NULL;
	int r = box_image_default(check_ctx(L, 1)->ctx, &id);

	return r < 0 ? fail(L, r) : push_owned(L, id);
}

/* ctx:load_image(path [, name]) -> the images' names, one a line */
static int l_ctx_load_image(lua_State *L)
{
	char *names = NULL;
	int r = box_image_load(check_ctx(L, 1)->ctx, luaL_checkstring(L, 2),
			       luaL_optstring(L, 3, NULL), &names);

	return r < 0 ? fail(L, r) : push_owned(L, names);
}

/* ctx:import_image(path, name) -> id */
static int l_ctx_import_image(lua_State *L)
{
	char *id = NULL;
	int r = box_image_import(check_ctx(L, 1)->ctx, luaL_checkstring(L, 2),
				 luaL_checkstring(L, 3), &id);

	return r < 0 ? fail(L, r) : push_owned(L, id);
}

/* ctx:images() -> JSON;  ctx:image_inspect(ref) -> JSON;
 * ctx:network_inspect([bridge]) -> JSON */
static int l_ctx_images(lua_State *L)
{
	return push_owned(L, box_image_list(check_ctx(L, 1)->ctx));
}

static int l_ctx_image_inspect(lua_State *L)
{
	return push_owned(L, box_image_inspect(check_ctx(L, 1)->ctx, luaL_checkstring(L, 2)));
}

static int l_ctx_network_inspect(lua_State *L)
{
	return push_owned(L, box_network_inspect(check_ctx(L, 1)->ctx, luaL_optstring(L, 2, NULL)));
}

/* ctx:remove_image(ref [, force]) -> true */
static int l_ctx_remove_image(lua_State *L)
{
	int r = box_image_remove(check_ctx(L, 1)->ctx, luaL_checkstring(L, 2), lua_toboolean(L, 3));

	if (r < 0)
		return fail(L, r);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_ctx_gc_boxes(lua_State *L)
{
	int r = box_gc(check_ctx(L, 1)->ctx);

	if (r < 0)
		return fail(L, r);
	lua_pushinteger(L, r);
	return 1;
}

/* ---------------------------------------------------------------------
 * box.sandbox(ctx, cfg, { timeout_ms=, output_cap= }) -> result table
 * ------------------------------------------------------------------- */

static int opt_int_field(lua_State *L, int t, const char *key, lua_Integer def, lua_Integer *out)
{
	int ok;

	lua_getfield(L, t, key);
	if (lua_isnil(L, -1)) {
		*out = def;
	} else {
		*out = lua_tointegerx(L, -1, &ok);
		if (!ok || *out < 0) {
			lua_pop(L, 1);
			lua_pushnil(L);
			lua_pushfstring(L, "box.sandbox: %s must be a non-negative integer", key);
			lua_pushinteger(L, EINVAL);
			return -1;
		}
	}
	lua_pop(L, 1);
	return 0;
}

static int sandbox(lua_State *L, int ci, int cfgi, int opti)
{
	struct lctx *c = check_ctx(L, ci);
	lua_Integer timeout_ms, cap;
	box_sandbox_result *res, **holder;
	const box_config *cfg;
	uint64_t peak;
	const char *s;
	size_t len;
	int r, trunc;

	if (!lua_isnoneornil(L, opti))
		luaL_checktype(L, opti, LUA_TTABLE);
	else {
		lua_newtable(L);
		lua_replace(L, opti);
	}
	if (opt_int_field(L, opti, "timeout_ms", 0, &timeout_ms) < 0 ||
	    opt_int_field(L, opti, "output_cap", 1 << 20, &cap) < 0)
		return 3;
	if (!(cfg = arg_config(L, cfgi)))
		return 3;
	/* the result is held by a userdata, freed by its __gc even if
	 * copying the output out of it runs out of memory */
	holder = lua_newuserdatauv(L, sizeof(*holder), 0);
	*holder = NULL;
	luaL_setmetatable(L, RESULT_MT);
	r = box_sandbox_run(c->ctx, cfg, (int64_t)timeout_ms, (int64_t)cap, holder);
	if (r < 0)
		return fail(L, r);
	res = *holder;
	lua_createtable(L, 0, 12);
	s = box_sandbox_stdout(res, &len);
	lua_pushlstring(L, s, len);
	lua_setfield(L, -2, "stdout");
	s = box_sandbox_stderr(res, &len);
	lua_pushlstring(L, s, len);
	lua_setfield(L, -2, "stderr");
	lua_pushinteger(L, box_sandbox_exit_code(res));
	lua_setfield(L, -2, "exit_code");
	lua_pushinteger(L, box_sandbox_signal(res));
	lua_setfield(L, -2, "signal");
	lua_pushboolean(L, box_sandbox_oom(res));
	lua_setfield(L, -2, "oom");
	lua_pushboolean(L, box_sandbox_timed_out(res));
	lua_setfield(L, -2, "timed_out");
	peak = box_sandbox_peak_memory(res);
	if (peak != UINT64_MAX) {
		push_u64(L, peak);
		lua_setfield(L, -2, "peak_memory");
	}
	lua_pushinteger(L, (lua_Integer)box_sandbox_wall_ms(res));
	lua_setfield(L, -2, "wall_ms");
	trunc = box_sandbox_truncated(res);
	lua_pushboolean(L, trunc & 1);
	lua_setfield(L, -2, "stdout_truncated");
	lua_pushboolean(L, (trunc & 2) != 0);
	lua_setfield(L, -2, "stderr_truncated");
	box_sandbox_result_free(res);
	*holder = NULL;
	return 1;
}

static int l_result_gc(lua_State *L)
{
	box_sandbox_result **holder = luaL_checkudata(L, 1, RESULT_MT);

	box_sandbox_result_free(*holder);
	*holder = NULL;
	return 0;
}

static int l_sandbox(lua_State *L)
{
	lua_settop(L, 3);
	return sandbox(L, 1, 2, 3);
}

/* ---------------------------------------------------------------------
 * Boxes
 * ------------------------------------------------------------------- */

/* Release the handle: destroy the box or only close the handle. */
static int release(struct lbox *b, int destroy)
{
	int r = 0;

	if (!b->b)
		return 0;
	if (destroy)
		r = box_destroy(b->b);
	else
		box_close(b->b);
	b->b = NULL;
	if (b->c) {
		ctx_unref(b->c);
		b->c = NULL;
	}
	return r;
}

/* __gc: the handle goes, the box stays (box_close) */
static int l_box_gc(lua_State *L)
{
	release(luaL_checkudata(L, 1, BOX_MT), 0);
	return 0;
}

/* __close: destroys what this handle made, closes what it opened */
static int l_box_tbc(lua_State *L)
{
	struct lbox *b = luaL_checkudata(L, 1, BOX_MT);

	release(b, b->owner);
	return 0;
}

static int l_box_close(lua_State *L)
{
	release(luaL_checkudata(L, 1, BOX_MT), 0);
	lua_pushboolean(L, 1);
	return 1;
}

static int l_box_destroy(lua_State *L)
{
	struct lbox *b = luaL_checkudata(L, 1, BOX_MT);
	int r;

	if (!b->b) {
		lua_pushboolean(L, 1);
		return 1;
	}
	r = release(b, 1);
	return result(L, r);
}

static int l_box_tostring(lua_State *L)
{
	struct lbox *b = luaL_checkudata(L, 1, BOX_MT);

	if (b->b)
		lua_pushfstring(L, "box.box (%s, %s)", box_name(b->b), box_id(b->b));
	else
		lua_pushliteral(L, "box.box (closed)");
	return 1;
}

static int l_box_start(lua_State *L)
{
	return result(L, box_start(check_box(L, 1)->b));
}

/* b:wait() -> exit_code, signal | nil, message, errno */
static int l_box_wait(lua_State *L)
{
	int code = -1, sig = 0, r = box_wait(check_box(L, 1)->b, &code, &sig);

	if (r < 0)
		return fail(L, r);
	lua_pushinteger(L, code);
	lua_pushinteger(L, sig);
	return 2;
}

/* b:kill([sig]) (default SIGTERM) */
static int l_box_kill(lua_State *L)
{
	struct lbox *b = check_box(L, 1);

	return result(L, box_kill(b->b, check_signal(L, 2, SIGTERM)));
}

/* b:kill_all([sig]) (default SIGKILL) */
static int l_box_kill_all(lua_State *L)
{
	struct lbox *b = check_box(L, 1);

	return result(L, box_kill_all(b->b, check_signal(L, 2, SIGKILL)));
}

static int push_fd(lua_State *L, int fd)
{
	if (fd < 0)
		lua_pushnil(L);
	else
		lua_pushinteger(L, fd);
	return 1;
}

static int l_box_pid(lua_State *L)
{
	return push_fd(L, box_pid(check_box(L, 1)->b));
}

static int l_box_pidfd(lua_State *L)
{
	return push_fd(L, box_pidfd(check_box(L, 1)->b));
}

static int l_box_tty_fd(lua_State *L)
{
	return push_fd(L, box_tty_fd(check_box(L, 1)->b));
}

static int l_box_id(lua_State *L)
{
	lua_pushstring(L, box_id(check_box(L, 1)->b));
	return 1;
}

/* b:ip() -> its address on the bridge, or nil */
static int l_box_ip(lua_State *L)
{
	const char *ip = box_ip(check_box(L, 1)->b);

	if (ip && *ip)
		lua_pushstring(L, ip);
	else
		lua_pushnil(L);
	return 1;
}

/* b:commit([name]) -> the new image's id */
static int l_box_commit(lua_State *L)
{
	char *id = NULL;
	int r = box_commit(check_box(L, 1)->b, luaL_optstring(L, 2, NULL), &id);

	return r < 0 ? fail(L, r) : push_owned(L, id);
}

static int l_box_name(lua_State *L)
{
	lua_pushstring(L, box_name(check_box(L, 1)->b));
	return 1;
}

/* b:status() -> "running", 2 | nil, message, errno */
static int l_box_status(lua_State *L)
{
	int s = box_status(check_box(L, 1)->b);

	if (s < 0)
		return fail(L, s);
	lua_pushstring(L, box_status_name(s));
	lua_pushinteger(L, s);
	return 2;
}

/* b:inspect() -> JSON string | nil, message, errno */
static int l_box_inspect(lua_State *L)
{
	struct lbox *b = check_box(L, 1);
	char *s;

	luaL_checkstack(L, 2, NULL);
	s = box_inspect(b->b);
	if (!s)
		return fail(L, -EIO);
	lua_pushstring(L, s); /* only throws on out of memory */
	box_string_free(s);
	return 1;
}

static const char *const stat_names[BOX_STAT_COUNT] = {
	[BOX_STAT_MEMORY_CURRENT] = "memory_current",
	[BOX_STAT_MEMORY_PEAK] = "memory_peak",
	[BOX_STAT_CPU_USER] = "cpu_user",
	[BOX_STAT_CPU_SYSTEM] = "cpu_system",
	[BOX_STAT_PIDS_CURRENT] = "pids_current",
	[BOX_STAT_IO_READ_BYTES] = "io_read_bytes",
	[BOX_STAT_IO_WRITE_BYTES] = "io_write_bytes",
	[BOX_STAT_MEMORY_LIMIT] = "memory_limit",
};

/* b:stats() -> { memory_current=, ... } (a value the host does not give,
 * or memory_limit when there is none, is absent) | nil, message, errno */
static int l_box_stats(lua_State *L)
{
	uint64_t v[BOX_STAT_COUNT];
	int n = box_stats(check_box(L, 1)->b, v, BOX_STAT_COUNT);

	if (n < 0)
		return fail(L, n);
	lua_createtable(L, 0, BOX_STAT_COUNT);
	for (int k = 0; k < n && k < BOX_STAT_COUNT; k++) {
		if (v[k] == UINT64_MAX)
			continue;
		push_u64(L, v[k]);
		lua_setfield(L, -2, stat_names[k]);
	}
	return 1;
}

/* b:pids() -> { pid, ... } | nil, message, errno */
static int l_box_pids(lua_State *L)
{
	struct lbox *b = check_box(L, 1);
	int max = 64, n, *pids;

	for (;;) {
		pids = lua_newuserdatauv(L, (size_t)max * sizeof(*pids), 0);
		n = box_pids(b->b, pids, max);
		if (n < 0)
			return fail(L, n);
		if (n <= max)
			break;
		lua_pop(L, 1);
		max = n + 16;
	}
	lua_createtable(L, n, 0);
	for (int k = 0; k < n; k++) {
		lua_pushinteger(L, pids[k]);
		lua_rawseti(L, -2, k + 1);
	}
	return 1;
}

static int l_box_pause(lua_State *L)
{
	return result(L, box_pause(check_box(L, 1)->b));
}

static int l_box_resume(lua_State *L)
{
	return result(L, box_resume(check_box(L, 1)->b));
}

/* b:update_limits(cfg or { limits = {...}, cpuset = {...}, io = {...} }) */
static int l_box_update_limits(lua_State *L)
{
	struct lbox *b = check_box(L, 1);
	const box_config *cfg;

	lua_settop(L, 2);
	if (!(cfg = arg_config(L, 2)))
		return 3;
	return result(L, box_update_limits(b->b, cfg));
}

/* b:exec(cfg) -> box (the exec'd process) | nil, message, errno */
static int l_box_exec(lua_State *L)
{
	struct lbox *b = check_box(L, 1), *e;
	const box_config *cfg;
	int r;

	lua_settop(L, 2);
	if (!(cfg = arg_config(L, 2)))
		return 3;
	lua_getiuservalue(L, 1, 1); /* the ctx */
	e = new_box(L, lua_gettop(L));
	r = box_exec(b->b, cfg, &e->b);
	if (r < 0)
		return fail(L, r);
	box_attach(e, b->c, 1);
	return 1;
}

/* b:oom_killed() -> boolean | nil, message, errno */
static int l_box_oom_killed(lua_State *L)
{
	int r = box_oom_killed(check_box(L, 1)->b);

	if (r < 0)
		return fail(L, r);
	lua_pushboolean(L, r);
	return 1;
}

static int l_box_cgroup(lua_State *L)
{
	const char *s = box_cgroup(check_box(L, 1)->b);

	if (s)
		lua_pushstring(L, s);
	else
		lua_pushnil(L);
	return 1;
}

static int l_box_rename(lua_State *L)
{
	struct lbox *b = check_box(L, 1);

	return result(L, box_rename(b->b, luaL_checkstring(L, 2)));
}

/* b:closed() -> true once closed or destroyed */
static int l_box_closed(lua_State *L)
{
	lua_pushboolean(L, ((struct lbox *)luaL_checkudata(L, 1, BOX_MT))->b == NULL);
	return 1;
}

/* ---------------------------------------------------------------------
 * The module
 * ------------------------------------------------------------------- */

static int l_version(lua_State *L)
{
	lua_pushstring(L, box_version());
	return 1;
}

/* box.monotonic() -> seconds of CLOCK_MONOTONIC, a float (os.clock is
 * CPU time, os.time whole seconds): for timing boxes */
static int l_monotonic(lua_State *L)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

static int l_strerror(lua_State *L)
{
	lua_pushstring(L, box_strerror((int)luaL_checkinteger(L, 1)));
	return 1;
}

static const luaL_Reg config_methods[] = {
	{ "set", l_config_set },
	{ "close", l_config_close },
	{ NULL, NULL },
};

static const luaL_Reg ctx_methods[] = {
	{ "create", l_ctx_create },
	{ "run", l_ctx_run },
	{ "open", l_ctx_open },
	{ "list", l_ctx_list },
	{ "gc", l_ctx_gc_boxes },
	{ "default_image", l_ctx_default_image },
	{ "load_image", l_ctx_load_image },
	{ "import_image", l_ctx_import_image },
	{ "images", l_ctx_images },
	{ "image_inspect", l_ctx_image_inspect },
	{ "remove_image", l_ctx_remove_image },
	{ "network_inspect", l_ctx_network_inspect },
	{ "sandbox", l_sandbox },
	{ "state_dir", l_ctx_state_dir },
	{ "store_dir", l_ctx_store_dir },
	{ "cgroup_parent", l_ctx_cgroup_parent },
	{ "close", l_ctx_close },
	{ NULL, NULL },
};

static const luaL_Reg box_methods[] = {
	{ "start", l_box_start },
	{ "wait", l_box_wait },
	{ "kill", l_box_kill },
	{ "kill_all", l_box_kill_all },
	{ "destroy", l_box_destroy },
	{ "close", l_box_close },
	{ "closed", l_box_closed },
	{ "pid", l_box_pid },
	{ "pidfd", l_box_pidfd },
	{ "tty_fd", l_box_tty_fd },
	{ "id", l_box_id },
	{ "name", l_box_name },
	{ "status", l_box_status },
	{ "inspect", l_box_inspect },
	{ "stats", l_box_stats },
	{ "pids", l_box_pids },
	{ "pause", l_box_pause },
	{ "resume", l_box_resume },
	{ "update_limits", l_box_update_limits },
	{ "exec", l_box_exec },
	{ "oom_killed", l_box_oom_killed },
	{ "cgroup", l_box_cgroup },
	{ "rename", l_box_rename },
	{ "ip", l_box_ip },
	{ "commit", l_box_commit },
	{ NULL, NULL },
};

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc,
		      lua_CFunction tbc, lua_CFunction tostring)
{
	luaL_newmetatable(L, name);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, tbc);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
}

static void set_int(lua_State *L, const char *name, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, name);
}

BOX_LUA_EXPORT int luaopen_box(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "version", l_version },
		{ "strerror", l_strerror },
		{ "monotonic", l_monotonic },
		{ "context", l_context },
		{ "config", l_config },
		{ "config_from_oci", l_config_from_oci },
		{ "sandbox", l_sandbox },
		{ NULL, NULL },
	};

	new_class(L, CTX_MT, ctx_methods, l_ctx_gc, l_ctx_gc, l_ctx_tostring);
	new_class(L, CONFIG_MT, config_methods, l_config_gc, l_config_gc, l_config_tostring);
	new_class(L, BOX_MT, box_methods, l_box_gc, l_box_tbc, l_box_tostring);

	luaL_newmetatable(L, RESULT_MT);
	lua_pushcfunction(L, l_result_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);

	luaL_newlib(L, funcs);
	lua_pushstring(L, box_version());
	lua_setfield(L, -2, "_VERSION");

	lua_createtable(L, 0, 10); /* box.NS */
	for (size_t k = 0; k < sizeof(ns_names) / sizeof(ns_names[0]); k++) {
		char up[16];
		size_t j;

		for (j = 0; ns_names[k].name[j] && j < sizeof(up) - 1; j++)
			up[j] = (char)(ns_names[k].name[j] - 'a' + 'A');
		up[j] = '\0';
		set_int(L, up, ns_names[k].flag);
	}
	set_int(L, "DEFAULT", BOX_NS_DEFAULT);
	set_int(L, "ALL", BOX_NS_ALL);
	lua_setfield(L, -2, "NS");

	lua_createtable(L, 0, 5); /* box.STATUS */
	set_int(L, "CREATED", BOX_STATUS_CREATED);
	set_int(L, "RUNNING", BOX_STATUS_RUNNING);
	set_int(L, "PAUSED", BOX_STATUS_PAUSED);
	set_int(L, "EXITED", BOX_STATUS_EXITED);
	set_int(L, "UNKNOWN", BOX_STATUS_UNKNOWN);
	lua_setfield(L, -2, "STATUS");

	lua_createtable(L, 0, (int)(sizeof(signals) / sizeof(signals[0]))); /* box.signals */
	for (size_t k = 0; k < sizeof(signals) / sizeof(signals[0]); k++)
		set_int(L, signals[k].name, signals[k].sig);
	lua_setfield(L, -2, "signals");
	return 1;
}
