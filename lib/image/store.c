/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image store: blobs by digest, layers by chain id, images.json; the
 * lock, atomic writes and the garbage sweep (see store.h for the layout). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "image/store.h"

void store_digest(const void *data, size_t len, char out[BOX_DIGEST_LEN])
{
	struct sha256_ctx h;
	uint8_t raw[SHA256_DIGEST_SIZE];

	sha256_init(&h);
	sha256_update(&h, len, data);
	sha256_digest(&h, sizeof(raw), raw);
	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", raw[i]);
}

bool store_digest_valid(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

void store_blob_path(const char *digest, char *out, size_t len)
{
	snprintf(out, len, "blobs/sha256/%s", digest + 7);
}

/* ---- removing trees ---- */

static int rm_children(int dfd)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int r = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			continue;
		if (errno == EISDIR || errno == EPERM) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				r = r ? r : -errno;
				continue;
			}
			int rr = rm_children(sub);

			if (rr < 0 && !r)
				r = rr;
			if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0 && !r)
				r = -errno;
		} else if (errno != ENOENT && !r) {
			r = -errno;
		}
	}
	closedir(d);
	return r;
}

int store_rm_rf(int dirfd, const char *path)
{
	int fd, r;

	if (unlinkat(dirfd, path, 0) == 0 || errno == ENOENT)
		return 0;
	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = rm_children(fd);
	if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT && !r)
		r = -errno;
	return r;
}

/* ---- open, lock, commit ---- */

static int write_at(int dirfd, const char *name, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "tmp/%s.%d",
		 strrchr(name, '/') ? strrchr(name, '/') + 1 : name, getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}

static void sweep(struct store *s);

static bool dir_empty(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	bool empty = true;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = false;
			break;
		}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	return empty;
}

/* jansson's json_loadfd reads a byte per read(2): read it whole first */
static json_t *load_at(int dirfd, const char *name, json_error_t *jerr, int *err)
{
	struct stat st;
	char *buf;
	size_t off = 0;
	json_t *j;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	*err = 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		*err = -errno;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	j = json_loadb(buf, off, 0, jerr);
	free(buf);
	return j;
}

int store_open(box_ctx *ctx, bool exclusive, struct store *s)
{
	static const char *const dirs[] = { "tmp", "blobs", "blobs/sha256", "layers", "boxes" };
	int r;

	*s = (struct store){ .ctx = ctx, .dirfd = -1, .lockfd = -1, .exclusive = exclusive };
	r = box_mkdir_p(ctx->store_dir, 0700);
	if (r < 0)
		return box_err_errno(-r, "image store %s", ctx->store_dir);
	s->dirfd = open(ctx->store_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		return box_err_errno(errno, "image store %s", ctx->store_dir);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (mkdirat(s->dirfd, dirs[i], 0700) < 0 && errno != EEXIST) {
			r = box_err_errno(errno, "image store %s/%s", ctx->store_dir, dirs[i]);
			goto fail;
		}
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		r = box_err_errno(errno, "image store %s/lock", ctx->store_dir);
		goto fail;
	}
	/* a reader that finds what a dead change left in tmp/ clears it when
	 * nobody else holds the store, then reads */
	if (!exclusive && flock(s->lockfd, LOCK_EX | LOCK_NB) == 0) {
		if (!dir_empty(s->dirfd, "tmp"))
			s->sweep_now = true;
	} else {
		while (flock(s->lockfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
			if (errno != EINTR) {
				r = box_err_errno(errno, "image store %s: lock", ctx->store_dir);
				goto fail;
			}
	}
	{
		json_error_t jerr = { 0 };
		int e;

		s->db = load_at(s->dirfd, "images.json", &jerr, &e);
		if (e == -ENOENT) {
			s->db = json_pack("{s:[]}", "images");
		} else if (e < 0) {
			r = box_err_errno(-e, "image store %s/images.json", ctx->store_dir);
			goto fail;
		}
		if (!s->db || !json_is_array(json_object_get(s->db, "images"))) {
			r = box_err(EUCLEAN, "image store %s/images.json: damaged (%s)", ctx->store_dir,
				    s->db ? "no image list" : jerr.text);
			goto fail;
		}
	}
	if (exclusive || s->sweep_now)
		sweep(s);
	if (!exclusive)
		flock(s->lockfd, LOCK_SH); /* from exclusive, or already shared */
	s->sweep_now = false;
	return 0;
fail:
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (s->db)
		json_decref(s->db);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->db = NULL;
	s->lockfd = s->dirfd = -1;
}

int store_commit(struct store *s)
{
	char *text;
	int r;

	if (!s->dirty)
		return 0;
	/* what images.json will name must be on disk before it does */
	if (syncfs(s->dirfd) < 0)
		return box_err_errno(errno, "image store %s: syncfs", s->ctx->store_dir);
	text = json_dumps(s->db, JSON_INDENT(1));
	if (!text)
		return box_err(ENOMEM, "image store: out of memory");
	r = write_at(s->dirfd, "images.json", text, strlen(text));
	free(text);
	if (r < 0)
		return box_err_errno(-r, "image store %s/images.json", s->ctx->store_dir);
	s->dirty = false;
	sweep(s);
	return 0;
}

int store_mkdtemp(struct store *s, char *out, size_t len)
{
	for (int i = 0; i < 100; i++) {
		uint32_t rnd = 0;

		if (getrandom(&rnd, sizeof(rnd), 0) < 0)
			rnd = (uint32_t)getpid() * 7919u + (uint32_t)i;
		snprintf(out, len, "tmp/%08x", rnd);
		if (mkdirat(s->dirfd, out, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return box_err_errno(errno, "image store %s/%s", s->ctx->store_dir, out);
	}
	return box_err(EEXIST, "image store %s/tmp: no free name", s->ctx->store_dir);
}

/* ---- garbage ---- */

static bool set_has(json_t *set, const char *key)
{
	return key && json_object_get(set, key) != NULL;
}

static void set_add(json_t *set, const char *key)
{
	if (key)
		json_object_set_new(set, key, json_true());
}

/* What the boxes of this store use: STORE/boxes/ID/image.json */
static void box_refs(struct store *s, json_t *layers, json_t *blobs)
{
	int fd = openat(s->dirfd, "boxes", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		json_t *j;
		size_t i;
		json_t *l;
		int jerr;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "boxes/%s/image.json", e->d_name);
		j = load_at(s->dirfd, path, NULL, &jerr);
		if (!j)
			continue;
		json_array_foreach(json_object_get(j, "layers"), i, l) {
			set_add(layers, json_string_value(json_object_get(l, "chain")));
			set_add(blobs, json_string_value(json_object_get(l, "digest")));
		}
		json_decref(j);
	}
	closedir(d);
}

static void sweep_dir(struct store *s, const char *dir, json_t *keep)
{
	int fd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		char digest[300];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(digest, sizeof(digest), "sha256:%s", e->d_name);
		if (!keep || !set_has(keep, digest))
			store_rm_rf(dirfd(d), e->d_name);
	}
	closedir(d);
}

/* Remove what was left half done (tmp/) and what nothing refers to. */
static void sweep(struct store *s)
{
	json_t *layers = json_object(), *blobs = json_object(), *img;
	size_t i, k;

	if (!layers || !blobs)
		goto out;
	sweep_dir(s, "tmp", NULL);
	json_array_foreach(json_object_get(s->db, "images"), i, img) {
		json_t *l;

		set_add(blobs, json_string_value(json_object_get(img, "id")));
		set_add(blobs, json_string_value(json_object_get(img, "manifest")));
		json_array_foreach(json_object_get(img, "layers"), k, l) {
			set_add(layers, json_string_value(json_object_get(l, "chain")));
			set_add(blobs, json_string_value(json_object_get(l, "digest")));
		}
	}
	box_refs(s, layers, blobs);
	sweep_dir(s, "layers", layers);
	sweep_dir(s, "blobs/sha256", blobs);
out:
	json_decref(layers);
	json_decref(blobs);
}

/* ---- blobs ---- */

int store_put_blob(struct store *s, const void *data, size_t len, const char *want,
		   const char *what, char out[BOX_DIGEST_LEN])
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	store_digest(data, len, out);
	if (want && strcmp(want, out) != 0)
		return box_err(EBADMSG, "%s: digest mismatch: expected %s, got %s", what, want, out);
	store_blob_path(out, path, sizeof(path));
	if (fstatat(s->dirfd, path, &st, 0) == 0 && (size_t)st.st_size == len)
		return 0;
	r = write_at(s->dirfd, path, data, len);
	if (r < 0)
		return box_err_errno(-r, "image store: writing %s", what);
	return 0;
}

int store_read_blob(struct store *s, const char *digest, char **data, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	int fd;
	size_t off = 0;

	if (!store_digest_valid(digest))
		return box_err(EINVAL, "\"%s\" is not a sha256 digest", digest ? digest : "(null)");
	store_blob_path(digest, path, sizeof(path));
	fd = openat(s->dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return box_err_errno(errno, "image store: blob %s", digest);
	if (fstat(fd, &st) < 0 || st.st_size > 64 << 20) {
		close(fd);
		return box_err(EFBIG, "image store: blob %s: too big to read whole", digest);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return box_err(ENOMEM, "image store: out of memory");
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return box_err_errno(n < 0 ? errno : EIO, "image store: reading blob %s", digest);
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*data = buf;
	*len = off;
	return 0;
}

/* ---- layers ---- */

int store_spool(struct store *s, int fd, char *name, size_t namelen, uint64_t *size)
{
	int out;
	uint64_t total = 0;
	int r = store_mkdtemp(s, name, namelen);

	if (r < 0)
		return r;
	strncat(name, "/blob", namelen - strlen(name) - 1);
	out = openat(s->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0)
		return box_err_errno(errno, "image store %s/%s", s->ctx->store_dir, name);
	for (;;) {
		ssize_t n = copy_file_range(fd, NULL, out, NULL, 1 << 30, 0);

		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			      errno == EOPNOTSUPP)) {
			char buf[1 << 16];

			n = read(fd, buf, sizeof(buf));
			if (n > 0 && write(out, buf, (size_t)n) != n)
				n = -1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = box_err_errno(errno, "image store: copying a layer");
			close(out);
			return r;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
	}
	if (lseek(out, 0, SEEK_SET) < 0) {
		r = box_err_errno(errno, "image store: seek");
		close(out);
		return r;
	}
	*size = total;
	return out;
}

static int digest_fd(int fd, char out[BOX_DIGEST_LEN])
{
	struct sha256_ctx h;
	uint8_t raw[SHA256_DIGEST_SIZE];
	static __thread uint8_t buf[1 << 16];

	sha256_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		sha256_update(&h, (size_t)n, buf);
	}
	sha256_digest(&h, sizeof(raw), raw);
	memcpy(out, "sha256:", 7);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static void chain_of(const char *parent, const char *diff_id, char out[BOX_DIGEST_LEN])
{
	char buf[2 * BOX_DIGEST_LEN + 2];

	if (!parent) {
		snprintf(out, BOX_DIGEST_LEN, "%s", diff_id);
		return;
	}
	snprintf(buf, sizeof(buf), "%s %s", parent, diff_id);
	store_digest(buf, strlen(buf), out);
}

struct progress_ctx {
	box_ctx *ctx;
	const struct store_progress *p;
};

static void on_progress(uint64_t done, void *user)
{
	struct progress_ctx *pc = user;

	pc->ctx->progress(pc->p->index, pc->p->count, done, pc->p->total, pc->ctx->progress_user);
}

int store_add_layer(struct store *s, int fd, const char *digest, const char *diff_id,
		    const char *parent_chain, const struct store_progress *p,
		    struct box_layer_info *info, char chain[BOX_DIGEST_LEN])
{
	char tmp[PATH_MAX], spool[PATH_MAX], path[PATH_MAX], blob[PATH_MAX];
	struct progress_ctx pc = { s->ctx, p };
	struct box_unpack_opts o = {
		.mode = BOX_UNPACK_OVERLAY,
		.allow_devices = geteuid() == 0,
		.keep_owner = geteuid() == 0,
		.expect_digest = digest,
		.progress = s->ctx->progress && p ? on_progress : NULL,
		.user = &pc,
	};
	struct stat st;
	uint64_t size;
	int in, dfd, r;

	memset(info, 0, sizeof(*info));
	/* shared: the layer is there already, with its blob */
	if (digest && diff_id) {
		chain_of(parent_chain, diff_id, chain);
		snprintf(path, sizeof(path), "layers/%s/diff", chain + 7);
		store_blob_path(digest, blob, sizeof(blob));
		if (fstatat(s->dirfd, path, &st, 0) == 0 && fstatat(s->dirfd, blob, &st, 0) == 0) {
			/* not unpacked again, but what came is still verified */
			char got[BOX_DIGEST_LEN];

			r = digest_fd(fd, got);
			if (r < 0)
				return box_err_errno(-r, "layer %s: reading it", digest);
			if (strcmp(got, digest) != 0)
				return box_err(EBADMSG, "layer %s: digest mismatch (its content is %s)",
					       digest, got);
			snprintf(info->digest, sizeof(info->digest), "%s", digest);
			snprintf(info->diff_id, sizeof(info->diff_id), "%s", diff_id);
			info->size = (uint64_t)st.st_size;
			return 0;
		}
	}
	in = store_spool(s, fd, spool, sizeof(spool), &size);
	if (in < 0)
		return in;
	snprintf(tmp, sizeof(tmp), "%s", spool);
	*strrchr(tmp, '/') = '\0';
	strncat(tmp, "/diff", sizeof(tmp) - strlen(tmp) - 1);
	if (mkdirat(s->dirfd, tmp, 0755) < 0 ||
	    (dfd = openat(s->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = box_err_errno(errno, "image store %s/%s", s->ctx->store_dir, tmp);
		close(in);
		return r;
	}
	r = box_layer_unpack(in, dfd, &o, info);
	close(in);
	close(dfd);
	if (r < 0)
		return r; /* the message names the entry; tmp/ is swept */
	if (diff_id && strcmp(diff_id, info->diff_id) != 0)
		return box_err(EBADMSG, "layer %s: its content has digest %s, the image config says %s",
			       info->digest, info->diff_id, diff_id);
	chain_of(parent_chain, info->diff_id, chain);
	/* the blob, then the layer, each by one rename */
	store_blob_path(info->digest, blob, sizeof(blob));
	if (renameat(s->dirfd, spool, s->dirfd, blob) < 0)
		return box_err_errno(errno, "image store: blob %s", info->digest);
	snprintf(path, sizeof(path), "layers/%s", chain + 7);
	*strrchr(tmp, '/') = '\0';
	if (fstatat(s->dirfd, path, &st, 0) == 0)
		return 0; /* the same content came under another blob */
	if (renameat(s->dirfd, tmp, s->dirfd, path) < 0)
		return box_err_errno(errno, "image store: layer %s", chain);
	return 0;
}

/* ---- refs and images ---- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-' || c == '/' || c == ':';
}

char *store_normalize_ref(const char *ref, int *err)
{
	const char *slash, *colon;
	char *out;

	if (!ref || !ref[0] || strlen(ref) > 255 || ref[0] == '/' || ref[0] == ':' ||
	    ref[0] == '.' || ref[0] == '-') {
		*err = box_err(EINVAL, "image name \"%s\": must be NAME[:TAG]", ref ? ref : "(null)");
		return NULL;
	}
	for (const char *p = ref; *p; p++)
		if (!name_char(*p) && !(*p >= 'A' && *p <= 'Z' && strrchr(ref, ':') &&
					p > strrchr(ref, ':'))) {
			*err = box_err(EINVAL,
				       "image name \"%s\": '%c' is not allowed (lowercase letters, "
				       "digits, . _ - / and :TAG)",
				       ref, *p);
			return NULL;
		}
	/* as docker shows them: without the default registry */
	if (strncmp(ref, "docker.io/library/", 18) == 0 && ref[18])
		ref += 18;
	else if (strncmp(ref, "docker.io/", 10) == 0 && ref[10])
		ref += 10;
	slash = strrchr(ref, '/');
	colon = strrchr(ref, ':');
	if (colon && (!slash || colon > slash)) {
		if (!colon[1] || colon == ref) {
			*err = box_err(EINVAL, "image name \"%s\": empty name or tag", ref);
			return NULL;
		}
		out = strdup(ref);
	} else if (asprintf(&out, "%s:latest", ref) < 0) {
		out = NULL;
	}
	if (!out)
		*err = box_err(ENOMEM, "out of memory");
	return out;
}

static bool has_name(json_t *img, const char *name)
{
	size_t i;
	json_t *n;

	json_array_foreach(json_object_get(img, "names"), i, n)
		if (strcmp(json_string_value(n), name) == 0)
			return true;
	return false;
}

json_t *store_find_image(struct store *s, const char *ref, int *err)
{
	json_t *imgs = json_object_get(s->db, "images"), *img, *found = NULL;
	size_t i, n;
	int hits = 0;
	bool hex = true;

	if (!ref || !ref[0]) {
		*err = box_err(EINVAL, "no image named");
		return NULL;
	}
	if (strncmp(ref, "sha256:", 7) == 0) {
		json_array_foreach(imgs, i, img)
			if (strcmp(json_string_value(json_object_get(img, "id")), ref) == 0)
				return img;
		*err = box_err(ENOENT, "no such image: %s", ref);
		return NULL;
	}
	{
		int e = 0;
		char *norm = store_normalize_ref(ref, &e);

		if (norm) {
			json_array_foreach(imgs, i, img)
				if (has_name(img, norm)) {
					free(norm);
					return img;
				}
			free(norm);
		}
		box_err_clear();
	}
	n = strlen(ref);
	for (size_t k = 0; k < n; k++)
		if (!((ref[k] >= '0' && ref[k] <= '9') || (ref[k] >= 'a' && ref[k] <= 'f')))
			hex = false;
	if (hex && n >= 4) {
		json_array_foreach(imgs, i, img) {
			const char *id = json_string_value(json_object_get(img, "id"));

			if (id && strncmp(id + 7, ref, n) == 0) {
				found = img;
				hits++;
			}
		}
		if (hits == 1)
			return found;
		if (hits > 1) {
			*err = box_err(EINVAL, "\"%s\" is the prefix of more than one image id", ref);
			return NULL;
		}
	}
	{
		char *norm = store_normalize_ref(ref, err); /* an invalid name says why */

		if (!norm)
			return NULL;
		free(norm);
	}
	*err = box_err(ENOENT, "no such image: %s", ref);
	return NULL;
}

json_t *store_image_config(struct store *s, json_t *img)
{
	char *data;
	size_t len;
	json_t *cfg;

	if (store_read_blob(s, json_string_value(json_object_get(img, "id")), &data, &len) < 0)
		return NULL;
	cfg = json_loadb(data, len, 0, NULL);
	free(data);
	return cfg;
}

/* Take name from every image that holds it. */
static void untag(struct store *s, const char *name)
{
	json_t *img;
	size_t i, k;
	json_t *n;

	json_array_foreach(json_object_get(s->db, "images"), i, img) {
		json_t *names = json_object_get(img, "names");

		json_array_foreach(names, k, n)
			if (strcmp(json_string_value(n), name) == 0) {
				json_array_remove(names, k);
				break;
			}
	}
}

int store_add_image(struct store *s, const char *config_digest, const char *manifest_digest,
		    json_t *layers, const char *const *names, char id_out[BOX_DIGEST_LEN])
{
	json_t *imgs = json_object_get(s->db, "images"), *img = NULL, *cur, *cfg, *l;
	const char *created = NULL;
	char now[40];
	uint64_t size = 0;
	size_t i;

	json_array_foreach(imgs, i, cur)
		if (strcmp(json_string_value(json_object_get(cur, "id")), config_digest) == 0)
			img = cur;
	json_array_foreach(layers, i, l)
		size += (uint64_t)json_integer_value(json_object_get(l, "size"));
	if (!img) {
		char *data;
		size_t len;
		int r = store_read_blob(s, config_digest, &data, &len);

		if (r < 0) {
			json_decref(layers);
			return r;
		}
		cfg = json_loadb(data, len, 0, NULL);
		free(data);
		created = json_string_value(json_object_get(cfg, "created"));
		box_time_now(now);
		img = json_pack("{s:s, s:[], s:s, s:s?, s:o, s:I}", "id", config_digest, "names",
				"created", created ? created : now, "manifest", manifest_digest,
				"layers", layers, "size", (json_int_t)size);
		json_decref(cfg);
		if (!img || json_array_append_new(imgs, img) < 0)
			return box_err(ENOMEM, "image store: out of memory");
	} else {
		json_decref(layers);
		if (manifest_digest && !json_object_get(img, "manifest"))
			json_object_set_new(img, "manifest", json_string(manifest_digest));
	}
	for (size_t k = 0; names && names[k]; k++) {
		if (has_name(img, names[k]))
			continue;
		untag(s, names[k]);
		json_array_append_new(json_object_get(img, "names"), json_string(names[k]));
	}
	s->dirty = true;
	snprintf(id_out, BOX_DIGEST_LEN, "%s", config_digest);
	return 0;
}
