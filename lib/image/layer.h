/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image layers: reading a tar or tar+gzip stream into a directory safely,
 * and writing a directory (a box's overlay upper) back as a layer.
 *
 * This is the contract between the layer code (image/tar.c, image/gzip.c)
 * and the store (image/store.c and friends).  Internal: nothing here is
 * exported. */
#ifndef LIBBOX_IMAGE_LAYER_H
#define LIBBOX_IMAGE_LAYER_H

#include <stdbool.h>
#include <stdint.h>

/* "sha256:" + 64 hex + NUL */
#define BOX_DIGEST_LEN 72

enum box_unpack_mode {
	/* A layer of its own, to be stacked by overlayfs: `.wh.NAME` becomes a
	 * 0/0 character device NAME, `.wh..wh..opq` sets trusted.overlay.opaque=y
	 * on its directory. */
	BOX_UNPACK_OVERLAY,
	/* Applied on top of what the directory already holds (the copy
	 * fallback, and `import`): `.wh.NAME` removes NAME, `.wh..wh..opq`
	 * empties its directory of what earlier layers put there. */
	BOX_UNPACK_APPLY,
};

struct box_unpack_opts {
	enum box_unpack_mode mode;
	/* Create device nodes (the store's owner may mknod); otherwise an
	 * entry that is a device is an error naming it. */
	bool allow_devices;
	/* Keep ownership (chown) as the archive says; otherwise files belong
	 * to the caller. */
	bool keep_owner;
	/* Refuse a stream whose unpacked bytes would exceed this (0: none). */
	uint64_t max_bytes;
	/* The digest the compressed (as read) stream must have, or NULL not to
	 * check; a mismatch fails the unpack with EBADMSG. */
	const char *expect_digest;
	/* Called now and then with the bytes read from fd so far (may be NULL). */
	void (*progress)(uint64_t bytes_read, void *user);
	void *user;
};

struct box_layer_info {
	char digest[BOX_DIGEST_LEN];  /* sha256 of the stream as stored (compressed or not) */
	char diff_id[BOX_DIGEST_LEN]; /* sha256 of the uncompressed tar */
	uint64_t size;                /* bytes of the stream as stored */
	uint64_t unpacked;            /* bytes of file content written/read */
	uint64_t entries;
	bool gzip;
};

/* Read a tar or tar+gzip stream (told apart by its magic bytes) from fd to
 * its end, into the directory dirfd (empty for BOX_UNPACK_OVERLAY; any fd
 * of it, O_PATH too).  Every
 * path is resolved inside dirfd; an entry that would escape it, a
 * malformed whiteout, a corrupt or truncated stream or a digest mismatch
 * is an error (box_err naming the entry, negative errno).  On error the
 * directory holds an unspecified part of the layer: the caller removes it.
 * info may be NULL.
 *
 * In detail (image/unpack.c):
 * - formats: ustar, GNU ('L'/'K' long names, base-256 numbers) and pax
 *   (path, linkpath, size, mtime, uid, gid, SCHILY.xattr.*,
 *   LIBARCHIVE.xattr.*; global headers ignored).  Sparse files and
 *   unknown entry types are refused (-ENOTSUP).
 * - errors: -EPERM an escape (absolute name, "..", a symlink on the way,
 *   a hard link out) or a device without allow_devices; -ENOENT a hard
 *   link to a missing target; -EINVAL a malformed whiteout; -EFBIG past
 *   max_bytes (every entry's declared size counts, checked before its
 *   data is read); -EBADMSG a corrupt or truncated stream or a digest
 *   mismatch (the message names both digests); -ENOTSUP as above.
 * - a name that already exists is replaced (a directory over a directory
 *   is kept and merged), never written through.
 * - a whiteout hides only what lower layers have: one for a name its own
 *   layer made leaves that entry (in both modes).
 * - xattrs: only user.* and security.* are set, on files and directories
 *   (trusted.* and user.overlay.* from an archive could steer overlayfs:
 *   dropped).  A failure is an error, but for security.selinux.
 * - modes and mtimes of directories are set at the end; no fsync.
 * - the stream is inflated and digested on a thread of its own; progress
 *   is called on the caller's thread, about every MiB read. */
int box_layer_unpack(int fd, int dirfd, const struct box_unpack_opts *opts,
		     struct box_layer_info *info);

/* Write the tree at dirfd (an overlay upper, or any directory) to fd as a
 * tar (gzip: tar+gzip) layer: PAX headers for long names, big sizes and
 * xattrs; overlayfs whiteouts (0/0 character devices, and directories with
 * trusted.overlay.opaque=y) become `.wh.NAME` and `.wh..wh..opq` entries.
 * Entries are in a stable order, so the same tree gives the same bytes
 * (mtimes as found).  info may be NULL.
 *
 * In detail (image/write.c): names sorted bytewise in each directory, a
 * directory before what it holds, no entry for the root; user.overlay.opaque
 * =y marks an opaque directory too; user.* and security.* xattrs are kept
 * (overlayfs' own are not); the first name of a multiply linked inode
 * carries the data, the others are hard links to it; sockets are left out;
 * mtimes in whole seconds; gzip at zlib's default level, header mtime 0.
 * info->unpacked is the bytes of file data, info->entries the entries. */
int box_layer_write(int dirfd, int fd, bool gzip, struct box_layer_info *info);

#endif
