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
