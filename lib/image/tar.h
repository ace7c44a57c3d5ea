/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tar format: ustar headers with GNU's extensions (base-256 numbers,
 * 'L'/'K' long names) and pax extended headers, parsed into an entry and
 * written from one.  No I/O here.  Internal. */
#ifndef LIBBOX_IMAGE_TAR_H
#define LIBBOX_IMAGE_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TAR_BLOCK 512
/* Bounds for what is held in memory: an extended header, a name. */
#define TAR_MAX_EXTENDED (8u << 20)
#define TAR_MAX_NAME 4095

struct tar_xattr {
	char *name;
	unsigned char *value;
	size_t len;
};

/* What pax and GNU headers say about the next entry (and what the next
 * ustar header then fills in). */
struct tar_entry {
	char *path, *link;
	char type;             /* '0' regular ('\0' and '7' become '0'), '1'..'6' */
	uint64_t size;
	int64_t mtime;
	long mtime_nsec;
	uint32_t uid, gid;
	mode_t mode;           /* permission bits (07777) */
	unsigned devmajor, devminor;
	struct tar_xattr *xattrs;
	size_t nxattrs;
	/* set by an extended header: the ustar field is not used */
	bool has_size, has_mtime, has_uid, has_gid;
};

void tar_entry_reset(struct tar_entry *e);

/* Whether the block is all zeros (the end of the archive is two). */
bool tar_block_is_zero(const unsigned char *b);

/* Check a header's checksum and fill e from it (fields an extended header
 * set are kept).  The raw type goes to *type.  -EBADMSG with box_err
 * naming the entry. */
int tar_parse_header(const unsigned char *b, struct tar_entry *e, char *type);

/* Parse a pax extended header's records into e.  name: the entry (for
 * messages).  -EBADMSG or -ENOTSUP with box_err. */
int tar_parse_pax(const char *data, size_t len, struct tar_entry *e, const char *name);

/* The name a raw header carries, for messages (prefix/name). */
void tar_header_name(const unsigned char *b, char *out, size_t len);

/* ---- writing ---- */

/* A header for e as ustar blocks, preceded by a pax header when a field
 * does not fit (or there are xattrs): writes 1 or more blocks into a
 * malloc'd buffer.  Returns 0 or -errno. */
int tar_format_entry(const struct tar_entry *e, unsigned char **out, size_t *outlen);

#endif
