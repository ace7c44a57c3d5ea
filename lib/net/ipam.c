/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Addresses and host ports on disk, so that concurrent creators (threads
 * or processes) never hand out the same one:
 *
 *   STATE/net/<bridge>/lock            flock'd while leasing
 *   STATE/net/<bridge>/subnet          "10.88.0.0/16"
 *   STATE/net/<bridge>/next            where the search for a free address resumes
 *   STATE/net/<bridge>/leases/<ip>     the id of the box holding ip
 *   STATE/net/ports/<proto>-<port>     "<id> <host ip>": who maps that host port
 *
 * Each lease and port is a file made with O_EXCL, its content the box's
 * id; one whose box has no state any more (its creator died before it
 * recorded anything) is stale and taken over. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <dirent.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "internal.h"
#include "net/net.h"

const char *box_proto_name(int proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static int write_file(const char *path, const char *text, bool excl)
{
	return box_write_small(AT_FDCWD, path, text, excl, 0644);
}

/* Its first line. */
static int read_small(const char *path, char *buf, size_t len)
{
	int n = box_read_small(AT_FDCWD, path, buf, len);

	if (n >= 0)
		buf[strcspn(buf, "\n")] = '\0';
	return n;
}

/* Whether the box id still has state (else what it holds is stale). */
static bool box_known(const box_ctx *ctx, const char *id)
{
	char path[PATH_MAX];
	struct stat st;

	if (!id[0] || strchr(id, '/'))
		return false;
	snprintf(path, sizeof(path), "%s/boxes/%.64s", ctx->state_dir, id);
	return stat(path, &st) == 0;
}

/* "box NAME (ID12)" or "box ID12" for messages. */
static void box_desc(const box_ctx *ctx, const char *id, char *out, size_t len)
{
	char path[PATH_MAX];
	json_t *root;
	const char *name = NULL;

	snprintf(path, sizeof(path), "%s/boxes/%.64s/state.json", ctx->state_dir, id);
	root = json_load_file(path, 0, NULL);
	if (root)
		name = json_string_value(json_object_get(root, "name"));
	if (name)
		snprintf(out, len, "box %s (%.12s)", name, id);
	else
		snprintf(out, len, "box %.12s", id);
	json_decref(root);
}

int box_ipam_lock(const box_ctx *ctx, const char *bridge, uint32_t net, int prefix)
{
	char path[PATH_MAX], want[32], have[32], a[INET_ADDRSTRLEN];
	int fd, r;

	snprintf(path, sizeof(path), "%s/net/%s/leases", ctx->state_dir, bridge);
	r = box_mkdir_p(path, 0700);
	if (r < 0)
		return box_err_errno(-r, "network %s: mkdir %s", bridge, path);
	snprintf(path, sizeof(path), "%s/net/ports", ctx->state_dir);
	r = box_mkdir_p(path, 0700);
	if (r < 0)
		return box_err_errno(-r, "network %s: mkdir %s", bridge, path);
	snprintf(path, sizeof(path), "%s/net/%s/lock", ctx->state_dir, bridge);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return box_err_errno(errno, "network %s: open %s", bridge, path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			r = box_err_errno(errno, "network %s: flock %s", bridge, path);
			close(fd);
			return r;
		}
	}
	inet_ntop(AF_INET, &net, a, sizeof(a));
	snprintf(want, sizeof(want), "%s/%d", a, prefix);
	snprintf(path, sizeof(path), "%s/net/%s/subnet", ctx->state_dir, bridge);
	if (read_small(path, have, sizeof(have)) > 0) {
		if (strcmp(have, want) != 0) {
			close(fd);
			return box_err(EEXIST, "network %s has subnet %s, not %s: give another bridge "
					       "name for another subnet", bridge, have, want);
		}
	} else {
		char line[40];

		snprintf(line, sizeof(line), "%s\n", want);
		r = write_file(path, line, false);
		if (r < 0) {
			close(fd);
			return box_err_errno(-r, "network %s: writing %s", bridge, path);
		}
	}
	return fd;
}

/* Take leases/<ip> for id: 0, or -EADDRINUSE with holder filled. */
static int take(const box_ctx *ctx, const char *bridge, uint32_t ip, const char *id,
		char *holder, size_t hlen)
{
	char path[PATH_MAX], a[INET_ADDRSTRLEN], line[80];
	int r;

	inet_ntop(AF_INET, &ip, a, sizeof(a));
	snprintf(path, sizeof(path), "%s/net/%s/leases/%s", ctx->state_dir, bridge, a);
	snprintf(line, sizeof(line), "%s\n", id);
	r = write_file(path, line, true);
	if (r != -EEXIST)
		return r;
	if (read_small(path, holder, hlen) >= 0 && box_known(ctx, holder))
		return -EADDRINUSE;
	/* its box is gone without releasing it: reclaimed */
	return write_file(path, line, false);
}

int box_ipam_lease(const box_ctx *ctx, const char *bridge, uint32_t net, int prefix,
		   uint32_t want, const char *id, uint32_t *out)
{
	uint32_t hnet = ntohl(net), size = prefix >= 31 ? 0 : (1u << (32 - prefix)) - 3;
	uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0, start = 0;
	char holder[80], path[PATH_MAX], buf[32], a[INET_ADDRSTRLEN];
	int r;

	if (want) {
		uint32_t h = ntohl(want);

		inet_ntop(AF_INET, &want, a, sizeof(a));
		if ((h & mask) != hnet || h == hnet || h == hnet + 1 || h == (hnet | ~mask))
			return box_err(EINVAL, "address %s is not a free host address of network %s "
					       "(its subnet, gateway .1 and broadcast are not)", a, bridge);
		r = take(ctx, bridge, want, id, holder, sizeof(holder));
		if (r == -EADDRINUSE) {
			char d[160];

			box_desc(ctx, holder, d, sizeof(d));
			return box_err(EADDRINUSE, "address %s is taken by %s", a, d);
		}
		if (r < 0)
			return box_err_errno(-r, "network %s: leasing %s", bridge, a);
		*out = want;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/net/%s/next", ctx->state_dir, bridge);
	if (read_small(path, buf, sizeof(buf)) > 0)
		start = (uint32_t)strtoul(buf, NULL, 10);
	for (uint32_t i = 0; i < size; i++) {
		uint32_t k = (start + i) % size, ip = htonl(hnet + 2 + k);

		r = take(ctx, bridge, ip, id, holder, sizeof(holder));
		if (r == -EADDRINUSE)
			continue;
		if (r < 0) {
			inet_ntop(AF_INET, &ip, a, sizeof(a));
			return box_err_errno(-r, "network %s: leasing %s", bridge, a);
		}
		snprintf(buf, sizeof(buf), "%u\n", (k + 1) % size);
		write_file(path, buf, false);
		*out = ip;
		return 0;
	}
	return box_err(ENOSPC, "network %s: every address of its subnet is leased", bridge);
}

int box_ipam_release(const box_ctx *ctx, const char *bridge, uint32_t ip, const char *id)
{
	char path[PATH_MAX], a[INET_ADDRSTRLEN], holder[80];

	inet_ntop(AF_INET, &ip, a, sizeof(a));
	snprintf(path, sizeof(path), "%s/net/%s/leases/%s", ctx->state_dir, bridge, a);
	if (read_small(path, holder, sizeof(holder)) >= 0 && strcmp(holder, id) == 0)
		unlink(path);
	return 0;
}

static void port_path(const box_ctx *ctx, const struct box_portmap *m, char *path, size_t len)
{
	snprintf(path, len, "%s/net/ports/%s-%u", ctx->state_dir, box_proto_name(m->proto),
		 m->host_port);
}

int box_ipam_port(const box_ctx *ctx, const struct box_portmap *m, const char *id, char *owner,
		  size_t ownerlen, uint32_t *old_ip)
{
	char path[PATH_MAX], line[160], have[160], a[INET_ADDRSTRLEN];
	int r;

	port_path(ctx, m, path, sizeof(path));
	inet_ntop(AF_INET, &m->host_ip, a, sizeof(a));
	snprintf(line, sizeof(line), "%s %s\n", id, a);
	r = write_file(path, line, true);
	if (r != -EEXIST)
		return r;
	*old_ip = 0;
	if (read_small(path, have, sizeof(have)) >= 0) {
		char *sp = strchr(have, ' ');

		if (sp) {
			*sp++ = '\0';
			inet_pton(AF_INET, sp, old_ip);
		}
		if (box_known(ctx, have)) {
			box_desc(ctx, have, owner, ownerlen);
			return -EADDRINUSE;
		}
	}
	/* a box that is gone held it: taken over (1: its map element, if
	 * one was left, is the caller's to remove) */
	r = write_file(path, line, false);
	return r < 0 ? r : 1;
}

void box_ipam_port_release(const box_ctx *ctx, const struct box_portmap *m, const char *id)
{
	char path[PATH_MAX], have[160];

	port_path(ctx, m, path, sizeof(path));
	if (read_small(path, have, sizeof(have)) >= 0) {
		have[strcspn(have, " ")] = '\0';
		if (strcmp(have, id) == 0)
			unlink(path);
	}
}

/* ---- sock_diag ---- */

struct diag {
	uint16_t port;    /* network order */
	uint32_t inode, uid;
	bool found;
};

static int diag_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct diag *d = data;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || d->found)
		return 0;
	if (m->id.idiag_sport == d->port) {
		d->found = true;
		d->inode = m->idiag_inode;
		d->uid = m->idiag_uid;
	}
	return 0;
}

/* The process holding socket inode: "pid N (comm)". */
static void socket_owner(uint32_t inode, char *out, size_t len)
{
	char want[64], path[PATH_MAX], link[64];
	DIR *proc = opendir("/proc");
	struct dirent *p;

	snprintf(want, sizeof(want), "socket:[%u]", inode);
	while (proc && (p = readdir(proc))) {
		DIR *fds;
		struct dirent *f;

		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		fds = opendir(path);
		while (fds && (f = readdir(fds))) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, f->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (strcmp(link, want) == 0) {
				char comm[64] = "?";

				snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
				read_small(path, comm, sizeof(comm));
				snprintf(out, len, "process %s (%s)", p->d_name, comm);
				closedir(fds);
				closedir(proc);
				return;
			}
		}
		if (fds)
			closedir(fds);
	}
	if (proc)
		closedir(proc);
}

static int bind_check(int proto, uint16_t port, char *owner, size_t ownerlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, (proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		r = errno == EADDRINUSE ? 1 : -errno;
		snprintf(owner, ownerlen, "a socket of the host (without sock_diag in this "
					  "kernel its owner is unknown)");
	}
	close(fd);
	return r;
}

int box_diag_port(int proto, uint16_t port, char *owner, size_t ownerlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct box_nl nl;
	int r = box_nl_open(&nl, NETLINK_SOCK_DIAG, -1);

	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		char buf[256];
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct inet_diag_req_v2 *req;
		struct diag d = { .port = htons(port) };

		nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = ++nl.seq;
		req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
		req->sdiag_family = (uint8_t)families[i];
		req->sdiag_protocol = (uint8_t)proto;
		/* TCP: listening sockets; UDP: every bound one */
		req->idiag_states = proto == IPPROTO_TCP ? 1u << TCP_LISTEN : ~0u;
		r = box_nl_talk(&nl, nlh, nlh->nlmsg_len, 1, diag_cb, &d);
		if (r < 0 && families[i] == AF_INET6) {
			r = 0; /* no IPv6 here */
			continue;
		}
		if (r == -ENOENT) {
			/* no inet_diag in this kernel: a bind tells, without the owner */
			r = bind_check(proto, port, owner, ownerlen);
			break;
		}
		if (r < 0)
			break;
		if (d.found) {
			snprintf(owner, ownerlen, "a socket of uid %u (inode %u)", d.uid, d.inode);
			socket_owner(d.inode, owner, ownerlen);
			r = 1;
			break;
		}
	}
	box_nl_close(&nl);
	return r;
}
