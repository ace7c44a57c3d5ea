/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One netlink socket (libmnl) with the kernel's extended acks, so that an
 * error carries the kernel's own words ("Unknown device type", "Exceeds
 * maximum value"...).  A socket stays in the network namespace it was
 * made in: one for a box's namespace is made by a short-lived thread that
 * enters it, so no thread of the caller ever changes namespace. */
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "internal.h"
#include "net/net.h"

struct opener {
	int bus, netns_fd, err;
	struct mnl_socket *sk;
};

static void *open_in_ns(void *arg)
{
	struct opener *o = arg;

	if (o->netns_fd >= 0 && setns(o->netns_fd, CLONE_NEWNET) < 0) {
		o->err = errno;
		return NULL;
	}
	o->sk = mnl_socket_open2(o->bus, SOCK_CLOEXEC);
	if (!o->sk)
		o->err = errno;
	return NULL;
}

int box_nl_open(struct box_nl *nl, int bus, int netns_fd)
{
	struct opener o = { .bus = bus, .netns_fd = netns_fd };
	struct timeval tv = { .tv_sec = 10 };
	int one = 1, r;

	memset(nl, 0, sizeof(*nl));
	if (netns_fd >= 0) {
		pthread_t t;

		r = pthread_create(&t, NULL, open_in_ns, &o);
		if (r != 0)
			return -r;
		pthread_join(t, NULL);
	} else {
		open_in_ns(&o);
	}
	if (!o.sk)
		return -o.err;
	nl->sk = o.sk;
	/* the kernel's message with an error; the request not echoed back */
	mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	/* a reply that never comes is an error, not a hang */
	setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(nl->sk);
		nl->sk = NULL;
		return r;
	}
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void box_nl_close(struct box_nl *nl)
{
	if (nl->sk)
		mnl_socket_close(nl->sk);
	nl->sk = NULL;
}

const char *box_nl_why(const struct box_nl *nl)
{
	static __thread char buf[sizeof(nl->msg) + 4];

	if (!nl->msg[0])
		return "";
	snprintf(buf, sizeof(buf), " (%s)", nl->msg);
	return buf;
}

/* The error of an NLMSG_ERROR (0 for an ack), its message into nl->msg. */
static int nl_error(struct box_nl *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EPROTO;
	if (e->error == 0)
		return 0;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		mnl_attr_for_each(attr, nlh, off) {
			if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 && !nl->msg[0])
				snprintf(nl->msg, sizeof(nl->msg), "%s", mnl_attr_get_str(attr));
		}
	}
	return e->error;
}

int box_nl_talk(struct box_nl *nl, const void *buf, size_t len, int expect, box_nl_cb cb,
		void *data)
{
	char rbuf[MNL_SOCKET_BUFFER_SIZE * 4];
	int got = 0, first = 0;

	nl->msg[0] = '\0';
	if (mnl_socket_sendto(nl->sk, buf, len) < 0)
		return -errno;
	while (got < expect) {
		ssize_t n = mnl_socket_recvfrom(nl->sk, rbuf, sizeof(rbuf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
		int left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return first ? first : (errno == EAGAIN ? -ETIMEDOUT : -errno);
		}
		left = (int)n;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_pid != nl->portid && nlh->nlmsg_pid != 0)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				int r = nl_error(nl, nlh);

				if (r < 0 && !first)
					first = r;
				got++;
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				/* a dump's end carries its error too */
				if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
					int e = *(const int *)mnl_nlmsg_get_payload(nlh);

					if (e < 0 && !first)
						first = e;
				}
				got++;
			} else if (cb) {
				int r = cb(nlh, data);

				if (r < 0 && !first)
					first = r;
			}
		}
	}
	return first;
}
