/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel backend of gale/conn.h on loopback, without the EAL: two backend instances (a server
 * and a client side, as two workers would have) polled in turn from the test until a condition
 * holds, each wait bounded. Covers accept and connect, partial consumption (bytes accumulate until
 * the reader consumes them), the writer path (commit, abort, a reply larger than the send buffer
 * that spills and is copied back), flush-then-close with EOF at the peer, refused connects (error
 * then closed), the receive limit (a peer that never stops sending is closed, counted), the
 * connection limit (refused, counted), and address parsing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <gale/conn.h>

struct side {
	struct gale_conn *c;
	int accepted, connected, readable, writable, closed, errors, last_err;
};

static void
cb_connected(struct gale_conn *c, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->connected++;
}

static void
cb_readable(struct gale_conn *c, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->readable++;
}

static void
cb_writable(struct gale_conn *c, void *arg)
{
	struct side *s = arg;

	(void)c;
	s->writable++;
}

static void
cb_error(struct gale_conn *c, void *arg, int err)
{
	struct side *s = arg;

	(void)c;
	s->errors++;
	s->last_err = err;
}

static void
cb_closed(struct gale_conn *c, void *arg)
{
	struct side *s = arg;

	assert_ptr_equal(c, s->c);
	s->closed++;
	s->c = NULL;
}

static const struct gale_conn_callbacks cbs = {
	cb_connected, cb_readable, cb_writable, cb_error, cb_closed,
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

/* Poll both until cond(arg) holds; fail after 5 s. */
#define WAIT_FOR(a, b, cond)                                                                       \
	do {                                                                                       \
		int i_;                                                                            \
		for (i_ = 0; i_ < 5000 && !(cond); i_++) {                                         \
			gale_conn_poll_wait((a), 1);                                               \
			if ((b) != NULL)                                                           \
				gale_conn_poll((b));                                               \
		}                                                                                  \
		assert_true(cond);                                                                 \
	} while (0)

static struct gale_conn_backend *
backend(unsigned int max_conns, size_t rx_max)
{
	struct gale_conn_conf cc;
	struct gale_conn_backend *be;

	memset(&cc, 0, sizeof(cc));
	cc.kind = GALE_CONN_KERNEL;
	cc.max_conns = max_conns;
	cc.rx_max = rx_max;
	be = gale_conn_backend_create(&cc);
	assert_non_null(be);
	return be;
}

static size_t
buffered(const struct gale_conn *c)
{
	struct gale_codec_seg segs[4];
	size_t len;

	gale_conn_recv_peek(c, segs, 4, &len);
	return len;
}

/* Set up a connected pair: srv listens, cli connects. */
static void
pair(struct gale_conn_backend *srv, struct gale_conn_backend *cli, struct side *s, struct side *k)
{
	uint16_t port;

	memset(s, 0, sizeof(*s));
	memset(k, 0, sizeof(*k));
	assert_int_equal(gale_conn_listen(srv, "127.0.0.1", 0, on_accept, s), 0);
	port = gale_conn_listen_port(srv);
	assert_int_not_equal(port, 0);
	assert_int_equal(gale_conn_listen(srv, "127.0.0.1", 0, on_accept, s), -EEXIST);
	assert_int_equal(gale_conn_connect(cli, "127.0.0.1", port, &cbs, k, &k->c), 0);
	WAIT_FOR(srv, cli, s->accepted == 1 && k->connected == 1);
}

static void
test_recv_accumulates(void **state)
{
	struct gale_conn_backend *srv = backend(0, 0), *cli = backend(0, 0);
	struct gale_codec_seg segs[4], in = { (const uint8_t *)"hello", 5 };
	struct side s, k;
	struct gale_conn_tx tx;
	size_t len;
	unsigned int n;

	(void)state;
	pair(srv, cli, &s, &k);
	assert_int_equal(gale_conn_send(k.c, &in, 1), 0);
	WAIT_FOR(srv, cli, buffered(s.c) == 5);
	n = gale_conn_recv_peek(s.c, segs, 4, &len);
	assert_true(n >= 1);
	assert_memory_equal(segs[0].base, "hello", 5);
	assert_int_equal(gale_conn_consume(s.c, 2), 0);
	assert_int_equal(gale_conn_consume(s.c, 4), -EINVAL);
	/* More bytes join what was not consumed. */
	in.base = (const uint8_t *)"!!";
	in.len = 2;
	assert_int_equal(gale_conn_send(k.c, &in, 1), 0);
	WAIT_FOR(srv, cli, buffered(s.c) == 5);
	gale_conn_recv_peek(s.c, segs, 4, &len);
	assert_memory_equal(segs[0].base, "llo!!", 5);
	assert_int_equal(gale_conn_consume(s.c, 5), 0);
	assert_int_equal(buffered(s.c), 0);

	/* An aborted write leaves nothing; a committed one arrives whole. */
	assert_int_equal(gale_conn_tx_begin(s.c, &tx, 16), 0);
	assert_int_equal(gale_codec_write_raw(&tx.w, "dropped", 7), 0);
	gale_conn_tx_abort(&tx);
	assert_int_equal(gale_conn_tx_pending(s.c), 0);
	assert_int_equal(gale_conn_tx_begin(s.c, &tx, 16), 0);
	assert_int_equal(gale_codec_write_raw(&tx.w, "kept", 4), 0);
	assert_int_equal(gale_conn_tx_commit(&tx), 0);
	WAIT_FOR(cli, srv, buffered(k.c) == 4);
	gale_conn_recv_peek(k.c, segs, 4, &len);
	assert_memory_equal(segs[0].base, "kept", 4);
	assert_true(k.readable >= 1);
	gale_conn_backend_free(srv);
	gale_conn_backend_free(cli);
	assert_int_equal(s.closed, 1);
	assert_int_equal(k.closed, 1);
}

static void
test_large_write_spills(void **state)
{
	struct gale_conn_backend *srv = backend(0, 0), *cli = backend(0, 0);
	const size_t big = 3u << 20;
	struct gale_conn_stats st;
	struct gale_codec_seg segs[4];
	struct gale_conn_tx tx;
	struct side s, k;
	uint8_t *data;
	size_t len, i;

	(void)state;
	data = malloc(big);
	assert_non_null(data);
	for (i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 131 + (i >> 11));
	pair(srv, cli, &s, &k);
	/* Far larger than the send buffer's free tail: the writer spills into a heap chunk. */
	assert_int_equal(gale_conn_tx_begin(s.c, &tx, 0), 0);
	assert_int_equal(gale_codec_write_raw(&tx.w, data, big), 0);
	assert_true(tx.w.nseg > 1);
	assert_int_equal(gale_conn_tx_commit(&tx), 0);
	WAIT_FOR(cli, srv, buffered(k.c) == big);
	gale_conn_recv_peek(k.c, segs, 4, &len);
	assert_int_equal(len, big);
	assert_memory_equal(segs[0].base, data, big);
	gale_conn_stats_get(srv, &st);
	assert_int_equal(st.tx_bytes, big);
	free(data);
	gale_conn_backend_free(srv);
	gale_conn_backend_free(cli);
}

static void
test_close_flushes_then_eof(void **state)
{
	struct gale_conn_backend *srv = backend(0, 0), *cli = backend(0, 0);
	struct gale_codec_seg in = { (const uint8_t *)"bye", 3 };
	struct side s, k;

	(void)state;
	pair(srv, cli, &s, &k);
	assert_int_equal(gale_conn_send(s.c, &in, 1), 0);
	assert_int_equal(gale_conn_close(s.c), 0);
	assert_int_equal(gale_conn_close(s.c), -ENOTCONN);
	assert_int_equal(s.closed, 0); /* never from inside the call */
	WAIT_FOR(srv, cli, s.closed == 1 && k.c != NULL && gale_conn_eof(k.c));
	assert_int_equal(buffered(k.c), 3);
	assert_int_equal(s.errors, 0);
	assert_int_equal(gale_conn_count(srv), 0);
	gale_conn_close(k.c);
	WAIT_FOR(cli, srv, k.closed == 1);
	assert_int_equal(gale_conn_count(cli), 0);
	gale_conn_backend_free(srv);
	gale_conn_backend_free(cli);
}

static void
test_connect_refused(void **state)
{
	struct gale_conn_backend *cli = backend(0, 0);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct side k;
	int fd;

	(void)state;
	/* A port that was free a moment ago and has no listener. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	memset(&k, 0, sizeof(k));
	assert_int_equal(gale_conn_connect(cli, "127.0.0.1", ntohs(sa.sin_port), &cbs, &k, &k.c),
	                 0);
	WAIT_FOR(cli, (struct gale_conn_backend *)NULL, k.closed == 1);
	assert_int_equal(k.errors, 1);
	assert_int_equal(k.last_err, -ECONNREFUSED);
	assert_int_equal(k.connected, 0);
	assert_int_equal(gale_conn_connect(cli, "not-an-ip", 1, &cbs, &k, &k.c), -EINVAL);
	gale_conn_backend_free(cli);
}

static void
test_rx_limit_closes(void **state)
{
	struct gale_conn_backend *srv = backend(0, 128u << 10), *cli = backend(0, 0);
	static uint8_t junk[1u << 20];
	struct gale_codec_seg in = { junk, sizeof(junk) };
	struct gale_conn_stats st;
	struct side s, k;

	(void)state;
	pair(srv, cli, &s, &k);
	assert_int_equal(gale_conn_send(k.c, &in, 1), 0);
	/* The server never consumes: at rx_max the connection is closed and counted. */
	WAIT_FOR(srv, cli, s.closed == 1);
	assert_int_equal(s.last_err, -EMSGSIZE);
	gale_conn_stats_get(srv, &st);
	assert_int_equal(st.rx_full, 1);
	gale_conn_backend_free(srv);
	gale_conn_backend_free(cli);
}

static void
test_max_conns_refuses(void **state)
{
	struct gale_conn_backend *srv = backend(1, 0), *cli = backend(0, 0);
	struct gale_conn_stats st;
	struct side s, k, k2;

	(void)state;
	pair(srv, cli, &s, &k);
	memset(&k2, 0, sizeof(k2));
	assert_int_equal(
	        gale_conn_connect(cli, "127.0.0.1", gale_conn_listen_port(srv), &cbs, &k2, &k2.c),
	        0);
	/* The kernel completes the handshake; the server closes it at once. */
	WAIT_FOR(cli, srv, k2.closed == 1 || (k2.c != NULL && gale_conn_eof(k2.c)));
	gale_conn_stats_get(srv, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(s.accepted, 1);
	assert_int_equal(gale_conn_count(srv), 1);
	gale_conn_backend_free(srv);
	gale_conn_backend_free(cli);
}

static void
test_parse_addr(void **state)
{
	static const struct {
		const char *in;
		int ret;
		const char *host;
		uint16_t port;
	} cases[] = {
		{ "127.0.0.1:9090", 0, "127.0.0.1", 9090 },
		{ ":80", 0, "", 80 },
		{ "*:0", 0, "*", 0 },
		{ "10.1.2.3:65535", 0, "10.1.2.3", 65535 },
		{ "10.1.2.3:65536", -EINVAL, NULL, 0 },
		{ "10.1.2.3:", -EINVAL, NULL, 0 },
		{ "10.1.2.3", -EINVAL, NULL, 0 },
		{ "host:80", -EINVAL, NULL, 0 },
		{ "1.2.3.4:8x", -EINVAL, NULL, 0 },
	};
	char host[16];
	uint16_t port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = gale_conn_parse_addr(cases[i].in, host, sizeof(host), &port);

		assert_int_equal(ret, cases[i].ret);
		if (ret == 0) {
			assert_string_equal(host, cases[i].host);
			assert_int_equal(port, cases[i].port);
		}
	}
}

static void
test_native_needs_stack(void **state)
{
	struct gale_conn_conf cc;

	(void)state;
	memset(&cc, 0, sizeof(cc));
	cc.kind = GALE_CONN_NATIVE;
	assert_null(gale_conn_backend_create(&cc));
	assert_int_equal(errno, EINVAL);
	cc.kind = 0;
	assert_null(gale_conn_backend_create(&cc));
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recv_accumulates),
		cmocka_unit_test(test_large_write_spills),
		cmocka_unit_test(test_close_flushes_then_eof),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_rx_limit_closes),
		cmocka_unit_test(test_max_conns_refuses),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_native_needs_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
