/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl: the reference command line of libbox.  One file per verb
 * family; every verb is a thin layer over the library. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "box.h"
#include "boxctl.h"

const char *boxctl_prog = "boxctl";

void boxctl_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", boxctl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int boxctl_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", boxctl_prog, verb ? " " : "", verb ? verb : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nSee '%s%s%s --help'.\n", boxctl_prog, verb ? " " : "", verb ? verb : "");
	return 125;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: boxctl [--version] [--help] COMMAND [ARGS...]\n"
		"\n"
		"Run Linux containers with libbox, without a daemon.\n"
		"\n"
		"Options:\n"
		"      --root DIR   state directory (default /run/libbox)\n"
		"      --store DIR  image store (default /var/lib/libbox)\n"
		"      --storage-driver overlay|vfs|auto  how a box's root is made of its\n"
		"                   image (default auto: overlayfs where it works)\n"
		"\n"
		"Commands:\n"
		"  run        Run a command in a new box, in the foreground\n"
		"  exec       Run a command in a running box\n"
		"  attach     Attach to a detached box's input and output\n"
		"  ps         List boxes\n"
		"  inspect    Show boxes as JSON\n"
		"  logs       Print the output of a detached box\n"
		"  stats      Show boxes' resource use\n"
		"  start      Start boxes that exited again\n"
		"  restart    Stop boxes and start them again\n"
		"  stop       Stop boxes (SIGTERM, then SIGKILL)\n"
		"  kill       Send a signal to boxes\n"
		"  pause      Freeze boxes\n"
		"  unpause    Thaw boxes\n"
		"  wait       Wait for boxes and print their exit codes\n"
		"  rename     Rename a box\n"
		"  top        Show the processes of a box\n"
		"  rm         Remove boxes\n"
		"  gc         Clean up after boxes whose creator died\n"
		"  port       List a box's port maps\n"
		"  network    List or inspect the bridges (ls, inspect)\n"
		"\n"
		"Images:\n"
		"  images     List images\n"
		"  load       Load images from an OCI layout or docker save archive\n"
		"  import     Make an image of a root filesystem tarball\n"
		"  save       Write an image as an OCI layout archive\n"
		"  commit     Make an image of a box's changes\n"
		"  rmi        Remove images\n"
		"  tag        Give an image another name\n"
		"  image      inspect | default | ls | rm | load | save | import | tag\n"
		"\n"
		"Run 'boxctl COMMAND --help' for more information on a command.\n");
}

static const struct {
	const char *name;
	int (*fn)(box_ctx *ctx, int argc, char **argv);
} verbs[] = {
	{ "run", cmd_run },	    { "exec", cmd_exec },   { "ps", cmd_ps },	    { "inspect", cmd_inspect },
	{ "stats", cmd_stats },	    { "stop", cmd_stop },   { "kill", cmd_kill },
	{ "pause", cmd_pause },	    { "unpause", cmd_unpause }, { "wait", cmd_wait },
	{ "rm", cmd_rm },	    { "gc", cmd_gc },	    { "logs", cmd_logs },
	{ "rename", cmd_rename },   { "top", cmd_top },	    { "start", cmd_start },
	{ "restart", cmd_restart }, { "attach", cmd_attach },   { "port", cmd_port },
	{ "network", cmd_network },
	{ "images", cmd_images },   { "load", cmd_load },   { "import", cmd_import },
	{ "save", cmd_save },	    { "commit", cmd_commit }, { "rmi", cmd_rmi },
	{ "tag", cmd_tag },	    { "image", cmd_image },
};

/* A global flag: "--name VALUE", "--name=VALUE", or (value NULL) "--name". */
static int global_flag(int *argc, char ***argv, const char *name, bool has_value, const char **value)
{
	const char *a = (*argv)[1];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
		return 0;
	if (!has_value) {
		if (a[n] == '=')
			return -1;
		*value = a;
	} else if (a[n] == '=') {
		*value = a + n + 1;
	} else if (*argc >= 3) {
		*value = (*argv)[2];
		(*argv)++;
		(*argc)--;
	} else {
		return -1;
	}
	(*argv)++;
	(*argc)--;
	return 1;
}

/* The verbs of the OCI runtime command line that only it has. */
static bool oci_only(const char *verb)
{
	static const char *const only[] = { "create", "state", "delete", "resume", "list", "spec",
					     "features" };

	for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++)
		if (strcmp(verb, only[i]) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	box_ctx *ctx = NULL;
	const char *root = NULL, *store = NULL, *driver = NULL, *v = NULL;
	int (*fn)(box_ctx *, int, char **) = NULL;
	int storage = BOX_STORAGE_AUTO;
	int r;

	/* global options, before the verb: ours, and those engines pass to
	 * an OCI runtime (runc's) */
	while (argc >= 2 && argv[1][0] == '-' && argv[1][1] == '-' && argv[1][2]) {
		if ((r = global_flag(&argc, &argv, "--root", true, &root)) != 0 ||
		    (r = global_flag(&argc, &argv, "--store", true, &store)) != 0 ||
		    (r = global_flag(&argc, &argv, "--storage-driver", true, &driver)) != 0) {
		} else if ((r = global_flag(&argc, &argv, "--log-format", true, &v)) != 0) {
			if (r > 0 && strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
				return boxctl_usage_error(NULL, "--log-format: text or json, not %s", v);
			if (r > 0)
				oci_g.json_log = strcmp(v, "json") == 0;
		} else if ((r = global_flag(&argc, &argv, "--log", true, &oci_g.log)) != 0) {
		} else if ((r = global_flag(&argc, &argv, "--debug", false, &v)) != 0) {
			oci_g.debug = true;
		} else if ((r = global_flag(&argc, &argv, "--systemd-cgroup", false, &v)) != 0) {
			oci_g.systemd_cgroup = true;
		} else if ((r = global_flag(&argc, &argv, "--rootless", true, &v)) != 0 ||
			   (r = global_flag(&argc, &argv, "--criu", true, &v)) != 0) {
			/* accepted, without effect */
		} else {
			break;
		}
		if (r < 0)
			return boxctl_usage_error(NULL, "flag needs an argument: %s", argv[1]);
	}
	oci_g.any = oci_g.log || oci_g.json_log || oci_g.debug || oci_g.systemd_cgroup;
	if (driver) {
		if (strcmp(driver, "overlay") == 0)
			storage = BOX_STORAGE_OVERLAY;
		else if (strcmp(driver, "vfs") == 0)
			storage = BOX_STORAGE_VFS;
		else if (strcmp(driver, "auto") != 0)
			return boxctl_usage_error(NULL, "--storage-driver: overlay, vfs or auto, not %s",
						  driver);
	}
	if (argc < 2) {
		usage(stderr);
		return 125;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("boxctl version %s (libbox %s)\nspec: 1.2.0\n", LIBBOX_CLI_VERSION,
		       box_version());
		return 0;
	}
	if (box_ctx_new(&ctx) < 0 || (root && box_ctx_set_state_dir(ctx, root) < 0) ||
	    (store && box_ctx_set_store_dir(ctx, store) < 0) || box_ctx_set_storage(ctx, storage) < 0) {
		boxctl_error("%s", box_last_error());
		box_ctx_free(ctx);
		return 125;
	}
	/* The OCI verbs: those only the OCI command line has, and the OCI
	 * form of run, exec, kill, ps, pause and start where an engine calls
	 * (its global flags) or the verb's own arguments say so (for start: a
	 * container in the created state, which the Docker-like start never
	 * takes). */
	if (oci_only(argv[1]) ||
	    ((oci_g.any || oci_form(ctx, argc - 1, argv + 1)) && oci_verb(argv[1])))
		fn = oci_verb(argv[1]);
	for (size_t i = 0; !fn && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			fn = verbs[i].fn;
	if (fn) {
		r = fn(ctx, argc - 1, argv + 1);
		box_ctx_free(ctx);
		return r;
	}
	box_ctx_free(ctx);
	if (argv[1][0] == '-')
		return boxctl_usage_error(NULL, "unknown flag: %s", argv[1]);
	return boxctl_usage_error(NULL, "'%s' is not a boxctl command", argv[1]);
}
