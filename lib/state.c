/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Boxes on disk: STATE/boxes/<id>/state.json, written atomically (write,
 * fsync, rename) under the box's lock, and STATE/names/<name>, a symlink
 * to the id, whose creation is the atomic reservation of the name.
 *
 * Nothing here is trusted blindly: whether a box runs is decided from its
 * pid and that process's start time (so a reused pid is not mistaken for
 * it), its cgroup's freezer, and the exit its creator or monitor recorded. */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "internal.h"
#include "cgroup/cgroup.h"

#define STATE_VERSION 1

static int path_of(char *out, size_t len, const box_ctx *ctx, const char *sub, const char *id,
		   const char *file)
{
	int n = snprintf(out, len, "%s/%s%s%s%s%s", ctx->state_dir, sub, id ? "/" : "", id ? id : "",
			 file ? "/" : "", file ? file : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The start time of pid (field 22 of /proc/PID/stat), 0 if it is gone or
 * a zombie (dead, only not reaped yet: no owner, no box). */
uint64_t box_proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	/* the space after ")" starts field 3; stop at the one before 22 */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	return start;
}

void box_time_now(char out[40])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out + strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm), 40 - 19, ".%09ldZ", ts.tv_nsec);
}

/* ---- locks ---- */

int box_state_lock(const box_ctx *ctx, const char *id)
{
	char path[PATH_MAX];
	int fd, r = path_of(path, sizeof(path), ctx, "boxes", id, "lock");

	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
	}
	return fd;
}

/* ---- names ---- */

static const char *const adjectives[] = {
	"agile", "bold", "brave", "calm", "clever", "crisp", "eager", "fair", "gentle", "happy",
	"keen", "lucid", "merry", "nimble", "proud", "quiet", "rapid", "sharp", "steady", "sunny",
	"swift", "tidy", "vivid", "wise", "zesty",
};
static const char *const nouns[] = {
	"babbage", "curie", "dijkstra", "euler", "fermat", "gauss", "hopper", "hypatia", "kepler",
	"knuth", "lamport", "liskov", "lovelace", "noether", "pascal", "ritchie", "shannon", "thompson",
	"torvalds", "turing", "wozniak", "yalow",
};

bool box_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 128 || !((name[0] >= 'a' && name[0] <= 'z') ||
				   (name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* Reserve name for id: the symlink's creation is the reservation.  A name
 * whose box is gone (no state) is taken back.  The creation's lock file
 * (lock; -1 for none) gets the name first (its first line), so that a
 * clean-up after a crash right after the symlink finds it. */
static int reserve_name(const box_ctx *ctx, const char *name, const char *id, int lock)
{
	char link[PATH_MAX], dir[PATH_MAX], target[80];
	ssize_t n;
	int r;

	_cleanup_close_ int names = -1;

	if (path_of(link, sizeof(link), ctx, "names", name, NULL) < 0 ||
	    path_of(dir, sizeof(dir), ctx, "names", NULL, NULL) < 0)
		return box_err(ENAMETOOLONG, "box name %s: too long", name);
	/* one reservation at a time: taking back a stale name is a look, an
	 * unlink and a symlink, which two creators must not interleave */
	names = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (names < 0 || flock(names, LOCK_EX) < 0)
		return box_err_errno(errno, "box names %s", dir);
	if (lock >= 0 &&
	    (lseek(lock, 0, SEEK_SET) < 0 || ftruncate(lock, 0) < 0 || dprintf(lock, "%s\n", name) < 0))
		return box_err_errno(errno, "box name %s: noting it", name);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (symlink(id, link) == 0)
			return 0;
		if (errno != EEXIST)
			return box_err_errno(errno, "box name %s: symlink %s", name, link);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		/* in use while its box's directory exists (a box being made has
		 * no state.json yet) */
		r = path_of(dir, sizeof(dir), ctx, "boxes", target, NULL);
		if (r == 0 && access(dir, F_OK) == 0)
			return box_err(EEXIST, "the name \"%s\" is already in use by box %.12s", name,
				       target);
		unlink(link); /* left by a box that is gone */
	}
	return box_err(EEXIST, "the name \"%s\" is already in use", name);
}

static int generate_name(const box_ctx *ctx, const char *id, int lock, char *out, size_t len)
{
	/* from the id's random bits, then with a number, as docker does */
	unsigned a = (unsigned)strtoul((char[]){ id[0], id[1], id[2], id[3], 0 }, NULL, 16);
	unsigned b = (unsigned)strtoul((char[]){ id[4], id[5], id[6], id[7], 0 }, NULL, 16);

	for (int i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(out, len, "%s_%s", adjectives[a % ARRAY_SIZE(adjectives)],
				 nouns[b % ARRAY_SIZE(nouns)]);
		else
			snprintf(out, len, "%s_%s%d", adjectives[a % ARRAY_SIZE(adjectives)],
				 nouns[b % ARRAY_SIZE(nouns)], i);
		int r = reserve_name(ctx, out, id, lock);

		if (r != -EEXIST)
			return r;
	}
	return box_err(EEXIST, "box_create: no free generated name");
}

/* ---- writing ---- */

static int write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	ssize_t n;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	if (n != (ssize_t)len)
		r = n < 0 ? -errno : -EIO;
	else if (fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static json_t *load_json(const box_ctx *ctx, const char *id)
{
	char path[PATH_MAX];
	json_t *root;

	if (path_of(path, sizeof(path), ctx, "boxes", id, "state.json") < 0)
		return NULL;
	root = json_load_file(path, 0, NULL);
	if (root && !json_is_object(root)) {
		json_decref(root); /* not ours, or damaged: as if absent */
		root = NULL;
	}
	return root;
}

static int save_json(const box_ctx *ctx, const char *id, json_t *root)
{
	char path[PATH_MAX];
	char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	int r;

	if (!text)
		return -ENOMEM;
	r = path_of(path, sizeof(path), ctx, "boxes", id, "state.json");
	if (r == 0)
		r = write_atomic(path, text, strlen(text));
	free(text);
	return r;
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Everything box_open() and box_exec() need later, written when the box
 * is created.  Its directory and name are made here; on failure nothing
 * of them is left. */
int box_state_create(struct box *b, const struct box_config *cfg, const char *rootfs)
{
	char dir[PATH_MAX], names[PATH_MAX], now[40], caps[24], name[160];
	json_t *root, *proc, *groups;
	int r, lock = -1;

	if (path_of(dir, sizeof(dir), b->ctx, "boxes", b->id, NULL) < 0 ||
	    path_of(names, sizeof(names), b->ctx, "names", NULL, NULL) < 0)
		return box_err(ENAMETOOLONG, "state directory %s: too long", b->ctx->state_dir);
	r = box_mkdir_p(names, 0700);
	if (r == 0) {
		r = path_of(dir, sizeof(dir), b->ctx, "boxes", NULL, NULL);
		if (r == 0)
			r = box_mkdir_p(dir, 0700);
	}
	/* The directory appears with its lock already held (made under a
	 * name box_list() skips, locked, then renamed), so that box_gc()
	 * never finds it unlocked and without state. */
	if (r == 0) {
		char tmp[PATH_MAX], lockp[PATH_MAX + 8];

		path_of(dir, sizeof(dir), b->ctx, "boxes", b->id, NULL);
		snprintf(tmp, sizeof(tmp), "%s/boxes/.new-%s", b->ctx->state_dir, b->id);
		snprintf(lockp, sizeof(lockp), "%s/lock", tmp);
		if (mkdir(tmp, 0700) < 0) {
			r = -errno;
		} else if ((lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
			   flock(lock, LOCK_EX) < 0 || rename(tmp, dir) < 0) {
			r = -errno;
			if (lock >= 0)
				close(lock);
			unlink(lockp);
			rmdir(tmp);
			lock = -1;
		}
	}
	if (r == -EEXIST || r == -ENOTEMPTY)
		return box_err(EEXIST, "a box with the id %.12s exists", b->id);
	if (r < 0)
		return box_err_errno(-r, "state directory %s", dir);
	if (cfg->name) {
		r = reserve_name(b->ctx, cfg->name, b->id, lock);
		snprintf(name, sizeof(name), "%s", cfg->name);
	} else {
		r = generate_name(b->ctx, b->id, lock, name, sizeof(name));
	}
	if (r < 0) {
		char lockp[PATH_MAX + 8];

		snprintf(lockp, sizeof(lockp), "%s/lock", dir);
		unlink(lockp);
		rmdir(dir);
		close(lock);
		return r;
	}
	b->name = strdup(name);
	box_time_now(now);
	snprintf(caps, sizeof(caps), "%llx", (unsigned long long)cfg->caps);
	groups = json_array();
	for (int i = 0; groups && i < cfg->ngroups; i++)
		json_array_append_new(groups, json_integer(cfg->groups[i]));
	proc = json_pack("{s:o, s:o, s:s, s:i, s:i, s:o, s:s, s:s, s:b, s:b}",
			 "args", strv_json(cfg->argv), "env", strv_json(cfg->env), "cwd", cfg->cwd,
			 "uid", (json_int_t)cfg->uid, "gid", (json_int_t)cfg->gid, "groups", groups,
			 "caps", caps,
			 "seccomp", cfg->seccomp_mode == BOX_SECCOMP_UNCONFINED ? "unconfined"
				    : cfg->oci && cfg->oci->seccomp_json	 ? "oci"
				    : cfg->seccomp_mode == BOX_SECCOMP_PROFILE	 ? cfg->seccomp_profile
										 : "default",
			 "no_new_privs", cfg->no_new_privs, "init", cfg->init);
	if (proc && cfg->oci && cfg->oci->seccomp_json)
		json_object_set_new(proc, "seccomp_oci", json_string(cfg->oci->seccomp_json));
	/* the owner (the creator; later a monitor) records the exit; when it
	 * is gone too, nobody will */
	root = json_pack("{s:i, s:s, s:s, s:s, s:o, s:i, s:s?, s:s?, s:{s:i, s:I}}", "version",
			 STATE_VERSION, "id", b->id, "name", name, "created", now, "process", proc,
			 "namespaces", (json_int_t)cfg->ns, "rootfs", rootfs, "hostname", cfg->hostname,
			 "owner", "pid", (json_int_t)getpid(), "start",
			 (json_int_t)box_proc_start_time(getpid()));
	/* Held until box_create() writes state.json, with the pid, once the
	 * box exists: box_gc() takes a directory without state.json whose lock
	 * it gets for a creation that died.  The lock file holds the name, for
	 * that clean-up. */
	if (root && cfg->annotations) {
		json_t *ann = json_object();

		for (size_t i = 0; ann && cfg->annotations[i]; i++) {
			char *eq = strchr(cfg->annotations[i], '=');
			char key[256];

			if (!eq || (size_t)(eq - cfg->annotations[i]) >= sizeof(key))
				continue;
			memcpy(key, cfg->annotations[i], (size_t)(eq - cfg->annotations[i]));
			key[eq - cfg->annotations[i]] = '\0';
			json_object_set_new(ann, key, json_string(eq + 1));
		}
		json_object_set_new(root, "annotations", ann);
	}
	r = !root || !b->name ? -ENOMEM : lock;
	if (r >= 0) {
		b->lockfd = lock;
		b->pending = root;
		r = 0;
	} else {
		if (lock >= 0)
			close(lock);
		json_decref(root);
	}
	if (r < 0) {
		box_state_remove(b->ctx, b->id, name);
		return box_err_errno(-r, "state of box %.12s in %s", b->id, dir);
	}
	return 0;
}

/* Record facts: the pid (with its start time), the start, the exit. */
int box_state_update(struct box *b, const char *what)
{
	json_t *root;
	char now[40];
	int lock, r;

	lock = b->lockfd >= 0 ? b->lockfd : box_state_lock(b->ctx, b->id);
	if (lock < 0)
		return lock;
	/* the first write: the state made at creation, with the pid */
	root = b->pending ? TAKE_PTR(b->pending) : load_json(b->ctx, b->id);
	if (!root) {
		if (lock != b->lockfd)
			close(lock);
		return -ENOENT;
	}
	box_time_now(now);
	if (strcmp(what, "pid") == 0) {
		char caps[24];

		/* the capabilities the box got, not those asked for: box_exec()
		 * must not give more (CAP_MKNOD without a device controller) */
		snprintf(caps, sizeof(caps), "%llx", (unsigned long long)b->caps);
		json_object_set_new(json_object_get(root, "process"), "caps", json_string(caps));
		json_object_set_new(root, "pid", json_integer(b->pid));
		json_object_set_new(root, "pid_start", json_integer((json_int_t)b->pid_start));
		if (b->cg) {
			const char *dirs[8];
			int n = box_cgroup_dirs(b->cg, dirs, 8);
			json_t *a = json_array();

			for (int i = 0; a && i < n; i++)
				json_array_append_new(a, json_string(dirs[i]));
			json_object_set_new(root, "cgroup", json_string(b->cg->path));
			json_object_set_new(root, "cgroup_dirs", a);
		}
	} else if (strcmp(what, "started") == 0) {
		json_object_set_new(root, "started", json_string(now));
	} else if (strcmp(what, "exit") == 0 && !json_object_get(root, "exit")) {
		json_object_set_new(root, "exit", json_pack("{s:i, s:i, s:b, s:s}", "code",
							    b->exit_code, "signal", b->signal, "oom",
							    b->oom, "finished", now));
	}
	r = save_json(b->ctx, b->id, root);
	json_decref(root);
	if (lock != b->lockfd)
		close(lock);
	return r;
}

int box_state_remove(const box_ctx *ctx, const char *id, const char *name)
{
	char path[PATH_MAX], target[80], gone[PATH_MAX + 8];
	ssize_t n;

	if (name && path_of(path, sizeof(path), ctx, "names", name, NULL) == 0) {
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (strcmp(target, id) == 0)
				unlink(path);
		}
	}
	/* the box's writable layer in the image store, as its state says */
	{
		json_t *root = load_json(ctx, id);
		const char *dir = json_string_value(json_object_get(root, "box_dir"));

		if (dir)
			box_image_release(dir);
		json_decref(root);
	}
	/* Out of the way first, under a name box_list() skips: what another
	 * process still writes by path (a monitor's exit, a late update)
	 * then fails instead of leaving a file behind. */
	if (path_of(path, sizeof(path), ctx, "boxes", id, NULL) < 0)
		return -ENAMETOOLONG;
	snprintf(gone, sizeof(gone), "%s/boxes/.gone-%s", ctx->state_dir, id);
	if (rename(path, gone) < 0)
		return errno == ENOENT ? 0 : -errno;
	{
		DIR *d = opendir(gone);
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		if (d)
			closedir(d);
	}
	if (rmdir(gone) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* ---- reading ---- */

/* name, full id, or a unique prefix of an id -> the id */
int box_state_resolve(const box_ctx *ctx, const char *what, char id[65])
{
	char path[PATH_MAX], target[80];
	size_t n = strlen(what);
	int found = 0;
	ssize_t len;
	DIR *d;
	struct dirent *e;

	if (!n || strchr(what, '/'))
		return box_err(EINVAL, "\"%s\" is not a box name or id", what);
	if (path_of(path, sizeof(path), ctx, "names", what, NULL) == 0 &&
	    (len = readlink(path, target, sizeof(target) - 1)) == 64) {
		memcpy(id, target, 64);
		id[64] = '\0';
		return 0;
	}
	if (path_of(path, sizeof(path), ctx, "boxes", NULL, NULL) < 0 || !(d = opendir(path)))
		return box_err(ENOENT, "no such box: %s", what);
	while ((e = readdir(d))) {
		if (strlen(e->d_name) == 64 && strncmp(e->d_name, what, n) == 0) {
			if (found++)
				break;
			memcpy(id, e->d_name, 64);
			id[64] = '\0';
		}
	}
	closedir(d);
	if (found > 1)
		return box_err(EINVAL, "\"%s\" is the prefix of more than one box id", what);
	if (!found)
		return box_err(ENOENT, "no such box: %s", what);
	return 0;
}

/* STATE/boxes/<id>/exit: "CODE SIGNAL OOM FINISHED", the exit as a
 * monitor (tools/box-monitor, which has no JSON library) records it.
 * Merged into root, which keeps it. */
static json_t *sidecar_exit(struct box *b, json_t *root)
{
	char path[PATH_MAX], finished[64];
	int code, sig, oom;
	json_t *exit;
	FILE *f;

	if (path_of(path, sizeof(path), b->ctx, "boxes", b->id, "exit") < 0)
		return NULL;
	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (fscanf(f, "%d %d %d %63s", &code, &sig, &oom, finished) != 4) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	exit = json_pack("{s:i, s:i, s:b, s:s}", "code", code, "signal", sig, "oom", oom, "finished",
			 finished);
	json_object_set_new(root, "exit", exit);
	return exit;
}

/* Fill a handle from the state: pid (if that process still is the box's),
 * cgroup, name, exit. */
int box_state_load(struct box *b)
{
	json_t *root = load_json(b->ctx, b->id), *exit;
	const char *name, *cg;
	uint64_t start;
	int pid;

	if (!root)
		return box_err(ENOENT, "box %.12s: no state", b->id);
	name = json_string_value(json_object_get(root, "name"));
	cg = json_string_value(json_object_get(root, "cgroup"));
	pid = (int)json_integer_value(json_object_get(root, "pid"));
	start = (uint64_t)json_integer_value(json_object_get(root, "pid_start"));
	b->name = name ? strdup(name) : NULL;
	b->started = json_object_get(root, "started") != NULL;
	{
		char fifo[PATH_MAX];

		b->start_fifo = path_of(fifo, sizeof(fifo), b->ctx, "boxes", b->id, "start.fifo") == 0 &&
				access(fifo, F_OK) == 0;
	}
	b->init = json_is_true(json_object_get(json_object_get(root, "process"), "init"));
	exit = json_object_get(root, "exit");
	if (!exit)
		exit = sidecar_exit(b, root);
	if (exit) {
		b->waited = true;
		b->exit_code = (int)json_integer_value(json_object_get(exit, "code"));
		b->signal = (int)json_integer_value(json_object_get(exit, "signal"));
		b->oom = json_is_true(json_object_get(exit, "oom"));
	}
	if (pid > 0 && start && box_proc_start_time(pid) == start) {
		int fd = (int)syscall(SYS_pidfd_open, pid, 0);

		/* the pid could have been reused between the two looks */
		if (fd >= 0 && box_proc_start_time(pid) == start) {
			b->pid = pid;
			b->pidfd = fd;
			b->pid_start = start;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	if (cg) {
		json_t *a = json_object_get(root, "cgroup_dirs"), *v;
		const char *dirs[8];
		int n = 0;
		size_t k;

		json_array_foreach(a, k, v)
			if (n < 8 && json_is_string(v))
				dirs[n++] = json_string_value(v);
		if (box_cgroup_open(cg, dirs, n, &b->cg) < 0)
			b->cg = NULL;
	}
	{
		json_t *owner = json_object_get(root, "owner");
		int opid = (int)json_integer_value(json_object_get(owner, "pid"));
		uint64_t ostart = (uint64_t)json_integer_value(json_object_get(owner, "start"));

		b->owner_alive = opid > 0 && ostart && box_proc_start_time(opid) == ostart;
	}
	/* loaded again by a waiter that polls: the one before goes */
	box_net_free(b->net);
	b->net = box_net_load(b->ctx, b->id);
	if (b->net)
		box_net_ip(b->net, b->ip);
	json_decref(root);
	return 0;
}

char *box_state_json(struct box *b, const char *status)
{
	json_t *root = load_json(b->ctx, b->id);
	char *text;

	if (!root)
		return NULL;
	if (!json_object_get(root, "exit"))
		sidecar_exit(b, root);
	json_object_set_new(root, "status", json_string(status));
	json_object_del(root, "version");
	{
		json_t *net = box_net_json(b->ctx, b->id);

		if (net)
			json_object_set_new(root, "network", net);
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return text;
}

int box_state_list(const box_ctx *ctx, int (*cb)(const char *id, void *user), void *user)
{
	char path[PATH_MAX];
	struct dirent *e;
	int r = 0;
	DIR *d;

	if (path_of(path, sizeof(path), ctx, "boxes", NULL, NULL) < 0)
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && (e = readdir(d)))
		if (strlen(e->d_name) == 64)
			r = cb(e->d_name, user);
	closedir(d);
	return r;
}

/* A box directory without state.json whose lock we hold: a creation that
 * died.  Remove its cgroup, its name and itself, from the lock file. */
int box_state_remove_stillborn(const box_ctx *ctx, const char *id, int lockfd)
{
	char path[PATH_MAX], buf[8192], *lines[12];
	const char *store_dir = NULL;
	int nl = 0;
	ssize_t n;

	if (path_of(path, sizeof(path), ctx, "boxes", id, "state.json") < 0)
		return 0;
	if (access(path, F_OK) == 0) {
		/* there, and readable: a box */
		json_t *root = load_json(ctx, id);

		if (root) {
			json_decref(root);
			return 0;
		}
		/* damaged: cleaned up as a creation that died */
	}
	n = pread(lockfd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	for (char *p = buf, *e; nl < 12 && (e = strchr(p, '\n')); p = e + 1) {
		*e = '\0';
		/* "store:DIR": its directory in the image store (box_create) */
		if (nl > 0 && strncmp(p, "store:", 6) == 0)
			store_dir = p + 6;
		else
			lines[nl++] = p;
	}
	if (nl > 1) {
		struct box_cgroup *cg = NULL;

		/* a child may be in it already: box_cgroup_destroy kills it */
		if (box_cgroup_open(lines[1], (const char *const *)lines + 1, nl - 1, &cg) == 0 &&
		    box_cgroup_destroy(cg) < 0)
			return 0; /* try again later */
	}
	/* its address, ports and whatever of its network was made */
	box_net_release(ctx, id, NULL);
	/* its writable layer, if it was made from an image (only a directory
	 * of a store named for this box) */
	if (store_dir && strlen(store_dir) > 71 &&
	    strcmp(store_dir + strlen(store_dir) - 64, id) == 0 &&
	    strncmp(store_dir + strlen(store_dir) - 71, "/boxes/", 7) == 0)
		box_image_release(store_dir);
	box_state_remove(ctx, id, nl > 0 && lines[0][0] ? lines[0] : NULL);
	return 1;
}

int box_state_process(struct box *b, struct box_config *cfg)
{
	json_t *root = load_json(b->ctx, b->id), *proc, *v;
	const char *sc, *caps, *cwd;
	size_t k;
	int r = 0;

	if (!root)
		return box_err(ENOENT, "box %.12s: no state", b->id);
	proc = json_object_get(root, "process");
	json_array_foreach(json_object_get(proc, "env"), k, v) {
		const char *kv = json_string_value(v), *eq = kv ? strchr(kv, '=') : NULL;
		char name[256];

		if (!eq || (size_t)(eq - kv) >= sizeof(name))
			continue;
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		if (r == 0)
			r = box_config_set_env(cfg, name, eq + 1);
	}
	cwd = json_string_value(json_object_get(proc, "cwd"));
	if (r == 0 && cwd)
		r = box_config_set_cwd(cfg, cwd);
	cfg->cwd_set = false;
	cfg->uid = (uint32_t)json_integer_value(json_object_get(proc, "uid"));
	cfg->gid = (uint32_t)json_integer_value(json_object_get(proc, "gid"));
	v = json_object_get(proc, "groups");
	if (r == 0 && json_array_size(v)) {
		uint32_t groups[256];
		int n = 0;
		json_t *g;

		json_array_foreach(v, k, g)
			if (n < 256)
				groups[n++] = (uint32_t)json_integer_value(g);
		r = box_config_set_groups(cfg, n, groups);
	}
	caps = json_string_value(json_object_get(proc, "caps"));
	cfg->caps = caps ? strtoull(caps, NULL, 16) : 0;
	sc = json_string_value(json_object_get(proc, "seccomp"));
	if (r == 0 && sc && strcmp(sc, "unconfined") == 0) {
		r = box_config_set_seccomp(cfg, BOX_SECCOMP_UNCONFINED, NULL);
	} else if (r == 0 && sc && strcmp(sc, "oci") == 0) {
		/* an OCI bundle's linux.seccomp, kept in the state */
		const char *text = json_string_value(json_object_get(proc, "seccomp_oci"));

		if (!cfg->oci)
			cfg->oci = calloc(1, sizeof(*cfg->oci));
		if (!cfg->oci || !text)
			r = -ENOMEM;
		else {
			free(cfg->oci->seccomp_json);
			cfg->oci->seccomp_json = strdup(text);
			cfg->seccomp_mode = BOX_SECCOMP_PROFILE;
			r = cfg->oci->seccomp_json ? 0 : -ENOMEM;
		}
	} else if (r == 0 && sc && strcmp(sc, "default") != 0) {
		r = box_config_set_seccomp(cfg, BOX_SECCOMP_PROFILE, sc);
	}
	cfg->no_new_privs = json_is_true(json_object_get(proc, "no_new_privs"));
	v = json_object_get(root, "hostname");
	if (r == 0 && json_is_string(v))
		r = box_config_set_hostname(cfg, json_string_value(v));
	cfg->ns = (unsigned)json_integer_value(json_object_get(root, "namespaces"));
	json_decref(root);
	return r;
}

/* The new name first (its reservation may fail), then the state, then the
 * old name goes. */
int box_state_rename(struct box *b, const char *name)
{
	char *copy = strdup(name);
	json_t *root;
	int lock, r;

	if (!copy)
		return box_err(ENOMEM, "box_rename: out of memory");
	r = reserve_name(b->ctx, name, b->id, -1);
	if (r < 0) {
		free(copy);
		return r;
	}
	lock = box_state_lock(b->ctx, b->id);
	root = lock >= 0 ? load_json(b->ctx, b->id) : NULL;
	r = lock < 0 ? lock : !root ? -ENOENT : 0;
	if (r == 0) {
		json_object_set_new(root, "name", json_string(name));
		r = save_json(b->ctx, b->id, root);
	}
	json_decref(root);
	if (lock >= 0)
		close(lock);
	if (r < 0) {
		char path[PATH_MAX];

		if (path_of(path, sizeof(path), b->ctx, "names", name, NULL) == 0)
			unlink(path);
		free(copy);
		return box_err_errno(-r, "box %.12s: rename", b->id);
	}
	if (b->name) {
		char path[PATH_MAX], target[80];
		ssize_t n;

		/* only if it is still ours (this handle's name may be stale) */
		if (path_of(path, sizeof(path), b->ctx, "names", b->name, NULL) == 0 &&
		    (n = readlink(path, target, sizeof(target) - 1)) == 64 &&
		    memcmp(target, b->id, 64) == 0)
			unlink(path);
	}
	free(b->name);
	b->name = copy;
	return 0;
}
