/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tar format (POSIX.1-2001 ustar and pax, GNU's extensions): headers
 * to entries and back.  Every field is checked; a number that does not
 * parse, a checksum that does not match or a malformed pax record is an
 * error naming the entry. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <nettle/base64.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "image/tar.h"

/* ustar field offsets and sizes */
#define F_NAME 0, 100
#define F_MODE 100, 8
#define F_UID 108, 8
#define F_GID 116, 8
#define F_SIZE 124, 12
#define F_MTIME 136, 12
#define F_CHKSUM 148, 8
#define O_TYPE 156
#define F_LINK 157, 100
#define F_MAGIC 257, 6
#define F_VERSION 263, 2
#define F_DEVMAJOR 329, 8
#define F_DEVMINOR 337, 8
#define F_PREFIX 345, 155

void tar_entry_reset(struct tar_entry *e)
{
	free(e->path);
	free(e->link);
	for (size_t i = 0; i < e->nxattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
	memset(e, 0, sizeof(*e));
}

bool tar_block_is_zero(const unsigned char *b)
{
	for (size_t i = 0; i < TAR_BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

static size_t field_len(const unsigned char *b, size_t off, size_t len)
{
	return strnlen((const char *)b + off, len);
}

void tar_header_name(const unsigned char *b, char *out, size_t len)
{
	size_t np = field_len(b, F_PREFIX), nn = field_len(b, F_NAME);
	bool ustar = memcmp(b + 257, "ustar\0", 6) == 0;

	if (ustar && np)
		snprintf(out, len, "%.*s/%.*s", (int)np, b + 345, (int)nn, b);
	else
		snprintf(out, len, "%.*s", (int)nn, b);
	/* for a message: no control characters */
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* An octal field (spaces or NULs around it), or GNU's base 256 (the high
 * bit of the first byte set; negative numbers are refused). */
static int parse_number(const unsigned char *b, size_t off, size_t len, uint64_t *out)
{
	const unsigned char *p = b + off, *end = p + len;
	uint64_t v = 0;

	if (*p & 0x80) {
		if (*p & 0x40)
			return -ERANGE; /* negative */
		v = *p++ & 0x3f;
		for (; p < end; p++) {
			if (v >> 55)
				return -ERANGE;
			v = v << 8 | *p;
		}
		*out = v;
		return 0;
	}
	while (p < end && (*p == ' ' || *p == '\0'))
		p++;
	for (; p < end && *p >= '0' && *p <= '7'; p++) {
		if (v >> 60)
			return -ERANGE;
		v = v << 3 | (uint64_t)(*p - '0');
	}
	for (; p < end; p++)
		if (*p != ' ' && *p != '\0')
			return -EINVAL;
	*out = v;
	return 0;
}

static bool checksum_ok(const unsigned char *b)
{
	uint64_t want;
	unsigned long usum = 0;
	long ssum = 0;

	if (parse_number(b, F_CHKSUM, &want) < 0)
		return false;
	for (size_t i = 0; i < TAR_BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : b[i];

		usum += c;
		ssum += (signed char)c;
	}
	return want == usum || (int64_t)want == ssum;
}

static int dup_field(const unsigned char *b, size_t off, size_t len, char **out)
{
	char *s = strndup((const char *)b + off, len);

	if (!s)
		return -ENOMEM;
	free(*out);
	*out = s;
	return 0;
}

static int header_path(const unsigned char *b, struct tar_entry *e)
{
	size_t np = field_len(b, F_PREFIX), nn = field_len(b, F_NAME);
	char *s;

	if (e->path)
		return 0; /* from a pax or GNU header */
	if (memcmp(b + 257, "ustar\0", 6) != 0 || np == 0)
		return dup_field(b, F_NAME, &e->path);
	s = malloc(np + nn + 2);
	if (!s)
		return -ENOMEM;
	memcpy(s, b + 345, np);
	s[np] = '/';
	memcpy(s + np + 1, b, nn);
	s[np + nn + 1] = '\0';
	e->path = s;
	return 0;
}

static int header_numbers(const unsigned char *b, struct tar_entry *e)
{
	uint64_t mode, uid, gid, size, mtime, major, minor;

	if (parse_number(b, F_MODE, &mode) < 0 || parse_number(b, F_UID, &uid) < 0 ||
	    parse_number(b, F_GID, &gid) < 0 || parse_number(b, F_SIZE, &size) < 0 ||
	    parse_number(b, F_MTIME, &mtime) < 0)
		return -EBADMSG;
	/* GNU and old tars leave the device fields of other entries blank or
	 * odd: only the devices' are read */
	if (b[O_TYPE] == '3' || b[O_TYPE] == '4') {
		if (parse_number(b, F_DEVMAJOR, &major) < 0 || parse_number(b, F_DEVMINOR, &minor) < 0 ||
		    major > UINT32_MAX || minor > UINT32_MAX)
			return -EBADMSG;
		e->devmajor = (unsigned)major;
		e->devminor = (unsigned)minor;
	}
	if ((!e->has_uid && uid > UINT32_MAX) || (!e->has_gid && gid > UINT32_MAX) ||
	    (!e->has_mtime && mtime > INT64_MAX))
		return -EBADMSG;
	e->mode = (mode_t)(mode & 07777);
	if (!e->has_uid)
		e->uid = (uint32_t)uid;
	if (!e->has_gid)
		e->gid = (uint32_t)gid;
	if (!e->has_size)
		e->size = size;
	if (!e->has_mtime)
		e->mtime = (int64_t)mtime;
	return 0;
}

int tar_parse_header(const unsigned char *b, struct tar_entry *e, char *type)
{
	char name[256];

	tar_header_name(b, name, sizeof(name));
	if (!checksum_ok(b))
		return box_err(EBADMSG, "layer: entry \"%s\": bad header checksum", name);
	if (header_numbers(b, e) < 0)
		return box_err(EBADMSG, "layer: entry \"%s\": a header field is not a number", name);
	*type = (char)b[O_TYPE];
	if (header_path(b, e) < 0)
		return box_err(ENOMEM, "layer: out of memory");
	if (!e->link && (*type == '1' || *type == '2') && dup_field(b, F_LINK, &e->link) < 0)
		return box_err(ENOMEM, "layer: out of memory");
	return 0;
}

/* ---- pax ---- */

static int pax_decimal(const char *v, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9' || n > (max - (uint64_t)(v[i] - '0')) / 10)
			return -EINVAL;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

/* "SECONDS[.FRACTION]", possibly negative */
static int pax_time(const char *v, size_t len, int64_t *sec, long *nsec)
{
	const char *dot = memchr(v, '.', len);
	size_t ilen = dot ? (size_t)(dot - v) : len;
	bool neg = len > 0 && v[0] == '-';
	uint64_t s;
	long ns = 0;

	if (pax_decimal(v + neg, ilen - neg, INT64_MAX, &s) < 0)
		return -EINVAL;
	if (dot) {
		long scale = 100000000;

		for (const char *p = dot + 1; p < v + len; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			ns += (*p - '0') * scale;
			scale /= 10;
		}
	}
	*sec = neg ? -(int64_t)s : (int64_t)s;
	*nsec = neg ? 0 : ns;
	return 0;
}

static int set_string(char **dst, const char *v, size_t len)
{
	char *s;

	if (memchr(v, '\0', len) || len > TAR_MAX_NAME)
		return -EINVAL;
	s = strndup(v, len);
	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int add_xattr(struct tar_entry *e, char *name, unsigned char *value, size_t len)
{
	struct tar_xattr *x = realloc(e->xattrs, (e->nxattrs + 1) * sizeof(*x));

	if (!x) {
		free(name);
		free(value);
		return -ENOMEM;
	}
	e->xattrs = x;
	x[e->nxattrs++] = (struct tar_xattr){ .name = name, .value = value, .len = len };
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* LIBARCHIVE.xattr.NAME: NAME is %-encoded, the value base64. */
static int libarchive_xattr(struct tar_entry *e, const char *k, size_t klen, const char *v,
			    size_t vlen)
{
	_cleanup_free_ char *name = malloc(klen + 1), *padded = malloc(vlen + 4);
	_cleanup_free_ unsigned char *value = malloc(BASE64_DECODE_LENGTH(vlen + 3) + 1);
	struct base64_decode_ctx ctx;
	size_t n = 0, plen = vlen, vout = 0;

	if (!name || !padded || !value)
		return -ENOMEM;
	for (size_t i = 0; i < klen; i++) {
		if (k[i] == '%' && i + 2 < klen + 0 && hexval(k[i + 1]) >= 0 && hexval(k[i + 2]) >= 0) {
			name[n++] = (char)(hexval(k[i + 1]) << 4 | hexval(k[i + 2]));
			i += 2;
		} else {
			name[n++] = k[i];
		}
	}
	name[n] = '\0';
	if (n == 0 || strlen(name) != n)
		return -EINVAL;
	memcpy(padded, v, vlen);
	while (plen % 4)
		padded[plen++] = '=';
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &vout, value, plen, padded) || !base64_decode_final(&ctx))
		return -EINVAL;
	return add_xattr(e, TAKE_PTR(name), TAKE_PTR(value), vout);
}

static int schily_xattr(struct tar_entry *e, const char *k, size_t klen, const char *v, size_t vlen)
{
	char *name;
	unsigned char *value;

	if (klen == 0 || memchr(k, '\0', klen))
		return -EINVAL;
	name = strndup(k, klen);
	value = malloc(vlen ? vlen : 1);
	if (!name || !value) {
		free(name);
		free(value);
		return -ENOMEM;
	}
	memcpy(value, v, vlen);
	return add_xattr(e, name, value, vlen);
}

#define KEY_IS(lit) (klen == sizeof(lit) - 1 && memcmp(k, lit, klen) == 0)
#define KEY_STARTS(lit) (klen > sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)

static int pax_record(struct tar_entry *e, const char *k, size_t klen, const char *v, size_t vlen)
{
	uint64_t n;

	if (KEY_IS("path"))
		return set_string(&e->path, v, vlen);
	if (KEY_IS("linkpath"))
		return set_string(&e->link, v, vlen);
	if (KEY_IS("size")) {
		e->has_size = true;
		return pax_decimal(v, vlen, UINT64_MAX, &e->size);
	}
	if (KEY_IS("mtime")) {
		e->has_mtime = true;
		return pax_time(v, vlen, &e->mtime, &e->mtime_nsec);
	}
	if (KEY_IS("uid") || KEY_IS("gid")) {
		if (pax_decimal(v, vlen, UINT32_MAX, &n) < 0)
			return -EINVAL;
		if (k[0] == 'u')
			e->uid = (uint32_t)n, e->has_uid = true;
		else
			e->gid = (uint32_t)n, e->has_gid = true;
		return 0;
	}
	if (KEY_STARTS("SCHILY.xattr."))
		return schily_xattr(e, k + 13, klen - 13, v, vlen);
	if (KEY_STARTS("LIBARCHIVE.xattr."))
		return libarchive_xattr(e, k + 17, klen - 17, v, vlen);
	if (KEY_STARTS("GNU.sparse."))
		return -ENOTSUP;
	return 0; /* atime, ctime, uname, gname, comment, ACLs...: not kept */
}

int tar_parse_pax(const char *data, size_t len, struct tar_entry *e, const char *name)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *sp, *eq, *rec_end;
		uint64_t rlen;
		int r;

		if (*p == '\0')
			break; /* padding */
		sp = memchr(p, ' ', (size_t)(end - p));
		if (!sp || pax_decimal(p, (size_t)(sp - p), (uint64_t)(end - p), &rlen) < 0 ||
		    rlen <= (uint64_t)(sp - p) + 1)
			goto bad;
		rec_end = p + rlen;
		if (rec_end[-1] != '\n')
			goto bad;
		eq = memchr(sp + 1, '=', (size_t)(rec_end - sp - 1));
		if (!eq || eq == sp + 1)
			goto bad;
		r = pax_record(e, sp + 1, (size_t)(eq - sp - 1), eq + 1, (size_t)(rec_end - eq - 2));
		if (r == -ENOTSUP)
			return box_err(ENOTSUP, "layer: entry \"%s\": sparse files are not supported", name);
		if (r == -ENOMEM)
			return box_err(ENOMEM, "layer: out of memory");
		if (r < 0) {
			return box_err(EBADMSG, "layer: entry \"%s\": bad pax record \"%.*s\"", name,
				       (int)(eq - sp - 1 > 64 ? 64 : eq - sp - 1), sp + 1);
		}
		p = rec_end;
	}
	return 0;
bad:
	return box_err(EBADMSG, "layer: entry \"%s\": malformed pax header", name);
}

/* ---- writing ---- */

static void put_octal(unsigned char *b, size_t off, size_t len, uint64_t v)
{
	/* len - 1 digits and a NUL */
	for (size_t i = len - 1; i-- > 0; v >>= 3)
		b[off + i] = (unsigned char)('0' + (v & 7));
	b[off + len - 1] = '\0';
}

static bool fits_octal(uint64_t v, size_t len)
{
	return (len - 1) * 3 >= 64 || v < (UINT64_C(1) << ((len - 1) * 3));
}

static void put_string(unsigned char *b, size_t off, size_t len, const char *s)
{
	size_t n = strlen(s);

	memcpy(b + off, s, n < len ? n : len);
}

static void put_checksum(unsigned char *b)
{
	unsigned sum = 0;

	memset(b + 148, ' ', 8);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += b[i];
	put_octal(b, 148, 7, sum);
	b[155] = ' ';
}

/* Append "LEN key=value\n" (LEN counts itself) to the buffer. */
static int pax_append(char **buf, size_t *len, const char *key, const void *value, size_t vlen)
{
	size_t base = strlen(key) + vlen + 3, total = base, digits;
	char *p;

	for (;;) {
		digits = (size_t)snprintf(NULL, 0, "%zu", total);
		if (base + digits == total)
			break;
		total = base + digits;
	}
	p = realloc(*buf, *len + total + 1);
	if (!p)
		return -ENOMEM;
	*buf = p;
	p += *len;
	p += sprintf(p, "%zu %s=", total, key);
	memcpy(p, value, vlen);
	p[vlen] = '\n';
	*len += total;
	return 0;
}

static int pax_records(const struct tar_entry *e, char **buf, size_t *len)
{
	char num[32];
	int r = 0;

	if (strlen(e->path) > 100)
		r = pax_append(buf, len, "path", e->path, strlen(e->path));
	if (r == 0 && e->link && strlen(e->link) > 100)
		r = pax_append(buf, len, "linkpath", e->link, strlen(e->link));
	if (r == 0 && !fits_octal(e->size, 12))
		r = pax_append(buf, len, "size", num, (size_t)sprintf(num, "%" PRIu64, e->size));
	if (r == 0 && !fits_octal(e->uid, 8))
		r = pax_append(buf, len, "uid", num, (size_t)sprintf(num, "%" PRIu32, e->uid));
	if (r == 0 && !fits_octal(e->gid, 8))
		r = pax_append(buf, len, "gid", num, (size_t)sprintf(num, "%" PRIu32, e->gid));
	if (r == 0 && (e->mtime < 0 || !fits_octal((uint64_t)e->mtime, 12)))
		r = pax_append(buf, len, "mtime", num, (size_t)sprintf(num, "%" PRId64, e->mtime));
	for (size_t i = 0; r == 0 && i < e->nxattrs; i++) {
		_cleanup_free_ char *key = NULL;

		if (asprintf(&key, "SCHILY.xattr.%s", e->xattrs[i].name) < 0)
			return -ENOMEM;
		r = pax_append(buf, len, key, e->xattrs[i].value, e->xattrs[i].len);
	}
	return r;
}

static void ustar_header(unsigned char *b, const char *name, char type, const struct tar_entry *e,
			 uint64_t size)
{
	memset(b, 0, TAR_BLOCK);
	put_string(b, F_NAME, name);
	put_octal(b, F_MODE, e->mode & 07777);
	put_octal(b, F_UID, fits_octal(e->uid, 8) ? e->uid : 0);
	put_octal(b, F_GID, fits_octal(e->gid, 8) ? e->gid : 0);
	put_octal(b, F_SIZE, fits_octal(size, 12) ? size : 0);
	put_octal(b, F_MTIME, e->mtime >= 0 && fits_octal((uint64_t)e->mtime, 12) ? (uint64_t)e->mtime : 0);
	b[O_TYPE] = (unsigned char)type;
	if (e->link)
		put_string(b, F_LINK, e->link);
	memcpy(b + 257, "ustar\0" "00", 8);
	if (type == '3' || type == '4') {
		put_octal(b, F_DEVMAJOR, e->devmajor);
		put_octal(b, F_DEVMINOR, e->devminor);
	}
	put_checksum(b);
}

int tar_format_entry(const struct tar_entry *e, unsigned char **out, size_t *outlen)
{
	_cleanup_free_ char *pax = NULL;
	size_t paxlen = 0, blocks, total;
	unsigned char *b;

	if (pax_records(e, &pax, &paxlen) < 0)
		return -ENOMEM;
	blocks = paxlen ? 2 + (paxlen + TAR_BLOCK - 1) / TAR_BLOCK : 1;
	total = blocks * TAR_BLOCK;
	b = calloc(1, total);
	if (!b)
		return -ENOMEM;
	if (paxlen) {
		struct tar_entry ph = { .mode = 0644, .mtime = 0 };

		ustar_header(b, "././@PaxHeader", 'x', &ph, paxlen);
		memcpy(b + TAR_BLOCK, pax, paxlen);
	}
	ustar_header(b + total - TAR_BLOCK, e->path, e->type, e, e->size);
	*out = b;
	*outlen = total;
	return 0;
}
