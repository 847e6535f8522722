/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The native backend of gale/conn.h over two gale stacks joined in memory: what stack A transmits
 * is the input of stack B and the other way round (a wire with no loss), time is virtual (each
 * step moves both timer wheels by 100 us), and the test drives the loop a worker would run:
 * deliver frames, advance timers, poll both backend instances, flush. Every wait is a bounded
 * number of steps on a condition.
 *
 * Covers: listen (errors, port 0), connect and accept (connected from the poll, never inside the
 * call), peek/consume of the borrowed chain, the writer into mbufs (commit, abort), send (copy),
 * a 3 MiB message the reader waits for whole (larger than the stack's receive buffer: it moves
 * into the connection's own buffer), back-pressure (tx_max refused with -EAGAIN, counted, then
 * writable), close (queued bytes first, then EOF at the peer, closed without error), abort (the
 * peer gets -ECONNRESET then closed), a refused connect (error then closed), the receive limit
 * (-EMSGSIZE, counted), the connection limit, freeing an instance with connections open
 * (closed callbacks run), and coalescing: sixteen pipelined requests that arrive in one burst get
 * their sixteen replies, written from readable, in one frame (with the ACK on it, ack_at_flush)
 * instead of a pure ACK and a frame per reply. After each case the pool is full again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <gale/conn.h>
#include <gale/tcp.h>
#include <gale/tcpstack.h>
#include <gale/timer.h>

#include "gale_test_eal.h"

#define IP_A     0xc6120101u /* 198.18.1.1 */
#define IP_B     0xc6120102u /* 198.18.1.2 */
#define WIRE_MAX 4096
#define STEP_US  100
#define BIG      (3u << 20)

struct wire {
	struct rte_mbuf *pkts[WIRE_MAX];
	unsigned int n;
};

struct node {
	struct gale_stack *stack;
	struct gale_timer_wheel *wheel;
	struct gale_conn_backend *be;
	struct wire out; /**< what this stack transmitted, for the other */
};

struct side {
	struct gale_conn *c;
	int accepted, connected, readable, writable, closed, errors, last_err;
	int in_call; /**< set while the test is inside a gale_conn_* call */
	int cb_in_call;
	size_t got;        /**< bytes consumed (auto_consume) */
	bool auto_consume; /**< readable consumes everything */
	size_t wait_for;   /**< readable consumes only once this many bytes are buffered */
	bool verify;       /**< check the pattern of what is consumed */
	size_t echo_unit;  /**< readable echoes every whole unit of this many bytes, one
	                      transmission each */
	bool bad;
};

static struct rte_mempool *pool;
static struct node A, B;
static uint64_t now_us;
static struct side sa, sb;

static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 11));
}

static uint16_t
wire_tx(void *ctx, struct rte_mbuf **pkts, uint16_t n)
{
	struct wire *w = ctx;
	uint16_t i;

	for (i = 0; i < n && w->n < WIRE_MAX; i++)
		w->pkts[w->n++] = pkts[i];
	return i;
}

static void
node_start(struct node *nd, uint32_t ip, uint8_t last, const struct gale_conn_conf *cc_in)
{
	struct gale_stack_conf sc;
	struct gale_conn_conf cc;

	memset(nd, 0, sizeof(*nd));
	nd->wheel = gale_timer_wheel_create(now_us);
	assert_non_null(nd->wheel);
	gale_stack_conf_init(&sc);
	sc.ip = ip;
	sc.netmask = 0xffffff00u;
	sc.mac = (struct rte_ether_addr){ .addr_bytes = { 0x02, 0, 0, 0, 1, last } };
	sc.pool = pool;
	sc.wheel = nd->wheel;
	sc.tx_burst = wire_tx;
	sc.tx_ctx = &nd->out;
	sc.max_conns = 64;
	sc.isn_secret[0] = last;
	sc.isn_secret[1] = 7;
	sc.ack_at_flush = true; /* as the runtime's stacks: step() sends the ACKs still owed */
	nd->stack = gale_stack_create(&sc);
	assert_non_null(nd->stack);
	if (cc_in != NULL)
		cc = *cc_in;
	else
		memset(&cc, 0, sizeof(cc));
	cc.kind = GALE_CONN_NATIVE;
	cc.stack = nd->stack;
	nd->be = gale_conn_backend_create(&cc);
	assert_non_null(nd->be);
	assert_int_equal(gale_conn_backend_kind(nd->be), GALE_CONN_NATIVE);
}

static void
wire_deliver(struct wire *w, struct gale_stack *to)
{
	unsigned int n = w->n;

	w->n = 0;
	if (n != 0)
		gale_stack_input(to, w->pkts, (uint16_t)n);
}

/* One worker iteration for both nodes. */
static void
step(void)
{
	now_us += STEP_US;
	gale_timer_wheel_advance(A.wheel, now_us);
	gale_timer_wheel_advance(B.wheel, now_us);
	wire_deliver(&A.out, B.stack);
	wire_deliver(&B.out, A.stack);
	if (A.be != NULL)
		gale_conn_poll(A.be);
	if (B.be != NULL)
		gale_conn_poll(B.be);
	gale_stack_ack_flush(A.stack);
	gale_stack_ack_flush(B.stack);
	gale_stack_flush(A.stack);
	gale_stack_flush(B.stack);
}

#define RUN_UNTIL(cond, max_steps)                                                                 \
	do {                                                                                       \
		unsigned int _i;                                                                   \
		for (_i = 0; _i < (max_steps) && !(cond); _i++)                                    \
			step();                                                                    \
		if (!(cond))                                                                       \
			fail_msg("%s not reached in %u steps", #cond, (unsigned int)(max_steps));  \
	} while (0)

static void
node_stop(struct node *nd)
{
	gale_conn_backend_free(nd->be);
	nd->be = NULL;
}

static void
both_stop(void)
{
	node_stop(&A);
	node_stop(&B);
	/* Let the stacks finish their handshakes (bounded), then free everything. */
	for (int i = 0; i < 100; i++)
		step();
	rte_pktmbuf_free_bulk(A.out.pkts, A.out.n);
	rte_pktmbuf_free_bulk(B.out.pkts, B.out.n);
	A.out.n = B.out.n = 0;
	gale_stack_free(A.stack);
	gale_stack_free(B.stack);
	gale_timer_wheel_free(A.wheel);
	gale_timer_wheel_free(B.wheel);
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
}

/* ---- callbacks ---- */

static void
consume_some(struct gale_conn *c, struct side *s)
{
	struct gale_codec_seg segs[8];
	size_t len, off = 0;
	unsigned int n, i, j;

	n = gale_conn_recv_peek(c, segs, 8, &len);
	if (s->wait_for != 0) {
		if (len < s->wait_for)
			return;
		len = s->wait_for;
	}
	if (s->verify) {
		for (i = 0; i < n && off < len; i++)
			for (j = 0; j < segs[i].len && off < len; j++, off++)
				if (segs[i].base[j] != pattern(s->got + off))
					s->bad = true;
	}
	if (len != 0) {
		assert_int_equal(gale_conn_consume(c, len), 0);
		s->got += len;
	}
	if (s->wait_for != 0)
		s->wait_for = 0;
}

static void
cb_connected(struct gale_conn *c, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->connected++;
	s->cb_in_call += s->in_call;
}

static void
cb_readable(struct gale_conn *c, void *arg)
{
	struct side *s = arg;

	s->readable++;
	s->cb_in_call += s->in_call;
	if (s->echo_unit != 0) {
		struct gale_codec_seg segs[8];
		uint8_t buf[256];
		size_t len, off = 0;
		unsigned int n = gale_conn_recv_peek(c, segs, 8, &len);

		assert_true(s->echo_unit <= sizeof(buf));
		for (unsigned int i = 0; i < n; i++)
			for (size_t j = 0; j < segs[i].len; j++) {
				buf[off++ % s->echo_unit] = segs[i].base[j];
				if (off % s->echo_unit == 0) {
					struct gale_conn_tx tx;

					assert_int_equal(gale_conn_tx_begin(c, &tx, s->echo_unit), 0);
					assert_int_equal(
					        gale_codec_write_raw(&tx.w, buf, s->echo_unit), 0);
					assert_int_equal(gale_conn_tx_commit(&tx), 0);
				}
			}
		off -= off % s->echo_unit;
		if (off != 0)
			assert_int_equal(gale_conn_consume(c, off), 0);
	} else if (s->auto_consume || s->wait_for != 0) {
		consume_some(c, s);
	}
}

static void
cb_writable(struct gale_conn *c, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->writable++;
	s->cb_in_call += s->in_call;
}

static void
cb_error(struct gale_conn *c, void *arg, int err)
{
	struct side *s = arg;

	(void)c;
	s->errors++;
	s->last_err = err;
	s->cb_in_call += s->in_call;
}

static void
cb_closed(struct gale_conn *c, void *arg)
{
	struct side *s = arg;

	(void)c;
	/* Closed is last: nothing of this connection runs after it. */
	s->closed++;
	s->c = NULL;
	s->cb_in_call += s->in_call;
}

static const struct gale_conn_callbacks cbs = {
	.connected = cb_connected,
	.readable = cb_readable,
	.writable = cb_writable,
	.error = cb_error,
	.closed = cb_closed,
};

static int
on_accept(void *arg, struct gale_conn *c)
{
	struct side *s = arg;

	s->accepted++;
	s->c = c;
	gale_conn_set_callbacks(c, &cbs, s);
	return 0;
}

static int
on_accept_refuse(void *arg, struct gale_conn *c)
{
	(void)arg;
	(void)c;
	return -EPERM;
}

/* A listens on 7000, B connects: sa is A's side, sb B's. */
static void
pair_up(const struct gale_conn_conf *cca, const struct gale_conn_conf *ccb)
{
	char buf[32];

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	node_start(&A, IP_A, 1, cca);
	node_start(&B, IP_B, 2, ccb);
	assert_int_equal(gale_conn_listen(A.be, "198.18.1.1", 7000, on_accept, &sa), 0);
	assert_int_equal(gale_conn_listen_port(A.be), 7000);
	sb.in_call = 1;
	assert_int_equal(gale_conn_connect(B.be, "198.18.1.1", 7000, &cbs, &sb, &sb.c), 0);
	sb.in_call = 0;
	assert_non_null(sb.c);
	assert_int_equal(sb.connected, 0); /* never from inside connect */
	RUN_UNTIL(sb.connected == 1 && sa.accepted == 1, 2000);
	assert_int_equal(sb.cb_in_call, 0);
	assert_int_equal(gale_conn_count(A.be), 1);
	assert_int_equal(gale_conn_count(B.be), 1);
	assert_string_equal(gale_conn_peer_str(sb.c, buf, sizeof(buf)), "198.18.1.1:7000");
	gale_conn_peer_str(sa.c, buf, sizeof(buf));
	assert_true(strncmp(buf, "198.18.1.2:", 11) == 0);
}

/* Write len pattern bytes from off with the writer (one transmission). */
static int
write_pattern(struct gale_conn *c, size_t off, size_t len)
{
	struct gale_conn_tx tx;
	int ret;

	ret = gale_conn_tx_begin(c, &tx, len);
	if (ret != 0)
		return ret;
	for (size_t i = 0; i < len; i++) {
		ret = gale_codec_write_u8(&tx.w, pattern(off + i));
		if (ret != 0) {
			gale_conn_tx_abort(&tx);
			return -ENOBUFS;
		}
	}
	return gale_conn_tx_commit(&tx);
}

/* ---- cases ---- */

static void
test_listen_errors(void **state)
{
	(void)state;
	node_start(&A, IP_A, 1, NULL);
	node_start(&B, IP_B, 2, NULL);
	assert_int_equal(gale_conn_listen(A.be, "198.18.1.9", 7000, on_accept, &sa), -EINVAL);
	assert_int_equal(gale_conn_listen(A.be, "bogus", 7000, on_accept, &sa), -EINVAL);
	assert_int_equal(gale_conn_listen(A.be, NULL, 7000, NULL, &sa), -EINVAL);
	assert_int_equal(gale_conn_listen(A.be, "*", 0, on_accept, &sa), 0);
	assert_true(gale_conn_listen_port(A.be) >= 49152);
	assert_int_equal(gale_conn_listen(A.be, NULL, 7001, on_accept, &sa), -EEXIST);
	assert_int_equal(gale_conn_unlisten(A.be), 0);
	assert_int_equal(gale_conn_unlisten(A.be), -ENOENT);
	assert_int_equal(gale_conn_listen_port(A.be), 0);
	assert_int_equal(gale_conn_connect(B.be, "nope", 7000, &cbs, &sb, &sb.c), -EINVAL);
	assert_int_equal(gale_conn_connect(B.be, "198.18.1.1", 0, &cbs, &sb, &sb.c), -EINVAL);
	both_stop();
}

static void
test_echo_peek_consume(void **state)
{
	struct gale_codec_seg segs[8], seg;
	struct gale_conn_tx tx;
	struct gale_conn_stats st;
	size_t len;
	unsigned int n;

	(void)state;
	pair_up(NULL, NULL);
	/* Writer: "hello " committed; an aborted transmission leaves nothing. */
	assert_int_equal(gale_conn_tx_begin(sb.c, &tx, 16), 0);
	assert_int_equal(gale_codec_write_raw(&tx.w, "junk", 4), 0);
	gale_conn_tx_abort(&tx);
	assert_int_equal(gale_conn_tx_begin(sb.c, &tx, 16), 0);
	assert_int_equal(gale_codec_write_raw(&tx.w, "hello ", 6), 0);
	assert_int_equal(gale_conn_tx_commit(&tx), 0);
	/* Send copies: "world". */
	seg.base = (const uint8_t *)"world";
	seg.len = 5;
	assert_int_equal(gale_conn_send(sb.c, &seg, 1), 0);
	RUN_UNTIL(sa.readable > 0 && (gale_conn_recv_peek(sa.c, segs, 8, &len), len == 11), 200);
	n = gale_conn_recv_peek(sa.c, segs, 8, &len);
	assert_true(n >= 1);
	{
		char buf[16];
		size_t off = 0;

		for (unsigned int i = 0; i < n; i++) {
			memcpy(buf + off, segs[i].base, segs[i].len);
			off += segs[i].len;
		}
		assert_int_equal(off, 11);
		assert_memory_equal(buf, "hello world", 11);
	}
	/* Partial consume: the rest is shown again. */
	assert_int_equal(gale_conn_consume(sa.c, 6), 0);
	n = gale_conn_recv_peek(sa.c, segs, 8, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(segs[0].base, "world", 5);
	assert_int_equal(gale_conn_consume(sa.c, 6), -EINVAL);
	assert_int_equal(gale_conn_consume(sa.c, 5), 0);
	n = gale_conn_recv_peek(sa.c, segs, 8, &len);
	assert_int_equal(n, 0);
	assert_int_equal(len, 0);
	assert_false(gale_conn_eof(sa.c));
	/* Echo back through the other direction. */
	seg.base = (const uint8_t *)"ok";
	seg.len = 2;
	sb.auto_consume = true;
	assert_int_equal(gale_conn_send(sa.c, &seg, 1), 0);
	RUN_UNTIL(sb.got == 2, 200);
	assert_int_equal(sa.cb_in_call + sb.cb_in_call, 0);
	gale_conn_stats_get(A.be, &st);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.rx_bytes, 11);
	assert_int_equal(st.tx_bytes, 2);
	gale_conn_stats_get(B.be, &st);
	assert_int_equal(st.connected, 1);
	assert_int_equal(st.tx_bytes, 11);
	both_stop();
}

/* A 3 MiB message written in one transmission, read only once whole: more than the stack's
 * receive buffer, so the backend must take it out of the stack before the window closes. */
/* Sixteen requests in one burst: their replies leave in one frame that also carries the ACK. */
static void
test_burst_replies_coalesce(void **state)
{
	const size_t unit = 40;
	uint16_t iplen;

	(void)state;
	pair_up(NULL, NULL);
	sa.echo_unit = unit;
	sb.auto_consume = true;
	sb.verify = true;
	/* B's writes outside a poll go to its stack at once: sixteen frames on its next flush. */
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(write_pattern(sb.c, i * unit, unit), 0);
	step(); /* B's frames onto the wire */
	assert_int_equal(B.out.n, 16);
	step(); /* A takes the burst, echoes from readable, flushes */
	assert_int_equal(A.out.n, 1);
	iplen = rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(A.out.pkts[0], struct rte_ipv4_hdr *,
	                                                 sizeof(struct rte_ether_hdr))
	                                 ->total_length);
	assert_true(iplen >= 40 + 16 * unit);
	RUN_UNTIL(sb.got == 16 * unit, 200);
	assert_false(sb.bad);
	both_stop();
}

static void
test_big_message(void **state)
{
	struct gale_conn_stats st;

	(void)state;
	pair_up(NULL, NULL);
	sa.wait_for = BIG;
	sa.verify = true;
	assert_int_equal(write_pattern(sb.c, 0, BIG), 0);
	assert_true(gale_conn_tx_pending(sb.c) > 0);
	RUN_UNTIL(sa.got == BIG, 200000);
	assert_false(sa.bad);
	assert_int_equal(gale_conn_tx_pending(sb.c), 0);
	gale_conn_stats_get(B.be, &st);
	assert_int_equal(st.tx_bytes, BIG);
	gale_conn_stats_get(A.be, &st);
	assert_int_equal(st.rx_bytes, BIG);
	assert_int_equal(st.rx_full, 0);
	/* Once drained, reception is zero-copy again: small bytes come straight from the stack. */
	sa.auto_consume = true;
	sa.verify = false;
	assert_int_equal(write_pattern(sb.c, 0, 100), 0);
	RUN_UNTIL(sa.got == BIG + 100, 200);
	both_stop();
}

/* A reader paused while a 100 kB frame arrived (it did not peek: the bytes stay in the stack)
 * resumes outside readable (as the RPC server does from writable) with a peek that cannot show
 * the whole frame: the backend gathers it and calls readable again, with no new byte arriving. */
static void
test_short_peek_outside_readable(void **state)
{
	(void)state;
	pair_up(NULL, NULL);
	sa.verify = true;
	assert_int_equal(write_pattern(sb.c, 0, 100000), 0);
	RUN_UNTIL(gale_conn_tx_pending(sb.c) == 0, 2000);
	for (int i = 0; i < 50; i++)
		step(); /* everything delivered, nobody reading */
	assert_int_equal(sa.got, 0);
	sa.wait_for = 100000;
	consume_some(sa.c, &sa); /* 8 segments of ~70: not enough, nothing consumed */
	assert_int_equal(sa.got, 0);
	RUN_UNTIL(sa.got == 100000, 20);
	assert_false(sa.bad);
	both_stop();
}

/* The reader stops; the writer fills tx_max, is refused (counted), and hears writable once the
 * reader drains. */
static void
test_backpressure(void **state)
{
	struct gale_conn_conf ccb;
	struct gale_conn_stats st;
	struct gale_codec_seg seg;
	static uint8_t chunk[16384];
	size_t sent = 0;
	int ret = 0;

	(void)state;
	memset(&ccb, 0, sizeof(ccb));
	ccb.tx_max = 65536;
	pair_up(NULL, &ccb);
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = 0x5a;
	seg.base = chunk;
	seg.len = sizeof(chunk);
	/* The stack's send buffer and window take some, then tx_max (64 KiB) of queue. */
	for (int i = 0; i < 200 && ret == 0; i++) {
		ret = gale_conn_send(sb.c, &seg, 1);
		if (ret == 0)
			sent += sizeof(chunk);
		step();
	}
	assert_int_equal(ret, -EAGAIN);
	assert_true(gale_conn_tx_space(sb.c) < sizeof(chunk));
	gale_conn_stats_get(B.be, &st);
	assert_true(st.tx_full >= 1);
	assert_int_equal(sb.writable, 0);
	/* Reader drains: the queue empties into the stack and writable follows. */
	sa.auto_consume = true;
	consume_some(sa.c, &sa);
	RUN_UNTIL(sb.writable >= 1, 20000);
	assert_int_equal(gale_conn_tx_pending(sb.c), 0);
	RUN_UNTIL(sa.got == sent, 20000);
	assert_int_equal(gale_conn_send(sb.c, &seg, 1), 0);
	RUN_UNTIL(sa.got == sent + sizeof(chunk), 20000);
	both_stop();
}

/* Close flushes what is queued, then FIN: the peer reads it all and sees EOF; closed comes from
 * the poll, not from close, with no error. */
static void
test_close_flushes(void **state)
{
	(void)state;
	pair_up(NULL, NULL);
	sa.auto_consume = true;
	assert_int_equal(write_pattern(sb.c, 0, 600000), 0);
	sb.in_call = 1;
	assert_int_equal(gale_conn_close(sb.c), 0);
	sb.in_call = 0;
	assert_int_equal(sb.closed, 0);
	RUN_UNTIL(sa.c != NULL && gale_conn_eof(sa.c), 20000);
	assert_int_equal(sa.got, 600000);
	assert_int_equal(sb.closed, 1);
	assert_int_equal(sb.errors, 0);
	assert_int_equal(sb.cb_in_call, 0);
	assert_int_equal(gale_conn_count(B.be), 0);
	/* The server closes its side too (as the RPC server does on EOF). */
	assert_int_equal(gale_conn_close(sa.c), 0);
	assert_int_equal(gale_conn_close(sa.c), -ENOTCONN);
	RUN_UNTIL(sa.closed == 1, 200);
	assert_int_equal(sa.errors, 0);
	RUN_UNTIL(gale_stack_conn_count_in(A.stack, ~(uint32_t)GALE_TCPS_TIME_WAIT) == 0 &&
	                  gale_stack_conn_count_in(B.stack, ~(uint32_t)GALE_TCPS_TIME_WAIT) == 0,
	          2000);
	both_stop();
}

/* Abort: queued bytes dropped, RST; the peer gets -ECONNRESET then closed. */
static void
test_abort_resets_peer(void **state)
{
	(void)state;
	pair_up(NULL, NULL);
	assert_int_equal(write_pattern(sb.c, 0, 500000), 0);
	sb.in_call = 1;
	gale_conn_abort(sb.c);
	sb.in_call = 0;
	assert_int_equal(sb.closed, 0);
	RUN_UNTIL(sb.closed == 1 && sa.closed == 1, 2000);
	assert_int_equal(sb.errors, 0);
	assert_int_equal(sa.errors, 1);
	assert_int_equal(sa.last_err, -ECONNRESET);
	assert_int_equal(sb.cb_in_call, 0);
	assert_int_equal(gale_conn_count(A.be), 0);
	assert_int_equal(gale_conn_count(B.be), 0);
	both_stop();
}

static void
test_connect_refused(void **state)
{
	struct gale_conn_stats st;

	(void)state;
	memset(&sb, 0, sizeof(sb));
	node_start(&A, IP_A, 1, NULL);
	node_start(&B, IP_B, 2, NULL);
	assert_int_equal(gale_conn_connect(B.be, "198.18.1.1", 7999, &cbs, &sb, &sb.c), 0);
	RUN_UNTIL(sb.closed == 1, 2000);
	assert_int_equal(sb.errors, 1);
	assert_int_equal(sb.last_err, -ECONNREFUSED);
	assert_int_equal(sb.connected, 0);
	gale_conn_stats_get(B.be, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.closed, 1);
	/* A listener whose accept callback says no: reset at once, no callbacks, counted. */
	assert_int_equal(gale_conn_listen(A.be, NULL, 7000, on_accept_refuse, NULL), 0);
	memset(&sb, 0, sizeof(sb));
	assert_int_equal(gale_conn_connect(B.be, "198.18.1.1", 7000, &cbs, &sb, &sb.c), 0);
	RUN_UNTIL(sb.closed == 1, 2000);
	assert_int_equal(sb.errors, 1);
	gale_conn_stats_get(A.be, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(gale_conn_count(A.be), 0);
	both_stop();
}

/* A reader that never consumes: past rx_max the connection fails with -EMSGSIZE, counted. */
static void
test_rx_limit(void **state)
{
	struct gale_conn_conf cca;
	struct gale_conn_stats st;

	(void)state;
	memset(&cca, 0, sizeof(cca));
	cca.rx_max = 200000;
	pair_up(&cca, NULL);
	sa.wait_for = 2000000; /* peeks, never has enough */
	assert_int_equal(write_pattern(sb.c, 0, 1000000), 0);
	RUN_UNTIL(sa.closed == 1, 20000);
	assert_int_equal(sa.errors, 1);
	assert_int_equal(sa.last_err, -EMSGSIZE);
	gale_conn_stats_get(A.be, &st);
	assert_int_equal(st.rx_full, 1);
	RUN_UNTIL(sb.closed == 1, 2000);
	assert_int_equal(sb.last_err, -ECONNRESET);
	both_stop();
}

/* max_conns: the second connection is refused; freeing an instance closes what is open. */
static void
test_conn_limit_and_free(void **state)
{
	struct gale_conn_conf cca;
	struct gale_conn_stats st;
	struct side s2;

	(void)state;
	memset(&cca, 0, sizeof(cca));
	cca.max_conns = 1;
	pair_up(&cca, NULL);
	memset(&s2, 0, sizeof(s2));
	assert_int_equal(gale_conn_connect(B.be, "198.18.1.1", 7000, &cbs, &s2, &s2.c), 0);
	RUN_UNTIL(s2.closed == 1, 2000);
	gale_conn_stats_get(A.be, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(gale_conn_count(A.be), 1);
	/* Freeing A runs the closed callback of its connection; B hears a reset. */
	gale_conn_backend_free(A.be);
	A.be = NULL;
	assert_int_equal(sa.closed, 1);
	RUN_UNTIL(sb.closed == 1, 2000);
	assert_int_equal(sb.last_err, -ECONNRESET);
	both_stop();
}

static int
global_setup(void **state)
{
	(void)state;
	if (gale_test_eal_init("0", NULL) < 0)
		return -1;
	pool = rte_pktmbuf_pool_create("cn_pool", 16383, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                               SOCKET_ID_ANY);
	now_us = 1000000;
	return pool == NULL ? -1 : 0;
}

static int
global_teardown(void **state)
{
	(void)state;
	rte_mempool_free(pool);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_echo_peek_consume),
		cmocka_unit_test(test_burst_replies_coalesce),
		cmocka_unit_test(test_big_message),
		cmocka_unit_test(test_short_peek_outside_readable),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_close_flushes),
		cmocka_unit_test(test_abort_resets_peer),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_rx_limit),
		cmocka_unit_test(test_conn_limit_and_free),
	};

	return cmocka_run_group_tests(tests, global_setup, global_teardown);
}
