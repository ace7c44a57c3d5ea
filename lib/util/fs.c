/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Paths inside a root: every lookup goes through openat2 with
 * RESOLVE_IN_ROOT, so ".." and symlinks (absolute or relative) are
 * resolved as if the root were "/" and can never lead out of it.
 * These run in the child between clone3 and exec: no heap. */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <stdbool.h>

#include "internal.h"

/* strict: no symlink at all on the way (the box's own mounts: /proc must
 * be a directory named proc, not a link to / that puts procfs over the
 * box's root, out of the masks' reach). */
static int openat2_in_root(int rootfd, const char *path, int flags, bool strict)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (strict ? RESOLVE_NO_SYMLINKS : 0),
	};
	int fd;

	do
		fd = (int)syscall(SYS_openat2, rootfd, path[0] ? path : ".", &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

int box_open_in_root(int rootfd, const char *path, int flags, bool strict)
{
	return openat2_in_root(rootfd, path, flags, strict);
}

static int copy_path(char *buf, const char *path)
{
	size_t n = strlen(path);

	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return 0;
}

/* Like mkdir -p inside root.  A dangling symlink met on the way is
 * followed inside the root and its target created (runc does the same),
 * at most 40 times.  Works in place on buf (PATH_MAX bytes); returns an
 * O_PATH fd of the directory or -errno. */
static int mkdir_p(int rootfd, char *buf, mode_t mode, bool strict)
{
	char tmp[PATH_MAX], link[PATH_MAX];
	int links = 0;

restart:
	for (char *p = buf;;) {
		char *end, saved;
		int fd, pfd, r = 0;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		saved = *end;
		*end = '\0';
		fd = openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY, strict);
		if (fd >= 0) {
			close(fd);
		} else if (fd != -ENOENT) {
			return fd;
		} else {
			/* the parent exists (checked in the previous round) */
			char *sep = p > buf ? p - 1 : NULL;

			if (sep)
				*sep = '\0';
			pfd = openat2_in_root(rootfd, sep ? buf : "/", O_PATH | O_DIRECTORY, strict);
			if (sep)
				*sep = '/';
			if (pfd < 0)
				return pfd;
			if (mkdirat(pfd, p, mode) < 0) {
				int e = errno;
				ssize_t n = e == EEXIST
						    ? readlinkat(pfd, p, link, sizeof(link) - 1)
						    : -1;

				if (n >= 0)
					r = 0;
				else if (e == EEXIST)
					/* EINVAL: not a link, made meanwhile (another
					 * box on this root): the next round opens it */
					r = errno == EINVAL ? 0 : -errno;
				else
					r = -e;
				if (n > 0 && strict) {
					r = -ELOOP;
				} else if (n > 0 && ++links > 40) {
					r = -ELOOP;
				} else if (n > 0) {
					/* a dangling symlink: restart from its
					 * target, resolved inside the root */
					link[n] = '\0';
					*p = '\0';
					n = snprintf(tmp, sizeof(tmp), "%s%s%s%s",
						     link[0] == '/' ? "" : buf, link,
						     saved ? "/" : "", saved ? end + 1 : "");
					close(pfd);
					if (n < 0 || (size_t)n >= sizeof(tmp))
						return -ENAMETOOLONG;
					memcpy(buf, tmp, (size_t)n + 1);
					goto restart;
				}
			}
			close(pfd);
			if (r < 0)
				return r;
		}
		*end = saved;
		if (!saved)
			break;
		p = end + 1;
	}
	return openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY, strict);
}

int box_mkdir_in_root(int rootfd, const char *path, mode_t mode, bool strict)
{
	char buf[PATH_MAX];
	int r = copy_path(buf, path);

	return r < 0 ? r : mkdir_p(rootfd, buf, mode, strict);
}

int box_mkfile_in_root(int rootfd, const char *path, mode_t mode, bool strict)
{
	char buf[PATH_MAX], name[NAME_MAX + 1];
	char *slash;
	int fd, f, r = copy_path(buf, path);

	if (r < 0)
		return r;
	slash = strrchr(buf, '/');
	if (snprintf(name, sizeof(name), "%s", slash ? slash + 1 : buf) >= (int)sizeof(name))
		return -ENAMETOOLONG;
	if (!name[0])
		return -EISDIR;
	if (slash)
		*slash = '\0';
	/* mkdir_p may rewrite buf (a dangling link's target): from here on
	 * only the parent's fd is used */
	fd = slash ? mkdir_p(rootfd, buf, 0755, strict)
		   : openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY, strict);
	if (fd < 0)
		return fd;
	f = openat(fd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
	if (f >= 0)
		close(f);
	else if (errno != EEXIST)
		r = -errno;
	if (r == 0) {
		/* the file itself, never a link in its place */
		r = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (r < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

int box_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	int r = copy_path(buf, path);

	if (r < 0)
		return r;
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

int box_read_small(int dirfd, const char *path, char *buf, size_t len)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

int box_write_small(int dirfd, const char *path, const char *text, bool excl, mode_t mode)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), mode);
	size_t len = strlen(text);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		r = -EIO;
	close(fd);
	if (r < 0)
		unlinkat(dirfd, path, 0);
	return r;
}
