/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl port BOX, boxctl network ls | inspect [NAME...] */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "boxctl.h"

int cmd_port(box_ctx *ctx, int argc, char **argv)
{
	json_t *root, *ports, *p;
	char *text;
	box *b;
	size_t i;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("Usage: boxctl port BOX\n\nList the box's port maps, as "
		       "BOX_PORT/PROTO -> HOST_IP:HOST_PORT.\n");
		return 0;
	}
	if (argc != 2)
		return boxctl_usage_error("port", "want one box (name or id)");
	if (box_open(ctx, argv[1], &b) < 0) {
		boxctl_error("%s", box_last_error());
		return 1;
	}
	text = box_inspect(b);
	box_close(b);
	if (!text) {
		boxctl_error("%s", box_last_error());
		return 1;
	}
	root = json_loads(text, 0, NULL);
	box_string_free(text);
	ports = json_object_get(json_object_get(root, "network"), "ports");
	json_array_foreach(ports, i, p)
		printf("%lld/%s -> %s:%lld\n", (long long)json_integer_value(json_object_get(p, "box_port")),
		       json_string_value(json_object_get(p, "proto")),
		       json_string_value(json_object_get(p, "host_ip")),
		       (long long)json_integer_value(json_object_get(p, "host_port")));
	json_decref(root);
	return 0;
}

static void usage_network(void)
{
	printf("Usage: boxctl network ls\n"
	       "       boxctl network inspect [NAME...]\n\n"
	       "List the bridges that boxes of this state directory use (name, subnet,\n"
	       "gateway, leases), or show them as JSON (default: the context's bridge).\n");
}

int cmd_network(box_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		usage_network();
		return argc < 2 ? 125 : 0;
	}
	if (strcmp(argv[1], "ls") == 0) {
		char *text = box_network_inspect(ctx, NULL);
		json_t *all, *n;
		size_t i;

		if (argc != 2)
			return boxctl_usage_error("network ls", "takes no argument");
		if (!text) {
			boxctl_error("%s", box_last_error());
			return 1;
		}
		all = json_loads(text, 0, NULL);
		box_string_free(text);
		printf("%-16s %-18s %-15s %-6s %s\n", "NAME", "SUBNET", "GATEWAY", "LINK", "LEASES");
		json_array_foreach(all, i, n)
			printf("%-16s %-18s %-15s %-6s %zu\n", json_string_value(json_object_get(n, "name")),
			       json_string_value(json_object_get(n, "subnet")),
			       json_string_value(json_object_get(n, "gateway")),
			       json_is_true(json_object_get(n, "exists")) ? "up" : "absent",
			       json_object_size(json_object_get(n, "leases")));
		json_decref(all);
		return 0;
	}
	if (strcmp(argv[1], "inspect") == 0) {
		int status = 0;

		for (int i = argc > 2 ? 2 : 1; i < argc || i == 1; i++) {
			const char *name = i == 1 ? box_ctx_bridge(ctx) : argv[i];
			char *text = box_network_inspect(ctx, name);

			if (!text) {
				boxctl_error("%s", box_last_error());
				status = 1;
			} else {
				printf("%s\n", text);
				box_string_free(text);
			}
			if (i == 1)
				break;
		}
		return status;
	}
	return boxctl_usage_error("network", "'%s' is not a network command (ls, inspect)", argv[1]);
}
