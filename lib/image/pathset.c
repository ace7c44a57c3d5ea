/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A string set: FNV-1a hashes, linear probing, at most half full. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/pathset.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return h;
}

static char **find(char **slot, size_t cap, const char *path)
{
	size_t i = (size_t)hash(path) & (cap - 1);

	while (slot[i] && strcmp(slot[i], path) != 0)
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

static int grow(struct box_pathset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	char **slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i])
			*find(slot, cap, s->slot[i]) = s->slot[i];
	free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

int box_pathset_add(struct box_pathset *s, const char *path)
{
	char **p;

	if ((s->n + 1) * 2 > s->cap && grow(s) < 0)
		return -ENOMEM;
	p = find(s->slot, s->cap, path);
	if (*p)
		return 0;
	*p = strdup(path);
	if (!*p)
		return -ENOMEM;
	s->n++;
	return 0;
}

bool box_pathset_has(const struct box_pathset *s, const char *path)
{
	return s->cap && *find(s->slot, s->cap, path);
}

void box_pathset_free(struct box_pathset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	s->slot = NULL;
	s->cap = s->n = 0;
}
