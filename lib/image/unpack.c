/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* box_layer_unpack: a tar stream into a directory, safely.
 *
 * Every name is cleaned first: an absolute name or one with a ".."
 * component is refused, "." components and repeated slashes go.  The
 * parent directory of each entry is then opened below the root with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), or created component by
 * component with O_NOFOLLOW: a symlink on the way is refused, never
 * followed.  The entry itself is created relative to that parent with
 * O_EXCL / mkdirat / symlinkat / mknodat / linkat, none of which follows
 * a symlink in the last component; what was there before is removed
 * first (replaced, never written through).  Directories get their mode
 * and mtime at the end, once nothing more is created in them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "internal.h"
#include "image/layer.h"
#include "image/pathset.h"
#include "image/stream.h"
#include "image/tar.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define PROGRESS_STEP (1u << 20)

struct dirfix {
	char *path;
	mode_t mode;
	struct timespec mtime;
};

struct unpack {
	int root;
	const struct box_unpack_opts *o;
	struct box_in *in;
	struct tar_entry e;
	char path[PATH_MAX];   /* e.path, cleaned; "" is the root */
	char cached[PATH_MAX]; /* the parent directory cached_fd is */
	int cached_fd;
	struct dirfix *dirs;
	size_t ndirs, capdirs;
	struct box_pathset made; /* BOX_UNPACK_APPLY: what this layer made */
	uint64_t unpacked, entries, reported;
};

/* ---- names ---- */

/* Clean name into out: refuse absolute names and "..", drop "." and empty
 * components.  "" (the root) for "." or "./". */
static int clean_name(const char *entry, const char *name, char *out, const char *what)
{
	size_t n = 0;

	if (name[0] == '/')
		return box_err(EPERM, "layer: entry \"%s\": %s \"%s\" is an absolute path", entry, what, name);
	for (const char *p = name; *p;) {
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return box_err(EPERM, "layer: entry \"%s\": %s \"%s\" has a \"..\" component",
				       entry, what, name);
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (n + len + 2 > PATH_MAX)
				return box_err(ENAMETOOLONG, "layer: entry \"%s\": %s is too long", entry,
					       what);
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p = *end ? end + 1 : end;
	}
	out[n] = '\0';
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ---- directories below the root ---- */

static int openat2_beneath(int root, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	do
		fd = (int)syscall(SYS_openat2, root, path[0] ? path : ".", &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

static int dir_error(struct unpack *u, int err, const char *dir)
{
	if (err == ELOOP)
		return box_err(EPERM, "layer: entry \"%s\": its parent \"%s\" is (or passes through) a symlink",
			       u->e.path, dir);
	if (err == ENOTDIR)
		return box_err(ENOTDIR, "layer: entry \"%s\": its parent \"%s\" is not a directory",
			       u->e.path, dir);
	return box_err_errno(err, "layer: entry \"%s\": opening its parent \"%s\"", u->e.path, dir);
}

/* Open dir (cleaned, relative to the root) component by component with
 * O_NOFOLLOW, creating what is missing when create is set.  Returns a new
 * fd or -errno (no message). */
static int walk_dir(struct unpack *u, const char *dir, bool create)
{
	char buf[PATH_MAX];
	_cleanup_close_ int cur = openat(u->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (cur < 0)
		return -errno;
	strcpy(buf, dir);
	for (char *p = buf; *p;) {
		char *end = strchrnul(p, '/');
		bool last = !*end;
		int fd;

		*end = '\0';
		fd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST)
				return -errno;
			/* buf is the path up to here */
			if (u->o->mode == BOX_UNPACK_APPLY && box_pathset_add(&u->made, buf) < 0)
				return -ENOMEM;
			fd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			return -errno;
		close(cur);
		cur = fd;
		if (!last)
			*end = '/';
		p = last ? end : end + 1;
	}
	return TAKE_FD(cur);
}

static int open_dir(struct unpack *u, const char *dir, bool create)
{
	int fd = openat2_beneath(u->root, dir);

	/* missing parts; or no openat2 (an old kernel, or a seccomp filter
	 * that refuses what it does not know) */
	if (fd == -ENOENT || fd == -ENOSYS || fd == -EPERM)
		fd = walk_dir(u, dir, create);
	return fd;
}

static void drop_cache(struct unpack *u)
{
	if (u->cached_fd >= 0)
		close(u->cached_fd);
	u->cached_fd = -1;
}

/* The directory an entry goes in (created if missing), and its last
 * component in *base.  The fd belongs to u (do not close it). */
static int parent_of(struct unpack *u, const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t len;
	int fd;

	*base = slash ? slash + 1 : path;
	if (!slash)
		return u->root;
	len = (size_t)(slash - path);
	if (u->cached_fd >= 0 && strncmp(u->cached, path, len) == 0 && u->cached[len] == '\0')
		return u->cached_fd;
	drop_cache(u);
	memcpy(u->cached, path, len);
	u->cached[len] = '\0';
	fd = open_dir(u, u->cached, true);
	if (fd < 0)
		return dir_error(u, -fd, u->cached);
	u->cached_fd = fd;
	return fd;
}

/* rm -rf name in dirfd, never following a symlink. */
static int remove_tree(int at, const char *name)
{
	_cleanup_close_ int fd = -1;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1; /* the DIR has it */
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = remove_tree(dirfd(d), de->d_name);
	}
	closedir(d);
	if (r == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

/* What is at base in pfd goes (a directory with all it holds): the entry
 * replaces it. */
static int replace(struct unpack *u, int pfd, const char *base)
{
	int r = remove_tree(pfd, base);

	/* a removed directory may be the cached parent, or hold it */
	drop_cache(u);
	if (r < 0)
		return box_err_errno(-r, "layer: entry \"%s\": removing what was there", u->e.path);
	return 0;
}

/* ---- metadata ---- */

static struct timespec entry_mtime(const struct tar_entry *e)
{
	return (struct timespec){ .tv_sec = (time_t)e->mtime, .tv_nsec = e->mtime_nsec };
}

/* Which xattrs a layer may set: user.* and security.* (capabilities,
 * SELinux labels).  trusted.* (overlayfs' own among them) and the
 * user.overlay.* of an unprivileged overlay would let a layer redirect
 * overlayfs lookups: never from an archive. */
static bool xattr_allowed(const char *name)
{
	if (strncmp(name, "user.overlay.", 13) == 0)
		return false;
	return strncmp(name, "user.", 5) == 0 || strncmp(name, "security.", 9) == 0;
}

static int set_xattrs(struct unpack *u, int fd)
{
	for (size_t i = 0; i < u->e.nxattrs; i++) {
		const struct tar_xattr *x = &u->e.xattrs[i];

		if (!xattr_allowed(x->name))
			continue;
		if (fsetxattr(fd, x->name, x->value, x->len, 0) < 0) {
			/* a label the host's LSM does not take is not the layer's fault */
			if (strcmp(x->name, "security.selinux") == 0)
				continue;
			return box_err_errno(errno, "layer: entry \"%s\": setting xattr %s", u->e.path,
					     x->name);
		}
	}
	return 0;
}

/* Owner, then mode (chown clears setuid), then xattrs (chown clears
 * security.capability), then times, on an open file. */
static int meta_fd(struct unpack *u, int fd)
{
	struct timespec ts[2] = { entry_mtime(&u->e), entry_mtime(&u->e) };

	if (u->o->keep_owner && fchown(fd, u->e.uid, u->e.gid) < 0)
		return box_err_errno(errno, "layer: entry \"%s\": chown %" PRIu32 ":%" PRIu32, u->e.path,
				     u->e.uid, u->e.gid);
	if (fchmod(fd, u->e.mode) < 0)
		return box_err_errno(errno, "layer: entry \"%s\": chmod", u->e.path);
	int r = set_xattrs(u, fd);

	if (r < 0)
		return r;
	if (futimens(fd, ts) < 0)
		return box_err_errno(errno, "layer: entry \"%s\": setting its mtime", u->e.path);
	return 0;
}

/* The same by name, for what cannot be opened (symlinks, fifos,
 * devices); chmod follows, so not for symlinks. */
static int meta_at(struct unpack *u, int pfd, const char *base, bool chmod_too)
{
	struct timespec ts[2] = { entry_mtime(&u->e), entry_mtime(&u->e) };

	if (u->o->keep_owner && fchownat(pfd, base, u->e.uid, u->e.gid, AT_SYMLINK_NOFOLLOW) < 0)
		return box_err_errno(errno, "layer: entry \"%s\": chown %" PRIu32 ":%" PRIu32, u->e.path,
				     u->e.uid, u->e.gid);
	if (chmod_too && fchmodat(pfd, base, u->e.mode, 0) < 0)
		return box_err_errno(errno, "layer: entry \"%s\": chmod", u->e.path);
	if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return box_err_errno(errno, "layer: entry \"%s\": setting its mtime", u->e.path);
	return 0;
}

/* ---- reading the stream ---- */

static int truncated(struct unpack *u)
{
	return box_err(EBADMSG, "layer: entry \"%s\": truncated (the stream ends inside its data)",
		       u->e.path ? u->e.path : "?");
}

/* Skip n bytes of the stream. */
static int skip(struct unpack *u, uint64_t n)
{
	while (n > 0) {
		const unsigned char *p;
		ssize_t avail = box_in_peek(u->in, &p);

		if (avail < 0)
			return (int)avail;
		if (avail == 0)
			return truncated(u);
		if ((uint64_t)avail > n)
			avail = (ssize_t)n;
		box_in_consume(u->in, (size_t)avail);
		n -= (uint64_t)avail;
	}
	return 0;
}

static uint64_t padding(uint64_t size)
{
	return (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
}

/* Copy size bytes of data into fd, then skip the padding. */
static int copy_data(struct unpack *u, int fd, uint64_t size)
{
	uint64_t left = size;

	while (left > 0) {
		const unsigned char *p;
		ssize_t avail = box_in_peek(u->in, &p), w;

		if (avail < 0)
			return (int)avail;
		if (avail == 0)
			return truncated(u);
		if ((uint64_t)avail > left)
			avail = (ssize_t)left;
		w = write(fd, p, (size_t)avail);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return box_err_errno(errno, "layer: entry \"%s\": writing", u->e.path);
		box_in_consume(u->in, (size_t)w);
		left -= (uint64_t)w;
	}
	return skip(u, padding(size));
}

/* An extended header's data (pax, GNU long name), NUL-terminated. */
static int read_extended(struct unpack *u, uint64_t size, const char *name, char **out)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	if (size > TAR_MAX_EXTENDED)
		return box_err(EFBIG, "layer: entry \"%s\": an extended header of %" PRIu64 " bytes", name,
			       size);
	buf = malloc(size + 1);
	if (!buf)
		return box_err(ENOMEM, "layer: out of memory");
	r = box_in_read(u->in, buf, size, NULL);
	if (r == -ENODATA)
		return box_err(EBADMSG, "layer: entry \"%s\": truncated extended header", name);
	if (r < 0)
		return r;
	buf[size] = '\0';
	r = skip(u, padding(size));
	if (r < 0)
		return r;
	*out = TAKE_PTR(buf);
	return 0;
}

/* The data of an entry counts against max_bytes, whether written or not. */
static int check_size(struct unpack *u)
{
	uint64_t max = u->o->max_bytes;

	if (max && (u->e.size > max || u->unpacked > max - u->e.size))
		return box_err(EFBIG,
			       "layer: entry \"%s\": its %" PRIu64 " bytes take the layer past its limit of %" PRIu64 " bytes",
			       u->e.path, u->e.size, max);
	u->unpacked += u->e.size;
	return 0;
}

/* One header block: 1 with a block, 0 at the end of the archive (two zero
 * blocks), or -errno. */
static int read_block(struct unpack *u, unsigned char *b)
{
	size_t got;
	int r = box_in_read(u->in, b, TAR_BLOCK, &got);

	if (r == -ENODATA && got == 0)
		return box_err(EBADMSG, "layer: truncated tar stream (no end-of-archive blocks)");
	if (r == -ENODATA)
		return box_err(EBADMSG, "layer: truncated tar header");
	if (r < 0)
		return r;
	if (!tar_block_is_zero(b))
		return 1;
	r = box_in_read(u->in, b, TAR_BLOCK, &got);
	if (r == -ENODATA)
		return box_err(EBADMSG, "layer: truncated tar stream (one end-of-archive block of two)");
	if (r < 0)
		return r;
	if (!tar_block_is_zero(b))
		return box_err(EBADMSG, "layer: a zero block inside the archive");
	return 0;
}

/* An extended header (pax, global pax, GNU long name or link), folded
 * into u->e. */
static int extended(struct unpack *u, const unsigned char *b, char type)
{
	struct tar_entry h = { 0 };
	char name[256], t, *data = NULL;
	uint64_t size;
	int r = tar_parse_header(b, &h, &t);

	size = h.size;
	tar_entry_reset(&h);
	if (r < 0)
		return r;
	tar_header_name(b, name, sizeof(name));
	if (type == 'g') /* global: nothing in it applies to a layer */
		return skip(u, size + padding(size));
	if ((r = read_extended(u, size, name, &data)) < 0)
		return r;
	if (type == 'x') {
		r = tar_parse_pax(data, size, &u->e, name);
		free(data);
		return r;
	}
	if (strlen(data) > TAR_MAX_NAME) {
		free(data);
		return box_err(ENAMETOOLONG, "layer: entry \"%s\": a GNU long name over %d bytes", name,
			       TAR_MAX_NAME);
	}
	char **dst = type == 'L' ? &u->e.path : &u->e.link;

	free(*dst);
	*dst = data;
	return 0;
}

/* The next entry's headers (extended ones folded in) into u->e: its
 * type, or 0 at the end, or -errno. */
static int next_entry(struct unpack *u)
{
	unsigned char b[TAR_BLOCK];

	tar_entry_reset(&u->e);
	for (;;) {
		char type;
		int r = read_block(u, b);

		if (r <= 0)
			return r;
		type = (char)b[156];
		if (type != 'x' && type != 'g' && type != 'L' && type != 'K')
			return (r = tar_parse_header(b, &u->e, &type)) < 0 ? r : (type ? (unsigned char)type : (int)'0');
		if ((r = extended(u, b, type)) < 0)
			return r;
	}
}

/* ---- entries ---- */

static int make_file(struct unpack *u)
{
	const char *base;
	int pfd = parent_of(u, u->path, &base), r;
	_cleanup_close_ int fd = -1;

	if (pfd < 0)
		return pfd;
	for (int tries = 0;; tries++) {
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST || tries > 0)
			break;
		if ((r = replace(u, pfd, base)) < 0)
			return r;
		if ((pfd = parent_of(u, u->path, &base)) < 0)
			return pfd;
	}
	if (fd < 0)
		return box_err_errno(errno, "layer: entry \"%s\": creating it", u->e.path);
	r = copy_data(u, fd, u->e.size);
	if (r < 0)
		return r;
	return meta_fd(u, fd);
}

static int fix_later(struct unpack *u)
{
	struct dirfix *d;

	if (u->ndirs == u->capdirs) {
		size_t cap = u->capdirs ? u->capdirs * 2 : 256;

		d = realloc(u->dirs, cap * sizeof(*d));
		if (!d)
			return box_err(ENOMEM, "layer: out of memory");
		u->dirs = d;
		u->capdirs = cap;
	}
	d = &u->dirs[u->ndirs];
	d->path = strdup(u->path);
	if (!d->path)
		return box_err(ENOMEM, "layer: out of memory");
	d->mode = u->e.mode;
	d->mtime = entry_mtime(&u->e);
	u->ndirs++;
	return 0;
}

static int make_dir(struct unpack *u)
{
	const char *base;
	int pfd, r;
	struct stat st;
	_cleanup_close_ int fd = -1;

	if (!u->path[0]) { /* the root itself */
		if (u->o->keep_owner && fchown(u->root, u->e.uid, u->e.gid) < 0)
			return box_err_errno(errno, "layer: entry \"%s\": chown", u->e.path);
		if ((r = set_xattrs(u, u->root)) < 0)
			return r;
		return fix_later(u);
	}
	if ((pfd = parent_of(u, u->path, &base)) < 0)
		return pfd;
	if (mkdirat(pfd, base, 0700) < 0) {
		if (errno != EEXIST)
			return box_err_errno(errno, "layer: entry \"%s\": mkdir", u->e.path);
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
			if ((r = replace(u, pfd, base)) < 0)
				return r;
			if ((pfd = parent_of(u, u->path, &base)) < 0)
				return pfd;
			if (mkdirat(pfd, base, 0700) < 0)
				return box_err_errno(errno, "layer: entry \"%s\": mkdir", u->e.path);
		}
	}
	if (u->e.nxattrs == 0) {
		/* the common case: by name (two syscalls fewer per directory) */
		if (u->o->keep_owner &&
		    fchownat(pfd, base, u->e.uid, u->e.gid, AT_SYMLINK_NOFOLLOW) < 0)
			return box_err_errno(errno, "layer: entry \"%s\": chown %" PRIu32 ":%" PRIu32,
					     u->e.path, u->e.uid, u->e.gid);
		return fix_later(u);
	}
	fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return box_err_errno(errno, "layer: entry \"%s\": opening it", u->e.path);
	if (u->o->keep_owner && fchown(fd, u->e.uid, u->e.gid) < 0)
		return box_err_errno(errno, "layer: entry \"%s\": chown %" PRIu32 ":%" PRIu32, u->e.path,
				     u->e.uid, u->e.gid);
	if ((r = set_xattrs(u, fd)) < 0)
		return r;
	return fix_later(u);
}

/* Create a symlink, fifo or device at the entry's name (replacing what
 * is there). */
static int make_node(struct unpack *u, int (*mk)(struct unpack *, int, const char *),
		     const char *what)
{
	const char *base;
	int pfd = parent_of(u, u->path, &base), r;

	if (pfd < 0)
		return pfd;
	if (mk(u, pfd, base) < 0) {
		if (errno != EEXIST)
			return box_err_errno(errno, "layer: entry \"%s\": creating the %s", u->e.path, what);
		if ((r = replace(u, pfd, base)) < 0)
			return r;
		if ((pfd = parent_of(u, u->path, &base)) < 0)
			return pfd;
		if (mk(u, pfd, base) < 0)
			return box_err_errno(errno, "layer: entry \"%s\": creating the %s", u->e.path, what);
	}
	return meta_at(u, pfd, base, u->e.type != '2');
}

static int mk_symlink(struct unpack *u, int pfd, const char *base)
{
	return symlinkat(u->e.link, pfd, base);
}

static int mk_special(struct unpack *u, int pfd, const char *base)
{
	mode_t type = u->e.type == '3' ? S_IFCHR : u->e.type == '4' ? S_IFBLK : S_IFIFO;

	return mknodat(pfd, base, type | 0600, makedev(u->e.devmajor, u->e.devminor));
}

static int make_hardlink(struct unpack *u)
{
	char target[PATH_MAX];
	const char *base, *tbase;
	_cleanup_close_ int tfd = -1;
	int pfd, r;

	if ((r = clean_name(u->e.path, u->e.link, target, "its hard link target")) < 0)
		return r;
	if (!target[0])
		return box_err(EPERM, "layer: entry \"%s\": a hard link to the root", u->e.path);
	tbase = base_name(target);
	if (tbase != target) {
		char dir[PATH_MAX];

		memcpy(dir, target, (size_t)(tbase - target - 1));
		dir[tbase - target - 1] = '\0';
		tfd = open_dir(u, dir, false);
		if (tfd == -ENOENT)
			return box_err(ENOENT, "layer: entry \"%s\": its hard link target \"%s\" is missing",
				       u->e.path, u->e.link);
		if (tfd < 0)
			return dir_error(u, -tfd, dir);
	}
	if ((pfd = parent_of(u, u->path, &base)) < 0)
		return pfd;
	for (int tries = 0;; tries++) {
		if (linkat(tfd >= 0 ? tfd : u->root, tbase, pfd, base, 0) == 0)
			return 0;
		if (errno == ENOENT)
			return box_err(ENOENT, "layer: entry \"%s\": its hard link target \"%s\" is missing",
				       u->e.path, u->e.link);
		if (errno != EEXIST || tries > 0)
			return box_err_errno(errno, "layer: entry \"%s\": linking to \"%s\"", u->e.path,
					     u->e.link);
		if (strcmp(target, u->path) == 0)
			return 0; /* a link to itself: already there */
		if ((r = replace(u, pfd, base)) < 0)
			return r;
		if ((pfd = parent_of(u, u->path, &base)) < 0)
			return pfd;
	}
}

/* ---- whiteouts ---- */

/* APPLY: remove what earlier layers put in the directory, keep what this
 * layer made. */
static int empty_dir(struct unpack *u, int pfd, const char *dir)
{
	_cleanup_close_ int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (fd < 0 || !(d = fdopendir(fd)))
		return box_err_errno(errno, "layer: entry \"%s\": reading its directory", u->e.path);
	fd = -1;
	while (r == 0 && (de = readdir(d))) {
		char path[PATH_MAX];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s%s%s", dir, dir[0] ? "/" : "", de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (box_pathset_has(&u->made, path))
			continue;
		r = remove_tree(dirfd(d), de->d_name);
		if (r < 0)
			r = box_err_errno(-r, "layer: entry \"%s\": removing \"%s\"", u->e.path, path);
	}
	closedir(d);
	drop_cache(u);
	return r;
}

static int opaque(struct unpack *u)
{
	char dir[PATH_MAX];
	const char *base;
	int pfd = parent_of(u, u->path, &base);

	if (pfd < 0)
		return pfd;
	if (u->o->mode == BOX_UNPACK_APPLY) {
		memcpy(dir, u->path, (size_t)(base - u->path));
		dir[base > u->path ? base - u->path - 1 : 0] = '\0';
		return empty_dir(u, pfd, dir);
	}
	if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
		return box_err_errno(errno, "layer: entry \"%s\": setting trusted.overlay.opaque",
				     u->e.path);
	return 0;
}

static int whiteout(struct unpack *u, const char *base)
{
	const char *name = base + strlen(WH_PREFIX);
	char victim[PATH_MAX];
	const char *vbase;
	int pfd, r;

	if (strcmp(base, WH_OPAQUE) == 0)
		return opaque(u);
	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strncmp(name, WH_PREFIX, strlen(WH_PREFIX)) == 0)
		return box_err(EINVAL, "layer: entry \"%s\": a malformed whiteout", u->e.path);
	memcpy(victim, u->path, (size_t)(base - u->path));
	strcpy(victim + (base - u->path), name);
	if ((pfd = parent_of(u, victim, &vbase)) < 0)
		return pfd;
	/* a whiteout hides what lower layers have, not what its own layer
	 * made (OCI image spec, "Whiteouts") */
	if (u->o->mode == BOX_UNPACK_APPLY) {
		if (box_pathset_has(&u->made, victim))
			return 0;
		r = remove_tree(pfd, vbase);
		drop_cache(u);
		if (r < 0)
			return box_err_errno(-r, "layer: entry \"%s\": removing \"%s\"", u->e.path, victim);
		return 0;
	}
	if (mknodat(pfd, vbase, S_IFCHR, makedev(0, 0)) < 0) {
		/* there already: this layer's own entry, which stays */
		if (errno == EEXIST)
			return 0;
		return box_err_errno(errno, "layer: entry \"%s\": creating the whiteout", u->e.path);
	}
	/* the whiteout's entry's time (what box_layer_write wrote) */
	struct timespec ts[2] = { entry_mtime(&u->e), entry_mtime(&u->e) };

	if (utimensat(pfd, vbase, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return box_err_errno(errno, "layer: entry \"%s\": setting its mtime", u->e.path);
	return 0;
}

/* ---- one entry ---- */

static int dispatch(struct unpack *u)
{
	switch (u->e.type) {
	case '0':
		return make_file(u);
	case '1':
		return make_hardlink(u);
	case '2':
		return make_node(u, mk_symlink, "symlink");
	case '3':
	case '4':
		if (!u->o->allow_devices)
			return box_err(EPERM, "layer: entry \"%s\": a device node (%c %u:%u), not allowed here",
				       u->e.path, u->e.type == '3' ? 'c' : 'b', u->e.devmajor,
				       u->e.devminor);
		return make_node(u, mk_special, "device node");
	case '5':
		return make_dir(u);
	case '6':
		return make_node(u, mk_special, "fifo");
	}
	return -EINVAL;
}

static int check_type(struct unpack *u, char type)
{
	switch (type) {
	case '0': case '\0': case '7':
		u->e.type = '0';
		return 0;
	case '1': case '2': case '3': case '4': case '5': case '6':
		u->e.type = type;
		return 0;
	case 'S':
		return box_err(ENOTSUP, "layer: entry \"%s\": sparse files are not supported", u->e.path);
	}
	if (type >= 0x20 && type < 0x7f)
		return box_err(ENOTSUP, "layer: entry \"%s\": unsupported entry type '%c'", u->e.path, type);
	return box_err(ENOTSUP, "layer: entry \"%s\": unsupported entry type 0x%02x", u->e.path,
		       (unsigned char)type);
}

static int one_entry(struct unpack *u, char type)
{
	const char *base;
	int r;

	if (!u->e.path || !u->e.path[0])
		return box_err(EBADMSG, "layer: an entry without a name");
	if ((r = check_type(u, type)) < 0 || (r = clean_name(u->e.path, u->e.path, u->path, "its name")) < 0)
		return r;
	if ((r = check_size(u)) < 0)
		return r;
	u->entries++;
	base = base_name(u->path);
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
		r = whiteout(u, base);
		return r < 0 ? r : skip(u, u->e.size + padding(u->e.size));
	}
	if (u->e.type == '2' && !u->e.link[0])
		return box_err(EBADMSG, "layer: entry \"%s\": a symlink to nothing", u->e.path);
	if (!u->path[0] && u->e.type != '5')
		return box_err(EPERM, "layer: entry \"%s\": the root must be a directory", u->e.path);
	if (u->o->mode == BOX_UNPACK_APPLY && box_pathset_add(&u->made, u->path) < 0)
		return box_err(ENOMEM, "layer: out of memory");
	r = dispatch(u);
	if (r < 0 || u->e.type == '0')
		return r;
	return skip(u, u->e.size + padding(u->e.size));
}

/* ---- the whole ---- */

static int fix_dirs(struct unpack *u)
{
	for (size_t i = u->ndirs; i-- > 0;) {
		struct dirfix *d = &u->dirs[i];
		struct timespec ts[2] = { d->mtime, d->mtime };
		_cleanup_close_ int fd = openat2_beneath(u->root, d->path);

		if (fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR)
			continue; /* replaced or removed by a later entry */
		if (fd == -ENOSYS)
			fd = walk_dir(u, d->path, false);
		if (fd < 0)
			return box_err_errno(-fd, "layer: directory \"%s\": opening it", d->path);
		if (fchmod(fd, d->mode) < 0 || futimens(fd, ts) < 0)
			return box_err_errno(errno, "layer: directory \"%s\": setting mode and mtime",
					     d->path);
	}
	return 0;
}

static void progress(struct unpack *u, bool last)
{
	uint64_t now;

	if (!u->o->progress)
		return;
	now = box_in_raw_bytes(u->in);
	if (last || now - u->reported >= PROGRESS_STEP) {
		u->reported = now;
		u->o->progress(now, u->o->user);
	}
}

static int unpack_all(struct unpack *u)
{
	int type, r;

	while ((type = next_entry(u)) > 0) {
		if ((r = one_entry(u, (char)type)) < 0)
			return r;
		progress(u, false);
	}
	if (type < 0)
		return type;
	/* what follows the end blocks (a record's padding) is digested too */
	if ((r = box_in_drain(u->in)) < 0)
		return r;
	return fix_dirs(u);
}

static void unpack_free(struct unpack *u)
{
	box_in_free(u->in);
	tar_entry_reset(&u->e);
	drop_cache(u);
	for (size_t i = 0; i < u->ndirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
	box_pathset_free(&u->made);
}

int box_layer_unpack(int fd, int dirfd, const struct box_unpack_opts *opts,
		     struct box_layer_info *info)
{
	static const struct box_unpack_opts defaults = { .mode = BOX_UNPACK_OVERLAY };
	struct unpack u = { .o = opts ? opts : &defaults, .cached_fd = -1 };
	struct box_layer_info li = { 0 };
	_cleanup_close_ int root = -1;
	int r;

	/* our own fd of the directory, readable (the caller's may be O_PATH,
	 * which takes no fchown or fsetxattr) */
	root = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return box_err_errno(errno, "layer: opening the target directory");
	u.root = root;
	r = box_in_open(&u.in, fd);
	if (r < 0)
		return r;
	r = unpack_all(&u);
	if (r == 0) {
		box_in_info(u.in, &li);
		li.unpacked = u.unpacked;
		li.entries = u.entries;
		progress(&u, true);
		if (u.o->expect_digest && strcmp(u.o->expect_digest, li.digest) != 0)
			r = box_err(EBADMSG, "layer: digest mismatch: expected %s, the stream has %s",
				    u.o->expect_digest, li.digest);
	}
	unpack_free(&u);
	if (r == 0 && info)
		*info = li;
	return r;
}
