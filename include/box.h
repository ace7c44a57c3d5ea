/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * box.h - the public interface of libbox, an embeddable Linux container
 * library.  This is the only header libbox installs.
 *
 * Conventions, for every function below:
 *  - Functions returning int return 0 on success or a negative errno value
 *    (-EINVAL, -ENOENT, ...) on failure.  box_last_error() then gives a
 *    human message for the calling thread naming the object and the
 *    operation that failed, e.g.
 *    "mount proc on /var/lib/box/rootfs/proc: Permission denied".
 *  - All types are opaque; objects are created and freed by the library.
 *  - Strings passed in are copied; the caller keeps ownership of them.
 *  - Strings returned are owned by the object they come from and live as
 *    long as it does, unless said otherwise.
 *  - Nothing in the library prints, exits or aborts.
 */
#ifndef LIBBOX_BOX_H
#define LIBBOX_BOX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define BOX_EXPORT __attribute__((visibility("default")))
#else
#define BOX_EXPORT
#endif

typedef struct box_ctx box_ctx;
typedef struct box_config box_config;
typedef struct box box;

/* ---------------------------------------------------------------------
 * Library information and errors
 * ------------------------------------------------------------------- */

/* The library's version, e.g. "0.1.0".  Never NULL. */
BOX_EXPORT const char *box_version(void);

/* A message describing the last failure of a libbox call in this thread.
 * Valid until the next libbox call in the same thread.  Never NULL (an
 * empty string when nothing has failed). */
BOX_EXPORT const char *box_last_error(void);

/* A static description of the error code err (negative or positive
 * errno).  Never NULL. */
BOX_EXPORT const char *box_strerror(int err);

/* ---------------------------------------------------------------------
 * Context: where images and running state live
 * ------------------------------------------------------------------- */

/* Create a context with the default directories: state in /run/libbox,
 * store in /var/lib/libbox (for a caller that is not root:
 * $XDG_RUNTIME_DIR/libbox and $XDG_DATA_HOME/libbox or
 * ~/.local/share/libbox, as podman does).  Directories are created when
 * first needed.
 * *out receives the new context; free it with box_ctx_free().
 * Returns 0, -EINVAL (out is NULL) or -ENOMEM. */
BOX_EXPORT int box_ctx_new(box_ctx **out);

/* Free a context.  NULL is accepted.  Boxes created from the context
 * must be destroyed first. */
BOX_EXPORT void box_ctx_free(box_ctx *ctx);

/* Set the directory for running state (absolute path).
 * Returns 0, -EINVAL (NULL, empty or relative path) or -ENOMEM. */
BOX_EXPORT int box_ctx_set_state_dir(box_ctx *ctx, const char *dir);

/* Set the directory for images and layers (absolute path).
 * Returns 0, -EINVAL or -ENOMEM. */
BOX_EXPORT int box_ctx_set_store_dir(box_ctx *ctx, const char *dir);

/* The state and store directories of ctx.  NULL if ctx is NULL. */
BOX_EXPORT const char *box_ctx_state_dir(const box_ctx *ctx);
BOX_EXPORT const char *box_ctx_store_dir(const box_ctx *ctx);

/* The cgroup under which every box of ctx gets its own, default "/libbox".
 * An absolute path is taken from the root of each cgroup hierarchy; a
 * relative one from the caller's own cgroup (for a delegated subtree).
 * Directories of the path that do not exist are created (and, on cgroup
 * v2, the controllers enabled in them and in the parent itself, which is
 * libbox's); other existing directories are never changed.
 * Returns 0, -EINVAL (NULL, empty, or a ".." component) or -ENOMEM. */
BOX_EXPORT int box_ctx_set_cgroup_parent(box_ctx *ctx, const char *path);
BOX_EXPORT const char *box_ctx_cgroup_parent(const box_ctx *ctx);

/* ---------------------------------------------------------------------
 * Config: what to run and how
 * ------------------------------------------------------------------- */

/* Namespace flags for box_config_set_namespaces(). */
#define BOX_NS_MOUNT   0x01u
#define BOX_NS_UTS     0x02u
#define BOX_NS_IPC     0x04u
#define BOX_NS_PID     0x08u
#define BOX_NS_NET     0x10u
#define BOX_NS_USER    0x20u
#define BOX_NS_CGROUP  0x40u
#define BOX_NS_TIME    0x80u
/* What a new config starts with, as Docker does: all but user and time. */
#define BOX_NS_DEFAULT (BOX_NS_MOUNT | BOX_NS_UTS | BOX_NS_IPC | BOX_NS_PID | \
                        BOX_NS_NET | BOX_NS_CGROUP)
#define BOX_NS_ALL     0xffu

/* Kinds of id maps for box_config_add_id_map(). */
#define BOX_MAP_UID 0
#define BOX_MAP_GID 1

/* Seccomp modes for box_config_set_seccomp(). */
#define BOX_SECCOMP_DEFAULT    0 /* the built-in profile, like Docker's */
#define BOX_SECCOMP_UNCONFINED 1 /* no filter */
#define BOX_SECCOMP_PROFILE    2 /* a Docker/OCI JSON profile file */

/* Create an empty config with the defaults: namespaces BOX_NS_DEFAULT,
 * uid/gid 0, cwd "/", Docker's default capabilities, the default seccomp
 * profile, no_new_privs on, the built-in init off, stdio inherited from
 * the caller (fds 0, 1, 2).  Free it with box_config_free().
 * Returns 0, -EINVAL or -ENOMEM. */
BOX_EXPORT int box_config_new(box_config **out);

/* Free a config.  NULL is accepted.  A config may be freed as soon as
 * box_create() has returned. */
BOX_EXPORT void box_config_free(box_config *cfg);

/* The command: argc strings, argv[0] is looked up in the box's PATH when
 * it has no slash.  Returns 0, -EINVAL (argc < 1, a NULL or, for argv[0],
 * empty string) or -ENOMEM. */
BOX_EXPORT int box_config_set_argv(box_config *cfg, int argc, const char *const *argv);

/* Set (value non-NULL) or remove (value NULL) one environment variable.
 * PATH defaults to the usual system path, HOME to /root (uid 0) or /, and
 * HOSTNAME to the box's host name, when the config does not set them.  Returns 0, -EINVAL (name NULL,
 * empty or containing '=') or -ENOMEM. */
BOX_EXPORT int box_config_set_env(box_config *cfg, const char *name, const char *value);

/* Working directory inside the box (absolute; created if missing when the
 * box has a root filesystem).  Returns 0, -EINVAL, -ENAMETOOLONG or
 * -ENOMEM. */
BOX_EXPORT int box_config_set_cwd(box_config *cfg, const char *path);

/* User and group the command runs as (numeric ids inside the box).
 * Returns 0 or -EINVAL ((uint32_t)-1, which is no id). */
BOX_EXPORT int box_config_set_user(box_config *cfg, uint32_t uid, uint32_t gid);
/* The user as docker's -u takes it, "USER[:GROUP]", names or numbers,
 * looked up in the box's own /etc/passwd and /etc/group when the box is
 * made (box_create: its root directory, or its image's layers; box_exec:
 * the running box's root).  A number without a group takes the user's
 * group from /etc/passwd, else 0.  Replaces box_config_set_user() and is
 * replaced by it.  Returns 0 or -EINVAL; a name the box does not know
 * makes box_create()/box_exec() fail with -ENOENT.  (Since 1.1.) */
BOX_EXPORT int box_config_set_user_name(box_config *cfg, const char *user);

/* Supplementary groups (n ids; n = 0 clears them).
 * Returns 0, -EINVAL (n < 0, or gids NULL with n > 0, or n > 65536) or
 * -ENOMEM. */
BOX_EXPORT int box_config_set_groups(box_config *cfg, int n, const uint32_t *gids);

/* Host name inside the box (needs BOX_NS_UTS).  Returns 0, -EINVAL (NULL,
 * empty or longer than 64 bytes) or -ENOMEM. */
BOX_EXPORT int box_config_set_hostname(box_config *cfg, const char *name);

/* The namespaces to create, a mask of BOX_NS_* flags.
 * Returns 0 or -EINVAL (an unknown bit). */
BOX_EXPORT int box_config_set_namespaces(box_config *cfg, unsigned int flags);

/* Add one line of a uid (kind BOX_MAP_UID) or gid (BOX_MAP_GID) map for
 * a user namespace: ids inside..inside+count-1 are outside..outside+count-1
 * on the host.  Without any line, a user namespace maps 0 inside to the
 * caller's effective uid/gid, one id.  At most 340 lines per kind.
 * Returns 0, -EINVAL (bad kind, count 0, overflow) or -E2BIG. */
BOX_EXPORT int box_config_add_id_map(box_config *cfg, int kind, uint32_t inside,
                                     uint32_t outside, uint32_t count);

/* The root filesystem: a directory on the host.  Returns 0, -EINVAL (NULL
 * or empty) or -ENOMEM; whether it exists is checked by box_create(). */
BOX_EXPORT int box_config_set_rootfs(box_config *cfg, const char *dir);

/* Make the root filesystem read-only (on != 0). */
BOX_EXPORT int box_config_set_readonly_root(box_config *cfg, int on);

/* Add a mount, done after the default ones (/proc, /sys, /dev...) in the
 * order added.  type: "bind" (source is a host path, mounted recursively)
 * or a file system type ("tmpfs", "proc", "mqueue", ...).  target: an
 * absolute path inside the box, resolved inside the root (symlinks never
 * lead out of it) and created when missing.  options: NULL or a comma
 * list: ro, rw, nosuid, suid, nodev, dev, noexec, exec, relatime,
 * norelatime, strictatime, noatime, nodiratime, diratime, bind, rbind,
 * norbind (these three matter for binds only), private, rprivate, slave,
 * rslave, shared, rshared, unbindable, runbindable, and for file systems
 * other keys (size=64m, mode=1777...) passed to the file system.
 * An unknown file system type is found by box_create() (-ENODEV).
 * Returns 0, -EINVAL (empty type, relative target or bind source, unknown
 * option for a bind), -ENAMETOOLONG or -ENOMEM. */
BOX_EXPORT int box_config_add_mount(box_config *cfg, const char *type, const char *source,
                                    const char *target, const char *options);

/* Set a resource limit: resource is a name such as "nofile",
 * "RLIMIT_NOFILE" or "nproc"; UINT64_MAX means unlimited.
 * Returns 0, -EINVAL (unknown name, soft > hard) or -ENOMEM. */
BOX_EXPORT int box_config_set_rlimit(box_config *cfg, const char *resource, uint64_t soft,
                                     uint64_t hard);

/* Add or drop a capability by name ("NET_ADMIN", "CAP_NET_ADMIN", any
 * case) or "ALL" (all that the caller has).  A capability added by name
 * that the caller's bounding set lacks makes box_create() fail with
 * -EPERM.  Returns 0 or -EINVAL (unknown name). */
BOX_EXPORT int box_config_add_cap(box_config *cfg, const char *name);
BOX_EXPORT int box_config_drop_cap(box_config *cfg, const char *name);

/* Seccomp: BOX_SECCOMP_DEFAULT, BOX_SECCOMP_UNCONFINED, or
 * BOX_SECCOMP_PROFILE with profile the path of a JSON profile in Docker's
 * or the OCI runtime spec's form (read and checked by box_create()).
 * Returns 0, -EINVAL or -ENOMEM. */
BOX_EXPORT int box_config_set_seccomp(box_config *cfg, int mode, const char *profile);

/* no_new_privs for the command (on by default). */
BOX_EXPORT int box_config_set_no_new_privs(box_config *cfg, int on);

/* The fds that become the command's stdin, stdout and stderr; -1 means
 * /dev/null.  They are duplicated at box_create(); the caller keeps its
 * own.  Returns 0 or -EINVAL (an fd < -1). */
BOX_EXPORT int box_config_set_stdio(box_config *cfg, int in_fd, int out_fd, int err_fd);

/* Run a tiny built-in init as pid 1 that starts the command, forwards
 * signals to it and reaps orphans (like docker run --init).  Off by
 * default; needs BOX_NS_PID. */
BOX_EXPORT int box_config_set_init(box_config *cfg, int on);

/* Give the command a terminal (on != 0): a pty made in the box's own
 * /dev/pts (without a root filesystem: the host's), as its stdin, stdout,
 * stderr and controlling terminal; the
 * master is box_tty_fd() (box_exec(): of the exec'd process's handle).
 * The config's stdio fds are then not used. */
BOX_EXPORT int box_config_set_tty(box_config *cfg, int on);

/* Use chroot instead of pivot_root (on != 0).  Without it, pivot_root is
 * tried first and chroot used only where pivot_root cannot work (a root
 * on ramfs). */
BOX_EXPORT int box_config_set_no_pivot(box_config *cfg, int on);

/* ---------------------------------------------------------------------
 * Config: resource limits (cgroups v1 and v2)
 * ------------------------------------------------------------------- */

/* Cgroup modes for box_config_set_cgroup(). */
#define BOX_CGROUP_AUTO 0 /* a cgroup if the host gives one; required when a
			     limit is set (the default) */
#define BOX_CGROUP_ON   1 /* a cgroup, or box_create() fails */
#define BOX_CGROUP_OFF  2 /* none: the box stays in its creator's cgroups */

/* Limits for box_config_set_limit().  -1 means "no limit" where it says. */
#define BOX_LIMIT_MEMORY             1 /* bytes (v2 memory.max, v1 memory.limit_in_bytes); -1 */
#define BOX_LIMIT_MEMORY_SWAP        2 /* bytes of memory plus swap, as docker's
					  --memory-swap (v2 memory.swap.max gets the
					  difference); -1 */
#define BOX_LIMIT_MEMORY_RESERVATION 3 /* bytes (v2 memory.low, v1 soft limit); -1 */
#define BOX_LIMIT_CPU_QUOTA          4 /* microseconds per period (--cpus 0.5 is
					  50000 of 100000); -1 */
#define BOX_LIMIT_CPU_PERIOD         5 /* microseconds, 1000..1000000 (default 100000) */
#define BOX_LIMIT_CPU_SHARES         6 /* v1 shares 2..262144 (v2: turned into a weight) */
#define BOX_LIMIT_CPU_WEIGHT         7 /* v2 weight 1..10000 (v1: turned into shares) */
#define BOX_LIMIT_PIDS               8 /* tasks; -1 */
#define BOX_LIMIT_IO_WEIGHT          9 /* 1..10000 (v1 blkio.weight 10..1000, scaled) */

/* Set one limit.  Returns 0 or -EINVAL (unknown limit, value out of range). */
BOX_EXPORT int box_config_set_limit(box_config *cfg, int limit, int64_t value);

/* The CPUs and memory nodes the box may use, in the kernel's list form
 * ("0-2,4"); NULL leaves one as it is.  Returns 0, -EINVAL or -ENOMEM. */
BOX_EXPORT int box_config_set_cpuset(box_config *cfg, const char *cpus, const char *mems);

/* Kinds of io limits for box_config_add_io_limit(). */
#define BOX_IO_READ_BPS   0
#define BOX_IO_WRITE_BPS  1
#define BOX_IO_READ_IOPS  2
#define BOX_IO_WRITE_IOPS 3

/* Limit the box's io on one block device: device is its path ("/dev/vda")
 * or "MAJOR:MINOR".  Returns 0, -EINVAL (bad kind or value), -ENOTBLK (not
 * a block device), the errno of stat(2) on device (-ENOENT...) or -ENOMEM. */
BOX_EXPORT int box_config_add_io_limit(box_config *cfg, const char *device, int kind,
				       uint64_t value);

/* BOX_CGROUP_AUTO, _ON or _OFF.  Without a cgroup there is no device
 * controller either, so the box then loses CAP_MKNOD (unless it is in a
 * user namespace, where mknod is refused anyway).  Returns 0 or -EINVAL. */
BOX_EXPORT int box_config_set_cgroup(box_config *cfg, int mode);

/* ---------------------------------------------------------------------
 * Networking: modes, addresses, port maps
 * ------------------------------------------------------------------- */

/* Network modes for box_config_set_network().  A config that never calls
 * it keeps what its namespaces say: with BOX_NS_NET a namespace with lo
 * only (and no /etc/hosts nor /etc/resolv.conf of its own). */
#define BOX_NET_NONE   1 /* its own namespace, lo only (up) */
#define BOX_NET_HOST   2 /* the caller's network namespace */
#define BOX_NET_BRIDGE 3 /* its own namespace with eth0 on the context's
			    bridge, an address leased from its subnet, the
			    default route via the gateway, NAT to the outside */

/* Protocols for box_config_add_port(). */
#define BOX_PROTO_TCP 6
#define BOX_PROTO_UDP 17

/* The network mode (BOX_NET_*).  NONE and BRIDGE add BOX_NS_NET to the
 * namespaces, HOST removes it.  With any mode the box gets /etc/hosts
 * (localhost, its host name and address) and /etc/resolv.conf (the
 * host's, without loopback resolvers, or the servers of
 * box_config_add_dns()) bound from files in its state directory, where
 * its root has those files (the image is never changed).
 * Returns 0 or -EINVAL (unknown mode). */
BOX_EXPORT int box_config_set_network(box_config *cfg, int mode);

/* Map count host ports host_port.. to box ports box_port.. (count 1 for
 * one port; a range 8000-8010:8000-8010 is count 11) for proto
 * (BOX_PROTO_TCP or _UDP).  host_ip: NULL or "" or "0.0.0.0" for every
 * address of the host (127.0.0.1 included), or one IPv4 address.  Needs
 * BOX_NET_BRIDGE.  box_create() refuses a host port that another box maps
 * or a socket of the host listens on (-EADDRINUSE, naming the port and
 * its owner).  Returns 0, -EINVAL (port 0, a range past 65535, a bad
 * address, unknown proto) or -ENOMEM. */
BOX_EXPORT int box_config_add_port(box_config *cfg, int proto, const char *host_ip,
				   uint16_t host_port, uint16_t box_port, uint16_t count);

/* A static address in the bridge's subnet instead of a leased one (NULL:
 * leased).  box_create() fails with -EADDRINUSE when another box holds it,
 * -EINVAL when it is not a host address of the subnet.
 * Returns 0 or -EINVAL (not an IPv4 address). */
BOX_EXPORT int box_config_set_ip(box_config *cfg, const char *ip);

/* Add a nameserver (an IPv4 or IPv6 address) for the box's resolv.conf,
 * which then holds only these.  Returns 0, -EINVAL or -ENOMEM. */
BOX_EXPORT int box_config_add_dns(box_config *cfg, const char *server);

/* The bridge of BOX_NET_BRIDGE boxes (default "box0", made on first use)
 * and its subnet (default "10.88.0.0/16"; the gateway, on the bridge, is
 * its first address).  Returns 0, -EINVAL (an interface name longer than
 * 15 bytes or with '/', ' ' or ':'; a subnet that is not a.b.c.d/8..30
 * without host bits) or -ENOMEM. */
BOX_EXPORT int box_ctx_set_bridge(box_ctx *ctx, const char *name);
BOX_EXPORT int box_ctx_set_subnet(box_ctx *ctx, const char *cidr);
BOX_EXPORT const char *box_ctx_bridge(const box_ctx *ctx);
BOX_EXPORT const char *box_ctx_subnet(const box_ctx *ctx);

/* The box's address on its bridge ("10.88.0.2"), owned by the box, or
 * NULL (not a bridge box). */
BOX_EXPORT const char *box_ip(const box *b);

/* The networks of ctx's state directory as JSON (free it with
 * box_string_free()): bridge NULL gives an array of all of them, else the
 * one object: name, subnet, gateway, exists (the bridge link is there),
 * leases (address: box id), ports (proto-port, host_ip, box id).
 * NULL on failure (-ENOENT: no such network; box_last_error()). */
BOX_EXPORT char *box_network_inspect(box_ctx *ctx, const char *bridge);

/* ---------------------------------------------------------------------
 * Boxes: lifecycle
 * ------------------------------------------------------------------- */

/* Create a box from cfg: spawn its first process in new namespaces and
 * set up its root, mounts and security, stopping just before the command
 * runs.  A failing step is reported with its name and the file involved,
 * and leaves nothing behind.  *out receives the box; release it with
 * box_destroy().  The config may be freed afterwards.
 * Returns 0 or a negative errno (-EINVAL, -ENOENT, -EPERM, ...). */
BOX_EXPORT int box_create(box_ctx *ctx, const box_config *cfg, box **out);

/* Let the created box run its command.  Returns 0 once the command has
 * been executed, or a negative errno (e.g. -ENOENT, -EACCES from execve;
 * the box has then exited) or -EALREADY when already started. */
BOX_EXPORT int box_start(box *b);

/* Wait for the box's first process to end.  *exit_code receives its exit
 * code (0-255) or -1 when it was killed; *signal receives the killing
 * signal or 0.  Either pointer may be NULL.  Waiting again returns the
 * same result.  Returns 0, -EINVAL or a negative errno. */
BOX_EXPORT int box_wait(box *b, int *exit_code, int *signal);

/* Send a signal to the box's first process (with the built-in init, it
 * forwards the signal to the command).  Returns 0, -EINVAL, -ESRCH (the
 * box has exited) or another negative errno. */
BOX_EXPORT int box_kill(box *b, int signal);

/* Kill the box if it still runs, release everything it holds, and free
 * the handle.  NULL is accepted.  Returns 0 or a negative errno (the
 * handle is freed in every case). */
BOX_EXPORT int box_destroy(box *b);

/* The host pid of the box's first process, or -1 (b NULL or reaped). */
BOX_EXPORT int box_pid(const box *b);

/* A pidfd for the box's first process, owned by the box (do not close
 * it), or -1.  It becomes readable when the process exits. */
BOX_EXPORT int box_pidfd(const box *b);

/* The master of the box's terminal (box_config_set_tty), owned by the box
 * (do not close it): read the command's output from it, write its input,
 * set its size with TIOCSWINSZ.  -1 without a terminal. */
BOX_EXPORT int box_tty_fd(const box *b);

/* The box's id: 64 hexadecimal characters.  NULL if b is NULL. */
BOX_EXPORT const char *box_id(const box *b);

/* Change the limits of a running box: those that cfg sets (only limits
 * are read from cfg).  Returns 0, -ENOTSUP (the box has no cgroup), or
 * the error of the first limit the kernel refused. */
BOX_EXPORT int box_update_limits(box *b, const box_config *cfg);

/* Statistics for box_stats(), indexes into its array. */
#define BOX_STAT_MEMORY_CURRENT 0 /* bytes */
#define BOX_STAT_MEMORY_PEAK    1 /* bytes */
#define BOX_STAT_CPU_USER       2 /* microseconds */
#define BOX_STAT_CPU_SYSTEM     3 /* microseconds */
#define BOX_STAT_PIDS_CURRENT   4
#define BOX_STAT_IO_READ_BYTES  5
#define BOX_STAT_IO_WRITE_BYTES 6
#define BOX_STAT_MEMORY_LIMIT   7 /* bytes; UINT64_MAX: none */
#define BOX_STAT_COUNT          8 /* grows in later versions */

/* Read the box's statistics into values[0..n-1] (n may be smaller or
 * larger than BOX_STAT_COUNT); a value the host does not give is
 * UINT64_MAX.  Returns the number of values filled, -EINVAL or -ENOTSUP
 * (no cgroup). */
BOX_EXPORT int box_stats(box *b, uint64_t *values, int n);

/* Freeze and thaw every process of the box.  Returns 0, -ENOTSUP (no
 * cgroup), -ETIMEDOUT (the kernel did not finish freezing in 5 s). */
BOX_EXPORT int box_pause(box *b);
BOX_EXPORT int box_resume(box *b);

/* Send sig to every process of the box (its cgroup).  SIGKILL uses
 * cgroup.kill where the kernel has it.  Returns 0, -EINVAL or -ENOTSUP. */
BOX_EXPORT int box_kill_all(box *b, int sig);

/* After box_wait(): 1 if the kernel's OOM killer killed a process of the
 * box (its memory limit was hit), else 0.  -EINVAL if b is NULL. */
BOX_EXPORT int box_oom_killed(const box *b);

/* The box's cgroup, relative to the hierarchy roots ("/libbox/<id>"),
 * or NULL when it has none. */
BOX_EXPORT const char *box_cgroup(const box *b);

/* ---------------------------------------------------------------------
 * Boxes on disk: names, opening, listing, status
 * ------------------------------------------------------------------- */

/* Box states for box_status(). */
#define BOX_STATUS_CREATED 1 /* made, not started */
#define BOX_STATUS_RUNNING 2
#define BOX_STATUS_PAUSED  3
#define BOX_STATUS_EXITED  4
#define BOX_STATUS_UNKNOWN 5 /* gone, and nobody recorded how (its creator died) */

/* Every box has a name, unique in its context's state directory; without
 * one a name is made up (adjective_scientist).  Returns 0 or -EINVAL (not
 * [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 characters).  A name in use
 * makes box_create() fail with -EEXIST. */
BOX_EXPORT int box_config_set_name(box_config *cfg, const char *name);

/* The box's id (64 lowercase hex digits) instead of a random one: to make
 * a box again under the id it had (boxctl start, restart policies), after
 * the old one was destroyed.  NULL: a random id again.  Returns 0 or
 * -EINVAL; a box with that id in the state directory makes box_create()
 * fail with -EEXIST.  (Since 1.1.) */
BOX_EXPORT int box_config_set_id(box_config *cfg, const char *id);

/* Run another process in the running box b (docker exec): in all its
 * namespaces (entered through its pidfd), its cgroup and its root, with
 * its capabilities, no_new_privs and seccomp filter, its environment (plus
 * proc's variables), and proc's argv, stdio, and, where proc sets them,
 * working directory and user.  *out is a handle on that process:
 * box_wait(), box_kill(), box_pidfd() and box_destroy() (which ends that
 * process only) work on it.  Returns 0, -ESRCH (not running), -EAGAIN
 * (paused), -ENOENT (command not found) or the errno of the failing step,
 * named in the message. */
BOX_EXPORT int box_exec(box *b, const box_config *proc, box **out);

/* Set (value non-NULL) or remove (value NULL) an annotation: a key and a
 * value kept with the box's state and shown by box_inspect(), for the
 * embedder's own use (boxctl marks its detached boxes there).  Returns 0,
 * -EINVAL (an empty key, one with '=', or longer than 255) or -ENOMEM. */
BOX_EXPORT int box_config_set_annotation(box_config *cfg, const char *key, const char *value);

/* Give the box another name (the old one is freed).  Returns 0, -EINVAL
 * or -EEXIST (the name is in use). */
BOX_EXPORT int box_rename(box *b, const char *name);

/* The host pids of the box's processes (from its cgroup; without one,
 * only its first process): up to max into pids.  Returns how many there
 * are (which may be more than max), or -errno. */
BOX_EXPORT int box_pids(box *b, int *pids, int max);

/* The box's name.  NULL if b is NULL. */
BOX_EXPORT const char *box_name(const box *b);

/* A handle on an existing box, made by this or another process, from its
 * name, its id, or a unique prefix of its id (docker's 12 characters).
 * box_kill(), box_kill_all(), box_stats(), box_pause(), box_resume(),
 * box_update_limits(), box_wait() (which then waits for the box to go and
 * reads the exit its creator recorded), box_inspect() and box_destroy()
 * work on it; box_start() is its creator's.  Release it with box_close()
 * (the box goes on) or box_destroy() (the box is killed and removed).
 * Returns 0, -ENOENT (no such box), -EINVAL (an ambiguous prefix). */
BOX_EXPORT int box_open(box_ctx *ctx, const char *name_or_id, box **out);

/* Free a handle and leave the box as it is.  NULL is accepted. */
BOX_EXPORT void box_close(box *b);

/* The box's state now, from facts (its process, its cgroup's freezer,
 * the exit recorded): one of BOX_STATUS_*, or -EINVAL. */
BOX_EXPORT int box_status(box *b);

/* "created", "running", "paused", "exited", "unknown" or "invalid". */
BOX_EXPORT const char *box_status_name(int status);

/* The box as JSON (id, name, created, owner, process, namespaces, rootfs,
 * hostname, annotations, cgroup, cgroup_dirs, pid, pid_start, started,
 * exit, status), to free with box_string_free(); NULL on failure. */
BOX_EXPORT char *box_inspect(box *b);
BOX_EXPORT void box_string_free(char *s);

/* Call fn with the id of every box of ctx (any state); fn returns 0 to go
 * on, anything else to stop (then returned).  Returns 0 or -errno. */
typedef int (*box_list_fn)(const char *id, void *user);
BOX_EXPORT int box_list(box_ctx *ctx, box_list_fn fn, void *user);

/* Clean up after boxes whose creator died without destroying them (state
 * BOX_STATUS_UNKNOWN): remove their cgroups and state.  Returns the number
 * of boxes cleaned up, or -errno. */
BOX_EXPORT int box_gc(box_ctx *ctx);

/* ---------------------------------------------------------------------
 * A CI sandbox in one call
 * ------------------------------------------------------------------- */

typedef struct box_sandbox_result box_sandbox_result;

/* Run cfg's command as a sandboxed step and wait for it.  On top of cfg
 * (its root, binds such as a writable workspace, limits, user...): the
 * root is read-only, /tmp a tmpfs (unless cfg mounts one there), the
 * network its own namespace with loopback only, a cgroup is required, and
 * stdin is /dev/null.  Its stdout and stderr are kept, up to output_cap
 * bytes each (the rest is read and dropped).  After timeout_ms (0: no
 * limit) every process of the box is killed.  *out gets the result; free
 * it with box_sandbox_result_free().  Returns 0 (whatever the command
 * did) or the negative errno of making the box. */
BOX_EXPORT int box_sandbox_run(box_ctx *ctx, const box_config *cfg, int64_t timeout_ms,
			       int64_t output_cap, box_sandbox_result **out);
/* The exit code (-1 when killed), the killing signal (0 if none), whether
 * the OOM killer or the timeout ended it (1 or 0), its peak memory in
 * bytes (UINT64_MAX if unknown), the wall time in ms. */
BOX_EXPORT int box_sandbox_exit_code(const box_sandbox_result *r);
BOX_EXPORT int box_sandbox_signal(const box_sandbox_result *r);
BOX_EXPORT int box_sandbox_oom(const box_sandbox_result *r);
BOX_EXPORT int box_sandbox_timed_out(const box_sandbox_result *r);
BOX_EXPORT uint64_t box_sandbox_peak_memory(const box_sandbox_result *r);
BOX_EXPORT int64_t box_sandbox_wall_ms(const box_sandbox_result *r);
/* What the command wrote (NUL-terminated; *len, if not NULL, gets the
 * length, which may hold NULs), owned by the result. */
BOX_EXPORT const char *box_sandbox_stdout(const box_sandbox_result *r, size_t *len);
BOX_EXPORT const char *box_sandbox_stderr(const box_sandbox_result *r, size_t *len);
/* Which output was cut at the cap: 1 stdout, 2 stderr, 3 both. */
BOX_EXPORT int box_sandbox_truncated(const box_sandbox_result *r);
BOX_EXPORT void box_sandbox_result_free(box_sandbox_result *r);

/* Create, start, wait for and destroy a box: one call for embedders.
 * *exit_code and *signal as for box_wait().
 * Returns 0 or a negative errno from any step. */
BOX_EXPORT int box_run(box_ctx *ctx, const box_config *cfg, int *exit_code, int *signal);

/* ---------------------------------------------------------------------
 * Images: the store, loading, running, committing, saving
 * ------------------------------------------------------------------- */

/* Images live in the context's store directory (box_ctx_set_store_dir):
 * blobs by sha256 digest, each layer unpacked once and shared, names
 * "NAME:TAG" (a NAME alone means NAME:latest).  An image is named by
 * NAME[:TAG], by its id ("sha256:" and 64 hex digits, the digest of its
 * config) or by a unique prefix of at least 4 hex digits of the id. */

/* Called now and then while a layer unpacks: layer is its index (from 0)
 * of layers in this operation, done and total the bytes read of its
 * stream and its size (total 0: unknown). */
typedef void (*box_progress_fn)(int layer, int layers, uint64_t done, uint64_t total,
				void *user);

/* Report the progress of box_image_load/import/default on ctx to fn
 * (NULL: none).  Returns 0 or -EINVAL (ctx NULL). */
BOX_EXPORT int box_ctx_set_progress(box_ctx *ctx, box_progress_fn fn, void *user);

/* How a box's root is made from an image's layers. */
#define BOX_STORAGE_AUTO    0 /* overlayfs, or vfs where overlayfs cannot work */
#define BOX_STORAGE_OVERLAY 1 /* overlayfs only: box_create() fails without it */
#define BOX_STORAGE_VFS     2 /* a private copy: every layer applied in turn */
/* Returns 0 or -EINVAL. */
BOX_EXPORT int box_ctx_set_storage(box_ctx *ctx, int storage);

/* Load the images of an OCI image layout (a directory or a tar archive
 * of one: oci-layout, index.json, blobs) or of a `docker save` archive
 * (directory or tar: manifest.json, configs, layer tars).  Every blob's
 * digest is verified; a mismatch (-EBADMSG), a missing blob (-ENOENT)
 * or a bad layer fails the whole load and leaves the store as it was.
 * ref (may be NULL): the name to give the image (then the archive must
 * hold one).  Without it, the names come from the archive (docker's
 * RepoTags; OCI's io.containerd.image.name, or its ref.name annotation:
 * a full NAME:TAG, or a TAG put after the file's base name).
 * *names (may be NULL) receives the loaded images, one "NAME:TAG" (or
 * id, for one without a name) per line, to free with box_string_free().
 * Returns 0 or a negative errno. */
BOX_EXPORT int box_image_load(box_ctx *ctx, const char *path, const char *ref, char **names);

/* Make a one-layer image from a root filesystem tarball (tar or
 * tar+gzip, like `docker import`), named ref (NAME[:TAG]).  *id (may be
 * NULL) receives its id, to free with box_string_free().
 * Returns 0 or a negative errno. */
BOX_EXPORT int box_image_import(box_ctx *ctx, const char *path, const char *ref, char **id);

/* The images of ctx as a JSON array, one object per image: id, names
 * (array), created, size (bytes of its layers as stored), layers (count).
 * To free with box_string_free(); NULL on failure. */
BOX_EXPORT char *box_image_list(box_ctx *ctx);

/* One image as JSON: id, names, created, size, layers (their digests,
 * diff_ids, chain ids, sizes), manifest, config (the image config: Env,
 * Cmd, Entrypoint, WorkingDir, User, ExposedPorts...), boxes (the ids of
 * the boxes made from it).  To free with box_string_free(); NULL on
 * failure (-ENOENT: no such image). */
BOX_EXPORT char *box_image_inspect(box_ctx *ctx, const char *ref);

/* Remove an image.  Named by NAME:TAG while it has other names: that name
 * goes, the image stays.  Otherwise the image goes with every layer and
 * blob that no other image and no box uses.  A box made from it makes
 * this fail with -EBUSY unless force is set (the box keeps its layers
 * until it is destroyed).  Returns 0, -ENOENT or -EBUSY. */
BOX_EXPORT int box_image_remove(box_ctx *ctx, const char *ref, int force);

/* Give the image ref another name (taken from whichever image held it).
 * Returns 0, -ENOENT or -EINVAL. */
BOX_EXPORT int box_image_tag(box_ctx *ctx, const char *ref, const char *name);

/* Write the image ref as an OCI image layout tar archive at path
 * (replaced atomically), which box_image_load(), skopeo and podman
 * accept.  Returns 0 or a negative errno. */
BOX_EXPORT int box_image_save(box_ctx *ctx, const char *ref, const char *path);

/* Make a new image of the box b (made from an image): its changes (the
 * overlay's upper directory, whiteouts included) become a tar+gzip layer
 * on top of the box's image, whose config it keeps.  Named ref
 * (NAME[:TAG], may be NULL).  *id (may be NULL) receives the new image's
 * id, to free with box_string_free().  Returns 0, -EINVAL (the box has
 * no image) or a negative errno. */
BOX_EXPORT int box_commit(box *b, const char *ref, char **id);

/* Build the default image, busybox:latest, from the host's busybox
 * (Debian's busybox-static, /bin/busybox): one layer with busybox and a
 * link per applet, one with /etc (passwd, group, hostname).  An existing
 * busybox:latest is kept.  *id (may be NULL) receives its id.
 * Returns 0, -ENOENT (no static busybox on the host) or a negative
 * errno. */
BOX_EXPORT int box_image_default(box_ctx *ctx, char **id);

/* Run the box on an image of the store of the context given to
 * box_create(), instead of a root directory: its root is an overlay of
 * the image's layers and a writable layer of the box's own, kept until
 * box_destroy().  The image's config gives what the caller did not set:
 * the command (Entrypoint + Cmd; argv set by the caller replaces Cmd),
 * the environment (merged by name, the caller's wins), the working
 * directory and the user (numeric, or a name from the image's
 * /etc/passwd).  Returns 0, -EINVAL or -ENOMEM; the image is looked up by
 * box_create() (-ENOENT). */
BOX_EXPORT int box_config_set_image(box_config *cfg, const char *ref);

/* For a box made from an image: its writable layer is the directory dir
 * (the overlay's upper directory; with the vfs copy, the root itself) of
 * an earlier box, moved into the new box's directory of the store by
 * box_create() (a rename: dir must be on the store's file system), and
 * moved back if box_create() fails.  So a box made again under its id
 * (boxctl start) keeps its changes.  NULL: a new, empty one.  Returns 0
 * or -EINVAL (not an absolute path).  (Since 1.1.) */
BOX_EXPORT int box_config_set_upper(box_config *cfg, const char *dir);

/* ---------------------------------------------------------------------
 * OCI runtime bundles (since LIBBOX_1.1)
 * ------------------------------------------------------------------- */

/* Read an OCI runtime bundle's config.json (runtime spec 1.0 to 1.2) into
 * a new config.  path is the bundle directory or the config.json file
 * itself; root.path and relative bind sources are taken from the bundle's
 * directory.  The bundle's mounts replace the built-in /proc, /sys, /dev
 * ones (the standard devices and /dev symlinks are still made, after
 * them); its maskedPaths and readonlyPaths, when present, replace Docker's
 * defaults; its linux.devices are made and its linux.resources.devices
 * rules follow the default device rules; an absent linux.seccomp means no
 * filter, as the spec says.  Unknown fields are ignored.  *out receives
 * the config; free it with box_config_free().
 * Returns 0, -ENOENT (no such file), -EINVAL (a value of the wrong type or
 * out of range: the message names its JSON path, e.g.
 * "linux.resources.memory.limit: not an integer"), -ENOTSUP (something
 * libbox cannot do: joining an existing pid, mount, user or time namespace
 * by path; network, ipc, uts and cgroup ones are joined) or -ENOMEM. */
BOX_EXPORT int box_config_from_oci(const char *path, box_config **out);

/* Read an OCI process object (the JSON file of `runc exec --process`):
 * args, env, cwd, user, terminal, capabilities, rlimits,
 * noNewPrivileges, into a new config for box_exec().  Same returns. */
BOX_EXPORT int box_config_from_oci_process(const char *path, box_config **out);

/* Make the box wait before its command on a FIFO in its state directory
 * (STATE/boxes/ID/start.fifo) instead of on its creator (on != 0): then
 * box_start() works from any process's handle (box_open()), and the
 * creator may box_close() its handle and exit while the box waits, as an
 * OCI runtime's `create` does.  Such a box does not report execve's
 * failure to box_start(): it exits with status 127.  Returns 0, -EINVAL
 * or -ENOMEM. */
BOX_EXPORT int box_config_set_start_fifo(box_config *cfg, int on);

#ifdef __cplusplus
}
#endif

#endif /* LIBBOX_BOX_H */
