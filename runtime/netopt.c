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
 *
 * Start-up and stop (gale_netopt_eal_init, gale_netopt_announce, gale_netopt_conns_left): what
 * gale-echo, gale-bench and gale-kv used to do each in its own main(), once here, so a program's
 * default lcores, CPU check, listening line and exit report read the same in all of them (tests
 * wait on the port file and grep those lines).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int
gale_netopt_eal_init(struct gale_netopt_boot *b, int argc, char **argv,
                     struct gale_eal_defaults *def)
{
	long ncpu;
	int i, ret;

	b->help = false;
	b->has_dd = false;
	b->workers = 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			b->has_dd = true;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			b->help = true;
		/* The default lcore list follows --workers: the main lcore and one per worker. */
		else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
			b->workers = (unsigned int)strtoul(argv[i + 1], NULL, 10);
	}
	if (b->help)
		return 0;
	if (b->workers == 0 || (b->max_workers != 0 && b->workers > b->max_workers))
		b->workers = 1; /* the program's parser reports the bad value */
	snprintf(b->lcores, sizeof(b->lcores), "0-%u", b->workers);
	def->lcores = b->lcores;
	gale_netopt_eal_defaults(argc, argv, def);
	if (def->vdevs != NULL)
		def->mem_mb = 512; /* a port's pool on top of the runtime's */
	/* Without "--" (or nothing before it) the EAL gets the defaults above: one CPU each. */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if ((!b->has_dd || strcmp(argv[1], "--") == 0) && (long)b->workers + 1 > ncpu) {
		fprintf(stderr,
		        "%s: %u workers need %u CPUs (there are %ld); give EAL arguments such as "
		        "--lcores\n",
		        b->prog, b->workers, b->workers + 1, ncpu);
		return -EINVAL;
	}
	ret = gale_eal_init(argc, argv, def, &b->info);
	if (ret < 0)
		fprintf(stderr,
		        "%s: the EAL cannot start (%s); the workers run on EAL lcores "
		        "whichever the backend, so there is nothing to run them on\n",
		        b->prog, strerror(-ret));
	return ret;
}

const char *
gale_netopt_listen_host(const struct gale_netopt *o, const char *host, char *buf, size_t len)
{
	bool any = host[0] == '\0' || strcmp(host, "*") == 0;

	if (o->backend == GALE_CONN_NATIVE && any)
		snprintf(buf, len, "%u.%u.%u.%u", o->ip >> 24, (o->ip >> 16) & 255,
		         (o->ip >> 8) & 255, o->ip & 255);
	else
		snprintf(buf, len, "%s", any ? "0.0.0.0" : host);
	return buf;
}

static int
gale__netopt_port_file(const char *path, uint16_t port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "%u\n", (unsigned int)port);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		return -errno;
	return 0;
}

int
gale_netopt_announce(const struct gale_netopt *o, const char *prog, const char *host, uint16_t port,
                     unsigned int nb_workers, const char *what, bool huge, const char *port_file)
{
	char d[160];
	int ret;

	printf("%s: listening on %s:%u (backend %s, %u worker%s%s, %s)", prog, host,
	       (unsigned int)port, gale_netopt_backend_name(o->backend), nb_workers,
	       nb_workers == 1 ? "" : "s", what != NULL ? what : "",
	       huge ? "hugepages" : "no hugepages");
	if (o->backend == GALE_CONN_NATIVE)
		printf(" on %s", gale_netopt_describe(o, d, sizeof(d)));
	printf("\n");
	fflush(stdout);
	if (port_file == NULL || (ret = gale__netopt_port_file(port_file, port)) == 0)
		return 0;
	fprintf(stderr, "%s: port file %s: %s\n", prog, port_file, strerror(-ret));
	return ret;
}

uint64_t
gale_netopt_conns_left(const struct gale_netopt *o, struct gale_runtime *rt, const char *prog)
{
	struct gale_worker_stats ws;
	uint64_t left = 0;

	for (unsigned int k = 0; k < gale_runtime_nb_workers(rt); k++) {
		gale_worker_stats_get(gale_runtime_worker(rt, k), &ws);
		left += ws.stack_conns_left;
	}
	if (o->backend == GALE_CONN_NATIVE) {
		printf("%s: native: %lu connections still open in the stacks at stop\n", prog,
		       (unsigned long)left);
		fflush(stdout);
	}
	return left;
}
