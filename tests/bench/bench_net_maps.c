/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How long adding one box's port map takes when N boxes already have
 * theirs: the library's own nftables code (lib/net/nft.c) on the table
 * "ip libbox" of the network namespace it runs in (tests/bench/net runs it
 * in a throwaway one).
 *
 *   bench_net_maps [-n REPEATS] N...     one line per N: "N median_us p90_us"
 *
 * Each box has one tcp map (host port 10000+i -> 10.88.x.y:80); the box
 * measured adds its map and removes it again, REPEATS times. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "net/net.h"

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void map_of(int i, struct box_portmap *m)
{
	memset(m, 0, sizeof(*m));
	m->proto = IPPROTO_TCP;
	m->host_port = (uint16_t)(10000 + i);
	m->box_port = 80;
	m->box_ip = htonl(0x0a580000u + 2 + (uint32_t)i);
}

int main(int argc, char **argv)
{
	char err[512];
	int repeats = 200, i = 1;
	uint32_t net = htonl(0x0a580000u);
	int prefix = 16;

	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		repeats = atoi(argv[2]);
		i = 3;
	}
	if (box_nft_setup("box0", net, prefix, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_net_maps: %s\n", err);
		return 1;
	}
	for (; i < argc; i++) {
		int n = atoi(argv[i]);
		struct box_portmap *all = calloc((size_t)n + 1, sizeof(*all)), one;
		double *t = calloc((size_t)repeats, sizeof(*t));

		if (!all || !t || n < 0 || n > 50000)
			return 2;
		for (int k = 0; k < n; k++)
			map_of(k, &all[k]);
		if (box_nft_ports(true, all, (size_t)n, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench_net_maps: %s\n", err);
			return 1;
		}
		map_of(n, &one);
		for (int k = 0; k < repeats; k++) {
			double t0 = now_us();

			if (box_nft_ports(true, &one, 1, err, sizeof(err)) < 0) {
				fprintf(stderr, "bench_net_maps: %s\n", err);
				return 1;
			}
			t[k] = now_us() - t0;
			box_nft_ports(false, &one, 1, err, sizeof(err));
		}
		qsort(t, (size_t)repeats, sizeof(*t), cmp_double);
		printf("%d %.1f %.1f\n", n, t[repeats / 2], t[repeats * 9 / 10]);
		fflush(stdout);
		box_nft_ports(false, all, (size_t)n, err, sizeof(err));
		free(all);
		free(t);
	}
	return 0;
}
