/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one nftables table libbox owns ("ip libbox"), through libnftnl in
 * batch transactions.  Its rules never change once made; what grows with
 * the boxes are elements of its maps and sets, so the thousandth box's
 * ports cost what the first's did:
 *
 *   map ports     { inet_proto . inet_service : ipv4_addr . inet_service }
 *   map ports_ip  { ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service }
 *   set bridges   { ifname }
 *   set subnets   { ipv4_addr, intervals }: the bridges' subnets
 *   prerouting (nat, -100), output (nat, -100):
 *     dnat to ip daddr . meta l4proto . th dport map @ports_ip
 *     fib daddr type local dnat to meta l4proto . th dport map @ports
 *   postrouting (nat, 100):
 *     ip saddr @subnets oifname != @bridges masquerade     (out of the subnet)
 *     ip saddr @subnets oifname @bridges ct status dnat masquerade (hairpin)
 *     oifname @bridges ct status dnat ip saddr 127.0.0.0/8 masquerade
 *   forward (filter, 0):
 *     iifname @bridges accept; oifname @bridges accept
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/rtnetlink.h>

#include "internal.h"
#include "net/net.h"

/* nft's data types, for `nft list` to show the keys (include/datatype.h) */
#define TYPE_IPADDR 7
#define TYPE_INET_PROTOCOL 12
#define TYPE_INET_SERVICE 13
#define TYPE_IFNAME 41
#define CONCAT2(a, b) (((a) << 6) | (b))
#define CONCAT3(a, b, c) (((((a) << 6) | (b)) << 6) | (c))

struct batch {
	struct mnl_nlmsg_batch *b;
	char *buf;
	uint32_t seq;
	int n;        /* messages that will be acked */
	bool full;
};

static int batch_start(struct batch *bt, size_t limit)
{
	memset(bt, 0, sizeof(*bt));
	bt->buf = malloc(limit * 2);
	if (!bt->buf)
		return -ENOMEM;
	bt->b = mnl_nlmsg_batch_start(bt->buf, limit);
	bt->seq = (uint32_t)time(NULL);
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	mnl_nlmsg_batch_next(bt->b);
	return 0;
}

static struct nlmsghdr *batch_msg(struct batch *bt, int type, int flags)
{
	return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), (uint16_t)type, NFPROTO_IPV4,
				     (uint16_t)(flags | NLM_F_ACK), bt->seq++);
}

static void batch_next(struct batch *bt)
{
	if (!mnl_nlmsg_batch_next(bt->b))
		bt->full = true;
	bt->n++;
}

static int batch_send(struct batch *bt, char *err, size_t errlen, const char *what)
{
	struct box_nl nl;
	int r;

	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	mnl_nlmsg_batch_next(bt->b);
	if (bt->full) {
		snprintf(err, errlen, "%s: the nftables batch outgrew its buffer", what);
		return -E2BIG;
	}
	r = box_nl_open(&nl, NETLINK_NETFILTER, -1);
	if (r < 0) {
		snprintf(err, errlen, "%s: netlink socket: %s", what, box_strerror(r));
		return r;
	}
	{
		/* a big batch is one sendmsg: room for it (as nft does) */
		int size = (int)mnl_nlmsg_batch_size(bt->b) + 4096, fd = mnl_socket_get_fd(nl.sk);

		if (size > 200000 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	r = box_nl_talk(&nl, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b), bt->n, NULL,
			NULL);
	if (r < 0)
		snprintf(err, errlen, "%s: %s%s", what, box_strerror(r), box_nl_why(&nl));
	box_nl_close(&nl);
	return r;
}

static void batch_free(struct batch *bt)
{
	if (bt->b)
		mnl_nlmsg_batch_stop(bt->b);
	free(bt->buf);
}

/* ---- expressions ---- */

static void add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *meta(int key, int dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, (uint32_t)key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, (uint32_t)dreg);
	return e;
}

static struct nftnl_expr *payload(int base, int off, int len, int dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, (uint32_t)base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, (uint32_t)off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, (uint32_t)len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, (uint32_t)dreg);
	return e;
}

static struct nftnl_expr *cmp(int op, const void *data, size_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, (uint32_t)op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, (uint32_t)len);
	return e;
}

static struct nftnl_expr *lookup(const char *set, uint32_t id, int dreg, bool inv)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (dreg)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	return e;
}

static struct nftnl_expr *dnat_regs(void)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	return e;
}

static struct nftnl_expr *ct_dnat(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	uint32_t mask = IPS_DST_NAT, zero = 0;

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add(r, e);
	e = nftnl_expr_alloc("bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	return e;
}

enum { SET_PORTS = 1, SET_PORTS_IP, SET_BRIDGES, SET_SUBNETS };

/* rule builders: each returns the rule, filled */
static struct nftnl_rule *rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, BOX_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	return r;
}

static struct nftnl_rule *rule_dnat_ip(const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);

	add(r, payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1));
	add(r, meta(NFT_META_L4PROTO, NFT_REG32_01));
	add(r, payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02));
	add(r, lookup("ports_ip", SET_PORTS_IP, NFT_REG_1, false));
	add(r, dnat_regs());
	return r;
}

static struct nftnl_rule *rule_dnat_local(const char *chain)
{
	struct nftnl_rule *r = rule_new(chain);
	struct nftnl_expr *e = nftnl_expr_alloc("fib");
	uint32_t local = RTN_LOCAL;

	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	add(r, e);
	add(r, cmp(NFT_CMP_EQ, &local, 4));
	add(r, meta(NFT_META_L4PROTO, NFT_REG_1));
	add(r, payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01));
	add(r, lookup("ports", SET_PORTS, NFT_REG_1, false));
	add(r, dnat_regs());
	return r;
}

static struct nftnl_rule *rule_masq(int kind)
{
	struct nftnl_rule *r = rule_new("postrouting");
	uint32_t zero = 0;
	uint8_t lo = 127;

	/* (iifname is no help here: postrouting has none, and with
	 * br_netfilter prerouting sees the bridge's port, not the bridge) */
	if (kind != 2) {
		add(r, payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1));
		add(r, lookup("subnets", SET_SUBNETS, 0, false));
	}
	add(r, meta(NFT_META_OIFNAME, NFT_REG_1));
	/* 0: leaving the bridges; 1: a box to a published port (hairpin);
	 * 2: from 127.0.0.0/8 on the host to a published port */
	add(r, lookup("bridges", SET_BRIDGES, 0, kind == 0));
	if (kind != 0) {
		add(r, ct_dnat(r));
		add(r, cmp(NFT_CMP_NEQ, &zero, 4));
	}
	if (kind == 2) {
		add(r, payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 1, NFT_REG_1));
		add(r, cmp(NFT_CMP_EQ, &lo, 1));
	}
	add(r, nftnl_expr_alloc("masq"));
	return r;
}

static struct nftnl_rule *rule_accept(int key)
{
	struct nftnl_rule *r = rule_new("forward");
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	add(r, meta(key, NFT_REG_1));
	add(r, lookup("bridges", SET_BRIDGES, 0, false));
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
	add(r, e);
	return r;
}

static void put_table(struct batch *bt)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, BOX_NFT_TABLE);
	nlh = batch_msg(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	batch_next(bt);
}

static void put_set(struct batch *bt, const char *name, uint32_t id, uint32_t ktype,
		    uint32_t klen, uint32_t dtype, uint32_t dlen)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, BOX_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, ktype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
	if (ktype == TYPE_IFNAME) {
		/* for nft to print the names: their bytes are in host order */
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);

		nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, 1 /* BYTEORDER_HOST_ENDIAN */);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
				   nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	if (id == SET_SUBNETS)
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL);
	if (dlen) {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, dtype);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, dlen);
	}
	nlh = batch_msg(bt, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	batch_next(bt);
}

static void put_chain(struct batch *bt, const char *name, const char *type, int hook, int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, BOX_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nlh = batch_msg(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	batch_next(bt);
}

static void put_rule(struct batch *bt, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = batch_msg(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	batch_next(bt);
}

static int table_exists(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	struct box_nl nl;
	int r = box_nl_open(&nl, NETLINK_NETFILTER, -1);

	if (r < 0) {
		nftnl_table_free(t);
		return r;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, BOX_NFT_TABLE);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_IPV4, NLM_F_ACK, ++nl.seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	r = box_nl_talk(&nl, nlh, nlh->nlmsg_len, 1, NULL, NULL);
	box_nl_close(&nl);
	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

static int make_table(char *err, size_t errlen)
{
	struct batch bt;
	int r = table_exists();

	if (r < 0) {
		snprintf(err, errlen, "nftables: looking for table ip %s: %s", BOX_NFT_TABLE,
			 box_strerror(r));
		return r;
	}
	if (r == 1)
		return 0;
	r = batch_start(&bt, 32768);
	if (r < 0)
		return r;
	put_table(&bt);
	put_set(&bt, "ports", SET_PORTS, CONCAT2(TYPE_INET_PROTOCOL, TYPE_INET_SERVICE), 8,
		CONCAT2(TYPE_IPADDR, TYPE_INET_SERVICE), 8);
	put_set(&bt, "ports_ip", SET_PORTS_IP,
		CONCAT3(TYPE_IPADDR, TYPE_INET_PROTOCOL, TYPE_INET_SERVICE), 12,
		CONCAT2(TYPE_IPADDR, TYPE_INET_SERVICE), 8);
	put_set(&bt, "bridges", SET_BRIDGES, TYPE_IFNAME, IFNAMSIZ, 0, 0);
	put_set(&bt, "subnets", SET_SUBNETS, TYPE_IPADDR, 4, 0, 0);
	put_chain(&bt, "prerouting", "nat", NF_INET_PRE_ROUTING, -100);
	put_chain(&bt, "output", "nat", NF_INET_LOCAL_OUT, -100);
	put_chain(&bt, "postrouting", "nat", NF_INET_POST_ROUTING, 100);
	put_chain(&bt, "forward", "filter", NF_INET_FORWARD, 0);
	put_rule(&bt, rule_dnat_ip("prerouting"));
	put_rule(&bt, rule_dnat_local("prerouting"));
	put_rule(&bt, rule_dnat_ip("output"));
	put_rule(&bt, rule_dnat_local("output"));
	put_rule(&bt, rule_masq(0));
	put_rule(&bt, rule_masq(1));
	put_rule(&bt, rule_masq(2));
	put_rule(&bt, rule_accept(NFT_META_IIFNAME));
	put_rule(&bt, rule_accept(NFT_META_OIFNAME));
	r = batch_send(&bt, err, errlen, "nftables: making table ip " BOX_NFT_TABLE);
	batch_free(&bt);
	if (r == -EEXIST) /* made by someone else meanwhile */
		r = 0;
	return r;
}

/* One NEWSETELEM/DELSETELEM message for set with the elements of s. */
static void put_elems(struct batch *bt, struct nftnl_set *s, bool addit)
{
	struct nlmsghdr *nlh = batch_msg(bt, addit ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
					 addit ? NLM_F_CREATE | NLM_F_EXCL : 0);

	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	batch_next(bt);
}

static struct nftnl_set *set_for(const char *name)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, BOX_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	return s;
}

static void add_elem(struct nftnl_set *s, const void *key, size_t len, uint32_t flags)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len);
	if (flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	nftnl_set_elem_add(s, e);
}

int box_nft_setup(const char *bridge, uint32_t net, int prefix, char *err, size_t errlen)
{
	char key[IFNAMSIZ] = { 0 };
	uint32_t end = htonl(ntohl(net) + (1u << (32 - prefix)));
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	struct batch bt;
	int r = make_table(err, errlen);

	if (r < 0)
		return r;
	r = batch_start(&bt, 8192);
	if (r < 0)
		return r;
	snprintf(key, sizeof(key), "%s", bridge);
	s = set_for("bridges");
	add_elem(s, key, sizeof(key), 0);
	nlh = batch_msg(&bt, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	batch_next(&bt);
	nftnl_set_free(s);
	/* the subnet as an interval: its first address, and the end after it */
	s = set_for("subnets");
	add_elem(s, &net, 4, 0);
	add_elem(s, &end, 4, NFT_SET_ELEM_INTERVAL_END);
	nlh = batch_msg(&bt, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	batch_next(&bt);
	nftnl_set_free(s);
	r = batch_send(&bt, err, errlen, "nftables: adding the bridge and its subnet");
	batch_free(&bt);
	return r;
}

static void elem_of(const struct box_portmap *m, struct nftnl_set *s)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	uint8_t key[12] = { 0 }, data[8] = { 0 };
	uint16_t hp = htons(m->host_port), bp = htons(m->box_port);
	size_t klen;

	if (m->host_ip) {
		memcpy(key, &m->host_ip, 4);
		key[4] = m->proto;
		memcpy(key + 8, &hp, 2);
		klen = 12;
	} else {
		key[0] = m->proto;
		memcpy(key + 4, &hp, 2);
		klen = 8;
	}
	memcpy(data, &m->box_ip, 4);
	memcpy(data + 4, &bp, 2);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)klen);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, sizeof(data));
	nftnl_set_elem_add(s, e);
}

/* Elements per message: their list is one attribute, whose length must
 * stay below 64 KiB. */
#define ELEMS_PER_MSG 256

static int ports_batch(bool addit, const struct box_portmap *maps, size_t n, char *err,
		       size_t errlen)
{
	struct batch bt;
	int r = batch_start(&bt, 16384 + n * 128);

	if (r < 0)
		return r;
	for (int byip = 0; byip < 2; byip++) {
		struct nftnl_set *s = NULL;
		size_t in = 0;

		for (size_t i = 0; i <= n; i++) {
			if (s && (i == n || in == ELEMS_PER_MSG)) {
				put_elems(&bt, s, addit);
				nftnl_set_free(s);
				s = NULL;
				in = 0;
			}
			if (i == n)
				break;
			if (!!maps[i].host_ip != byip)
				continue;
			if (!s)
				s = set_for(byip ? "ports_ip" : "ports");
			elem_of(&maps[i], s);
			in++;
		}
	}
	r = batch_send(&bt, err, errlen,
		       addit ? "nftables: adding port maps" : "nftables: removing port maps");
	batch_free(&bt);
	return r;
}

int box_nft_ports(bool addit, const struct box_portmap *maps, size_t n, char *err, size_t errlen)
{
	int r;

	if (n == 0)
		return 0;
	r = ports_batch(addit, maps, n, err, errlen);
	if (r == -ENOENT && !addit && n > 1) {
		/* some are gone already (a half-made box): each on its own */
		r = 0;
		for (size_t i = 0; i < n; i++) {
			int rc = ports_batch(false, &maps[i], 1, err, errlen);

			if (rc < 0 && rc != -ENOENT && r == 0)
				r = rc;
		}
	} else if (r == -ENOENT && !addit) {
		r = 0;
	}
	return r;
}
