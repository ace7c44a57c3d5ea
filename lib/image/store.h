/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image store, internal interface.
 *
 * STORE/lock              flock: exclusive for changes, shared for reads
 * STORE/tmp/              work in progress; emptied by every change
 * STORE/blobs/sha256/HEX  manifests, configs and layer streams as loaded
 * STORE/layers/HEX/       a layer by chain id: diff/ (the unpacked tree)
 * STORE/images.json       every image: id, names, layers, config
 * STORE/boxes/ID/         a box made from an image: image.json (what it
 *                         uses), upper/, work/, merged/, l/ (short links)
 *
 * Everything appears by rename(2) once complete, and images.json is the
 * one truth of what exists: blobs and layers that no image and no box
 * refers to are garbage, removed under the lock by the next change.  So
 * a load that dies half-way leaves only garbage, never half an image. */
#ifndef LIBBOX_IMAGE_STORE_H
#define LIBBOX_IMAGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "image/layer.h"

struct store {
	box_ctx *ctx;
	int dirfd;   /* STORE */
	int lockfd;
	bool exclusive;
	json_t *db;  /* images.json: {"images": [ {...}, ... ]} */
	bool dirty;
	bool sweep_now;
};

/* Open (creating) the store of ctx and lock it; an exclusive opener
 * removes what earlier operations left half done. */
int store_open(box_ctx *ctx, bool exclusive, struct store *s);
/* Write images.json when changed (exclusive), remove garbage, unlock. */
int store_commit(struct store *s);
void store_close(struct store *s);

/* A fresh directory STORE/tmp/XXXX (name into out, relative to the store). */
int store_mkdtemp(struct store *s, char *out, size_t len);
/* rm -rf of a path relative to dirfd, never following a link. */
int store_rm_rf(int dirfd, const char *path);

/* sha256 of a buffer, as "sha256:HEX". */
void store_digest(const void *data, size_t len, char out[BOX_DIGEST_LEN]);
bool store_digest_valid(const char *digest);

/* Put data in as a blob; out gets its digest.  Verified against want
 * (when not NULL): a mismatch is -EBADMSG naming what. */
int store_put_blob(struct store *s, const void *data, size_t len, const char *want,
		   const char *what, char out[BOX_DIGEST_LEN]);
/* Read a blob (whole) into memory.  *len gets its size. */
int store_read_blob(struct store *s, const char *digest, char **data, size_t *len);
/* The blob's path relative to the store. */
void store_blob_path(const char *digest, char *out, size_t len);

/* A layer: the stream in fd (tar or tar+gzip, its digest must be digest
 * when not NULL) whose uncompressed digest must be diff_id (when not
 * NULL), on top of the chain parent (NULL: a base layer).  Unpacked once:
 * a layer already present is not unpacked again.  Fills info and chain. */
struct store_progress {
	int index, count;
	uint64_t total;
};
int store_add_layer(struct store *s, int fd, const char *digest, const char *diff_id,
		    const char *parent_chain, const struct store_progress *p,
		    struct box_layer_info *info, char chain[BOX_DIGEST_LEN]);

/* Record an image from its config blob and layers: names (NULL-ended,
 * each "name:tag", taken from any image holding it), the layer list
 * [{"digest","diff_id","chain","size","media"}...] (reference stolen). */
int store_add_image(struct store *s, const char *config_digest, const char *manifest_digest,
		    json_t *layers, const char *const *names, char id_out[BOX_DIGEST_LEN]);

/* Find an image by "name[:tag]", "sha256:HEX" or a unique prefix of the
 * id's hex.  Returns the image object (owned by s->db) or NULL with the
 * error set. */
json_t *store_find_image(struct store *s, const char *ref, int *err);

/* "busybox" -> "busybox:latest"; NULL and the error set when invalid. */
char *store_normalize_ref(const char *ref, int *err);

/* The image's config (the "config" part of the config blob). */
json_t *store_image_config(struct store *s, json_t *img);

/* Inputs (oci.c): an OCI layout or docker save directory or archive. */
int image_load_path(struct store *s, const char *path, const char *ref, char **names_out);
/* A plain rootfs tarball as a one-layer image. */
int image_import_file(struct store *s, const char *path, const char *ref, const char *what,
		      char id_out[BOX_DIGEST_LEN]);
int image_import_fd(struct store *s, int fd, const char *ref, const char *what,
		    json_t *config_extra, const char *parent_id, char id_out[BOX_DIGEST_LEN]);
int image_save(struct store *s, json_t *img, const char *ref, const char *path);

/* Copy fd (from its current offset to the end) into a new temp file of
 * the store: its fd, seekable, at offset 0; *size gets the bytes. */
int store_spool(struct store *s, int fd, char *name, size_t namelen, uint64_t *size);

#endif
