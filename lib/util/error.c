/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The thread-local message behind box_last_error(), and box_strerror(). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static __thread char last_error[1024];

static void vset(int err, bool with_errno, const char *fmt, va_list ap)
{
	int n = vsnprintf(last_error, sizeof(last_error), fmt, ap);

	if (with_errno && n >= 0 && (size_t)n < sizeof(last_error))
		snprintf(last_error + n, sizeof(last_error) - (size_t)n, ": %s", box_strerror(err));
}

int box_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, false, fmt, ap);
	va_end(ap);
	return -err;
}

int box_err_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, true, fmt, ap);
	va_end(ap);
	return -err;
}

void box_err_clear(void)
{
	last_error[0] = '\0';
}

BOX_EXPORT const char *box_last_error(void)
{
	return last_error;
}

BOX_EXPORT const char *box_strerror(int err)
{
	static __thread char buf[64];

	if (err < 0)
		err = -err;
	if (err == 0)
		return "Success";
	/* strerror_r (GNU form) returns a static string for known codes and
	 * writes "Unknown error N" into buf otherwise. */
	return strerror_r(err, buf, sizeof(buf));
}

BOX_EXPORT const char *box_version(void)
{
	return LIBBOX_VERSION;
}
