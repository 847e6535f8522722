/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/conn.h's entry points: each call goes to the backend the instance (or connection) was made
 * by, through the operations table its structure starts with (conn_private.h). One indirect call
 * per operation; the backends themselves are in conn_kernel.c and conn_native.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn_private.h"

static inline const struct gale__conn_ops *
gale__ops(const void *obj)
{
	/* Every backend's structures begin with their operations table. */
	return *(const struct gale__conn_ops *const *)obj;
}

struct gale_conn_backend *
gale_conn_backend_create(const struct gale_conn_conf *conf)
{
	if (conf == NULL) {
		errno = EINVAL;
		return NULL;
	}
	switch (conf->kind) {
	case GALE_CONN_KERNEL:
		return gale__conn_kernel_create(conf);
	case GALE_CONN_NATIVE:
		return gale__conn_native_create(conf);
	default:
		errno = EINVAL;
		return NULL;
	}
}

void
gale_conn_backend_free(struct gale_conn_backend *be)
{
	if (be != NULL)
		gale__ops(be)->backend_free(be);
}

enum gale_conn_kind
gale_conn_backend_kind(const struct gale_conn_backend *be)
{
	return gale__ops(be)->kind(be);
}

unsigned int
gale_conn_poll(struct gale_conn_backend *be)
{
	return gale__ops(be)->poll_wait(be, 0);
}

unsigned int
gale_conn_poll_wait(struct gale_conn_backend *be, int timeout_ms)
{
	return gale__ops(be)->poll_wait(be, timeout_ms);
}

int
gale_conn_listen(struct gale_conn_backend *be, const char *host, uint16_t port,
                 gale_conn_accept_cb_t cb, void *arg)
{
	return gale__ops(be)->listen(be, host, port, cb, arg);
}

uint16_t
gale_conn_listen_port(const struct gale_conn_backend *be)
{
	return gale__ops(be)->listen_port(be);
}

int
gale_conn_unlisten(struct gale_conn_backend *be)
{
	return gale__ops(be)->unlisten(be);
}

int
gale_conn_connect(struct gale_conn_backend *be, const char *host, uint16_t port,
                  const struct gale_conn_callbacks *cbs, void *arg, struct gale_conn **cp)
{
	return gale__ops(be)->connect(be, host, port, cbs, arg, cp);
}

void
gale_conn_set_callbacks(struct gale_conn *c, const struct gale_conn_callbacks *cbs, void *arg)
{
	gale__ops(c)->set_callbacks(c, cbs, arg);
}

unsigned int
gale_conn_recv_peek(const struct gale_conn *c, struct gale_codec_seg *segs, unsigned int max,
                    size_t *len)
{
	return gale__ops(c)->recv_peek(c, segs, max, len);
}

int
gale_conn_consume(struct gale_conn *c, size_t len)
{
	return gale__ops(c)->consume(c, len);
}

bool
gale_conn_eof(const struct gale_conn *c)
{
	return gale__ops(c)->eof(c);
}

int
gale_conn_tx_begin(struct gale_conn *c, struct gale_conn_tx *tx, size_t hint)
{
	return gale__ops(c)->tx_begin(c, tx, hint);
}

int
gale_conn_tx_commit(struct gale_conn_tx *tx)
{
	return gale__ops(tx->conn)->tx_commit(tx);
}

void
gale_conn_tx_abort(struct gale_conn_tx *tx)
{
	gale__ops(tx->conn)->tx_abort(tx);
}

int
gale_conn_send(struct gale_conn *c, const struct gale_codec_seg *segs, unsigned int n)
{
	return gale__ops(c)->send(c, segs, n);
}

size_t
gale_conn_tx_space(const struct gale_conn *c)
{
	return gale__ops(c)->tx_space(c);
}

size_t
gale_conn_tx_pending(const struct gale_conn *c)
{
	return gale__ops(c)->tx_pending(c);
}

int
gale_conn_close(struct gale_conn *c)
{
	return gale__ops(c)->close(c);
}

void
gale_conn_abort(struct gale_conn *c)
{
	gale__ops(c)->abort(c);
}

const char *
gale_conn_peer_str(const struct gale_conn *c, char *buf, size_t len)
{
	return gale__ops(c)->peer_str(c, buf, len);
}

unsigned int
gale_conn_count(const struct gale_conn_backend *be)
{
	return gale__ops(be)->count(be);
}

void
gale_conn_stats_get(const struct gale_conn_backend *be, struct gale_conn_stats *st)
{
	gale__ops(be)->stats_get(be, st);
}

void
gale__conn_stats_copy(const struct gale_conn_stats *src, struct gale_conn_stats *dst)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;
	size_t i;

	for (i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

int
gale__conn_parse_ip(const char *host, uint32_t *ip)
{
	struct in_addr a;

	if (host == NULL || host[0] == '\0' || strcmp(host, "*") == 0) {
		*ip = htonl(INADDR_ANY);
		return 0;
	}
	if (inet_pton(AF_INET, host, &a) != 1)
		return -EINVAL;
	*ip = a.s_addr;
	return 0;
}

int
gale_conn_parse_addr(const char *s, char *host, size_t host_len, uint16_t *port)
{
	const char *colon;
	char *end;
	unsigned long p;
	uint32_t ip;

	if (s == NULL || (colon = strrchr(s, ':')) == NULL || (size_t)(colon - s) >= host_len)
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p > 65535)
		return -EINVAL;
	if (gale__conn_parse_ip(host, &ip) != 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}
