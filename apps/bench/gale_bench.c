/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-bench: a Thrift load generator on gale's runtime, for gale's own servers and for any other Thrift server
 * (it is the client of every baseline in perf/). It calls the echo service (apps/echo/echo.thrift) through the
 * stubs gale-thriftc generates and gale's RPC client, over any transport and protocol.
 *
 *   gale-bench [EAL args --] --target HOST:PORT [--method echo|echo_binary|ping|add] [--payload BYTES]
 *              [--connections N] [--pipeline D] [--duration S] [--warmup S] [--rate RPS] [--poisson]
 *              [--transport framed|buffered|header|ttheader] [--protocol binary|compact] [--workers N]
 *              [--timeout-ms MS] [--json FILE] [--progress] [--idle pause|sleep|poll]
 *              [--backend kernel|native [--ip A.B.C.D/LEN] [--gateway A.B.C.D] [--steer auto|rss|sw] ...]
 *
 *   e.g. gale-bench --vdev net_memif0,role=client,socket=/tmp/m.sock -l 0-1 -- --backend native
 *        --ip 198.18.0.3/24 --target 198.18.0.2:9090 --connections 256 --pipeline 16
 *
 * Closed loop (default): every connection keeps --pipeline calls in flight; throughput is what the server
 * gives. Open loop (--rate): calls are due on a fixed schedule (or Poisson, --poisson) and each call's latency is
 * measured from when it was due, not from when it could be sent (pacer.h: no coordinated omission, as wrk2),
 * so a server that stalls shows the queueing it caused. Latencies go into one HDR-style histogram per worker
 * (hist.h: 1 ns .. 10 s, 1/128 relative error), merged at the end. Calls made during --warmup are not counted.
 * Every echo reply is compared with what was sent; a wrong answer counts as an error.
 *
 * Output: a progress line per second (--progress, or when stdout is a terminal), then a results table, and JSON
 * with --json FILE (cJSON). Exit status 0 when the run finished with no error, 1 when some call failed.
 *
 * Threads: the workers are the runtime's EAL worker lcores (the kernel backend: epoll per worker, no DPDK port);
 * the main lcore is the control thread, which prints progress and ends the run. Without "--" every argument is
 * gale-bench's own and the EAL starts with --no-pci --no-huge and one lcore per worker plus the main lcore.
 *
 * The native backend (--backend native; options shared with gale-echo through gale/netopt.h): the DPDK port of
 * the EAL arguments with one queue pair per worker and one gale TCP stack per worker; each worker's client opens
 * its connections on its own stack, with source ports that steer the replies back to it. At exit it prints the
 * calls sent and answered over the whole run (warm-up included), the connections the stacks still had open and
 * the port's pool (every mbuf must be back), and fails (status 1) when any of those is off.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <rte_lcore.h>

#include <gale/conn.h>
#include <gale/eal.h>
#include <gale/netopt.h>
#include <gale/rpc.h>
#include <gale/runtime.h>
#include <gale/thriftc.h>
#include <gale/worker.h>

#include "echo.h"
#include "hist.h"
#include "pacer.h"

#define BENCH_MAX_WORKERS 64

enum bench_method { M_ECHO, M_ECHO_BINARY, M_PING, M_ADD };
static const char *const method_names[] = { "echo", "echo_binary", "ping", "add" };

struct bench_opts {
	const char *target;
	enum bench_method method;
	unsigned int payload;
	unsigned int connections;
	unsigned int pipeline;
	double duration_s;
	double warmup_s;
	double rate;
	bool poisson;
	uint8_t transport;
	uint8_t proto;
	unsigned int workers;
	uint32_t timeout_ms;
	const char *json;
	bool progress;
	enum gale_idle_mode idle;
	const char *wait_file;
	struct gale_netopt net;
};

struct bench_worker;

/* One call in flight: its arguments and result live here until the done callback. */
struct bench_call {
	struct bench_worker *bw;
	uint64_t due_ns; /**< intended send time (open loop) or send time (closed loop) */
	uint32_t next_free;
	union {
		struct gale_echo_Echo_echo_args echo;
		struct gale_echo_Echo_echo_binary_args echo_binary;
		struct gale_echo_Echo_ping_args ping;
		struct gale_echo_Echo_add_args add;
	} args;
	union {
		struct gale_echo_Echo_echo_result echo;
		struct gale_echo_Echo_echo_binary_result echo_binary;
		struct gale_echo_Echo_ping_result ping;
		struct gale_echo_Echo_add_result add;
	} res;
};

/* Per worker: written only by its worker while running; the control thread reads counters (relaxed). */
struct bench_worker {
	struct gale_rpc_client *cl;
	struct gale_tc_channel ch;
	struct gale_pacer pacer;
	struct bench_call *calls;
	uint32_t free_head;
	uint32_t max_inflight;
	uint32_t inflight;
	uint64_t issued;    /**< calls started (any phase) */
	uint64_t ok;        /**< measured calls completed correctly */
	uint64_t errors;    /**< measured calls failed or answered wrong */
	uint64_t timeouts;  /**< of which timeouts */
	uint64_t start_err; /**< calls the client refused to start */
	uint64_t answered;  /**< calls answered correctly, whole run (warm-up and drain included) */
	struct gale_hist hist;
} __attribute__((aligned(64)));

static struct bench_opts opt = {
	.method = M_ECHO, .payload = 64, .connections = 1, .pipeline = 1, .duration_s = 10, .warmup_s = 1,
	.transport = GALE_TRANSPORT_FRAMED, .proto = GALE_PROTO_BINARY, .workers = 1, .timeout_ms = 1000,
};
static struct bench_worker workers[BENCH_MAX_WORKERS];
static uint8_t *payload;
static uint64_t t_start_ns, t_measure_ns, t_end_ns; /* set before the workers start; read-only after */
static volatile int stop_issuing;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
call_done(void *arg, int status)
{
	struct bench_call *c = arg;
	struct bench_worker *bw = c->bw;
	const uint64_t t = now_ns();
	bool right = status == 0;

	if (right && opt.method == M_ECHO)
		right = c->res.echo.success.len == opt.payload &&
			(opt.payload == 0 || memcmp(c->res.echo.success.ptr, payload, opt.payload) == 0);
	else if (right && opt.method == M_ECHO_BINARY)
		right = c->res.echo_binary.success.len == opt.payload &&
			(opt.payload == 0 || memcmp(c->res.echo_binary.success.ptr, payload, opt.payload) == 0);
	else if (right && opt.method == M_ADD)
		right = c->res.add.success == c->args.add.a + c->args.add.b;
	if (right)
		__atomic_store_n(&bw->answered, bw->answered + 1, __ATOMIC_RELAXED);
	if (c->due_ns >= t_measure_ns && c->due_ns < t_end_ns) {
		if (right) {
			gale_hist_record(&bw->hist, t - c->due_ns);
			__atomic_store_n(&bw->ok, bw->ok + 1, __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(&bw->errors, bw->errors + 1, __ATOMIC_RELAXED);
			if (status == -ETIMEDOUT)
				bw->timeouts++;
		}
	}
	c->next_free = bw->free_head;
	bw->free_head = (uint32_t)(c - bw->calls);
	bw->inflight--;
}

/* Start one call due at due_ns. 0, or a negative errno (the slot is returned). */
static int
issue(struct bench_worker *bw, uint64_t due_ns)
{
	struct bench_call *c = &bw->calls[bw->free_head];
	int ret;

	bw->free_head = c->next_free;
	c->due_ns = due_ns;
	switch (opt.method) {
	case M_ECHO:
		gale_echo_Echo_echo_result_init(&c->res.echo);
		ret = gale_echo_Echo_echo_call_async(&bw->ch, &c->args.echo, &c->res.echo, call_done, c);
		break;
	case M_ECHO_BINARY:
		gale_echo_Echo_echo_binary_result_init(&c->res.echo_binary);
		ret = gale_echo_Echo_echo_binary_call_async(&bw->ch, &c->args.echo_binary, &c->res.echo_binary,
							    call_done, c);
		break;
	case M_PING:
		gale_echo_Echo_ping_result_init(&c->res.ping);
		ret = gale_echo_Echo_ping_call_async(&bw->ch, &c->args.ping, &c->res.ping, call_done, c);
		break;
	default:
		c->args.add.a = (int64_t)bw->issued;
		gale_echo_Echo_add_result_init(&c->res.add);
		ret = gale_echo_Echo_add_call_async(&bw->ch, &c->args.add, &c->res.add, call_done, c);
		break;
	}
	if (ret != 0) {
		c->next_free = bw->free_head;
		bw->free_head = (uint32_t)(c - bw->calls);
		__atomic_store_n(&bw->start_err, bw->start_err + 1, __ATOMIC_RELAXED);
		return ret;
	}
	bw->inflight++;
	__atomic_store_n(&bw->issued, bw->issued + 1, __ATOMIC_RELAXED);
	return 0;
}

static int
worker_init(struct gale_worker *w, void *arg)
{
	struct bench_worker *bw = &workers[gale_worker_id(w)];
	const char *endpoints[] = { opt.target };
	struct gale_rpc_client_conf cc;
	unsigned int conns, i;

	(void)arg;
	/* Connections are spread over the workers; each keeps --pipeline calls in flight per connection. */
	conns = opt.connections / opt.workers + (gale_worker_id(w) < opt.connections % opt.workers);
	if (conns == 0)
		return 0;
	memset(&cc, 0, sizeof(cc));
	cc.endpoints = endpoints;
	cc.nb_endpoints = 1;
	cc.transport = opt.transport;
	cc.proto = opt.proto;
	cc.conns_per_endpoint = conns;
	bw->max_inflight = conns * opt.pipeline;
	cc.max_pending = bw->max_inflight;
	cc.rpc_timeout_ms = opt.timeout_ms;
	cc.connect_timeout_ms = opt.timeout_ms;
	cc.backend = opt.net.backend;
	bw->calls = calloc(bw->max_inflight, sizeof(*bw->calls));
	if (bw->calls == NULL)
		return -ENOMEM;
	for (i = 0; i < bw->max_inflight; i++) {
		struct bench_call *c = &bw->calls[i];

		c->bw = bw;
		c->next_free = i + 1;
		gale_echo_Echo_echo_args_init(&c->args.echo);
		switch (opt.method) {
		case M_ECHO:
			c->args.echo.message.ptr = payload;
			c->args.echo.message.len = opt.payload;
			GALE_SET(&c->args.echo, gale_echo_Echo_echo_args_F_message);
			break;
		case M_ECHO_BINARY:
			gale_echo_Echo_echo_binary_args_init(&c->args.echo_binary);
			c->args.echo_binary.data.ptr = payload;
			c->args.echo_binary.data.len = opt.payload;
			GALE_SET(&c->args.echo_binary, gale_echo_Echo_echo_binary_args_F_data);
			break;
		case M_PING:
			gale_echo_Echo_ping_args_init(&c->args.ping);
			break;
		default:
			gale_echo_Echo_add_args_init(&c->args.add);
			c->args.add.b = 1000;
			GALE_SET(&c->args.add, gale_echo_Echo_add_args_F_a);
			GALE_SET(&c->args.add, gale_echo_Echo_add_args_F_b);
			break;
		}
	}
	bw->free_head = 0;
	bw->cl = gale_rpc_client_create(&cc, w);
	if (bw->cl == NULL)
		return -errno;
	gale_rpc_client_channel(bw->cl, &bw->ch);
	if (opt.rate > 0 && gale_pacer_init(&bw->pacer, opt.rate / opt.workers, t_start_ns, opt.poisson,
					    0x5eed + gale_worker_id(w)) != 0)
		return -EINVAL;
	return 0;
}

static unsigned int
worker_work(struct gale_worker *w, void *arg)
{
	struct bench_worker *bw = &workers[gale_worker_id(w)];
	unsigned int done;
	uint64_t t;

	(void)arg;
	if (bw->cl == NULL)
		return 0;
	done = gale_rpc_client_poll(bw->cl);
	if (stop_issuing || gale_worker_draining(w))
		return done;
	t = now_ns();
	if (opt.rate > 0) {
		/* Due calls wait here while the pipeline is full; their latency runs from when they were due. */
		while (bw->inflight < bw->max_inflight && gale_pacer_due(&bw->pacer, t) &&
		       bw->pacer.next_ns < t_end_ns && issue(bw, bw->pacer.next_ns) == 0) {
			gale_pacer_take(&bw->pacer);
			done++;
		}
	} else {
		while (bw->inflight < bw->max_inflight && t < t_end_ns && issue(bw, t) == 0)
			done++;
	}
	return done;
}

static uint64_t
worker_inflight(struct gale_worker *w, void *arg)
{
	(void)arg;
	return workers[gale_worker_id(w)].inflight;
}

static void
worker_fini(struct gale_worker *w, void *arg)
{
	struct bench_worker *bw = &workers[gale_worker_id(w)];

	(void)arg;
	gale_rpc_client_free(bw->cl); /* fails what is still pending: counted by call_done */
	bw->cl = NULL;
	gale_netopt_worker_fini(&opt.net, w, "gale-bench");
}

struct bench_ctl {
	uint64_t next_report_ns;
	uint64_t last_ok;
	double cpu0;
};

static uint64_t
sum_counter(size_t offset)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < opt.workers; i++)
		n += __atomic_load_n((const uint64_t *)((const char *)&workers[i] + offset), __ATOMIC_RELAXED);
	return n;
}

/* Control thread, every millisecond: progress once a second; the end of the run. */
static void
bench_control(struct gale_runtime *rt, void *arg)
{
	struct bench_ctl *bc = arg;
	const uint64_t t = now_ns();
	uint64_t ok;

	if (opt.progress && t >= bc->next_report_ns) {
		ok = sum_counter(offsetof(struct bench_worker, ok));
		printf("gale-bench: %5.1f s  %10.0f calls/s  %" PRIu64 " ok  %" PRIu64 " errors%s\n",
		       (double)(t - t_start_ns) / 1e9, (double)(ok - bc->last_ok),
		       ok, sum_counter(offsetof(struct bench_worker, errors)),
		       t < t_measure_ns ? "  (warm-up)" : "");
		fflush(stdout);
		bc->last_ok = ok;
		bc->next_report_ns += 1000000000ull;
	}
	if (t >= t_end_ns && !stop_issuing) {
		stop_issuing = 1;
		gale_runtime_stop(rt); /* drain: the runtime waits for calls in flight (inflight callback) */
	}
}

/*
 * With no worker polling any more, wait (bounded) until path exists. DPDK 22.11's memif can crash a
 * process whose worker is polling while the peer disconnects; a test lets the peer stop first.
 */
static void
wait_for_file(const char *path, unsigned int max_s)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	printf("gale-bench: waiting for %s before closing the port\n", path);
	fflush(stdout);
	for (unsigned int i = 0; i < max_s * 100 && access(path, F_OK) != 0; i++)
		nanosleep(&ts, NULL);
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "target", required_argument, NULL, 'T' },  { "method", required_argument, NULL, 'm' },
		{ "payload", required_argument, NULL, 's' }, { "connections", required_argument, NULL, 'c' },
		{ "pipeline", required_argument, NULL, 'd' }, { "duration", required_argument, NULL, 'D' },
		{ "warmup", required_argument, NULL, 'W' },  { "rate", required_argument, NULL, 'r' },
		{ "poisson", no_argument, NULL, 'P' },       { "transport", required_argument, NULL, 't' },
		{ "protocol", required_argument, NULL, 'p' }, { "workers", required_argument, NULL, 'w' },
		{ "timeout-ms", required_argument, NULL, 'o' }, { "json", required_argument, NULL, 'j' },
		{ "progress", no_argument, NULL, 'g' },      { "idle", required_argument, NULL, 'i' },
		{ "wait-file", required_argument, NULL, 'F' },
		GALE_NETOPT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
	};
	char *end;
	unsigned int i;
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'T':
			opt.target = optarg;
			break;
		case 'm':
			for (i = 0; i < 4 && strcmp(optarg, method_names[i]) != 0; i++)
				;
			if (i == 4) {
				fprintf(stderr, "gale-bench: --method: expected echo, echo_binary, ping or add, got '%s'\n",
					optarg);
				return -1;
			}
			opt.method = (enum bench_method)i;
			break;
		case 's':
		case 'c':
		case 'd':
		case 'w':
		case 'o': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end != '\0' || errno != 0 || *optarg == '-' || v > (c == 's' ? 16ul << 20 : 100000ul) ||
			    (v == 0 && c != 's')) {
				fprintf(stderr, "gale-bench: --%s: expected a count%s, got '%s'\n",
					c == 's' ? "payload" : c == 'c' ? "connections" : c == 'd' ? "pipeline" :
					c == 'w' ? "workers" : "timeout-ms",
					c == 's' ? " of bytes up to 16 MiB" : " >= 1", optarg);
				return -1;
			}
			if (c == 's')
				opt.payload = (unsigned int)v;
			else if (c == 'c')
				opt.connections = (unsigned int)v;
			else if (c == 'd')
				opt.pipeline = (unsigned int)v;
			else if (c == 'w')
				opt.workers = (unsigned int)v;
			else
				opt.timeout_ms = (uint32_t)v;
			break;
		}
		case 'D':
		case 'W':
		case 'r': {
			double v = strtod(optarg, &end);

			if (*end != '\0' || !isfinite(v) || v < 0 || (c == 'D' && v <= 0)) {
				fprintf(stderr, "gale-bench: --%s: expected a number%s, got '%s'\n",
					c == 'D' ? "duration" : c == 'W' ? "warmup" : "rate",
					c == 'D' ? " of seconds > 0" : " >= 0", optarg);
				return -1;
			}
			if (c == 'D')
				opt.duration_s = v;
			else if (c == 'W')
				opt.warmup_s = v;
			else
				opt.rate = v;
			break;
		}
		case 'P':
			opt.poisson = true;
			break;
		case 't':
			if (strcmp(optarg, "framed") == 0)
				opt.transport = GALE_TRANSPORT_FRAMED;
			else if (strcmp(optarg, "buffered") == 0)
				opt.transport = GALE_TRANSPORT_BUFFERED;
			else if (strcmp(optarg, "header") == 0 || strcmp(optarg, "theader") == 0)
				opt.transport = GALE_TRANSPORT_THEADER;
			else if (strcmp(optarg, "ttheader") == 0)
				opt.transport = GALE_TRANSPORT_TTHEADER;
			else {
				fprintf(stderr, "gale-bench: --transport: expected framed, buffered, header or "
						"ttheader, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'p':
			if (strcmp(optarg, "binary") != 0 && strcmp(optarg, "compact") != 0) {
				fprintf(stderr, "gale-bench: --protocol: expected binary or compact, got '%s'\n",
					optarg);
				return -1;
			}
			opt.proto = strcmp(optarg, "binary") == 0 ? GALE_PROTO_BINARY : GALE_PROTO_COMPACT;
			break;
		case 'j':
			opt.json = optarg;
			break;
		case 'g':
			opt.progress = true;
			break;
		case 'F':
			opt.wait_file = optarg;
			break;
		case 'i':
			if (strcmp(optarg, "pause") == 0)
				opt.idle = GALE_IDLE_PAUSE;
			else if (strcmp(optarg, "sleep") == 0)
				opt.idle = GALE_IDLE_SLEEP;
			else if (strcmp(optarg, "poll") == 0)
				opt.idle = GALE_IDLE_POLL;
			else {
				fprintf(stderr, "gale-bench: --idle: expected pause, sleep or poll, got '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'h':
			printf("usage: gale-bench [EAL args --] --target HOST:PORT [options]\n"
			       "  --method echo|echo_binary|ping|add   (default echo)\n"
			       "  --payload BYTES        echo payload (default 64)\n"
			       "  --connections N        connections in all (default 1)\n"
			       "  --pipeline D           calls in flight per connection (default 1)\n"
			       "  --duration S --warmup S  measured time and uncounted warm-up (default 10, 1)\n"
			       "  --rate RPS [--poisson] open loop at RPS calls/s in all (default: closed loop)\n"
			       "  --transport framed|buffered|header|ttheader  --protocol binary|compact\n"
			       "  --workers N            worker lcores (default 1; N+1 CPUs with default EAL args)\n"
			       "  --timeout-ms MS        per-call and connect timeout (default 1000)\n"
			       "  --json FILE            results as JSON too\n"
			       "  --progress             a line per second (default when stdout is a terminal)\n"
			       "  --idle pause|sleep|poll  idle workers pause (default), sleep (shared CPUs) or poll\n"
			       "  --wait-file PATH       after the run, before closing the port, wait (up to 120 s)\n"
			       "                         for PATH to exist: lets a memif peer stop first\n"
			       GALE_NETOPT_USAGE);
			exit(0);
		default:
			ret = c == '?' ? 0 : gale_netopt_parse(&opt.net, c, optarg, "gale-bench");
			if (ret != 1)
				return -1;
			break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gale-bench: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (opt.target == NULL) {
		fprintf(stderr, "gale-bench: --target HOST:PORT is required\n");
		return -1;
	}
	{
		char host[64];
		uint16_t port;

		if (gale_conn_parse_addr(opt.target, host, sizeof(host), &port) != 0 || port == 0) {
			fprintf(stderr, "gale-bench: --target: expected IPv4:PORT, got '%s'\n", opt.target);
			return -1;
		}
	}
	if (opt.workers > BENCH_MAX_WORKERS || opt.workers > opt.connections) {
		fprintf(stderr, "gale-bench: --workers must be 1..%d and at most --connections\n",
			BENCH_MAX_WORKERS);
		return -1;
	}
	return 0;
}

static int
write_json(const struct gale_hist *h, double seconds, uint64_t ok, uint64_t errors, uint64_t timeouts,
	   double cpu_ns_per_call)
{
	static const double ps[] = { 50, 90, 99, 99.9, 99.99 };
	static const char *const pn[] = { "p50_ns", "p90_ns", "p99_ns", "p999_ns", "p9999_ns" };
	cJSON *root = cJSON_CreateObject(), *lat;
	char *text;
	FILE *f;
	unsigned int i;
	int ret = 0;

	if (root == NULL)
		return -ENOMEM;
	cJSON_AddStringToObject(root, "target", opt.target);
	cJSON_AddStringToObject(root, "method", method_names[opt.method]);
	cJSON_AddNumberToObject(root, "payload", opt.payload);
	cJSON_AddNumberToObject(root, "connections", opt.connections);
	cJSON_AddNumberToObject(root, "pipeline", opt.pipeline);
	cJSON_AddNumberToObject(root, "workers", opt.workers);
	cJSON_AddStringToObject(root, "mode", opt.rate > 0 ? (opt.poisson ? "open-poisson" : "open") : "closed");
	cJSON_AddNumberToObject(root, "rate_target", opt.rate);
	cJSON_AddNumberToObject(root, "duration_s", seconds);
	cJSON_AddStringToObject(root, "backend", gale_netopt_backend_name(opt.net.backend));
	cJSON_AddNumberToObject(root, "calls_sent", (double)sum_counter(offsetof(struct bench_worker, issued)));
	cJSON_AddNumberToObject(root, "calls_answered",
				(double)sum_counter(offsetof(struct bench_worker, answered)));
	cJSON_AddNumberToObject(root, "calls_ok", (double)ok);
	cJSON_AddNumberToObject(root, "errors", (double)errors);
	cJSON_AddNumberToObject(root, "timeouts", (double)timeouts);
	cJSON_AddNumberToObject(root, "calls_per_s", (double)ok / seconds);
	cJSON_AddNumberToObject(root, "client_cpu_ns_per_call", cpu_ns_per_call);
	lat = cJSON_AddObjectToObject(root, "latency");
	if (lat != NULL) {
		cJSON_AddNumberToObject(lat, "min_ns", (double)h->min_ns);
		cJSON_AddNumberToObject(lat, "mean_ns", gale_hist_mean(h));
		for (i = 0; i < 5; i++)
			cJSON_AddNumberToObject(lat, pn[i], (double)gale_hist_percentile(h, ps[i]));
		cJSON_AddNumberToObject(lat, "max_ns", (double)h->max_ns);
	}
	text = cJSON_Print(root);
	f = text != NULL ? fopen(opt.json, "w") : NULL;
	if (f == NULL || fputs(text, f) < 0 || fputc('\n', f) < 0)
		ret = -errno;
	if (f != NULL && fclose(f) != 0)
		ret = -errno;
	cJSON_free(text);
	cJSON_Delete(root);
	return ret;
}

int
main(int argc, char **argv)
{
	struct gale_eal_defaults def = { .log_level = "lib.eal:warning", .no_huge = true, .mem_mb = 256,
					 .quiet = true, .app_args_only = true };
	static struct gale_hist total;
	struct gale_runtime_conf rc;
	struct bench_ctl bc = { 0 };
	struct gale_netopt_boot boot = { .prog = "gale-bench", .max_workers = BENCH_MAX_WORKERS };
	struct gale_runtime *rt;
	uint64_t ok, errors, timeouts, start_err, sent, answered, conns_left;
	char desc[160];
	int leaked;
	double seconds, cpu;
	int ret;
	unsigned int k;

	gale_netopt_init(&opt.net);
	opt.idle = GALE_IDLE_PAUSE;
	ret = gale_netopt_eal_init(&boot, argc, argv, &def);
	if (boot.help) {
		char *h[] = { argv[0], (char *)"--help", NULL };
		return parse_args(2, h) == 0 ? 0 : 2;
	}
	if (ret < 0)
		return 1;
	opt.workers = boot.workers;
	if (parse_args(argc - ret, argv + ret) != 0) {
		gale_eal_cleanup();
		return 2;
	}
	if (!opt.progress)
		opt.progress = isatty(STDOUT_FILENO);
	payload = malloc(opt.payload > 0 ? opt.payload : 1);
	if (payload == NULL)
		return 1;
	for (k = 0; k < opt.payload; k++)
		payload[k] = (uint8_t)('a' + k % 26);

	memset(&rc, 0, sizeof(rc));
	rc.name = "bench";
	rc.nb_workers = opt.workers;
	rc.init_cb = worker_init;
	rc.work_cb = worker_work;
	rc.fini_cb = worker_fini;
	rc.inflight_cb = worker_inflight;
	rc.control_cb = bench_control;
	rc.control_arg = &bc;
	rc.idle.mode = opt.idle; /* a load generator polls; pause keeps the sibling hyperthread fed */
	if (gale_netopt_start(&opt.net, opt.workers, &rc, "gale-bench") != 0) {
		gale_eal_cleanup();
		return 1;
	}
	rc.drain_ms = opt.timeout_ms + 1000;
	t_start_ns = now_ns();
	t_measure_ns = t_start_ns + (uint64_t)(opt.warmup_s * 1e9);
	t_end_ns = t_measure_ns + (uint64_t)(opt.duration_s * 1e9);
	bc.next_report_ns = t_start_ns + 1000000000ull;
	rt = gale_runtime_create(&rc);
	if (rt == NULL) {
		fprintf(stderr, "gale-bench: runtime: %s (workers need EAL lcores: %u workers, %u lcores)\n",
			strerror(errno), opt.workers, rte_lcore_count());
		gale_netopt_stop(&opt.net, "gale-bench");
		gale_eal_cleanup();
		return 1;
	}
	gale_runtime_signals_install(rt);
	printf("gale-bench: %s %s, payload %u B, %u connection%s x pipeline %u, %s, %.1f s (+%.1f s warm-up), "
	       "%u worker%s, backend %s (%s)\n",
	       opt.target, method_names[opt.method], opt.payload, opt.connections, opt.connections == 1 ? "" : "s",
	       opt.pipeline, opt.rate > 0 ? "open loop" : "closed loop", opt.duration_s, opt.warmup_s, opt.workers,
	       opt.workers == 1 ? "" : "s", gale_netopt_backend_name(opt.net.backend),
	       gale_netopt_describe(&opt.net, desc, sizeof(desc)));
	fflush(stdout);
	bc.cpu0 = cpu_seconds();
	ret = gale_runtime_run(rt);
	cpu = cpu_seconds() - bc.cpu0;
	if (ret != 0 && ret != -ETIMEDOUT)
		fprintf(stderr, "gale-bench: the run failed: %s\n", strerror(-ret));

	gale_hist_reset(&total);
	for (k = 0; k < opt.workers; k++)
		gale_hist_merge(&total, &workers[k].hist);
	ok = sum_counter(offsetof(struct bench_worker, ok));
	errors = sum_counter(offsetof(struct bench_worker, errors));
	timeouts = sum_counter(offsetof(struct bench_worker, timeouts));
	start_err = sum_counter(offsetof(struct bench_worker, start_err));
	seconds = opt.duration_s;
	printf("gale-bench: %" PRIu64 " calls in %.2f s: %.0f calls/s; %" PRIu64 " errors (%" PRIu64 " timeouts), "
	       "%" PRIu64 " refused starts; client CPU %.0f ns/call\n",
	       ok, seconds, (double)ok / seconds, errors, timeouts, start_err,
	       ok > 0 ? cpu * 1e9 / (double)ok : 0.0);
	printf("latency (us): min %.1f  mean %.1f  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  p99.99 %.1f  max %.1f\n",
	       (double)total.min_ns / 1e3, gale_hist_mean(&total) / 1e3,
	       (double)gale_hist_percentile(&total, 50) / 1e3, (double)gale_hist_percentile(&total, 90) / 1e3,
	       (double)gale_hist_percentile(&total, 99) / 1e3, (double)gale_hist_percentile(&total, 99.9) / 1e3,
	       (double)gale_hist_percentile(&total, 99.99) / 1e3, (double)total.max_ns / 1e3);
	sent = sum_counter(offsetof(struct bench_worker, issued));
	answered = sum_counter(offsetof(struct bench_worker, answered));
	printf("gale-bench: whole run: %" PRIu64 " calls sent, %" PRIu64 " answered correctly\n", sent, answered);
	if (opt.json != NULL && write_json(&total, seconds, ok, errors, timeouts,
					   ok > 0 ? cpu * 1e9 / (double)ok : 0.0) != 0)
		fprintf(stderr, "gale-bench: cannot write %s\n", opt.json);
	fflush(stdout);
	conns_left = gale_netopt_conns_left(&opt.net, rt, "gale-bench");
	gale_runtime_free(rt);
	if (opt.wait_file != NULL)
		wait_for_file(opt.wait_file, 120);
	leaked = gale_netopt_stop(&opt.net, "gale-bench");
	for (k = 0; k < opt.workers; k++)
		free(workers[k].calls);
	free(payload);
	gale_eal_cleanup();
	return (ret == 0 || ret == -ETIMEDOUT) && errors == 0 && ok > 0 && leaked == 0 && conns_left == 0 ? 0 : 1;
}
