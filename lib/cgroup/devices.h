/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device controller of a box: which device nodes it may read, write
 * and create.  On cgroup v1 the rules are written to the devices
 * controller; on cgroup v2 they become a BPF_PROG_TYPE_CGROUP_DEVICE
 * program attached to the box's cgroup.  Internal: nothing here is
 * exported. */
#ifndef LIBBOX_CGROUP_DEVICES_H
#define LIBBOX_CGROUP_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One device rule, as in the OCI spec's linux.resources.devices. */
struct box_dev_rule {
	char type;        /* 'a' (all), 'b' (block) or 'c' (char) */
	int64_t major;    /* -1: any */
	int64_t minor;    /* -1: any */
	unsigned access;  /* BOX_DEV_READ | BOX_DEV_WRITE | BOX_DEV_MKNOD */
	bool allow;
};
#define BOX_DEV_READ  1u
#define BOX_DEV_WRITE 2u
#define BOX_DEV_MKNOD 4u
#define BOX_DEV_ALL   (BOX_DEV_READ | BOX_DEV_WRITE | BOX_DEV_MKNOD)

/* A rule is valid when its type is 'a', 'b' or 'c', its major and minor are
 * -1 or 0..UINT32_MAX, and its access is a non-empty subset of BOX_DEV_ALL
 * (an OCI rule without "access" means rwm: the caller maps it).  Both
 * functions below check every rule before they change anything, and fail
 * with -EINVAL naming the rule's index. */

/* Docker's default rules: deny all, then allow mknod of any char/block
 * device, and rwm on null, zero, full, random, urandom, tty, console (5:1),
 * ptmx (5:2), pts (136:*), tun (10:200).  Fills min(n, count) rules and
 * returns the count (13), like snprintf: call with n = 0 to size. */
size_t box_dev_rules_default(struct box_dev_rule *rules, size_t n);

/* v2: build an eBPF program for rules and attach it to the cgroup directory
 * cgfd (any fd of it: O_PATH will do) as BPF_CGROUP_DEVICE with
 * BPF_F_ALLOW_MULTI.
 *
 * Evaluation, like the v1 devices controller: the LAST matching rule
 * decides; no rule matching = deny.  A rule matches a request when the
 * type ('a' = both), major and minor match and
 *   - an allow rule grants every access requested (open O_RDWR needs a
 *     rule with both r and w, as in v1);
 *   - a deny rule denies any access requested (deny "w" refuses O_RDWR).
 * A request is one kernel check: mknod, or an open for read and/or write.
 *
 * With BPF_F_ALLOW_MULTI every program of this cgroup runs, with those of
 * its ancestors attached MULTI (as systemd's are), and all must allow;
 * attaching twice adds a second program (it does not replace the first),
 * and sub-cgroups may attach their own, which can only deny more.  (A
 * program attached here without flags by someone else makes this fail
 * with EPERM.)  Returns the program fd (>= 0, close-on-exec; the
 * caller closes it when done: the attachment keeps the program alive until
 * the cgroup is removed), or -errno with box_err() set, naming cgpath. */
int box_dev_bpf_attach(int cgfd, const char *cgpath, const struct box_dev_rule *rules, size_t n);

/* The two steps of box_dev_bpf_attach, for tests and for callers that
 * replace a program (attach the new one, then BPF_PROG_DETACH the old).
 *
 * Build the program into a malloc'd array of *len struct bpf_insn (free it
 * with free()).  Returns 0 or -errno with box_err(). */
struct bpf_insn;
int box_dev_bpf_build(const struct box_dev_rule *rules, size_t n, const char *cgpath,
		      struct bpf_insn **insns, size_t *len);
/* Load insns as a BPF_PROG_TYPE_CGROUP_DEVICE program.  Returns its fd
 * (close-on-exec) or -errno; when the verifier refuses the program, the
 * message quotes the verifier's complaint. */
int box_dev_bpf_load(const struct bpf_insn *insns, size_t len, const char *cgpath);

/* v1: write the rules into the devices controller directory dirfd
 * ("devices.deny" "a" first, then each rule to devices.allow / devices.deny,
 * in order, in the kernel's "c 1:3 rwm" syntax).  An 'a' rule with any
 * major, minor and rwm is written as "a" (which, in v1, resets the cgroup
 * to allow-all or deny-all); any other 'a' rule as a 'b' and a 'c' rule,
 * since v1 has no syntax for it.  v1 keeps an exception list rather than
 * evaluating rules in order, so a deny rule only takes access away from an
 * earlier allow rule with the same type, major and minor (and a deny
 * narrower than an earlier wildcard allow does nothing): the two versions
 * agree on Docker's rules and on rule lists of that shape.
 * Returns 0 or -errno with box_err(). */
int box_dev_v1_apply(int dirfd, const char *cgpath, const struct box_dev_rule *rules, size_t n);

#endif
