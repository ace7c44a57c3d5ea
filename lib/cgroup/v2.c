/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2: one hierarchy, controllers enabled from the parent. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cgroup/cgroup.h"

static int wr(struct box_cgroup *cg, enum box_ctrl c, const char *file, const char *value)
{
	if (faccessat(cg->v2fd, file, F_OK, 0) < 0)
		return box_err(ENOTSUP, "cgroup %s: no %s: the %s controller is not enabled for it "
					"(it is not in its parent's cgroup.subtree_control, or "
					"the kernel lacks it)",
			       cg->path, file, box_ctrl_name(c, 2));
	return box_cg_write(cg->v2fd, cg->v2_dir, file, value);
}

static void limit(char *buf, size_t len, int64_t v)
{
	if (v == -1)
		snprintf(buf, len, "max");
	else
		snprintf(buf, len, "%lld", (long long)v);
}

static int apply_memory(struct box_cgroup *cg, const struct box_config *cfg)
{
	char v[32];
	int r = 0;

	if (cfg_has_limit(cfg, BOX_LIMIT_MEMORY)) {
		limit(v, sizeof(v), cfg->limits[BOX_LIMIT_MEMORY]);
		r = wr(cg, CTRL_MEMORY, "memory.max", v);
	}
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_MEMORY_SWAP)) {
		int64_t total = cfg->limits[BOX_LIMIT_MEMORY_SWAP];
		int64_t mem = cfg_has_limit(cfg, BOX_LIMIT_MEMORY) ? cfg->limits[BOX_LIMIT_MEMORY] : -1;

		/* docker's --memory-swap is memory plus swap; v2 limits swap alone */
		if (total != -1 && mem == -1)
			return box_err(EINVAL, "cgroup %s: a memory+swap limit needs a memory limit",
				       cg->path);
		if (total != -1 && total < mem)
			return box_err(EINVAL, "cgroup %s: memory+swap %lld is below the memory "
					       "limit %lld", cg->path, (long long)total, (long long)mem);
		limit(v, sizeof(v), total == -1 ? -1 : total - mem);
		r = wr(cg, CTRL_MEMORY, "memory.swap.max", v);
	}
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_MEMORY_RESERVATION)) {
		limit(v, sizeof(v), cfg->limits[BOX_LIMIT_MEMORY_RESERVATION]);
		r = wr(cg, CTRL_MEMORY, "memory.low", v);
	}
	return r;
}

static int apply_cpu(struct box_cgroup *cg, const struct box_config *cfg)
{
	char v[64];
	int r = 0;

	if (cfg_has_limit(cfg, BOX_LIMIT_CPU_QUOTA) || cfg_has_limit(cfg, BOX_LIMIT_CPU_PERIOD)) {
		char quota[32];
		int64_t period = cfg_has_limit(cfg, BOX_LIMIT_CPU_PERIOD)
					 ? cfg->limits[BOX_LIMIT_CPU_PERIOD]
					 : 100000;

		if (cfg_has_limit(cfg, BOX_LIMIT_CPU_QUOTA)) {
			limit(quota, sizeof(quota), cfg->limits[BOX_LIMIT_CPU_QUOTA]);
		} else {
			/* keep the quota there is */
			char cur[64];

			if (box_cg_read(cg->v2fd, "cpu.max", cur, sizeof(cur)) <= 0 ||
			    sscanf(cur, "%31s", quota) != 1)
				snprintf(quota, sizeof(quota), "max");
		}
		snprintf(v, sizeof(v), "%s %lld", quota, (long long)period);
		r = wr(cg, CTRL_CPU, "cpu.max", v);
	}
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_CPU_WEIGHT)) {
		snprintf(v, sizeof(v), "%lld", (long long)cfg->limits[BOX_LIMIT_CPU_WEIGHT]);
		r = wr(cg, CTRL_CPU, "cpu.weight", v);
	}
	if (r == 0 && cfg_has_limit(cfg, BOX_LIMIT_CPU_SHARES)) {
		/* shares 2..262144 onto weight 1..10000 */
		snprintf(v, sizeof(v), "%lld",
			 (long long)(1 + (cfg->limits[BOX_LIMIT_CPU_SHARES] - 2) * 9999 / 262142));
		r = wr(cg, CTRL_CPU, "cpu.weight", v);
	}
	return r;
}

static int apply_io(struct box_cgroup *cg, const struct box_config *cfg)
{
	static const char *const keys[] = {
		[BOX_IO_READ_BPS] = "rbps", [BOX_IO_WRITE_BPS] = "wbps",
		[BOX_IO_READ_IOPS] = "riops", [BOX_IO_WRITE_IOPS] = "wiops",
	};
	char v[96];
	int r = 0;

	if (cfg_has_limit(cfg, BOX_LIMIT_IO_WEIGHT)) {
		int64_t w = cfg->limits[BOX_LIMIT_IO_WEIGHT];

		if (faccessat(cg->v2fd, "io.weight", F_OK, 0) < 0 &&
		    faccessat(cg->v2fd, "io.bfq.weight", F_OK, 0) == 0) {
			/* bfq's scale is 1..1000 */
			snprintf(v, sizeof(v), "default %lld", (long long)(1 + (w - 1) * 999 / 9999));
			r = wr(cg, CTRL_IO, "io.bfq.weight", v);
		} else {
			snprintf(v, sizeof(v), "default %lld", (long long)w);
			r = wr(cg, CTRL_IO, "io.weight", v);
		}
	}
	for (size_t i = 0; r == 0 && i < cfg->nio; i++) {
		snprintf(v, sizeof(v), "%u:%u %s=%llu", cfg->io[i].major, cfg->io[i].minor,
			 keys[cfg->io[i].kind], (unsigned long long)cfg->io[i].value);
		r = wr(cg, CTRL_IO, "io.max", v);
	}
	return r;
}

int box_cg_v2_apply(struct box_cgroup *cg, const struct box_config *cfg)
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
		limit(v, sizeof(v), cfg->limits[BOX_LIMIT_PIDS]);
		r = wr(cg, CTRL_PIDS, "pids.max", v);
	}
	if (r == 0)
		r = apply_io(cg, cfg);
	return r;
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 ..." per device. */
static void io_sums(int fd, uint64_t *rd, uint64_t *wr_)
{
	char buf[16384];

	if (box_cg_read(fd, "io.stat", buf, sizeof(buf)) < 0)
		return;
	*rd = *wr_ = 0;
	for (char *p = buf; *p; p++) {
		if (strncmp(p, "rbytes=", 7) == 0 && (p == buf || p[-1] == ' '))
			*rd += strtoull(p + 7, NULL, 10);
		else if (strncmp(p, "wbytes=", 7) == 0 && (p == buf || p[-1] == ' '))
			*wr_ += strtoull(p + 7, NULL, 10);
	}
}

int box_cg_v2_stats(struct box_cgroup *cg, uint64_t *v)
{
	uint64_t x;

	box_cg_read_u64(cg->v2fd, "memory.current", &v[BOX_STAT_MEMORY_CURRENT]);
	box_cg_read_u64(cg->v2fd, "memory.peak", &v[BOX_STAT_MEMORY_PEAK]);
	box_cg_read_u64(cg->v2fd, "memory.max", &v[BOX_STAT_MEMORY_LIMIT]);
	if (box_cg_read_key(cg->v2fd, "cpu.stat", "user_usec", &x) == 0)
		v[BOX_STAT_CPU_USER] = x;
	if (box_cg_read_key(cg->v2fd, "cpu.stat", "system_usec", &x) == 0)
		v[BOX_STAT_CPU_SYSTEM] = x;
	box_cg_read_u64(cg->v2fd, "pids.current", &v[BOX_STAT_PIDS_CURRENT]);
	io_sums(cg->v2fd, &v[BOX_STAT_IO_READ_BYTES], &v[BOX_STAT_IO_WRITE_BYTES]);
	return 0;
}

uint64_t box_cg_v2_oom_kills(struct box_cgroup *cg)
{
	uint64_t n = 0;

	box_cg_read_key(cg->v2fd, "memory.events", "oom_kill", &n);
	return n;
}

int box_cg_v2_freeze(struct box_cgroup *cg, bool frozen)
{
	uint64_t state = 2;
	int r = box_cg_write(cg->v2fd, cg->v2_dir, "cgroup.freeze", frozen ? "1" : "0");

	if (r < 0)
		return r;
	for (long waited = 0, step = 20000; waited < 5000000000L;
	     waited += step, step = step < 1000000 ? step * 2 : step) {
		if (box_cg_read_key(cg->v2fd, "cgroup.events", "frozen", &state) == 0 &&
		    state == (frozen ? 1 : 0))
			return 0;
		nanosleep(&(struct timespec){ 0, step }, NULL);
	}
	return box_err(ETIMEDOUT, "cgroup %s: not %s after 5 s", cg->path,
		       frozen ? "frozen" : "thawed");
}
