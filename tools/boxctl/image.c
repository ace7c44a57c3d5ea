/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl's image verbs: images, load, import, save, commit, rmi, tag and
 * image (inspect, default, ...).  Each is one library call. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "box.h"
#include "boxctl.h"

static int fail(void)
{
	boxctl_error("%s", box_last_error());
	return 1;
}

static int want_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("%s", usage);
			return 1;
		}
	return 0;
}

/* ---- the progress bar: on a terminal only ---- */

struct bar {
	struct timespec start, last; /* the layer's start; the last report */
	int layer;
	int shown;
};

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void on_progress(int layer, int layers, uint64_t done, uint64_t total, void *user)
{
	struct bar *b = user;
	double secs, mb = (double)done / 1e6;
	char line[160];
	int width = 30, fill;

	if (layer != b->layer) {
		if (b->shown)
			fputc('\n', stderr);
		/* a layer starts when the one before it ended */
		if (b->layer >= 0)
			b->start = b->last;
		b->layer = layer;
		b->shown = 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &b->last);
	secs = since(&b->start);
	fill = total ? (int)((double)width * (double)done / (double)total) : 0;
	if (fill > width)
		fill = width;
	snprintf(line, sizeof(line), "layer %d/%d [%.*s%*s] %.1f/%.1f MB %.1f MB/s", layer + 1,
		 layers, fill, "##############################", width - fill, "", mb,
		 (double)total / 1e6, secs > 0 ? mb / secs : 0.0);
	fprintf(stderr, "\r%s", line);
	b->shown = 1;
}

static struct bar bar = { .layer = -1 };

static void progress_on(box_ctx *ctx)
{
	if (isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) {
		clock_gettime(CLOCK_MONOTONIC, &bar.start);
		box_ctx_set_progress(ctx, on_progress, &bar);
	}
}

static void progress_end(void)
{
	if (bar.shown)
		fputc('\n', stderr);
	bar.shown = 0;
}

/* ---- verbs ---- */

static void human(char *out, size_t len, double v)
{
	const char *u[] = { "B", "kB", "MB", "GB", "TB" };
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(out, len, i ? "%.1f%s" : "%.0f%s", v, u[i]);
}

int cmd_images(box_ctx *ctx, int argc, char **argv)
{
	json_t *list, *img;
	char *text;
	size_t i;
	int quiet = argc > 1 && strcmp(argv[1], "-q") == 0;

	if (want_help(argc, argv,
		      "Usage: boxctl images [-q]\n\nList the images of the store (-q: ids only).\n"))
		return 0;
	if (argc > 1 + quiet)
		return boxctl_usage_error("images", "unexpected argument: %s", argv[1 + quiet]);
	text = box_image_list(ctx);
	if (!text)
		return fail();
	list = json_loads(text, 0, NULL);
	box_string_free(text);
	if (!quiet)
		printf("%-30s %-12s %-14s %-22s %s\n", "NAME", "TAG", "ID", "CREATED", "SIZE");
	json_array_foreach(list, i, img) {
		const char *id = json_string_value(json_object_get(img, "id"));
		const char *created = json_string_value(json_object_get(img, "created"));
		json_t *names = json_object_get(img, "names"), *n;
		char size[32];
		size_t k;

		if (quiet) {
			printf("%.12s\n", id + 7);
			continue;
		}
		human(size, sizeof(size), (double)json_integer_value(json_object_get(img, "size")));
		if (json_array_size(names) == 0)
			printf("%-30s %-12s %-14.12s %-22.19s %s\n", "<none>", "<none>", id + 7,
			       created ? created : "", size);
		json_array_foreach(names, k, n) {
			const char *name = json_string_value(n), *colon = strrchr(name, ':');

			printf("%-30.*s %-12s %-14.12s %-22.19s %s\n", (int)(colon - name), name, colon + 1,
			       id + 7, created ? created : "", size);
		}
	}
	json_decref(list);
	return 0;
}

int cmd_load(box_ctx *ctx, int argc, char **argv)
{
	const char *in = NULL, *name = NULL;
	char *names = NULL;
	int c;

	static const struct option opts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:i:n:h", opts, NULL)) != -1) {
		if (c == 'i')
			in = optarg;
		else if (c == 'n')
			name = optarg;
		else if (c == 'h') {
			printf("Usage: boxctl load -i FILE|DIR [--name NAME[:TAG]]\n\n"
			       "Load the images of an OCI image layout or a docker save archive (a\n"
			       "directory or a tar file).  Every blob is verified.\n");
			return 0;
		} else if (c == ':')
			return boxctl_usage_error("load", "flag needs an argument: %s", argv[optind - 1]);
		else
			return boxctl_usage_error("load", "unknown flag: %s", argv[optind - 1]);
	}
	if (!in && optind < argc)
		in = argv[optind++];
	if (!in || optind < argc)
		return boxctl_usage_error("load", "want -i FILE|DIR");
	progress_on(ctx);
	c = box_image_load(ctx, in, name, &names);
	progress_end();
	if (c < 0)
		return fail();
	for (char *save, *l = strtok_r(names, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		printf("Loaded image: %s\n", l);
	box_string_free(names);
	return 0;
}

int cmd_import(box_ctx *ctx, int argc, char **argv)
{
	char *id = NULL;

	if (want_help(argc, argv,
		      "Usage: boxctl import FILE NAME[:TAG]\n\n"
		      "Make a one-layer image of a root filesystem tarball (tar or tar+gzip).\n"))
		return 0;
	if (argc != 3)
		return boxctl_usage_error("import", "want FILE NAME[:TAG]");
	progress_on(ctx);
	if (box_image_import(ctx, argv[1], argv[2], &id) < 0) {
		progress_end();
		return fail();
	}
	progress_end();
	printf("%s\n", id);
	box_string_free(id);
	return 0;
}

int cmd_save(box_ctx *ctx, int argc, char **argv)
{
	const char *out = NULL, *ref = NULL;

	if (want_help(argc, argv,
		      "Usage: boxctl save IMAGE -o FILE\n\n"
		      "Write an image as an OCI image layout tar archive.\n"))
		return 0;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
			out = argv[++i];
		else if (strncmp(argv[i], "--output=", 9) == 0)
			out = argv[i] + 9;
		else if (argv[i][0] == '-')
			return boxctl_usage_error("save", "unknown flag: %s", argv[i]);
		else if (!ref)
			ref = argv[i];
		else
			return boxctl_usage_error("save", "one image at a time");
	}
	if (!ref || !out)
		return boxctl_usage_error("save", "want IMAGE -o FILE");
	return box_image_save(ctx, ref, out) < 0 ? fail() : 0;
}

int cmd_commit(box_ctx *ctx, int argc, char **argv)
{
	box *b = NULL;
	char *id = NULL;
	int r;

	if (want_help(argc, argv,
		      "Usage: boxctl commit BOX [NAME[:TAG]]\n\n"
		      "Make a new image of a box's changes on top of its image.\n"))
		return 0;
	if (argc < 2 || argc > 3)
		return boxctl_usage_error("commit", "want BOX [NAME[:TAG]]");
	if (box_open(ctx, argv[1], &b) < 0)
		return fail();
	r = box_commit(b, argc == 3 ? argv[2] : NULL, &id);
	box_close(b);
	if (r < 0)
		return fail();
	printf("%s\n", id);
	box_string_free(id);
	return 0;
}

int cmd_rmi(box_ctx *ctx, int argc, char **argv)
{
	int force = 0, status = 0, i;

	if (want_help(argc, argv,
		      "Usage: boxctl rmi [-f] IMAGE...\n\n"
		      "Remove images (a name of several: that name).  -f: even when a box uses it.\n"))
		return 0;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0)
			force = 1;
		else
			return boxctl_usage_error("rmi", "unknown flag: %s", argv[i]);
	}
	if (i >= argc)
		return boxctl_usage_error("rmi", "no image given");
	for (; i < argc; i++) {
		if (box_image_remove(ctx, argv[i], force) < 0)
			status = fail();
		else
			printf("Deleted: %s\n", argv[i]);
	}
	return status;
}

int cmd_tag(box_ctx *ctx, int argc, char **argv)
{
	if (want_help(argc, argv, "Usage: boxctl tag IMAGE NAME[:TAG]\n"))
		return 0;
	if (argc != 3)
		return boxctl_usage_error("tag", "want IMAGE NAME[:TAG]");
	return box_image_tag(ctx, argv[1], argv[2]) < 0 ? fail() : 0;
}

static int image_inspect(box_ctx *ctx, int argc, char **argv)
{
	int status = 0;

	if (argc < 2)
		return boxctl_usage_error("image inspect", "no image given");
	printf("[");
	for (int i = 1; i < argc; i++) {
		char *text = box_image_inspect(ctx, argv[i]);

		if (!text) {
			status = fail();
			continue;
		}
		printf("%s%s", i > 1 && status == 0 ? ",\n" : "\n", text);
		box_string_free(text);
	}
	printf("\n]\n");
	return status;
}

static int image_default(box_ctx *ctx, int argc, char **argv)
{
	char *id = NULL;

	(void)argv;
	if (argc != 1)
		return boxctl_usage_error("image default", "takes no argument");
	progress_on(ctx);
	if (box_image_default(ctx, &id) < 0) {
		progress_end();
		return fail();
	}
	progress_end();
	printf("busybox:latest %s\n", id);
	box_string_free(id);
	return 0;
}

int cmd_image(box_ctx *ctx, int argc, char **argv)
{
	static const char usage[] =
		"Usage: boxctl image COMMAND\n\n"
		"  inspect IMAGE...   show images as JSON\n"
		"  default            build busybox:latest from the host's busybox-static\n"
		"  ls                 list images (as boxctl images)\n"
		"  rm [-f] IMAGE...   remove images (as boxctl rmi)\n"
		"  load, import, save, tag, commit: as the top-level verbs\n";

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		printf("%s", usage);
		return argc < 2 ? 125 : 0;
	}
	if (strcmp(argv[1], "inspect") == 0)
		return image_inspect(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "default") == 0)
		return image_default(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "list") == 0)
		return cmd_images(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "rm") == 0)
		return cmd_rmi(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "load") == 0)
		return cmd_load(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "import") == 0)
		return cmd_import(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "save") == 0)
		return cmd_save(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "tag") == 0)
		return cmd_tag(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "commit") == 0)
		return cmd_commit(ctx, argc - 1, argv + 1);
	return boxctl_usage_error("image", "'%s' is not an image command", argv[1]);
}
