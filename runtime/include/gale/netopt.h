/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/netopt.h: the network options gale programs share (gale-echo, gale-bench, gale-kv), so that
 * each takes them the same way and says the same thing in --help:
 *
 *   --backend kernel|native   kernel: sockets + epoll (default); native: a DPDK port and gale's
 *                             TCP stack
 *   --ip A.B.C.D[/LEN]        native: our address on the port (default 198.18.0.2/24)
 *   --gateway A.B.C.D         native: next hop for off-link peers (default none)
 *   --port NAME               native: the ethdev to use (default: the first the EAL probed)
 *   --mtu N                   native: IP MTU (default 1500)
 *   --steer auto|rss|sw       native: flow steering over the workers (default auto: RSS when the
 *                             port can, else software steering)
 *   --mbufs N                 native: packet buffers in the port's pool (default 32767)
 *   --stack-stats             native: print each worker's stack counters when it stops
 *
 * The port itself comes from the EAL arguments, DPDK's way: e.g. `--vdev net_tap0,iface=gale0`
 * or `--vdev net_memif0,role=server,socket=/tmp/m.sock`, then `--`, then the program's options.
 * gale_netopt_eal_defaults makes a program started with `--backend native` and no EAL arguments
 * open a net_tap port (iface gale0) by itself.
 *
 * Use: gale_netopt_init; in the getopt loop, GALE_NETOPT_LONGOPTS among the long options and
 * gale_netopt_parse for each option (it takes the ones above); after the EAL is up,
 * gale_netopt_start(nb_workers, &runtime_conf) sets the port up with one queue pair per worker,
 * its steering and the stack template, and fills the runtime's port, steering and stack fields;
 * workers then find their stack with gale_netopt_conn_conf; after gale_runtime_free,
 * gale_netopt_stop frees the steering, closes the port and reports the pool.
 *
 * Start-up and stop around that, shared by the programs whose workers are EAL lcores (so each
 * starts and reports the same way): gale_netopt_eal_init (help, the default lcores from --workers,
 * the CPU check, the native port default, gale_eal_init); gale_netopt_announce once listening
 * (the address line and the --port-file tests wait on); gale_netopt_conns_left after the run.
 */
#ifndef GALE_NETOPT_H
#define GALE_NETOPT_H

#include <stdbool.h>
#include <stdint.h>

#include <getopt.h>

#include <gale/conn.h>
#include <gale/eal.h>
#include <gale/port.h>
#include <gale/steer.h>
#include <gale/tcpstack.h>

struct gale_eal_defaults;
struct gale_runtime;
struct gale_runtime_conf;
struct gale_worker;

/** getopt_long codes of the shared options (outside the range of short options). */
#define GALE_NETOPT_BACKEND 0x4e01
#define GALE_NETOPT_IP      0x4e02
#define GALE_NETOPT_GATEWAY 0x4e03
#define GALE_NETOPT_PORT    0x4e04
#define GALE_NETOPT_MTU     0x4e05
#define GALE_NETOPT_STEER   0x4e06
#define GALE_NETOPT_MBUFS   0x4e07
#define GALE_NETOPT_STATS   0x4e08

/** The entries to put among a program's `struct option` array (comma separated, no terminator). */
#define GALE_NETOPT_LONGOPTS                                                                       \
	{ "backend", required_argument, NULL, GALE_NETOPT_BACKEND },                               \
	        { "ip", required_argument, NULL, GALE_NETOPT_IP },                                 \
	        { "gateway", required_argument, NULL, GALE_NETOPT_GATEWAY },                       \
	        { "port", required_argument, NULL, GALE_NETOPT_PORT },                             \
	        { "mtu", required_argument, NULL, GALE_NETOPT_MTU },                               \
	        { "steer", required_argument, NULL, GALE_NETOPT_STEER },                           \
	        { "mbufs", required_argument, NULL, GALE_NETOPT_MBUFS },                           \
	        { "stack-stats", no_argument, NULL, GALE_NETOPT_STATS }

/** --help lines for those options. */
#define GALE_NETOPT_USAGE                                                                          \
	"  --backend kernel|native network backend (default kernel: sockets + epoll;\n"            \
	"                          native: a DPDK port and gale's TCP stack per worker)\n"         \
	"  --ip A.B.C.D[/LEN]      native: our address (default 198.18.0.2/24)\n"                  \
	"  --gateway A.B.C.D       native: next hop for off-link peers (default none)\n"           \
	"  --port NAME             native: ethdev to use (default: the first probed)\n"            \
	"  --mtu N                 native: IP MTU (default 1500)\n"                                \
	"  --steer auto|rss|sw     native: flow steering over workers (default auto: RSS\n"        \
	"                          when the port can, else software steering, rings)\n"            \
	"  --mbufs N               native: packet buffers in the port's pool (default 32767)\n"    \
	"  --stack-stats           native: print each worker's TCP/IP stack counters at stop\n"   \
	"native: the port comes from EAL arguments before '--', e.g.\n"                           \
	"  --vdev net_tap0,iface=gale0 or --vdev net_memif0,role=client,socket=PATH;\n"           \
	"  with --backend native and no EAL arguments a net_tap port (iface gale0) is opened.\n"

/** Options and, once started, the port, steering and stack template they made. */
struct gale_netopt {
	enum gale_conn_kind backend; /**< default GALE_CONN_KERNEL. */
	const char *port_name;       /**< NULL = the first ethdev. */
	uint32_t ip, netmask, gateway; /**< host order. */
	uint16_t mtu;                  /**< 0 = 1500. */
	enum gale_steer_mode steer;
	unsigned int nb_mbufs; /**< 0 = 32767. */
	bool stack_stats;      /**< --stack-stats. */
	/* set by gale_netopt_start */
	bool started;
	struct gale_port port;
	struct gale_port *ports[1];
	struct gale_steer *steers[1];
	struct gale_stack_conf stack;
	const struct gale_stack_conf *stacks[1];
	unsigned int pool_base; /**< mbufs in use right after setup (rx rings). */
};

/** Defaults: kernel backend, 198.18.0.2/24, auto steering. */
void gale_netopt_init(struct gale_netopt *o);

/**
 * Take getopt_long's code c and its argument, when it is one of the shared options: 1 (taken), 0
 * (not one of them), or -EINVAL (bad value; a message naming prog and the option was printed).
 */
int gale_netopt_parse(struct gale_netopt *o, int c, const char *arg, const char *prog);

/**
 * Before gale_eal_init: when argv asks for --backend native and gives no EAL arguments, add a
 * net_tap vdev (iface gale0) to def. def->vdevs must be NULL or the caller's own list (left as is).
 */
void gale_netopt_eal_defaults(int argc, char *const *argv, struct gale_eal_defaults *def);

/**
 * After the EAL is up. Kernel: nothing. Native: set the port up with nb_workers queue pairs, its
 * steering and the stack template, and fill rc's ports, nb_ports, steers and stacks. 0 or a
 * negative errno (a message naming prog was printed).
 */
int gale_netopt_start(struct gale_netopt *o, unsigned int nb_workers, struct gale_runtime_conf *rc,
                      const char *prog);

/**
 * For a worker's connection backend: kind and (native) the worker's stack into cc. 0, or -ENODEV
 * when native and the worker has no stack.
 */
int gale_netopt_conn_conf(const struct gale_netopt *o, const struct gale_worker *w,
                          struct gale_conn_conf *cc);

/**
 * From a worker's fini callback (after the connections are closed): with --stack-stats, print the
 * worker's stack counters that are not zero, one per line prefixed with prog and the worker id.
 */
void gale_netopt_worker_fini(const struct gale_netopt *o, const struct gale_worker *w,
                             const char *prog);

/**
 * Parse "A.B.C.D[/LEN]" into *ip (host order) and, when mask is not NULL, *mask (LEN, default 24;
 * without mask a /LEN is an error). 0 or -EINVAL.
 */
int gale_netopt_parse_ip(const char *s, uint32_t *ip, uint32_t *mask);

/** "kernel" or "native". */
const char *gale_netopt_backend_name(enum gale_conn_kind kind);

/** "198.18.0.2/24 on net_tap0 (2 queues, software steering)" for announcements, into buf. */
const char *gale_netopt_describe(const struct gale_netopt *o, char *buf, size_t len);

/**
 * After gale_runtime_free: free the steering and close the port, after printing (prefixed with
 * prog) how many of the pool's buffers are free; returns how many are still out (0 when every
 * mbuf came back). Nothing for kernel (returns 0).
 */
int gale_netopt_stop(struct gale_netopt *o, const char *prog);

/** A program's start-up (gale_netopt_eal_init): what it asks for, then what was found. */
struct gale_netopt_boot {
	const char *prog;          /**< in: for messages. */
	unsigned int max_workers;  /**< in: a --workers of 0 or above this counts as 1 here (the
	                                program's own parser reports the bad value). */
	bool help;                 /**< out: --help or -h was given; the EAL was not started. */
	bool has_dd;               /**< out: argv has "--" (EAL arguments given). */
	unsigned int workers;      /**< out: --workers as peeked from argv (default 1). */
	struct gale_eal_info info; /**< out: what gale_eal_init decided. */
	char lcores[24];           /**< the default lcore list: main + one per worker, "0-N". */
};

/**
 * Start the EAL for a program whose N workers (--workers N, peeked from argv) are EAL lcores:
 * the default lcores are 0-N (def->lcores), a port's memory is added when --backend native makes
 * gale_netopt_eal_defaults open a net_tap port (def->mem_mb 512), and when the EAL gets its
 * defaults N+1 CPUs must be online. Returns 0 with b->help set (nothing started) when --help or
 * -h was given; else what gale_eal_init returns (the program's options are argv + ret); or a
 * negative errno after a message naming b->prog (too few CPUs, or the EAL cannot start).
 */
int gale_netopt_eal_init(struct gale_netopt_boot *b, int argc, char **argv,
                         struct gale_eal_defaults *def);

/**
 * The address to announce for a server told to listen on host ("" or "*" = any): on native with
 * any, the stack's address; else host, or 0.0.0.0 for any. Into buf.
 */
const char *gale_netopt_listen_host(const struct gale_netopt *o, const char *host, char *buf,
                                    size_t len);

/**
 * Once a server listens: print "PROG: listening on HOST:PORT (backend B, N worker[s]WHAT,
 * [no ]hugepages)", followed on native by " on " and gale_netopt_describe, and write PORT to
 * port_file when not NULL (atomically: a temporary file renamed, so a reader sees all or
 * nothing). what is appended to the workers (e.g. " = shards"; NULL = nothing). 0 or the port
 * file's negative errno (a message was printed).
 */
int gale_netopt_announce(const struct gale_netopt *o, const char *prog, const char *host,
                         uint16_t port, unsigned int nb_workers, const char *what, bool huge,
                         const char *port_file);

/**
 * After gale_runtime_run: the connections the workers' stacks still had when they stopped; on
 * native also printed ("PROG: native: N connections still open in the stacks at stop"). 0 on
 * kernel.
 */
uint64_t gale_netopt_conns_left(const struct gale_netopt *o, struct gale_runtime *rt,
                                const char *prog);

#endif /* GALE_NETOPT_H */
