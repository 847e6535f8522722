/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault_server: the echo service (apps/echo/echo.thrift) on gale's RPC server, kernel backend, for
 * the RPC fault tests (test_rpc_faults.sh). What gale-echo does, plus what faults need:
 *
 *   fault_server EAL-ARGS -- --listen HOST:PORT --id N --port-file F [--max-frame BYTES]
 *                [--idle-timeout-ms MS]
 *
 *   echo("who")       answers "server-N", so a client can tell which endpoint served it;
 *   echo("stall:MS")  defers its reply by MS milliseconds (a worker timer), as a handler waiting on
 *                     a slow downstream would: the caller's RPC timeout can pass first, and the
 *                     reply then arrives late;
 *   echo(anything)    returns it; add(a, b) returns a + b.
 *
 * Telemetry is on (/gale/rpc/server and the runtime's commands on the EAL's telemetry socket). The
 * idle policy sleeps. SIGTERM drains and exits 0; SIGKILL is what the tests use to kill it mid-run.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gale/appex.h>
#include <gale/eal.h>
#include <gale/rpc.h>
#include <gale/runtime.h>
#include <gale/timer.h>
#include <gale/worker.h>

#include "echo.h"

#define STALLS 64

static unsigned int server_id;
static char who[32];

/* A stalled echo: its deferred handle, its timer, and the text it answers with (copied). */
struct stall {
	struct gale_rpc_deferred *d;
	struct gale_timer timer;
	struct gale_echo_Echo_echo_result res;
	char text[64];
	size_t len;
};
static struct stall stalls[STALLS]; /* only the single worker touches them */

static int
write_echo_result(int proto, struct gale_codec_writer *w, const void *result)
{
	return gale_echo_Echo_echo_result_write(proto, w, result);
}

static void
stall_fire(struct gale_timer *t, void *arg)
{
	struct stall *s = arg;

	(void)t;
	gale_echo_Echo_echo_result_init(&s->res);
	s->res.success.ptr = (const uint8_t *)s->text;
	s->res.success.len = (uint32_t)s->len;
	GALE_SET(&s->res, gale_echo_Echo_echo_result_F_success);
	(void)gale_rpc_reply(s->d, write_echo_result, &s->res); /* counted by the server */
	s->d = NULL;
}

static int
stall(const struct gale_rpc_req *req, const struct gale_codec_bytes *msg)
{
	char num[16];
	size_t n = msg->len - 6;
	unsigned int i;

	if (n == 0 || n >= sizeof(num) || msg->len >= sizeof(stalls[0].text))
		return -EINVAL;
	memcpy(num, msg->ptr + 6, n);
	num[n] = '\0';
	for (i = 0; i < STALLS && stalls[i].d != NULL; i++)
		;
	if (i == STALLS || (stalls[i].d = gale_rpc_defer()) == NULL)
		return -EBUSY;
	memcpy(stalls[i].text, msg->ptr, msg->len);
	stalls[i].len = msg->len;
	gale_timer_init(&stalls[i].timer, stall_fire, &stalls[i]);
	gale_timer_arm(gale_worker_timers(req->w), &stalls[i].timer,
	               gale_worker_now_us(req->w) + strtoull(num, NULL, 10) * 1000);
	return GALE_RPC_DEFERRED;
}

static int
h_echo(void *user, const struct gale_echo_Echo_echo_args *args,
       struct gale_echo_Echo_echo_result *res)
{
	const struct gale_rpc_req *req = gale_rpc_req_current();

	(void)user;
	if (args->message.len > 6 && memcmp(args->message.ptr, "stall:", 6) == 0)
		return stall(req, &args->message);
	if (args->message.len == 3 && memcmp(args->message.ptr, "who", 3) == 0) {
		res->success.ptr = (const uint8_t *)who;
		res->success.len = (uint32_t)strlen(who);
	} else {
		res->success = args->message;
	}
	GALE_SET(res, gale_echo_Echo_echo_result_F_success);
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

static const struct gale_echo_Echo_handlers handlers = { .echo = h_echo, .add = h_add };

GALE_RPC_DISPATCH(gale_echo_Echo)

struct ctl {
	struct gale_rpc_server *srv;
	const char *port_file;
	bool written;
};

/* Control thread: publish the port once the worker listens (the test waits on the file). */
static void
control(struct gale_runtime *rt, void *arg)
{
	struct ctl *c = arg;
	char tmp[4096];
	FILE *f;

	(void)rt;
	if (c->written || gale_rpc_server_listening(c->srv) < 1)
		return;
	c->written = true;
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->port_file);
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%u\n", (unsigned int)gale_rpc_server_port(c->srv)) < 0 ||
	    fclose(f) != 0 || rename(tmp, c->port_file) != 0)
		fprintf(stderr, "fault_server: cannot write %s: %s\n", c->port_file,
		        strerror(errno));
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "id", required_argument, NULL, 'i' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "max-frame", required_argument, NULL, 'f' },
		{ "idle-timeout-ms", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct gale_rpc_service svc = { "Echo", gale_echo_Echo_gale_rpc_dispatch, &handlers, NULL };
	struct gale_eal_defaults def = { .no_huge = true, .mem_mb = 256 };
	const char *listen = "127.0.0.1:0";
	struct gale_rpc_server_conf sc;
	struct gale_runtime_conf rc;
	struct ctl c = { NULL, NULL, false };
	struct gale_runtime *rt;
	struct gale_rpc_stats st;
	char host[64];
	uint16_t port;
	int ret, opt;

	ret = gale_eal_init(argc, argv, &def, NULL);
	if (ret < 0) {
		fprintf(stderr, "fault_server: the EAL cannot start: %s\n", strerror(-ret));
		return 77;
	}
	argc -= ret;
	argv += ret;
	memset(&sc, 0, sizeof(sc));
	optind = 0;
	while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen = optarg;
			break;
		case 'i':
			server_id = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			c.port_file = optarg;
			break;
		case 'f':
			sc.limits.max_frame = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			sc.idle_timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "fault_server: bad option\n");
			return 2;
		}
	}
	if (c.port_file == NULL || gale_conn_parse_addr(listen, host, sizeof(host), &port) != 0) {
		fprintf(stderr,
		        "fault_server: need --port-file F and a valid --listen IPv4:PORT\n");
		return 2;
	}
	snprintf(who, sizeof(who), "server-%u", server_id);
	sc.services = &svc;
	sc.nb_services = 1;
	sc.backend = GALE_CONN_KERNEL;
	sc.host = host;
	sc.port = port;
	c.srv = gale_rpc_server_create(&sc, 1);
	if (c.srv == NULL) {
		fprintf(stderr, "fault_server: server: %s\n", strerror(errno));
		return 1;
	}
	memset(&rc, 0, sizeof(rc));
	rc.name = "fault";
	rc.idle.mode = GALE_IDLE_SLEEP;
	rc.telemetry = true;
	rc.control_cb = control;
	rc.control_arg = &c;
	gale_rpc_server_runtime_conf(c.srv, &rc);
	rt = gale_runtime_create(&rc);
	if (rt == NULL) {
		fprintf(stderr, "fault_server: runtime: %s\n", strerror(errno));
		return 1;
	}
	gale_runtime_signals_install(rt);
	ret = gale_runtime_run(rt);
	gale_rpc_server_stats(c.srv, &st);
	printf("fault_server %u: stopped: %lu requests, %lu replies, %lu protocol errors, %lu bad "
	       "frames\n",
	       server_id, (unsigned long)st.requests, (unsigned long)st.replies,
	       (unsigned long)st.ex_protocol, (unsigned long)st.bad_frames);
	gale_runtime_free(rt);
	gale_rpc_server_free(c.srv);
	gale_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
