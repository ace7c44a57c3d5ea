/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal declarations shared by the library's files.  Nothing here is
 * exported. */
#ifndef LIBBOX_INTERNAL_H
#define LIBBOX_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "box.h"

/* ---- cleanup helpers (the systemd/crun idea) ---- */
static inline void box_freep(void *p) { free(*(void **)p); }
static inline void box_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_free_ __attribute__((cleanup(box_freep)))
#define _cleanup_close_ __attribute__((cleanup(box_closep)))
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors (util/error.c) ---- */
/* Record a message for box_last_error() and return -err (err > 0). */
int box_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, appending ": strerror(err)". */
int box_err_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear the thread's message (called on entry of public functions that
 * may fail, so a stale message is never mistaken for a new one). */
void box_err_clear(void);

/* ---- strings (util/strv.c) ---- */
char **strv_dup(int n, const char *const *v);
void strv_free(char **v);
size_t strv_len(char *const *v);
/* Split "a,b,c" into a NULL-terminated vector. */
char **strv_split(const char *s, char sep);

/* ---- context ---- */
struct box_ctx {
	char *state_dir;
	char *store_dir;
	char *cgroup_parent;
	box_progress_fn progress;     /* box_ctx_set_progress */
	void *progress_user;
	int storage;                  /* BOX_STORAGE_* */
	char *bridge;         /* network: the bridge's name, default "box0" */
	char *subnet;         /* its IPv4 subnet, default "10.88.0.0/16" */
};

/* ---- config ---- */
/* A file system option: key, or key=value (value NULL for a flag). */
struct box_op_opt {
	const char *key, *value;
};

struct box_mount {
	char *type;           /* "bind" or a file system type */
	char *source;
	char *target;         /* absolute, inside the box */
	struct box_op_opt *fs_opts; /* passed to the file system; strings owned */
	size_t nfs_opts;
	uint64_t attr_set;    /* MOUNT_ATTR_* to set */
	uint64_t attr_clr;    /* MOUNT_ATTR_* to clear */
	uint64_t propagation; /* MS_PRIVATE, MS_SLAVE, ... or 0 */
	bool recursive;       /* bind: rbind (the default) */
};

struct box_idmap {
	uint32_t inside, outside, count;
};

struct box_rlimit {
	int resource;
	uint64_t soft, hard;
};

#define BOX_MAX_IDMAP 340
#define BOX_LIMIT_LAST BOX_LIMIT_IO_WEIGHT

struct box_io_limit {
	unsigned major, minor;
	int kind;                      /* BOX_IO_* */
	uint64_t value;
};

/* The overlay a box made from an image gets as its root, mounted by the
 * child on rootfs (image/rootfs.c prepares it). */
struct box_overlay {
	char **lowers;        /* absolute layer dirs, the top one first */
	size_t nlowers;
	char *upper, *work;
	char *linkdir;        /* short links 0, 1, ... to the lowers, for mount(2) */
	char *data;           /* mount(2) data with those links, run from linkdir */
};

/* One -p as given: count consecutive ports from host_port and box_port. */
struct box_port {
	uint8_t proto;        /* BOX_PROTO_TCP or BOX_PROTO_UDP */
	uint32_t host_ip;     /* network order, 0: every address */
	uint16_t host_port, box_port;
	uint32_t count;
};

struct box_config {
	char **argv;
	char **env;           /* "K=V" strings */
	char *cwd;
	bool cwd_set, user_set; /* for box_exec(): what the caller chose */
	uint32_t uid, gid;
	uint32_t *groups;
	int ngroups;
	char *hostname;
	unsigned int ns;
	struct box_idmap uidmap[BOX_MAX_IDMAP], gidmap[BOX_MAX_IDMAP];
	int nuidmap, ngidmap;
	char *rootfs;
	char *image;          /* box_config_set_image: resolved by box_create */
	char *upper;          /* box_config_set_upper: a kept writable layer, moved in */
	char *user_name;      /* box_config_set_user_name: "user[:group]", looked up in the root */
	const struct box_overlay *overlay; /* box_create: the image's overlay on rootfs */
	bool readonly_root;
	struct box_mount *mounts;
	size_t nmounts;
	struct box_rlimit *rlimits;
	size_t nrlimits;
	uint64_t caps;        /* bit n = capability n kept */
	uint64_t caps_added;  /* added by name: must be grantable, or box_create fails */
	int seccomp_mode;
	char *seccomp_profile;
	char *name;
	char id[65];          /* "" unless set: the box's id, for re-creating a box */
	char **annotations;   /* "key=value" strings, kept in the state */
	bool no_new_privs;
	int stdio[3];
	bool init;
	bool no_pivot;
	bool tty;             /* a pty from the box's devpts as stdio */
	/* cgroups */
	int cgroup_mode;
	int64_t limits[BOX_LIMIT_LAST + 1];
	uint32_t limits_set;           /* bit n: limit n was set */
	char *cpuset_cpus, *cpuset_mems;
	struct box_io_limit *io;
	size_t nio;
	/* from an OCI bundle (oci.c) */
	struct box_oci_extra *oci;     /* NULL: a config made by the builder */
	/* network */
	int net_mode;         /* 0 (the namespaces decide, no /etc files) or BOX_NET_* */
	struct box_port *ports;
	size_t nports;
	uint32_t ip;          /* a static address (network order), 0: leased */
	char **dns;           /* nameservers for resolv.conf; NULL: the host's */
	const char *hosts_file, *resolv_file; /* set by box_create on its copy: binds */
};

struct box_dev_rule;
struct box_oci_device {
	char *path;                    /* absolute, inside the box */
	mode_t mode;                   /* S_IFCHR/S_IFBLK/S_IFIFO | permissions */
	dev_t dev;
	uint32_t uid, gid;
};

/* What only the OCI runtime spec asks for.  Its mounts replace the
 * built-in /proc, /sys, /dev...; its masked and read-only paths replace
 * Docker's. */
struct box_oci_extra {
	char **masked, **readonly;     /* absolute paths */
	struct box_oci_device *devices;
	size_t ndevices;
	struct box_dev_rule *dev_rules; /* linux.resources.devices, after the defaults */
	size_t ndev_rules;
	char **sysctl;                 /* "key=value" */
	char *cgroup_path;             /* linux.cgroupsPath, or NULL */
	char *seccomp_json;            /* linux.seccomp, as text, or NULL */
	unsigned long root_propagation;/* MS_* from linux.rootfsPropagation, or 0 */
	int oom_score_adj;
	bool oom_score_adj_set;
	char *ns_path[8];              /* a namespace to join, by bit of BOX_NS_* */
	unsigned ns_joined;            /* the BOX_NS_* joined rather than made */
	bool start_fifo;               /* the box waits on STATE/boxes/ID/start.fifo */
	bool spec;                     /* from a bundle: its mounts replace the built-in ones */
};
void box_oci_extra_free(struct box_oci_extra *x);

static inline bool cfg_has_limit(const struct box_config *c, int limit)
{
	return c->limits_set & (1u << limit);
}

/* Whether the config asks for anything only a cgroup gives. */
static inline bool cfg_needs_cgroup(const struct box_config *c)
{
	return c->limits_set || c->cpuset_cpus || c->cpuset_mems || c->nio;
}

/* Parse a capability name ("NET_ADMIN", "cap_net_admin"); -1 if unknown. */
int box_cap_from_name(const char *name);
/* The highest capability number the running kernel knows. */
int box_cap_last(void);
/* Docker's default capability set, as a mask. */
uint64_t box_caps_default(void);

/* ---- seccomp (security/seccomp.c) ---- */
struct box_bpf {
	void *filter;   /* struct sock_filter[] */
	unsigned short len;
};
/* Compile the filter the config asks for (none for unconfined), through
 * the cache under state_dir (NULL: no cache). */
int box_seccomp_compile(const struct box_config *cfg, const char *state_dir, struct box_bpf *out);
void box_bpf_free(struct box_bpf *bpf);

/* ---- the child's setup, as data (mount.c) ---- */
enum box_op_kind {
	OP_MOUNT_FS,   /* fsopen+fsmount a file system on target */
	OP_BIND,       /* open_tree(source) on target */
	OP_MKNOD,      /* a device node (bind from the host in a user ns) */
	OP_SYMLINK,    /* target -> source */
	OP_MASK,       /* hide target: /dev/null over a file, ro tmpfs over a dir */
	OP_READONLY,   /* remount target read-only (recursively) */
	OP_MKDIR,      /* create target */
	OP_CGROUP_V1,  /* the box's v1 hierarchies under target (in its cgroup namespace) */
};

struct box_op {
	enum box_op_kind kind;
	const char *fstype;      /* OP_MOUNT_FS */
	const char *source;      /* OP_BIND host path; OP_SYMLINK link text */
	const char *target;      /* inside the root, no leading '/' */
	const struct box_op_opt *opts;
	size_t nopts;
	uint64_t attr_set, attr_clr;
	uint64_t propagation;
	bool recursive;
	bool optional;           /* skip when the target (or source) is absent */
	bool existing;           /* OP_BIND: on the target as it is, never created */
	bool strict;             /* the target's path may hold no symlink (the box's
				    own mounts: the image may not move them) */
	bool fallback_bind;      /* OP_MOUNT_FS: bind the host's path on EPERM */
	mode_t mode;             /* OP_MKNOD, OP_MKDIR */
	dev_t dev;               /* OP_MKNOD */
	const struct box_cgroup *cg; /* OP_CGROUP_V1 */
	int trees[8];            /* OP_CGROUP_V1: the box's v1 cgroup directories, cloned
				    (open_tree) by the parent before the child's mounts
				    could hide them; -1 where none */
};

struct box_plan {
	struct box_op *ops;
	size_t nops, cap;
};

struct box_cgroup;
/* cg: the box's cgroup (NULL: none), for /sys/fs/cgroup in the box. */
int box_plan_build(const struct box_config *cfg, const struct box_cgroup *cg, struct box_plan *plan);
void box_plan_free(struct box_plan *plan);
/* In the parent, before clone: clone what the plan binds from the host's
 * cgroup hierarchies.  box_plan_free() closes them. */
int box_plan_prepare(struct box_plan *plan);
/* Describe op i for an error message, e.g. "mount proc on /proc". */
void box_plan_describe(const struct box_plan *plan, size_t i, const char *rootfs, char *buf,
		       size_t len);
/* In the child: run every op against rootfd.  On failure returns -errno
 * and sets *failed to the op's index. */
int box_plan_run(const struct box_plan *plan, int rootfd, bool in_userns, size_t *failed);

/* ---- fs helpers usable in the child (util/fs.c): no allocation ---- */
/* Read a small file (dirfd: AT_FDCWD or a directory) into buf, NUL-
 * terminated: the bytes read, or -errno. */
int box_read_small(int dirfd, const char *path, char *buf, size_t len);
/* Write text as a small file: created (O_EXCL with excl, else replaced in
 * place) with mode; a file left half-written is removed.  0 or -errno. */
int box_write_small(int dirfd, const char *path, const char *text, bool excl, mode_t mode);
/* Open path (relative or absolute, taken as inside root) with O_PATH,
 * resolving symlinks as if root were "/". */
int box_open_in_root(int rootfd, const char *path, int flags, bool strict);
/* Create the directories of path inside root (like mkdir -p) and return
 * an O_PATH fd of the last one. */
int box_mkdir_in_root(int rootfd, const char *path, mode_t mode, bool strict);
/* Ensure a regular file exists at path inside root (creating parents);
 * return an O_PATH fd of it. */
int box_mkfile_in_root(int rootfd, const char *path, mode_t mode, bool strict);

/* ---- networking (net/) ---- */
struct box_net;
struct box;
/* Before clone: lease, ports, bridge, table, the record, /etc files (sets
 * cfg->hosts_file, resolv_file and b->net). */
int box_net_prepare(struct box *b, struct box_config *cfg);
/* The child waits in its namespaces: veth, eth0, port maps. */
int box_net_attach(struct box *b);
/* Free what the box holds (n NULL: from its net.json). */
int box_net_release(const box_ctx *ctx, const char *id, struct box_net *n);
struct box_net *box_net_load(const box_ctx *ctx, const char *id);
void box_net_free(struct box_net *n);
int box_parse_cidr(const char *s, uint32_t *net, int *prefix);
/* Its address as text into ip (16 bytes), "" when none. */
void box_net_ip(const struct box_net *n, char ip[16]);
#ifdef JANSSON_H
/* The box's net.json, or NULL. */
json_t *box_net_json(const box_ctx *ctx, const char *id);
#endif

/* ---- rtnetlink (net/link.c) ---- */
/* Bring the loopback interface of the caller's net namespace up.  Uses no
 * heap, so it can run in the child. */
int box_link_lo_up(void);

/* ---- spawn (spawn.c) and the child protocol ---- */
enum box_step {
	STEP_NONE = 0,
	STEP_USERNS_WAIT,
	STEP_CGROUPNS,
	STEP_CGROUP_JOIN,
	STEP_SETNS,
	STEP_TTY,           /* not an error when it carries the pty's master */
	STEP_STDIO,
	STEP_SETSID,
	STEP_LO_UP,
	STEP_PROPAGATION,
	STEP_ROOT_BIND,
	STEP_OVERLAY,
	STEP_ROOT_OPEN,
	STEP_PLAN,          /* detail: the op index */
	STEP_PIVOT_ROOT,
	STEP_CHROOT,
	STEP_READONLY_ROOT,
	STEP_HOSTNAME,
	STEP_RLIMIT,        /* detail: the rlimit index */
	STEP_SYSCTL,        /* detail: the sysctl index */
	STEP_JOIN_NS,       /* detail: the BOX_NS_* bit */
	STEP_ROOT_PROPAGATION,
	STEP_SECCOMP,
	STEP_BOUNDING,
	STEP_KEEPCAPS,
	STEP_SETGROUPS,
	STEP_SETGID,
	STEP_SETUID,
	STEP_CAPS,
	STEP_AMBIENT,
	STEP_NO_NEW_PRIVS,
	STEP_CHDIR,
	STEP_CWD_CHECK,
	STEP_LOOKUP,
	STEP_WAIT_START,
	STEP_INIT_FORK,
	STEP_CLOSE_FDS,
	STEP_EXEC,
	STEP_READY,         /* not an error: setup is done */
	STEP_STARTED,       /* not an error: the command runs */
	STEP_EXITED,        /* not an error: the init's report of the status */
};

/* One message from the child to the parent (SOCK_SEQPACKET). */
struct box_msg {
	int32_t step;
	int32_t err;      /* errno, 0 for the non-error steps */
	int64_t detail;   /* an index, or a wait status for STEP_EXITED */
};

/* What the child needs, all prepared by the parent before clone3. */
struct box_child_args {
	const struct box_config *cfg;
	const struct box_plan *plan;
	struct box_bpf bpf;
	void *caps;           /* cap_t with the final sets */
	char **envp;          /* the final environment */
	int sync_fd;          /* child's end of the socket pair */
	int parent_fd;        /* the parent's end: closed first thing in the child */
	int lock_fd;          /* the box's state lock, likewise (flock follows the
				 open file, which the child would keep alive) */
	bool wait_parent;     /* wait for a byte: id maps written, cgroups joined */
	int join_fds[8];      /* v1: <box cgroup>/tasks per hierarchy, to write "0" to */
	int njoin;
	bool unshare_cgroupns;/* unshare the cgroup namespace once in the cgroup */
	int stdio[3];         /* already opened in the parent */
	int last_cap;
	int start_fd;         /* start.fifo opened read-write, or -1: wait on sync_fd */
	int ns_fds[8];        /* namespaces to join (setns), first thing */
	int nns;
};

struct box_cgroup;
struct box {
	box_ctx *ctx;
	struct box_cgroup *cg;        /* NULL: no cgroup */
	bool oom;
	char id[65];
	char *name;
	pid_t pid;
	uint64_t pid_start;   /* its start time, to tell it from a reused pid */
	int pidfd;
	int tty_fd;           /* the pty's master (box_config_set_tty), or -1 */
	int sync_fd;          /* parent's end; -1 for a box opened by box_open() */
	int lockfd;           /* the box's lock, held while box_create() runs */
	void *pending;        /* json_t: the state box_create() writes once it has the pid */
	bool started, waited, init;
	uint64_t caps;        /* the capabilities it really got (for box_exec) */
	bool opened;          /* not our child: made by another process */
	bool exec;            /* a process box_exec() started in a box */
	bool owner_alive;     /* opened: the process that records its exit lives */
	bool start_fifo;      /* waits on STATE/boxes/ID/start.fifo (box_config_set_start_fifo) */
	struct box_net *net;  /* its network (bridge: address, veth, ports), or NULL */
	char ip[16];          /* its address on the bridge, or "" */
	int exit_code, signal;
};

/* ---- state on disk (state.c) ---- */
int box_state_create(struct box *b, const struct box_config *cfg, const char *rootfs);
int box_state_update(struct box *b, const char *what); /* "pid", "started", "exit" */
int box_state_remove(const box_ctx *ctx, const char *id, const char *name);
int box_state_resolve(const box_ctx *ctx, const char *what, char id[65]);
int box_state_load(struct box *b);
char *box_state_json(struct box *b, const char *status);
int box_state_list(const box_ctx *ctx, int (*cb)(const char *id, void *user), void *user);
int box_state_lock(const box_ctx *ctx, const char *id);
int box_state_remove_stillborn(const box_ctx *ctx, const char *id, int lockfd);
/* The box's process settings (env, cwd, user, caps, seccomp, nnp,
 * namespaces) into cfg, for box_exec(). */
int box_state_process(struct box *b, struct box_config *cfg);
int box_state_rename(struct box *b, const char *name);
/* Start proc in the running box b; fills e. */
int box_spawn_exec(struct box *b, const struct box_config *proc, struct box *e);
bool box_name_valid(const char *name);
uint64_t box_proc_start_time(pid_t pid);
void box_time_now(char out[40]);

/* Spawn the child and run its setup; on success fills b->pid, b->pidfd,
 * b->sync_fd with the child stopped before exec. */
int box_spawn(struct box *b, const struct box_config *cfg);
/* mkdir -p for the library's own directories (state, store). */
int box_mkdir_p(const char *path, mode_t mode);
/* Name of a step, for messages. */
const char *box_step_name(int step);

/* ---- images (image/rootfs.c): a box's root from an image ---- */
/* Resolve cfg->image in ctx's store into local (a shallow copy of cfg
 * whose argv, env, cwd, user, rootfs and overlay it replaces with what
 * the image says where the caller did not), and make the box's directory
 * in the store: STORE/boxes/ID.  *dir gets its path, for the state. */
int box_image_root(box_ctx *ctx, const struct box_config *cfg, const char *id,
		   struct box_config *local, char **dir, const char **storage, char **image_id);
/* "user[:group]" (names or numbers) to ids, from etc/passwd and etc/group
 * of the top-most of dirs (the layers, the top one first; or one root)
 * that has them.  0 or -ENOENT (said). */
int box_user_lookup(const char *user, char **dirs, size_t n, uint32_t *uid, uint32_t *gid);
/* Free what box_image_root() put in local. */
void box_image_root_free(struct box_config *local, const struct box_config *cfg);
/* Remove a box's directory of the store (its writable layer). */
int box_image_release(const char *dir);
/* box_create failed after box_image_root: a writable layer cfg gave
 * (box_config_set_upper) goes back where it was, then the directory goes. */
void box_image_abandon(const char *dir, const struct box_config *cfg);
/* Mount the overlay on target (in the child: no allocation). */
int box_overlay_mount(const struct box_overlay *o, const char *target);

/* ---- the built-in init (init.c), runs in the child after start ---- */
_Noreturn void box_init_main(const struct box_child_args *a, const char *path);

/* Send one message (child side; no allocation). */
void box_msg_send(int fd, int step, int err, int64_t detail);
/* Receive one message: 1, 0 at end of stream, or -errno.  An fd passed
 * with it (the pty's master) goes to *passed (-1 if none; NULL: closed). */
int box_msg_recv(int fd, struct box_msg *m, int flags, int *passed);

#endif
