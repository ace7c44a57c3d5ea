/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bridge networking and port maps, end to end, inside the test's
 * throwaway host (its own network namespace): boxes reach each other and
 * the gateway, published ports answer from the host's addresses and from
 * 127.0.0.1 over TCP and UDP and from the boxes themselves (hairpin), a
 * taken port is refused, and after destroy (or box_gc after a crash) no
 * map element, veth, lease or host port is left, as netlink dumps of the
 * kernel's own state show. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* ---- the kernel's state, by netlink dumps ---- */

static int dump(int bus, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl = mnl_socket_open(bus);
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	uint32_t portid;
	int r;

	assert_non_null(nl);
	assert_int_equal(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	portid = mnl_socket_get_portid(nl);
	assert_true(mnl_socket_sendto(nl, req, req->nlmsg_len) >= 0);
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		assert_true(n > 0);
		r = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, portid, cb, data);
	} while (r > 0);
	mnl_socket_close(nl);
	return r < 0 ? -errno : 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg))
		if (mnl_attr_get_type(a) == IFLA_IFNAME && strncmp(mnl_attr_get_str(a), "vb", 2) == 0)
			(*(int *)data)++;
	return MNL_CB_OK;
}

/* veth ends of boxes (vb...) in the host namespace */
static int count_veths(void)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;
	int n = 0;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	assert_int_equal(dump(NETLINK_ROUTE, nlh, link_cb, &n), 0);
	return n;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(int *)data)++;
	return MNL_CB_OK;
}

/* routes of the main table */
static int count_routes(void)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int n = 0;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	assert_int_equal(dump(NETLINK_ROUTE, nlh, route_cb, &n), 0);
	return n;
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;

	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0) {
		it = nftnl_set_elems_iter_create(s);
		while (nftnl_set_elems_iter_next(it))
			(*(int *)data)++;
		nftnl_set_elems_iter_destroy(it);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* elements of a set of the libbox table (-ENOENT: no such table/set) */
static int count_elems(const char *set)
{
	char buf[512];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	int n = 0, r;

	nftnl_set_set_str(s, NFTNL_SET_TABLE, "libbox");
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_IPV4, NLM_F_DUMP,
				    (uint32_t)time(NULL));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	r = dump(NETLINK_NETFILTER, nlh, elem_cb, &n);
	return r < 0 ? r : n;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(*(int *)data)++;
	return MNL_CB_OK;
}

/* every rule of the libbox table */
static int count_rules(void)
{
	char buf[512];
	struct nftnl_rule *rl = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	int n = 0;

	nftnl_rule_set_str(rl, NFTNL_RULE_TABLE, "libbox");
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP,
				    (uint32_t)time(NULL));
	nftnl_rule_nlmsg_build_payload(nlh, rl);
	nftnl_rule_free(rl);
	assert_int_equal(dump(NETLINK_NETFILTER, nlh, rule_cb, &n), 0);
	return n;
}

static int count_files(const char *sub)
{
	char path[4096];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "%s/net/%s", harness_state_dir(), sub);
	d = opendir(path);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

/* Nothing of any box left: no veth, lease, host port, map element. */
static void assert_no_box_network(void)
{
	int ports = count_elems("ports"), ports_ip = count_elems("ports_ip");

	assert_int_equal(count_veths(), 0);
	assert_int_equal(count_files("box0/leases"), 0);
	assert_int_equal(count_files("ports"), 0);
	assert_true(ports == 0 || ports == -ENOENT);
	assert_true(ports_ip == 0 || ports_ip == -ENOENT);
}

/* ---- boxes ---- */

static box_config *bridge_config(const char *const *argv)
{
	box_config *cfg = harness_config(argv);

	assert_int_equal(box_config_set_network(cfg, BOX_NET_BRIDGE), 0);
	return cfg;
}

/* A running box serving "NAME" on tcp/80 and udp/90 (probe serve). */
static box *server(box_config *cfg)
{
	box *b = NULL;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	assert_int_equal(box_config_set_argv(cfg, 3, ARGV("sh", "-c",
		"/probe serve tcp 80 hello & /probe serve udp 90 hi & exec sleep 600")), 0);
	assert_int_equal(box_config_set_stdio(cfg, -1, null, null), 0);
	if (box_create(harness_ctx(), cfg, &b) < 0)
		fail_msg("box_create: %s", box_last_error());
	close(null);
	box_config_free(cfg);
	assert_int_equal(box_start(b), 0);
	return b;
}

/* Ask ip:port over proto ("tcp"/"udp") as probe get does; the answer in
 * out ("" on failure). */
static void ask(const char *proto, const char *ip, int port, char *out, size_t len)
{
	bool udp = strcmp(proto, "udp") == 0;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	ssize_t n = -1;
	int fd;

	out[0] = '\0';
	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return;
	}
	for (int i = 0; i < 10 && n < 0; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (udp && send(fd, "?", 1, 0) < 0)
			break;
		if (poll(&p, 1, 500) == 1)
			n = read(fd, out, len - 1);
		if (n < 0 && !udp && p.revents)
			break;
	}
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	close(fd);
}

/* The answer, once the server is up (a slow machine: up to 10 s). */
static void ask_ready(const char *proto, const char *ip, int port, char *out, size_t len)
{
	for (int i = 0; i < 100; i++) {
		ask(proto, ip, port, out, len);
		if (out[0])
			return;
		nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
}

/* Run argv in the running box b (box_exec); its output in out. */
static int exec_in(box *b, const char *const *argv, char *out, size_t len)
{
	box_config *cfg = NULL;
	box *e = NULL;
	int p[2], code = -1, sig = 0, argc = 0;
	size_t got = 0;
	ssize_t n;

	while (argv[argc])
		argc++;
	assert_int_equal(box_config_new(&cfg), 0);
	assert_int_equal(box_config_set_argv(cfg, argc, argv), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(box_config_set_stdio(cfg, -1, p[1], p[1]), 0);
	if (box_exec(b, cfg, &e) < 0)
		fail_msg("box_exec: %s", box_last_error());
	close(p[1]);
	while ((n = read(p[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	assert_int_equal(box_wait(e, &code, &sig), 0);
	box_destroy(e);
	box_config_free(cfg);
	return code;
}

/* ---- the tests ---- */

static void test_two_boxes_and_the_gateway(void **state)
{
	struct leftovers before;
	struct run_result res;
	char script[256];
	box *a;

	(void)state;
	harness_snapshot(&before);
	a = server(bridge_config(ARGV("true")));
	assert_non_null(box_ip(a));
	assert_int_equal(strncmp(box_ip(a), "10.88.", 6), 0);
	snprintf(script, sizeof(script),
		 "ping -c1 -W5 %s >/dev/null && ping -c1 -W5 10.88.0.1 >/dev/null && echo both", box_ip(a));
	harness_run(bridge_config(ARGV("sh", "-c", script)), &res);
	assert_int_equal(res.rc, 0);
	assert_string_equal(res.out, "both\n");
	/* the box's own view: eth0 with its address, the default route */
	harness_run(bridge_config(ARGV("sh", "-c", "ip -4 -o addr show eth0; ip route")), &res);
	assert_int_equal(res.rc, 0);
	assert_non_null(strstr(res.out, "/16"));
	assert_non_null(strstr(res.out, "default via 10.88.0.1 dev eth0"));
	assert_int_equal(box_destroy(a), 0);
	assert_no_box_network();
	harness_assert_clean(&before);
}

static void test_published_ports(void **state)
{
	struct leftovers before;
	char out[256], want[64];
	int rules, routes;
	box_config *cfg;
	box *b;

	(void)state;
	harness_snapshot(&before);
	cfg = bridge_config(ARGV("true"));
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 8080, 80, 1), 0);
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_UDP, "", 9090, 90, 1), 0);
	b = server(cfg);
	routes = count_routes();
	rules = count_rules();
	/* from the host: its address on the bridge, and 127.0.0.1 (whose
	 * connections come out masqueraded as the gateway) */
	ask_ready("tcp", "10.88.0.1", 8080, out, sizeof(out));
	assert_string_equal(out, "hello from 10.88.0.1");
	ask_ready("tcp", "127.0.0.1", 8080, out, sizeof(out));
	assert_string_equal(out, "hello from 10.88.0.1");
	ask_ready("udp", "10.88.0.1", 9090, out, sizeof(out));
	assert_string_equal(out, "hi from 10.88.0.1");
	ask_ready("udp", "127.0.0.1", 9090, out, sizeof(out));
	assert_string_equal(out, "hi from 10.88.0.1");
	/* an unmapped port stays closed */
	ask("tcp", "127.0.0.1", 8081, out, sizeof(out));
	assert_string_equal(out, "");
	/* hairpin: the box to its own published port through the host */
	assert_int_equal(exec_in(b, ARGV("/probe", "get", "tcp", "10.88.0.1", "8080"), out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "hello from 10.88.0.1\n");
	assert_string_equal(out, want);
	assert_int_equal(exec_in(b, ARGV("/probe", "get", "udp", "10.88.0.1", "9090"), out, sizeof(out)), 0);
	assert_string_equal(out, "hi from 10.88.0.1\n");
	{
		/* and another box to it */
		struct run_result res;

		harness_run(bridge_config(ARGV("/probe", "get", "tcp", "10.88.0.1", "8080")), &res);
		assert_int_equal(res.rc, 0);
		assert_string_equal(res.out, "hello from 10.88.0.1\n");
	}
	assert_int_equal(count_elems("ports"), 2);
	assert_int_equal(box_destroy(b), 0);
	assert_no_box_network();
	assert_int_equal(count_rules(), rules);   /* the rules stay, the elements go */
	assert_true(count_routes() <= routes);    /* no route of the box's is left */
	harness_assert_clean(&before);
}

static void test_host_ip_map(void **state)
{
	char out[256];
	box_config *cfg;
	box *b;

	(void)state;
	cfg = bridge_config(ARGV("true"));
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, "127.0.0.1", 8181, 80, 1), 0);
	b = server(cfg);
	ask_ready("tcp", "127.0.0.1", 8181, out, sizeof(out));
	assert_string_equal(out, "hello from 10.88.0.1");
	/* only that address: not through the gateway's */
	ask("tcp", "10.88.0.1", 8181, out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(count_elems("ports_ip"), 1);
	assert_int_equal(box_destroy(b), 0);
	assert_no_box_network();
}

static void test_taken_ports(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7070) };
	struct leftovers before;
	char want[64];
	box_config *cfg;
	box *b = NULL, *first;
	int fd, one = 1;

	(void)state;
	harness_snapshot(&before);
	/* a socket of the host listens on 7070 */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	cfg = bridge_config(ARGV("true"));
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 7069, 80, 3), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EADDRINUSE);
	snprintf(want, sizeof(want), "process %d (", getpid());
	assert_non_null(strstr(box_last_error(), "host port tcp/7070 is taken"));
	assert_non_null(strstr(box_last_error(), want));
	assert_null(b);
	box_config_free(cfg);
	close(fd);
	assert_no_box_network();

	/* a port another box maps */
	cfg = bridge_config(ARGV("true"));
	assert_int_equal(box_config_set_name(cfg, "owner"), 0);
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_UDP, NULL, 5353, 53, 1), 0);
	first = server(cfg);
	cfg = bridge_config(ARGV("true"));
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 5353, 53, 1), 0); /* tcp: free */
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_UDP, "127.0.0.1", 5353, 53, 1), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EADDRINUSE);
	assert_non_null(strstr(box_last_error(), "host port udp/5353 is taken: box owner ("));
	box_config_free(cfg);
	assert_int_equal(count_veths(), 1);
	assert_int_equal(count_files("box0/leases"), 1);
	assert_int_equal(count_files("ports"), 1);
	assert_int_equal(count_elems("ports"), 1);
	assert_int_equal(box_destroy(first), 0);
	assert_no_box_network();
	harness_assert_clean(&before);
}

static void test_static_ip_and_hosts(void **state)
{
	box_config *cfg;
	box *a, *b = NULL;
	struct run_result res;

	(void)state;
	cfg = bridge_config(ARGV("true"));
	assert_int_equal(box_config_set_ip(cfg, "10.88.7.7"), 0);
	a = server(cfg);
	assert_string_equal(box_ip(a), "10.88.7.7");
	cfg = bridge_config(ARGV("true"));
	assert_int_equal(box_config_set_ip(cfg, "10.88.7.7"), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EADDRINUSE);
	assert_non_null(strstr(box_last_error(), "address 10.88.7.7 is taken by box"));
	assert_int_equal(box_config_set_ip(cfg, "10.88.0.1"), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EINVAL);
	assert_int_equal(box_config_set_ip(cfg, "10.99.0.5"), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EINVAL);
	box_config_free(cfg);
	assert_int_equal(box_destroy(a), 0);
	assert_no_box_network();

	/* its /etc/hosts and resolv.conf, bound from its state directory */
	cfg = bridge_config(ARGV("sh", "-c", "cat /etc/hosts /etc/resolv.conf; grep -c ' /etc/hosts ' /proc/self/mountinfo"));
	assert_int_equal(box_config_set_hostname(cfg, "web"), 0);
	assert_int_equal(box_config_set_ip(cfg, "10.88.9.9"), 0);
	assert_int_equal(box_config_add_dns(cfg, "192.0.2.53"), 0);
	harness_run(cfg, &res);
	assert_int_equal(res.rc, 0);
	assert_non_null(strstr(res.out, "127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(res.out, "10.88.9.9\tweb"));
	assert_non_null(strstr(res.out, "nameserver 192.0.2.53\n"));
	assert_non_null(strstr(res.out, "\n1\n"));
	/* none: its own lo only, and the files too */
	cfg = harness_config(ARGV("sh", "-c", "echo $(ls /sys/class/net); grep -c localhost /etc/hosts"));
	assert_int_equal(box_config_set_network(cfg, BOX_NET_NONE), 0);
	harness_run(cfg, &res);
	assert_int_equal(res.rc, 0);
	assert_string_equal(res.out, "lo\n2\n");
	/* the image's files stay as they were: empty */
	{
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/etc/hosts", harness_rootfs());
		f = fopen(path, "r");
		assert_non_null(f);
		assert_int_equal(fgetc(f), EOF);
		fclose(f);
	}
	assert_no_box_network();
}

static void test_bad_input(void **state)
{
	box_config *cfg;
	box_ctx *ctx = NULL;
	box *b = NULL;

	(void)state;
	cfg = harness_config(ARGV("true"));
	assert_int_equal(box_config_set_network(cfg, 7), -EINVAL);
	assert_int_equal(box_config_add_port(cfg, 132, NULL, 80, 80, 1), -EINVAL);
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 0, 80, 1), -EINVAL);
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 65535, 80, 2), -EINVAL);
	assert_non_null(strstr(box_last_error(), "past 65535"));
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, "10.0.0.300", 80, 80, 1), -EINVAL);
	assert_int_equal(box_config_set_ip(cfg, "nope"), -EINVAL);
	assert_int_equal(box_config_add_dns(cfg, "nope"), -EINVAL);
	/* ports without bridge networking */
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 80, 80, 1), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EINVAL);
	assert_non_null(strstr(box_last_error(), "need bridge networking"));
	/* the same host port twice in one box */
	assert_int_equal(box_config_set_network(cfg, BOX_NET_BRIDGE), 0);
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 79, 81, 3), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EINVAL);
	assert_non_null(strstr(box_last_error(), "host port tcp/80 is mapped twice"));
	box_config_free(cfg);
	/* bridge mode without a network namespace */
	cfg = harness_config(ARGV("true"));
	assert_int_equal(box_config_set_network(cfg, BOX_NET_BRIDGE), 0);
	assert_int_equal(box_config_set_namespaces(cfg, BOX_NS_MOUNT | BOX_NS_PID), 0);
	assert_int_equal(box_create(harness_ctx(), cfg, &b), -EINVAL);
	box_config_free(cfg);

	assert_int_equal(box_ctx_new(&ctx), 0);
	assert_string_equal(box_ctx_bridge(ctx), "box0");
	assert_string_equal(box_ctx_subnet(ctx), "10.88.0.0/16");
	assert_int_equal(box_ctx_set_subnet(ctx, "10.88.0.1/16"), -EINVAL);
	assert_int_equal(box_ctx_set_subnet(ctx, "10.88.0.0/31"), -EINVAL);
	assert_int_equal(box_ctx_set_subnet(ctx, "10.88.0.0"), -EINVAL);
	assert_int_equal(box_ctx_set_bridge(ctx, "a-name-too-long-x"), -EINVAL);
	assert_int_equal(box_ctx_set_bridge(ctx, "a/b"), -EINVAL);
	assert_null(box_network_inspect(ctx, "nope"));
	box_ctx_free(ctx);
	assert_no_box_network();
}

/* A second bridge with its own subnet, and the first one's subnet kept. */
static void test_other_bridge(void **state)
{
	box_ctx *ctx = NULL;
	box_config *cfg;
	box *b = NULL;
	char *text;

	(void)state;
	assert_int_equal(box_ctx_new(&ctx), 0);
	assert_int_equal(box_ctx_set_state_dir(ctx, harness_state_dir()), 0);
	assert_int_equal(box_ctx_set_cgroup_parent(ctx, harness_cgroup_parent()), 0);
	assert_int_equal(box_ctx_set_bridge(ctx, "box1"), 0);
	assert_int_equal(box_ctx_set_subnet(ctx, "172.30.0.0/24"), 0);
	cfg = bridge_config(ARGV("true"));
	assert_int_equal(box_create(ctx, cfg, &b), 0);
	assert_string_equal(box_ip(b), "172.30.0.2");
	text = box_network_inspect(ctx, "box1");
	assert_non_null(text);
	assert_non_null(strstr(text, "\"172.30.0.2\": \""));
	assert_non_null(strstr(text, "\"gateway\": \"172.30.0.1\""));
	box_string_free(text);
	assert_int_equal(box_destroy(b), 0);
	/* box0 keeps its subnet */
	assert_int_equal(box_ctx_set_bridge(ctx, "box0"), 0);
	b = NULL;
	assert_int_equal(box_create(ctx, cfg, &b), -EEXIST);
	assert_non_null(strstr(box_last_error(), "network box0 has subnet 10.88.0.0/16"));
	box_config_free(cfg);
	box_ctx_free(ctx);
	assert_int_equal(count_files("box1/leases"), 0);
	assert_no_box_network();
}

#define PARALLEL 50

struct par {
	pthread_barrier_t *go;
	box *b;
	int rc;
	char msg[512];
};

static void *create_one(void *arg)
{
	struct par *p = arg;
	box_config *cfg = NULL;

	box_config_new(&cfg);
	box_config_set_rootfs(cfg, harness_rootfs());
	box_config_set_argv(cfg, 1, ARGV("true"));
	box_config_set_network(cfg, BOX_NET_BRIDGE);
	box_config_set_stdio(cfg, -1, -1, -1);
	pthread_barrier_wait(p->go);
	p->rc = box_create(harness_ctx(), cfg, &p->b);
	if (p->rc < 0)
		snprintf(p->msg, sizeof(p->msg), "%s", box_last_error());
	box_config_free(cfg);
	return NULL;
}

static void test_parallel_creates_get_distinct_addresses(void **state)
{
	static struct par p[PARALLEL];
	pthread_t t[PARALLEL];
	pthread_barrier_t go;

	(void)state;
	pthread_barrier_init(&go, NULL, PARALLEL);
	for (int i = 0; i < PARALLEL; i++) {
		p[i] = (struct par){ .go = &go };
		assert_int_equal(pthread_create(&t[i], NULL, create_one, &p[i]), 0);
	}
	for (int i = 0; i < PARALLEL; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < PARALLEL; i++) {
		if (p[i].rc != 0)
			fail_msg("box %d: %s", i, p[i].msg);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(box_ip(p[i].b), box_ip(p[j].b));
	}
	assert_int_equal(count_veths(), PARALLEL);
	assert_int_equal(count_files("box0/leases"), PARALLEL);
	for (int i = 0; i < PARALLEL; i++)
		assert_int_equal(box_destroy(p[i].b), 0);
	assert_no_box_network();
}

static void test_thousand_port_maps(void **state)
{
	box_config *cfg;
	box *b = NULL;
	int rules;
	char out[128];

	(void)state;
	cfg = bridge_config(ARGV("true"));
	/* 1000 ports in one range, and 1000 more one by one */
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 20000, 20000, 1000), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(box_config_add_port(cfg, BOX_PROTO_UDP, NULL, (uint16_t)(30000 + i), 90, 1), 0);
	b = server(cfg);
	rules = count_rules();
	assert_int_equal(count_elems("ports"), 2000);
	assert_int_equal(count_files("ports"), 2000);
	ask_ready("udp", "127.0.0.1", 30999, out, sizeof(out));
	assert_string_equal(out, "hi from 10.88.0.1");
	assert_int_equal(box_destroy(b), 0);
	assert_int_equal(count_rules(), rules);
	assert_no_box_network();
}

static void test_gc_after_the_creator_died(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		box_config *cfg = NULL;
		box *b = NULL;

		box_config_new(&cfg);
		box_config_set_rootfs(cfg, harness_rootfs());
		box_config_set_argv(cfg, 1, ARGV("true"));
		box_config_set_network(cfg, BOX_NET_BRIDGE);
		box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 6060, 80, 5);
		_exit(box_create(harness_ctx(), cfg, &b) == 0 ? 0 : 1); /* and never destroy */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	assert_int_equal(count_elems("ports"), 5);
	assert_int_equal(count_files("box0/leases"), 1);
	/* its box ends without it (or is ending); gc frees what it held */
	for (int i = 0; i < 100 && box_gc(harness_ctx()) == 0; i++)
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	assert_no_box_network();
}

/* A creator that died and whose record is lost too (a wiped state dir):
 * its lease and host port are stale, taken over by the next box, and the
 * map element it left is no obstacle. */
static void test_stale_reservations_are_taken_over(void **state)
{
	char path[4096], sub[4400];
	struct dirent *e;
	box_config *cfg;
	box *b = NULL;
	pid_t pid;
	DIR *d;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		box_config_new(&cfg);
		box_config_set_rootfs(cfg, harness_rootfs());
		box_config_set_argv(cfg, 1, ARGV("true"));
		box_config_set_network(cfg, BOX_NET_BRIDGE);
		box_config_set_ip(cfg, "10.88.3.3");
		box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 6161, 80, 1);
		_exit(box_create(harness_ctx(), cfg, &b) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	assert_int_equal(count_elems("ports"), 1);
	/* its record goes, as if the state directory had been wiped */
	snprintf(path, sizeof(path), "%s/boxes", harness_state_dir());
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d))) {
		DIR *f;
		struct dirent *g;

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		f = opendir(sub);
		while (f && (g = readdir(f)))
			if (g->d_name[0] != '.')
				unlinkat(dirfd(f), g->d_name, 0);
		if (f)
			closedir(f);
		assert_int_equal(rmdir(sub), 0);
	}
	closedir(d);
	cfg = bridge_config(ARGV("true"));
	assert_int_equal(box_config_set_ip(cfg, "10.88.3.3"), 0);
	assert_int_equal(box_config_add_port(cfg, BOX_PROTO_TCP, NULL, 6161, 80, 1), 0);
	if (box_create(harness_ctx(), cfg, &b) < 0)
		fail_msg("box_create: %s", box_last_error());
	box_config_free(cfg);
	assert_string_equal(box_ip(b), "10.88.3.3");
	assert_int_equal(count_elems("ports"), 1);
	assert_int_equal(box_destroy(b), 0);
	/* the first box's veth went with its namespace; its cgroup, which its
	 * lost record named, is the test's to remove */
	for (int i = 0; i < 100 && count_veths() > 0; i++)
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	harness_remove_stray_cgroups();
	assert_no_box_network();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_two_boxes_and_the_gateway),
		cmocka_unit_test(test_published_ports),
		cmocka_unit_test(test_host_ip_map),
		cmocka_unit_test(test_taken_ports),
		cmocka_unit_test(test_static_ip_and_hosts),
		cmocka_unit_test(test_other_bridge),
		cmocka_unit_test(test_parallel_creates_get_distinct_addresses),
		cmocka_unit_test(test_thousand_port_maps),
		cmocka_unit_test(test_gc_after_the_creator_died),
		cmocka_unit_test(test_stale_reservations_are_taken_over),
	};

	return harness_main("net", tests, sizeof(tests) / sizeof(tests[0]));
}
