/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Layer streams.  Input: a thread reads the fd, digests what it reads,
 * inflates it when it starts with gzip's magic bytes, digests the tar
 * bytes and fills a ring of blocks; the caller's thread parses and writes
 * files meanwhile, so on two cores decompression and file creation overlap.
 * Output: the tar bytes are digested, deflated (or not), digested again
 * and written, on the caller's thread. */
#include <errno.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"
#include "image/stream.h"

#define RING_BLOCKS 8
#define BLOCK_SIZE (256 * 1024)
#define READ_SIZE (128 * 1024)

struct box_in {
	int fd;
	pthread_t thread;
	bool running;

	/* shared, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned char *block[RING_BLOCKS];
	size_t len[RING_BLOCKS];
	unsigned head;  /* the next block the reader fills */
	unsigned tail;  /* the block the parser reads */
	unsigned count; /* filled blocks, the parser's current one included */
	bool done;      /* the reader has stopped: at the end, or err */
	bool stop;      /* the parser asks the reader to stop */
	int err;
	char msg[256];

	/* the parser's side */
	bool holding;   /* it holds block[tail] */
	size_t off;

	/* the reader's side */
	_Atomic uint64_t raw_bytes;
	uint64_t tar_bytes;
	bool gzip, raw_eof, member_done;
	z_stream z;
	bool z_init;
	struct sha256_ctx raw_sha, tar_sha;
	unsigned char inbuf[READ_SIZE];
	char digest[BOX_DIGEST_LEN], diff_id[BOX_DIGEST_LEN];
};

void box_sha256_hex(struct sha256_ctx *ctx, char out[BOX_DIGEST_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[SHA256_DIGEST_SIZE];
	char *p = out + 7;

	sha256_digest(ctx, sizeof(d), d);
	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < sizeof(d); i++) {
		*p++ = hex[d[i] >> 4];
		*p++ = hex[d[i] & 15];
	}
	*p = '\0';
}

/* ---- the reader thread ---- */

static int reader_fail(struct box_in *in, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int reader_fail(struct box_in *in, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&in->lock);
	if (!in->err) {
		in->err = err;
		va_start(ap, fmt);
		vsnprintf(in->msg, sizeof(in->msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&in->lock);
	return -err;
}

/* read(2) into buf, digesting what came: bytes (0 at the end) or -errno. */
static ssize_t reader_read(struct box_in *in, unsigned char *buf, size_t cap)
{
	ssize_t n;

	do
		n = read(in->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return reader_fail(in, errno, "layer: reading: %s", box_strerror(errno));
	if (n == 0)
		in->raw_eof = true;
	sha256_update(&in->raw_sha, (size_t)n, buf);
	atomic_fetch_add(&in->raw_bytes, (uint64_t)n);
	return n;
}

/* More input when the last read is used up; 0, or -errno. */
static int reader_fill_input(struct box_in *in)
{
	ssize_t n;

	if (in->z.avail_in > 0 || in->raw_eof)
		return 0;
	n = reader_read(in, in->inbuf, sizeof(in->inbuf));
	if (n < 0)
		return (int)n;
	in->z.next_in = in->inbuf;
	in->z.avail_in = (unsigned)n;
	return 0;
}

/* Tell gzip from tar by the first two bytes (1f 8b). */
static int reader_detect(struct box_in *in)
{
	size_t have = 0;

	while (have < 2 && !in->raw_eof) {
		ssize_t n = reader_read(in, in->inbuf + have, sizeof(in->inbuf) - have);

		if (n < 0)
			return (int)n;
		have += (size_t)n;
	}
	in->z.next_in = in->inbuf;
	in->z.avail_in = (unsigned)have;
	in->gzip = have >= 2 && in->inbuf[0] == 0x1f && in->inbuf[1] == 0x8b;
	if (!in->gzip)
		return 0;
	/* 16 + 15: a gzip wrapper, any window size */
	if (inflateInit2(&in->z, 16 + 15) != Z_OK)
		return reader_fail(in, ENOMEM, "layer: starting zlib: out of memory");
	in->z_init = true;
	return 0;
}

/* Inflate into buf; returns bytes produced or -errno. */
static ssize_t reader_inflate(struct box_in *in, unsigned char *buf, size_t cap)
{
	size_t filled = 0;

	while (filled < cap) {
		int r = reader_fill_input(in);

		if (r < 0)
			return r;
		if (in->z.avail_in == 0)
			break; /* the end of the input */
		if (in->member_done) {
			/* another gzip member follows (concatenated gzip) */
			inflateReset(&in->z);
			in->member_done = false;
		}
		in->z.next_out = buf + filled;
		in->z.avail_out = (unsigned)(cap - filled);
		r = inflate(&in->z, Z_NO_FLUSH);
		filled = cap - in->z.avail_out;
		if (r == Z_STREAM_END)
			in->member_done = true;
		else if (r == Z_BUF_ERROR && in->z.avail_in == 0)
			continue;
		else if (r != Z_OK)
			return reader_fail(in, EBADMSG, "layer: corrupt gzip stream: %s",
					   in->z.msg ? in->z.msg : zError(r));
	}
	if (filled < cap && in->raw_eof && !in->member_done)
		return reader_fail(in, EBADMSG, "layer: truncated gzip stream (it ends inside a member)");
	return (ssize_t)filled;
}

static ssize_t reader_copy(struct box_in *in, unsigned char *buf, size_t cap)
{
	size_t filled = 0;

	while (filled < cap) {
		size_t n;
		int r = reader_fill_input(in);

		if (r < 0)
			return r;
		if (in->z.avail_in == 0)
			break;
		n = in->z.avail_in < cap - filled ? in->z.avail_in : cap - filled;
		memcpy(buf + filled, in->z.next_in, n);
		in->z.next_in += n;
		in->z.avail_in -= (unsigned)n;
		filled += n;
	}
	return (ssize_t)filled;
}

/* Wait for a free block; false when asked to stop. */
static bool reader_wait_slot(struct box_in *in)
{
	bool ok;

	pthread_mutex_lock(&in->lock);
	while (in->count == RING_BLOCKS && !in->stop)
		pthread_cond_wait(&in->cond, &in->lock);
	ok = !in->stop;
	pthread_mutex_unlock(&in->lock);
	return ok;
}

static void reader_publish(struct box_in *in, size_t len, bool end)
{
	if (end) {
		box_sha256_hex(&in->raw_sha, in->digest);
		box_sha256_hex(&in->tar_sha, in->diff_id);
	}
	pthread_mutex_lock(&in->lock);
	if (len > 0) {
		in->len[in->head] = len;
		in->head = (in->head + 1) % RING_BLOCKS;
		in->count++;
	}
	if (end)
		in->done = true;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
}

static void *reader_main(void *arg)
{
	struct box_in *in = arg;

	if (reader_detect(in) < 0)
		goto fail;
	for (;;) {
		unsigned char *buf;
		ssize_t n;
		bool end;

		if (!reader_wait_slot(in))
			return NULL;
		buf = in->block[in->head];
		n = in->gzip ? reader_inflate(in, buf, BLOCK_SIZE) : reader_copy(in, buf, BLOCK_SIZE);
		if (n < 0)
			goto fail;
		sha256_update(&in->tar_sha, (size_t)n, buf);
		in->tar_bytes += (uint64_t)n;
		end = (size_t)n < BLOCK_SIZE;
		reader_publish(in, (size_t)n, end);
		if (end)
			return NULL;
	}
fail:
	pthread_mutex_lock(&in->lock);
	in->done = true;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
	return NULL;
}

/* ---- the parser's side ---- */

int box_in_open(struct box_in **out, int fd)
{
	struct box_in *in = calloc(1, sizeof(*in));
	int r;

	if (!in)
		return box_err(ENOMEM, "layer input: out of memory");
	in->fd = fd;
	pthread_mutex_init(&in->lock, NULL);
	pthread_cond_init(&in->cond, NULL);
	sha256_init(&in->raw_sha);
	sha256_init(&in->tar_sha);
	for (int i = 0; i < RING_BLOCKS; i++) {
		in->block[i] = malloc(BLOCK_SIZE);
		if (!in->block[i]) {
			box_in_free(in);
			return box_err(ENOMEM, "layer input: out of memory");
		}
	}
	r = pthread_create(&in->thread, NULL, reader_main, in);
	if (r != 0) {
		box_in_free(in);
		return box_err_errno(r, "layer input: starting the reader thread");
	}
	in->running = true;
	*out = in;
	return 0;
}

void box_in_free(struct box_in *in)
{
	if (!in)
		return;
	if (in->running) {
		pthread_mutex_lock(&in->lock);
		in->stop = true;
		pthread_cond_broadcast(&in->cond);
		pthread_mutex_unlock(&in->lock);
		pthread_join(in->thread, NULL);
	}
	if (in->z_init)
		inflateEnd(&in->z);
	for (int i = 0; i < RING_BLOCKS; i++)
		free(in->block[i]);
	pthread_cond_destroy(&in->cond);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

ssize_t box_in_peek(struct box_in *in, const unsigned char **p)
{
	if (in->holding && in->off < in->len[in->tail]) {
		*p = in->block[in->tail] + in->off;
		return (ssize_t)(in->len[in->tail] - in->off);
	}
	pthread_mutex_lock(&in->lock);
	if (in->holding) {
		/* hand the used-up block back */
		in->holding = false;
		in->tail = (in->tail + 1) % RING_BLOCKS;
		in->count--;
		pthread_cond_broadcast(&in->cond);
	}
	while (in->count == 0 && !in->done)
		pthread_cond_wait(&in->cond, &in->lock);
	if (in->count > 0) {
		in->holding = true;
		in->off = 0;
		pthread_mutex_unlock(&in->lock);
		*p = in->block[in->tail];
		return (ssize_t)in->len[in->tail];
	}
	pthread_mutex_unlock(&in->lock);
	if (in->err)
		return box_err(in->err, "%s", in->msg);
	return 0;
}

void box_in_consume(struct box_in *in, size_t n)
{
	in->off += n;
}

int box_in_read(struct box_in *in, void *buf, size_t n, size_t *got)
{
	size_t done = 0;

	while (done < n) {
		const unsigned char *p;
		ssize_t avail = box_in_peek(in, &p);
		size_t take;

		if (avail < 0)
			return (int)avail;
		if (avail == 0)
			break;
		take = (size_t)avail < n - done ? (size_t)avail : n - done;
		memcpy((unsigned char *)buf + done, p, take);
		box_in_consume(in, take);
		done += take;
	}
	if (got)
		*got = done;
	return done == n ? 0 : -ENODATA;
}

int box_in_drain(struct box_in *in)
{
	for (;;) {
		const unsigned char *p;
		ssize_t avail = box_in_peek(in, &p);

		if (avail <= 0)
			return (int)avail;
		box_in_consume(in, (size_t)avail);
	}
}

uint64_t box_in_raw_bytes(struct box_in *in)
{
	return atomic_load(&in->raw_bytes);
}

void box_in_info(struct box_in *in, struct box_layer_info *info)
{
	memcpy(info->digest, in->digest, sizeof(info->digest));
	memcpy(info->diff_id, in->diff_id, sizeof(info->diff_id));
	info->size = atomic_load(&in->raw_bytes);
	info->gzip = in->gzip;
}

/* ---- output ---- */

struct box_out {
	int fd;
	bool gzip;
	z_stream z;
	bool z_init;
	struct sha256_ctx raw_sha, tar_sha;
	uint64_t raw_bytes;
	unsigned char buf[BLOCK_SIZE];
};

int box_out_open(struct box_out **out, int fd, bool gzip)
{
	struct box_out *o = calloc(1, sizeof(*o));

	if (!o)
		return box_err(ENOMEM, "layer output: out of memory");
	o->fd = fd;
	o->gzip = gzip;
	sha256_init(&o->raw_sha);
	sha256_init(&o->tar_sha);
	if (gzip) {
		/* 16 + 15: a gzip wrapper (zlib writes mtime 0: the same tree
		 * gives the same bytes) */
		if (deflateInit2(&o->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			free(o);
			return box_err(ENOMEM, "layer output: starting zlib");
		}
		o->z_init = true;
	}
	*out = o;
	return 0;
}

static int write_all(struct box_out *o, const unsigned char *p, size_t n)
{
	sha256_update(&o->raw_sha, n, p);
	o->raw_bytes += n;
	while (n > 0) {
		ssize_t w = write(o->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return box_err_errno(errno, "writing the layer");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int deflate_some(struct box_out *o, const void *buf, size_t n, int flush)
{
	o->z.next_in = (unsigned char *)buf;
	o->z.avail_in = (unsigned)n;
	for (;;) {
		int r, w;

		o->z.next_out = o->buf;
		o->z.avail_out = sizeof(o->buf);
		r = deflate(&o->z, flush);
		if (r == Z_STREAM_ERROR)
			return box_err(EIO, "layer output: zlib failed");
		w = write_all(o, o->buf, sizeof(o->buf) - o->z.avail_out);
		if (w < 0)
			return w;
		if (flush == Z_FINISH ? r == Z_STREAM_END : o->z.avail_out != 0)
			return 0;
	}
}

int box_out_write(struct box_out *o, const void *buf, size_t n)
{
	sha256_update(&o->tar_sha, n, buf);
	if (!o->gzip)
		return write_all(o, buf, n);
	/* avail_in is an unsigned int: feed big buffers in parts */
	while (n > 0) {
		size_t part = n > (1u << 30) ? (1u << 30) : n;
		int r = deflate_some(o, buf, part, Z_NO_FLUSH);

		if (r < 0)
			return r;
		buf = (const unsigned char *)buf + part;
		n -= part;
	}
	return 0;
}

int box_out_finish(struct box_out *o, struct box_layer_info *info)
{
	if (o->gzip) {
		int r = deflate_some(o, NULL, 0, Z_FINISH);

		if (r < 0)
			return r;
	}
	if (info) {
		box_sha256_hex(&o->raw_sha, info->digest);
		box_sha256_hex(&o->tar_sha, info->diff_id);
		info->size = o->raw_bytes;
		info->gzip = o->gzip;
	}
	return 0;
}

void box_out_free(struct box_out *o)
{
	if (!o)
		return;
	if (o->z_init)
		deflateEnd(&o->z);
	free(o);
}
