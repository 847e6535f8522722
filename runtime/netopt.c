/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network options gale programs share (gale/netopt.h): one parser, one --help text, one port
 * and stack set-up, so gale-echo, gale-bench and gale-kv choose and start a backend the same way.
 *
 * Native start-up: the port gets one rx/tx queue pair per worker and a pool of --mbufs buffers;
 * with more than one worker a steering object matching the port (RSS model or software rings);
 * the stack template carries the address, netmask, gateway and MTU, and an RTO ceiling of 2 s
 * (below the RPC timeouts; everything else: tcpstack's defaults). The runtime then makes one stack
 * per worker from it (gale/runtime.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mempool.h>

#include <gale/eal.h>
#include <gale/netopt.h>
#include <gale/runtime.h>
#include <gale/worker.h>

#define GALE__NETOPT_MBUFS 32767u

void
gale_netopt_init(struct gale_netopt *o)
{
	memset(o, 0, sizeof(*o));
	o->backend = GALE_CONN_KERNEL;
	o->ip = 0xc6120002u; /* 198.18.0.2 */
	o->netmask = 0xffffff00u;
	o->steer = GALE_STEER_AUTO;
}

int
gale_netopt_parse_ip(const char *s, uint32_t *ip, uint32_t *mask)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	long len = 24;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		if (mask == NULL)
			return -EINVAL;
		*slash = '\0';
		len = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || len < 1 || len > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	if (mask != NULL)
		*mask = len == 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
	return 0;
}

static int
gale__netopt_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return s[0] == '\0' || *end != '\0' || errno != 0 || *v < lo || *v > hi ? -EINVAL : 0;
}

int
gale_netopt_parse(struct gale_netopt *o, int c, const char *arg, const char *prog)
{
	unsigned long v;
	const char *what;

	switch (c) {
	case GALE_NETOPT_BACKEND:
		what = "--backend kernel|native";
		if (strcmp(arg, "kernel") == 0)
			o->backend = GALE_CONN_KERNEL;
		else if (strcmp(arg, "native") == 0)
			o->backend = GALE_CONN_NATIVE;
		else
			goto bad;
		return 1;
	case GALE_NETOPT_IP:
		what = "--ip A.B.C.D[/LEN]";
		if (gale_netopt_parse_ip(arg, &o->ip, &o->netmask) != 0 || o->ip == 0)
			goto bad;
		return 1;
	case GALE_NETOPT_GATEWAY:
		what = "--gateway A.B.C.D";
		if (gale_netopt_parse_ip(arg, &o->gateway, NULL) != 0)
			goto bad;
		return 1;
	case GALE_NETOPT_PORT:
		o->port_name = arg;
		return 1;
	case GALE_NETOPT_MTU:
		what = "--mtu 576..9000";
		if (gale__netopt_uint(arg, 576, 9000, &v) != 0)
			goto bad;
		o->mtu = (uint16_t)v;
		return 1;
	case GALE_NETOPT_STEER:
		what = "--steer auto|rss|sw";
		if (gale_steer_mode_parse(arg, &o->steer) != 0)
			goto bad;
		return 1;
	case GALE_NETOPT_MBUFS:
		what = "--mbufs 1024..4194303";
		if (gale__netopt_uint(arg, 1024, 4194303, &v) != 0)
			goto bad;
		o->nb_mbufs = (unsigned int)v;
		return 1;
	case GALE_NETOPT_STATS:
		o->stack_stats = true;
		return 1;
	default:
		return 0;
	}
bad:
	fprintf(stderr, "%s: bad value '%s': want %s\n", prog, arg, what);
	return -EINVAL;
}

void
gale_netopt_eal_defaults(int argc, char *const *argv, struct gale_eal_defaults *def)
{
	static const char *const tap[] = { "net_tap0,iface=gale0", NULL };
	bool native = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return; /* EAL arguments given: they name the port */
		if ((strcmp(argv[i], "--backend") == 0 && i + 1 < argc &&
		     strcmp(argv[i + 1], "native") == 0) ||
		    strcmp(argv[i], "--backend=native") == 0)
			native = true;
	}
	if (native && def->vdevs == NULL)
		def->vdevs = tap;
}

const char *
gale_netopt_backend_name(enum gale_conn_kind kind)
{
	return kind == GALE_CONN_NATIVE ? "native" : "kernel";
}

int
gale_netopt_start(struct gale_netopt *o, unsigned int nb_workers, struct gale_runtime_conf *rc,
                  const char *prog)
{
	struct gale_port_conf pc;
	uint16_t port_id;
	int ret;

	if (o->backend != GALE_CONN_NATIVE)
		return 0;
	if (o->port_name != NULL) {
		ret = gale_port_lookup(o->port_name, &port_id);
		if (ret != 0) {
			fprintf(stderr, "%s: no port named %s\n", prog, o->port_name);
			return ret;
		}
	} else {
		if (rte_eth_dev_count_avail() == 0) {
			fprintf(stderr,
			        "%s: --backend native needs a DPDK port: give one in the EAL "
			        "arguments (e.g. --vdev net_tap0,iface=gale0 --)\n",
			        prog);
			return -ENODEV;
		}
		port_id = (uint16_t)rte_eth_find_next(0);
	}
	memset(&pc, 0, sizeof(pc));
	pc.nb_queues = (uint16_t)nb_workers;
	pc.nb_mbufs = o->nb_mbufs != 0 ? o->nb_mbufs : GALE__NETOPT_MBUFS;
	pc.mtu = o->mtu;
	pc.steer = o->steer;
	ret = gale_port_setup(&o->port, port_id, &pc);
	if (ret != 0) {
		fprintf(stderr, "%s: port setup failed: %s\n", prog, strerror(-ret));
		return ret;
	}
	o->started = true;
	o->pool_base = rte_mempool_in_use_count(o->port.pool);
	o->ports[0] = &o->port;
	o->steers[0] = NULL;
	if (nb_workers > 1) {
		o->steers[0] = gale_port_steer_create(&o->port, 0);
		if (o->steers[0] == NULL) {
			ret = -(rte_errno != 0 ? rte_errno : ENOMEM);
			fprintf(stderr, "%s: steering: %s\n", prog, strerror(-ret));
			gale_port_close(&o->port);
			o->started = false;
			return ret;
		}
	}
	gale_stack_conf_init(&o->stack);
	o->stack.ip = o->ip;
	o->stack.netmask = o->netmask;
	o->stack.gateway = o->gateway;
	if (o->mtu != 0)
		o->stack.mtu = o->mtu;
	/*
	 * RPC deadlines are seconds, not minutes: a connection whose retransmissions keep being
	 * lost (a peer process descheduled while its ring is full) must not back off past the
	 * caller's timeout. 2 s bounds the wait after a loss; data_retries still fails a dead peer.
	 */
	o->stack.rto_max_us = 2000000;
	o->stacks[0] = &o->stack;
	rc->ports = o->ports;
	rc->nb_ports = 1;
	rc->steers = o->steers;
	rc->stacks = o->stacks;
	rc->close_ports = false;
	return 0;
}

int
gale_netopt_conn_conf(const struct gale_netopt *o, const struct gale_worker *w,
                      struct gale_conn_conf *cc)
{
	int p;

	cc->kind = o->backend;
	if (o->backend != GALE_CONN_NATIVE)
		return 0;
	p = w != NULL ? gale_worker_stack_port(w) : -ENOENT;
	if (p < 0)
		return -ENODEV;
	cc->stack = gale_worker_stack(w, (uint16_t)p);
	return 0;
}

void
gale_netopt_worker_fini(const struct gale_netopt *o, const struct gale_worker *w, const char *prog)
{
	const struct gale_stack *st;
	const uint64_t *v;
	int p;

	if (!o->stack_stats || o->backend != GALE_CONN_NATIVE ||
	    (p = gale_worker_stack_port(w)) < 0)
		return;
	st = gale_worker_stack(w, (uint16_t)p);
	v = (const uint64_t *)gale_stack_stats(st);
	for (size_t i = 0; i < GALE_STACK_NB_STATS; i++)
		if (v[i] != 0)
			printf("%s: worker %u stack %s=%lu\n", prog, gale_worker_id(w),
			       gale_stack_stat_names[i], (unsigned long)v[i]);
	fflush(stdout);
}

const char *
gale_netopt_describe(const struct gale_netopt *o, char *buf, size_t len)
{
	unsigned int plen = 0;
	uint32_t m;

	if (o->backend != GALE_CONN_NATIVE) {
		snprintf(buf, len, "kernel sockets");
		return buf;
	}
	for (m = o->netmask; m != 0; m <<= 1)
		plen++;
	snprintf(buf, len, "%u.%u.%u.%u/%u on %s (%u queue%s, %s steering)", o->ip >> 24,
	         (o->ip >> 16) & 255, (o->ip >> 8) & 255, o->ip & 255, plen,
	         o->started ? o->port.name : "?", o->started ? o->port.nb_queues : 0,
	         o->started && o->port.nb_queues == 1 ? "" : "s",
	         !o->started || o->steers[0] == NULL ? "no"
	         : o->port.rss                       ? "RSS"
	                                             : "software");
	return buf;
}

int
gale_netopt_stop(struct gale_netopt *o, const char *prog)
{
	unsigned int in_use, size;
	int out;

	if (!o->started)
		return 0;
	gale_steer_free(o->steers[0]);
	o->steers[0] = NULL;
	rte_eth_dev_stop(o->port.port_id);
	in_use = rte_mempool_in_use_count(o->port.pool);
	size = o->port.pool->size;
	/* What the rx rings held at start they may hold now; anything above that is a leak. */
	out = (int)in_use - (int)o->pool_base;
	if (out < 0)
		out = 0;
	printf("%s: pool %s: %u of %u mbufs free at exit (%u were in the rx rings at start), "
	       "%d not returned\n",
	       prog, o->port.pool->name, size - in_use, size, o->pool_base, out);
	fflush(stdout);
	gale_port_close(&o->port);
	o->started = false;
	return out;
}
