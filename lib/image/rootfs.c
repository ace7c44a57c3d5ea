/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A box's root from an image: the image's config as the box's defaults,
 * STORE/boxes/ID (upper, work, merged, short links to the layers) made in
 * the parent, and the overlay mounted by the child in its own mount
 * namespace (so nothing stays mounted on the host, whatever happens).
 *
 * Many layers: the kernel's `lowerdir+` (6.8+) takes one layer per
 * fsconfig call, so any number up to overlayfs's 500 fits.  Older kernels
 * have only `lowerdir=` (fsconfig strings stop at 256 bytes, mount(2)'s
 * data at a page): there the child chdirs into the box's link directory
 * and names the layers by short relative links 0, 1, ... (what podman's
 * l/ directory does, shorter). */
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "image/store.h"

/* ---- in the child ---- */

static int sys_fsopen(const char *fs, unsigned flags)
{
	return (int)syscall(SYS_fsopen, fs, flags);
}

static int sys_fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

int box_overlay_mount(const struct box_overlay *o, const char *target)
{
	int fd, mfd, r;

	if (o->data) {
		/* no lowerdir+ (before 6.8): mount(2) with the short links,
		 * relative to the link directory */
		if (chdir(o->linkdir) < 0)
			return -errno;
		return mount("overlay", target, "overlay", 0, o->data) < 0 ? -errno : 0;
	}
	fd = sys_fsopen("overlay", FSOPEN_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < o->nlowers; i++)
		if (sys_fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", o->lowers[i], 0) < 0)
			goto fail;
	if (sys_fsconfig(fd, FSCONFIG_SET_STRING, "upperdir", o->upper, 0) < 0 ||
	    sys_fsconfig(fd, FSCONFIG_SET_STRING, "workdir", o->work, 0) < 0 ||
	    sys_fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto fail;
	mfd = (int)syscall(SYS_fsmount, fd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		goto fail;
	close(fd);
	r = (int)syscall(SYS_move_mount, mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
	r = r < 0 ? -errno : 0;
	close(mfd);
	return r;
fail:
	r = -errno;
	close(fd);
	return r;
}

/* ---- in the parent ---- */

/* Whether the kernel takes lowerdir+ (6.8+): asked once per process. */
static bool has_lowerdir_plus(void)
{
	static int known = -1;
	int k = __atomic_load_n(&known, __ATOMIC_RELAXED);

	if (k < 0) {
		int fd = sys_fsopen("overlay", FSOPEN_CLOEXEC);

		/* a kernel whose overlayfs has no fs_context of its own (before
		 * 6.5) takes any key into mount(2)'s old data string and fails
		 * only at create: an unknown key must be refused first */
		k = fd >= 0 &&
		    sys_fsconfig(fd, FSCONFIG_SET_FLAG, "libbox-no-such-option", NULL, 0) < 0 &&
		    sys_fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", "/", 0) == 0;
		if (fd >= 0)
			close(fd);
		__atomic_store_n(&known, k, __ATOMIC_RELAXED);
	}
	return k;
}

static int mkdir_at(int dirfd, const char *name, mode_t mode)
{
	return mkdirat(dirfd, name, mode) < 0 && errno != EEXIST ? -errno : 0;
}

static char *env_key(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? strndup(kv, (size_t)(eq - kv)) : strdup(kv);
}

static bool env_has(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
			return true;
	return false;
}

/* Look name up in etc/passwd (group: etc/group) of the top-most layer
 * that has one (a plain root: one "layer").  A user is also found by its
 * number (for its primary group). */
static int lookup_id(char **dirs, size_t n, bool group, const char *name, uint32_t *id,
		     uint32_t *gid)
{
	for (size_t i = 0; i < n; i++) {
		int root = open(dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
		FILE *f;
		char line[1024];
		struct stat st;

		if (root < 0)
			continue;
		fd = box_open_in_root(root, group ? "etc/group" : "etc/passwd", O_RDONLY, false);
		if (fd < 0) {
			int w = box_open_in_root(root, group ? "etc/group" : "etc/passwd", O_PATH, false);

			close(root);
			if (w >= 0 && fstat(w, &st) == 0 && S_ISCHR(st.st_mode)) {
				close(w);
				break; /* a whiteout: deleted */
			}
			if (w >= 0)
				close(w);
			continue;
		}
		close(root);
		f = fdopen(fd, "re");
		if (!f) {
			close(fd);
			continue;
		}
		while (fgets(line, sizeof(line), f)) {
			char *save, *fname = strtok_r(line, ":", &save), *fid;

			if (!fname)
				continue;
			strtok_r(NULL, ":", &save); /* password */
			fid = strtok_r(NULL, ":", &save);
			if (!fid)
				continue;
			if (strcmp(fname, name) != 0 && (group || strcmp(fid, name) != 0))
				continue;
			*id = (uint32_t)strtoul(fid, NULL, 10);
			if (gid && (fid = strtok_r(NULL, ":", &save)))
				*gid = (uint32_t)strtoul(fid, NULL, 10);
			fclose(f);
			return 0;
		}
		fclose(f);
		break;
	}
	return -ENOENT;
}

int box_user_lookup(const char *user, char **dirs, size_t n, uint32_t *uid, uint32_t *gid)
{
	char u[256], *colon;
	char *end;
	bool gid_set = false;

	snprintf(u, sizeof(u), "%s", user);
	colon = strchr(u, ':');
	if (colon) {
		*colon++ = '\0';
		*gid = (uint32_t)strtoul(colon, &end, 10);
		if (*end || !*colon) {
			if (lookup_id(dirs, n, true, colon, gid, NULL) < 0)
				return box_err(ENOENT, "user \"%s\": no group %s in the box's /etc/group",
					       user, colon);
		}
		gid_set = true;
	}
	*uid = (uint32_t)strtoul(u, &end, 10);
	if (*end || !u[0]) {
		uint32_t g = 0;

		if (lookup_id(dirs, n, false, u, uid, &g) < 0)
			return box_err(ENOENT, "user \"%s\": no user %s in the box's /etc/passwd", user, u);
		if (!gid_set)
			*gid = g;
	} else if (!gid_set) {
		/* as docker: the user's group if /etc/passwd has it, else 0 */
		uint32_t same = 0, g = 0;

		*gid = lookup_id(dirs, n, false, u, &same, &g) == 0 ? g : 0;
	}
	return 0;
}

/* the defaults the image's config gives, where cfg did not set them */
static int apply_config(json_t *c, const struct box_config *cfg, struct box_config *local,
			char **dirs, size_t n, const char *ref)
{
	json_t *ep = json_object_get(c, "Entrypoint"), *cmd = json_object_get(c, "Cmd"), *v;
	size_t i, k = 0, ncmd = cfg->argv ? strv_len(cfg->argv) : json_array_size(cmd);
	size_t nenv = json_array_size(json_object_get(c, "Env"));
	const char *wd = json_string_value(json_object_get(c, "WorkingDir"));
	const char *user = json_string_value(json_object_get(c, "User"));
	char **argv = calloc(json_array_size(ep) + ncmd + 1, sizeof(char *));
	char **env = calloc(nenv + strv_len(cfg->env) + 1, sizeof(char *));

	local->argv = argv;
	local->env = env;
	if (!argv || !env)
		return box_err(ENOMEM, "out of memory");
	json_array_foreach(ep, i, v)
		if (json_string_value(v) && !(argv[k++] = strdup(json_string_value(v))))
			return box_err(ENOMEM, "out of memory");
	for (i = 0; i < ncmd; i++) {
		const char *a = cfg->argv ? cfg->argv[i] : json_string_value(json_array_get(cmd, i));

		if (a && !(argv[k++] = strdup(a)))
			return box_err(ENOMEM, "out of memory");
	}
	if (k == 0)
		return box_err(EINVAL, "image %s has no command (Cmd or Entrypoint): give one", ref);
	k = 0;
	json_array_foreach(json_object_get(c, "Env"), i, v) {
		const char *kv = json_string_value(v);
		char *key;

		if (!kv || !strchr(kv, '='))
			continue;
		key = env_key(kv);
		if (key && !env_has(cfg->env, key) && !(env[k++] = strdup(kv))) {
			free(key);
			return box_err(ENOMEM, "out of memory");
		}
		free(key);
	}
	for (i = 0; cfg->env && cfg->env[i]; i++)
		if (!(env[k++] = strdup(cfg->env[i])))
			return box_err(ENOMEM, "out of memory");
	local->cwd = strdup(!cfg->cwd_set && wd && wd[0] == '/' ? wd : cfg->cwd ? cfg->cwd : "/");
	if (!local->cwd)
		return box_err(ENOMEM, "out of memory");
	if (cfg->user_name || (!cfg->user_set && user && user[0])) {
		int r = box_user_lookup(cfg->user_name ? cfg->user_name : user, dirs, n, &local->uid,
					&local->gid);

		if (r < 0)
			return r;
		local->user_name = NULL; /* resolved: not again on the (unmounted) root */
	}
	return 0;
}

static int storage_of(box_ctx *ctx, int storedir)
{
	struct statfs sf;
	char buf[4096];
	ssize_t n;
	int fd;

	if (ctx->storage != BOX_STORAGE_AUTO)
		return ctx->storage;
	/* overlayfs cannot have an upper on overlayfs (nor on NFS, FUSE) */
	if (fstatfs(storedir, &sf) == 0 &&
	    (sf.f_type == OVERLAYFS_SUPER_MAGIC || sf.f_type == NFS_SUPER_MAGIC ||
	     sf.f_type == 0x65735546 /* FUSE */))
		return BOX_STORAGE_VFS;
	fd = open("/proc/filesystems", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return BOX_STORAGE_OVERLAY;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, "\toverlay\n") ? BOX_STORAGE_OVERLAY : BOX_STORAGE_VFS;
}

/* vfs: every layer's stream applied in turn to one directory */
static int vfs_root(struct store *s, json_t *img, const char *rootdir)
{
	struct box_unpack_opts o = {
		.mode = BOX_UNPACK_APPLY,
		.allow_devices = geteuid() == 0,
		.keep_owner = geteuid() == 0,
	};
	json_t *l;
	size_t i;
	int root = openat(s->dirfd, rootdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (root < 0)
		return box_err_errno(errno, "image store %s/%s", s->ctx->store_dir, rootdir);
	json_array_foreach(json_object_get(img, "layers"), i, l) {
		char path[128];
		int fd;

		store_blob_path(json_string_value(json_object_get(l, "digest")), path, sizeof(path));
		fd = openat(s->dirfd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = box_err_errno(errno, "image store %s/%s", s->ctx->store_dir, path);
			break;
		}
		r = box_layer_unpack(fd, root, &o, NULL);
		close(fd);
		if (r < 0)
			break;
	}
	close(root);
	return r;
}

static char *pathf(const char *fmt, const char *a, const char *b)
{
	char *p;

	return asprintf(&p, fmt, a, b) < 0 ? NULL : p;
}

static void overlay_free(struct box_overlay *o)
{
	if (!o)
		return;
	strv_free(o->lowers);
	free(o->upper);
	free(o->work);
	free(o->linkdir);
	free(o->data);
	free(o);
}

/* box_config_set_upper: the kept writable layer becomes name under dirfd
 * (a rename: it must be on the store's file system). */
static int take_upper(const struct box_config *cfg, int dirfd, const char *name, bool *moved)
{
	if (renameat(AT_FDCWD, cfg->upper, dirfd, name) < 0)
		return box_err_errno(errno, "the box's kept writable layer %s", cfg->upper);
	*moved = true;
	return 0;
}

/* ... and back where it was, when the box is not made after all. */
static void give_back_upper(const struct box_config *cfg, const char *dir)
{
	static const char *const names[] = { "upper", "rootfs" };
	char path[PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (rename(path, cfg->upper) == 0)
			return;
	}
}

int box_image_root(box_ctx *ctx, const struct box_config *cfg, const char *id,
		   struct box_config *local, char **dir, const char **storage, char **image_id)
{
	struct store s;
	json_t *img, *c = NULL, *usage = NULL;
	struct box_overlay *o = NULL;
	char rel[128], **dirs = NULL;
	size_t n = 0, i;
	int r, bdir = -1, mode;
	bool moved = false;
	json_t *l;

	*local = *cfg;
	local->argv = local->env = NULL;
	local->cwd = local->rootfs = NULL;
	local->overlay = NULL;
	*dir = NULL;
	*image_id = NULL;
	if (cfg->rootfs)
		return box_err(EINVAL, "box_create: both a root directory and an image are set");
	r = store_open(ctx, false, &s);
	if (r < 0)
		return r;
	img = store_find_image(&s, cfg->image, &r);
	if (!img)
		goto out;
	c = store_image_config(&s, img);
	if (!c) {
		r = box_err(EIO, "image %s: its config cannot be read", cfg->image);
		goto out;
	}
	mode = storage_of(ctx, s.dirfd);
	*storage = mode == BOX_STORAGE_VFS ? "vfs" : "overlay";
	n = json_array_size(json_object_get(img, "layers"));
	if (n == 0 || n > 500) {
		r = box_err(E2BIG, "image %s: %zu layers (overlayfs takes 1 to 500)", cfg->image, n);
		goto out;
	}
	dirs = calloc(n + 1, sizeof(char *));
	if (!dirs) {
		r = box_err(ENOMEM, "out of memory");
		goto out;
	}
	/* the top layer first */
	json_array_foreach(json_object_get(img, "layers"), i, l)
		if (!(dirs[n - 1 - i] = pathf("%s/layers/%s/diff", ctx->store_dir,
					      json_string_value(json_object_get(l, "chain")) + 7))) {
			r = box_err(ENOMEM, "out of memory");
			goto out;
		}
	r = apply_config(json_object_get(c, "config"), cfg, local, dirs, n, cfg->image);
	if (r < 0)
		goto out;

	/* STORE/boxes/ID: what it uses first (the sweep keeps those layers) */
	snprintf(rel, sizeof(rel), "boxes/%s", id);
	if (mkdirat(s.dirfd, rel, 0700) < 0 ||
	    (bdir = openat(s.dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = box_err_errno(errno, "image store %s/%s", ctx->store_dir, rel);
		goto out;
	}
	*dir = pathf("%s/%s", ctx->store_dir, rel);
	*image_id = strdup(json_string_value(json_object_get(img, "id")));
	usage = json_pack("{s:O, s:s, s:O, s:s}", "image", json_object_get(img, "id"), "ref",
			  cfg->image, "layers", json_object_get(img, "layers"), "storage", *storage);
	{
		char *text = usage ? json_dumps(usage, JSON_COMPACT) : NULL;
		int fd = openat(bdir, "image.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		ssize_t w = fd >= 0 && text ? write(fd, text, strlen(text)) : -1;

		/* no fsync: after a crash of the machine the box is gone too */
		if (!*dir || !*image_id || !text || fd < 0 || w != (ssize_t)strlen(text)) {
			r = box_err_errno(errno ? errno : ENOMEM, "image store %s/%s/image.json",
					  ctx->store_dir, rel);
			free(text);
			if (fd >= 0)
				close(fd);
			goto out;
		}
		free(text);
		close(fd);
	}
	if (mode == BOX_STORAGE_VFS) {
		char sub[160];

		snprintf(sub, sizeof(sub), "%s/rootfs", rel);
		if (cfg->upper) {
			/* the copy is the writable layer: the kept one is the root */
			r = take_upper(cfg, s.dirfd, sub, &moved);
		} else {
			r = mkdir_at(s.dirfd, sub, 0755);
			if (r == 0)
				r = vfs_root(&s, img, sub);
			else
				r = box_err_errno(-r, "image store %s/%s", ctx->store_dir, sub);
		}
		if (r == 0 && !(local->rootfs = pathf("%s/%s", *dir, "rootfs")))
			r = box_err(ENOMEM, "out of memory");
		goto out;
	}
	if (cfg->upper && (r = take_upper(cfg, bdir, "upper", &moved)) < 0)
		goto out;
	if ((!cfg->upper && (r = mkdir_at(bdir, "upper", 0755)) < 0) ||
	    (r = mkdir_at(bdir, "work", 0700)) < 0 ||
	    (r = mkdir_at(bdir, "merged", 0755)) < 0 || (r = mkdir_at(bdir, "l", 0700)) < 0) {
		r = box_err_errno(-r, "image store %s/%s", ctx->store_dir, rel);
		goto out;
	}
	o = calloc(1, sizeof(*o));
	if (!o || !(o->upper = pathf("%s/%s", *dir, "upper")) ||
	    !(o->work = pathf("%s/%s", *dir, "work")) || !(o->linkdir = pathf("%s/%s", *dir, "l")) ||
	    !(local->rootfs = pathf("%s/%s", *dir, "merged"))) {
		r = box_err(ENOMEM, "out of memory");
		goto out;
	}
	o->lowers = TAKE_PTR(dirs);
	o->nlowers = n;
	/* links only for a kernel without lowerdir+ */
	if (!has_lowerdir_plus()) {
		size_t cap = 64 + strlen(o->upper) + strlen(o->work) + n * 5;
		size_t len;
		int lfd = openat(bdir, "l", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		o->data = malloc(cap);
		if (!o->data || lfd < 0) {
			if (lfd >= 0)
				close(lfd);
			r = box_err(ENOMEM, "out of memory");
			goto out;
		}
		len = (size_t)snprintf(o->data, cap, "lowerdir=");
		for (i = 0; i < n; i++) {
			char name[16];

			snprintf(name, sizeof(name), "%zx", i);
			if (symlinkat(o->lowers[i], lfd, name) < 0 && errno != EEXIST) {
				r = box_err_errno(errno, "image store %s/l/%s", *dir, name);
				close(lfd);
				goto out;
			}
			len += (size_t)snprintf(o->data + len, cap - len, "%s%s", i ? ":" : "", name);
		}
		close(lfd);
		snprintf(o->data + len, cap - len, ",upperdir=%s,workdir=%s", o->upper, o->work);
		if (strlen(o->data) >= 4096) {
			r = box_err(E2BIG, "image %s: %zu layers: the mount options (%zu bytes) do not "
					   "fit in a page on this kernel (no lowerdir+)",
				    cfg->image, n, strlen(o->data));
			goto out;
		}
	}
	local->overlay = TAKE_PTR(o);
	r = 0;
out:
	overlay_free(o);
	if (r < 0 && moved)
		give_back_upper(cfg, *dir);
	if (bdir >= 0)
		close(bdir);
	if (r < 0 && *dir) {
		store_rm_rf(s.dirfd, rel);
		free(*dir);
		*dir = NULL;
	}
	if (r < 0) {
		free(*image_id);
		*image_id = NULL;
		box_image_root_free(local, cfg);
	}
	strv_free(dirs);
	json_decref(c);
	json_decref(usage);
	store_close(&s);
	return r;
}

void box_image_root_free(struct box_config *local, const struct box_config *cfg)
{
	struct box_overlay *o = (struct box_overlay *)local->overlay;

	if (local->argv != cfg->argv)
		strv_free(local->argv);
	if (local->env != cfg->env)
		strv_free(local->env);
	if (local->cwd != cfg->cwd)
		free(local->cwd);
	if (local->rootfs != cfg->rootfs)
		free(local->rootfs);
	local->argv = local->env = NULL;
	local->cwd = local->rootfs = NULL;
	overlay_free(o);
	local->overlay = NULL;
}

void box_image_abandon(const char *dir, const struct box_config *cfg)
{
	if (cfg->upper)
		give_back_upper(cfg, dir);
	box_image_release(dir);
}

int box_image_release(const char *dir)
{
	int r = store_rm_rf(AT_FDCWD, dir);

	return r < 0 ? box_err_errno(-r, "removing %s", dir) : 0;
}
