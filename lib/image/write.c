/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* box_layer_write: a directory tree (a box's overlay upper) as a tar
 * layer.  Names are sorted in each directory and directories come before
 * what they hold, so the same tree gives the same bytes.  Overlayfs'
 * whiteouts become OCI's: a 0/0 character device NAME is an empty file
 * .wh.NAME, a directory marked opaque (trusted.overlay.opaque=y, or
 * user.overlay.opaque=y for an unprivileged overlay) gets a
 * .wh..wh..opq entry after its own.  Hard links: the first path of an
 * inode is a file, the others link to it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "internal.h"
#include "image/layer.h"
#include "image/stream.h"
#include "image/tar.h"

#define COPY_SIZE (256 * 1024)

struct inode_path {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct writer {
	struct box_out *out;
	/* the inodes with more than one link met so far (few in an upper:
	 * a linear search) */
	struct inode_path *inodes;
	size_t ninodes, capinodes;
	uint64_t entries, bytes;
	unsigned char *buf;
};


static int emit(struct writer *w, const struct tar_entry *e)
{
	_cleanup_free_ unsigned char *hdr = NULL;
	size_t len;

	if (tar_format_entry(e, &hdr, &len) < 0)
		return box_err(ENOMEM, "layer: out of memory");
	w->entries++;
	return box_out_write(w->out, hdr, len);
}

static int pad(struct writer *w, uint64_t size)
{
	static const unsigned char zeros[TAR_BLOCK];
	size_t n = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;

	return n ? box_out_write(w->out, zeros, n) : 0;
}

/* The file's bytes, exactly size of them. */
static int copy_file(struct writer *w, int at, const char *name, const char *path, uint64_t size)
{
	_cleanup_close_ int fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t left = size;

	if (fd < 0)
		return box_err_errno(errno, "layer: \"%s\": opening it", path);
	while (left > 0) {
		ssize_t n = read(fd, w->buf, left < COPY_SIZE ? (size_t)left : COPY_SIZE);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return box_err_errno(errno, "layer: \"%s\": reading it", path);
		if (n == 0)
			return box_err(EIO, "layer: \"%s\": it shrank while being read", path);
		if ((r = box_out_write(w->out, w->buf, (size_t)n)) < 0)
			return r;
		left -= (uint64_t)n;
	}
	w->bytes += size;
	return pad(w, size);
}

static bool overlay_xattr(const char *name)
{
	return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

/* user.* and security.* xattrs (what unpack sets), in listing order
 * sorted by name. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_xattrs(int fd, const char *path, struct tar_entry *e)
{
	/* XATTR_LIST_MAX and XATTR_SIZE_MAX: 64 KiB each, on the heap */
	_cleanup_free_ char *list = malloc(65536);
	_cleanup_free_ unsigned char *value = malloc(65536);
	char *names[1024];
	ssize_t len;
	size_t n = 0;

	if (!list || !value)
		return box_err(ENOMEM, "layer: out of memory");
	len = flistxattr(fd, list, 65536);
	if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
		return 0;
	if (len < 0)
		return box_err_errno(errno, "layer: \"%s\": listing its xattrs", path);
	for (char *p = list; p < list + len && n < ARRAY_SIZE(names); p += strlen(p) + 1)
		if (!overlay_xattr(p) && (strncmp(p, "user.", 5) == 0 || strncmp(p, "security.", 9) == 0))
			names[n++] = p;
	qsort(names, n, sizeof(names[0]), cmp_str);
	e->xattrs = calloc(n ? n : 1, sizeof(*e->xattrs));
	if (!e->xattrs)
		return box_err(ENOMEM, "layer: out of memory");
	for (size_t i = 0; i < n; i++) {
		ssize_t vlen = fgetxattr(fd, names[i], value, 65536);
		struct tar_xattr *x = &e->xattrs[e->nxattrs];

		if (vlen < 0 && errno == ENODATA)
			continue;
		if (vlen < 0)
			return box_err_errno(errno, "layer: \"%s\": reading xattr %s", path, names[i]);
		x->name = strdup(names[i]);
		x->value = malloc(vlen ? (size_t)vlen : 1);
		if (!x->name || !x->value) {
			free(x->name);
			free(x->value);
			return box_err(ENOMEM, "layer: out of memory");
		}
		memcpy(x->value, value, (size_t)vlen);
		x->len = (size_t)vlen;
		e->nxattrs++;
	}
	return 0;
}

static bool is_opaque(int fd)
{
	char v[2];

	return (fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y') ||
	       (fgetxattr(fd, "user.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
}

/* A second or later name of a multiply linked inode: the first one's
 * path, or NULL (and the path is remembered). */
static int link_target(struct writer *w, const struct stat *st, const char *path, const char **first)
{
	struct inode_path *p;

	*first = NULL;
	for (size_t i = 0; i < w->ninodes; i++)
		if (w->inodes[i].dev == st->st_dev && w->inodes[i].ino == st->st_ino) {
			*first = w->inodes[i].path;
			return 0;
		}
	if (w->ninodes == w->capinodes) {
		size_t cap = w->capinodes ? w->capinodes * 2 : 64;

		p = realloc(w->inodes, cap * sizeof(*p));
		if (!p)
			return box_err(ENOMEM, "layer: out of memory");
		w->inodes = p;
		w->capinodes = cap;
	}
	p = &w->inodes[w->ninodes];
	p->path = strdup(path);
	if (!p->path)
		return box_err(ENOMEM, "layer: out of memory");
	p->dev = st->st_dev;
	p->ino = st->st_ino;
	w->ninodes++;
	return 0;
}

static void fill_common(struct tar_entry *e, const struct stat *st)
{
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->mtime = st->st_mtim.tv_sec;
}

static int walk(struct writer *w, int dirfd, const char *prefix);

static int whiteout_entry(struct writer *w, const char *prefix, const char *name,
			  const struct stat *st)
{
	struct tar_entry e = { .type = '0', .mode = 0644, .mtime = st->st_mtim.tv_sec };
	int r;

	if (asprintf(&e.path, "%s.wh.%s", prefix, name) < 0)
		return box_err(ENOMEM, "layer: out of memory");
	r = emit(w, &e);
	tar_entry_reset(&e);
	return r;
}

static int dir_entry(struct writer *w, int at, const char *name, struct tar_entry *e)
{
	_cleanup_close_ int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_free_ char *prefix = NULL;
	int r;

	if (fd < 0)
		return box_err_errno(errno, "layer: \"%s\": opening it", e->path);
	if ((r = read_xattrs(fd, e->path, e)) < 0)
		return r;
	if ((r = emit(w, e)) < 0)
		return r;
	prefix = strdup(e->path); /* ends in '/' */
	if (!prefix)
		return box_err(ENOMEM, "layer: out of memory");
	if (is_opaque(fd)) {
		struct tar_entry o = { .type = '0', .mode = 0644, .mtime = e->mtime };

		if (asprintf(&o.path, "%s.wh..wh..opq", prefix) < 0)
			return box_err(ENOMEM, "layer: out of memory");
		r = emit(w, &o);
		tar_entry_reset(&o);
		if (r < 0)
			return r;
	}
	return walk(w, fd, prefix);
}

static int file_entry(struct writer *w, int at, const char *name, const struct stat *st,
		      struct tar_entry *e)
{
	const char *first = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (st->st_nlink > 1 && (r = link_target(w, st, e->path, &first)) < 0)
		return r;
	if (first) {
		e->type = '1';
		e->link = strdup(first);
		if (!e->link)
			return box_err(ENOMEM, "layer: out of memory");
		return emit(w, e);
	}
	fd = openat(at, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return box_err_errno(errno, "layer: \"%s\": opening it", e->path);
	if ((r = read_xattrs(fd, e->path, e)) < 0)
		return r;
	e->size = (uint64_t)st->st_size;
	if ((r = emit(w, e)) < 0)
		return r;
	return copy_file(w, at, name, e->path, e->size);
}

/* A symlink's target into e->link (on the heap: walk recurses once per
 * level, its frames stay small). */
static int read_link(int at, const char *name, struct tar_entry *e)
{
	_cleanup_free_ char *buf = malloc(PATH_MAX);
	ssize_t n;

	if (!buf)
		return box_err(ENOMEM, "layer: out of memory");
	n = readlinkat(at, name, buf, PATH_MAX - 1);
	if (n < 0)
		return box_err_errno(errno, "layer: \"%s\": readlink", e->path);
	buf[n] = '\0';
	e->link = TAKE_PTR(buf);
	return 0;
}

static int one(struct writer *w, int at, const char *prefix, const char *name)
{
	struct tar_entry e = { 0 };
	struct stat st;
	int r;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return box_err_errno(errno, "layer: \"%s%s\": stat", prefix, name);
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		return whiteout_entry(w, prefix, name, &st);
	fill_common(&e, &st);
	if (asprintf(&e.path, "%s%s%s", prefix, name, S_ISDIR(st.st_mode) ? "/" : "") < 0)
		return box_err(ENOMEM, "layer: out of memory");
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		e.type = '5';
		r = dir_entry(w, at, name, &e);
		break;
	case S_IFREG:
		e.type = '0';
		r = file_entry(w, at, name, &st, &e);
		break;
	case S_IFLNK:
		e.type = '2';
		r = read_link(at, name, &e);
		if (r == 0)
			r = emit(w, &e);
		break;
	case S_IFCHR:
	case S_IFBLK:
		e.type = S_ISCHR(st.st_mode) ? '3' : '4';
		e.devmajor = major(st.st_rdev);
		e.devminor = minor(st.st_rdev);
		r = emit(w, &e);
		break;
	case S_IFIFO:
		e.type = '6';
		r = emit(w, &e);
		break;
	default: /* sockets: not in a layer, as tar does */
		r = 0;
		break;
	}
	tar_entry_reset(&e);
	return r;
}

static int walk(struct writer *w, int at, const char *prefix)
{
	_cleanup_close_ int fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (fd < 0 || !(d = fdopendir(fd)))
		return box_err_errno(errno, "layer: \"%s\": reading the directory", prefix[0] ? prefix : ".");
	fd = -1;
	while (r == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*p));

			if (!p) {
				r = box_err(ENOMEM, "layer: out of memory");
				break;
			}
			names = p;
		}
		if (!(names[n] = strdup(de->d_name)))
			r = box_err(ENOMEM, "layer: out of memory");
		else
			n++;
	}
	if (n > 1) /* names is NULL for an empty directory */
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = one(w, dirfd(d), prefix, names[i]);
		free(names[i]);
	}
	free(names);
	closedir(d);
	return r;
}

int box_layer_write(int dirfd, int fd, bool gzip, struct box_layer_info *info)
{
	static const unsigned char end[2 * TAR_BLOCK];
	struct writer w = { 0 };
	struct box_layer_info li = { 0 };
	int r;

	w.buf = malloc(COPY_SIZE);
	if (!w.buf)
		return box_err(ENOMEM, "layer: out of memory");
	r = box_out_open(&w.out, fd, gzip);
	if (r == 0)
		r = walk(&w, dirfd, "");
	if (r == 0)
		r = box_out_write(w.out, end, sizeof(end));
	if (r == 0)
		r = box_out_finish(w.out, &li);
	box_out_free(w.out);
	for (size_t i = 0; i < w.ninodes; i++)
		free(w.inodes[i].path);
	free(w.inodes);
	free(w.buf);
	if (r == 0 && info) {
		li.unpacked = w.bytes;
		li.entries = w.entries;
		*info = li;
	}
	return r;
}
