/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroups on real hierarchies (v1 here, v2 in tests/vm): limits hold,
 * stats are plausible, freeze and kill work, OOM is reported, devices are
 * guarded, and nothing is left behind. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define assert_contains(hay, needle)                                             \
	do {                                                                     \
		if (!strstr((hay), (needle)))                                    \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
	} while (0)
#define assert_ran(res)                                                       \
	do {                                                                  \
		if ((res)->rc != 0)                                           \
			fail_msg("box failed: %d %s", (res)->rc, (res)->msg); \
	} while (0)

static struct run_result res;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A started box running argv with stdio to /dev/null. */
static box *start(box_config *cfg)
{
	box *b = NULL;
	int r;

	assert_int_equal(box_config_set_stdio(cfg, -1, -1, -1), 0);
	r = box_create(harness_ctx(), cfg, &b);
	if (r < 0)
		fail_msg("box_create: %s", box_last_error());
	box_config_free(cfg);
	assert_int_equal(box_start(b), 0);
	return b;
}

static uint64_t stat_of(box *b, int which)
{
	uint64_t v[BOX_STAT_COUNT];

	assert_int_equal(box_stats(b, v, BOX_STAT_COUNT), BOX_STAT_COUNT);
	return v[which];
}

static void test_box_has_its_cgroup(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "cat /proc/self/cgroup; ls /sys/fs/cgroup"));
	box *b;
	char want[256];

	(void)state;
	/* the box sees its own cgroup as the root (cgroup namespace) */
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, ":/\n");
	if (strstr(res.out, "libbox-test"))
		fail_msg("the box sees the host's cgroup path: %s", res.out);
	/* from outside: /<parent>/<id> */
	b = start(harness_config(ARGV("/bin/sleep", "10")));
	snprintf(want, sizeof(want), "%s/%s", harness_cgroup_parent(), box_id(b));
	assert_string_equal(box_cgroup(b), want);
	assert_int_equal(box_destroy(b), 0);
}

static void test_cgroup_off(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "grep CapEff /proc/self/status"));
	box *b = NULL;

	(void)state;
	assert_int_equal(box_config_set_cgroup(cfg, BOX_CGROUP_OFF), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	/* no device controller: no CAP_MKNOD (bit 27) */
	assert_contains(res.out, "CapEff:\t00000000a00425fb\n");

	cfg = harness_config(ARGV("/bin/true"));
	assert_int_equal(box_config_set_cgroup(cfg, BOX_CGROUP_OFF), 0);
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_PIDS, 10), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EINVAL);
	assert_non_null(strstr(box_last_error(), "cgroups are off"));
	box_config_free(cfg);
	cfg = harness_config(ARGV("/bin/sleep", "5"));
	assert_int_equal(box_config_set_cgroup(cfg, BOX_CGROUP_OFF), 0);
	b = start(cfg);
	assert_null(box_cgroup(b));
	/* a process exec'd into it gets what the box got, not more */
	{
		box_config *proc = NULL;
		box *e = NULL;
		char out[256] = "";
		int p[2];

		assert_int_equal(box_config_new(&proc), 0);
		assert_int_equal(box_config_set_argv(proc, 3, ARGV("grep", "CapEff", "/proc/self/status")), 0);
		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		assert_int_equal(box_config_set_stdio(proc, -1, p[1], -1), 0);
		assert_int_equal(box_exec(b, proc, &e), 0);
		close(p[1]);
		assert_true(read(p[0], out, sizeof(out) - 1) > 0);
		close(p[0]);
		assert_string_equal(out, "CapEff:\t00000000a00425fb\n");
		assert_int_equal(box_wait(e, NULL, NULL), 0);
		assert_int_equal(box_destroy(e), 0);
		box_config_free(proc);
	}
	assert_int_equal(box_stats(b, (uint64_t[1]){ 0 }, 1), -ENOTSUP);
	assert_int_equal(box_pause(b), -ENOTSUP);
	assert_int_equal(box_destroy(b), 0);
}

/* A value from a file of the box's cgroup, in whichever hierarchy has it. */
static uint64_t cgroup_key(box *b, const char *file, const char *key)
{
	char mounts[16][256], path[4400], line[256];
	int n = harness_cgroup_mounts(mounts, 16);

	for (int i = 0; i < n; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s%s/%s", mounts[i], box_cgroup(b), file);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ' ') {
				fclose(f);
				return strtoull(line + strlen(key) + 1, NULL, 10);
			}
		}
		if (f)
			fclose(f);
	}
	fail_msg("no %s in %s", key, file);
	return 0;
}

static void test_fork_bomb_is_stopped_by_pids_max(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "f() { f | f & }; f; sleep 30"));
	box *b;
	uint64_t most = 0;

	(void)state;
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_PIDS, 40), 0);
	b = start(cfg);
	/* the kernel refused its forks (it hit the limit)... */
	for (int i = 0; i < 500 && cgroup_key(b, "pids.events", "max") == 0; i++) {
		uint64_t pids = stat_of(b, BOX_STAT_PIDS_CURRENT);

		most = pids > most ? pids : most;
		msleep(2);
	}
	assert_true(cgroup_key(b, "pids.events", "max") > 0);
	/* ...and it never got past it (a bomb may also burn out between two
	 * looks, so how close it came is not asserted) */
	for (int i = 0; i < 250; i++) {
		uint64_t pids = stat_of(b, BOX_STAT_PIDS_CURRENT);

		most = pids > most ? pids : most;
		msleep(2);
	}
	print_message("# at most %llu tasks seen\n", (unsigned long long)most);
	assert_true(most <= 40);
	/* the host is unharmed: we can still fork */
	assert_int_equal(system("true"), 0);
	/* and everything of the bomb goes with the box */
	assert_int_equal(box_destroy(b), 0);
}

static void test_memory_hog_is_oom_killed(void **state)
{
	box_config *cfg = harness_config(ARGV("/probe", "hog"));

	(void)state;
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY, 32 << 20), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_int_equal(res.sig, SIGKILL);
	/* harness_run destroyed the box: ask a fresh one for the flag */
	cfg = harness_config(ARGV("/probe", "hog"));
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY, 32 << 20), 0);
	{
		box *b = start(cfg);
		int code, sig;

		assert_int_equal(box_wait(b, &code, &sig), 0);
		assert_int_equal(sig, SIGKILL);
		assert_int_equal(box_oom_killed(b), 1);
		assert_true(stat_of(b, BOX_STAT_MEMORY_PEAK) >= 30u << 20);
		assert_int_equal(box_destroy(b), 0);
	}
	/* and a box that stays within its limit is not flagged */
	cfg = harness_config(ARGV("/bin/true"));
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY, 32 << 20), 0);
	{
		box *b = start(cfg);

		assert_int_equal(box_wait(b, NULL, NULL), 0);
		assert_int_equal(box_oom_killed(b), 0);
		assert_int_equal(box_destroy(b), 0);
	}
}

static void test_cpu_quota_holds_a_busy_loop(void **state)
{
	box_config *cfg = harness_config(ARGV("/probe", "spin", "2"));
	double t0, wall, cpu;
	box *b;

	(void)state;
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_CPU_PERIOD, 100000), 0);
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_CPU_QUOTA, 50000), 0);
	t0 = now();
	b = start(cfg);
	msleep(1500);
	wall = now() - t0;
	cpu = (double)(stat_of(b, BOX_STAT_CPU_USER) + stat_of(b, BOX_STAT_CPU_SYSTEM)) / 1e6;
	print_message("# cpu %.2f s in %.2f s of wall time\n", cpu, wall);
	/* half of one cpu at most; the lower bound only says it ran (a
	 * loaded machine may give it much less than its quota) */
	assert_true(cpu / wall > 0.10 && cpu / wall < 0.65);
	assert_int_equal(box_destroy(b), 0);
}

static void test_freeze_stops_progress_and_thaw_resumes(void **state)
{
	box *b = start(harness_config(ARGV("/probe", "spin", "20")));
	uint64_t a, c;

	(void)state;
	msleep(100);
	assert_int_equal(box_pause(b), 0);
	a = stat_of(b, BOX_STAT_CPU_USER);
	msleep(400);
	c = stat_of(b, BOX_STAT_CPU_USER);
	assert_true(c - a < 20000); /* < 20 ms of cpu in 400 ms frozen */
	assert_int_equal(box_resume(b), 0);
	/* thawed, it runs again: 100 ms of cpu, however long a loaded
	 * machine takes to give it (at most 20 s) */
	for (int i = 0; i < 200 && stat_of(b, BOX_STAT_CPU_USER) - c <= 100000; i++)
		msleep(100);
	assert_true(stat_of(b, BOX_STAT_CPU_USER) - c > 100000);
	assert_int_equal(box_destroy(b), 0);
}

static void test_stats_are_plausible(void **state)
{
	box *b = start(harness_config(ARGV("/bin/sh", "-c", "/probe cpu 0.3; sleep 10")));
	uint64_t v[BOX_STAT_COUNT + 3];

	(void)state;
	/* 0.3 s of cpu, however long a loaded machine takes to give it */
	for (int i = 0; i < 300; i++) {
		assert_int_equal(box_stats(b, v, BOX_STAT_COUNT), BOX_STAT_COUNT);
		if (v[BOX_STAT_CPU_USER] + v[BOX_STAT_CPU_SYSTEM] > 300000)
			break;
		msleep(100);
	}
	msleep(100);
	/* asking for more than there is: the rest is UINT64_MAX */
	assert_int_equal(box_stats(b, v, BOX_STAT_COUNT + 3), BOX_STAT_COUNT);
	assert_int_equal(v[BOX_STAT_COUNT], UINT64_MAX);
	assert_true(v[BOX_STAT_MEMORY_CURRENT] > 0 && v[BOX_STAT_MEMORY_CURRENT] < (1ull << 30));
	assert_true(v[BOX_STAT_MEMORY_PEAK] >= v[BOX_STAT_MEMORY_CURRENT]);
	assert_true(v[BOX_STAT_CPU_USER] + v[BOX_STAT_CPU_SYSTEM] > 200000);
	assert_true(v[BOX_STAT_CPU_USER] + v[BOX_STAT_CPU_SYSTEM] < 2000000);
	assert_true(v[BOX_STAT_PIDS_CURRENT] >= 1 && v[BOX_STAT_PIDS_CURRENT] <= 3);
	assert_true(v[BOX_STAT_IO_READ_BYTES] != UINT64_MAX);
	assert_true(v[BOX_STAT_IO_WRITE_BYTES] != UINT64_MAX);
	assert_int_equal(box_stats(b, v, 2), 2);
	assert_int_equal(box_stats(b, NULL, 2), -EINVAL);
	assert_int_equal(box_destroy(b), 0);
}

static void test_kill_all_without_a_pid_namespace(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "sleep 30 & sleep 30 & sleep 30"));
	box *b;

	(void)state;
	assert_int_equal(box_config_set_namespaces(cfg, BOX_NS_MOUNT | BOX_NS_UTS | BOX_NS_IPC), 0);
	b = start(cfg);
	for (int i = 0; i < 100 && stat_of(b, BOX_STAT_PIDS_CURRENT) < 3; i++)
		msleep(10);
	assert_int_equal(stat_of(b, BOX_STAT_PIDS_CURRENT), 3);
	assert_int_equal(box_kill_all(b, SIGKILL), 0);
	/* the first process is ours to reap (until then it counts); the
	 * others are reaped by whoever inherits them */
	assert_int_equal(box_wait(b, NULL, NULL), 0);
	for (int i = 0; i < 200 && stat_of(b, BOX_STAT_PIDS_CURRENT) > 0; i++)
		msleep(10);
	assert_int_equal(stat_of(b, BOX_STAT_PIDS_CURRENT), 0);
	assert_int_equal(box_kill_all(b, 4096), -EINVAL);
	assert_int_equal(box_destroy(b), 0);
}

static void test_update_limits_on_a_running_box(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sleep", "30")), *upd;
	box *b;
	char path[4400], buf[64] = { 0 };
	int fd;

	(void)state;
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_PIDS, 100), 0);
	b = start(cfg);
	assert_int_equal(box_config_new(&upd), 0);
	assert_int_equal(box_config_set_limit(upd, BOX_LIMIT_PIDS, 7), 0);
	assert_int_equal(box_update_limits(b, upd), 0);
	/* read back from the hierarchy */
	{
		char mounts[16][256];
		int n = harness_cgroup_mounts(mounts, 16);

		fd = -1;
		for (int i = 0; i < n && fd < 0; i++) {
			snprintf(path, sizeof(path), "%s%s/pids.max", mounts[i], box_cgroup(b));
			fd = open(path, O_RDONLY);
		}
	}
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	assert_string_equal(buf, "7\n");
	/* a value the kernel refuses is an error naming the file */
	assert_int_equal(box_config_set_cpuset(upd, "999", NULL), 0);
	assert_true(box_update_limits(b, upd) < 0); /* EINVAL on v2, ERANGE on v1 */
	assert_non_null(strstr(box_last_error(), "cpuset.cpus"));
	box_config_free(upd);
	assert_int_equal(box_destroy(b), 0);
}

static void test_memory_limit_seen_inside(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c",
		"cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"));

	(void)state;
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY, 48 << 20), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_string_equal(res.out, "50331648\n");
}

static void test_limits_the_host_cannot_enforce(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c",
		"cat /sys/fs/cgroup/io.weight /sys/fs/cgroup/io.bfq.weight /sys/fs/cgroup/blkio/blkio.weight "
		"/sys/fs/cgroup/blkio/blkio.bfq.weight 2>/dev/null"));
	box *b = NULL;
	int r;

	(void)state;
	/* either enforced (and then really written) or refused, by name:
	 * never a silent no-op */
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_IO_WEIGHT, 10000), 0);
	assert_int_equal(box_config_set_stdio(cfg, -1, -1, -1), 0);
	r = box_create(harness_ctx(), cfg, &b);
	if (r == 0) {
		box_destroy(b);
		harness_run(cfg, &res);
		assert_ran(&res);
		if (!strstr(res.out, "1000") && !strstr(res.out, "10000"))
			fail_msg("io weight accepted but not set: %s", res.out);
	} else {
		assert_int_equal(r, -ENOTSUP);
		assert_non_null(strstr(box_last_error(), "weight"));
		box_config_free(cfg);
	}
	/* a device that does not exist */
	cfg = harness_config(ARGV("/bin/true"));
	assert_int_equal(box_config_add_io_limit(cfg, "/nonexistent/disk", BOX_IO_READ_BPS, 1), -ENOENT);
	assert_int_equal(box_config_add_io_limit(cfg, "/etc/passwd", BOX_IO_READ_BPS, 1), -ENOTBLK);
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_CPU_SHARES, 1), -EINVAL);
	assert_int_equal(box_config_set_limit(cfg, 99, 1), -EINVAL);
	assert_int_equal(box_config_set_cpuset(cfg, "zero", NULL), -EINVAL);
	/* the kernel refuses swap below memory: refused before it is tried */
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY, 64 << 20), 0);
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY_SWAP, 32 << 20), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EINVAL);
	assert_non_null(strstr(box_last_error(), "below the memory limit"));
	box_config_free(cfg);
}

/* A whole disk of this host ("MAJOR:MINOR"), from /sys/block. */
static bool some_disk(char *out, size_t len)
{
	static const char *const disks[] = { "vda", "sda", "nvme0n1", "xvda", "ram0", "loop0" };

	for (size_t i = 0; i < sizeof(disks) / sizeof(disks[0]); i++) {
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/sys/block/%s/dev", disks[i]);
		f = fopen(path, "r");
		if (f && fgets(out, (int)len, f)) {
			fclose(f);
			out[strcspn(out, "\n")] = '\0';
			return true;
		}
		if (f)
			fclose(f);
	}
	return false;
}

static void test_io_limits_reach_the_kernel(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c",
		"cat /sys/fs/cgroup/io.max /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device "
		"/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device 2>/dev/null"));
	char disk[32], want[64];

	(void)state;
	if (!some_disk(disk, sizeof(disk)))
		harness_skip("no disk in /sys/block");
	assert_int_equal(box_config_add_io_limit(cfg, disk, BOX_IO_READ_BPS, 1048576), 0);
	assert_int_equal(box_config_add_io_limit(cfg, disk, BOX_IO_WRITE_IOPS, 50), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	/* v2: one io.max line; v1: a line per file */
	snprintf(want, sizeof(want), "%s rbps=1048576", disk);
	if (!strstr(res.out, want)) {
		snprintf(want, sizeof(want), "%s 1048576\n", disk);
		assert_contains(res.out, want);
		snprintf(want, sizeof(want), "%s 50\n", disk);
		assert_contains(res.out, want);
	} else {
		assert_contains(res.out, "wiops=50");
	}
}

/* Each limit lands in its file, in the units and scale of the version. */
static void test_limits_reach_the_kernel(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c",
		"cd /sys/fs/cgroup; for f in memory.max memory.swap.max memory.low cpu.max cpu.weight "
		"memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes "
		"memory/memory.soft_limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares; "
		"do [ -f $f ] && echo $f=$(cat $f); done"));

	(void)state;
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY, 64 << 20), 0);
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY_SWAP, 96 << 20), 0);
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY_RESERVATION, 16 << 20), 0);
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_CPU_QUOTA, 150000), 0);
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_CPU_PERIOD, 100000), 0);
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_CPU_SHARES, 512), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	if (strstr(res.out, "memory.max=")) {
		/* v2: swap alone (96 - 64 MiB), the weight for 512 shares */
		assert_contains(res.out, "memory.max=67108864\n");
		assert_contains(res.out, "memory.swap.max=33554432\n");
		assert_contains(res.out, "memory.low=16777216\n");
		assert_contains(res.out, "cpu.max=150000 100000\n");
		assert_contains(res.out, "cpu.weight=20\n");
	} else {
		/* v1: docker's memory+swap as it is */
		assert_contains(res.out, "memory/memory.limit_in_bytes=67108864\n");
		assert_contains(res.out, "memory/memory.memsw.limit_in_bytes=100663296\n");
		assert_contains(res.out, "memory/memory.soft_limit_in_bytes=16777216\n");
		assert_contains(res.out, "cpu/cpu.cfs_quota_us=150000\n");
		assert_contains(res.out, "cpu/cpu.cfs_period_us=100000\n");
		assert_contains(res.out, "cpu/cpu.shares=512\n");
	}
}

static void test_devices_are_guarded(void **state)
{
	(void)state;
	/* a block device made with mknod cannot be opened; /dev/null can */
	harness_sh("rm -f /tmp/disk; mknod /tmp/disk b 7 0 && echo MADE; head -c1 /tmp/disk; rm /tmp/disk; "
		   "echo x > /dev/null && echo NULL-OK", &res);
	assert_ran(&res);
	assert_contains(res.out, "MADE");
	assert_contains(res.out, "Operation not permitted");
	assert_contains(res.out, "NULL-OK");
}

static void test_cpuset(void **state)
{
	box_config *cfg = harness_config(ARGV("/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status"));

	(void)state;
	assert_int_equal(box_config_set_cpuset(cfg, "0", NULL), 0);
	harness_run(cfg, &res);
	assert_ran(&res);
	assert_contains(res.out, "Cpus_allowed_list:\t0\n");
}

static void test_sandbox(void **state)
{
	box_sandbox_result *r = NULL;
	box_config *cfg;
	size_t n;

	(void)state;
	/* output kept, the root read-only, /tmp writable, loopback only */
	cfg = harness_config(ARGV("/bin/sh", "-c", "echo out; echo err >&2; touch /x 2>/dev/null || echo ro; "
						  "touch /tmp/t && echo tmp; ls /sys/class/net; exit 3"));
	assert_int_equal(box_sandbox_run(harness_ctx(), cfg, 10000, 4096, &r), 0);
	assert_int_equal(box_sandbox_exit_code(r), 3);
	assert_int_equal(box_sandbox_signal(r), 0);
	assert_string_equal(box_sandbox_stdout(r, &n), "out\nro\ntmp\nlo\n");
	assert_int_equal(n, 14);
	assert_string_equal(box_sandbox_stderr(r, NULL), "err\n");
	assert_int_equal(box_sandbox_timed_out(r) | box_sandbox_oom(r) | box_sandbox_truncated(r), 0);
	assert_true(box_sandbox_peak_memory(r) > 0 && box_sandbox_peak_memory(r) != UINT64_MAX);
	box_sandbox_result_free(r);
	box_config_free(cfg);
	/* the time limit ends all of it, the whole cgroup */
	cfg = harness_config(ARGV("/bin/sh", "-c", "sleep 30 & sleep 30 & sleep 30"));
	assert_int_equal(box_sandbox_run(harness_ctx(), cfg, 300, 4096, &r), 0);
	assert_int_equal(box_sandbox_timed_out(r), 1);
	assert_int_equal(box_sandbox_signal(r), SIGKILL);
	assert_true(box_sandbox_wall_ms(r) >= 300 && box_sandbox_wall_ms(r) < 3000);
	box_sandbox_result_free(r);
	box_config_free(cfg);
	/* the output cap */
	cfg = harness_config(ARGV("/bin/sh", "-c", "yes | head -c 100000"));
	assert_int_equal(box_sandbox_run(harness_ctx(), cfg, 10000, 10, &r), 0);
	assert_int_equal(box_sandbox_exit_code(r), 0);
	assert_int_equal(box_sandbox_truncated(r), 1);
	assert_string_equal(box_sandbox_stdout(r, &n), "y\ny\ny\ny\ny\n");
	box_sandbox_result_free(r);
	box_config_free(cfg);
	/* OOM */
	cfg = harness_config(ARGV("/probe", "hog"));
	assert_int_equal(box_config_set_limit(cfg, BOX_LIMIT_MEMORY, 32 << 20), 0);
	assert_int_equal(box_sandbox_run(harness_ctx(), cfg, 10000, 4096, &r), 0);
	assert_int_equal(box_sandbox_oom(r), 1);
	assert_int_equal(box_sandbox_signal(r), SIGKILL);
	assert_true(box_sandbox_peak_memory(r) >= 30u << 20);
	box_sandbox_result_free(r);
	box_config_free(cfg);
	/* bad input, and a box that cannot be made */
	cfg = harness_config(ARGV("/bin/true"));
	assert_int_equal(box_sandbox_run(NULL, cfg, 0, 0, &r), -EINVAL);
	assert_int_equal(box_sandbox_run(harness_ctx(), cfg, -1, 0, &r), -EINVAL);
	assert_int_equal(box_config_set_rootfs(cfg, "/nonexistent"), 0);
	assert_int_equal(box_sandbox_run(harness_ctx(), cfg, 0, 0, &r), -ENOENT);
	assert_non_null(strstr(box_last_error(), "/nonexistent"));
	box_config_free(cfg);
	assert_int_equal(box_sandbox_exit_code(NULL), -1);
	box_sandbox_result_free(NULL);
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
		T(test_box_has_its_cgroup),
		T(test_cgroup_off),
		T(test_fork_bomb_is_stopped_by_pids_max),
		T(test_memory_hog_is_oom_killed),
		T(test_cpu_quota_holds_a_busy_loop),
		T(test_freeze_stops_progress_and_thaw_resumes),
		T(test_stats_are_plausible),
		T(test_kill_all_without_a_pid_namespace),
		T(test_update_limits_on_a_running_box),
		T(test_memory_limit_seen_inside),
		T(test_limits_the_host_cannot_enforce),
		T(test_io_limits_reach_the_kernel),
		T(test_limits_reach_the_kernel),
		T(test_devices_are_guarded),
		T(test_cpuset),
		T(test_sandbox),
	};

	return harness_main("cgroup", tests, sizeof(tests) / sizeof(tests[0]));
}
