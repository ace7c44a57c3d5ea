/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Building an image in the store, layer by layer (oci.c): import, commit,
 * the default image and docker archives all end here. */
#ifndef LIBBOX_IMAGE_BUILD_H
#define LIBBOX_IMAGE_BUILD_H

#include "image/store.h"

struct build {
	struct store *s;
	json_t *layers;                 /* [{"digest","diff_id","chain","size","media"}] */
	json_t *config;                 /* the whole image config blob */
	char chain[BOX_DIGEST_LEN];     /* the top layer's chain id, "" for none */
};

/* Start from base (an image of s->db, or NULL: an empty linux/amd64 one). */
int build_begin(struct store *s, json_t *base, struct build *b);
/* Add the stream in fd as the next layer (digest, diff_id: what it must
 * be, or NULL; media: its media type, NULL to take it from the stream). */
int build_add_layer(struct build *b, int fd, const char *digest, const char *diff_id,
		    const char *media, const struct store_progress *p);
/* Write config and manifest, record the image under names (NULL-ended). */
int build_finish(struct build *b, const char *comment, const char *const *names,
		 char id[BOX_DIGEST_LEN]);
void build_free(struct build *b);

#endif
