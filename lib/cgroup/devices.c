/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device controller: rules to the v1 devices controller, or to a
 * hand-written eBPF program for cgroup v2 (no libbpf, no compiler: the
 * program is a few instructions per rule). */
#include <ctype.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "internal.h"
#include "cgroup/devices.h"

size_t box_dev_rules_default(struct box_dev_rule *rules, size_t n)
{
	static const struct box_dev_rule defaults[] = {
		{ 'a', -1, -1, BOX_DEV_ALL, false },   /* deny everything, then: */
		{ 'c', -1, -1, BOX_DEV_MKNOD, true },  /* mknod of any device */
		{ 'b', -1, -1, BOX_DEV_MKNOD, true },
		{ 'c', 1, 3, BOX_DEV_ALL, true },      /* null */
		{ 'c', 1, 5, BOX_DEV_ALL, true },      /* zero */
		{ 'c', 1, 7, BOX_DEV_ALL, true },      /* full */
		{ 'c', 1, 8, BOX_DEV_ALL, true },      /* random */
		{ 'c', 1, 9, BOX_DEV_ALL, true },      /* urandom */
		{ 'c', 5, 0, BOX_DEV_ALL, true },      /* tty */
		{ 'c', 5, 1, BOX_DEV_ALL, true },      /* console */
		{ 'c', 5, 2, BOX_DEV_ALL, true },      /* ptmx */
		{ 'c', 136, -1, BOX_DEV_ALL, true },   /* pts/N */
		{ 'c', 10, 200, BOX_DEV_ALL, true },   /* net/tun */
	};

	for (size_t i = 0; i < n && i < ARRAY_SIZE(defaults); i++)
		rules[i] = defaults[i];
	return ARRAY_SIZE(defaults);
}

static int check_rules(const struct box_dev_rule *rules, size_t n, const char *cgpath)
{
	if (n > 0 && !rules)
		return box_err(EINVAL, "device rules for %s: rules is NULL", cgpath);
	for (size_t i = 0; i < n; i++) {
		const struct box_dev_rule *r = &rules[i];

		if (r->type != 'a' && r->type != 'b' && r->type != 'c') {
			unsigned char t = (unsigned char)r->type;

			if (isprint(t))
				return box_err(EINVAL, "device rule %zu for %s: type '%c' is not 'a', 'b' or 'c'",
					       i, cgpath, t);
			return box_err(EINVAL, "device rule %zu for %s: type \\x%02x is not 'a', 'b' or 'c'",
				       i, cgpath, t);
		}
		if (r->major < -1 || r->major > UINT32_MAX)
			return box_err(EINVAL, "device rule %zu for %s: major %lld is out of range", i,
				       cgpath, (long long)r->major);
		if (r->minor < -1 || r->minor > UINT32_MAX)
			return box_err(EINVAL, "device rule %zu for %s: minor %lld is out of range", i,
				       cgpath, (long long)r->minor);
		if (r->access == 0 || (r->access & ~BOX_DEV_ALL))
			return box_err(EINVAL, "device rule %zu for %s: access %#x is not a non-empty "
				       "combination of read, write and mknod", i, cgpath, r->access);
	}
	return 0;
}

/* ---- cgroup v2: the eBPF program ---- */

/* The kernel's BPF_MOV64_IMM & co. live in its private headers; these are
 * ours, for the few instructions the program needs. */
#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
/* dst = *(u32 *)(src + off) */
#define LDX_W(dst, src, off)   INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
/* 32-bit ALU (the upper half of dst is zeroed) */
#define ALU32_K(op, dst, imm)  INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_K(dst, imm)      ALU32_K(BPF_MOV, dst, imm)
#define MOV32_X(dst, src)      INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
/* if ((u32)dst op (u32)imm / (u32)src) skip off instructions */
#define JMP32_K(op, dst, imm, off) INSN(BPF_JMP32 | (op) | BPF_K, dst, 0, off, imm)
#define JMP32_X(op, dst, src, off) INSN(BPF_JMP32 | (op) | BPF_X, dst, src, off, 0)
#define EXIT_INSN()            INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers once the context is read (r1 is the context, then scratch). */
enum { R0, R1, R_TYPE, R_ACCESS, R_MAJOR, R_MINOR };

#define PROLOGUE_LEN 6
#define MAX_BLOCK_LEN 8    /* type, access (3), major, minor, mov, exit */
/* The verifier's limit for a privileged program is 1M instructions. */
#define MAX_RULES ((1000000 - PROLOGUE_LEN - 2) / MAX_BLOCK_LEN)

static unsigned bpf_access(unsigned access)
{
	return ((access & BOX_DEV_READ) ? BPF_DEVCG_ACC_READ : 0) |
	       ((access & BOX_DEV_WRITE) ? BPF_DEVCG_ACC_WRITE : 0) |
	       ((access & BOX_DEV_MKNOD) ? BPF_DEVCG_ACC_MKNOD : 0);
}

/* Emit the block of one rule at p: fall through to the next block when
 * the rule does not match, return its verdict when it does.  Returns the
 * number of instructions; a rule that matches everything has no test. */
static size_t emit_rule(struct bpf_insn *p, const struct box_dev_rule *r)
{
	bool test_type = r->type != 'a';
	bool test_access = r->access != BOX_DEV_ALL;
	bool test_major = r->major != -1, test_minor = r->minor != -1;
	size_t len = (size_t)test_type + 3 * (size_t)test_access + (size_t)test_major +
		     (size_t)test_minor + 2;
	size_t i = 0;
	int acc = (int)bpf_access(r->access);

	/* A jump at i skips the rest of the block: len - i - 1 instructions. */
#define NEXT ((short)(len - i - 1))
	if (test_type) {
		p[i] = JMP32_K(BPF_JNE, R_TYPE, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
			       NEXT);
		i++;
	}
	if (test_access) {
		p[i++] = MOV32_X(R1, R_ACCESS);
		p[i++] = ALU32_K(BPF_AND, R1, acc);
		if (r->allow)  /* grants all that is asked: (asked & acc) == asked */
			p[i] = JMP32_X(BPF_JNE, R1, R_ACCESS, NEXT);
		else           /* refuses some of it: (asked & acc) != 0 */
			p[i] = JMP32_K(BPF_JEQ, R1, 0, NEXT);
		i++;
	}
	/* JMP32 compares the low 32 bits, so majors above INT32_MAX (a negative
	 * imm) still compare right against the u32 in the context. */
	if (test_major) {
		p[i] = JMP32_K(BPF_JNE, R_MAJOR, (int32_t)(uint32_t)r->major, NEXT);
		i++;
	}
	if (test_minor) {
		p[i] = JMP32_K(BPF_JNE, R_MINOR, (int32_t)(uint32_t)r->minor, NEXT);
		i++;
	}
#undef NEXT
	p[i++] = MOV32_K(R0, r->allow ? 1 : 0);
	p[i++] = EXIT_INSN();
	return i;
}

int box_dev_bpf_build(const struct box_dev_rule *rules, size_t n, const char *cgpath,
		      struct bpf_insn **insns, size_t *len)
{
	struct bpf_insn *p;
	size_t i = 0;
	bool catch_all = false;
	int r;

	r = check_rules(rules, n, cgpath);
	if (r < 0)
		return r;
	if (n > MAX_RULES)
		return box_err(E2BIG, "device rules for %s: %zu rules, at most %zu fit in a program",
			       cgpath, n, (size_t)MAX_RULES);
	p = calloc(PROLOGUE_LEN + n * MAX_BLOCK_LEN + 2, sizeof(*p));
	if (!p)
		return box_err(ENOMEM, "device filter for %s: out of memory", cgpath);

	/* struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } */
	p[i++] = LDX_W(R_TYPE, R1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[i++] = ALU32_K(BPF_AND, R_TYPE, 0xffff);
	p[i++] = LDX_W(R_ACCESS, R1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[i++] = ALU32_K(BPF_RSH, R_ACCESS, 16);
	p[i++] = LDX_W(R_MAJOR, R1, offsetof(struct bpf_cgroup_dev_ctx, major));
	p[i++] = LDX_W(R_MINOR, R1, offsetof(struct bpf_cgroup_dev_ctx, minor));

	/* Last rule first: the first block that matches decides. */
	for (size_t k = n; k-- > 0;) {
		const struct box_dev_rule *rule = &rules[k];

		i += emit_rule(p + i, rule);
		/* Nothing after a rule that matches everything can run, and the
		 * verifier refuses unreachable instructions. */
		if (rule->type == 'a' && rule->major == -1 && rule->minor == -1 &&
		    rule->access == BOX_DEV_ALL) {
			catch_all = true;
			break;
		}
	}
	if (!catch_all) {   /* no rule matched: deny */
		p[i++] = MOV32_K(R0, 0);
		p[i++] = EXIT_INSN();
	}
	*insns = p;
	*len = i;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct bpf_insn *insns, size_t len, char *log, size_t log_size)
{
	union bpf_attr attr;
	int fd, tries = 0;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)len;
	/* No helper is called, so no GPL-only helper either: any string does. */
	attr.license = (uint64_t)(uintptr_t)"LGPL-2.1-or-later";
	if (log) {
		log[0] = '\0';
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)log_size;
		attr.log_level = 1;
	}
	memcpy(attr.prog_name, "box_devices", sizeof("box_devices"));
	/* The verifier may ask to be called again (as libbpf does, a few times). */
	do
		fd = sys_bpf(BPF_PROG_LOAD, &attr);
	while (fd < 0 && (errno == EAGAIN || errno == EINTR) && ++tries < 5);
	return fd < 0 ? -errno : fd;
}

/* The verifier's complaint in its log: the last line that is not one of the
 * statistics it ends with ("processed N insns ...", "verification time").
 * Copies it into out (cut to fit). */
static void verifier_complaint(const char *log, char *out, size_t size)
{
	const char *best = NULL, *s = log;
	size_t best_len = 0;

	while (*s) {
		const char *e = strchrnul(s, '\n');
		size_t l = (size_t)(e - s);

		if (l > 0 && strncmp(s, "processed ", 10) != 0 &&
		    strncmp(s, "verification time", 17) != 0 && strncmp(s, "stack depth", 11) != 0) {
			best = s;
			best_len = l;
		}
		s = *e ? e + 1 : e;
	}
	if (!best)
		best_len = 0;
	if (best_len >= size)
		best_len = size - 1;
	memcpy(out, best ? best : "", best_len);
	out[best_len] = '\0';
}

#define LOG_SIZE (256 * 1024)

int box_dev_bpf_load(const struct bpf_insn *insns, size_t len, const char *cgpath)
{
	_cleanup_free_ char *log = NULL;
	char complaint[256];
	int fd, r;

	if (!insns || len == 0 || len > UINT32_MAX)
		return box_err(EINVAL, "load the device filter for %s: empty program", cgpath);
	/* First without a log, which costs nothing (a log too small for the
	 * verifier's trace would even make a good program fail with ENOSPC). */
	fd = prog_load(insns, len, NULL, 0);
	if (fd >= 0)
		return fd;
	if (fd != -EACCES && fd != -EINVAL)  /* not the verifier: EPERM, ENOMEM... */
		return box_err_errno(-fd, "load the device filter for %s", cgpath);
	/* Again with the log, for the verifier's reason.  Kernels from 6.4 keep
	 * the end of a log that does not fit, where the reason is. */
	log = malloc(LOG_SIZE);
	if (!log)
		return box_err_errno(-fd, "load the device filter for %s", cgpath);
	r = prog_load(insns, len, log, LOG_SIZE);
	if (r >= 0)  /* accepted this time: keep it */
		return r;
	log[LOG_SIZE - 1] = '\0';
	verifier_complaint(log, complaint, sizeof(complaint));
	if (!complaint[0])
		return box_err_errno(-fd, "load the device filter for %s", cgpath);
	return box_err_errno(-fd, "load the device filter for %s: verifier: %s", cgpath, complaint);
}

int box_dev_bpf_attach(int cgfd, const char *cgpath, const struct box_dev_rule *rules, size_t n)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_close_ int fd = -1;
	union bpf_attr attr;
	size_t len;
	int r;

	r = box_dev_bpf_build(rules, n, cgpath, &insns, &len);
	if (r < 0)
		return r;
	fd = box_dev_bpf_load(insns, len, cgpath);
	if (fd < 0)
		return fd;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return box_err_errno(errno, "attach the device filter to %s", cgpath);
	return TAKE_FD(fd);
}

/* ---- cgroup v1: the devices controller ---- */

/* Format one rule of type t ('a', 'b' or 'c') in the kernel's syntax. */
static void v1_line(char *buf, size_t size, char t, const struct box_dev_rule *r)
{
	char major[16], minor[16], acc[4];
	size_t k = 0;

	if (r->major == -1)
		strcpy(major, "*");
	else
		snprintf(major, sizeof(major), "%u", (unsigned)r->major);
	if (r->minor == -1)
		strcpy(minor, "*");
	else
		snprintf(minor, sizeof(minor), "%u", (unsigned)r->minor);
	if (r->access & BOX_DEV_READ)
		acc[k++] = 'r';
	if (r->access & BOX_DEV_WRITE)
		acc[k++] = 'w';
	if (r->access & BOX_DEV_MKNOD)
		acc[k++] = 'm';
	acc[k] = '\0';
	snprintf(buf, size, "%c %s:%s %s", t, major, minor, acc);
}

/* The kernel takes one rule per write(). */
static int v1_write(int fd, const char *file, const char *line, const char *cgpath)
{
	size_t len = strlen(line);
	ssize_t w = write(fd, line, len);

	if (w < 0)
		return box_err_errno(errno, "write \"%s\" to %s/%s", line, cgpath, file);
	if ((size_t)w != len)
		return box_err(EIO, "write \"%s\" to %s/%s: short write", line, cgpath, file);
	return 0;
}

int box_dev_v1_apply(int dirfd, const char *cgpath, const struct box_dev_rule *rules, size_t n)
{
	_cleanup_close_ int allow_fd = -1, deny_fd = -1;
	char line[64];
	int r;

	r = check_rules(rules, n, cgpath);
	if (r < 0)
		return r;
	allow_fd = openat(dirfd, "devices.allow", O_WRONLY | O_CLOEXEC);
	if (allow_fd < 0)
		return box_err_errno(errno, "open %s/devices.allow", cgpath);
	deny_fd = openat(dirfd, "devices.deny", O_WRONLY | O_CLOEXEC);
	if (deny_fd < 0)
		return box_err_errno(errno, "open %s/devices.deny", cgpath);

	r = v1_write(deny_fd, "devices.deny", "a", cgpath);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct box_dev_rule *rule = &rules[i];
		int fd = rule->allow ? allow_fd : deny_fd;
		const char *file = rule->allow ? "devices.allow" : "devices.deny";

		if (rule->type != 'a') {
			v1_line(line, sizeof(line), rule->type, rule);
			r = v1_write(fd, file, line, cgpath);
		} else if (rule->major == -1 && rule->minor == -1 && rule->access == BOX_DEV_ALL) {
			r = v1_write(fd, file, "a", cgpath);
		} else {  /* v1's "a" takes no numbers nor access: both types */
			v1_line(line, sizeof(line), 'b', rule);
			r = v1_write(fd, file, line, cgpath);
			if (r == 0) {
				v1_line(line, sizeof(line), 'c', rule);
				r = v1_write(fd, file, line, cgpath);
			}
		}
		if (r < 0)
			return r;
	}
	return 0;
}
