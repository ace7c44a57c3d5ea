/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Paths inside a root: every lookup goes through openat2 with
 * RESOLVE_IN_ROOT, so ".." and symlinks (absolute or relative) are
 * resolved as if the root were "/" and can never lead out of it.
 * These run in the child between clone3 and exec: no heap. */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "internal.h"

static int openat2_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	do
		fd = (int)syscall(SYS_openat2, rootfd, path[0] ? path : ".", &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : fd;
}

int box_open_in_root(int rootfd, const char *path, int flags)
{
	return openat2_in_root(rootfd, path, flags);
}

/* Walk path's components from the root, creating missing directories.
 * Returns an O_PATH fd of the parent of the last component and leaves
 * *last pointing at it in buf, or -errno. */
static int walk_parents(int rootfd, char *buf, mode_t mode, const char **last)
{
	char *p = buf, *slash;
	int fd = openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY);

	while (*p == '/')
		p++;
	while (fd >= 0 && (slash = strchr(p, '/')) != NULL) {
		*slash = '\0';
		if (*p && mkdirat(fd, p, mode) < 0 && errno != EEXIST) {
			int e = -errno;

			close(fd);
			return e;
		}
		close(fd);
		/* Resolve the whole prefix from the root each time, so a
		 * symlink component is followed inside the root only. */
		fd = openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
		*slash = '/';
		p = slash + 1;
		while (*p == '/')
			p++;
	}
	*last = p;
	return fd;
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

int box_mkdir_in_root(int rootfd, const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	const char *last;
	int fd, r = copy_path(buf, path);

	if (r < 0)
		return r;
	fd = walk_parents(rootfd, buf, mode, &last);
	if (fd < 0)
		return fd;
	if (*last && mkdirat(fd, last, mode) < 0 && errno != EEXIST)
		r = -errno;
	close(fd);
	return r < 0 ? r : openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
}

int box_mkfile_in_root(int rootfd, const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	const char *last;
	int fd, f, r = copy_path(buf, path);

	if (r < 0)
		return r;
	fd = walk_parents(rootfd, buf, 0755, &last);
	if (fd < 0)
		return fd;
	if (!*last) {
		close(fd);
		return -EISDIR;
	}
	f = openat(fd, last, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
	if (f >= 0)
		close(f);
	else if (errno != EEXIST)
		r = -errno;
	close(fd);
	return r < 0 ? r : openat2_in_root(rootfd, buf, O_PATH);
}
