/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int harness_in_ci(void)
{
	const char *ci = getenv("CI");

	return ci && strcmp(ci, "true") == 0;
}

int harness_enter_throwaway_host(void)
{
	if (geteuid() != 0)
		return -1;
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		perror("unshare(CLONE_NEWNET|CLONE_NEWNS)");
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("mount --make-rprivate /");
		return -1;
	}
	/* lo up, so that loopback traffic stays inside this namespace */
	if (system("ip link set lo up") != 0)
		fprintf(stderr, "harness: could not bring lo up\n");
	return 0;
}

const char *harness_rootfs(void)
{
	const char *r = getenv("LIBBOX_TEST_ROOTFS");

	return r ? r : TEST_ROOTFS;
}

const char *harness_probe(void)
{
	const char *p = getenv("LIBBOX_TEST_PROBE");

	return p ? p : TEST_PROBE;
}

static char state_dir[] = "/tmp/libbox-test-state-XXXXXX";
static char cgroup_parent[64];

const char *harness_cgroup_parent(void)
{
	if (!cgroup_parent[0])
		snprintf(cgroup_parent, sizeof(cgroup_parent), "/libbox-test-%d-%ld", getpid(),
			 (long)time(NULL));
	return cgroup_parent;
}

/* Every cgroup mount point, for the checks and the cleanup. */
int harness_cgroup_mounts(char mounts[][256], int max)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char mnt[256], fstype[32], opts[512];
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*d %*d %*s %*s %255s", mnt) != 1 ||
		    sscanf(dash + 3, "%31s %*s %511s", fstype, opts) != 2)
			continue;
		/* v1 hierarchies of controllers, and cgroup2 */
		if (strcmp(fstype, "cgroup2") == 0 ||
		    (strcmp(fstype, "cgroup") == 0 && !strstr(opts, "name=")))
			snprintf(mounts[n++], 256, "%s", mnt);
	}
	fclose(f);
	return n;
}

/* Remove the (empty) box cgroups under our parent. */
void harness_remove_stray_cgroups(void)
{
	char mounts[16][256], path[4400], sub[4700];
	int n = harness_cgroup_mounts(mounts, 16);

	for (int i = 0; i < n; i++) {
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s%s", mounts[i], harness_cgroup_parent());
		d = opendir(path);
		while (d && (e = readdir(d))) {
			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			for (int k = 0; k < 100 && rmdir(sub) < 0 && errno == EBUSY; k++)
				usleep(10000);
		}
		if (d)
			closedir(d);
	}
}

/* The parent holds nothing once the boxes are gone: remove it. */
static void remove_cgroup_parent(void)
{
	char mounts[16][256], path[4400];
	int n = harness_cgroup_mounts(mounts, 16);

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s%s", mounts[i], harness_cgroup_parent());
		if (rmdir(path) < 0 && errno != ENOENT)
			fprintf(stderr, "harness: rmdir %s: %s\n", path, strerror(errno));
	}
}

static void remove_state_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "harness: could not remove %s\n", state_dir);
}

const char *harness_state_dir(void)
{
	return state_dir;
}

/* One context per test program, with a private state directory that is
 * removed at exit. */
box_ctx *harness_ctx(void)
{
	static box_ctx *ctx;

	if (!ctx) {
		assert_non_null(mkdtemp(state_dir));
		atexit(remove_state_dir);
		atexit(remove_cgroup_parent);
		assert_int_equal(box_ctx_new(&ctx), 0);
		assert_int_equal(box_ctx_set_state_dir(ctx, state_dir), 0);
		assert_int_equal(box_ctx_set_store_dir(ctx, "/var/lib/libbox-test-store-unused"), 0);
		assert_int_equal(box_ctx_set_cgroup_parent(ctx, harness_cgroup_parent()), 0);
	}
	return ctx;
}

box_config *harness_config(const char *const *argv)
{
	box_config *cfg = NULL;
	int argc = 0;

	while (argv[argc])
		argc++;
	assert_int_equal(box_config_new(&cfg), 0);
	assert_int_equal(box_config_set_rootfs(cfg, harness_rootfs()), 0);
	assert_int_equal(box_config_set_argv(cfg, argc, argv), 0);
	assert_int_equal(box_config_add_mount(cfg, "bind", harness_probe(), "/probe", "ro"), 0);
	return cfg;
}

void harness_run(box_config *cfg, struct run_result *res)
{
	harness_run_in(harness_ctx(), cfg, res);
}

void harness_run_in(box_ctx *ctx, box_config *cfg, struct run_result *res)
{
	box *b = NULL;
	int p[2];
	size_t len = 0;
	ssize_t n;

	memset(res, 0, sizeof(*res));
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(box_config_set_stdio(cfg, -1, p[1], p[1]), 0);
	res->rc = box_create(ctx, cfg, &b);
	close(p[1]);
	if (res->rc == 0)
		res->rc = box_start(b);
	if (res->rc == 0) {
		while ((n = read(p[0], res->out + len, sizeof(res->out) - 1 - len)) > 0)
			len += (size_t)n;
		res->rc = box_wait(b, &res->code, &res->sig);
	}
	if (res->rc < 0)
		snprintf(res->msg, sizeof(res->msg), "%s", box_last_error());
	close(p[0]);
	assert_int_equal(box_destroy(b), 0);
	box_config_free(cfg);
}

void harness_sh(const char *script, struct run_result *res)
{
	harness_run(harness_config(ARGV("/bin/sh", "-c", script)), res);
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int count_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	pid_t self = getpid();

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[300], buf[512];
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			char *rp = strrchr(buf, ')');
			int ppid = 0;

			if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == self)
				n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Directories under our cgroup parent, in every hierarchy. */
static int count_cgroups(void)
{
	char mounts[16][256], path[4400];
	int n = harness_cgroup_mounts(mounts, 16), count = 0;

	for (int i = 0; i < n; i++) {
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "%s%s", mounts[i], harness_cgroup_parent());
		d = opendir(path);
		if (!d)
			continue;
		while ((e = readdir(d)))
			count += e->d_type == DT_DIR && e->d_name[0] != '.';
		closedir(d);
	}
	return count;
}

void harness_snapshot(struct leftovers *s)
{
	s->cgroups = count_cgroups();
	s->mounts = count_lines("/proc/self/mountinfo");
	s->children = count_children();
	s->fds = count_fds();
}

void harness_assert_clean(const struct leftovers *before)
{
	struct leftovers now;

	harness_snapshot(&now);
	assert_int_equal(now.mounts, before->mounts);
	assert_int_equal(now.children, before->children);
	assert_int_equal(now.fds, before->fds);
	assert_int_equal(now.cgroups, before->cgroups);
}

void harness_write_file(const char *path, const char *content, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, (mode_t)mode), 0);
	close(fd);
}

int harness_main(const char *name, const struct CMUnitTest *tests, size_t n)
{
	cmocka_set_message_output(CM_OUTPUT_TAP);
	harness_cgroup_parent(); /* named by this process, before any fork */
	if (harness_enter_throwaway_host() < 0) {
		if (harness_in_ci()) {
			printf("1..1\nnot ok 1 - %s: needs root to make a throwaway host\n", name);
			return 1;
		}
		printf("1..0 # SKIP %s: needs root to make a throwaway host\n", name);
		return 0;
	}
	return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
}
