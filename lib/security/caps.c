/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capabilities: names via libcap, Docker's default set. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "internal.h"

/* Docker's default set (moby's oci/caps/defaults.go). */
static const cap_value_t docker_default[] = {
	CAP_CHOWN,	  CAP_DAC_OVERRIDE, CAP_FSETID,		  CAP_FOWNER,
	CAP_MKNOD,	  CAP_NET_RAW,	    CAP_SETGID,		  CAP_SETUID,
	CAP_SETFCAP,	  CAP_SETPCAP,	    CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
	CAP_KILL,	  CAP_AUDIT_WRITE,
};

uint64_t box_caps_default(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < ARRAY_SIZE(docker_default); i++)
		m |= 1ull << docker_default[i];
	return m;
}

int box_cap_from_name(const char *name)
{
	char buf[64];
	size_t i = 0;
	cap_value_t v;

	if (strncasecmp(name, "CAP_", 4) != 0) {
		memcpy(buf, "cap_", 4);
		i = 4;
	}
	for (const char *p = name; *p && i < sizeof(buf) - 1; p++)
		buf[i++] = (char)tolower((unsigned char)*p);
	buf[i] = '\0';
	/* libcap also accepts numbers; a name must be a name. */
	if (isdigit((unsigned char)buf[4]))
		return -1;
	if (cap_from_name(buf, &v) < 0 || v < 0 || v > 63)
		return -1;
	return v;
}

int box_cap_last(void)
{
	int last = 0;

	/* PR_CAPBSET_READ fails with EINVAL past the last capability. */
	while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}
