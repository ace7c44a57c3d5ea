/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v1: one hierarchy per controller (or a few sharing one). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cgroup/cgroup.h"

static int wr(struct box_cgroup *cg, enum box_ctrl c, const char *file, const char *value)
{
	if (cg->fd[c] < 0)
		return box_err(ENOTSUP, "cgroup %s: the %s controller is not available, so %s cannot "
					"be set", cg->path, box_ctrl_name(c, 1), file);
	if (faccessat(cg->fd[c], file, F_OK, 0) < 0)
		return box_err(ENOTSUP, "cgroup %s: this kernel has no %s (%s controller)", cg->path,
			       file, box_ctrl_name(c, 1));
	return box_cg_write(cg->fd[c], cg->v1_dir[c], file, value);
}

static void num(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%lld", (long long)v);
}

static int apply_memory(struct box_cgroup *cg, const struct box_config *cfg)
{
	char mem[32], sw[32];
	int r = 0;

	num(mem, sizeof(mem), cfg->limits[BOX_LIMIT_MEMORY]);
	num(sw, sizeof(sw), cfg->limits[BOX_LIMIT_MEMORY_SWAP]);
	if (cfg_has_limit(cfg, BOX_LIMIT_MEMORY_SWAP) && cfg_has_limit(cfg, BOX_LIMIT_MEMORY) &&
	    cfg->limits[BOX_LIMIT_MEMORY_SWAP] != -1 &&
	    (cfg->limits[BOX_LIMIT_MEMORY] == -1 ||
	     cfg->limits[BOX_LIMIT_MEMORY_SWAP] < cfg->limits[BOX_LIMIT_MEMORY]))
		return box_err(EINVAL, "cgroup %s: memory+swap %s is below the memory limit %s",
			       cg->path, sw, mem);
	/* memsw may never be below memory: raise in the order that keeps it so */
	if (cfg_has_limit(cfg, BOX_LIMIT_MEMORY)) {
		r = wr(cg, CTRL_MEMORY, "memory.limit_in_bytes", mem);
		if (r == -EINVAL && cfg_has_limit(cfg, BOX_LIMIT_MEMORY_SWAP)) {
			r = wr(cg, CTRL_MEMORY, "memory.memsw.limit_in_bytes", sw);
			if (r == 0)
				r = wr(cg, CTRL_MEMORY, "memory.limit_in_bytes", mem);
		}
	}
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_MEMORY_SWAP))
		r = wr(cg, CTRL_MEMORY, "memory.memsw.limit_in_bytes", sw);
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_MEMORY_RESERVATION)) {
		num(mem, sizeof(mem), cfg->limits[BOX_LIMIT_MEMORY_RESERVATION]);
		r = wr(cg, CTRL_MEMORY, "memory.soft_limit_in_bytes", mem);
	}
	return r;
}

static int apply_cpu(struct box_cgroup *cg, const struct box_config *cfg)
{
	char v[32];
	int r = 0;

	if (cfg_has_limit(cfg, BOX_LIMIT_CPU_PERIOD)) {
		num(v, sizeof(v), cfg->limits[BOX_LIMIT_CPU_PERIOD]);
		r = wr(cg, CTRL_CPU, "cpu.cfs_period_us", v);
	}
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_CPU_QUOTA)) {
		num(v, sizeof(v), cfg->limits[BOX_LIMIT_CPU_QUOTA]);
		r = wr(cg, CTRL_CPU, "cpu.cfs_quota_us", v);
	}
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_CPU_SHARES)) {
		num(v, sizeof(v), cfg->limits[BOX_LIMIT_CPU_SHARES]);
		r = wr(cg, CTRL_CPU, "cpu.shares", v);
	}
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_CPU_WEIGHT)) {
		/* weight 1..10000 onto shares 2..262144 */
		num(v, sizeof(v), 2 + (cfg->limits[BOX_LIMIT_CPU_WEIGHT] - 1) * 262142 / 9999);
		r = wr(cg, CTRL_CPU, "cpu.shares", v);
	}
	return r;
}

static int apply_io(struct box_cgroup *cg, const struct box_config *cfg)
{
	static const char *const files[] = {
		[BOX_IO_READ_BPS] = "blkio.throttle.read_bps_device",
		[BOX_IO_WRITE_BPS] = "blkio.throttle.write_bps_device",
		[BOX_IO_READ_IOPS] = "blkio.throttle.read_iops_device",
		[BOX_IO_WRITE_IOPS] = "blkio.throttle.write_iops_device",
	};
	char v[64];
	int r = 0;

	if (cfg_has_limit(cfg, BOX_LIMIT_IO_WEIGHT)) {
		/* weight 1..10000 onto 10..1000; blkio.weight needs CFQ, the
		 * bfq scheduler has its own file */
		num(v, sizeof(v), 10 + (cfg->limits[BOX_LIMIT_IO_WEIGHT] - 1) * 990 / 9999);
		if (cg->fd[CTRL_IO] >= 0 && faccessat(cg->fd[CTRL_IO], "blkio.weight", F_OK, 0) < 0 &&
		    faccessat(cg->fd[CTRL_IO], "blkio.bfq.weight", F_OK, 0) == 0)
			r = wr(cg, CTRL_IO, "blkio.bfq.weight", v);
		else
			r = wr(cg, CTRL_IO, "blkio.weight", v);
	}
	for (size_t i = 0; r == 0 && i < cfg->nio; i++) {
		snprintf(v, sizeof(v), "%u:%u %llu", cfg->io[i].major, cfg->io[i].minor,
			 (unsigned long long)cfg->io[i].value);
		r = wr(cg, CTRL_IO, files[cfg->io[i].kind], v);
	}
	return r;
}

int box_cg_v1_apply(struct box_cgroup *cg, const struct box_config *cfg)
{
	char v[32];
	int r = apply_memory(cg, cfg);

	if (r == 0)
		r = apply_cpu(cg, cfg);
	if (r == 0 && cfg->cpuset_cpus)
		r = wr(cg, CTRL_CPUSET, "cpuset.cpus", cfg->cpuset_cpus);
	if (r == 0 && cfg->cpuset_mems)
		r = wr(cg, CTRL_CPUSET, "cpuset.mems", cfg->cpuset_mems);
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_PIDS)) {
		if (cfg->limits[BOX_LIMIT_PIDS] == -1)
			snprintf(v, sizeof(v), "max");
		else
			num(v, sizeof(v), cfg->limits[BOX_LIMIT_PIDS]);
		r = wr(cg, CTRL_PIDS, "pids.max", v);
	}
	if (r == 0)
		r = apply_io(cg, cfg);
	return r;
}

/* "8:0 Read 4096" lines: the sum of one operation over the devices. */
static uint64_t blkio_sum(int fd, const char *op)
{
	char buf[16384], name[16];
	uint64_t sum = 0, v;
	bool any = false;

	if (box_cg_read(fd, "blkio.throttle.io_service_bytes_recursive", buf, sizeof(buf)) < 0 &&
	    box_cg_read(fd, "blkio.throttle.io_service_bytes", buf, sizeof(buf)) < 0)
		return UINT64_MAX;
	for (char *p = buf; *p; p = strchrnul(p, '\n'), p += !!*p) {
		if (sscanf(p, "%*u:%*u %15s %llu", name, (unsigned long long *)&v) == 2 &&
		    strcmp(name, op) == 0) {
			sum += v;
			any = true;
		}
	}
	return any ? sum : 0;
}

int box_cg_v1_stats(struct box_cgroup *cg, uint64_t *v)
{
	uint64_t x;

	if (cg->fd[CTRL_MEMORY] >= 0) {
		box_cg_read_u64(cg->fd[CTRL_MEMORY], "memory.usage_in_bytes", &v[BOX_STAT_MEMORY_CURRENT]);
		box_cg_read_u64(cg->fd[CTRL_MEMORY], "memory.max_usage_in_bytes", &v[BOX_STAT_MEMORY_PEAK]);
		/* "no limit" is the largest page-aligned number there */
		if (box_cg_read_u64(cg->fd[CTRL_MEMORY], "memory.limit_in_bytes", &x) == 0)
			v[BOX_STAT_MEMORY_LIMIT] = x >= (1ull << 62) ? UINT64_MAX : x;
	}
	if (cg->fd[CTRL_CPUACCT] >= 0) {
		if (box_cg_read_u64(cg->fd[CTRL_CPUACCT], "cpuacct.usage_user", &x) == 0)
			v[BOX_STAT_CPU_USER] = x / 1000;
		if (box_cg_read_u64(cg->fd[CTRL_CPUACCT], "cpuacct.usage_sys", &x) == 0)
			v[BOX_STAT_CPU_SYSTEM] = x / 1000;
	}
	if (cg->fd[CTRL_PIDS] >= 0)
		box_cg_read_u64(cg->fd[CTRL_PIDS], "pids.current", &v[BOX_STAT_PIDS_CURRENT]);
	if (cg->fd[CTRL_IO] >= 0) {
		v[BOX_STAT_IO_READ_BYTES] = blkio_sum(cg->fd[CTRL_IO], "Read");
		v[BOX_STAT_IO_WRITE_BYTES] = blkio_sum(cg->fd[CTRL_IO], "Write");
	}
	return 0;
}

uint64_t box_cg_v1_oom_kills(struct box_cgroup *cg)
{
	uint64_t n = 0;

	if (cg->fd[CTRL_MEMORY] >= 0)
		box_cg_read_key(cg->fd[CTRL_MEMORY], "memory.oom_control", "oom_kill", &n);
	return n;
}

int box_cg_v1_freeze(struct box_cgroup *cg, bool frozen)
{
	const char *want = frozen ? "FROZEN" : "THAWED";
	char buf[32];
	int r;

	if (cg->fd[CTRL_FREEZER] < 0)
		return box_err(ENOTSUP, "cgroup %s: the freezer controller is not available",
			       cg->path);
	r = box_cg_write(cg->fd[CTRL_FREEZER], cg->v1_dir[CTRL_FREEZER], "freezer.state", want);
	if (r < 0)
		return r;
	/* FREEZING until every task has stopped: usually within microseconds,
	 * so look soon, then less often (5 s in all) */
	for (long waited = 0, step = 20000, i = 0; waited < 5000000000L;
	     waited += step, step = step < 1000000 ? step * 2 : step, i++) {
		if (box_cg_read(cg->fd[CTRL_FREEZER], "freezer.state", buf, sizeof(buf)) > 0 &&
		    strncmp(buf, want, strlen(want)) == 0)
			return 0;
		nanosleep(&(struct timespec){ 0, step }, NULL);
		if (frozen && i % 100 == 99)
			box_cg_write(cg->fd[CTRL_FREEZER], cg->v1_dir[CTRL_FREEZER], "freezer.state",
				     want);
	}
	return box_err(ETIMEDOUT, "cgroup %s: not %s after 5 s", cg->path, want);
}
