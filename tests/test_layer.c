/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The layer reader and writer (lib/image: internal, linked from the
 * library's static copy).
 *
 * Good archives are made here, at test time, by GNU tar (ustar, gnu and
 * pax formats, with xattrs) and gzip from a tree this program builds:
 * files, a hard link, symlinks, a fifo, devices, long names (over 100 and
 * over 255 bytes), owners, modes (setuid), mtimes, user.* and
 * security.capability xattrs.  Unpacked, the tree must come back the same.
 * Hostile archives come from tests/layers/mkhostile.py (Python's tarfile,
 * at build time): each must be refused with an error naming the entry, and
 * nothing may appear outside the target: every test has a sentinel
 * directory beside it (with a file a symlink in an archive points at).
 * The writer's output is read back by us and listed by GNU tar.
 *
 * Runs as root (owners, devices); without root everything is skipped, or
 * fails under CI=true. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>

#include "internal.h"
#include "image/layer.h"

static char work[PATH_MAX], out[PATH_MAX + 16], outside[PATH_MAX + 16], src[PATH_MAX + 16];
static bool user_xattrs; /* the test's file system takes user.* xattrs */
static int fds_before;

#define assert_err(expr, err, needle)                                             \
	do {                                                                      \
		int _r = (expr);                                                  \
		if (_r != -(err))                                                 \
			fail_msg("got %d (%s), want %d; message \"%s\"", _r,      \
				 strerror(-_r), -(err), box_last_error());        \
		if (!strstr(box_last_error(), (needle)))                          \
			fail_msg("message \"%s\" lacks \"%s\"", box_last_error(), \
				 (needle));                                       \
	} while (0)

static const char *layers_dir(void)
{
	const char *d = getenv("LIBBOX_TEST_LAYERS");

	return d ? d : TEST_LAYERS;
}

static const char *gnu_tar(void)
{
	const char *t = getenv("LIBBOX_TEST_TAR");

	return t ? t : TEST_TAR;
}

static const char *gzip_prog(void)
{
	const char *t = getenv("LIBBOX_TEST_GZIP");

	return t ? t : TEST_GZIP;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int st;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		fail_msg("\"%s\" failed (status %d)", cmd, st);
	free(cmd);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static size_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	n = read(fd, buf, len);
	close(fd);
	assert_true(n >= 0);
	return (size_t)n;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p) < 0 ? -1 : 0;
}

static void rm_rf(const char *p)
{
	nftw(p, rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

/* ---- fixtures ---- */

static int setup(void **state)
{
	(void)state;
	fds_before = count_fds();
	snprintf(work, sizeof(work), "%s/libbox-layer-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(work))
		return -1;
	snprintf(out, sizeof(out), "%s/out", work);
	snprintf(outside, sizeof(outside), "%s/outside", work);
	snprintf(src, sizeof(src), "%s/src", work);
	if (mkdir(out, 0755) < 0 || mkdir(outside, 0755) < 0 || mkdir(src, 0755) < 0)
		return -1;
	{
		char t[PATH_MAX + 32];

		snprintf(t, sizeof(t), "%s/target", outside);
		write_file(t, "sentinel", 8, 0644);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(work);
	return 0;
}

/* Nothing appeared beside the target, nor where absolute names point. */
static void assert_outside_clean(void)
{
	char buf[64], path[PATH_MAX + 64];
	DIR *d = opendir(outside);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	assert_int_equal(n, 1); /* target, nothing else */
	snprintf(path, sizeof(path), "%s/target", outside);
	assert_int_equal(read_file(path, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "sentinel", 8);
	assert_int_equal(access("/libbox-layer-test-pwned", F_OK), -1);
	assert_int_equal(access("/tmp/libbox-layer-test-pwned", F_OK), -1);
	assert_int_equal(count_fds(), fds_before);
}

static int unpack_path(const char *archive, const char *dir, const struct box_unpack_opts *o,
		       struct box_layer_info *info)
{
	/* O_PATH: the reader opens the directory for itself (the fuzz target
	 * passes an O_RDONLY one) */
	int fd = open(archive, O_RDONLY | O_CLOEXEC), dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0 || dfd < 0)
		fail_msg("open %s or %s: %s", archive, dir, strerror(errno));
	r = box_layer_unpack(fd, dfd, o, info);
	close(fd);
	close(dfd);
	return r;
}

static int unpack_test_archive(const char *name, const struct box_unpack_opts *o,
			       struct box_layer_info *info)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", layers_dir(), name);
	return unpack_path(path, out, o, info);
}

/* ---- hostile archives ---- */

static void test_hostile(void **state)
{
	static const struct {
		const char *file;
		int err;
		const char *needle;
	} cases[] = {
		{ "dotdot.tar", EPERM, "\"../outside/pwned\"" },
		{ "dotdot_mid.tar", EPERM, "\"a/../../outside/pwned\"" },
		{ "absolute.tar", EPERM, "\"/libbox-layer-test-pwned\": its name" },
		{ "dotdot_pax.tar", EPERM, "\"../outside/pax\"" },
		{ "dotdot_gnu.tar", EPERM, "/../../outside/gnu\"" },
		{ "symlink_linkpath_pax.tar", EPERM, "\"l2\": its hard link target \"../outside/target\"" },
		{ "symlink_parent.tar", EPERM, "\"link/pwned\": its parent \"link\"" },
		{ "symlink_parent_abs.tar", EPERM, "\"root/tmp/libbox-layer-test-pwned\"" },
		{ "symlink_parent_inside.tar", EPERM, "\"lnk/f\": its parent \"lnk\"" },
		{ "hardlink_outside.tar", EPERM, "\"hl\": its hard link target \"../outside/target\"" },
		{ "hardlink_absolute.tar", EPERM, "\"hl\": its hard link target \"/etc/passwd\"" },
		{ "hardlink_missing.tar", ENOENT, "\"hl\": its hard link target \"nothere\" is missing" },
		{ "hardlink_via_symlink.tar", EPERM, "\"hl\": its parent \"d\"" },
		{ "whiteout_empty.tar", EINVAL, "\".wh.\": a malformed whiteout" },
		{ "whiteout_nested.tar", EINVAL, "\"d/.wh..wh.foo\": a malformed whiteout" },
		{ "whiteout_dotdot.tar", EINVAL, "\".wh...\": a malformed whiteout" },
		{ "device.tar", EPERM, "\"dev/evil\": a device node" },
		{ "size_bomb.tar", EFBIG, "\"bomb\": its 1099511627776 bytes" },
		{ "sparse.tar", ENOTSUP, "\"sparse\": sparse files" },
		{ "truncated_data.tar", EBADMSG, "\"big\": truncated" },
		{ "no_end.tar", EBADMSG, "no end-of-archive" },
		{ "bad_checksum.tar", EBADMSG, "\"badsum\": bad header checksum" },
		{ "truncated.tar.gz", EBADMSG, "truncated gzip stream" },
		{ "corrupt.tar.gz", EBADMSG, "layer: " },
	};
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY, .keep_owner = true,
				     .max_bytes = 16 << 20 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("# %s\n", cases[i].file);
		rm_rf(out);
		assert_int_equal(mkdir(out, 0755), 0);
		assert_err(unpack_test_archive(cases[i].file, &o, NULL), cases[i].err, cases[i].needle);
		assert_outside_clean();
	}
}

/* A name that holds a symlink is replaced, never written through. */
static void test_overwrite_symlink(void **state)
{
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY };
	char path[PATH_MAX + 32], buf[64];
	struct stat a, b;

	(void)state;
	assert_int_equal(unpack_test_archive("overwrite_symlink.tar", &o, NULL), 0);
	assert_outside_clean();
	snprintf(path, sizeof(path), "%s/victim", out);
	assert_int_equal(lstat(path, &a), 0);
	assert_true(S_ISREG(a.st_mode));
	assert_int_equal(read_file(path, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "replaced", 8);
	snprintf(path, sizeof(path), "%s/victim2", out);
	assert_int_equal(lstat(path, &b), 0);
	assert_true(S_ISDIR(b.st_mode));
	snprintf(path, sizeof(path), "%s/victim2/f", out);
	assert_int_equal(read_file(path, buf, sizeof(buf)), 6);
	snprintf(path, sizeof(path), "%s/victim3", out);
	assert_int_equal(lstat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
}

static void read_digests(char digest[BOX_DIGEST_LEN], char diff_id[BOX_DIGEST_LEN])
{
	char path[PATH_MAX], buf[256];
	size_t n;

	snprintf(path, sizeof(path), "%s/good.tar.gz.digests", layers_dir());
	n = read_file(path, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	assert_int_equal(sscanf(buf, "%71s %71s", digest, diff_id), 2);
}

struct progress {
	int calls;
	uint64_t last;
};

static void on_progress(uint64_t bytes, void *user)
{
	struct progress *p = user;

	assert_true(bytes >= p->last);
	p->calls++;
	p->last = bytes;
}

static void test_digests(void **state)
{
	char digest[BOX_DIGEST_LEN], diff_id[BOX_DIGEST_LEN], wrong[BOX_DIGEST_LEN];
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY };
	struct box_layer_info info;
	char path[PATH_MAX + 32], buf[16];

	(void)state;
	struct progress prog = { 0 };

	read_digests(digest, diff_id);
	o.progress = on_progress;
	o.user = &prog;
	assert_int_equal(unpack_test_archive("good.tar.gz", &o, &info), 0);
	/* the last call says all of it */
	assert_true(prog.calls >= 1);
	assert_int_equal(prog.last, info.size);
	o.progress = NULL;
	assert_string_equal(info.digest, digest);
	assert_string_equal(info.diff_id, diff_id);
	assert_true(info.gzip);
	assert_int_equal(info.entries, 3);
	assert_int_equal(info.unpacked, 4);
	snprintf(path, sizeof(path), "%s/etc/hostname", out);
	assert_int_equal(read_file(path, buf, sizeof(buf)), 4);

	/* the right digest: accepted; another: refused, naming both */
	rm_rf(out);
	mkdir(out, 0755);
	o.expect_digest = digest;
	assert_int_equal(unpack_test_archive("good.tar.gz", &o, NULL), 0);
	snprintf(wrong, sizeof(wrong), "%s", digest);
	wrong[10] = wrong[10] == '0' ? '1' : '0';
	o.expect_digest = wrong;
	rm_rf(out);
	mkdir(out, 0755);
	assert_err(unpack_test_archive("good.tar.gz", &o, NULL), EBADMSG, wrong);
	assert_non_null(strstr(box_last_error(), digest));

	/* a plain tar: both digests are of the same bytes */
	rm_rf(out);
	mkdir(out, 0755);
	o.expect_digest = NULL;
	assert_int_equal(unpack_test_archive("whiteouts.tar", &o, &info), 0);
	assert_false(info.gzip);
	assert_string_equal(info.digest, info.diff_id);
	assert_outside_clean();
}

static bool is_whiteout(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

static void test_whiteouts_overlay(void **state)
{
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY };
	char path[PATH_MAX + 32], v[8];

	(void)state;
	assert_int_equal(unpack_test_archive("whiteouts.tar", &o, NULL), 0);
	snprintf(path, sizeof(path), "%s/d/gone", out);
	assert_true(is_whiteout(path));
	snprintf(path, sizeof(path), "%s/d/.wh.gone", out);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/f/sub/dir", out);
	assert_true(is_whiteout(path));
	snprintf(path, sizeof(path), "%s/e", out);
	assert_int_equal(getxattr(path, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	snprintf(path, sizeof(path), "%s/e/keep", out);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/e/.wh..wh..opq", out);
	assert_int_equal(access(path, F_OK), -1);
	/* a whiteout of what its own layer made leaves it */
	snprintf(path, sizeof(path), "%s/g/same", out);
	assert_false(is_whiteout(path));
	assert_int_equal(access(path, F_OK), 0);
	assert_outside_clean();
}

static void test_whiteouts_apply(void **state)
{
	static const char *const before[] = { "d/", "d/gone", "d/stay", "e/", "e/old1", "e/old2/",
					      "e/old2/x", "f/", "f/sub/", "f/sub/dir/", "f/sub/dir/x" };
	struct box_unpack_opts o = { .mode = BOX_UNPACK_APPLY };
	char path[PATH_MAX + 32];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(before); i++) {
		snprintf(path, sizeof(path), "%s/%s", out, before[i]);
		if (path[strlen(path) - 1] == '/')
			assert_int_equal(mkdir(path, 0755), 0);
		else
			write_file(path, "old", 3, 0644);
	}
	assert_int_equal(unpack_test_archive("whiteouts.tar", &o, NULL), 0);
	snprintf(path, sizeof(path), "%s/d/gone", out);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/d/stay", out);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/d/new", out);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/e/old1", out);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/e/old2", out);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/e/keep", out);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/f/sub/dir", out);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/f/sub", out);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/g/same", out);
	assert_int_equal(access(path, F_OK), 0);
	assert_outside_clean();
}

static void test_xattrs_pax(void **state)
{
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY };
	char path[PATH_MAX + 32], v[64];

	(void)state;
	assert_int_equal(unpack_test_archive("xattrs_pax.tar", &o, NULL), user_xattrs ? 0 : -EOPNOTSUPP);
	if (!user_xattrs) {
		/* what the file system cannot hold is an error naming it */
		assert_non_null(strstr(box_last_error(), "user."));
		print_message("# this file system takes no user.* xattrs: checked the error only\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/lib", out);
	assert_int_equal(getxattr(path, "user.lib=name", v, sizeof(v)), 11);
	assert_memory_equal(v, "hello\0world", 11);
	assert_int_equal(getxattr(path, "user.schily", v, sizeof(v)), 5);
	assert_memory_equal(v, "plain", 5);
	/* overlayfs' own: never from an archive */
	assert_int_equal(getxattr(path, "trusted.overlay.redirect", v, sizeof(v)), -1);
}

/* ---- trees: build one, compare two ---- */

/* security.capability: a v2 capability set with CAP_NET_BIND_SERVICE
 * permitted and effective. */
static const unsigned char cap_v2[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x04 };

static void set_times(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void mkpath(char *buf, size_t len, const char *rel)
{
	if (snprintf(buf, len, "%s/%s", src, rel) >= (int)len)
		fail_msg("path too long: %s", rel);
}

/* The tree every format test archives with GNU tar (deep: also a path
 * over 255 bytes, which ustar cannot hold). */
static void build_tree(bool deep, bool whiteouts)
{
	char p[PATH_MAX + 600], q[PATH_MAX + 600], name[600], *big;
	size_t bigsize = 3 * 1024 * 1024 + 123;

	mkpath(p, sizeof(p), "file");
	write_file(p, "hello\n", 6, 0640);
	assert_int_equal(chown(p, 1234, 5678), 0);
	assert_int_equal(chmod(p, 0640), 0);
	mkpath(p, sizeof(p), "empty");
	write_file(p, "", 0, 0600);
	mkpath(p, sizeof(p), "setuid");
	write_file(p, "#!/bin/sh\n", 10, 0755);
	assert_int_equal(chown(p, 0, 7), 0);
	assert_int_equal(chmod(p, 06755), 0);
	mkpath(p, sizeof(p), "big");
	big = malloc(bigsize);
	assert_non_null(big);
	for (size_t i = 0; i < bigsize; i++)
		big[i] = (char)(i * 7 + i / 4096);
	write_file(p, big, bigsize, 0644);
	free(big);
	mkpath(p, sizeof(p), "dir");
	assert_int_equal(mkdir(p, 0750), 0);
	assert_int_equal(chown(p, 42, 43), 0);
	mkpath(q, sizeof(q), "dir/hard");
	mkpath(p, sizeof(p), "file");
	assert_int_equal(link(p, q), 0);
	mkpath(p, sizeof(p), "dir/sym");
	assert_int_equal(symlink("../file", p), 0);
	assert_int_equal(lchown(p, 9, 9), 0);
	mkpath(p, sizeof(p), "dir/dangling");
	assert_int_equal(symlink("/nowhere/at/all", p), 0);
	mkpath(p, sizeof(p), "fifo");
	assert_int_equal(mkfifo(p, 0620), 0);
	assert_int_equal(chmod(p, 0620), 0);
	mkpath(p, sizeof(p), "chr");
	assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
	assert_int_equal(chmod(p, 0666), 0);
	mkpath(p, sizeof(p), "blk");
	assert_int_equal(mknod(p, S_IFBLK | 0600, makedev(7, 200)), 0);
	/* over 100 bytes, within ustar's prefix + name */
	memset(name, 'a', 99);
	name[99] = '\0';
	snprintf(q, sizeof(q), "long/%s", name);
	mkpath(p, sizeof(p), "long");
	assert_int_equal(mkdir(p, 0755), 0);
	mkpath(p, sizeof(p), q);
	assert_int_equal(mkdir(p, 0755), 0);
	memset(name, 'b', 98);
	name[98] = '\0';
	snprintf(p + strlen(p), sizeof(p) - strlen(p), "/%s", name);
	write_file(p, "long\n", 5, 0644);
	set_times(p, 1100000000);
	/* caps and a user xattr */
	mkpath(p, sizeof(p), "caps");
	write_file(p, "\x7f" "ELF", 4, 0755);
	assert_int_equal(setxattr(p, "security.capability", cap_v2, sizeof(cap_v2), 0), 0);
	if (user_xattrs) {
		assert_int_equal(setxattr(p, "user.test", "value\0bin", 9, 0), 0);
		mkpath(q, sizeof(q), "dir");
		assert_int_equal(setxattr(q, "user.dir", "d", 1, 0), 0);
	}
	if (deep) {
		memset(name, 'c', 200);
		name[200] = '\0';
		snprintf(q, sizeof(q), "deep/%s", name);
		mkpath(p, sizeof(p), "deep");
		assert_int_equal(mkdir(p, 0755), 0);
		mkpath(p, sizeof(p), q);
		assert_int_equal(mkdir(p, 0755), 0);
		memset(name, 'd', 200);
		snprintf(p + strlen(p), sizeof(p) - strlen(p), "/%s", name);
		write_file(p, "deep\n", 5, 0644);
		/* a hard link with a long target */
		mkpath(q, sizeof(q), "deep/link");
		assert_int_equal(link(p, q), 0);
		/* and a symlink with a long target */
		mkpath(q, sizeof(q), "deep/sym");
		assert_int_equal(symlink(p + strlen(src) + 1, q), 0);
	}
	if (whiteouts) {
		mkpath(p, sizeof(p), "gone");
		assert_int_equal(mknod(p, S_IFCHR, makedev(0, 0)), 0);
		mkpath(p, sizeof(p), "opq");
		assert_int_equal(mkdir(p, 0755), 0);
		assert_int_equal(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
		mkpath(p, sizeof(p), "opq/inside");
		write_file(p, "i", 1, 0644);
	}
	/* mtimes last, the directories' after what they hold */
	static const char *const files[] = { "file", "empty", "setuid", "big", "dir/sym",
					     "dir/dangling", "fifo", "chr", "blk", "caps" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		mkpath(p, sizeof(p), files[i]);
		set_times(p, 1000000000 + (time_t)i * 1000);
	}
	mkpath(p, sizeof(p), "long");
	set_times(p, 1300000000);
	mkpath(p, sizeof(p), "dir");
	set_times(p, 1200000000);
}

static const char *cmp_root;
static const char *cmp_other;
static bool cmp_xattrs;
static int cmp_count;

static void cmp_xattr(const char *a, const char *b, const char *name)
{
	char va[256], vb[256];
	ssize_t na = lgetxattr(a, name, va, sizeof(va)), nb = lgetxattr(b, name, vb, sizeof(vb));

	if (na != nb || (na > 0 && memcmp(va, vb, (size_t)na)))
		fail_msg("%s: xattr %s differs (%zd vs %zd bytes)", b, name, na, nb);
}

static void cmp_content(const char *a, const char *b, off_t size)
{
	char *ba = malloc((size_t)size + 1), *bb = malloc((size_t)size + 1);
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);

	assert_true(fa >= 0 && fb >= 0);
	assert_int_equal(read(fa, ba, (size_t)size + 1), size);
	assert_int_equal(read(fb, bb, (size_t)size + 1), size);
	if (memcmp(ba, bb, (size_t)size))
		fail_msg("%s: content differs", b);
	close(fa);
	close(fb);
	free(ba);
	free(bb);
}

static int cmp_one(const char *a, const struct stat *sa, int flag, struct FTW *f)
{
	char b[PATH_MAX + 600], la[PATH_MAX], lb[PATH_MAX];
	struct stat sb;

	(void)flag;
	if (f->level == 0)
		return 0;
	cmp_count++;
	snprintf(b, sizeof(b), "%s%s", cmp_other, a + strlen(cmp_root));
	if (lstat(b, &sb) < 0)
		fail_msg("%s: missing (%s)", b, strerror(errno));
	if (sa->st_mode != sb.st_mode)
		fail_msg("%s: mode %o, want %o", b, sb.st_mode, sa->st_mode);
	if (sa->st_uid != sb.st_uid || sa->st_gid != sb.st_gid)
		fail_msg("%s: owner %u:%u, want %u:%u", b, sb.st_uid, sb.st_gid, sa->st_uid, sa->st_gid);
	if (sa->st_mtim.tv_sec != sb.st_mtim.tv_sec)
		fail_msg("%s: mtime %ld, want %ld", b, (long)sb.st_mtim.tv_sec, (long)sa->st_mtim.tv_sec);
	if (S_ISCHR(sa->st_mode) || S_ISBLK(sa->st_mode))
		assert_int_equal(sa->st_rdev, sb.st_rdev);
	if (S_ISREG(sa->st_mode)) {
		assert_int_equal(sa->st_size, sb.st_size);
		assert_int_equal(sa->st_nlink, sb.st_nlink);
		cmp_content(a, b, sa->st_size);
	}
	if (S_ISLNK(sa->st_mode)) {
		ssize_t na = readlink(a, la, sizeof(la)), nb = readlink(b, lb, sizeof(lb));

		assert_int_equal(na, nb);
		assert_memory_equal(la, lb, (size_t)na);
	}
	if (cmp_xattrs && (S_ISREG(sa->st_mode) || S_ISDIR(sa->st_mode))) {
		cmp_xattr(a, b, "security.capability");
		cmp_xattr(a, b, "trusted.overlay.opaque");
		if (user_xattrs) {
			cmp_xattr(a, b, "user.test");
			cmp_xattr(a, b, "user.dir");
		}
	}
	return 0;
}

static int count_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)p, (void)st, (void)flag;
	if (f->level > 0)
		cmp_count--;
	return 0;
}

/* Every node of a is in b, the same; b has nothing more. */
static void assert_same_tree(const char *a, const char *b, bool xattrs)
{
	cmp_root = a;
	cmp_other = b;
	cmp_xattrs = xattrs;
	cmp_count = 0;
	assert_int_equal(nftw(a, cmp_one, 64, FTW_PHYS), 0);
	assert_true(cmp_count > 10);
	assert_int_equal(nftw(b, count_one, 64, FTW_PHYS), 0);
	if (cmp_count != 0)
		fail_msg("%s has %d more entries than %s", b, -cmp_count, a);
}

static void unpack_gnu(const char *format, bool gz, bool deep)
{
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY, .keep_owner = true,
				     .allow_devices = true };
	struct box_layer_info info;
	char archive[PATH_MAX + 32];

	snprintf(archive, sizeof(archive), "%s/%s.tar%s", work, format, gz ? ".gz" : "");
	run("%s --format=%s --xattrs --xattrs-include='*' --numeric-owner %s -cf %s/%s.tar -C %s .",
	    gnu_tar(), format, deep ? "" : "--exclude=./deep", work, format, src);
	if (gz)
		run("%s -c %s/%s.tar > %s", gzip_prog(), work, format, archive);
	assert_int_equal(unpack_path(archive, out, &o, &info), 0);
	assert_int_equal(info.gzip, gz);
	assert_same_tree(src, out, strcmp(format, "pax") == 0);
	assert_outside_clean();
}

static void test_gnu_ustar(void **state)
{
	(void)state;
	build_tree(false, false);
	unpack_gnu("ustar", false, false);
}

static void test_gnu_gnu(void **state)
{
	(void)state;
	build_tree(true, false);
	unpack_gnu("gnu", true, true);
}

static void test_gnu_pax(void **state)
{
	(void)state;
	build_tree(true, false);
	unpack_gnu("pax", true, true);
}

static void test_max_bytes(void **state)
{
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY, .allow_devices = true,
				     .max_bytes = 1 << 20 };
	char archive[PATH_MAX + 32];

	(void)state;
	build_tree(false, false);
	snprintf(archive, sizeof(archive), "%s/t.tar", work);
	run("%s -cf %s -C %s .", gnu_tar(), archive, src);
	assert_err(unpack_path(archive, out, &o, NULL), EFBIG, "\"./big\"");
	assert_outside_clean();
}

/* Unpack the first len bytes of buf into a fresh directory. */
static int unpack_prefix(const char *buf, size_t len, int n)
{
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY, .allow_devices = true };
	char dir[PATH_MAX + 32];
	int fd = memfd_create("layer", MFD_CLOEXEC), dfd, r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	snprintf(dir, sizeof(dir), "%s/cut%d", work, n);
	assert_int_equal(mkdir(dir, 0755), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	r = box_layer_unpack(fd, dfd, &o, NULL);
	close(dfd);
	close(fd);
	rm_rf(dir);
	return r;
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;

	assert_int_equal(stat(path, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	*len = read_file(path, buf, (size_t)st.st_size);
	assert_int_equal(*len, st.st_size);
	return buf;
}

/* A stream cut anywhere before its end is an error, never a partial
 * layer taken for whole: a tar cut before its end blocks, a gzip stream
 * cut anywhere. */
static void test_truncations(void **state)
{
	char tarpath[PATH_MAX + 32], gzpath[PATH_MAX + 32], *tar, *gz;
	size_t tarlen, gzlen, end;
	int n = 0;

	(void)state;
	build_tree(false, false);
	snprintf(tarpath, sizeof(tarpath), "%s/t.tar", work);
	snprintf(gzpath, sizeof(gzpath), "%s/t.tar.gz", work);
	run("%s --format=pax -cf %s -C %s .", gnu_tar(), tarpath, src);
	run("%s -c %s > %s", gzip_prog(), tarpath, gzpath);
	tar = slurp(tarpath, &tarlen);
	gz = slurp(gzpath, &gzlen);
	assert_int_equal(unpack_prefix(tar, tarlen, n++), 0);
	assert_int_equal(unpack_prefix(gz, gzlen, n++), 0);
	/* the end blocks lie in the last record (10240 bytes) */
	end = tarlen - 10240 - 1024;
	for (size_t cut = 0; cut < end; cut += cut < 65536 ? 512 : 65536 + 333) {
		if (unpack_prefix(tar, cut, n++) != -EBADMSG)
			fail_msg("tar cut at %zu: %s", cut, box_last_error());
		if (cut % 3 == 0 && unpack_prefix(tar, cut + 1 + cut % 511, n++) != -EBADMSG)
			fail_msg("tar cut at %zu: %s", cut + 1 + cut % 511, box_last_error());
	}
	for (size_t cut = 0; cut < gzlen; cut += cut < 4096 ? 97 : 40961) {
		if (unpack_prefix(gz, cut, n++) != -EBADMSG)
			fail_msg("gzip cut at %zu: %s", cut, box_last_error());
	}
	if (unpack_prefix(gz, gzlen - 1, n++) != -EBADMSG)
		fail_msg("gzip without its last byte: %s", box_last_error());
	free(tar);
	free(gz);
	assert_outside_clean();
}

/* ---- the writer ---- */

static void write_layer(const char *dir, const char *file, bool gz, struct box_layer_info *info)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(dfd >= 0 && fd >= 0);
	if (box_layer_write(dfd, fd, gz, info) < 0)
		fail_msg("box_layer_write: %s", box_last_error());
	close(fd);
	close(dfd);
}

static void test_write_round_trip(void **state)
{
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY, .keep_owner = true,
				     .allow_devices = true };
	struct box_layer_info w1, w2, r;
	char file[PATH_MAX + 32], file2[PATH_MAX + 32], list[PATH_MAX + 32], buf[65536];
	size_t n;

	(void)state;
	build_tree(true, true);
	snprintf(file, sizeof(file), "%s/layer.tar.gz", work);
	snprintf(file2, sizeof(file2), "%s/again.tar.gz", work);
	write_layer(src, file, true, &w1);
	write_layer(src, file2, true, &w2);
	/* the same tree, the same bytes */
	assert_string_equal(w1.digest, w2.digest);
	assert_string_equal(w1.diff_id, w2.diff_id);
	assert_true(w1.gzip);

	/* GNU tar reads it, and sees OCI whiteouts */
	snprintf(list, sizeof(list), "%s/list", work);
	run("%s -tvzf %s > %s", gnu_tar(), file, list);
	n = read_file(list, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	assert_non_null(strstr(buf, " .wh.gone\n"));
	assert_non_null(strstr(buf, " opq/.wh..wh..opq\n"));
	assert_non_null(strstr(buf, " file link to dir/hard\n"));

	/* and unpacked, it is the same tree (whiteouts turned back into
	 * overlayfs' own) */
	assert_int_equal(unpack_path(file, out, &o, &r), 0);
	assert_string_equal(r.digest, w1.digest);
	assert_string_equal(r.diff_id, w1.diff_id);
	assert_int_equal(r.size, w1.size);
	assert_int_equal(r.unpacked, w1.unpacked);
	assert_int_equal(r.entries, w1.entries);
	assert_same_tree(src, out, true);

	/* plain tar: digest and diff_id are the same bytes */
	snprintf(file, sizeof(file), "%s/layer.tar", work);
	write_layer(src, file, false, &w2);
	assert_false(w2.gzip);
	assert_string_equal(w2.digest, w2.diff_id);
	assert_string_equal(w2.diff_id, w1.diff_id);
	assert_outside_clean();
}

static bool probe_user_xattrs(void)
{
	char p[PATH_MAX];
	int fd;
	bool ok;

	snprintf(p, sizeof(p), "%s/libbox-layer-probe-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(p);
	if (fd < 0)
		return false;
	ok = fsetxattr(fd, "user.probe", "1", 1, 0) == 0;
	close(fd);
	unlink(p);
	return ok;
}

static bool in_ci(void)
{
	const char *ci = getenv("CI");

	return ci && strcmp(ci, "true") == 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overwrite_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts_overlay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteouts_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xattrs_pax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gnu_ustar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gnu_gnu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gnu_pax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_round_trip, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	if (geteuid() != 0) {
		if (in_ci()) {
			printf("1..1\nnot ok 1 - layer: needs root (owners, devices)\n");
			return 1;
		}
		printf("1..0 # SKIP layer: needs root (owners, devices)\n");
		return 0;
	}
	umask(022);
	user_xattrs = probe_user_xattrs();
	if (!user_xattrs)
		printf("# no user.* xattrs on this file system: checked security.* and trusted.* only\n");
	return cmocka_run_group_tests_name("layer", tests, NULL, NULL);
}
