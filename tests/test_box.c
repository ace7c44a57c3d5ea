/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Real boxes on the busybox rootfs: isolation, security defaults, mounts,
 * users, fds, the init, exit statuses. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static struct run_result res;

#define assert_contains(hay, needle)                                         \
	do {                                                                 \
		if (!strstr((hay), (needle)))                                \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
	} while (0)
#define assert_not_contains(hay, needle)                                 \
	do {                                                             \
		if (strstr((hay), (needle)))                             \
			fail_msg("\"%s\" contains \"%s\"", (hay), (needle)); \
	} while (0)
#define assert_ran(res)                                                       \
	do {                                                                  \
		if ((res)->rc != 0)                                           \
			fail_msg("box failed: %d %s", (res)->rc, (res)->msg); \
	} while (0)

static void test_pid1_is_the_command(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "echo pid=$$; cat /proc/1/cmdline; true"));

	(void)state;
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_int_equal(res.code, 0);
	assert_contains(res.out, "pid=1\n");
	assert_contains(res.out, "/bin/sh");
}

static void test_ps_sees_only_the_box(void **state)
{
	(void)state;
	harness_sh("ps -o pid,comm; echo procs=$(ls -d /proc/[0-9]* | wc -l)", &res);
	assert_ran(&res);
	/* sh (pid 1), ps (or ls) and the subshell: a handful, not the host's */
	assert_contains(res.out, "    1 sh");
	assert_not_contains(res.out, "boxctl");
	{
		const char *p = strstr(res.out, "procs=");
		int n = p ? atoi(p + 6) : 999;

		assert_true(n >= 1 && n <= 4);
	}
}

static void test_hostname(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "hostname; echo $HOSTNAME"));

	(void)state;
	assert_int_equal(box_config_set_hostname(cfg, "testbox"), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_string_equal(res.out, "testbox\ntestbox\n");
}

static void test_outside_the_root_is_unreachable(void **state)
{
	char dir[] = "/tmp/libbox-marker-XXXXXX", marker[64], script[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(marker, sizeof(marker), "%s/secret", dir);
	harness_write_file(marker, "host secret\n", 0644);
	snprintf(script, sizeof(script),
		 "cat %s; cat /..%s; cat ../../..%s; ls /proc/1/root%s; echo done", marker, marker,
		 marker, dir);
	harness_sh(script, &res);
	assert_ran(&res);
	assert_not_contains(res.out, "host secret");
	assert_contains(res.out, "done");
	unlink(marker);
	rmdir(dir);
}

static void test_masked_paths(void **state)
{
	static const char *const files[] = { "/proc/kcore", "/proc/keys", "/proc/timer_list",
					     "/proc/sched_debug", "/proc/latency_stats" };
	static const char *const dirs[] = { "/sys/firmware", "/proc/acpi", "/proc/scsi" };
	char script[2048];
	size_t len = 0;
	int checked = 0;

	(void)state;
	/* mask whatever of Docker's list this kernel has; kcore where it exists */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (access(files[i], F_OK) == 0) {
			len += (size_t)snprintf(script + len, sizeof(script) - len,
						"echo %s=$(cat %s | wc -c);", files[i], files[i]);
			checked++;
		}
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (access(dirs[i], F_OK) == 0) {
			len += (size_t)snprintf(script + len, sizeof(script) - len,
						"echo %s=$(ls -A %s | wc -l);", dirs[i], dirs[i]);
			checked++;
		}
	}
	assert_true(checked >= 2);
	harness_sh(script, &res);
	assert_ran(&res);
	for (const char *p = res.out; (p = strchr(p, '=')); p++)
		if (p[1] != '0' || p[2] != '\n')
			fail_msg("a masked path is readable: %s", res.out);
	/* and the read-only paths refuse writes */
	harness_sh("echo 1 > /proc/sys/kernel/domainname && echo WROTE; "
		   "grep -c ' /proc/sys ro,' /proc/self/mountinfo", &res);
	assert_not_contains(res.out, "WROTE");
	assert_contains(res.out, "1\n");
}

static void test_capabilities_are_dockers(void **state)
{
	(void)state;
	harness_sh("grep Cap /proc/self/status", &res);
	assert_ran(&res);
	assert_contains(res.out, "CapInh:\t0000000000000000\n");
	assert_contains(res.out, "CapPrm:\t00000000a80425fb\n");
	assert_contains(res.out, "CapEff:\t00000000a80425fb\n");
	assert_contains(res.out, "CapBnd:\t00000000a80425fb\n");
	assert_contains(res.out, "CapAmb:\t0000000000000000\n");
	harness_sh("grep NoNewPrivs /proc/self/status; grep Seccomp: /proc/self/status", &res);
	assert_contains(res.out, "NoNewPrivs:\t1\n");
	assert_contains(res.out, "Seccomp:\t2\n");
}

static void test_cap_add_and_drop(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "grep CapEff /proc/self/status"));

	(void)state;
	assert_int_equal(box_config_drop_cap(cfg, "CHOWN"), 0);
	assert_int_equal(box_config_add_cap(cfg, "CAP_SYS_ADMIN"), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	/* a80425fb - CHOWN (bit 0) + SYS_ADMIN (bit 21) */
	assert_contains(res.out, "CapEff:\t00000000a82425fa\n");
	cfg = harness_config(ARGV("/probe", "unshare"));
	assert_int_equal(box_config_add_cap(cfg, "SYS_ADMIN"), 0);
	harness_run(cfg, &res);
	assert_string_equal(res.out, "ok\n"); /* seccomp follows the capabilities, as Docker's */
}

static void test_seccomp_default_refuses(void **state)
{
	static const char *const refused[][2] = {
		{ "unshare", "EPERM" }, { "keyctl", "EPERM" }, { "mount", "EPERM" },
		{ "clone3", "ENOSYS" }, { "vsock", "EPERM" }, { "personality", "EPERM" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		harness_run(harness_config(ARGV("/probe", refused[i][0])), &res);
		assert_ran(&res);
		if (strncmp(res.out, refused[i][1], strlen(refused[i][1])) != 0)
			fail_msg("%s gave \"%s\", expected %s", refused[i][0], res.out, refused[i][1]);
	}
	harness_run(harness_config(ARGV("/probe", "getpid")), &res);
	assert_string_equal(res.out, "ok\n");
}

static void test_seccomp_covers_the_compat_arch(void **state)
{
	(void)state;
#if defined(__x86_64__)
	harness_run(harness_config(ARGV("/probe", "getpid32")), &res);
	assert_ran(&res);
	assert_string_equal(res.out, "ok\n"); /* allowed, and not killed as a foreign arch */
	harness_run(harness_config(ARGV("/probe", "keyctl32")), &res);
	assert_string_equal(res.out, "EPERM\n");
#else
	skip();
#endif
}

/* Each namespace flag gives a new namespace, and only those. */
static void test_namespaces_are_new(void **state)
{
	static const struct {
		unsigned flag;
		const char *name;
	} nss[] = {
		{ BOX_NS_MOUNT, "mnt" }, { BOX_NS_UTS, "uts" },	  { BOX_NS_IPC, "ipc" },
		{ BOX_NS_PID, "pid" },	 { BOX_NS_NET, "net" },	  { BOX_NS_USER, "user" },
		{ BOX_NS_CGROUP, "cgroup" }, { BOX_NS_TIME, "time" },
	};

	(void)state;
	for (int with_all = 0; with_all < 2; with_all++) {
		unsigned flags = with_all ? BOX_NS_ALL : BOX_NS_MOUNT;
		box_config *cfg = harness_config(ARGV("/bin/sh", "-c",
			"for n in mnt uts ipc pid net user cgroup time; do echo $n=$(readlink /proc/self/ns/$n); done"));

		assert_int_equal(box_config_set_namespaces(cfg, flags), 0);
		harness_run(cfg, &res);
		assert_ran(&res);
		for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
			char host[128], want[160], path[64];
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/self/ns/%s", nss[i].name);
			n = readlink(path, host, sizeof(host) - 1);
			assert_true(n > 0);
			host[n] = '\0';
			snprintf(want, sizeof(want), "%s=%s\n", nss[i].name, host);
			if (flags & nss[i].flag)
				assert_not_contains(res.out, want);
			else
				assert_contains(res.out, want);
		}
	}
}

static void test_seccomp_unconfined_and_profile(void **state)
{
	char dir[] = "/tmp/libbox-test-XXXXXX", path[64];
	box_config *cfg = harness_config(ARGV("/probe", "clone3"));

	(void)state;
	assert_int_equal(box_config_set_seccomp(cfg, BOX_SECCOMP_UNCONFINED, NULL), 0);
	harness_run(cfg, &res);
	assert_string_equal(res.out, "EINVAL\n"); /* the kernel's answer, not the filter's */

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json", dir);
	harness_write_file(path,
			   "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
			   "[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}",
			   0644);
	cfg = harness_config(ARGV("/probe", "mkdir"));
	assert_int_equal(box_config_set_seccomp(cfg, BOX_SECCOMP_PROFILE, path), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_string_equal(res.out, "EACCES\n");
	/* no_new_privs off: the filter is loaded while CAP_SYS_ADMIN is held */
	cfg = harness_config(ARGV("/bin/sh", "-c", "grep -E 'NoNewPrivs|Seccomp:' /proc/self/status; /probe keyctl"));
	assert_int_equal(box_config_set_no_new_privs(cfg, 0), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "NoNewPrivs:\t0\n");
	assert_contains(res.out, "Seccomp:\t2\n");
	assert_contains(res.out, "EPERM\n");
	unlink(path);
	rmdir(dir);
}

/* The compiled-filter cache in the state directory: used when it can be
 * trusted, ignored and replaced when it cannot. */
static void test_seccomp_cache(void **state)
{
	char own[] = "/tmp/libbox-cache-test-XXXXXX", dir[512], path[700], cmd[800];
	box_ctx *ctx = NULL;
	struct stat st;
	FILE *f;

	(void)state;
	/* a state directory of its own: one profile, one cache file */
	assert_non_null(mkdtemp(own));
	assert_int_equal(box_ctx_new(&ctx), 0);
	assert_int_equal(box_ctx_set_state_dir(ctx, own), 0);
	assert_int_equal(box_ctx_set_cgroup_parent(ctx, harness_cgroup_parent()), 0);
	harness_run_in(ctx, harness_config(ARGV("/probe", "keyctl")), &res);
	assert_string_equal(res.out, "EPERM\n");
	snprintf(dir, sizeof(dir), "%s/seccomp", own);
	snprintf(cmd, sizeof(cmd), "ls %s/*.bpf", dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(path, sizeof(path), f));
	pclose(f);
	path[strcspn(path, "\n")] = '\0';
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(st.st_size > 0 && st.st_size % 8 == 0);

	/* writable by others: not trusted, compiled again and replaced */
	assert_int_equal(chmod(path, 0666), 0);
	harness_run_in(ctx, harness_config(ARGV("/probe", "keyctl")), &res);
	assert_string_equal(res.out, "EPERM\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* not a whole number of instructions: ignored, replaced */
	harness_write_file(path, "garbage", 0600);
	harness_run_in(ctx, harness_config(ARGV("/probe", "getpid")), &res);
	assert_string_equal(res.out, "ok\n");
	harness_run_in(ctx, harness_config(ARGV("/probe", "keyctl")), &res);
	assert_string_equal(res.out, "EPERM\n");
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 8 && st.st_size % 8 == 0);
	box_ctx_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", own);
	assert_int_equal(system(cmd), 0);
}

static void test_readonly_root(void **state)
{
	box_config *cfg = harness_config(
		ARGV("/bin/sh", "-c", "touch /newfile && echo WROTE; echo x > /dev/shm/ok && echo SHM"));

	(void)state;
	assert_int_equal(box_config_set_readonly_root(cfg, 1), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "Read-only file system");
	assert_not_contains(res.out, "WROTE");
	assert_contains(res.out, "SHM"); /* /dev/shm stays writable */
	assert_int_equal(access("/tmp/../newfile", F_OK), -1);
}

static void test_bind_mounts(void **state)
{
	char dir[] = "/tmp/libbox-bind-XXXXXX", file[64], buf[64] = { 0 };
	box_config *cfg;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/from-host", dir);
	harness_write_file(file, "hello from host\n", 0644);

	cfg = harness_config(ARGV("/bin/sh", "-c", "cat /data/from-host; echo boxed > /data/from-box"));
	assert_int_equal(box_config_add_mount(cfg, "bind", dir, "/data", NULL), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "hello from host");
	snprintf(file, sizeof(file), "%s/from-box", dir);
	fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	assert_string_equal(buf, "boxed\n");
	unlink(file);

	cfg = harness_config(ARGV("/bin/sh", "-c", "cat /data/from-host; echo no > /data/x && echo WROTE"));
	assert_int_equal(box_config_add_mount(cfg, "bind", dir, "/data", "ro"), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "hello from host");
	assert_contains(res.out, "Read-only file system");
	assert_not_contains(res.out, "WROTE");
	snprintf(file, sizeof(file), "%s/x", dir);
	assert_int_equal(access(file, F_OK), -1);

	/* a target behind a symlink that points out of the root stays inside */
	cfg = harness_config(ARGV("/bin/sh", "-c", "ls /escape/"));
	assert_int_equal(box_config_add_mount(cfg, "tmpfs", "tmpfs", "/proc/self/root/escape", NULL), 0);
	harness_run(cfg, &res);
	/* /proc/self is a magic link: the lookup is refused, not followed */
	assert_int_not_equal(res.rc, 0);
	snprintf(file, sizeof(file), "%s/from-host", dir);
	unlink(file);
	rmdir(dir);
}

static void test_symlinked_target_stays_inside(void **state)
{
	char root[] = "/tmp/libbox-root-XXXXXX", cmd[512], outside[600];
	box_config *cfg;

	(void)state;
	/* a private copy of the rootfs with a hostile symlink */
	assert_non_null(mkdtemp(root));
	snprintf(cmd, sizeof(cmd), "cp -a %s/. %s/ && ln -s /tmp/libbox-outside-target %s/evil",
		 harness_rootfs(), root, root);
	assert_int_equal(system(cmd), 0);
	cfg = harness_config(ARGV("/bin/sh", "-c", "touch /evil/inside && ls /tmp"));
	assert_int_equal(box_config_set_rootfs(cfg, root), 0);
	assert_int_equal(box_config_add_mount(cfg, "tmpfs", "tmpfs", "/evil", NULL), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	/* the tmpfs landed on <root>/tmp/libbox-outside-target, never on the host's /tmp */
	assert_contains(res.out, "libbox-outside-target");
	assert_int_equal(access("/tmp/libbox-outside-target", F_OK), -1);
	snprintf(outside, sizeof(outside), "rm -rf %s", root);
	assert_int_equal(system(outside), 0);
}

/* An image whose /proc (or /dev) is a symlink must not move the box's own
 * mounts: procfs over the box's root would leave /proc/sys writable,
 * out of reach of the masks. */
static void test_hostile_symlinks_for_the_boxs_mounts(void **state)
{
	static const char *const hostile[] = { "proc", "dev", "sys" };
	char root[] = "/tmp/libbox-hostile-XXXXXX", cmd[700];

	(void)state;
	assert_non_null(mkdtemp(root));
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "echo RAN; cat /../sys/kernel/hostname"));

		snprintf(cmd, sizeof(cmd), "rm -rf %1$s/* && cp -a %2$s/. %1$s/ && rm -rf %1$s/%3$s && ln -s / %1$s/%3$s",
			 root, harness_rootfs(), hostile[i]);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(box_config_set_rootfs(cfg, root), 0);
		harness_run(cfg, &res);
		if (res.rc != -ELOOP)
			fail_msg("%s -> /: box ran (%d, %s): %s", hostile[i], res.rc, res.msg, res.out);
		assert_contains(res.msg, hostile[i]);
		assert_not_contains(res.out, "RAN");
	}
	/* a mount of the caller's that resolves to the root itself */
	{
		box_config *cfg = harness_config(ARGV("/bin/true"));

		assert_int_equal(box_config_add_mount(cfg, "tmpfs", "tmpfs", "/.", NULL), 0);
		harness_run(cfg, &res);
		assert_int_equal(res.rc, -EINVAL);
		assert_contains(res.msg, "mount tmpfs on ");
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void test_tmpfs_mount(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "echo hi > /scratch/f && cat /scratch/f && grep ' /scratch ' /proc/self/mountinfo"));

	(void)state;
	assert_int_equal(box_config_add_mount(cfg, "tmpfs", "tmpfs", "/scratch", "nosuid,size=1m,mode=700"), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "hi\n");
	assert_contains(res.out, "nosuid");
	assert_contains(res.out, "size=1024k");
}

static void test_user_and_groups(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "id -u; id -g; id -G; grep CapEff /proc/self/status; touch /root/x && echo WROTE"));
	uint32_t groups[] = { 100, 200 };

	(void)state;
	assert_int_equal(box_config_set_user(cfg, 1000, 1001), 0);
	assert_int_equal(box_config_set_groups(cfg, 2, groups), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "1000\n1001\n1001 100 200\n");
	assert_contains(res.out, "CapEff:\t0000000000000000\n");
	assert_not_contains(res.out, "WROTE");
}

static void test_caller_fds_not_inherited(void **state)
{
	int fd = open("/etc/hostname", O_RDONLY); /* no O_CLOEXEC on purpose */

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 57), 57);
	harness_sh("ls /proc/self/fd | tr '\\n' ' '", &res);
	assert_ran(&res);
	assert_string_equal(res.out, "0 1 2 3 "); /* 3 is ls's own directory */
	close(57);
	close(fd);
}

/* Between box_create() and box_start() the box's first process holds none
 * of its creator's files (another box's lock among them): the write end
 * of a pipe we close is closed everywhere, the reader sees end of file. */
static void test_created_box_holds_no_caller_fd(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));
	struct pollfd p = { .events = POLLIN };
	int pipefd[2];
	box *b = NULL;

	(void)state;
	assert_int_equal(pipe(pipefd), 0); /* no O_CLOEXEC on purpose */
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	close(pipefd[1]);
	p.fd = pipefd[0];
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_true(p.revents & POLLHUP);
	close(pipefd[0]);
	assert_int_equal(box_destroy(b), 0);
	box_config_free(cfg);
}

static void test_dev_nodes_and_umask(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c",
		"stat -c '%a %F' /dev/null /dev/zero /dev/tty; umask; echo x > /dev/null && echo WROTE"));

	(void)state;
	assert_int_equal(box_config_set_user(cfg, 1000, 1000), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_string_equal(res.out, "666 character special file\n666 character special file\n"
				     "666 character special file\n0022\nWROTE\n");
}

static void test_env_and_cwd(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "echo $FOO $PATH $HOME; pwd"));

	(void)state;
	assert_int_equal(box_config_set_env(cfg, "FOO", "bar baz"), 0);
	assert_int_equal(box_config_set_cwd(cfg, "/work/dir"), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_string_equal(res.out, "bar baz /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /root\n/work/dir\n");
}

static void test_network_none_has_lo_up(void **state)
{
	(void)state;
	harness_sh("ls /sys/class/net; cat /sys/class/net/lo/flags", &res);
	assert_ran(&res);
	assert_string_equal(res.out, "lo\n0x9\n");
}

static void test_exit_codes(void **state)
{
	(void)state;
	harness_sh("exit 7", &res);
	assert_ran(&res);
	assert_int_equal(res.code, 7);
	assert_int_equal(res.sig, 0);
}

static void test_kill_without_init(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sleep", "100"));
	box *b = NULL;
	int code, sig;

	(void)state;
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	box_config_free(cfg);
	assert_int_equal(box_start(b), 0);
	/* pid 1 without a handler ignores SIGTERM from its own namespace; from
	 * ours only SIGKILL counts, as in Docker without --init */
	assert_int_equal(box_kill(b, SIGKILL), 0);
	assert_int_equal(box_wait(b, &code, &sig), 0);
	assert_int_equal(code, -1);
	assert_int_equal(sig, SIGKILL);
	assert_int_equal(box_destroy(b), 0);
}

/* Read from fd until needle shows up (or EOF). */
static void read_until(int fd, const char *needle, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	buf[0] = '\0';
	while (!strstr(buf, needle) && n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0) {
		n += (size_t)r;
		buf[n] = '\0';
	}
}

static void test_init_forwards_sigterm(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done"));
	char buf[256];
	box *b = NULL;
	int p[2], code, sig;

	(void)state;
	assert_int_equal(box_config_set_init(cfg, 1), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(box_config_set_stdio(cfg, -1, p[1], p[1]), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	close(p[1]);
	box_config_free(cfg);
	assert_int_equal(box_start(b), 0);
	read_until(p[0], "ready", buf, sizeof(buf));
	assert_int_equal(box_kill(b, SIGTERM), 0);
	read_until(p[0], "got TERM", buf, sizeof(buf));
	assert_int_equal(box_wait(b, &code, &sig), 0);
	assert_int_equal(code, 42);
	assert_int_equal(sig, 0);
	close(p[0]);
	assert_int_equal(box_destroy(b), 0);
}

static void test_init_reaps_orphans(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c",
		"(sleep 0.2 &); (sleep 0.2 &); sleep 0.1; ps -o pid,ppid,stat,comm; sleep 0.6; echo AFTER; ps -o pid,ppid,stat,comm"));
	const char *after;

	(void)state;
	assert_int_equal(box_config_set_init(cfg, 1), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	/* the orphans were re-parented to the init (pid 1)... */
	assert_contains(res.out, "1 S    sleep");
	/* ...and reaped by it once they exited: no zombie, no sleep left */
	after = strstr(res.out, "AFTER");
	assert_non_null(after);
	assert_not_contains(after, " Z ");
	assert_not_contains(after, "sleep");
	assert_int_equal(res.code, 0);
}

static void test_init_hides_the_host_command_line(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "tr -d '\\000' < /proc/1/cmdline; echo; cat /proc/1/comm"));

	(void)state;
	assert_int_equal(box_config_set_init(cfg, 1), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	/* not "/…/build/tests/test_box" */
	assert_string_equal(res.out, "box-init\nbox-init\n");
}

static void test_init_reports_the_commands_signal(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "kill -TERM $$"));

	(void)state;
	assert_int_equal(box_config_set_init(cfg, 1), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_int_equal(res.code, -1);
	assert_int_equal(res.sig, SIGTERM);
}

static void test_exec_failure_at_start(void **state)
{
	char dir[] = "/tmp/libbox-exec-XXXXXX", file[64];
	box_config *cfg;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/garbage", dir);
	harness_write_file(file, "\x7f" "ELFgarbage", 0755);
	for (int init = 0; init < 2; init++) {
		cfg = harness_config(ARGV("/garbage"));
		assert_int_equal(box_config_add_mount(cfg, "bind", file, "/garbage", "ro"), 0);
		assert_int_equal(box_config_set_init(cfg, init), 0);
		harness_run(cfg, &res);
		assert_int_equal(res.rc, -ENOEXEC);
		assert_contains(res.msg, "execve");
		assert_contains(res.msg, "Exec format error");
	}
	unlink(file);
	rmdir(dir);
}

static void test_user_namespace(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; ls /dev/null && hostname"));

	(void)state;
	assert_int_equal(box_config_set_namespaces(cfg, BOX_NS_DEFAULT | BOX_NS_USER), 0);
	assert_int_equal(box_config_add_id_map(cfg, BOX_MAP_UID, 0, 100000, 65536), 0);
	assert_int_equal(box_config_add_id_map(cfg, BOX_MAP_GID, 0, 100000, 65536), 0);
	assert_int_equal(box_config_set_hostname(cfg, "userns"), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "0     100000      65536");
	assert_contains(res.out, "\n0\n/dev/null\nuserns\n");
}

static void test_chroot_fallback(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "ls /; cat /proc/1/cmdline"));

	(void)state;
	assert_int_equal(box_config_set_no_pivot(cfg, 1), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "bin\n");
	assert_contains(res.out, "probe");
	/* behind a chroot is the host: whoever may chroot could leave it */
	cfg = harness_config(ARGV("/bin/sh", "-c", "grep -E 'CapEff|CapBnd' /proc/self/status"));
	assert_int_equal(box_config_set_no_pivot(cfg, 1), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "CapEff:\t00000000a80025fb\n");
	assert_contains(res.out, "CapBnd:\t00000000a80025fb\n");
}

/* The host's own "/" as the root (pivot_root refuses it: EBUSY): read-only,
 * with the box's /proc, /dev and cgroup, and no way out of the chroot. */
static void test_host_root(void **state)
{
	const char *argv[] = { "/bin/sh", "-c",
			       "touch /libbox-host-root-probe && echo WROTE; "
			       "grep -E 'CapEff' /proc/self/status; echo pid1=$(cat /proc/1/comm)",
			       NULL };
	box_config *cfg = NULL;

	(void)state;
	assert_int_equal(box_config_new(&cfg), 0);
	assert_int_equal(box_config_set_rootfs(cfg, "/"), 0);
	assert_int_equal(box_config_set_readonly_root(cfg, 1), 0);
	assert_int_equal(box_config_set_argv(cfg, 3, argv), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "Read-only file system");
	assert_not_contains(res.out, "WROTE");
	assert_int_equal(access("/libbox-host-root-probe", F_OK), -1);
	assert_contains(res.out, "CapEff:\t00000000a80025fb\n");
	assert_contains(res.out, "pid1=sh\n"); /* its own pid namespace and /proc */
}

static void test_rlimits(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "ulimit -n; ulimit -Hn"));

	(void)state;
	assert_int_equal(box_config_set_rlimit(cfg, "nofile", 100, 200), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_string_equal(res.out, "100\n200\n");
}

/* Run proc in b and collect its output and status. */
static void exec_in(box *b, box_config *proc, struct run_result *r)
{
	box *e = NULL;
	int p[2];
	size_t len = 0;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(box_config_set_stdio(proc, -1, p[1], p[1]), 0);
	r->rc = box_exec(b, proc, &e);
	close(p[1]);
	if (r->rc == 0) {
		while ((n = read(p[0], r->out + len, sizeof(r->out) - 1 - len)) > 0)
			len += (size_t)n;
		r->rc = box_wait(e, &r->code, &r->sig);
	} else {
		snprintf(r->msg, sizeof(r->msg), "%s", box_last_error());
	}
	close(p[0]);
	box_destroy(e);
	box_config_free(proc);
}

static box_config *proc_of(const char *const *argv)
{
	box_config *c = NULL;
	int argc = 0;

	while (argv[argc])
		argc++;
	assert_int_equal(box_config_new(&c), 0);
	assert_int_equal(box_config_set_argv(c, argc, argv), 0);
	return c;
}

static void test_exec_joins_the_box(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "echo inside > /tmp/marker-exec; sleep 30"));
	box_config *proc;
	box *b = NULL;
	struct run_result r;

	(void)state;
	assert_int_equal(box_config_set_hostname(cfg, "execbox"), 0);
	assert_int_equal(box_config_set_env(cfg, "FROM_BOX", "yes"), 0);
	assert_int_equal(box_config_set_stdio(cfg, -1, -1, -1), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	box_config_free(cfg);
	/* not started: refused */
	proc = proc_of(ARGV("true"));
	assert_int_equal(box_exec(b, proc, &(box *){ NULL }), -ESRCH);
	box_config_free(proc);
	assert_int_equal(box_start(b), 0);
	for (int i = 0; i < 100; i++) {
		exec_in(b, proc_of(ARGV("cat", "/tmp/marker-exec")), &r);
		if (strstr(r.out, "inside"))
			break;
		usleep(10000);
	}
	/* the box's root, pid namespace, host name, environment, security */
	assert_string_equal(r.out, "inside\n");
	proc = proc_of(ARGV("/bin/sh", "-c", "hostname; echo $FROM_BOX $EXTRA; cat /proc/1/cmdline | tr '\\000' ' '; echo; "
				"grep -E 'CapEff|NoNewPrivs|Seccomp:' /proc/self/status; id -u; pwd; exit 3"));
	assert_int_equal(box_config_set_env(proc, "EXTRA", "added"), 0);
	assert_int_equal(box_config_set_user(proc, 1000, 1000), 0);
	assert_int_equal(box_config_set_cwd(proc, "/tmp"), 0);
	exec_in(b, proc, &r);
	assert_ran(&r);
	assert_int_equal(r.code, 3);
	assert_contains(r.out, "execbox\nyes added\nsleep 30 \n"); /* the box's pid 1 */
	assert_contains(r.out, "NoNewPrivs:\t1\n");
	assert_contains(r.out, "Seccomp:\t2\n");
	assert_contains(r.out, "CapEff:\t0000000000000000\n"); /* uid 1000 */
	assert_contains(r.out, "1000\n/tmp\n");
	/* the default user is the box's: Docker's capabilities */
	exec_in(b, proc_of(ARGV("grep", "CapEff", "/proc/self/status")), &r);
	assert_string_equal(r.out, "CapEff:\t00000000a80425fb\n");
	/* in the box's cgroup */
	exec_in(b, proc_of(ARGV("cat", "/proc/self/cgroup")), &r);
	assert_not_contains(r.out, "libbox-test");
	/* a command that is not there */
	exec_in(b, proc_of(ARGV("no-such-command")), &r);
	assert_int_equal(r.rc, -ENOENT);
	assert_contains(r.msg, "no-such-command: executable file not found");
	/* the caller's fds stay out */
	exec_in(b, proc_of(ARGV("ls", "/proc/self/fd")), &r);
	assert_string_equal(r.out, "0\n1\n2\n3\n");
	assert_int_equal(box_destroy(b), 0);
}

static void test_tty(void **state)
{
	(void)state;
	for (int init = 0; init < 2; init++) {
		box_config *cfg = harness_config(ARGV("/bin/sh", "-c",
			"tty; stty size; echo ctty > /dev/tty && echo done"));
		struct winsize ws = { .ws_row = 33, .ws_col = 111 };
		char out[4096] = "";
		size_t len = 0;
		ssize_t n;
		box *b = NULL;
		int code, fd;

		assert_int_equal(box_config_set_tty(cfg, 1), 0);
		assert_int_equal(box_config_set_init(cfg, init), 0);
		assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
		box_config_free(cfg);
		fd = box_tty_fd(b);
		assert_true(fd >= 0);
		assert_int_equal(ioctl(fd, TIOCSWINSZ, &ws), 0);
		assert_int_equal(box_start(b), 0);
		/* EIO once the last holder of the terminal's other end is gone */
		while (len < sizeof(out) - 1 && (n = read(fd, out + len, sizeof(out) - 1 - len)) > 0)
			len += (size_t)n;
		assert_int_equal(box_wait(b, &code, NULL), 0);
		assert_int_equal(code, 0);
		/* a terminal of the box's own devpts, its size, and the
		 * controlling one (/dev/tty opens only then) */
		assert_contains(out, "/dev/pts/0");
		assert_contains(out, "33 111");
		assert_contains(out, "ctty");
		assert_contains(out, "done");
		assert_int_equal(box_destroy(b), 0);
	}
	/* exec with a terminal */
	{
		box_config *cfg = harness_config(ARGV("/bin/sleep", "30")), *proc;
		box *b = NULL, *e = NULL;
		char out[512] = "";
		ssize_t n;

		assert_int_equal(box_config_set_stdio(cfg, -1, -1, -1), 0);
		assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
		box_config_free(cfg);
		assert_int_equal(box_start(b), 0);
		proc = proc_of(ARGV("tty"));
		assert_int_equal(box_config_set_tty(proc, 1), 0);
		assert_int_equal(box_exec(b, proc, &e), 0);
		box_config_free(proc);
		n = read(box_tty_fd(e), out, sizeof(out) - 1);
		assert_true(n > 0);
		assert_contains(out, "/dev/pts/");
		assert_int_equal(box_wait(e, NULL, NULL), 0);
		assert_int_equal(box_destroy(e), 0);
		assert_int_equal(box_destroy(b), 0);
	}
}

static void test_box_run_one_call(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "exit 3"));
	int code = 0, sig = 0;

	(void)state;
	assert_int_equal(box_config_set_stdio(cfg, -1, -1, -1), 0);
	assert_int_equal(box_run(harness_ctx(), cfg, &code, &sig), 0);
	assert_int_equal(code, 3);
	assert_int_equal(sig, 0);
	box_config_free(cfg);
}

static int clean_setup(void **state)
{
	static struct leftovers before;

	harness_snapshot(&before);
	*state = &before;
	return 0;
}

static int clean_teardown(void **state)
{
	harness_assert_clean(*state);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, clean_setup, clean_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pid1_is_the_command),
		T(test_ps_sees_only_the_box),
		T(test_hostname),
		T(test_outside_the_root_is_unreachable),
		T(test_masked_paths),
		T(test_capabilities_are_dockers),
		T(test_cap_add_and_drop),
		T(test_seccomp_default_refuses),
		T(test_seccomp_covers_the_compat_arch),
		T(test_namespaces_are_new),
		T(test_seccomp_unconfined_and_profile),
		T(test_seccomp_cache),
		T(test_readonly_root),
		T(test_bind_mounts),
		T(test_symlinked_target_stays_inside),
		T(test_hostile_symlinks_for_the_boxs_mounts),
		T(test_tmpfs_mount),
		T(test_user_and_groups),
		T(test_caller_fds_not_inherited),
		T(test_created_box_holds_no_caller_fd),
		T(test_dev_nodes_and_umask),
		T(test_env_and_cwd),
		T(test_network_none_has_lo_up),
		T(test_exit_codes),
		T(test_kill_without_init),
		T(test_init_forwards_sigterm),
		T(test_init_reaps_orphans),
		T(test_init_hides_the_host_command_line),
		T(test_init_reports_the_commands_signal),
		T(test_exec_failure_at_start),
		T(test_user_namespace),
		T(test_chroot_fallback),
		T(test_host_root),
		T(test_rlimits),
		T(test_exec_joins_the_box),
		T(test_tty),
		T(test_box_run_one_call),
	};

	return harness_main("box", tests, sizeof(tests) / sizeof(tests[0]));
}
