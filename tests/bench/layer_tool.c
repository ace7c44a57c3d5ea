/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The layer reader and writer (internal, not exported) as a command, for
 * tests/bench/unpack and for trying archives by hand:
 *   layer-tool unpack [-a] [-d] [-o] [-m MAX] [-e DIGEST] ARCHIVE DIR
 *   layer-tool write [-z] DIR OUT
 * -a: BOX_UNPACK_APPLY, -d: allow devices, -o: keep owners, -z: gzip.
 * Prints the digests, sizes and entry count; errors on stderr. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "image/layer.h"

static void print_info(const struct box_layer_info *info)
{
	printf("digest %s\ndiff_id %s\nsize %" PRIu64 "\nunpacked %" PRIu64 "\nentries %" PRIu64
	       "\ngzip %d\n",
	       info->digest, info->diff_id, info->size, info->unpacked, info->entries, info->gzip);
}

static int usage(void)
{
	fprintf(stderr, "usage: layer-tool unpack [-a] [-d] [-o] [-m MAX] [-e DIGEST] ARCHIVE DIR\n"
			"       layer-tool write [-z] DIR OUT\n");
	return 2;
}

static int cmd_unpack(int argc, char **argv)
{
	struct box_unpack_opts o = { .mode = BOX_UNPACK_OVERLAY };
	struct box_layer_info info;
	int opt, in, dir, r;

	while ((opt = getopt(argc, argv, "adom:e:")) != -1) {
		switch (opt) {
		case 'a': o.mode = BOX_UNPACK_APPLY; break;
		case 'd': o.allow_devices = true; break;
		case 'o': o.keep_owner = true; break;
		case 'm': o.max_bytes = strtoull(optarg, NULL, 0); break;
		case 'e': o.expect_digest = optarg; break;
		default: return usage();
		}
	}
	if (argc - optind != 2)
		return usage();
	in = strcmp(argv[optind], "-") ? open(argv[optind], O_RDONLY | O_CLOEXEC) : 0;
	dir = open(argv[optind + 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (in < 0 || dir < 0) {
		perror("open");
		return 1;
	}
	r = box_layer_unpack(in, dir, &o, &info);
	if (r < 0) {
		fprintf(stderr, "layer-tool: %s\n", box_last_error());
		return 1;
	}
	print_info(&info);
	return 0;
}

static int cmd_write(int argc, char **argv)
{
	struct box_layer_info info;
	bool gzip = false;
	int opt, dir, out, r;

	while ((opt = getopt(argc, argv, "z")) != -1) {
		if (opt != 'z')
			return usage();
		gzip = true;
	}
	if (argc - optind != 2)
		return usage();
	dir = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	out = strcmp(argv[optind + 1], "-") ?
		      open(argv[optind + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : 1;
	if (dir < 0 || out < 0) {
		perror("open");
		return 1;
	}
	r = box_layer_write(dir, out, gzip, &info);
	if (r < 0) {
		fprintf(stderr, "layer-tool: %s\n", box_last_error());
		return 1;
	}
	if (out != 1)
		print_info(&info);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "unpack") == 0)
		return cmd_unpack(argc - 1, argv + 1);
	if (strcmp(argv[1], "write") == 0)
		return cmd_write(argc - 1, argv + 1);
	return usage();
}
