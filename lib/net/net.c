/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a box gets of the network, in three moments:
 *
 *  box_net_prepare()  before clone: its address and host ports reserved
 *                     (ipam.c), the bridge, forwarding and the nftables
 *                     table made when missing, its record (net.json) and
 *                     its /etc/hosts and /etc/resolv.conf written in its
 *                     state directory (the child binds them);
 *  box_net_attach()   once the child waits in its namespaces: a veth pair
 *                     made with its peer directly in the box's namespace
 *                     as eth0, configured from a netlink socket opened in
 *                     that namespace, and the port maps' elements added;
 *  box_net_release()  on destroy, and by box_gc() from net.json after its
 *                     creator died: elements, veth, ports and lease go. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "net/net.h"

struct box_net {
	int mode;
	char bridge[IFNAMSIZ], veth[IFNAMSIZ];
	uint32_t net, ip, gw;
	int prefix;
	struct box_portmap *maps;
	size_t nmaps;
	uint64_t ns_dev, ns_ino;   /* the host namespace the box lives in */
	char *hosts, *resolv;      /* files in the box's state directory */
};

void box_net_free(struct box_net *n)
{
	if (!n)
		return;
	free(n->maps);
	free(n->hosts);
	free(n->resolv);
	free(n);
}

static const char *ntoa(uint32_t ip, char *buf)
{
	return inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

int box_parse_cidr(const char *s, uint32_t *net, int *prefix)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	long p;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	p = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || p < 8 || p > 30 || inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	if (ntohl(a.s_addr) & ~(0xffffffffu << (32 - p)))
		return -EINVAL; /* host bits set */
	*net = a.s_addr;
	*prefix = (int)p;
	return 0;
}

static int ns_id(uint64_t *dev, uint64_t *ino)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static int sysctl_on(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDWR | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (read(fd, &c, 1) == 1 && c == '1') {
		close(fd);
		return 0;
	}
	if (pwrite(fd, "1\n", 2, 0) != 2)
		r = -errno;
	close(fd);
	return r;
}

/* ---- the record ---- */

static char *box_file(const box_ctx *ctx, const char *id, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/boxes/%s/%s", ctx->state_dir, id, name) < 0)
		return NULL;
	return p;
}

static json_t *net_to_json(const struct box_net *n)
{
	static const char *const modes[] = { "", "none", "host", "bridge" };
	char a[INET_ADDRSTRLEN], sub[40];
	json_t *root = json_object(), *ports = json_array();

	json_object_set_new(root, "mode", json_string(modes[n->mode]));
	if (n->mode == BOX_NET_BRIDGE) {
		snprintf(sub, sizeof(sub), "%s/%d", ntoa(n->net, a), n->prefix);
		json_object_set_new(root, "bridge", json_string(n->bridge));
		json_object_set_new(root, "subnet", json_string(sub));
		json_object_set_new(root, "gateway", json_string(ntoa(n->gw, a)));
		json_object_set_new(root, "ip", json_string(ntoa(n->ip, a)));
		json_object_set_new(root, "veth", json_string(n->veth));
		json_object_set_new(root, "netns", json_pack("{s:I, s:I}", "dev", (json_int_t)n->ns_dev,
							     "ino", (json_int_t)n->ns_ino));
	}
	for (size_t i = 0; i < n->nmaps; i++) {
		const struct box_portmap *m = &n->maps[i];

		json_array_append_new(ports, json_pack("{s:s, s:s, s:i, s:i}", "proto",
						       box_proto_name(m->proto), "host_ip",
						       ntoa(m->host_ip, a), "host_port", m->host_port,
						       "box_port", m->box_port));
	}
	json_object_set_new(root, "ports", ports);
	return root;
}

static int save(const box_ctx *ctx, const char *id, const struct box_net *n)
{
	_cleanup_free_ char *path = box_file(ctx, id, "net.json"), *tmp = NULL;
	json_t *root = net_to_json(n);
	int r = 0;

	if (!path || asprintf(&tmp, "%s.tmp", path) < 0) {
		json_decref(root);
		return -ENOMEM;
	}
	if (json_dump_file(root, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) < 0 || rename(tmp, path) < 0)
		r = -EIO;
	json_decref(root);
	if (r < 0)
		unlink(tmp);
	return r;
}

json_t *box_net_json(const box_ctx *ctx, const char *id)
{
	_cleanup_free_ char *path = box_file(ctx, id, "net.json");

	return path ? json_load_file(path, 0, NULL) : NULL;
}

struct box_net *box_net_load(const box_ctx *ctx, const char *id)
{
	json_t *root = box_net_json(ctx, id), *ports, *v;
	struct box_net *n;
	const char *mode, *s;
	size_t i;

	if (!root)
		return NULL;
	n = calloc(1, sizeof(*n));
	mode = json_string_value(json_object_get(root, "mode"));
	if (!n || !mode)
		goto bad;
	n->mode = strcmp(mode, "bridge") == 0 ? BOX_NET_BRIDGE
		: strcmp(mode, "host") == 0   ? BOX_NET_HOST
					      : BOX_NET_NONE;
	if (n->mode == BOX_NET_BRIDGE) {
		s = json_string_value(json_object_get(root, "bridge"));
		snprintf(n->bridge, sizeof(n->bridge), "%s", s ? s : "");
		s = json_string_value(json_object_get(root, "veth"));
		snprintf(n->veth, sizeof(n->veth), "%s", s ? s : "");
		s = json_string_value(json_object_get(root, "ip"));
		if (!s || inet_pton(AF_INET, s, &n->ip) != 1)
			goto bad;
		s = json_string_value(json_object_get(root, "gateway"));
		if (s)
			inet_pton(AF_INET, s, &n->gw);
		if (box_parse_cidr(json_string_value(json_object_get(root, "subnet")), &n->net,
				   &n->prefix) < 0)
			goto bad;
		v = json_object_get(root, "netns");
		n->ns_dev = (uint64_t)json_integer_value(json_object_get(v, "dev"));
		n->ns_ino = (uint64_t)json_integer_value(json_object_get(v, "ino"));
	}
	ports = json_object_get(root, "ports");
	n->maps = calloc(json_array_size(ports) + 1, sizeof(*n->maps));
	if (!n->maps)
		goto bad;
	json_array_foreach(ports, i, v) {
		struct box_portmap *m = &n->maps[n->nmaps];

		s = json_string_value(json_object_get(v, "proto"));
		m->proto = s && strcmp(s, "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
		s = json_string_value(json_object_get(v, "host_ip"));
		if (s)
			inet_pton(AF_INET, s, &m->host_ip);
		m->host_port = (uint16_t)json_integer_value(json_object_get(v, "host_port"));
		m->box_port = (uint16_t)json_integer_value(json_object_get(v, "box_port"));
		m->box_ip = n->ip;
		n->nmaps++;
	}
	json_decref(root);
	return n;
bad:
	json_decref(root);
	box_net_free(n);
	return NULL;
}

/* ---- /etc/hosts and /etc/resolv.conf ---- */

static int write_etc(struct box *b, const struct box_config *cfg, struct box_net *n)
{
	char hosts[1024], a[INET_ADDRSTRLEN], line[512];
	const char *host = cfg->hostname ? cfg->hostname : b->name;
	size_t len;
	char *resolv = NULL;
	size_t rlen = 0;
	FILE *out, *in;
	int r;

	n->hosts = box_file(b->ctx, b->id, "hosts");
	n->resolv = box_file(b->ctx, b->id, "resolv.conf");
	if (!n->hosts || !n->resolv)
		return box_err(ENOMEM, "box_create: out of memory");
	len = (size_t)snprintf(hosts, sizeof(hosts),
			       "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (n->mode == BOX_NET_BRIDGE)
		snprintf(hosts + len, sizeof(hosts) - len, "%s\t%s%s%s\n", ntoa(n->ip, a),
			 host ? host : "", host && b->name && strcmp(host, b->name) ? " " : "",
			 host && b->name && strcmp(host, b->name) ? b->name : "");
	else if (host)
		snprintf(hosts + len, sizeof(hosts) - len, "127.0.1.1\t%s\n", host);
	r = box_write_small(AT_FDCWD, n->hosts, hosts, false, 0644);
	if (r < 0)
		return box_err_errno(-r, "box_create: writing %s", n->hosts);

	out = open_memstream(&resolv, &rlen);
	if (!out)
		return box_err(ENOMEM, "box_create: out of memory");
	if (cfg->dns) {
		for (size_t i = 0; cfg->dns[i]; i++)
			fprintf(out, "nameserver %s\n", cfg->dns[i]);
	} else if ((in = fopen("/etc/resolv.conf", "re"))) {
		/* the host's, less its loopback resolvers (a local stub the box
		 * cannot reach from its own namespace) */
		while (fgets(line, sizeof(line), in)) {
			char ns[256];

			if (n->mode != BOX_NET_HOST && sscanf(line, " nameserver %255s", ns) == 1 &&
			    (strncmp(ns, "127.", 4) == 0 || strcmp(ns, "::1") == 0))
				continue;
			fputs(line, out);
		}
		fclose(in);
	}
	fclose(out);
	r = box_write_small(AT_FDCWD, n->resolv, resolv ? resolv : "", false, 0644);
	free(resolv);
	if (r < 0)
		return box_err_errno(-r, "box_create: writing %s", n->resolv);
	return 0;
}

/* ---- prepare, attach, release ---- */

static int expand_ports(const struct box_config *cfg, struct box_net *n)
{
	size_t total = 0;

	for (size_t i = 0; i < cfg->nports; i++)
		total += cfg->ports[i].count;
	n->maps = calloc(total + 1, sizeof(*n->maps));
	if (!n->maps)
		return box_err(ENOMEM, "box_create: out of memory");
	for (size_t i = 0; i < cfg->nports; i++) {
		const struct box_port *p = &cfg->ports[i];

		for (unsigned k = 0; k < p->count; k++) {
			struct box_portmap *m = &n->maps[n->nmaps];

			m->proto = p->proto;
			m->host_ip = p->host_ip;
			m->host_port = (uint16_t)(p->host_port + k);
			m->box_port = (uint16_t)(p->box_port + k);
			m->box_ip = n->ip;
			for (size_t j = 0; j < n->nmaps; j++)
				if (n->maps[j].proto == m->proto && n->maps[j].host_port == m->host_port)
					return box_err(EINVAL, "box_create: host port %s/%u is mapped "
							       "twice", box_proto_name(m->proto),
						       m->host_port);
			n->nmaps++;
		}
	}
	return 0;
}

/* Undo the reservations in files (ports, lease). */
static void release_files(const box_ctx *ctx, const char *id, const struct box_net *n,
			  size_t nports)
{
	for (size_t i = 0; i < nports; i++)
		box_ipam_port_release(ctx, &n->maps[i], id);
	if (n->ip)
		box_ipam_release(ctx, n->bridge, n->ip, id);
}

/* Under the network's lock: lease, ports, the bridge and the table. */
static int reserve(struct box *b, const struct box_config *cfg, struct box_net *n)
{
	const box_ctx *ctx = b->ctx;
	char owner[200], a[INET_ADDRSTRLEN], err[512];
	struct box_nl nl;
	size_t taken = 0;
	uint32_t old_ip;
	int lock, r;

	lock = box_ipam_lock(ctx, n->bridge, n->net, n->prefix);
	if (lock < 0)
		return lock;
	r = box_ipam_lease(ctx, n->bridge, n->net, n->prefix, cfg->ip, b->id, &n->ip);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n->nmaps; i++)
		n->maps[i].box_ip = n->ip;
	for (; taken < n->nmaps; taken++) {
		struct box_portmap *m = &n->maps[taken];

		r = box_diag_port(m->proto, m->host_port, owner, sizeof(owner));
		if (r == 1) {
			r = box_err(EADDRINUSE, "host port %s/%u is taken: %s listens on it",
				    box_proto_name(m->proto), m->host_port, owner);
			goto out;
		}
		if (r < 0) {
			r = box_err_errno(-r, "host port %s/%u: sock_diag", box_proto_name(m->proto),
					  m->host_port);
			goto out;
		}
		r = box_ipam_port(ctx, m, b->id, owner, sizeof(owner), &old_ip);
		if (r == -EADDRINUSE) {
			r = box_err(EADDRINUSE, "host port %s/%u is taken: %s maps it",
				    box_proto_name(m->proto), m->host_port, owner);
			goto out;
		}
		if (r < 0) {
			r = box_err_errno(-r, "host port %s/%u: reserving it", box_proto_name(m->proto),
					  m->host_port);
			goto out;
		}
		if (r == 1) {
			/* from a box gone without its release: no stale element
			 * may stay in the way (absent: fine) */
			struct box_portmap stale = *m;

			stale.host_ip = old_ip;
			box_nft_ports(false, &stale, 1, err, sizeof(err));
		}
	}
	/* the bridge, made on first use, with the gateway's address */
	r = box_nl_open(&nl, NETLINK_ROUTE, -1);
	if (r < 0) {
		r = box_err_errno(-r, "network %s: netlink socket", n->bridge);
		goto out;
	}
	r = box_link_bridge(&nl, n->bridge, n->gw, n->prefix);
	if (r < 0)
		r = box_err(-r, "network %s: making the bridge with %s/%d: %s%s", n->bridge,
			    ntoa(n->gw, a), n->prefix, box_strerror(r), box_nl_why(&nl));
	box_nl_close(&nl);
	if (r < 0)
		goto out;
	{
		char path[128];

		r = sysctl_on("/proc/sys/net/ipv4/ip_forward");
		if (r < 0) {
			r = box_err_errno(-r, "network %s: enabling net.ipv4.ip_forward", n->bridge);
			goto out;
		}
		/* 127.0.0.1:PORT reaches the box: DNAT'd traffic from the
		 * loopback address may leave through the bridge */
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge);
		r = sysctl_on(path);
		if (r < 0) {
			r = box_err_errno(-r, "network %s: enabling route_localnet", n->bridge);
			goto out;
		}
	}
	r = box_nft_setup(n->bridge, n->net, n->prefix, err, sizeof(err));
	if (r < 0)
		r = box_err(-r, "%s", err);
out:
	if (r < 0)
		release_files(ctx, b->id, n, taken);
	close(lock);
	return r;
}

int box_net_prepare(struct box *b, struct box_config *cfg)
{
	struct box_net *n;
	int r;

	if (!cfg->net_mode) {
		if (cfg->nports || cfg->ip)
			return box_err(EINVAL, "box_create: port maps and addresses need bridge "
					       "networking (box_config_set_network)");
		return 0;
	}
	if (cfg->net_mode != BOX_NET_BRIDGE && (cfg->nports || cfg->ip))
		return box_err(EINVAL, "box_create: port maps and addresses need bridge networking, "
				       "not %s", cfg->net_mode == BOX_NET_HOST ? "host" : "none");
	if ((cfg->net_mode == BOX_NET_HOST) == !!(cfg->ns & BOX_NS_NET))
		return box_err(EINVAL, "box_create: network mode %s %s a network namespace "
				       "(BOX_NS_NET)", cfg->net_mode == BOX_NET_HOST ? "host" : "bridge/none",
			       cfg->net_mode == BOX_NET_HOST ? "excludes" : "needs");
	n = calloc(1, sizeof(*n));
	if (!n)
		return box_err(ENOMEM, "box_create: out of memory");
	n->mode = cfg->net_mode;
	if (n->mode == BOX_NET_BRIDGE) {
		r = box_parse_cidr(b->ctx->subnet, &n->net, &n->prefix);
		if (r < 0) {
			r = box_err(EINVAL, "box_create: subnet \"%s\" is not an IPv4 network/prefix",
				    b->ctx->subnet);
			goto fail;
		}
		n->gw = htonl(ntohl(n->net) + 1);
		snprintf(n->bridge, sizeof(n->bridge), "%s", b->ctx->bridge);
		snprintf(n->veth, sizeof(n->veth), "vb%.12s", b->id);
		r = ns_id(&n->ns_dev, &n->ns_ino);
		if (r < 0) {
			r = box_err_errno(-r, "box_create: /proc/thread-self/ns/net");
			goto fail;
		}
		r = expand_ports(cfg, n);
		if (r < 0)
			goto fail;
		r = reserve(b, cfg, n);
		if (r < 0)
			goto fail;
	}
	r = save(b->ctx, b->id, n);
	if (r < 0) {
		release_files(b->ctx, b->id, n, n->nmaps);
		r = box_err_errno(-r, "box %.12s: writing net.json", b->id);
		goto fail;
	}
	b->net = n;
	r = write_etc(b, cfg, n);
	if (r < 0)
		return r; /* the caller releases b->net */
	cfg->hosts_file = n->hosts;
	cfg->resolv_file = n->resolv;
	if (n->mode == BOX_NET_BRIDGE)
		box_net_ip(n, b->ip);
	return 0;
fail:
	box_net_free(n);
	return r;
}

int box_net_attach(struct box *b)
{
	struct box_net *n = b->net;
	char path[64], err[512], a[INET_ADDRSTRLEN];
	struct box_nl nl;
	int nsfd, master, r;

	if (!n || n->mode != BOX_NET_BRIDGE)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", b->pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return box_err_errno(errno, "box %.12s: open %s", b->id, path);
	r = box_nl_open(&nl, NETLINK_ROUTE, -1);
	if (r < 0) {
		close(nsfd);
		return box_err_errno(-r, "box %.12s: netlink socket", b->id);
	}
	master = box_link_index(&nl, n->bridge);
	r = master < 0 ? master : box_link_veth(&nl, n->veth, master, "eth0", nsfd);
	if (r < 0)
		r = box_err(-r, "box %.12s: veth pair %s on %s: %s%s", b->id, n->veth, n->bridge,
			    box_strerror(r), box_nl_why(&nl));
	box_nl_close(&nl);
	if (r == 0) {
		r = box_nl_open(&nl, NETLINK_ROUTE, nsfd);
		if (r < 0)
			r = box_err_errno(-r, "box %.12s: netlink socket in its namespace", b->id);
		else {
			r = box_link_configure(&nl, "eth0", n->ip, n->prefix, n->gw);
			if (r < 0)
				r = box_err(-r, "box %.12s: eth0 with %s/%d via %s: %s%s", b->id,
					    ntoa(n->ip, a), n->prefix,
					    ntoa(n->gw, (char[INET_ADDRSTRLEN]){ 0 }), box_strerror(r),
					    box_nl_why(&nl));
			box_nl_close(&nl);
		}
	}
	close(nsfd);
	if (r == 0) {
		r = box_nft_ports(true, n->maps, n->nmaps, err, sizeof(err));
		if (r < 0)
			r = box_err(-r, "box %.12s: %s", b->id, err);
	}
	return r;
}

int box_net_release(const box_ctx *ctx, const char *id, struct box_net *n)
{
	struct box_net *loaded = NULL;
	char err[512];
	int r = 0;

	if (!n)
		n = loaded = box_net_load(ctx, id);
	if (!n || n->mode != BOX_NET_BRIDGE) {
		box_net_free(loaded);
		return 0;
	}
	{
		uint64_t dev = 0, ino = 0;

		/* the kernel's objects only where they live: the namespace the
		 * box was made in (gone with it otherwise) */
		if (ns_id(&dev, &ino) == 0 && dev == n->ns_dev && ino == n->ns_ino) {
			struct box_nl nl;

			r = box_nft_ports(false, n->maps, n->nmaps, err, sizeof(err));
			if (r < 0)
				r = box_err(-r, "box %.12s: %s", id, err);
			if (box_nl_open(&nl, NETLINK_ROUTE, -1) == 0) {
				int rc = box_link_del(&nl, n->veth);

				if (rc < 0 && r == 0)
					r = box_err(-rc, "box %.12s: deleting %s: %s%s", id, n->veth,
						    box_strerror(rc), box_nl_why(&nl));
				box_nl_close(&nl);
			}
		}
	}
	release_files(ctx, id, n, n->nmaps);
	box_net_free(loaded);
	return r;
}

/* ---- the public face ---- */

BOX_EXPORT const char *box_ip(const box *b)
{
	return b && b->ip[0] ? b->ip : NULL;
}

static json_t *network_json(const box_ctx *ctx, const char *bridge)
{
	char path[PATH_MAX], sub[40] = "", line[160];
	json_t *o = json_object(), *leases = json_object(), *ports = json_array();
	struct box_nl nl;
	DIR *d;
	struct dirent *e;
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/%s/subnet", ctx->state_dir, bridge);
	if ((f = fopen(path, "re"))) {
		if (fgets(sub, sizeof(sub), f))
			sub[strcspn(sub, "\n")] = '\0';
		fclose(f);
	}
	json_object_set_new(o, "name", json_string(bridge));
	json_object_set_new(o, "subnet", json_string(sub));
	{
		uint32_t net;
		int prefix;
		char a[INET_ADDRSTRLEN];

		if (box_parse_cidr(sub, &net, &prefix) == 0)
			json_object_set_new(o, "gateway", json_string(ntoa(htonl(ntohl(net) + 1), a)));
	}
	if (box_nl_open(&nl, NETLINK_ROUTE, -1) == 0) {
		json_object_set_new(o, "exists", json_boolean(box_link_index(&nl, bridge) > 0));
		box_nl_close(&nl);
	}
	snprintf(path, sizeof(path), "%s/net/%s/leases", ctx->state_dir, bridge);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/net/%s/leases/%s", ctx->state_dir, bridge, e->d_name);
		if ((f = fopen(path, "re"))) {
			if (fgets(line, sizeof(line), f)) {
				line[strcspn(line, "\n")] = '\0';
				json_object_set_new(leases, e->d_name, json_string(line));
			}
			fclose(f);
		}
	}
	if (d)
		closedir(d);
	json_object_set_new(o, "leases", leases);
	snprintf(path, sizeof(path), "%s/net/ports", ctx->state_dir);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		char id[80], hip[INET_ADDRSTRLEN];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/net/ports/%s", ctx->state_dir, e->d_name);
		if ((f = fopen(path, "re"))) {
			if (fgets(line, sizeof(line), f) && sscanf(line, "%79s %15s", id, hip) == 2)
				json_array_append_new(ports, json_pack("{s:s, s:s, s:s}", "port",
								       e->d_name, "host_ip", hip,
								       "box", id));
			fclose(f);
		}
	}
	if (d)
		closedir(d);
	json_object_set_new(o, "ports", ports);
	return o;
}

BOX_EXPORT char *box_network_inspect(box_ctx *ctx, const char *bridge)
{
	char path[PATH_MAX];
	json_t *out;
	char *text;

	box_err_clear();
	if (!ctx) {
		box_err(EINVAL, "box_network_inspect: ctx is NULL");
		return NULL;
	}
	if (bridge) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/net/%s/subnet", ctx->state_dir, bridge);
		if (strchr(bridge, '/') || stat(path, &st) < 0) {
			box_err(ENOENT, "network %s: no such network (none of its boxes was made "
					"with this state directory)", bridge);
			return NULL;
		}
		out = network_json(ctx, bridge);
	} else {
		DIR *d;
		struct dirent *e;

		out = json_array();
		snprintf(path, sizeof(path), "%s/net", ctx->state_dir);
		d = opendir(path);
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.' && strcmp(e->d_name, "ports") != 0)
				json_array_append_new(out, network_json(ctx, e->d_name));
		if (d)
			closedir(d);
	}
	text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(out);
	if (!text)
		box_err(ENOMEM, "box_network_inspect: out of memory");
	return text;
}

void box_net_ip(const struct box_net *n, char ip[16])
{
	ip[0] = '\0';
	if (n && n->mode == BOX_NET_BRIDGE && n->ip)
		ntoa(n->ip, ip);
}
