/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clone3 and the child's setup.
 *
 * The parent prepares everything that needs memory (the mount plan, the
 * seccomp BPF, the capability sets, the environment) and then clones the
 * child with CLONE_PIDFD into the new namespaces.  The child runs its
 * steps in a fixed order, reports the first failure as (step, errno,
 * detail) over a SOCK_SEQPACKET pair, or STEP_READY when it is done, and
 * then waits for one byte from box_start() before it executes the
 * command.  Between clone3 and exec the child uses no heap and no lock:
 * it may be a copy of one thread of a multi-threaded program. */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <pthread.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"
#include "cgroup/cgroup.h"

static const char *const step_names[] = {
	[STEP_NONE] = "setup",
	[STEP_USERNS_WAIT] = "wait for the user namespace maps",
	[STEP_CGROUPNS] = "unshare the cgroup namespace",
	[STEP_CGROUP_JOIN] = "join the box's cgroups",
	[STEP_SETNS] = "enter the box's namespaces",
	[STEP_TTY] = "make the terminal",
	[STEP_STDIO] = "set up stdio",
	[STEP_SETSID] = "setsid",
	[STEP_LO_UP] = "bring up lo",
	[STEP_PROPAGATION] = "make / private",
	[STEP_ROOT_BIND] = "bind the root filesystem",
	[STEP_ROOT_OPEN] = "open the root filesystem",
	[STEP_PLAN] = "mount",
	[STEP_PIVOT_ROOT] = "pivot_root",
	[STEP_CHROOT] = "chroot",
	[STEP_READONLY_ROOT] = "remount / read-only",
	[STEP_HOSTNAME] = "sethostname",
	[STEP_RLIMIT] = "setrlimit",
	[STEP_SECCOMP] = "load the seccomp filter",
	[STEP_BOUNDING] = "drop from the bounding set",
	[STEP_KEEPCAPS] = "prctl(PR_SET_KEEPCAPS)",
	[STEP_SETGROUPS] = "setgroups",
	[STEP_SETGID] = "setgid",
	[STEP_SETUID] = "setuid",
	[STEP_CAPS] = "set capabilities",
	[STEP_AMBIENT] = "clear ambient capabilities",
	[STEP_NO_NEW_PRIVS] = "prctl(PR_SET_NO_NEW_PRIVS)",
	[STEP_CHDIR] = "chdir",
	[STEP_CWD_CHECK] = "check the working directory",
	[STEP_LOOKUP] = "look up the command",
	[STEP_WAIT_START] = "wait for start",
	[STEP_INIT_FORK] = "fork the command from init",
	[STEP_CLOSE_FDS] = "close inherited fds",
	[STEP_EXEC] = "execute",
	[STEP_READY] = "ready",
	[STEP_STARTED] = "started",
	[STEP_EXITED] = "exited",
};

const char *box_step_name(int step)
{
	if (step < 0 || (size_t)step >= ARRAY_SIZE(step_names) || !step_names[step])
		return "setup";
	return step_names[step];
}

void box_msg_send(int fd, int step, int err, int64_t detail)
{
	struct box_msg m = { .step = step, .err = err, .detail = detail };

	while (send(fd, &m, sizeof(m), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* ---- the child ---- */

/* A pty from the box's own devpts (mounted already, or entered with the
 * box's mount namespace): the peer becomes stdio, the master goes to the
 * parent.  ctty: make it the controlling terminal now (not when an init
 * will start the command: the command's own session takes it). */
static int make_tty(int sync_fd, bool ctty)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct box_msg m = { .step = STEP_TTY };
	struct iovec io = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int master, peer, unlock = 0, r = 0;

	master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return -errno;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
	    (peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		r = -errno;
		close(master);
		return r;
	}
	for (int i = 0; i < 3 && r == 0; i++)
		if (dup2(peer, i) < 0)
			r = -errno;
	close(peer);
	if (r == 0 && ctty && ioctl(0, TIOCSCTTY, 0) < 0)
		r = -errno;
	if (r == 0) {
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &master, sizeof(int));
		if (sendmsg(sync_fd, &mh, MSG_NOSIGNAL) < 0)
			r = -errno;
	}
	close(master);
	return r;
}

_Noreturn static void fail(const struct box_child_args *a, int step, int err, int64_t detail)
{
	box_msg_send(a->sync_fd, step, err, detail);
	_exit(127);
}

#define CHECK(a, step, expr)                          \
	do {                                          \
		if ((expr) < 0)                       \
			fail(a, step, errno, 0);      \
	} while (0)

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* execvp's search, done before the box is ready so that a missing
 * command fails box_create() rather than box_start(). */
static int lookup(const char *cmd, char *const *envp, char *out, size_t len)
{
	const char *path = env_get(envp, "PATH");
	int saw_eacces = 0;

	if (strchr(cmd, '/')) {
		if (strlen(cmd) >= len)
			return -ENAMETOOLONG;
		memcpy(out, cmd, strlen(cmd) + 1);
		return access(out, X_OK) < 0 ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path;; p++) {
		const char *e = strchr(p, ':');
		size_t dl = e ? (size_t)(e - p) : strlen(p);
		struct stat st;

		if (dl + strlen(cmd) + 2 < len) {
			memcpy(out, dl ? p : ".", dl ? dl : 1);
			dl = dl ? dl : 1;
			out[dl] = '/';
			memcpy(out + dl + 1, cmd, strlen(cmd) + 1);
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(out, X_OK) == 0)
					return 0;
				saw_eacces = 1;
			}
		}
		if (!e)
			break;
		p = e;
	}
	return saw_eacces ? -EACCES : -ENOENT;
}

static int load_seccomp(const struct box_bpf *bpf)
{
	struct sock_fprog prog = { .len = bpf->len, .filter = bpf->filter };

	if (!bpf->len)
		return 0;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static void reset_signals(void)
{
	sigset_t none;
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	for (int s = 1; s < _NSIG; s++)
		sigaction(s, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, 32, 33 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The last steps before exec, the same for a box's first process and for
 * box_exec(): the user, the capabilities, no_new_privs, the working
 * directory, the command's path, the seccomp filter. */
static void confine(const struct box_child_args *a, bool userns, bool chrooted, char *path,
		    size_t len)
{
	const struct box_config *cfg = a->cfg;
	char cwd[PATH_MAX];
	int r;

	/* A chroot, unlike pivot_root, can be left by whoever may call chroot:
	 * behind it is the host's root.  That capability goes (and, with it,
	 * the seccomp filter's chroot rule is moot). */
	if (chrooted) {
		cap_value_t c = CAP_SYS_CHROOT;

		cap_set_flag((cap_t)a->caps, CAP_EFFECTIVE, 1, &c, CAP_CLEAR);
		cap_set_flag((cap_t)a->caps, CAP_PERMITTED, 1, &c, CAP_CLEAR);
		CHECK(a, STEP_BOUNDING, prctl(PR_CAPBSET_DROP, CAP_SYS_CHROOT, 0, 0, 0));
	}

	/* Without no_new_privs the kernel wants CAP_SYS_ADMIN to load a
	 * filter, so it goes in while we still have it. */
	if (!cfg->no_new_privs)
		CHECK(a, STEP_SECCOMP, load_seccomp(&a->bpf));

	for (int c = 0; c <= a->last_cap; c++)
		if (!(cfg->caps & (1ull << c)))
			CHECK(a, STEP_BOUNDING, prctl(PR_CAPBSET_DROP, c, 0, 0, 0));
	CHECK(a, STEP_KEEPCAPS, prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	/* (in a user namespace whose setgroups is denied, an empty list is
	 * what we have already) */
	/* raw system calls: glibc's wrappers synchronise every thread of what
	 * it thinks is a multi-threaded process (we may be a copy of one) */
	if (syscall(SYS_setgroups, (size_t)cfg->ngroups, (const gid_t *)cfg->groups) < 0 &&
	    !(errno == EPERM && userns && cfg->ngroups == 0))
		fail(a, STEP_SETGROUPS, errno, 0);
	CHECK(a, STEP_SETGID, syscall(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid));
	CHECK(a, STEP_SETUID, syscall(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid));
	CHECK(a, STEP_CAPS, cap_set_proc((cap_t)a->caps));
	CHECK(a, STEP_AMBIENT, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	CHECK(a, STEP_KEEPCAPS, prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0));
	if (cfg->no_new_privs)
		CHECK(a, STEP_NO_NEW_PRIVS, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));

	CHECK(a, STEP_CHDIR, chdir(cfg->cwd));
	/* A cwd reached through an inherited fd would lie outside the root
	 * (CVE-2024-21626): getcwd() then fails or does not start with /. */
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		fail(a, STEP_CWD_CHECK, ENOENT, 0);
	r = lookup(cfg->argv[0], a->envp, path, len);
	if (r < 0)
		fail(a, STEP_LOOKUP, -r, 0);
	if (cfg->no_new_privs)
		CHECK(a, STEP_SECCOMP, load_seccomp(&a->bpf));

}

/* Close every fd but the child's own: until box_start() it would hold the
 * creator's other files open, among them the lock files of other boxes
 * being made at the same time (flock follows the open file).  No heap. */
static void close_all_but_ours(const struct box_child_args *a)
{
	int keep[64], n = 0, lo = 0;

	keep[n++] = a->sync_fd;
	for (int i = 0; i < 3; i++)
		keep[n++] = a->stdio[i];
	for (int i = 0; i < a->njoin; i++)
		keep[n++] = a->join_fds[i];
	for (size_t i = 0; a->plan && i < a->plan->nops; i++) {
		const struct box_op *op = &a->plan->ops[i];

		for (size_t k = 0; op->kind == OP_CGROUP_V1 && k < ARRAY_SIZE(op->trees); k++)
			if (op->trees[k] >= 0 && n < (int)ARRAY_SIZE(keep))
				keep[n++] = op->trees[k];
	}
	/* ascending, then close each gap between them */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo)
			syscall(SYS_close_range, (unsigned)lo, (unsigned)keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	syscall(SYS_close_range, (unsigned)lo, ~0u, 0);
}

_Noreturn static void child_main(const struct box_child_args *a)
{
	const struct box_config *cfg = a->cfg;
	bool userns = cfg->ns & BOX_NS_USER, chrooted = false;
	char path[PATH_MAX];
	size_t failed;
	int r, rootfd;
	char go;

	reset_signals();
	/* Without this copy of the parent's end, a creator that dies before
	 * box_start() leaves us waiting for an end of file that never comes. */
	close(a->parent_fd);
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	close_all_but_ours(a);
	/* The setup creates device nodes and directories with exact modes;
	 * the command gets the usual 022 (set below). */
	umask(0);
	if (a->wait_parent) {
		/* the parent writes uid_map and gid_map and puts us in our
		 * cgroups, then one byte */
		if (read(a->sync_fd, &go, 1) != 1)
			_exit(127);
	}
	/* v1: into the box's cgroups, by ourselves */
	for (int i = 0; i < a->njoin; i++) {
		if (write(a->join_fds[i], "0", 1) != 1)
			fail(a, STEP_CGROUP_JOIN, errno, i);
		close(a->join_fds[i]);
	}
	/* Made here, not by clone, so that its root is the box's cgroup. */
	if (a->unshare_cgroupns)
		CHECK(a, STEP_CGROUPNS, unshare(CLONE_NEWCGROUP));
	if (userns) {
		/* Become root of the new namespace when 0 is mapped (our own
		 * host uid may not be), keeping the namespace's capabilities. */
		if (syscall(SYS_setresgid, 0, 0, 0) < 0 && errno != EINVAL)
			fail(a, STEP_SETGID, errno, 0);
		if (syscall(SYS_setresuid, 0, 0, 0) < 0 && errno != EINVAL)
			fail(a, STEP_SETUID, errno, 0);
	}
	for (int i = 0; i < 3; i++)
		CHECK(a, STEP_STDIO, dup2(a->stdio[i], i));
	CHECK(a, STEP_SETSID, setsid());
	if (cfg->ns & BOX_NS_NET) {
		r = box_link_lo_up();
		if (r < 0)
			fail(a, STEP_LO_UP, -r, 0);
	}

	if (cfg->rootfs) {
		CHECK(a, STEP_PROPAGATION, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
		CHECK(a, STEP_ROOT_BIND, mount(cfg->rootfs, cfg->rootfs, NULL, MS_BIND | MS_REC, NULL));
		rootfd = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		CHECK(a, STEP_ROOT_OPEN, rootfd);
		r = box_plan_run(a->plan, rootfd, userns, &failed);
		if (r < 0)
			fail(a, STEP_PLAN, -r, (int64_t)failed);
		CHECK(a, STEP_PIVOT_ROOT, fchdir(rootfd));
		/* pivot_root(".", ".") stacks the old root under the new
		 * one; detaching "." then drops it (no put_old directory). */
		r = cfg->no_pivot ? -1 : (int)syscall(SYS_pivot_root, ".", ".");
		if (r == 0) {
			CHECK(a, STEP_PIVOT_ROOT, umount2(".", MNT_DETACH));
		} else if (cfg->no_pivot || errno == EINVAL || errno == EBUSY) {
			/* the root on the initramfs (EINVAL: moved over "/" first,
			 * as switch_root does), or the host's own "/" as the root
			 * (EBUSY: it is on top of "/" already): chroot */
			if (errno != EBUSY || cfg->no_pivot)
				CHECK(a, STEP_CHROOT, mount(".", "/", NULL, MS_MOVE, NULL));
			CHECK(a, STEP_CHROOT, chroot("."));
			chrooted = true;
		} else {
			fail(a, STEP_PIVOT_ROOT, errno, 0);
		}
		CHECK(a, STEP_PIVOT_ROOT, chdir("/"));
		close(rootfd);
		if (cfg->readonly_root) {
			struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

			CHECK(a, STEP_READONLY_ROOT, mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof(ro)));
		}
	}

	if (cfg->hostname)
		CHECK(a, STEP_HOSTNAME, sethostname(cfg->hostname, strlen(cfg->hostname)));
	for (size_t i = 0; i < cfg->nrlimits; i++) {
		const struct box_rlimit *l = &cfg->rlimits[i];
		struct rlimit rl = {
			.rlim_cur = l->soft == UINT64_MAX ? RLIM_INFINITY : l->soft,
			.rlim_max = l->hard == UINT64_MAX ? RLIM_INFINITY : l->hard,
		};

		if (setrlimit((__rlimit_resource_t)l->resource, &rl) < 0)
			fail(a, STEP_RLIMIT, errno, (int64_t)i);
	}
	if (cfg->tty) {
		r = make_tty(a->sync_fd, !cfg->init);
		if (r < 0)
			fail(a, STEP_TTY, -r, 0);
	}

	confine(a, userns, chrooted, path, sizeof(path));

	umask(022);
	box_msg_send(a->sync_fd, STEP_READY, 0, 0);
	if (read(a->sync_fd, &go, 1) != 1)
		_exit(127); /* destroyed before start */

	if (cfg->init)
		box_init_main(a, path);
	/* Everything but stdio closes on exec; the sync socket too, which is
	 * how the parent learns that execve succeeded. */
	if (syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
		fail(a, STEP_CLOSE_FDS, errno, 0);
	execve(path, cfg->argv, a->envp);
	fail(a, STEP_EXEC, errno, 0);
}

/* ---- the parent ---- */

static int write_map(pid_t pid, const char *file, const struct box_idmap *map, int n,
		     uint32_t self)
{
	char path[64], buf[BOX_MAX_IDMAP * 36 + 16];
	size_t len = 0;
	int fd, r = 0;

	if (n == 0)
		len = (size_t)snprintf(buf, sizeof(buf), "0 %u 1\n", self);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", map[i].inside,
					map[i].outside, map[i].count);
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return box_err_errno(errno, "open %s", path);
	if (write(fd, buf, len) != (ssize_t)len)
		r = box_err_errno(errno, "write %s", path);
	close(fd);
	return r;
}

static char **make_env(const struct box_config *cfg)
{
	size_t n = strv_len(cfg->env);
	char **env = calloc(n + 4, sizeof(char *));
	size_t k = 0;

	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(env[k++] = strdup(cfg->env[i])))
			goto oom;
	if (!env_get(env, "PATH") &&
	    !(env[k++] = strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")))
		goto oom;
	if (!env_get(env, "HOSTNAME") && cfg->hostname &&
	    asprintf(&env[k++], "HOSTNAME=%s", cfg->hostname) < 0) {
		env[k - 1] = NULL;
		goto oom;
	}
	if (!env_get(env, "HOME") && !(env[k++] = strdup(cfg->uid == 0 ? "HOME=/root" : "HOME=/")))
		goto oom;
	return env;
oom:
	strv_free(env);
	return NULL;
}

static cap_t make_caps(uint64_t keep, int last)
{
	cap_t caps = cap_init();

	if (!caps)
		return NULL;
	for (cap_value_t c = 0; c <= last; c++) {
		if (!(keep & (1ull << c)))
			continue;
		if (cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET) < 0 ||
		    cap_set_flag(caps, CAP_PERMITTED, 1, &c, CAP_SET) < 0) {
			cap_free(caps);
			return NULL;
		}
	}
	return caps;
}

static int validate(const struct box_config *cfg)
{
	if (!cfg->argv)
		return box_err(EINVAL, "box_create: no command (box_config_set_argv was not called)");
	if (cfg->rootfs && !(cfg->ns & BOX_NS_MOUNT))
		return box_err(EINVAL, "box_create: a root filesystem needs a mount namespace");
	if (!cfg->rootfs && (cfg->ns & BOX_NS_MOUNT))
		return box_err(EINVAL, "box_create: no root filesystem (box_config_set_rootfs)");
	if (!cfg->rootfs && (cfg->nmounts || cfg->readonly_root))
		return box_err(EINVAL, "box_create: mounts need a root filesystem");
	if (cfg->init && !(cfg->ns & BOX_NS_PID))
		return box_err(EINVAL, "box_create: the built-in init needs a pid namespace");
	if (cfg->hostname && !(cfg->ns & BOX_NS_UTS))
		return box_err(EINVAL, "box_create: a host name needs a uts namespace");
	if ((cfg->nuidmap || cfg->ngidmap) && !(cfg->ns & BOX_NS_USER))
		return box_err(EINVAL, "box_create: id maps need a user namespace");
	for (int k = 0; k < 2 && (cfg->ns & BOX_NS_USER); k++) {
		const struct box_idmap *m = k ? cfg->gidmap : cfg->uidmap;
		int n = k ? cfg->ngidmap : cfg->nuidmap;
		bool zero = n == 0; /* the default map maps 0 */

		for (int i = 0; i < n; i++)
			zero |= m[i].inside == 0;
		if (!zero)
			return box_err(EINVAL, "box_create: the %s map does not map %s 0, which sets "
					       "up the box", k ? "gid" : "uid", k ? "gid" : "uid");
	}
	return 0;
}

static unsigned long clone_flags(unsigned ns)
{
	unsigned long f = 0;

	f |= ns & BOX_NS_MOUNT ? CLONE_NEWNS : 0;
	f |= ns & BOX_NS_UTS ? CLONE_NEWUTS : 0;
	f |= ns & BOX_NS_IPC ? CLONE_NEWIPC : 0;
	f |= ns & BOX_NS_PID ? CLONE_NEWPID : 0;
	f |= ns & BOX_NS_NET ? CLONE_NEWNET : 0;
	f |= ns & BOX_NS_USER ? CLONE_NEWUSER : 0;
	f |= ns & BOX_NS_CGROUP ? CLONE_NEWCGROUP : 0;
	f |= ns & BOX_NS_TIME ? CLONE_NEWTIME : 0;
	return f;
}

/* Turn a child's failure report into the caller's message. */
static int report(const struct box_config *cfg, const struct box_plan *plan,
		  const struct box_msg *m)
{
	char what[512];
	int err = m->err > 0 ? m->err : EIO;

	switch (m->step) {
	case STEP_PLAN:
		box_plan_describe(plan, (size_t)m->detail, cfg->rootfs, what, sizeof(what));
		return box_err_errno(err, "%s", what);
	case STEP_RLIMIT:
		return box_err_errno(err, "setrlimit %d (soft %llu, hard %llu)",
				     cfg->rlimits[m->detail].resource,
				     (unsigned long long)cfg->rlimits[m->detail].soft,
				     (unsigned long long)cfg->rlimits[m->detail].hard);
	case STEP_LOOKUP:
		if (err == ENOENT && !strchr(cfg->argv[0], '/'))
			return box_err(ENOENT, "%s: executable file not found in $PATH",
				       cfg->argv[0]);
		return box_err_errno(err, "%s", cfg->argv[0]);
	case STEP_EXEC:
		return box_err_errno(err, "execve %s", cfg->argv[0]);
	case STEP_CHDIR:
	case STEP_CWD_CHECK:
		return box_err_errno(err, "%s %s", box_step_name(m->step), cfg->cwd);
	case STEP_HOSTNAME:
		return box_err_errno(err, "sethostname %s", cfg->hostname);
	case STEP_CGROUP_JOIN:
		return box_err_errno(err, "join the box's cgroups (hierarchy %lld)",
				     (long long)m->detail);
	case STEP_ROOT_BIND:
	case STEP_ROOT_OPEN:
	case STEP_PIVOT_ROOT:
	case STEP_CHROOT:
		return box_err_errno(err, "%s %s", box_step_name(m->step), cfg->rootfs);
	default:
		return box_err_errno(err, "%s", box_step_name(m->step));
	}
}

/* Read one message; 0 at EOF, 1 with a message, -errno. */
int box_msg_recv(int fd, struct box_msg *m, int flags, int *passed)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec io = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	if (passed)
		*passed = -1;
	do
		n = recvmsg(fd, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			int got;

			memcpy(&got, CMSG_DATA(cm), sizeof(int));
			if (passed)
				*passed = got;
			else
				close(got);
		}
	}
	if (n == 0)
		return 0;
	if (n != sizeof(*m))
		return -EPROTO;
	return 1;
}

/* What a child needs that takes memory or fds, made before clone: the
 * seccomp BPF, the capability sets, the environment, its stdio and the
 * socket pair (sv[1] is the child's).  Undone by release_child(). */
static int prepare_child(struct box_child_args *a, const struct box_config *cfg,
			 const char *state_dir, int sv[2], const char *what)
{
	int r = box_seccomp_compile(cfg, state_dir, &a->bpf);

	if (r < 0)
		return r;
	a->caps = make_caps(cfg->caps, a->last_cap);
	a->envp = make_env(cfg);
	if (!a->caps || !a->envp)
		return box_err(ENOMEM, "%s: out of memory", what);
	for (int i = 0; i < 3; i++) {
		int fd = cfg->stdio[i];

		a->stdio[i] = fd < 0 ? open("/dev/null", O_RDWR | O_CLOEXEC)
				     : fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (a->stdio[i] < 0)
			return box_err_errno(errno, "%s: stdio fd %d", what, fd);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return box_err_errno(errno, "%s: socketpair", what);
	a->sync_fd = sv[1];
	a->parent_fd = sv[0];
	return 0;
}

static void release_child(struct box_child_args *a, int sv[2])
{
	for (int i = 0; i < a->njoin; i++)
		close(a->join_fds[i]);
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			close(sv[i]);
	for (int i = 0; i < 3; i++)
		if (a->stdio[i] >= 0)
			close(a->stdio[i]);
	if (a->caps)
		cap_free(a->caps);
	strv_free(a->envp);
	box_bpf_free(&a->bpf);
}

int box_spawn(struct box *b, const struct box_config *cfg)
{
	struct box_plan plan = { 0 };
	struct box_child_args a = { .cfg = cfg, .sync_fd = -1, .stdio = { -1, -1, -1 } };
	struct clone_args ca = { 0 };
	_cleanup_free_ char *rootfs = NULL;
	struct box_config local;
	int sv[2] = { -1, -1 }, pidfd = -1;
	struct box_msg m;
	struct stat st;
	bool devctl = false, placed = false;
	pid_t pid;
	int r;

	r = validate(cfg);
	if (r < 0)
		return r;
	/* The child works on a copy whose rootfs is the canonical path. */
	local = *cfg;
	if (cfg->rootfs) {
		rootfs = realpath(cfg->rootfs, NULL);
		if (!rootfs)
			return box_err_errno(errno, "root filesystem %s", cfg->rootfs);
		if (stat(rootfs, &st) < 0 || !S_ISDIR(st.st_mode))
			return box_err(ENOTDIR, "root filesystem %s: not a directory", cfg->rootfs);
		local.rootfs = rootfs;
	}
	/* the lock file (see box_state_create) notes each directory before
	 * it is made, for box_gc after a crash */
	r = box_cgroup_create(b->ctx, &local, b->id, b->lockfd, &b->cg);
	if (r < 0)
		return r;
	if (b->cg) {
		r = box_cgroup_apply(b->cg, &local);
		if (r == 0) {
			r = box_cgroup_devices(b->cg);
			devctl = r == 0;
			if (r == -ENOTSUP)
				r = 0;
		}
		if (r < 0)
			goto out;
		box_err_clear();
	}
	/* Without a device controller, mknod would give the box any device
	 * of the host: keep CAP_MKNOD only where the kernel refuses mknod
	 * anyway (a user namespace). */
	if (!devctl && !(local.ns & BOX_NS_USER))
		local.caps &= ~(1ull << CAP_MKNOD);
	/* Where the box will be chrooted (see child_main), CAP_SYS_CHROOT
	 * goes for box_exec() too; the child drops it again if pivot_root
	 * unexpectedly refuses. */
	if (local.rootfs && (local.no_pivot || strcmp(local.rootfs, "/") == 0))
		local.caps &= ~(1ull << CAP_SYS_CHROOT);
	if (local.rootfs) {
		r = box_plan_build(&local, b->cg, &plan);
		if (r == 0)
			r = box_plan_prepare(&plan);
		if (r < 0)
			goto out;
	}
	a.cfg = &local;
	a.plan = &plan;
	a.last_cap = box_cap_last();
	{
		uint64_t bounding = 0;

		for (int c = 0; c <= a.last_cap; c++)
			if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
				bounding |= 1ull << c;
		if (local.caps_added & ~bounding) {
			int c = __builtin_ctzll(local.caps_added & ~bounding);
			char *name = cap_to_name((cap_value_t)c);

			r = box_err(EPERM, "box_create: capability %s cannot be granted: the caller "
					   "does not have it in its bounding set", name ? name : "?");
			cap_free(name);
			goto out;
		}
		local.caps &= bounding;
	}
	b->caps = local.caps; /* after the bounding set and CAP_MKNOD: what exec gets too */
	r = prepare_child(&a, &local, b->ctx->state_dir, sv, "box_create");
	if (r < 0)
		goto out;
	a.lock_fd = b->lockfd;

	ca.flags = clone_flags(local.ns) | CLONE_PIDFD;
	if (b->cg) {
		/* the child makes its cgroup namespace once it is in its cgroup */
		ca.flags &= ~(uint64_t)CLONE_NEWCGROUP;
		a.unshare_cgroupns = local.ns & BOX_NS_CGROUP;
		if (b->cg->version == 2) {
			/* in its cgroup before its first instruction */
			ca.flags |= CLONE_INTO_CGROUP;
			ca.cgroup = (uint64_t)b->cg->v2fd;
			placed = true;
		} else {
			/* v1: the child joins first thing, before any setup */
			r = box_cgroup_join_fds(b->cg, a.join_fds, (int)ARRAY_SIZE(a.join_fds));
			if (r < 0)
				goto out;
			a.njoin = r;
			placed = true;
		}
	}
	a.wait_parent = (local.ns & BOX_NS_USER) || (b->cg && !placed);
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	/* exit_signal 0: no SIGCHLD, and a waitpid(-1) of the embedding
	 * program cannot reap the box by accident (we wait with __WALL). */
	ca.exit_signal = 0;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0 && errno == ENOSYS && !(ca.flags & CLONE_NEWTIME)) {
		/* clone3 refused (Docker's seccomp profile answers ENOSYS; so do
		 * valgrind and kernels before 5.3): clone with CLONE_PIDFD, which
		 * stores the pidfd where the parent tid would go. */
		placed = b->cg && b->cg->version == 1;
		a.wait_parent = (local.ns & BOX_NS_USER) || (b->cg && !placed);
		pid = (pid_t)syscall(SYS_clone, (unsigned long)(ca.flags & ~(uint64_t)CLONE_INTO_CGROUP),
				     NULL, &pidfd, NULL, NULL);
	}
	if (pid < 0) {
		r = box_err_errno(errno, "clone3 (namespaces 0x%x)", local.ns);
		goto out;
	}
	if (pid == 0)
		child_main(&a);

	close(TAKE_FD(sv[1]));
	a.sync_fd = -1;
	b->pid = pid;
	b->pidfd = pidfd;
	b->sync_fd = TAKE_FD(sv[0]);
	/* v1 (or clone without CLONE_INTO_CGROUP): the child waits, stopped
	 * before anything of its own, until it is in its cgroups */
	if (b->cg && !placed) {
		r = box_cgroup_enter(b->cg, pid);
		if (r < 0)
			goto out;
	}
	if (local.ns & BOX_NS_USER) {
		r = write_map(pid, "uid_map", local.uidmap, local.nuidmap, geteuid());
		if (r == 0)
			r = write_map(pid, "gid_map", local.gidmap, local.ngidmap, getegid());
		if (r == -EPERM) {
			/* without CAP_SETGID (rootless) the kernel wants setgroups
			 * denied before it takes a gid map */
			char path[64];
			int fd;

			snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
			fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd >= 0 && write(fd, "deny", 4) == 4)
				r = write_map(pid, "gid_map", local.gidmap, local.ngidmap, getegid());
			if (fd >= 0)
				close(fd);
		}
		if (r < 0)
			goto out;
	}
	if (a.wait_parent && send(b->sync_fd, "m", 1, MSG_NOSIGNAL) != 1) {
		r = box_err_errno(errno, "box_create: signal the child");
		goto out;
	}
	r = box_msg_recv(b->sync_fd, &m, 0, &b->tty_fd);
	if (r == 1 && m.step == STEP_TTY && m.err == 0)
		r = box_msg_recv(b->sync_fd, &m, 0, NULL);
	if (r == 1 && m.step == STEP_READY)
		r = 0;
	else if (r == 1)
		r = report(&local, &plan, &m);
	else if (r == 0)
		r = box_err(EIO, "box_create: the box's first process died during setup");
	else
		r = box_err_errno(-r, "box_create: reading the setup report");
out:
	if (r < 0 && b->tty_fd >= 0)
		close(TAKE_FD(b->tty_fd));
	if (r < 0 && b->pidfd >= 0) {
		siginfo_t si;

		syscall(SYS_pidfd_send_signal, b->pidfd, SIGKILL, NULL, 0);
		waitid((idtype_t)P_PIDFD, (id_t)b->pidfd, &si, WEXITED | __WALL);
		close(TAKE_FD(b->pidfd));
		close(TAKE_FD(b->sync_fd));
		b->pid = -1;
	}
	if (r < 0 && b->cg) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", box_last_error());
		box_cgroup_destroy(TAKE_PTR(b->cg));
		box_err(-r, "%s", msg);
	}
	release_child(&a, sv);
	box_plan_free(&plan);
	return r;
}

/* ---- box_exec(): a process in a running box ---- */

/* The exec child: into the box's cgroups (v1) and namespaces, then the
 * same last steps as the box's first process.  The pid namespace it is in
 * already (see box_spawn_exec). */
_Noreturn static void exec_child_main(const struct box_child_args *a, int box_pidfd)
{
	const struct box_config *cfg = a->cfg;
	bool userns = cfg->ns & BOX_NS_USER;
	char path[PATH_MAX];
	int nsflags;

	reset_signals();
	close(a->parent_fd);
	if (a->wait_parent) {
		char go;

		/* cloned without CLONE_INTO_CGROUP: the parent places us first */
		if (read(a->sync_fd, &go, 1) != 1)
			_exit(127);
	}
	/* In the box's pid namespace, box processes can see us: until exec
	 * we are a copy of the caller's program, not to be opened through
	 * /proc/PID/exe or ptraced (CVE-2019-5736). */
	CHECK(a, STEP_SETNS, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	for (int i = 0; i < 3; i++)
		CHECK(a, STEP_STDIO, dup2(a->stdio[i], i));
	for (int i = 0; i < a->njoin; i++) {
		if (write(a->join_fds[i], "0", 1) != 1)
			fail(a, STEP_CGROUP_JOIN, errno, i);
		close(a->join_fds[i]);
	}
	/* every namespace of the box at once, through its pidfd; the mount
	 * namespace brings its root and sets our cwd to it */
	nsflags = (int)(clone_flags(cfg->ns) & ~(unsigned long)CLONE_NEWPID);
	if (nsflags)
		CHECK(a, STEP_SETNS, setns(box_pidfd, nsflags));
	CHECK(a, STEP_SETSID, setsid());
	if (cfg->tty) {
		int r = make_tty(a->sync_fd, true);

		if (r < 0)
			fail(a, STEP_TTY, -r, 0);
	}
	umask(022);
	confine(a, userns, false, path, sizeof(path));
	if (syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
		fail(a, STEP_CLOSE_FDS, errno, 0);
	execve(path, cfg->argv, a->envp);
	fail(a, STEP_EXEC, errno, 0);
}

/* The exec child must be born in the box's pid namespace, which only a
 * thread's pid_for_children can give: a throwaway thread points its own
 * there and clones, so that no thread of the caller ever changes. */
struct exec_clone {
	struct clone_args *ca;
	struct box_child_args *a;
	int box_pidfd, pidfd, err;
	bool pidns, cg_v2, fallback;
	pid_t pid;
};

static void *exec_clone_thread(void *arg)
{
	struct exec_clone *x = arg;

	x->pid = -1;
	if (x->pidns && setns(x->box_pidfd, CLONE_NEWPID) < 0) {
		x->err = errno;
		return NULL;
	}
	x->pid = (pid_t)syscall(SYS_clone3, x->ca, sizeof(*x->ca));
	if (x->pid < 0 && errno == ENOSYS) {
		/* as in box_spawn: clone; on v2 the parent then places it */
		x->fallback = true;
		x->a->wait_parent = x->cg_v2;
		x->pid = (pid_t)syscall(SYS_clone,
					(unsigned long)(x->ca->flags & ~(uint64_t)CLONE_INTO_CGROUP),
					NULL, &x->pidfd, NULL, NULL);
	}
	if (x->pid == 0)
		exec_child_main(x->a, x->box_pidfd);
	x->err = x->pid < 0 ? errno : 0;
	return NULL;
}

int box_spawn_exec(struct box *b, const struct box_config *proc, struct box *e)
{
	struct box_child_args a = { .sync_fd = -1, .parent_fd = -1, .lock_fd = -1,
				    .stdio = { -1, -1, -1 } };
	struct clone_args ca = { 0 };
	box_config *cfg = NULL;
	int sv[2] = { -1, -1 }, r;
	struct exec_clone x = { .box_pidfd = b->pidfd, .pidfd = -1 };
	pthread_t thread;
	struct box_plan plan = { 0 };
	struct box_msg m;
	pid_t pid;

	r = box_config_new(&cfg);
	if (r < 0)
		return r;
	/* the box's settings, then what the caller chose */
	r = box_state_process(b, cfg);
	if (r == 0)
		cfg->argv = strv_dup((int)strv_len(proc->argv), (const char *const *)proc->argv);
	for (size_t i = 0; r == 0 && proc->env && proc->env[i]; i++) {
		char *kv = strdup(proc->env[i]), *eq = kv ? strchr(kv, '=') : NULL;

		if (!eq)
			r = box_err(ENOMEM, "box_exec: out of memory");
		else
			*eq = '\0', r = box_config_set_env(cfg, kv, eq + 1);
		free(kv);
	}
	if (r == 0 && proc->cwd_set)
		r = box_config_set_cwd(cfg, proc->cwd);
	if (r == 0 && proc->user_set) {
		cfg->uid = proc->uid;
		cfg->gid = proc->gid;
		r = box_config_set_groups(cfg, proc->ngroups, proc->groups);
	}
	if (r == 0 && !cfg->argv)
		r = box_err(ENOMEM, "box_exec: out of memory");
	if (r < 0)
		goto out;
	memcpy(cfg->stdio, proc->stdio, sizeof(cfg->stdio));
	cfg->tty = proc->tty;

	a.cfg = cfg;
	a.plan = &plan;
	a.last_cap = box_cap_last();
	r = prepare_child(&a, cfg, b->ctx->state_dir, sv, "box_exec");
	if (r < 0)
		goto out;

	ca.flags = CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)&x.pidfd;
	if (b->cg && b->cg->version == 2) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)b->cg->v2fd;
	} else if (b->cg) {
		r = box_cgroup_join_fds(b->cg, a.join_fds, (int)ARRAY_SIZE(a.join_fds));
		if (r < 0)
			goto out;
		a.njoin = r;
	}
	x.ca = &ca;
	x.a = &a;
	x.pidns = cfg->ns & BOX_NS_PID;
	x.cg_v2 = b->cg && b->cg->version == 2;
	r = pthread_create(&thread, NULL, exec_clone_thread, &x);
	if (r != 0) {
		r = box_err_errno(r, "box %.12s: a thread for exec", b->id);
		goto out;
	}
	pthread_join(thread, NULL);
	pid = x.pid;
	if (pid < 0) {
		r = box_err_errno(x.err, "box %.12s: %s for exec", b->id,
				  x.pidns && x.err != ENOSYS ? "setns or clone3" : "clone3");
		goto out;
	}
	close(TAKE_FD(sv[1]));
	e->pid = pid;
	e->pidfd = x.pidfd;
	if (x.fallback && x.cg_v2) {
		/* not cloned into its cgroup: placed there before it may go on */
		r = box_cgroup_enter(b->cg, pid);
		if (r == 0 && send(sv[0], "g", 1, MSG_NOSIGNAL) != 1)
			r = box_err_errno(errno, "box %.12s: exec", b->id);
		if (r < 0) {
			syscall(SYS_pidfd_send_signal, x.pidfd, SIGKILL, NULL, 0);
			waitid((idtype_t)P_PIDFD, (id_t)x.pidfd, &(siginfo_t){ 0 }, WEXITED | __WALL);
			close(TAKE_FD(e->pidfd));
			e->pid = -1;
			goto out;
		}
	}
	/* end of stream: execve worked; a message: the step that failed */
	r = box_msg_recv(sv[0], &m, 0, &e->tty_fd);
	if (r == 1 && m.step == STEP_TTY && m.err == 0)
		r = box_msg_recv(sv[0], &m, 0, NULL);
	if (r != 0) {
		/* a failed step, or no report: the child goes */
		r = r == 1 ? report(cfg, &plan, &m) : box_err_errno(-r, "box_exec: reading the child's report");
		syscall(SYS_pidfd_send_signal, x.pidfd, SIGKILL, NULL, 0);
		waitid((idtype_t)P_PIDFD, (id_t)x.pidfd, &(siginfo_t){ 0 }, WEXITED | __WALL);
		close(TAKE_FD(e->pidfd));
		e->pid = -1;
	}
out:
	release_child(&a, sv);
	box_config_free(cfg);
	return r;
}
