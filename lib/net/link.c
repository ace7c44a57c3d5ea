/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtnetlink through libmnl.  box_link_lo_up() runs in the child, so it
 * builds its message in a stack buffer and uses a plain netlink socket
 * (mnl_socket_open would allocate). */
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "internal.h"

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

int box_link_lo_up(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t n;
	int fd, r;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = 1; /* lo is always 1 in a new namespace */
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	/* mnl_cb_run returns MNL_CB_ERROR with errno set from an NLMSG_ERROR. */
	r = mnl_cb_run(buf, (size_t)n, seq, 0, ack_cb, NULL);
	r = r == MNL_CB_ERROR ? -errno : 0;
	close(fd);
	return r;
}

/* ---- the parent's side: bridges, veth pairs, addresses, routes ---- */

#include <linux/if_link.h>
#include <linux/veth.h>
#include <netinet/in.h>

#include "net/net.h"

static struct nlmsghdr *req(char *buf, struct box_nl *nl, int type, int flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

static int index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK)
		*(int *)data = ifm->ifi_index;
	return 0;
}

int box_link_index(struct box_nl *nl, const char *name)
{
	char buf[512];
	struct nlmsghdr *nlh = req(buf, nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int index = 0, r;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	r = box_nl_talk(nl, nlh, nlh->nlmsg_len, 1, index_cb, &index);
	if (r < 0)
		return r;
	return index > 0 ? index : -ENODEV;
}

static int link_up(struct box_nl *nl, int index)
{
	char buf[512];
	struct nlmsghdr *nlh = req(buf, nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return box_nl_talk(nl, nlh, nlh->nlmsg_len, 1, NULL, NULL);
}

static int add_addr(struct box_nl *nl, int index, uint32_t ip, int prefix)
{
	char buf[512];
	struct nlmsghdr *nlh = req(buf, nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	uint32_t bcast = ip | htonl(prefix ? 0xffffffffu >> prefix : 0xffffffffu);

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put_u32(nlh, IFA_LOCAL, ip);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, ip);
	if (prefix < 31)
		mnl_attr_put_u32(nlh, IFA_BROADCAST, bcast);
	return box_nl_talk(nl, nlh, nlh->nlmsg_len, 1, NULL, NULL);
}

int box_link_bridge(struct box_nl *nl, const char *name, uint32_t gw, int prefix)
{
	char buf[512];
	struct nlmsghdr *nlh = req(buf, nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct nlattr *info;
	int r, index;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, info);
	r = box_nl_talk(nl, nlh, nlh->nlmsg_len, 1, NULL, NULL);
	if (r < 0 && r != -EEXIST)
		return r;
	index = box_link_index(nl, name);
	if (index < 0)
		return index;
	r = add_addr(nl, index, gw, prefix);
	if (r < 0)
		return r;
	return link_up(nl, index);
}

int box_link_veth(struct box_nl *nl, const char *host, int master, const char *peer,
		  int netns_fd)
{
	char buf[1024];
	struct nlmsghdr *nlh = req(buf, nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm)), *pifm;
	struct nlattr *info, *data, *p;
	int r;

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	p = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	mnl_attr_nest_end(nlh, p);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	r = box_nl_talk(nl, nlh, nlh->nlmsg_len, 1, NULL, NULL);
	if (r < 0)
		return r;
	/* hairpin: a box reaching its own published port comes back out of
	 * the port it went in by (with br_netfilter, the DNAT happens on the
	 * bridge's way) */
	nlh = req(buf, nl, RTM_NEWLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return box_nl_talk(nl, nlh, nlh->nlmsg_len, 1, NULL, NULL);
}

int box_link_del(struct box_nl *nl, const char *name)
{
	char buf[512];
	struct nlmsghdr *nlh = req(buf, nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int r;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	r = box_nl_talk(nl, nlh, nlh->nlmsg_len, 1, NULL, NULL);
	return r == -ENODEV ? 0 : r;
}

int box_link_configure(struct box_nl *nl, const char *dev, uint32_t ip, int prefix, uint32_t gw)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int index = box_link_index(nl, dev), r;

	if (index < 0)
		return index;
	r = add_addr(nl, index, ip, prefix);
	if (r == 0)
		r = link_up(nl, index);
	if (r < 0)
		return r;
	nlh = req(buf, nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, gw);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	return box_nl_talk(nl, nlh, nlh->nlmsg_len, 1, NULL, NULL);
}
