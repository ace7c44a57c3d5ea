/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Images in and out: OCI image layouts and `docker save` archives
 * (directories, or tar archives of them), rootfs tarballs, and the OCI
 * layout archive that save writes.  Every path inside an input is
 * resolved inside it (openat2 RESOLVE_IN_ROOT); every blob is verified. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "image/build.h"
#include "image/store.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZ "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* Read a small file inside root (resolved inside it) into memory. */
static int read_in(int root, const char *path, const char *where, char **data, size_t *len)
{
	char *buf;
	size_t off = 0, cap = 4096;
	int fd = box_open_in_root(root, path, O_RDONLY, false);

	if (fd < 0)
		return box_err_errno(-fd, "%s: %s", where, path);
	buf = malloc(cap);
	for (;;) {
		ssize_t n;

		if (!buf) {
			close(fd);
			return box_err(ENOMEM, "out of memory");
		}
		if (off + 1 >= cap) {
			if (cap >= 64u << 20) {
				free(buf);
				close(fd);
				return box_err(EFBIG, "%s: %s: larger than 64 MiB", where, path);
			}
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
			continue;
		}
		n = read(fd, buf + off, cap - off - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			close(fd);
			return box_err_errno(e, "%s: reading %s", where, path);
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*data = buf;
	*len = off;
	return 0;
}

static json_t *parse(const char *data, size_t len, const char *where, const char *what, int *err)
{
	json_error_t e;
	json_t *j = json_loadb(data, len, 0, &e);

	if (!j)
		*err = box_err(EINVAL, "%s: %s: not JSON (line %d: %s)", where, what, e.line, e.text);
	return j;
}

static void blob_rel(const char *digest, char *out, size_t len)
{
	snprintf(out, len, "blobs/sha256/%s", digest + 7);
}

/* Read a blob of an OCI layout, verify it, parse it. */
static json_t *oci_json_blob(int root, const char *where, const char *digest, char **raw,
			     size_t *rawlen, int *err)
{
	char path[128], got[BOX_DIGEST_LEN];
	char *data;
	size_t len;
	json_t *j;

	if (!store_digest_valid(digest)) {
		*err = box_err(EINVAL, "%s: \"%s\" is not a sha256 digest", where,
			       digest ? digest : "(none)");
		return NULL;
	}
	blob_rel(digest, path, sizeof(path));
	*err = read_in(root, path, where, &data, &len);
	if (*err < 0) {
		if (*err == -ENOENT)
			*err = box_err(ENOENT, "%s: blob %s is missing", where, digest);
		return NULL;
	}
	store_digest(data, len, got);
	if (strcmp(got, digest) != 0) {
		*err = box_err(EBADMSG, "%s: blob %s: digest mismatch (its content is %s)", where,
			       digest, got);
		free(data);
		return NULL;
	}
	j = parse(data, len, where, path, err);
	if (j && raw) {
		*raw = data;
		*rawlen = len;
	} else {
		free(data);
	}
	return j;
}

/* ---- building an image, layer by layer ---- */

int build_begin(struct store *s, json_t *base, struct build *b)
{
	json_t *l;
	size_t i;

	*b = (struct build){ .s = s };
	b->layers = json_array();
	if (base) {
		b->config = store_image_config(s, base);
		if (!b->config)
			return box_err(EIO, "image %s: its config cannot be read",
				       json_string_value(json_object_get(base, "id")));
		json_array_foreach(json_object_get(base, "layers"), i, l) {
			json_array_append(b->layers, l);
			snprintf(b->chain, sizeof(b->chain), "%s",
				 json_string_value(json_object_get(l, "chain")));
		}
	} else {
		b->config = json_pack("{s:s, s:s, s:{s:[s]}}", "architecture", "amd64", "os", "linux",
				      "config", "Env",
				      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	}
	if (!b->layers || !b->config)
		return box_err(ENOMEM, "out of memory");
	return 0;
}

void build_free(struct build *b)
{
	json_decref(b->layers);
	json_decref(b->config);
	b->layers = b->config = NULL;
}

int build_add_layer(struct build *b, int fd, const char *digest, const char *diff_id,
		    const char *media, const struct store_progress *p)
{
	struct box_layer_info info;
	char chain[BOX_DIGEST_LEN];
	json_t *l;
	int r;

	r = store_add_layer(b->s, fd, digest, diff_id, b->chain[0] ? b->chain : NULL, p, &info,
			    chain);
	if (r < 0)
		return r;
	if (!media)
		media = info.gzip ? MT_OCI_LAYER_GZ : MT_OCI_LAYER;
	l = json_pack("{s:s, s:s, s:s, s:I, s:s}", "digest", info.digest, "diff_id", info.diff_id,
		      "chain", chain, "size", (json_int_t)info.size, "media", media);
	if (!l || json_array_append_new(b->layers, l) < 0)
		return box_err(ENOMEM, "out of memory");
	snprintf(b->chain, sizeof(b->chain), "%s", chain);
	return 0;
}

/* The image's config gets its diff_ids (and a history line when
 * comment is set); config and manifest become blobs; the image is
 * recorded. */
int build_finish(struct build *b, const char *comment, const char *const *names,
		 char id[BOX_DIGEST_LEN])
{
	json_t *diff = json_array(), *mlayers = json_array(), *l, *manifest;
	char now[40], cdigest[BOX_DIGEST_LEN], mdigest[BOX_DIGEST_LEN];
	char *text;
	size_t i, clen;
	int r;

	if (!diff || !mlayers)
		return box_err(ENOMEM, "out of memory");
	json_array_foreach(b->layers, i, l) {
		json_array_append(diff, json_object_get(l, "diff_id"));
		json_array_append_new(mlayers,
				      json_pack("{s:O, s:O, s:O}", "mediaType", json_object_get(l, "media"),
						"digest", json_object_get(l, "digest"), "size",
						json_object_get(l, "size")));
	}
	box_time_now(now);
	json_object_set_new(b->config, "created", json_string(now));
	json_object_set_new(b->config, "rootfs", json_pack("{s:s, s:o}", "type", "layers", "diff_ids", diff));
	if (comment) {
		json_t *h = json_object_get(b->config, "history");

		if (!json_is_array(h)) {
			h = json_array();
			json_object_set_new(b->config, "history", h);
		}
		json_array_append_new(h, json_pack("{s:s, s:s}", "created", now, "created_by", comment));
	}
	text = json_dumps(b->config, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text) {
		json_decref(mlayers);
		return box_err(ENOMEM, "out of memory");
	}
	clen = strlen(text);
	r = store_put_blob(b->s, text, clen, NULL, "image config", cdigest);
	free(text);
	if (r < 0) {
		json_decref(mlayers);
		return r;
	}
	manifest = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
			     MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "digest", cdigest,
			     "size", (json_int_t)clen, "layers", mlayers);
	text = manifest ? json_dumps(manifest, JSON_COMPACT) : NULL;
	json_decref(manifest);
	if (!text)
		return box_err(ENOMEM, "out of memory");
	r = store_put_blob(b->s, text, strlen(text), NULL, "image manifest", mdigest);
	free(text);
	if (r < 0)
		return r;
	return store_add_image(b->s, cdigest, mdigest, json_deep_copy(b->layers), names, id);
}

/* ---- OCI image layout ---- */

struct names {
	char **v;
	size_t n;
};

static void names_add(struct names *n, const char *name)
{
	char **v = realloc(n->v, (n->n + 2) * sizeof(char *));

	if (!v)
		return;
	n->v = v;
	v[n->n] = strdup(name);
	if (v[n->n])
		n->n++;
	v[n->n] = NULL;
}

static void names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
}

/* One manifest: verify and store config and layers, record the image. */
static int oci_manifest(struct store *s, int root, const char *where, const char *mdigest,
			const char *const *names, struct names *loaded)
{
	char *mraw = NULL, *craw = NULL;
	size_t mlen, clen, nl;
	json_t *m, *cfg = NULL, *diff, *layers, *l;
	char cdigest[BOX_DIGEST_LEN], mstored[BOX_DIGEST_LEN], id[BOX_DIGEST_LEN];
	const char *cd;
	struct build b = { 0 };
	int r = 0;
	size_t i;

	m = oci_json_blob(root, where, mdigest, &mraw, &mlen, &r);
	if (!m)
		return r;
	cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
	cfg = oci_json_blob(root, where, cd, &craw, &clen, &r);
	if (!cfg)
		goto out;
	layers = json_object_get(m, "layers");
	diff = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	nl = json_array_size(layers);
	if (!json_is_array(layers) || json_array_size(diff) != nl) {
		r = box_err(EINVAL, "%s: manifest %s has %zu layers, its config %zu diff_ids", where,
			    mdigest, nl, json_array_size(diff));
		goto out;
	}
	r = build_begin(s, NULL, &b);
	if (r < 0)
		goto out;
	json_array_foreach(layers, i, l) {
		const char *d = json_string_value(json_object_get(l, "digest"));
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		struct store_progress p = { (int)i, (int)nl,
					    (uint64_t)json_integer_value(json_object_get(l, "size")) };
		char path[128];
		int fd;

		if (!store_digest_valid(d)) {
			r = box_err(EINVAL, "%s: layer %zu: \"%s\" is not a sha256 digest", where, i,
				    d ? d : "(none)");
			goto out;
		}
		if (mt && (strstr(mt, "zstd") || strstr(mt, "nondistributable"))) {
			r = box_err(ENOTSUP, "%s: layer %s: media type %s is not supported", where, d, mt);
			goto out;
		}
		blob_rel(d, path, sizeof(path));
		fd = box_open_in_root(root, path, O_RDONLY, false);
		if (fd < 0) {
			r = fd == -ENOENT ? box_err(ENOENT, "%s: layer blob %s is missing", where, d)
					  : box_err_errno(-fd, "%s: layer blob %s", where, d);
			goto out;
		}
		r = build_add_layer(&b, fd, d, json_string_value(json_array_get(diff, i)),
				    mt && strstr(mt, "docker") ? NULL : mt, &p);
		close(fd);
		if (r < 0)
			goto out;
	}
	r = store_put_blob(s, craw, clen, cd, "image config", cdigest);
	if (r == 0)
		r = store_put_blob(s, mraw, mlen, mdigest, "image manifest", mstored);
	if (r == 0)
		r = store_add_image(s, cdigest, mstored, json_deep_copy(b.layers), names, id);
	if (r == 0) {
		if (names && names[0])
			for (size_t k = 0; names[k]; k++)
				names_add(loaded, names[k]);
		else
			names_add(loaded, id);
	}
out:
	build_free(&b);
	json_decref(m);
	json_decref(cfg);
	free(mraw);
	free(craw);
	return r;
}

static bool is_index(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

/* A name for a descriptor of index.json. */
static char *desc_name(json_t *desc, const char *ref, const char *base, int *err)
{
	json_t *ann = json_object_get(desc, "annotations");
	const char *full = json_string_value(json_object_get(ann, "io.containerd.image.name"));
	const char *tag = json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
	char buf[512];

	if (ref)
		return store_normalize_ref(ref, err);
	if (full)
		return store_normalize_ref(full, err);
	if (!tag)
		return NULL;
	if (strchr(tag, ':') || strchr(tag, '/'))
		return store_normalize_ref(tag, err);
	snprintf(buf, sizeof(buf), "%s:%s", base, tag);
	return store_normalize_ref(buf, err);
}

static int load_oci(struct store *s, int root, const char *where, const char *ref,
		    const char *base, struct names *loaded)
{
	char *data;
	size_t len, i;
	json_t *layout, *index, *ms, *desc;
	int r = 0;

	r = read_in(root, "oci-layout", where, &data, &len);
	if (r < 0)
		return r;
	layout = parse(data, len, where, "oci-layout", &r);
	free(data);
	if (!layout)
		return r;
	if (!json_string_value(json_object_get(layout, "imageLayoutVersion"))) {
		json_decref(layout);
		return box_err(EINVAL, "%s: oci-layout has no imageLayoutVersion", where);
	}
	json_decref(layout);
	r = read_in(root, "index.json", where, &data, &len);
	if (r < 0)
		return r;
	index = parse(data, len, where, "index.json", &r);
	free(data);
	if (!index)
		return r;
	ms = json_object_get(index, "manifests");
	if (!json_is_array(ms) || json_array_size(ms) == 0) {
		r = box_err(EINVAL, "%s: index.json lists no manifests", where);
		goto out;
	}
	if (ref && json_array_size(ms) > 1) {
		r = box_err(EINVAL, "%s: holds %zu images: a name is for one", where, json_array_size(ms));
		goto out;
	}
	json_array_foreach(ms, i, desc) {
		const char *mt = json_string_value(json_object_get(desc, "mediaType"));
		const char *d = json_string_value(json_object_get(desc, "digest"));
		char *name = desc_name(desc, ref, base, &r);
		const char *names[2] = { name, NULL };
		json_t *sub = NULL;

		if (!name && r < 0)
			goto out;
		if (is_index(mt)) {
			/* a multi-platform image: this machine's */
			json_t *m;
			size_t k;

			sub = oci_json_blob(root, where, d, NULL, NULL, &r);
			d = NULL;
			json_array_foreach(json_object_get(sub, "manifests"), k, m) {
				json_t *pl = json_object_get(m, "platform");
				const char *arch = json_string_value(json_object_get(pl, "architecture"));
				const char *os = json_string_value(json_object_get(pl, "os"));

				if (!pl || ((!arch || strcmp(arch, "amd64") == 0) &&
					    (!os || strcmp(os, "linux") == 0))) {
					d = json_string_value(json_object_get(m, "digest"));
					break;
				}
			}
			if (sub && !d)
				r = box_err(ENOENT, "%s: index %s has no linux/amd64 image", where,
					    json_string_value(json_object_get(desc, "digest")));
		}
		if (r == 0)
			r = oci_manifest(s, root, where, d, name ? names : NULL, loaded);
		json_decref(sub);
		free(name);
		if (r < 0)
			goto out;
	}
out:
	json_decref(index);
	return r;
}

/* ---- docker save ---- */

static int load_docker(struct store *s, int root, const char *where, const char *ref,
		       struct names *loaded)
{
	char *data, *craw;
	size_t len, clen, i;
	json_t *man, *ent;
	int r = 0;

	r = read_in(root, "manifest.json", where, &data, &len);
	if (r < 0)
		return r;
	man = parse(data, len, where, "manifest.json", &r);
	free(data);
	if (!man)
		return r;
	if (!json_is_array(man) || json_array_size(man) == 0) {
		json_decref(man);
		return box_err(EINVAL, "%s: manifest.json lists no images", where);
	}
	if (ref && json_array_size(man) > 1) {
		json_decref(man);
		return box_err(EINVAL, "%s: holds %zu images: a name is for one", where,
			       json_array_size(man));
	}
	json_array_foreach(man, i, ent) {
		const char *cpath = json_string_value(json_object_get(ent, "Config"));
		json_t *layers = json_object_get(ent, "Layers"), *cfg, *diff, *l, *tags;
		char cdigest[BOX_DIGEST_LEN], id[BOX_DIGEST_LEN], mdigest[BOX_DIGEST_LEN];
		struct names nm = { 0 };
		struct build b = { 0 };
		const char *hex;
		size_t k, nl = json_array_size(layers);

		if (!cpath) {
			r = box_err(EINVAL, "%s: manifest.json: an image without Config", where);
			break;
		}
		r = read_in(root, cpath, where, &craw, &clen);
		if (r < 0)
			break;
		/* the config's name is its digest: check it */
		store_digest(craw, clen, cdigest);
		hex = strrchr(cpath, '/') ? strrchr(cpath, '/') + 1 : cpath;
		if (strspn(hex, "0123456789abcdef") == 64 && strncmp(hex, cdigest + 7, 64) != 0) {
			r = box_err(EBADMSG, "%s: config %s: digest mismatch (its content is %s)", where,
				    cpath, cdigest);
			free(craw);
			break;
		}
		cfg = parse(craw, clen, where, cpath, &r);
		diff = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
		if (cfg && json_array_size(diff) != nl)
			r = box_err(EINVAL, "%s: %s lists %zu layers, its config %zu diff_ids", where,
				    cpath, nl, json_array_size(diff));
		if (r == 0)
			r = build_begin(s, NULL, &b);
		json_array_foreach(layers, k, l) {
			const char *lp = json_string_value(l);
			struct store_progress p = { (int)k, (int)nl, 0 };
			struct stat st;
			int fd;

			if (r < 0)
				break;
			fd = lp ? box_open_in_root(root, lp, O_RDONLY, false) : -EINVAL;
			if (fd < 0) {
				r = box_err_errno(-fd, "%s: layer %s", where, lp ? lp : "(not a string)");
				break;
			}
			if (fstat(fd, &st) == 0)
				p.total = (uint64_t)st.st_size;
			r = build_add_layer(&b, fd, NULL, json_string_value(json_array_get(diff, k)),
					    NULL, &p);
			close(fd);
		}
		if (r == 0)
			r = store_put_blob(s, craw, clen, NULL, "image config", cdigest);
		if (r == 0) {
			/* an OCI manifest for it, for save */
			json_t *mlayers = json_array(), *mf;
			char *text;

			json_array_foreach(b.layers, k, l)
				json_array_append_new(mlayers, json_pack("{s:O, s:O, s:O}", "mediaType",
									 json_object_get(l, "media"), "digest",
									 json_object_get(l, "digest"), "size",
									 json_object_get(l, "size")));
			mf = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2,
				       "mediaType", MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG,
				       "digest", cdigest, "size", (json_int_t)clen, "layers", mlayers);
			text = mf ? json_dumps(mf, JSON_COMPACT) : NULL;
			json_decref(mf);
			r = text ? store_put_blob(s, text, strlen(text), NULL, "image manifest", mdigest)
				 : box_err(ENOMEM, "out of memory");
			free(text);
		}
		if (r == 0) {
			tags = json_object_get(ent, "RepoTags");
			if (ref) {
				char *n = store_normalize_ref(ref, &r);

				if (n)
					names_add(&nm, n);
				free(n);
			}
			json_array_foreach(tags, k, l) {
				int e = 0;
				char *n = ref ? NULL : store_normalize_ref(json_string_value(l), &e);

				if (n)
					names_add(&nm, n);
				free(n);
			}
			box_err_clear();
		}
		if (r == 0)
			r = store_add_image(s, cdigest, mdigest, json_deep_copy(b.layers),
					    (const char *const *)nm.v, id);
		if (r == 0) {
			if (nm.n)
				for (k = 0; k < nm.n; k++)
					names_add(loaded, nm.v[k]);
			else
				names_add(loaded, id);
		}
		names_free(&nm);
		build_free(&b);
		json_decref(cfg);
		free(craw);
		if (r < 0)
			break;
	}
	json_decref(man);
	return r;
}

/* ---- entry points ---- */

static void base_name(const char *path, char *out, size_t len)
{
	const char *b = strrchr(path, '/');
	char *dot;

	while (b && b[1] == '\0' && b > path) {
		/* "dir/" */
		const char *p = b - 1;

		while (p > path && *p != '/')
			p--;
		snprintf(out, len, "%.*s", (int)(b - p - (*p == '/')), p + (*p == '/'));
		return;
	}
	snprintf(out, len, "%s", b ? b + 1 : path);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if ((dot = strchr(out, '.')))
		*dot = '\0';
	if (!out[0])
		snprintf(out, len, "image");
}

int image_load_path(struct store *s, const char *path, const char *ref, char **names_out)
{
	char tmp[PATH_MAX], base[128];
	struct names loaded = { 0 };
	struct stat st;
	int root = -1, r;

	base_name(path, base, sizeof(base));
	if (stat(path, &st) < 0)
		return box_err_errno(errno, "image load %s", path);
	if (S_ISDIR(st.st_mode)) {
		root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			return box_err_errno(errno, "image load %s", path);
	} else {
		/* an archive: unpacked in the store's tmp/, read as a directory */
		struct box_unpack_opts o = { .mode = BOX_UNPACK_APPLY };
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return box_err_errno(errno, "image load %s", path);
		r = store_mkdtemp(s, tmp, sizeof(tmp));
		if (r == 0) {
			root = openat(s->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			r = root < 0 ? box_err_errno(errno, "image store %s", tmp) : 0;
		}
		if (r == 0) {
			r = box_layer_unpack(fd, root, &o, NULL);
			if (r < 0) {
				char msg[768];

				snprintf(msg, sizeof(msg), "%s", box_last_error());
				r = box_err(-r, "image load %s: %s", path, msg);
			}
		}
		close(fd);
		if (r < 0) {
			if (root >= 0)
				close(root);
			return r;
		}
	}
	if (faccessat(root, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		r = load_oci(s, root, path, ref, base, &loaded);
	else if (faccessat(root, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		r = load_docker(s, root, path, ref, &loaded);
	else
		r = box_err(EINVAL,
			    "image load %s: neither an OCI image layout (oci-layout, index.json) nor a "
			    "docker save archive (manifest.json)",
			    path);
	close(root);
	if (r == 0 && names_out) {
		size_t len = 1;

		for (size_t i = 0; i < loaded.n; i++)
			len += strlen(loaded.v[i]) + 1;
		*names_out = calloc(1, len);
		for (size_t i = 0; *names_out && i < loaded.n; i++) {
			strcat(*names_out, loaded.v[i]);
			strcat(*names_out, "\n");
		}
		if (!*names_out)
			r = box_err(ENOMEM, "out of memory");
	}
	names_free(&loaded);
	return r;
}

int image_import_fd(struct store *s, int fd, const char *ref, const char *what,
		    json_t *config_extra, const char *parent_id, char id_out[BOX_DIGEST_LEN])
{
	struct build b;
	struct store_progress p = { 0, 1, 0 };
	char *name = NULL;
	const char *names[2] = { NULL, NULL };
	json_t *base = NULL;
	struct stat st;
	int r = 0;

	if (ref && !(name = store_normalize_ref(ref, &r)))
		return r;
	names[0] = name;
	if (parent_id && !(base = store_find_image(s, parent_id, &r))) {
		free(name);
		return r;
	}
	r = build_begin(s, base, &b);
	if (r == 0 && config_extra)
		json_object_update(b.config, config_extra);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		p.total = (uint64_t)st.st_size;
	if (r == 0)
		r = build_add_layer(&b, fd, NULL, NULL, NULL, &p);
	if (r == 0)
		r = build_finish(&b, what, names, id_out);
	build_free(&b);
	free(name);
	return r;
}

int image_import_file(struct store *s, const char *path, const char *ref, const char *what,
		      char id_out[BOX_DIGEST_LEN])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return box_err_errno(errno, "image import %s", path);
	r = image_import_fd(s, fd, ref, what, NULL, NULL, id_out);
	close(fd);
	return r;
}

/* ---- save: an OCI layout in the store's tmp/, written as one tar ---- */

static int put_file(int dir, const char *name, const char *data)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t len = strlen(data);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

int image_save(struct store *s, json_t *img, const char *ref, const char *path)
{
	char tmp[PATH_MAX] = "", out[PATH_MAX], *mraw = NULL, *text = NULL;
	const char *mdigest = json_string_value(json_object_get(img, "manifest"));
	const char *id = json_string_value(json_object_get(img, "id"));
	json_t *names = json_object_get(img, "names"), *l, *index = NULL, *ann;
	const char *name = NULL;
	size_t mlen, i;
	int root = -1, blobs = -1, fd = -1, r;

	/* the name asked for, else the first */
	json_array_foreach(names, i, l)
		if (!name || strcmp(json_string_value(l), ref) == 0 ||
		    (strchr(ref, ':') == NULL && strncmp(json_string_value(l), ref, strlen(ref)) == 0))
			name = json_string_value(l);
	r = store_read_blob(s, mdigest, &mraw, &mlen);
	if (r < 0)
		return r;
	r = store_mkdtemp(s, tmp, sizeof(tmp));
	if (r < 0)
		goto out;
	root = openat(s->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || mkdirat(root, "blobs", 0755) < 0 || mkdirat(root, "blobs/sha256", 0755) < 0 ||
	    (blobs = openat(root, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = box_err_errno(errno, "image save: %s/%s", s->ctx->store_dir, tmp);
		goto out;
	}
	{
		const char *digests[3] = { mdigest, id, NULL };
		json_t *layers = json_object_get(img, "layers");
		size_t n = json_array_size(layers);

		for (size_t k = 0; k < n + 2; k++) {
			const char *d = k < 2 ? digests[k]
					      : json_string_value(json_object_get(json_array_get(layers, k - 2),
										   "digest"));
			char src[128];

			store_blob_path(d, src, sizeof(src));
			if (linkat(s->dirfd, src, blobs, d + 7, 0) < 0 && errno != EEXIST) {
				r = box_err_errno(errno, "image save: blob %s", d);
				goto out;
			}
		}
	}
	ann = json_object();
	if (name) {
		const char *colon = strrchr(name, ':');

		json_object_set_new(ann, "io.containerd.image.name", json_string(name));
		json_object_set_new(ann, "org.opencontainers.image.ref.name", json_string(colon + 1));
	}
	index = json_pack("{s:i, s:s, s:[{s:s, s:s, s:I, s:o}]}", "schemaVersion", 2, "mediaType",
			  MT_OCI_INDEX, "manifests", "mediaType", MT_OCI_MANIFEST, "digest", mdigest,
			  "size", (json_int_t)mlen, "annotations", ann);
	text = index ? json_dumps(index, JSON_COMPACT) : NULL;
	if (!text) {
		r = box_err(ENOMEM, "out of memory");
		goto out;
	}
	if ((r = put_file(root, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}")) < 0 ||
	    (r = put_file(root, "index.json", text)) < 0) {
		r = box_err_errno(-r, "image save: %s/%s", s->ctx->store_dir, tmp);
		goto out;
	}
	snprintf(out, sizeof(out), "%s.tmp.%d", path, getpid());
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = box_err_errno(errno, "image save: %s", out);
		goto out;
	}
	r = box_layer_write(root, fd, false, NULL);
	if (r == 0 && fsync(fd) < 0)
		r = box_err_errno(errno, "image save: %s", out);
	if (close(TAKE_FD(fd)) < 0 && r == 0)
		r = box_err_errno(errno, "image save: %s", out);
	if (r == 0 && rename(out, path) < 0)
		r = box_err_errno(errno, "image save: %s", path);
	if (r < 0)
		unlink(out);
out:
	if (fd >= 0)
		close(fd);
	if (blobs >= 0)
		close(blobs);
	if (root >= 0)
		close(root);
	if (tmp[0] && r <= 0)
		store_rm_rf(s->dirfd, tmp);
	json_decref(index);
	free(text);
	free(mraw);
	return r;
}
