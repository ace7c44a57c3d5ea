/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public API's contract on bad input: the right -errno, a message
 * naming what and why, and nothing left behind. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/prctl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define assert_err(expr, err, needle)                                          \
	do {                                                                   \
		int _r = (expr);                                               \
		assert_int_equal(_r, -(err));                                  \
		if (!strstr(box_last_error(), (needle)))                       \
			fail_msg("message \"%s\" lacks \"%s\"", box_last_error(), \
				 (needle));                                    \
	} while (0)

static void test_version_and_strerror(void **state)
{
	(void)state;
	assert_string_equal(box_version(), LIBBOX_TEST_VERSION);
	assert_string_equal(box_strerror(-ENOENT), "No such file or directory");
	assert_string_equal(box_strerror(ENOENT), "No such file or directory");
	assert_string_equal(box_strerror(0), "Success");
	assert_non_null(strstr(box_strerror(-9999), "9999"));
	assert_non_null(box_last_error());
}

static void test_null_arguments(void **state)
{
	box_config *cfg = NULL;
	int code, sig;

	(void)state;
	assert_err(box_ctx_new(NULL), EINVAL, "out is NULL");
	assert_err(box_config_new(NULL), EINVAL, "out is NULL");
	assert_err(box_ctx_set_state_dir(NULL, "/x"), EINVAL, "ctx is NULL");
	assert_err(box_ctx_set_store_dir(harness_ctx(), NULL), EINVAL, "absolute");
	assert_err(box_ctx_set_state_dir(harness_ctx(), "relative"), EINVAL, "absolute");
	assert_null(box_ctx_state_dir(NULL));
	assert_err(box_config_set_argv(NULL, 1, ARGV("x")), EINVAL, "config is NULL");
	assert_err(box_config_set_rootfs(NULL, "/"), EINVAL, "config is NULL");
	assert_err(box_create(NULL, NULL, NULL), EINVAL, "is NULL");
	assert_err(box_start(NULL), EINVAL, "box is NULL");
	assert_err(box_wait(NULL, &code, &sig), EINVAL, "box is NULL");
	assert_err(box_kill(NULL, 9), EINVAL, "box is NULL");
	assert_int_equal(box_destroy(NULL), 0);
	assert_int_equal(box_pid(NULL), -1);
	assert_int_equal(box_pidfd(NULL), -1);
	assert_null(box_id(NULL));
	box_config_free(NULL);
	box_ctx_free(NULL);

	assert_int_equal(box_config_new(&cfg), 0);
	assert_err(box_config_set_argv(cfg, 0, ARGV("x")), EINVAL, "empty");
	assert_err(box_config_set_argv(cfg, 1, NULL), EINVAL, "empty");
	assert_err(box_config_set_argv(cfg, 2, ((const char *const[]){ "a", NULL })), EINVAL,
		   "argv[1] is NULL");
	assert_err(box_config_set_argv(cfg, 1, ARGV("")), EINVAL, "empty string");
	assert_err(box_config_set_env(cfg, "A=B", "c"), EINVAL, "invalid variable name");
	assert_err(box_config_set_env(cfg, "", "c"), EINVAL, "invalid variable name");
	assert_err(box_config_set_cwd(cfg, "rel/dir"), EINVAL, "not an absolute path");
	assert_err(box_config_set_hostname(cfg, ""), EINVAL, "not a valid host name");
	assert_err(box_config_set_groups(cfg, 2, NULL), EINVAL, "invalid group list");
	assert_err(box_config_set_rootfs(cfg, ""), EINVAL, "empty");
	assert_err(box_config_add_mount(cfg, "bind", "relative", "/x", NULL), EINVAL,
		   "not an absolute path");
	assert_err(box_config_add_mount(cfg, "bind", "/tmp", "x", NULL), EINVAL,
		   "not an absolute path");
	assert_err(box_config_add_mount(cfg, "bind", "/tmp", "/x", "ro,bogus"), EINVAL,
		   "unknown bind mount option \"bogus\"");
	assert_err(box_config_add_mount(cfg, "", "/tmp", "/x", NULL), EINVAL, "type is empty");
	assert_err(box_config_set_rlimit(cfg, "nosuch", 1, 1), EINVAL, "unknown resource");
	assert_err(box_config_set_rlimit(cfg, "nofile", 10, 5), EINVAL, "soft limit above");
	assert_err(box_config_add_cap(cfg, "CAP_NOSUCH"), EINVAL, "unknown capability");
	assert_err(box_config_drop_cap(cfg, "3"), EINVAL, "unknown capability");
	assert_err(box_config_set_seccomp(cfg, 7, NULL), EINVAL, "unknown mode");
	assert_err(box_config_set_seccomp(cfg, BOX_SECCOMP_PROFILE, NULL), EINVAL, "no profile");
	assert_err(box_config_set_stdio(cfg, -2, 1, 2), EINVAL, "invalid fd");
	assert_err(box_config_add_id_map(cfg, 5, 0, 0, 1), EINVAL, "unknown map kind");
	assert_err(box_config_add_id_map(cfg, BOX_MAP_UID, 0, 0, 0), EINVAL, "invalid range");
	assert_err(box_config_add_id_map(cfg, BOX_MAP_UID, 0, UINT32_MAX - 1, 5), EINVAL,
		   "invalid range");
	/* good values are accepted */
	assert_int_equal(box_config_add_cap(cfg, "net_admin"), 0);
	assert_int_equal(box_config_add_cap(cfg, "CAP_SYS_PTRACE"), 0);
	assert_int_equal(box_config_drop_cap(cfg, "ALL"), 0);
	assert_int_equal(box_config_set_rlimit(cfg, "RLIMIT_NOFILE", 10, 20), 0);
	assert_int_equal(box_config_set_env(cfg, "A", "1"), 0);
	assert_int_equal(box_config_set_env(cfg, "A", "2"), 0);
	assert_int_equal(box_config_set_env(cfg, "A", NULL), 0);
	assert_int_equal(box_config_set_env(cfg, "NOT_SET", NULL), 0);
	box_config_free(cfg);
}

static void test_bad_namespace_flag(void **state)
{
	box_config *cfg = NULL;

	(void)state;
	assert_int_equal(box_config_new(&cfg), 0);
	assert_err(box_config_set_namespaces(cfg, 0x100), EINVAL, "unknown namespace flags 0x100");
	assert_err(box_config_set_namespaces(cfg, 0x80000000u | BOX_NS_PID), EINVAL,
		   "unknown namespace flags");
	box_config_free(cfg);
}

/* box_create on configs that cannot work: each fails with the right
 * -errno and message, and leaves no mount, process or fd behind. */
static void create_fails(box_config *cfg, int err, const char *needle)
{
	struct leftovers before;
	box *b = (box *)0x1;

	harness_snapshot(&before);
	assert_err(box_create(harness_ctx(), cfg, &b), err, needle);
	assert_ptr_equal(b, (box *)0x1); /* *out untouched on failure */
	harness_assert_clean(&before);
	box_config_free(cfg);
}

static void test_create_without_command(void **state)
{
	box_config *cfg = NULL;

	(void)state;
	assert_int_equal(box_config_new(&cfg), 0);
	assert_int_equal(box_config_set_rootfs(cfg, harness_rootfs()), 0);
	create_fails(cfg, EINVAL, "no command");
}

static void test_create_missing_rootfs(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));

	(void)state;
	assert_int_equal(box_config_set_rootfs(cfg, "/nonexistent/rootfs"), 0);
	create_fails(cfg, ENOENT, "root filesystem /nonexistent/rootfs: No such file or directory");
}

static void test_create_rootfs_is_a_file(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));

	(void)state;
	assert_int_equal(box_config_set_rootfs(cfg, "/etc/hostname"), 0);
	create_fails(cfg, ENOTDIR, "not a directory");
}

static void test_create_missing_command(void **state)
{
	(void)state;
	create_fails(harness_config(ARGV("no-such-command", "x")), ENOENT,
		     "no-such-command: executable file not found in $PATH");
	create_fails(harness_config(ARGV("/bin/no-such-command")), ENOENT,
		     "/bin/no-such-command: No such file or directory");
}

static void test_create_command_not_executable(void **state)
{
	(void)state;
	create_fails(harness_config(ARGV("/etc/passwd")), EACCES, "/etc/passwd: Permission denied");
}

static void test_create_bad_bind_source(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));

	(void)state;
	assert_int_equal(box_config_add_mount(cfg, "bind", "/nonexistent/src", "/mnt", "ro"), 0);
	create_fails(cfg, ENOENT, "bind mount /nonexistent/src on ");
}

static void test_create_bad_fstype(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));
	char want[4200];

	(void)state;
	assert_int_equal(box_config_add_mount(cfg, "nosuchfs", NULL, "/mnt", NULL), 0);
	snprintf(want, sizeof(want), "mount nosuchfs on %s/mnt: No such device", harness_rootfs());
	create_fails(cfg, ENODEV, want);
}

static void test_create_bad_fs_option(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));

	(void)state;
	assert_int_equal(box_config_add_mount(cfg, "tmpfs", "tmpfs", "/mnt", "size=banana"), 0);
	create_fails(cfg, EINVAL, "mount tmpfs on ");
}

static void test_create_bad_cwd(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));

	(void)state;
	/* a cwd through a file: mkdir fails, reported with the path */
	assert_int_equal(box_config_set_cwd(cfg, "/etc/passwd/sub"), 0);
	create_fails(cfg, ENOTDIR, "mkdir ");
}

static void test_create_inconsistent_namespaces(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));

	(void)state;
	assert_int_equal(box_config_set_namespaces(cfg, BOX_NS_PID), 0);
	create_fails(cfg, EINVAL, "a root filesystem needs a mount namespace");

	cfg = harness_config(ARGV("/bin/true"));
	assert_int_equal(box_config_set_namespaces(cfg, BOX_NS_MOUNT), 0);
	assert_int_equal(box_config_set_init(cfg, 1), 0);
	create_fails(cfg, EINVAL, "init needs a pid namespace");

	cfg = harness_config(ARGV("/bin/true"));
	assert_int_equal(box_config_set_namespaces(cfg, BOX_NS_MOUNT), 0);
	assert_int_equal(box_config_set_hostname(cfg, "x"), 0);
	create_fails(cfg, EINVAL, "host name needs a uts namespace");

	cfg = harness_config(ARGV("/bin/true"));
	assert_int_equal(box_config_add_id_map(cfg, BOX_MAP_UID, 0, 1000, 1), 0);
	create_fails(cfg, EINVAL, "id maps need a user namespace");
}

static void test_create_unenforceable_rlimit(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));

	(void)state;
	/* above the hard limit we run with: needs CAP_SYS_RESOURCE, which the
	 * box does not keep (and root here lacks) */
	assert_int_equal(box_config_set_rlimit(cfg, "nofile", 1024, UINT64_MAX), 0);
	create_fails(cfg, EPERM, "setrlimit");
}

static void test_create_bad_seccomp_profiles(void **state)
{
	char dir[] = "/tmp/libbox-test-XXXXXX", path[64];
	static const struct {
		const char *json, *needle;
		int err;
	} cases[] = {
		{ "{", "line 1", EINVAL },
		{ "[]", "not a JSON object", EINVAL },
		{ "{\"defaultAction\":\"SCMP_ACT_BOGUS\"}", "unsupported action \"SCMP_ACT_BOGUS\"", EINVAL },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}", "syscalls: not an array", EINVAL },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
		  "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		  "syscalls[0].args[0].index: not 0 to 5", EINVAL },
		{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_NOPE\"]}",
		  "unknown architecture \"SCMP_ARCH_NOPE\"", EINVAL },
	};

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		box_config *cfg = harness_config(ARGV("/bin/true"));

		harness_write_file(path, cases[i].json, 0644);
		assert_int_equal(box_config_set_seccomp(cfg, BOX_SECCOMP_PROFILE, path), 0);
		create_fails(cfg, cases[i].err, cases[i].needle);
	}
	unlink(path);
	{
		box_config *cfg = harness_config(ARGV("/bin/true"));

		assert_int_equal(box_config_set_seccomp(cfg, BOX_SECCOMP_PROFILE, path), 0);
		create_fails(cfg, ENOENT, "No such file or directory");
	}
	rmdir(dir);
}

static void test_lifecycle_misuse(void **state)
{
	struct leftovers before;
	box_config *cfg;
	box *b = NULL;
	int code = -5, sig = -5;

	(void)state;
	harness_snapshot(&before);
	cfg = harness_config(ARGV("/bin/true"));
	assert_int_equal(box_config_set_stdio(cfg, -1, -1, -1), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	box_config_free(cfg); /* the box does not need the config any more */
	assert_int_equal(strlen(box_id(b)), 64);
	assert_true(box_pid(b) > 0);
	assert_true(box_pidfd(b) >= 0);
	assert_int_equal(box_start(b), 0);
	assert_err(box_start(b), EALREADY, "already started");
	assert_int_equal(box_wait(b, &code, &sig), 0);
	assert_int_equal(code, 0);
	assert_int_equal(sig, 0);
	code = sig = -5;
	assert_int_equal(box_wait(b, &code, &sig), 0); /* same result again */
	assert_int_equal(code, 0);
	assert_int_equal(box_pid(b), -1);
	assert_err(box_kill(b, SIGTERM), ESRCH, "not running");
	assert_int_equal(box_destroy(b), 0);
	harness_assert_clean(&before);
}

static void test_destroy_before_start(void **state)
{
	struct leftovers before;
	box_config *cfg;
	box *b = NULL;

	(void)state;
	harness_snapshot(&before);
	cfg = harness_config(ARGV("/bin/sleep", "100"));
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	box_config_free(cfg);
	assert_int_equal(kill(box_pid(b), 0), 0); /* the box's process waits */
	assert_int_equal(box_destroy(b), 0);
	harness_assert_clean(&before);
}

static void test_start_after_the_box_died(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));
	box *b = NULL;
	int code, sig;

	(void)state;
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	box_config_free(cfg);
	assert_int_equal(kill(box_pid(b), SIGKILL), 0);
	{
		struct pollfd p = { .fd = box_pidfd(b), .events = POLLIN };

		assert_int_equal(poll(&p, 1, 5000), 1); /* dead for sure */
	}
	/* no SIGPIPE for us, a clear error instead */
	assert_err(box_start(b), ESRCH, "died before start");
	assert_int_equal(box_wait(b, &code, &sig), 0);
	assert_int_equal(sig, SIGKILL);
	assert_int_equal(box_destroy(b), 0);
}

static void test_invalid_signal(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));
	box *b = NULL;

	(void)state;
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	box_config_free(cfg);
	assert_err(box_kill(b, -1), EINVAL, "invalid signal -1");
	assert_err(box_kill(b, 4096), EINVAL, "invalid signal 4096");
	assert_int_equal(box_destroy(b), 0);
}

/* Inside Docker (its profile answers ENOSYS to clone3) libbox falls back
 * to clone with CLONE_PIDFD; a time namespace then cannot be made. */
static void test_clone3_refused(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		scmp_filter_ctx sc = seccomp_init(SCMP_ACT_ALLOW);
		box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "exit 5"));
		int code = -1, sig = -1, r;

		if (!sc || seccomp_rule_add(sc, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0 ||
		    seccomp_load(sc) < 0)
			_exit(90);
		box_config_set_stdio(cfg, -1, -1, -1);
		r = box_run(harness_ctx(), cfg, &code, &sig);
		if (r != 0 || code != 5 || sig != 0)
			_exit(91);
		box_config_set_namespaces(cfg, BOX_NS_DEFAULT | BOX_NS_TIME);
		r = box_run(harness_ctx(), cfg, &code, &sig);
		if (r != -ENOSYS || !strstr(box_last_error(), "clone3"))
			_exit(92);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Run fn in a forked child; it reports through its exit status (0 = ok). */
static void in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int caps_beyond_bounding(void)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "grep CapEff /proc/self/status"));
	int code, sig, r;

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) < 0)
		return 80;
	/* asked for by name: a clear error */
	box_config_add_cap(cfg, "SYS_ADMIN");
	box_config_set_stdio(cfg, -1, -1, -1);
	r = box_run(harness_ctx(), cfg, &code, &sig);
	if (r != -EPERM || !strstr(box_last_error(), "capability cap_sys_admin cannot be granted"))
		return 81;
	/* ALL: all that we have */
	box_config_add_cap(cfg, "ALL");
	r = box_run(harness_ctx(), cfg, &code, &sig);
	if (r != 0 || code != 0)
		return 82;
	box_config_free(cfg);
	return 0;
}

static void test_caps_beyond_the_bounding_set(void **state)
{
	(void)state;
	in_child(caps_beyond_bounding);
}

/* A box made by an unprivileged user, in a user namespace. */
static int rootless(void)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "test $(id -u) = 0 && test -c /dev/null && hostname"));
	char dir[] = "/tmp/libbox-rootless-XXXXXX", state[64];
	box_ctx *ctx;
	int code = -1, sig = -1, r;

	/* the user's own runtime directory */
	if (!mkdtemp(dir) || chown(dir, 1000, 1000) < 0)
		return 69;
	snprintf(state, sizeof(state), "%s/run", dir);
	setenv("XDG_RUNTIME_DIR", state, 1);
	if (setgroups(0, NULL) < 0 || setresgid(1000, 1000, 1000) < 0 ||
	    setresuid(1000, 1000, 1000) < 0)
		return 70;
	/* setresuid made us non-dumpable, which a user who logged in is not;
	 * without this our children's /proc files would belong to root */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return 73;
	box_config_set_namespaces(cfg, BOX_NS_DEFAULT | BOX_NS_USER);
	box_config_set_hostname(cfg, "rootless");
	box_config_set_stdio(cfg, -1, -1, 2);
	if (mkdir(state, 0700) < 0 || box_ctx_new(&ctx) < 0)
		return 74;
	if (!strstr(box_ctx_state_dir(ctx), "/run/libbox"))
		return 75;
	r = box_run(ctx, cfg, &code, &sig);
	if (r != 0) {
		fprintf(stderr, "rootless: %s\n", box_last_error());
		return 71;
	}
	return code == 0 ? 0 : 72;
}

static void test_rootless_user_namespace(void **state)
{
	char cmd[128];

	(void)state;
	in_child(rootless);
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/libbox-rootless-*");
	assert_int_equal(system(cmd), 0);
}

static void test_id_map_without_zero(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));

	(void)state;
	assert_int_equal(box_config_set_namespaces(cfg, BOX_NS_DEFAULT | BOX_NS_USER), 0);
	assert_int_equal(box_config_add_id_map(cfg, BOX_MAP_UID, 1000, 100000, 10), 0);
	create_fails(cfg, EINVAL, "the uid map does not map uid 0");
}

static void test_userns_without_pidns_has_no_host_proc(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));

	(void)state;
	/* proc cannot be mounted there, and the host's is never bound instead */
	assert_int_equal(box_config_set_namespaces(cfg, BOX_NS_MOUNT | BOX_NS_USER | BOX_NS_NET), 0);
	create_fails(cfg, EPERM, "mount proc on ");
}

/* A creator that dies between box_create and box_start takes the box
 * with it: the box's first process sees the end of the socket and exits. */
static void test_creator_dies_before_start(void **state)
{
	struct leftovers before;
	int p[2];
	pid_t creator, boxpid = -1;

	(void)state;
	harness_snapshot(&before);
	assert_int_equal(pipe(p), 0);
	creator = fork();
	assert_true(creator >= 0);
	if (creator == 0) {
		box_config *cfg = harness_config(ARGV("/bin/sleep", "100"));
		box *b = NULL;
		pid_t pid;

		if (box_create(harness_ctx(), cfg, &b) < 0)
			_exit(1);
		pid = box_pid(b);
		if (write(p[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		_exit(0); /* no box_destroy */
	}
	close(p[1]);
	assert_int_equal(read(p[0], &boxpid, sizeof(boxpid)), sizeof(boxpid));
	close(p[0]);
	assert_int_equal(waitpid(creator, NULL, 0), creator);
	for (int i = 0; i < 200 && kill(boxpid, 0) == 0; i++)
		usleep(10000);
	assert_int_equal(kill(boxpid, 0), -1);
	/* its cgroup and state stay until box_gc() */
	assert_int_equal(box_gc(harness_ctx()), 1);
	harness_assert_clean(&before);
}

/* ---- boxes on disk ---- */

static void test_names(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sleep", "10"));
	box *a = NULL, *b = NULL, *o = NULL;

	(void)state;
	assert_int_equal(box_config_set_name(cfg, "bad name"), -EINVAL);
	assert_int_equal(box_config_set_name(cfg, "-x"), -EINVAL);
	assert_int_equal(box_config_set_name(cfg, "web.1_a-b"), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &a), 0);
	assert_string_equal(box_name(a), "web.1_a-b");
	/* a name in use is refused, with the owner named, and nothing is left */
	{
		struct leftovers before;

		harness_snapshot(&before);
		assert_int_equal(box_create(harness_ctx(), cfg, &b), -EEXIST);
		assert_non_null(strstr(box_last_error(), "already in use by box"));
		harness_assert_clean(&before);
	}
	/* open by name, id and id prefix */
	assert_int_equal(box_open(harness_ctx(), "web.1_a-b", &o), 0);
	assert_string_equal(box_id(o), box_id(a));
	box_close(o);
	{
		char prefix[13];

		snprintf(prefix, sizeof(prefix), "%.12s", box_id(a));
		assert_int_equal(box_open(harness_ctx(), prefix, &o), 0);
		assert_string_equal(box_name(o), "web.1_a-b");
		box_close(o);
	}
	assert_int_equal(box_open(harness_ctx(), "no-such-box", &o), -ENOENT);
	assert_non_null(strstr(box_last_error(), "no such box: no-such-box"));
	assert_int_equal(box_open(harness_ctx(), "../x", &o), -EINVAL);
	/* a made-up name when none is given */
	box_config_free(cfg);
	cfg = harness_config(ARGV("/bin/sleep", "10"));
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	assert_non_null(strchr(box_name(b), '_'));
	assert_int_equal(box_destroy(b), 0);
	assert_int_equal(box_destroy(a), 0);
	/* destroyed: the name is free again */
	assert_int_equal(box_open(harness_ctx(), "web.1_a-b", &o), -ENOENT);
	box_config_free(cfg);
}

/* A box made again under the id it had (boxctl start). */
static void test_given_id(void **state)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	box_config *cfg = harness_config(ARGV("/bin/sleep", "10"));
	box *a = NULL, *b = NULL;

	(void)state;
	assert_err(box_config_set_id(cfg, "0123"), EINVAL, "is not an id");
	assert_err(box_config_set_id(cfg, "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
		   EINVAL, "64 lowercase hex");
	assert_int_equal(box_config_set_id(cfg, id), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &a), 0);
	assert_string_equal(box_id(a), id);
	/* one box per id: refused while it exists, with nothing left */
	{
		struct leftovers before;

		harness_snapshot(&before);
		assert_err(box_create(harness_ctx(), cfg, &b), EEXIST, "a box with the id 0123456789ab exists");
		harness_assert_clean(&before);
	}
	assert_int_equal(box_destroy(a), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &a), 0);
	assert_string_equal(box_id(a), id);
	assert_int_equal(box_destroy(a), 0);
	/* NULL: random ids again */
	assert_int_equal(box_config_set_id(cfg, NULL), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &a), 0);
	assert_string_not_equal(box_id(a), id);
	assert_int_equal(box_destroy(a), 0);
	box_config_free(cfg);
}

/* Another process's view: status from facts, and the operations. */
static void test_open_status_and_verbs(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "trap 'exit 9' TERM; echo ready; while :; do sleep 0.05; done"));
	box *b = NULL, *o = NULL;
	char *json, ready[8] = "";
	int code = -1, sig = -1, p[2];

	(void)state;
	assert_int_equal(box_config_set_name(cfg, "seen"), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(box_config_set_stdio(cfg, -1, p[1], -1), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	close(p[1]);
	box_config_free(cfg);
	assert_int_equal(box_open(harness_ctx(), "seen", &o), 0);
	assert_int_equal(box_status(o), BOX_STATUS_CREATED);
	assert_string_equal(box_status_name(box_status(o)), "created");
	assert_int_equal(box_start(o), -EPERM); /* the creator's */
	assert_int_equal(box_start(b), 0);
	/* pid 1 ignores SIGTERM until its trap is set: wait for it */
	assert_int_equal(read(p[0], ready, 6), 6);
	assert_string_equal(ready, "ready\n");
	close(p[0]);
	box_close(o);
	assert_int_equal(box_open(harness_ctx(), "seen", &o), 0);
	assert_int_equal(box_status(o), BOX_STATUS_RUNNING);
	assert_int_equal(box_pause(o), 0);
	assert_int_equal(box_status(o), BOX_STATUS_PAUSED);
	assert_int_equal(box_resume(o), 0);
	json = box_inspect(o);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"status\": \"running\""));
	assert_non_null(strstr(json, "\"name\": \"seen\""));
	box_string_free(json);
	/* the signal reaches the box; the exit its creator records is read */
	assert_int_equal(box_kill(o, SIGTERM), 0);
	assert_int_equal(box_wait(b, &code, &sig), 0);
	assert_int_equal(code, 9);
	code = sig = -1;
	assert_int_equal(box_wait(o, &code, &sig), 0);
	assert_int_equal(code, 9);
	assert_int_equal(box_status(o), BOX_STATUS_EXITED);
	box_close(o);
	assert_int_equal(box_destroy(b), 0);
	assert_string_equal(box_status_name(42), "invalid");
}

/* A creator that dies leaves state saying "unknown", and box_gc()
 * removes what the box held. */
static void test_gc_after_a_crashed_creator(void **state)
{
	struct leftovers before;
	pid_t creator;
	int st, n;
	box *o = NULL;

	(void)state;
	harness_snapshot(&before);
	creator = fork();
	assert_true(creator >= 0);
	if (creator == 0) {
		box_config *cfg = harness_config(ARGV("/bin/sleep", "0.2"));
		box *b = NULL;

		box_config_set_name(cfg, "orphan");
		box_config_set_stdio(cfg, -1, -1, -1);
		if (box_create(harness_ctx(), cfg, &b) < 0 || box_start(b) < 0)
			_exit(1);
		_exit(0); /* "crash": no wait, no destroy */
	}
	assert_int_equal(waitpid(creator, &st, 0), creator);
	assert_int_equal(st, 0);
	assert_int_equal(box_open(harness_ctx(), "orphan", &o), 0);
	/* it runs on without its creator... */
	assert_int_equal(box_status(o), BOX_STATUS_RUNNING);
	/* ...until its command ends; then nobody recorded its exit */
	for (int i = 0; i < 200 && box_status(o) == BOX_STATUS_RUNNING; i++)
		usleep(10000);
	box_close(o);
	assert_int_equal(box_open(harness_ctx(), "orphan", &o), 0);
	assert_int_equal(box_status(o), BOX_STATUS_UNKNOWN);
	box_close(o);
	n = box_gc(harness_ctx());
	assert_int_equal(n, 1);
	assert_int_equal(box_open(harness_ctx(), "orphan", &o), -ENOENT);
	harness_assert_clean(&before);
	assert_int_equal(box_gc(harness_ctx()), 0);
}

/* A creator that died between reserving the name and writing the state
 * leaves a directory, a lock and a name: box_gc() takes them back. */
static void test_gc_after_a_creation_that_died(void **state)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char path[4400], cmd[9000];
	box_config *cfg;
	box *b = NULL;

	(void)state;
	char mounts[16][256];
	int nm = harness_cgroup_mounts(mounts, 16);
	struct leftovers before;

	/* its name, and a cgroup it had made in every hierarchy libbox uses
	 * (on a hybrid host not the empty cgroup2 at .../unified) */
	for (int i = 0; i < nm; i++) {
		size_t l = strlen(mounts[i]);

		if (nm > 1 && l > 8 && strcmp(mounts[i] + l - 8, "/unified") == 0)
			memmove(&mounts[i], &mounts[i + 1], (size_t)(--nm - i) * sizeof(mounts[0]));
	}
	harness_snapshot(&before);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %1$s/boxes/%2$s %1$s/names && printf 'ghost\\n' > %1$s/boxes/%2$s/lock && "
		 "ln -s %2$s %1$s/names/ghost", harness_state_dir(), id);
	assert_int_equal(system(cmd), 0);
	for (int i = 0; i < nm; i++) {
		snprintf(path, sizeof(path), "%s%s", mounts[i], harness_cgroup_parent());
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s%s/%s", mounts[i], harness_cgroup_parent(), id);
		assert_int_equal(mkdir(path, 0755), 0);
		snprintf(cmd, sizeof(cmd), "echo %s >> %s/boxes/%s/lock", path, harness_state_dir(), id);
		assert_int_equal(system(cmd), 0);
	}
	/* the name counts as taken while that directory is there */
	cfg = harness_config(ARGV("/bin/true"));
	assert_int_equal(box_config_set_name(cfg, "ghost"), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EEXIST);
	assert_int_equal(box_gc(harness_ctx()), 1);
	snprintf(path, sizeof(path), "%s/boxes/%s", harness_state_dir(), id);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/names/ghost", harness_state_dir());
	assert_int_equal(access(path, F_OK), -1);
	for (int i = 0; i < nm; i++) {
		snprintf(path, sizeof(path), "%s%s/%s", mounts[i], harness_cgroup_parent(), id);
		assert_int_equal(access(path, F_OK), -1);
	}
	harness_assert_clean(&before);
	/* and the name is free again */
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	assert_int_equal(box_destroy(b), 0);
	box_config_free(cfg);
}

static void test_rename_and_pids(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "sleep 30 & sleep 30"));
	box *b = NULL, *o = NULL, *c = NULL;
	int pids[8], n;

	(void)state;
	assert_int_equal(box_config_set_name(cfg, "first"), 0);
	assert_int_equal(box_config_set_stdio(cfg, -1, -1, -1), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	assert_int_equal(box_start(b), 0);
	for (int i = 0; i < 100 && (n = box_pids(b, pids, 8)) < 2; i++)
		usleep(10000);
	assert_int_equal(n, 2);
	assert_true(pids[0] == box_pid(b) || pids[1] == box_pid(b));
	assert_int_equal(box_pids(b, pids, 0), 2); /* the count, even with no room */
	assert_int_equal(box_pids(b, NULL, 3), -EINVAL);
	/* another box holds "second" */
	assert_int_equal(box_config_set_name(cfg, "second"), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &c), 0);
	assert_int_equal(box_rename(b, "second"), -EEXIST);
	assert_int_equal(box_rename(b, "bad name"), -EINVAL);
	assert_int_equal(box_rename(b, "renamed"), 0);
	assert_string_equal(box_name(b), "renamed");
	assert_int_equal(box_open(harness_ctx(), "first", &o), -ENOENT);
	assert_int_equal(box_open(harness_ctx(), "renamed", &o), 0);
	assert_string_equal(box_id(o), box_id(b));
	box_close(o);
	assert_int_equal(box_destroy(c), 0);
	assert_int_equal(box_destroy(b), 0);
	assert_int_equal(box_open(harness_ctx(), "renamed", &o), -ENOENT);
	box_config_free(cfg);
}

/* A state.json that is not a box's (damaged, or written by hand): never
 * a crash; box_gc() cleans it up. */
static void test_damaged_state(void **state)
{
	static const char id[] = "abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd";
	static const char *const bad[] = { "[]", "{", "", "\"text\"" };
	char cmd[1024];
	box *b = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd),
			 "mkdir -p %1$s/boxes/%2$s && printf '%3$s' > %1$s/boxes/%2$s/state.json && "
			 "echo '0 0 0 x' > %1$s/boxes/%2$s/exit && : > %1$s/boxes/%2$s/lock",
			 harness_state_dir(), id, bad[i]);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(box_open(harness_ctx(), id, &b), -ENOENT);
		assert_int_equal(box_gc(harness_ctx()), 1);
		snprintf(cmd, sizeof(cmd), "test ! -e %s/boxes/%s", harness_state_dir(), id);
		assert_int_equal(system(cmd), 0);
	}
}

static int count_ids(const char *id, void *user)
{
	(void)id;
	(*(int *)user)++;
	return 0;
}

static void test_list(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/true"));
	box *a = NULL, *b = NULL;
	int n = 0;

	(void)state;
	assert_int_equal(box_list(harness_ctx(), count_ids, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &a), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), 0);
	assert_int_equal(box_list(harness_ctx(), count_ids, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(box_list(harness_ctx(), NULL, &n), -EINVAL);
	box_destroy(a);
	box_destroy(b);
	box_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_and_strerror),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_bad_namespace_flag),
		cmocka_unit_test(test_create_without_command),
		cmocka_unit_test(test_create_missing_rootfs),
		cmocka_unit_test(test_create_rootfs_is_a_file),
		cmocka_unit_test(test_create_missing_command),
		cmocka_unit_test(test_create_command_not_executable),
		cmocka_unit_test(test_create_bad_bind_source),
		cmocka_unit_test(test_create_bad_fstype),
		cmocka_unit_test(test_create_bad_fs_option),
		cmocka_unit_test(test_create_bad_cwd),
		cmocka_unit_test(test_create_inconsistent_namespaces),
		cmocka_unit_test(test_create_unenforceable_rlimit),
		cmocka_unit_test(test_create_bad_seccomp_profiles),
		cmocka_unit_test(test_lifecycle_misuse),
		cmocka_unit_test(test_destroy_before_start),
		cmocka_unit_test(test_start_after_the_box_died),
		cmocka_unit_test(test_invalid_signal),
		cmocka_unit_test(test_clone3_refused),
		cmocka_unit_test(test_caps_beyond_the_bounding_set),
		cmocka_unit_test(test_rootless_user_namespace),
		cmocka_unit_test(test_id_map_without_zero),
		cmocka_unit_test(test_userns_without_pidns_has_no_host_proc),
		cmocka_unit_test(test_creator_dies_before_start),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_given_id),
		cmocka_unit_test(test_open_status_and_verbs),
		cmocka_unit_test(test_gc_after_a_crashed_creator),
		cmocka_unit_test(test_gc_after_a_creation_that_died),
		cmocka_unit_test(test_damaged_state),
		cmocka_unit_test(test_rename_and_pids),
		cmocka_unit_test(test_list),
	};

	return harness_main("api", tests, sizeof(tests) / sizeof(tests[0]));
}
