/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel backend of gale/conn.h: non-blocking sockets and one level-triggered epoll instance
 * per worker, polled with a zero timeout from the worker's work callback.
 *
 * Each instance opens its own listening socket with SO_REUSEPORT on the shared address, so the
 * kernel's reuseport hash places every accepted connection on exactly one worker, which owns it
 * until it closes: no table, buffer or counter is ever touched by another thread.
 *
 * Buffers: a connection keeps one linear receive buffer (data at ibuf[ioff..ilen)) and one linear
 * send buffer (obuf[ooff..olen)), both allocated at accept and grown by doubling (up to rx_max and
 * tx_max), so the steady state allocates nothing per request. A receive buffer is compacted (the
 * unconsumed tail moved to the front) only inside gale_conn_poll before reading, never while the
 * application holds a peek. A reply is encoded straight into the send buffer's free tail; only a
 * reply larger than that tail spills into a heap chunk that the commit copies back (counted as a
 * spill; the send buffer is then grown so the next one fits).
 *
 * Closing is deferred: gale_conn_close/abort and errors put the connection on a dead list that
 * the end of gale_conn_poll walks (close the fd, error callback, closed callback, free). Events
 * already fetched for a dead connection in the same batch are skipped, so a handle is never used
 * after its closed callback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_private.h"

#define GALE__CONN_EVENTS   64
#define GALE__CONN_IBUF0    (64u << 10)
#define GALE__CONN_OBUF0    (64u << 10)
#define GALE__CONN_READ_MIN 4096u

enum gale__conn_state {
	GALE__CS_CONNECTING = 1,
	GALE__CS_OPEN,
	GALE__CS_CLOSING, /* flush, then dead */
	GALE__CS_DEAD,    /* on the dead list */
};

struct gale_conn {
	const struct gale__conn_ops *ops; /**< first: conn.c dispatches on it */
	struct gale_conn_backend *be;
	int fd;
	uint8_t state;
	bool eof;
	bool want_out;   /**< EPOLLOUT armed */
	bool on_dirty;   /**< on the dirty list (output to flush) */
	bool tx_open;    /**< between tx_begin and commit/abort */
	bool tx_blocked; /**< a send was refused or output backed up: tell writable */
	int err;         /**< error to report before closed (negative errno), 0 = none */
	const struct gale_conn_callbacks *cbs;
	void *arg;
	uint8_t *ibuf;
	size_t ioff, ilen, icap;
	uint8_t *obuf;
	size_t ooff, olen, ocap;
	struct sockaddr_in peer;
	struct gale_conn *prev, *next; /**< all connections of the instance */
	struct gale_conn *next_dirty;
	struct gale_conn *next_dead;
};

struct gale_conn_backend {
	const struct gale__conn_ops *ops; /**< first: conn.c dispatches on it */
	struct gale_conn_conf conf;
	int epfd;
	int lfd;
	uint16_t lport;
	gale_conn_accept_cb_t accept_cb;
	void *accept_arg;
	unsigned int nconns;
	struct gale_conn *conns;
	struct gale_conn *dirty;
	struct gale_conn *dead;
	struct gale_conn_stats st;
	uint8_t listen_tag; /**< its address marks the listener in epoll data */
};

#define GALE__CNT(be, f, n) __atomic_store_n(&(be)->st.f, (be)->st.f + (n), __ATOMIC_RELAXED)

static const struct gale__conn_ops gale__kernel_ops;
static int gale__k_unlisten(struct gale_conn_backend *be);

struct gale_conn_backend *
gale__conn_kernel_create(const struct gale_conn_conf *conf)
{
	struct gale_conn_backend *be;

	be = calloc(1, sizeof(*be));
	if (be == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	be->ops = &gale__kernel_ops;
	be->conf = *conf;
	if (be->conf.max_conns == 0)
		be->conf.max_conns = 1024;
	if (be->conf.rx_max == 0)
		be->conf.rx_max = (16u << 20) + (64u << 10);
	if (be->conf.tx_max == 0)
		be->conf.tx_max = 64u << 20;
	if (be->conf.backlog == 0)
		be->conf.backlog = 1024;
	be->lfd = -1;
	be->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (be->epfd < 0) {
		int e = errno;

		free(be);
		errno = e;
		return NULL;
	}
	return be;
}

static enum gale_conn_kind
gale__k_backend_kind(const struct gale_conn_backend *be)
{
	return be->conf.kind;
}

static void
gale__conn_free(struct gale_conn *c)
{
	struct gale_conn_backend *be = c->be;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		be->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	be->nconns--;
	free(c->ibuf);
	free(c->obuf);
	free(c);
}

/* Mark dead (once); the end of the poll finishes it. */
static void
gale__conn_kill(struct gale_conn *c, int err)
{
	if (c->state == GALE__CS_DEAD)
		return;
	if (err != 0 && c->err == 0)
		c->err = err;
	c->state = GALE__CS_DEAD;
	c->next_dead = c->be->dead;
	c->be->dead = c;
}

static void
gale__conn_reap(struct gale_conn_backend *be)
{
	while (be->dead != NULL) {
		struct gale_conn *c = be->dead;

		be->dead = c->next_dead;
		if (c->fd >= 0) {
			epoll_ctl(be->epfd, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			c->fd = -1;
		}
		if (c->err != 0) {
			GALE__CNT(be, errors, 1);
			if (c->cbs != NULL && c->cbs->error != NULL)
				c->cbs->error(c, c->arg, c->err);
		}
		GALE__CNT(be, closed, 1);
		if (c->cbs != NULL && c->cbs->closed != NULL)
			c->cbs->closed(c, c->arg);
		gale__conn_free(c);
	}
}

static void
gale__k_backend_free(struct gale_conn_backend *be)
{
	struct gale_conn *c;

	if (be == NULL)
		return;
	gale__k_unlisten(be);
	for (c = be->conns; c != NULL; c = c->next)
		gale__conn_kill(c, 0);
	gale__conn_reap(be);
	close(be->epfd);
	free(be);
}

static struct gale_conn *
gale__conn_new(struct gale_conn_backend *be, int fd)
{
	struct gale_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->ibuf = malloc(GALE__CONN_IBUF0);
	c->obuf = malloc(GALE__CONN_OBUF0);
	if (c->ibuf == NULL || c->obuf == NULL) {
		free(c->ibuf);
		free(c->obuf);
		free(c);
		return NULL;
	}
	c->ops = &gale__kernel_ops;
	c->icap = GALE__CONN_IBUF0;
	c->ocap = GALE__CONN_OBUF0;
	c->be = be;
	c->fd = fd;
	c->next = be->conns;
	if (be->conns != NULL)
		be->conns->prev = c;
	be->conns = c;
	be->nconns++;
	return c;
}

static int
gale__conn_epoll(struct gale_conn *c, int op)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP | (c->want_out ? EPOLLOUT : 0);
	if (c->eof)
		ev.events &= ~(uint32_t)(EPOLLIN | EPOLLRDHUP);
	ev.data.ptr = c;
	return epoll_ctl(c->be->epfd, op, c->fd, &ev) == 0 ? 0 : -errno;
}

static void
gale__sock_opts(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
gale__k_listen(struct gale_conn_backend *be, const char *host, uint16_t port,
                 gale_conn_accept_cb_t cb, void *arg)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	struct epoll_event ev;
	int fd, one = 1, ret;

	if (be->lfd >= 0)
		return -EEXIST;
	if (cb == NULL)
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	if (gale__conn_parse_ip(host, &sa.sin_addr.s_addr) != 0)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, (int)be->conf.backlog) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &slen) != 0)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &be->listen_tag;
	if (epoll_ctl(be->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		goto fail;
	be->lfd = fd;
	be->lport = ntohs(sa.sin_port);
	be->accept_cb = cb;
	be->accept_arg = arg;
	return 0;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

static uint16_t
gale__k_listen_port(const struct gale_conn_backend *be)
{
	return be->lfd >= 0 ? be->lport : 0;
}

static int
gale__k_unlisten(struct gale_conn_backend *be)
{
	if (be->lfd < 0)
		return -ENOENT;
	epoll_ctl(be->epfd, EPOLL_CTL_DEL, be->lfd, NULL);
	close(be->lfd);
	be->lfd = -1;
	return 0;
}

static int
gale__k_connect(struct gale_conn_backend *be, const char *host, uint16_t port,
                  const struct gale_conn_callbacks *cbs, void *arg, struct gale_conn **cp)
{
	struct sockaddr_in sa;
	struct gale_conn *c;
	int fd, ret;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	if (host == NULL || inet_pton(AF_INET, host, &sa.sin_addr) != 1 || port == 0)
		return -EINVAL;
	if (be->nconns >= be->conf.max_conns)
		return -ENOSPC;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	gale__sock_opts(fd);
	c = gale__conn_new(be, fd);
	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->peer = sa;
	c->cbs = cbs;
	c->arg = arg;
	c->state = GALE__CS_CONNECTING;
	c->want_out = true;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		ret = -errno;
		c->fd = -1;
		close(fd);
		gale__conn_free(c);
		return ret;
	}
	ret = gale__conn_epoll(c, EPOLL_CTL_ADD);
	if (ret != 0) {
		c->fd = -1;
		close(fd);
		gale__conn_free(c);
		return ret;
	}
	*cp = c;
	return 0;
}

static void
gale__k_set_callbacks(struct gale_conn *c, const struct gale_conn_callbacks *cbs, void *arg)
{
	c->cbs = cbs;
	c->arg = arg;
}

static unsigned int
gale__k_recv_peek(const struct gale_conn *c, struct gale_codec_seg *segs, unsigned int max,
                    size_t *len)
{
	*len = c->ilen - c->ioff;
	if (*len == 0 || max == 0)
		return 0;
	segs[0].base = c->ibuf + c->ioff;
	segs[0].len = *len;
	return 1;
}

static int
gale__k_consume(struct gale_conn *c, size_t len)
{
	if (len > c->ilen - c->ioff)
		return -EINVAL;
	c->ioff += len;
	if (c->ioff == c->ilen)
		c->ioff = c->ilen = 0;
	return 0;
}

static bool
gale__k_eof(const struct gale_conn *c)
{
	return c->eof;
}

static void
gale__conn_mark_dirty(struct gale_conn *c)
{
	if (!c->on_dirty) {
		c->on_dirty = true;
		c->next_dirty = c->be->dirty;
		c->be->dirty = c;
	}
}

/* Make room for `need` more bytes at the end of the send buffer (compact, then grow). */
static int
gale__obuf_reserve(struct gale_conn *c, size_t need)
{
	size_t pending = c->olen - c->ooff, cap;
	uint8_t *nb;

	if (c->ocap - c->olen >= need)
		return 0;
	if (pending + need > c->be->conf.tx_max)
		return -EAGAIN;
	if (c->ooff != 0) {
		memmove(c->obuf, c->obuf + c->ooff, pending);
		c->ooff = 0;
		c->olen = pending;
		if (c->ocap - c->olen >= need)
			return 0;
	}
	cap = c->ocap;
	while (cap - pending < need)
		cap *= 2;
	if (cap > c->be->conf.tx_max)
		cap = c->be->conf.tx_max;
	nb = realloc(c->obuf, cap);
	if (nb == NULL)
		return -ENOBUFS;
	c->obuf = nb;
	c->ocap = cap;
	return 0;
}

/* Writer refill: a heap chunk for a reply larger than the send buffer's tail (rare, counted). */
static int
gale__tx_refill(void *arg, struct gale_codec_wseg *seg)
{
	struct gale_conn_tx *tx = arg;
	struct gale_conn *c = tx->conn;
	size_t used = gale_codec_writer_offset(&tx->w), pending = c->olen - c->ooff, cap;

	if (pending + used >= c->be->conf.tx_max)
		return -ENOBUFS;
	cap = c->be->conf.tx_max - pending - used;
	if (cap > ((size_t)16u << 20) + ((size_t)64u << 10))
		cap = ((size_t)16u << 20) + ((size_t)64u << 10);
	seg->base = malloc(cap);
	if (seg->base == NULL)
		return -ENOBUFS;
	seg->cap = cap;
	return 0;
}

static void
gale__tx_free_spill(struct gale_conn_tx *tx)
{
	unsigned int i;

	for (i = 1; i < tx->w.nseg; i++) {
		free(tx->segs[i].base);
		tx->segs[i].base = NULL;
	}
}

static int
gale__k_tx_begin(struct gale_conn *c, struct gale_conn_tx *tx, size_t hint)
{
	int ret;

	if (c->state != GALE__CS_OPEN || c->tx_open)
		return -ENOTCONN;
	if (hint < 4096)
		hint = 4096;
	ret = gale__obuf_reserve(c, hint);
	if (ret == -EAGAIN)
		ret = gale__obuf_reserve(c, 1);
	if (ret != 0 && c->ocap == c->olen)
		return -ENOBUFS;
	tx->conn = c;
	tx->priv = NULL;
	tx->segs[0].base = c->obuf + c->olen;
	tx->segs[0].cap = c->ocap - c->olen;
	tx->segs[0].len = 0;
	gale_codec_writer_init(&tx->w, tx->segs, 1, GALE_CONN_TX_SEGS, gale__tx_refill, tx);
	c->tx_open = true;
	return 0;
}

static int
gale__k_tx_commit(struct gale_conn_tx *tx)
{
	struct gale_conn *c = tx->conn;
	unsigned int n, i;
	size_t extra = 0;
	int ret = 0;

	n = gale_codec_writer_finish(&tx->w);
	c->tx_open = false;
	c->olen += tx->segs[0].len;
	for (i = 1; i < n; i++)
		extra += tx->segs[i].len;
	if (extra != 0) {
		/* The spill: grow the buffer once (the next reply of this size fits) and copy back.
		 */
		ret = gale__obuf_reserve(c, extra);
		if (ret == 0) {
			for (i = 1; i < n; i++) {
				memcpy(c->obuf + c->olen, tx->segs[i].base, tx->segs[i].len);
				c->olen += tx->segs[i].len;
			}
		} else {
			/* Cannot queue all of it: drop the whole message, keep the stream
			 * consistent. */
			c->olen -= tx->segs[0].len;
			GALE__CNT(c->be, tx_full, 1);
		}
	}
	gale__tx_free_spill(tx);
	if (ret == 0 && c->olen > c->ooff)
		gale__conn_mark_dirty(c);
	return ret;
}

static void
gale__k_tx_abort(struct gale_conn_tx *tx)
{
	gale_codec_writer_finish(&tx->w);
	gale__tx_free_spill(tx);
	tx->conn->tx_open = false;
}

static int
gale__k_send(struct gale_conn *c, const struct gale_codec_seg *segs, unsigned int n)
{
	size_t total = 0;
	unsigned int i;
	int ret;

	if (c->state != GALE__CS_OPEN || c->tx_open)
		return -ENOTCONN;
	for (i = 0; i < n; i++)
		total += segs[i].len;
	ret = gale__obuf_reserve(c, total);
	if (ret != 0) {
		GALE__CNT(c->be, tx_full, 1);
		c->tx_blocked = true;
		return -EAGAIN;
	}
	for (i = 0; i < n; i++) {
		if (segs[i].len != 0)
			memcpy(c->obuf + c->olen, segs[i].base, segs[i].len);
		c->olen += segs[i].len;
	}
	if (total != 0)
		gale__conn_mark_dirty(c);
	return 0;
}

static size_t
gale__k_tx_space(const struct gale_conn *c)
{
	size_t pending = c->olen - c->ooff;

	return pending >= c->be->conf.tx_max ? 0 : c->be->conf.tx_max - pending;
}

static size_t
gale__k_tx_pending(const struct gale_conn *c)
{
	return c->olen - c->ooff;
}

static int
gale__k_close(struct gale_conn *c)
{
	if (c->state == GALE__CS_DEAD || c->state == GALE__CS_CLOSING)
		return -ENOTCONN;
	if (c->state == GALE__CS_CONNECTING || c->olen == c->ooff) {
		gale__conn_kill(c, 0);
		return 0;
	}
	c->state = GALE__CS_CLOSING;
	gale__conn_mark_dirty(c);
	return 0;
}

static void
gale__k_abort(struct gale_conn *c)
{
	struct linger lg = { 1, 0 };

	if (c->state == GALE__CS_DEAD)
		return;
	if (c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	c->ooff = c->olen = 0;
	gale__conn_kill(c, 0);
}

static const char *
gale__k_peer_str(const struct gale_conn *c, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &c->peer.sin_addr, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s:%u", ip, (unsigned int)ntohs(c->peer.sin_port));
	return buf;
}

static unsigned int
gale__k_count(const struct gale_conn_backend *be)
{
	return be->nconns;
}

static void
gale__k_stats_get(const struct gale_conn_backend *be, struct gale_conn_stats *st)
{
	gale__conn_stats_copy(&be->st, st);
}

/* ---- the poll ---- */

static unsigned int
gale__conn_accept(struct gale_conn_backend *be)
{
	unsigned int n = 0;

	while (n < GALE__CONN_EVENTS) {
		struct sockaddr_in sa;
		socklen_t slen = sizeof(sa);
		struct gale_conn *c;
		int fd;

		fd = accept4(be->lfd, (struct sockaddr *)&sa, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		n++;
		GALE__CNT(be, accepted, 1);
		if (be->nconns >= be->conf.max_conns || (c = gale__conn_new(be, fd)) == NULL) {
			GALE__CNT(be, refused, 1);
			close(fd);
			continue;
		}
		gale__sock_opts(fd);
		c->peer = sa;
		c->state = GALE__CS_OPEN;
		if (be->accept_cb(be->accept_arg, c) != 0 ||
		    gale__conn_epoll(c, EPOLL_CTL_ADD) != 0) {
			GALE__CNT(be, refused, 1);
			c->cbs = NULL;
			close(fd);
			c->fd = -1;
			gale__conn_free(c);
		}
	}
	return n;
}

/* Read what the socket has, up to rx_max buffered. Returns true when there is news for readable. */
static bool
gale__conn_read(struct gale_conn *c)
{
	struct gale_conn_backend *be = c->be;
	bool news = false;

	for (;;) {
		ssize_t r;

		if (c->icap - c->ilen < GALE__CONN_READ_MIN) {
			size_t have = c->ilen - c->ioff;

			if (c->ioff != 0) {
				memmove(c->ibuf, c->ibuf + c->ioff, have);
				c->ioff = 0;
				c->ilen = have;
			}
			if (c->icap - c->ilen < GALE__CONN_READ_MIN) {
				size_t cap = c->icap * 2;
				uint8_t *nb;

				if (cap > be->conf.rx_max)
					cap = be->conf.rx_max;
				if (cap <= c->icap) {
					/* Full of bytes nobody consumes: a frame over every limit.
					 */
					GALE__CNT(be, rx_full, 1);
					gale__conn_kill(c, -EMSGSIZE);
					return false;
				}
				nb = realloc(c->ibuf, cap);
				if (nb == NULL) {
					gale__conn_kill(c, -ENOMEM);
					return false;
				}
				c->ibuf = nb;
				c->icap = cap;
			}
		}
		r = read(c->fd, c->ibuf + c->ilen, c->icap - c->ilen);
		if (r > 0) {
			c->ilen += (size_t)r;
			GALE__CNT(be, rx_bytes, (uint64_t)r);
			news = true;
			if ((size_t)r < GALE__CONN_READ_MIN)
				break;
			continue;
		}
		if (r == 0) {
			c->eof = true;
			gale__conn_epoll(c, EPOLL_CTL_MOD);
			return true;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			gale__conn_kill(c, -errno);
		break;
	}
	return news;
}

/* Write what is queued. Returns 1 if some bytes went out, 0 otherwise. */
static unsigned int
gale__conn_flush(struct gale_conn *c)
{
	unsigned int did = 0;

	while (c->olen > c->ooff) {
		ssize_t w = send(c->fd, c->obuf + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL);

		if (w > 0) {
			c->ooff += (size_t)w;
			GALE__CNT(c->be, tx_bytes, (uint64_t)w);
			did = 1;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->want_out) {
				c->want_out = true;
				gale__conn_epoll(c, EPOLL_CTL_MOD);
			}
			c->tx_blocked = true;
			return did;
		}
		gale__conn_kill(c, w < 0 ? -errno : -EPIPE);
		return did;
	}
	c->ooff = c->olen = 0;
	if (c->want_out) {
		c->want_out = false;
		gale__conn_epoll(c, EPOLL_CTL_MOD);
	}
	if (c->state == GALE__CS_CLOSING)
		gale__conn_kill(c, 0);
	return did;
}

static void
gale__conn_event(struct gale_conn *c, uint32_t ev)
{
	if (c->state == GALE__CS_DEAD)
		return;
	if (c->state == GALE__CS_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof(err);

		if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0)
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			err = errno;
		if (err != 0) {
			gale__conn_kill(c, -err);
			return;
		}
		c->state = GALE__CS_OPEN;
		c->want_out = false;
		gale__conn_epoll(c, EPOLL_CTL_MOD);
		GALE__CNT(c->be, connected, 1);
		if (c->cbs != NULL && c->cbs->connected != NULL)
			c->cbs->connected(c, c->arg);
		return;
	}
	if ((ev & EPOLLOUT) != 0 && c->state != GALE__CS_DEAD) {
		gale__conn_flush(c);
		if (c->state == GALE__CS_OPEN && c->olen == c->ooff && c->tx_blocked) {
			c->tx_blocked = false;
			if (c->cbs != NULL && c->cbs->writable != NULL)
				c->cbs->writable(c, c->arg);
		}
	}
	if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0 && !c->eof &&
	    (c->state == GALE__CS_OPEN || c->state == GALE__CS_CLOSING)) {
		if (gale__conn_read(c) && c->state == GALE__CS_OPEN && c->cbs != NULL &&
		    c->cbs->readable != NULL)
			c->cbs->readable(c, c->arg);
	} else if ((ev & EPOLLERR) != 0 && c->state != GALE__CS_DEAD) {
		int err = 0;
		socklen_t el = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		gale__conn_kill(c, err != 0 ? -err : -ECONNRESET);
	} else if ((ev & EPOLLHUP) != 0 && c->eof && c->state != GALE__CS_DEAD) {
		gale__conn_kill(c, 0);
	}
}

static unsigned int
gale__k_poll_wait(struct gale_conn_backend *be, int timeout_ms)
{
	struct epoll_event evs[GALE__CONN_EVENTS];
	unsigned int work = 0;
	int n, i;

	/* Output already queued, or closes to finish: do not sleep on them. */
	if (be->dirty != NULL || be->dead != NULL)
		timeout_ms = 0;
	n = epoll_wait(be->epfd, evs, GALE__CONN_EVENTS, timeout_ms);
	for (i = 0; i < n; i++) {
		if (evs[i].data.ptr == &be->listen_tag) {
			if (be->lfd >= 0)
				work += gale__conn_accept(be);
			continue;
		}
		gale__conn_event(evs[i].data.ptr, evs[i].events);
		work++;
	}
	if (n > 0)
		GALE__CNT(be, polls, 1);
	/* Output queued by the callbacks (or earlier) goes out now, one send per connection. */
	while (be->dirty != NULL) {
		struct gale_conn *c = be->dirty;

		be->dirty = c->next_dirty;
		c->on_dirty = false;
		if (c->state == GALE__CS_OPEN || c->state == GALE__CS_CLOSING)
			work += gale__conn_flush(c);
	}
	if (be->dead != NULL) {
		gale__conn_reap(be);
		work++;
	}
	return work;
}

static const struct gale__conn_ops gale__kernel_ops = {
	.backend_free = gale__k_backend_free,
	.kind = gale__k_backend_kind,
	.poll_wait = gale__k_poll_wait,
	.listen = gale__k_listen,
	.listen_port = gale__k_listen_port,
	.unlisten = gale__k_unlisten,
	.connect = gale__k_connect,
	.set_callbacks = gale__k_set_callbacks,
	.recv_peek = gale__k_recv_peek,
	.consume = gale__k_consume,
	.eof = gale__k_eof,
	.tx_begin = gale__k_tx_begin,
	.tx_commit = gale__k_tx_commit,
	.tx_abort = gale__k_tx_abort,
	.send = gale__k_send,
	.tx_space = gale__k_tx_space,
	.tx_pending = gale__k_tx_pending,
	.close = gale__k_close,
	.abort = gale__k_abort,
	.peer_str = gale__k_peer_str,
	.count = gale__k_count,
	.stats_get = gale__k_stats_get,
};
