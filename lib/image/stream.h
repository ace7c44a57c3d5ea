/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The byte streams under the tar code: an input that reads a file
 * descriptor, inflates it if it is gzip (told by its magic bytes) and
 * digests both sides on a thread of its own, handing the tar bytes over
 * through a ring of blocks; and an output that digests, deflates and
 * writes.  Internal. */
#ifndef LIBBOX_IMAGE_STREAM_H
#define LIBBOX_IMAGE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/layer.h"

struct box_in;

/* Start reading fd (which stays the caller's).  Returns 0 or -errno. */
int box_in_open(struct box_in **in, int fd);
/* Stop the reader thread and free everything (NULL is fine). */
void box_in_free(struct box_in *in);

/* Point *p at the next bytes of the tar stream, waiting for them: returns
 * how many there are (> 0), 0 at the end, or -errno with box_err set (a
 * read error, a corrupt or truncated gzip stream). */
ssize_t box_in_peek(struct box_in *in, const unsigned char **p);
/* Consume n of the bytes the last peek gave. */
void box_in_consume(struct box_in *in, size_t n);
/* Read exactly n bytes: 0, -ENODATA (no message) if the stream ends
 * first (what came in *got), or another -errno with box_err set. */
int box_in_read(struct box_in *in, void *buf, size_t n, size_t *got);
/* Read the stream to its end (the digests are of all of it). */
int box_in_drain(struct box_in *in);
/* Bytes read from fd so far (for progress). */
uint64_t box_in_raw_bytes(struct box_in *in);
/* After the end: digests, sizes and whether it was gzip, into info. */
void box_in_info(struct box_in *in, struct box_layer_info *info);

struct box_out;

/* Write to fd (which stays the caller's), gzip or plain.  0 or -errno. */
int box_out_open(struct box_out **out, int fd, bool gzip);
int box_out_write(struct box_out *out, const void *buf, size_t n);
/* Flush everything (the gzip trailer too) and fill info's digests and
 * sizes.  0 or -errno. */
int box_out_finish(struct box_out *out, struct box_layer_info *info);
void box_out_free(struct box_out *out);

/* "sha256:" and the hex of a nettle sha256 context's digest. */
struct sha256_ctx;
void box_sha256_hex(struct sha256_ctx *ctx, char out[BOX_DIGEST_LEN]);

#endif
