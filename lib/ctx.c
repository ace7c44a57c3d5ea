/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* box_ctx: where state and images live. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

BOX_EXPORT int box_ctx_new(box_ctx **out)
{
	box_ctx *ctx;

	box_err_clear();
	if (!out)
		return box_err(EINVAL, "box_ctx_new: out is NULL");
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return box_err(ENOMEM, "box_ctx_new: out of memory");
	if (geteuid() == 0 || !getenv("XDG_RUNTIME_DIR") || getenv("XDG_RUNTIME_DIR")[0] != '/') {
		ctx->state_dir = strdup("/run/libbox");
	} else if (asprintf(&ctx->state_dir, "%s/libbox", getenv("XDG_RUNTIME_DIR")) < 0) {
		ctx->state_dir = NULL;
	}
	if (geteuid() == 0) {
		ctx->store_dir = strdup("/var/lib/libbox");
	} else {
		/* as podman: the user's own directories */
		const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

		if ((data && data[0] == '/' ? asprintf(&ctx->store_dir, "%s/libbox", data)
		     : home && home[0] == '/' ? asprintf(&ctx->store_dir, "%s/.local/share/libbox", home)
					      : -1) < 0)
			ctx->store_dir = NULL;
	}
	ctx->cgroup_parent = strdup("/libbox");
	ctx->bridge = strdup("box0");
	ctx->subnet = strdup("10.88.0.0/16");
	if (!ctx->state_dir || !ctx->store_dir || !ctx->cgroup_parent || !ctx->bridge ||
	    !ctx->subnet) {
		box_ctx_free(ctx);
		return box_err(ENOMEM, "box_ctx_new: out of memory");
	}
	*out = ctx;
	return 0;
}

BOX_EXPORT void box_ctx_free(box_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->state_dir);
	free(ctx->store_dir);
	free(ctx->cgroup_parent);
	free(ctx->bridge);
	free(ctx->subnet);
	free(ctx);
}

static int set_dir(char **slot, const char *what, const char *dir)
{
	char *copy;

	box_err_clear();
	if (!dir || dir[0] != '/')
		return box_err(EINVAL, "%s directory %s%s%s: must be an absolute path", what,
			       dir ? "\"" : "", dir ? dir : "(null)", dir ? "\"" : "");
	copy = strdup(dir);
	if (!copy)
		return box_err(ENOMEM, "%s directory: out of memory", what);
	free(*slot);
	*slot = copy;
	return 0;
}

BOX_EXPORT int box_ctx_set_state_dir(box_ctx *ctx, const char *dir)
{
	if (!ctx)
		return box_err(EINVAL, "box_ctx_set_state_dir: ctx is NULL");
	return set_dir(&ctx->state_dir, "state", dir);
}

BOX_EXPORT int box_ctx_set_store_dir(box_ctx *ctx, const char *dir)
{
	if (!ctx)
		return box_err(EINVAL, "box_ctx_set_store_dir: ctx is NULL");
	return set_dir(&ctx->store_dir, "store", dir);
}

BOX_EXPORT const char *box_ctx_state_dir(const box_ctx *ctx)
{
	return ctx ? ctx->state_dir : NULL;
}

BOX_EXPORT const char *box_ctx_store_dir(const box_ctx *ctx)
{
	return ctx ? ctx->store_dir : NULL;
}

BOX_EXPORT int box_ctx_set_cgroup_parent(box_ctx *ctx, const char *path)
{
	char *copy;

	box_err_clear();
	if (!ctx)
		return box_err(EINVAL, "box_ctx_set_cgroup_parent: ctx is NULL");
	if (!path || !path[0] || strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0 ||
	    strstr(path, "/../") || (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
		return box_err(EINVAL, "cgroup parent \"%s\": must be a path without \"..\"",
			       path ? path : "(null)");
	copy = strdup(path);
	if (!copy)
		return box_err(ENOMEM, "box_ctx_set_cgroup_parent: out of memory");
	free(ctx->cgroup_parent);
	ctx->cgroup_parent = copy;
	return 0;
}

BOX_EXPORT const char *box_ctx_cgroup_parent(const box_ctx *ctx)
{
	return ctx ? ctx->cgroup_parent : NULL;
}

BOX_EXPORT int box_ctx_set_bridge(box_ctx *ctx, const char *name)
{
	char *copy;

	box_err_clear();
	if (!ctx || !name)
		return box_err(EINVAL, "box_ctx_set_bridge: %s is NULL", !ctx ? "ctx" : "name");
	if (!name[0] || strlen(name) > 15 || strpbrk(name, "/: \t\n") || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strcmp(name, "ports") == 0)
		return box_err(EINVAL, "box_ctx_set_bridge: \"%s\" is not a usable interface name "
				       "(1-15 bytes, no '/', ':' or space)", name);
	copy = strdup(name);
	if (!copy)
		return box_err(ENOMEM, "box_ctx_set_bridge: out of memory");
	free(ctx->bridge);
	ctx->bridge = copy;
	return 0;
}

BOX_EXPORT int box_ctx_set_subnet(box_ctx *ctx, const char *cidr)
{
	uint32_t net;
	int prefix;
	char *copy;

	box_err_clear();
	if (!ctx || !cidr)
		return box_err(EINVAL, "box_ctx_set_subnet: %s is NULL", !ctx ? "ctx" : "subnet");
	if (box_parse_cidr(cidr, &net, &prefix) < 0)
		return box_err(EINVAL, "box_ctx_set_subnet: \"%s\" is not an IPv4 network "
				       "a.b.c.d/N (8 <= N <= 30, no host bits)", cidr);
	copy = strdup(cidr);
	if (!copy)
		return box_err(ENOMEM, "box_ctx_set_subnet: out of memory");
	free(ctx->subnet);
	ctx->subnet = copy;
	return 0;
}

BOX_EXPORT const char *box_ctx_bridge(const box_ctx *ctx)
{
	return ctx ? ctx->bridge : NULL;
}

BOX_EXPORT const char *box_ctx_subnet(const box_ctx *ctx)
{
	return ctx ? ctx->subnet : NULL;
}
