/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A set of strings (open addressing), for the paths one layer made.
 * Internal. */
#ifndef LIBBOX_IMAGE_PATHSET_H
#define LIBBOX_IMAGE_PATHSET_H

#include <stdbool.h>
#include <stddef.h>

struct box_pathset {
	char **slot;
	size_t cap, n;
};

/* 0, or -ENOMEM. */
int box_pathset_add(struct box_pathset *s, const char *path);
bool box_pathset_has(const struct box_pathset *s, const char *path);
void box_pathset_free(struct box_pathset *s);

#endif
