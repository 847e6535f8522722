/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-echo: serves the echo service (apps/echo/echo.thrift) with gale's RPC server.
 *
 *   gale-echo [EAL args --] [--backend kernel|native] [--listen HOST:PORT] [--workers N]
 *             [--port-file F] [--idle poll|sleep] [--idle-timeout-ms MS] [--max-frame BYTES]
 *             [--ip A.B.C.D/LEN] [--gateway A.B.C.D] [--port NAME] [--steer auto|rss|sw] ...
 *
 *   e.g. gale-echo --vdev net_tap0,iface=t0 -l 0-1 -- --backend native --ip 198.18.0.2/24
 *
 * Any transport and protocol a client speaks (Framed, Buffered, TTHeader, THeader x Binary,
 * Compact) is detected per connection and answered in kind.
 *
 * How the kernel backend runs: the workers are the runtime's EAL worker lcores, each with its own
 * epoll instance and SO_REUSEPORT listener; no DPDK port is opened and no hugepage is needed. With
 * no EAL arguments gale-echo starts the EAL itself with --no-pci --no-huge and one lcore per worker
 * plus the main lcore (the control thread), so N workers need N+1 CPUs unless EAL arguments (e.g.
 * --lcores) say otherwise. If the EAL cannot start, gale-echo says why and exits with status 1: it
 * does not fall back to plain threads, because the workers, timers and control plane are the
 * runtime's and the runtime is built on the EAL. Workers sleep when idle (--idle sleep, the
 * default), so a test machine keeps CPU for the clients.
 *
 * The native backend (--backend native, options shared with gale-bench and gale-kv through
 * gale/netopt.h): the port named by the EAL arguments (net_tap, net_memif, ...; a net_tap port
 * with iface gale0 when there are none) with one queue pair per worker, software steering when it
 * has no usable RSS, and one gale TCP stack per worker at --ip; gale-echo listens on that address
 * (--listen's host may be omitted, '*' or the --ip address) and, at exit, prints how many
 * connections the stacks still had and how many of the port's mbufs came back.
 *
 * When every argument is a gale-echo option (no "--" anywhere), they are all taken as such and
 * the EAL gets its defaults. The first SIGINT or SIGTERM drains (stop accepting, answer what was
 * received, close) and exits 0; a second one exits at once.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gale/eal.h>
#include <gale/netopt.h>
#include <gale/rpc.h>
#include <gale/runtime.h>

#include "echo.h"

/* ---- the handlers ---- */

static int
h_echo(void *user, const struct gale_echo_Echo_echo_args *args,
       struct gale_echo_Echo_echo_result *res)
{
	(void)user;
	res->success = args->message;
	GALE_SET(res, gale_echo_Echo_echo_result_F_success);
	return 0;
}

static int
h_echo_all(void *user, const struct gale_echo_Echo_echo_all_args *args,
           struct gale_echo_Echo_echo_all_result *res)
{
	(void)user;
	/* A shallow copy: the request's views and arena outlive the reply's encoding. */
	res->success = args->v;
	GALE_SET(res, gale_echo_Echo_echo_all_result_F_success);
	return 0;
}

static int
h_echo_binary(void *user, const struct gale_echo_Echo_echo_binary_args *args,
              struct gale_echo_Echo_echo_binary_result *res)
{
	(void)user;
	res->success = args->data;
	GALE_SET(res, gale_echo_Echo_echo_binary_result_F_success);
	return 0;
}

static int
h_ping(void *user, const struct gale_echo_Echo_ping_args *args,
       struct gale_echo_Echo_ping_result *res)
{
	(void)user;
	(void)args;
	(void)res;
	return 0;
}

static int
h_add(void *user, const struct gale_echo_Echo_add_args *args, struct gale_echo_Echo_add_result *res)
{
	(void)user;
	res->success = (int64_t)((uint64_t)args->a + (uint64_t)args->b);
	GALE_SET(res, gale_echo_Echo_add_result_F_success);
	return 0;
}

static int
h_echo_or_fail(void *user, const struct gale_echo_Echo_echo_or_fail_args *args,
               struct gale_echo_Echo_echo_or_fail_result *res)
{
	(void)user;
	if (args->code != 0) {
		res->err.code = args->code;
		res->err.message = args->message;
		GALE_SET(res, gale_echo_Echo_echo_or_fail_result_F_err);
		return 0;
	}
	res->success = args->message;
	GALE_SET(res, gale_echo_Echo_echo_or_fail_result_F_success);
	return 0;
}

static uint64_t notified;

static int
h_notify(void *user, const struct gale_echo_Echo_notify_args *args)
{
	(void)user;
	(void)args;
	__atomic_fetch_add(&notified, 1, __ATOMIC_RELAXED);
	return 0;
}

static const struct gale_echo_Echo_handlers echo_handlers = {
	.echo = h_echo,
	.echo_binary = h_echo_binary,
	.echo_all = h_echo_all,
	.ping = h_ping,
	.add = h_add,
	.echo_or_fail = h_echo_or_fail,
	.notify = h_notify,
};

GALE_RPC_DISPATCH(gale_echo_Echo)

/* ---- the program ---- */

struct echo_opts {
	const char *listen;
	const char *port_file;
	unsigned int workers;
	int idle_sleep;
	uint32_t idle_timeout_ms;
	uint32_t max_frame;
	struct gale_netopt net;
};

static void
usage(const char *prog)
{
	printf("usage: %s [EAL args --] [options]\n"
	       "Serves apps/echo/echo.thrift (Echo: echo, echo_binary, echo_all, ping, add, "
	       "echo_or_fail, notify)\n"
	       "on every Thrift transport and protocol, detected per connection.\n"
	       "  --listen HOST:PORT      listen address (default 127.0.0.1:9090 on kernel, *:9090 on\n"
	       "                          native; port 0 = any)\n"
	       "  --workers N             worker lcores (default 1; N+1 CPUs with default EAL "
	       "args)\n"
	       "  --port-file FILE        write the listening port to FILE once listening\n"
	       "  --idle poll|sleep       idle workers poll or sleep (default sleep)\n"
	       "  --idle-timeout-ms MS    close connections idle that long (default 0: never)\n"
	       "  --max-frame BYTES       largest frame accepted (default 16 MiB)\n"
	       GALE_NETOPT_USAGE
	       "  --help                  this text\n"
	       "Without '--' every argument is taken as an option here and the EAL gets defaults\n"
	       "(--no-pci --no-huge). SIGINT/SIGTERM: drain and exit 0; a second one: exit now.\n",
	       prog);
}

static int
parse_args(int argc, char **argv, struct echo_opts *o)
{
	static const struct option longs[] = {
		GALE_NETOPT_LONGOPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "workers", required_argument, NULL, 'w' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "idle", required_argument, NULL, 'i' },
		{ "idle-timeout-ms", required_argument, NULL, 't' },
		{ "max-frame", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	optind = 0; /* glibc: full re-initialisation after the EAL's own getopt pass */
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 'w':
			o->workers = (unsigned int)strtoul(optarg, NULL, 10);
			if (o->workers == 0 || o->workers > 64) {
				fprintf(stderr, "gale-echo: --workers must be 1..64\n");
				return -1;
			}
			break;
		case 'p':
			o->port_file = optarg;
			break;
		case 'i':
			if (strcmp(optarg, "poll") != 0 && strcmp(optarg, "sleep") != 0) {
				fprintf(stderr, "gale-echo: --idle poll|sleep\n");
				return -1;
			}
			o->idle_sleep = strcmp(optarg, "sleep") == 0;
			break;
		case 't':
			o->idle_timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			o->max_frame = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			ret = c == '?' ? 0 : gale_netopt_parse(&o->net, c, optarg, "gale-echo");
			if (ret != 1)
				return -1;
			break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gale-echo: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

struct echo_ctl {
	struct gale_rpc_server *srv;
	const char *port_file;
	unsigned int workers;
	int written;
	const char *host; /**< for the announcement */
	bool huge;
	const struct gale_netopt *net;
};

static const struct gale_netopt *echo_net;

/* The server's fini (connections closed), then the stack's counters when asked. */
static void
echo_worker_fini(struct gale_worker *w, void *arg)
{
	gale_rpc_server_worker_fini(w, arg);
	gale_netopt_worker_fini(echo_net, w, "gale-echo");
}

/* Control thread, each period: once every worker listens, publish the port (tests wait on it). */
static void
echo_control(struct gale_runtime *rt, void *arg)
{
	struct echo_ctl *ec = arg;

	(void)rt;
	if (ec->written || gale_rpc_server_listening(ec->srv) < ec->workers)
		return;
	ec->written = 1;
	gale_netopt_announce(ec->net, "gale-echo", ec->host, gale_rpc_server_port(ec->srv),
	                     ec->workers, NULL, ec->huge, ec->port_file);
}

int
main(int argc, char **argv)
{
	struct echo_opts o = { NULL, NULL, 1, 1, 0, 0, { 0 } };
	struct gale_rpc_service svc = { "Echo", gale_echo_Echo_gale_rpc_dispatch, &echo_handlers,
		                        NULL };
	struct gale_eal_defaults def = { .log_level = "lib.eal:warning",
		                         .no_huge = true,
		                         .mem_mb = 256,
		                         .app_args_only = true };
	struct gale_rpc_server_conf sc;
	struct gale_runtime_conf rc;
	struct gale_netopt_boot boot = { .prog = "gale-echo", .max_workers = 64 };
	struct gale_rpc_server *srv;
	struct gale_runtime *rt;
	struct gale_rpc_stats st;
	struct echo_ctl ectl = { NULL, NULL, 0, 0, "", false, NULL };
	char host[64], shown[64];
	int leaked;
	uint16_t port;
	int ret;

	gale_netopt_init(&o.net);
	ret = gale_netopt_eal_init(&boot, argc, argv, &def);
	if (boot.help) {
		usage(argv[0]);
		return 0;
	}
	if (ret < 0)
		return 1;
	o.workers = boot.workers;
	if (parse_args(argc - ret, argv + ret, &o) != 0) {
		usage(argv[0]);
		gale_eal_cleanup();
		return 2;
	}
	if (o.listen == NULL)
		o.listen = o.net.backend == GALE_CONN_NATIVE ? "*:9090" : "127.0.0.1:9090";
	if (gale_conn_parse_addr(o.listen, host, sizeof(host), &port) != 0) {
		fprintf(stderr, "gale-echo: bad --listen '%s' (want IPv4:PORT)\n", o.listen);
		gale_eal_cleanup();
		return 2;
	}
	if (o.net.backend == GALE_CONN_NATIVE && host[0] != '\0' && strcmp(host, "*") != 0 &&
	    strcmp(host, "0.0.0.0") != 0) {
		uint32_t lip;

		if (gale_netopt_parse_ip(host, &lip, NULL) != 0 || lip != o.net.ip) {
			fprintf(stderr,
			        "gale-echo: --listen %s: on the native backend the host must be '*' or "
			        "the --ip address\n",
			        o.listen);
			gale_eal_cleanup();
			return 2;
		}
	}
	memset(&sc, 0, sizeof(sc));
	sc.services = &svc;
	sc.nb_services = 1;
	sc.backend = o.net.backend;
	sc.host = host;
	sc.port = port;
	sc.idle_timeout_ms = o.idle_timeout_ms;
	sc.limits.max_frame = o.max_frame;
	srv = gale_rpc_server_create(&sc, o.workers);
	if (srv == NULL) {
		fprintf(stderr, "gale-echo: server: %s\n", strerror(errno));
		gale_eal_cleanup();
		return 1;
	}
	memset(&rc, 0, sizeof(rc));
	rc.name = "echo";
	rc.idle.mode = o.idle_sleep ? GALE_IDLE_SLEEP : GALE_IDLE_POLL;
	rc.idle.idle_iters = 64;
	rc.idle.sleep_us = 200;
	gale_rpc_server_runtime_conf(srv, &rc);
	echo_net = &o.net;
	rc.fini_cb = echo_worker_fini;
	if (gale_netopt_start(&o.net, o.workers, &rc, "gale-echo") != 0) {
		gale_rpc_server_free(srv);
		gale_eal_cleanup();
		return 1;
	}
	/* The address to announce: the stack's on native when listening on any. */
	gale_netopt_listen_host(&o.net, host, shown, sizeof(shown));
	ectl.net = &o.net;
	ectl.srv = srv;
	ectl.port_file = o.port_file;
	ectl.workers = o.workers;
	ectl.host = shown;
	ectl.huge = boot.info.huge;
	rc.control_cb = echo_control;
	rc.control_arg = &ectl;
	rt = gale_runtime_create(&rc);
	if (rt == NULL) {
		fprintf(stderr, "gale-echo: runtime: %s\n", strerror(errno));
		gale_rpc_server_free(srv);
		gale_netopt_stop(&o.net, "gale-echo");
		gale_eal_cleanup();
		return 1;
	}
	gale_runtime_signals_install(rt);
	printf("gale-echo: starting %u worker%s on %s:%u (backend %s)\n", o.workers,
	       o.workers == 1 ? "" : "s", shown, (unsigned int)port,
	       gale_netopt_backend_name(o.net.backend));
	fflush(stdout);
	ret = gale_runtime_run(rt);
	gale_rpc_server_stats(srv, &st);
	printf("gale-echo: stopped (%s): %lu connections, %lu requests, %lu replies, %lu oneway, "
	       "exceptions: %lu unknown method, %lu protocol, %lu handler; %lu bad frames; "
	       "%lu pauses for unread replies\n",
	       ret == 0 ? "clean" : strerror(-ret), (unsigned long)st.conns_accepted,
	       (unsigned long)st.requests, (unsigned long)st.replies, (unsigned long)st.oneways,
	       (unsigned long)st.ex_unknown_method, (unsigned long)st.ex_protocol,
	       (unsigned long)st.ex_handler, (unsigned long)st.bad_frames,
	       (unsigned long)st.tx_paused);
	fflush(stdout);
	gale_netopt_conns_left(&o.net, rt, "gale-echo");
	gale_runtime_free(rt);
	gale_rpc_server_free(srv);
	leaked = gale_netopt_stop(&o.net, "gale-echo");
	gale_eal_cleanup();
	return (ret == 0 || ret == -ETIMEDOUT) && leaked == 0 ? 0 : 1;
}
