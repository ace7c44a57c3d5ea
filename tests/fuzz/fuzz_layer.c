/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the layer reader: each input is unpacked (as tar,
 * or tar+gzip when it starts with gzip's magic) into a fresh directory
 * work/N/out, without devices.  Whatever the input, the reader must not
 * crash, leak, or leave anything beside out: work/N holding more than out
 * is an escape and aborts.  The first byte's low bit picks the whiteout
 * mode.  Run by tests/fuzz/run.sh (tools/dev.sh test) for a bounded
 * time. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "image/layer.h"

static unsigned long counter;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	remove(p);
	return 0;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		abort();
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct box_unpack_opts o = {
		.mode = size && (data[0] & 1) ? BOX_UNPACK_APPLY : BOX_UNPACK_OVERLAY,
		.max_bytes = 64 << 20,
	};
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char work[PATH_MAX], out[PATH_MAX + 8];
	int in, dir;

	snprintf(work, sizeof(work), "%s/fuzz-%d-%lu", tmp, getpid(), counter++);
	snprintf(out, sizeof(out), "%s/out", work);
	if (mkdir(work, 0700) < 0 || mkdir(out, 0700) < 0)
		abort();
	in = memfd_create("layer", MFD_CLOEXEC);
	if (in < 0 || write(in, data, size) != (ssize_t)size || lseek(in, 0, SEEK_SET) != 0)
		abort();
	dir = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		abort();
	box_layer_unpack(in, dir, &o, NULL);
	close(dir);
	close(in);
	if (entries(work) != 1) {
		fprintf(stderr, "fuzz_layer: something was written beside %s\n", out);
		abort();
	}
	nftw(work, rm_one, 64, FTW_DEPTH | FTW_PHYS);
	return 0;
}
