/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Networking inside the library: netlink sockets (nl.c), links and
 * addresses (link.c), the nftables table (nft.c), addresses and host
 * ports on disk (ipam.c), and what a box gets (net.c). */
#ifndef LIBBOX_NET_H
#define LIBBOX_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nlmsghdr;

/* ---- nl.c: one netlink socket with extended acks ---- */
struct box_nl {
	struct mnl_socket *sk;
	uint32_t portid, seq;
	char msg[256];      /* the kernel's extended ack message of the last error */
};
/* Open a socket of bus (NETLINK_ROUTE, NETLINK_NETFILTER...) in the
 * caller's network namespace, or in the one of netns_fd (>= 0). */
int box_nl_open(struct box_nl *nl, int bus, int netns_fd);
void box_nl_close(struct box_nl *nl);
typedef int (*box_nl_cb)(const struct nlmsghdr *nlh, void *data);
/* Send len bytes (messages carrying NLM_F_ACK, expect of them) and read
 * until that many acks (or a dump's end) came; data messages go to cb.
 * Returns 0 or the first -errno; nl->msg then holds the kernel's words. */
int box_nl_talk(struct box_nl *nl, const void *buf, size_t len, int expect, box_nl_cb cb,
		void *data);
/* ": <kernel message>" or "" for an error message. */
const char *box_nl_why(const struct box_nl *nl);

/* ---- link.c ---- */
/* The ifindex of name (-ENODEV when absent). */
int box_link_index(struct box_nl *nl, const char *name);
/* Make the bridge (if absent) with gw/prefix on it, up. */
int box_link_bridge(struct box_nl *nl, const char *name, uint32_t gw, int prefix);
/* A veth pair: host (up, on bridge master) and peer, created directly in
 * the namespace netns_fd. */
int box_link_veth(struct box_nl *nl, const char *host, int master, const char *peer,
		  int netns_fd);
/* Delete a link (absent: 0). */
int box_link_del(struct box_nl *nl, const char *name);
/* In the box's namespace (nl opened there): dev gets ip/prefix, up, and
 * the default route via gw. */
int box_link_configure(struct box_nl *nl, const char *dev, uint32_t ip, int prefix, uint32_t gw);

/* ---- nft.c ---- */
struct box_portmap {
	uint8_t proto;          /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t host_ip;       /* network order; 0: every address of the host */
	uint16_t host_port, box_port;
	uint32_t box_ip;        /* network order */
};
/* The libbox table (made on first use) and bridge in its set of bridges. */
int box_nft_setup(const char *bridge, uint32_t net, int prefix, char *err, size_t errlen);
/* Add or delete the elements of n port maps in one transaction. */
int box_nft_ports(bool add, const struct box_portmap *maps, size_t n, char *err, size_t errlen);
#define BOX_NFT_TABLE "libbox"

/* ---- ipam.c: leases and host ports in STATE/net ---- */
struct box_ctx;
/* Lock STATE/net/<bridge> (created with its subnet file): an fd, or -errno. */
int box_ipam_lock(const struct box_ctx *ctx, const char *bridge, uint32_t net, int prefix);
/* Lease an address for id: want (network order) or 0 for the next free. */
int box_ipam_lease(const struct box_ctx *ctx, const char *bridge, uint32_t net, int prefix,
		   uint32_t want, const char *id, uint32_t *out);
int box_ipam_release(const struct box_ctx *ctx, const char *bridge, uint32_t ip, const char *id);
/* Reserve proto/port for id: 0, 1 when taken over from a box that is gone
 * (*old_ip: the host address it was mapped on), -EADDRINUSE (its owner
 * in owner), -errno. */
int box_ipam_port(const struct box_ctx *ctx, const struct box_portmap *m, const char *id,
		  char *owner, size_t ownerlen, uint32_t *old_ip);
void box_ipam_port_release(const struct box_ctx *ctx, const struct box_portmap *m,
			   const char *id);
const char *box_proto_name(int proto);

/* ---- sock_diag: who listens on a port of this namespace ---- */
/* 1 (and a description in owner) when a socket of proto is bound to
 * port, 0 when none, -errno. */
int box_diag_port(int proto, uint16_t port, char *owner, size_t ownerlen);

#endif
