/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string vectors. */
#include <string.h>

#include "internal.h"

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

char **strv_dup(int n, const char *const *v)
{
	char **r = calloc((size_t)n + 1, sizeof(char *));

	if (!r)
		return NULL;
	for (int i = 0; i < n; i++) {
		r[i] = strdup(v[i]);
		if (!r[i]) {
			strv_free(r);
			return NULL;
		}
	}
	return r;
}

char **strv_split(const char *s, char sep)
{
	size_t n = 1, i = 0;
	char **r;

	for (const char *p = s; *p; p++)
		n += *p == sep;
	r = calloc(n + 1, sizeof(char *));
	if (!r)
		return NULL;
	for (const char *p = s;; p++) {
		const char *e = strchr(p, sep);
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len) {
			r[i] = strndup(p, len);
			if (!r[i++]) {
				strv_free(r);
				return NULL;
			}
		}
		if (!e)
			break;
		p = e;
	}
	return r;
}
