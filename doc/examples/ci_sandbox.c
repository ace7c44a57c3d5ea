/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A CI step in a sandbox: build and run a C program with the host's
 * compiler, which the box sees read-only, on a busybox root.
 *
 *   ci_sandbox ROOTFS WORKSPACE
 *
 * WORKSPACE (a host directory) is the box's writable /work; hello.c is
 * written there, compiled and run.  Everything else is read-only, the
 * network is loopback only, memory, tasks and cpu are limited, and the
 * step is killed after 60 s. */
#include <box.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char program[] =
	"#include <stdio.h>\n"
	"int main(void) { printf(\"hello from the sandbox: %d\\n\", 6 * 7); return 0; }\n";

int main(int argc, char **argv)
{
	static const char *const ro[] = { "/usr", "/lib", "/lib64" };
	const char *cmd[] = { "/bin/sh", "-c", "gcc -O2 -o hello hello.c && ./hello" };
	box_ctx *ctx = NULL;
	box_config *cfg = NULL;
	box_sandbox_result *r = NULL;
	char path[4096];
	FILE *f;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: %s ROOTFS WORKSPACE\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/hello.c", argv[2]);
	f = fopen(path, "w");
	if (!f || fputs(program, f) < 0 || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	if (box_ctx_new(&ctx) < 0 || box_config_new(&cfg) < 0)
		goto fail;
	/* LIBBOX_STATE / LIBBOX_CGROUP_PARENT: where the tests keep theirs */
	if (getenv("LIBBOX_STATE") && box_ctx_set_state_dir(ctx, getenv("LIBBOX_STATE")) < 0)
		goto fail;
	if (getenv("LIBBOX_CGROUP_PARENT") &&
	    box_ctx_set_cgroup_parent(ctx, getenv("LIBBOX_CGROUP_PARENT")) < 0)
		goto fail;
	if (box_config_set_rootfs(cfg, argv[1]) < 0 || box_config_set_argv(cfg, 3, cmd) < 0 ||
	    box_config_add_mount(cfg, "bind", argv[2], "/work", "rw") < 0 ||
	    box_config_set_cwd(cfg, "/work") < 0 ||
	    box_config_set_limit(cfg, BOX_LIMIT_MEMORY, 512 << 20) < 0 ||
	    box_config_set_limit(cfg, BOX_LIMIT_PIDS, 256) < 0 ||
	    box_config_set_limit(cfg, BOX_LIMIT_CPU_QUOTA, 100000) < 0)
		goto fail;
	/* the host's toolchain, read-only */
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (access(ro[i], F_OK) == 0 && box_config_add_mount(cfg, "bind", ro[i], ro[i], "ro") < 0)
			goto fail;
	if (box_sandbox_run(ctx, cfg, 60000, 1 << 16, &r) < 0)
		goto fail;
	printf("exit code %d, signal %d, oom %d, timed out %d, peak memory %llu KiB, %lld ms\n",
	       box_sandbox_exit_code(r), box_sandbox_signal(r), box_sandbox_oom(r),
	       box_sandbox_timed_out(r), (unsigned long long)box_sandbox_peak_memory(r) / 1024,
	       (long long)box_sandbox_wall_ms(r));
	printf("stdout: %s", box_sandbox_stdout(r, NULL));
	if (box_sandbox_stderr(r, NULL)[0])
		printf("stderr: %s", box_sandbox_stderr(r, NULL));
	rc = box_sandbox_exit_code(r) == 0 ? 0 : 1;
	goto out;
fail:
	fprintf(stderr, "ci_sandbox: %s\n", box_last_error());
out:
	box_sandbox_result_free(r);
	box_config_free(cfg);
	box_ctx_free(ctx);
	return rc;
}
