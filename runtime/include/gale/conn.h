/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/conn.h: the connection interface the RPC layer talks to, with its backends.
 *
 * One backend instance per worker (`struct gale_conn_backend`), created and polled on that worker:
 * every connection, listener and callback belongs to the worker that created the instance, and
 * nothing here is shared between workers. Two implementations sit behind the same calls:
 *
 *   kernel  non-blocking sockets and one epoll instance per worker; each worker opens its own
 *           SO_REUSEPORT listener on the same address, so the kernel spreads accepted connections
 *           over the workers. gale_conn_poll() runs epoll_wait with a zero timeout from the
 *           worker's work callback; the runtime's idle policy decides how an idle worker sleeps.
 *   native  gale's TCP stack (<gale/tcp.h>) on the worker's DPDK queue: the stack the runtime
 *           made for the worker (gale_worker_stack), given in gale_conn_conf.stack. Listen is
 *           on the stack's address; accept, connect, the writable and closed callbacks map onto
 *           the stack's. gale_conn_recv_peek borrows the stack's receive chain itself (the
 *           received mbufs, no copy); only bytes a reader leaves unconsumed beyond what one peek
 *           can show are copied into a per-connection buffer (up to rx_max), so a frame larger
 *           than the stack's receive window can still be waited for whole. gale_conn_tx_begin
 *           hands the writer mbuf data rooms from the port's pool; the commit queues the chain
 *           as is, and the backend feeds the stack's send buffer as acknowledgements free it
 *           (up to tx_max waiting). Events the stack raises are latched and delivered from
 *           gale_conn_poll, so the rules below hold on both backends. gale_conn_poll_wait does
 *           not wait (the worker loop drives the stack). A closed connection's FIN handshake
 *           and TIME_WAIT go on inside the stack after the closed callback, as in the kernel.
 *
 * Where the kernel backend runs: on the runtime's workers, which are EAL lcores; with no DPDK port
 * the EAL needs no hugepages (--no-pci --no-huge is enough), and the RPC server fills the runtime's
 * init/work/fini callbacks (gale_rpc_server_runtime_conf). A program that cannot start the EAL
 * cannot run workers and says so (gale-echo exits 1). The backend itself uses no EAL service: a
 * plain thread may own an instance too (the blocking RPC client does, with gale_conn_poll_wait).
 *
 * Receiving: the readable callback says new bytes (or EOF) arrived. gale_conn_recv_peek borrows
 * what is buffered as a chain of segments, valid until the next consume, close or return to the
 * backend; gale_conn_consume releases bytes from its front. Unconsumed bytes stay and are shown
 * again with the next ones, so a parser may wait for a whole frame without copying.
 *
 * Sending: gale_conn_tx_begin sets up a codec writer over output segments owned by the backend
 * (the connection's send buffer on kernel; mbufs on native), the caller encodes, then
 * gale_conn_tx_commit queues exactly what was written (consumes the segments) or gale_conn_tx_abort
 * drops it, which lets the RPC layer replace a half-written reply with an exception.
 * gale_conn_send copies a borrowed chain for callers that already hold their bytes. Bytes go out
 * at the end of the poll (or when the backend's buffer fills); when the peer stops reading, the
 * writable callback tells when gale_conn_tx_space grew again.
 *
 * Lifetime: a handle is valid from accept (or connect) until its closed callback returns.
 * gale_conn_close flushes queued bytes and then closes; gale_conn_abort drops them. Both run the
 * closed callback from a later gale_conn_poll (never from inside the call), so a caller may close
 * from any callback and keep using its own state until closed arrives. The error callback
 * (negative errno: -ECONNRESET, -ECONNREFUSED, -ETIMEDOUT, ...) is always followed by closed.
 */
#ifndef GALE_CONN_H
#define GALE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gale/codec.h>

struct gale_conn;
struct gale_conn_backend;
struct gale_stack;
struct gale_worker;

/** Backends. */
enum gale_conn_kind {
	GALE_CONN_KERNEL = 1, /**< sockets and epoll */
	GALE_CONN_NATIVE = 2, /**< tcpstack on a DPDK port (gale_conn_conf.stack) */
};

/** Callbacks of one connection; any may be NULL. arg is the one given with them. */
struct gale_conn_callbacks {
	void (*connected)(struct gale_conn *c, void *arg); /**< active open completed. */
	void (*readable)(struct gale_conn *c, void *arg);  /**< new bytes or EOF. */
	void (*writable)(struct gale_conn *c, void *arg);  /**< send space came back. */
	void (*error)(struct gale_conn *c, void *arg,
	              int err);                         /**< negative errno; closed follows. */
	void (*closed)(struct gale_conn *c, void *arg); /**< last call; the handle dies after it. */
};

/**
 * A listener accepted c. Return 0 to take it (set its callbacks with gale_conn_set_callbacks
 * before returning), or a negative errno to refuse it (it is closed at once, no callbacks).
 */
typedef int (*gale_conn_accept_cb_t)(void *arg, struct gale_conn *c);

/** Backend settings; zero fields take the defaults named. */
struct gale_conn_conf {
	enum gale_conn_kind kind;
	unsigned int max_conns; /**< open connections per instance; 0 = 1024. */
	size_t rx_max; /**< most bytes buffered unconsumed per connection; 0 = 16 MiB + 64 KiB. */
	size_t tx_max; /**< most bytes queued unsent per connection; 0 = 64 MiB. */
	uint32_t backlog; /**< listen backlog; 0 = 1024 (native: the stack's syn_backlog). */
	/** native: the worker's stack (gale_worker_stack; borrowed, must outlive the instance).
	 * Ignored by kernel. On native, tx_max 0 = 16 MiB + 64 KiB. */
	struct gale_stack *stack;
	/** native: the worker the stack belongs to, or NULL. With a worker, what the iteration
	 * writes goes to the stack once, just before the worker flushes its stacks (so the
	 * replies to a burst, or the calls of an iteration, share segments); without one, at
	 * the end of the gale_conn_poll that wrote it, or at once outside a poll. Ignored by
	 * kernel. */
	struct gale_worker *worker;
};

/** Counters of one instance (owner-written; other threads read them with relaxed loads). */
struct gale_conn_stats {
	uint64_t accepted;  /**< connections accepted. */
	uint64_t refused;   /**< accepted then refused (table full, accept callback said no). */
	uint64_t connected; /**< active opens completed. */
	uint64_t closed;    /**< closed callbacks run. */
	uint64_t errors;    /**< error callbacks run (resets, refused connects, I/O errors). */
	uint64_t rx_bytes;  /**< bytes received. */
	uint64_t tx_bytes;  /**< bytes the kernel (or stack) took. */
	uint64_t
	        rx_full; /**< times a connection hit rx_max with nothing consumed (it is closed). */
	uint64_t tx_full; /**< sends refused because tx_max would be passed. */
	uint64_t polls;   /**< gale_conn_poll calls that found events. */
};

/** Most output segments one gale_conn_tx_begin hands to the writer. */
#define GALE_CONN_TX_SEGS 4

/** An open transmission: the writer and its segments. Lives on the caller's stack. */
struct gale_conn_tx {
	struct gale_codec_writer w;                     /**< encode with this. */
	struct gale_codec_wseg segs[GALE_CONN_TX_SEGS]; /**< backend-owned data rooms. */
	struct gale_conn *conn;                         /**< the connection. */
	void *priv;                                     /**< backend state. */
};

/**
 * Create a backend instance for the calling worker (or thread). NULL with errno set: EINVAL (bad
 * conf, or native without a stack), ENOMEM, or what epoll_create1 set.
 */
struct gale_conn_backend *gale_conn_backend_create(const struct gale_conn_conf *conf);

/**
 * Close every connection and listener (closed callbacks run, in no particular order) and free the
 * instance. NULL is fine. On the owner only.
 */
void gale_conn_backend_free(struct gale_conn_backend *be);

/** Which backend this is. */
enum gale_conn_kind gale_conn_backend_kind(const struct gale_conn_backend *be);

/**
 * Process events: accept, read, flush queued output, complete connects and closes; callbacks run
 * from here. Never blocks. Returns how many events were handled (0 = idle).
 */
unsigned int gale_conn_poll(struct gale_conn_backend *be);

/**
 * As gale_conn_poll, but wait up to timeout_ms for an event when there is none: for a backend
 * owned by a thread that is not a worker (the blocking client). Never on a worker.
 */
unsigned int gale_conn_poll_wait(struct gale_conn_backend *be, int timeout_ms);

/**
 * Listen on host:port (host a numeric IPv4 address, NULL or "" = any; port 0 = pick one, see
 * gale_conn_listen_port). On kernel every instance listening on the same address shares it
 * (SO_REUSEPORT). 0 or a negative errno (-EADDRINUSE, -EINVAL, -EEXIST when already listening).
 */
int gale_conn_listen(struct gale_conn_backend *be, const char *host, uint16_t port,
                     gale_conn_accept_cb_t cb, void *arg);

/** The port the instance listens on (useful after listening on port 0), or 0. */
uint16_t gale_conn_listen_port(const struct gale_conn_backend *be);

/** Stop listening; accepted connections are unaffected. 0 or -ENOENT. */
int gale_conn_unlisten(struct gale_conn_backend *be);

/**
 * Open a connection to host:port (numeric IPv4). *cp is set at once; connected or error+closed
 * follow from gale_conn_poll. 0, -ENOSPC (table full), -EINVAL, or the socket's errno.
 */
int gale_conn_connect(struct gale_conn_backend *be, const char *host, uint16_t port,
                      const struct gale_conn_callbacks *cbs, void *arg, struct gale_conn **cp);

/** Set the callbacks of c (typically in the accept callback). */
void gale_conn_set_callbacks(struct gale_conn *c, const struct gale_conn_callbacks *cbs, void *arg);

/**
 * Borrow the bytes received and not yet consumed: fills up to max segments, returns how many (0:
 * nothing buffered) and sets *len to the bytes they hold. Valid until the next consume, close or
 * return to the backend.
 */
unsigned int gale_conn_recv_peek(const struct gale_conn *c, struct gale_codec_seg *segs,
                                 unsigned int max, size_t *len);

/** Release len bytes from the front of what was received. 0, or -EINVAL when len is too large. */
int gale_conn_consume(struct gale_conn *c, size_t len);

/** True once the peer closed its side and every byte before that is buffered. */
bool gale_conn_eof(const struct gale_conn *c);

/**
 * Start writing: initialises tx->w over backend segments (at least `hint` bytes in the first when
 * the backend can). The writer may run out (GALE_CODEC_E_NO_SPACE) when tx_max would be passed.
 * Returns 0 or a negative errno (-ENOTCONN, -ENOBUFS). Nothing is queued before the commit.
 */
int gale_conn_tx_begin(struct gale_conn *c, struct gale_conn_tx *tx, size_t hint);

/** Queue everything written to tx->w (consumes tx's segments). 0 or a negative errno. */
int gale_conn_tx_commit(struct gale_conn_tx *tx);

/** Drop what was written to tx->w; the connection's output is as before tx_begin. */
void gale_conn_tx_abort(struct gale_conn_tx *tx);

/**
 * Copy segs[0..n) (borrowed) into the send queue. 0, -EAGAIN when tx_max would be passed (nothing
 * queued), -ENOTCONN / -EPIPE when the connection cannot send any more, -ENOBUFS (native) when the
 * pool has no packet buffer (nothing queued).
 */
int gale_conn_send(struct gale_conn *c, const struct gale_codec_seg *segs, unsigned int n);

/** Bytes the send queue would accept now. */
size_t gale_conn_tx_space(const struct gale_conn *c);

/** Bytes queued and not yet taken by the kernel (or stack). */
size_t gale_conn_tx_pending(const struct gale_conn *c);

/** Send what is queued, then close (closed follows from gale_conn_poll). 0 or -ENOTCONN. */
int gale_conn_close(struct gale_conn *c);

/** Drop what is queued and reset; closed follows from gale_conn_poll. */
void gale_conn_abort(struct gale_conn *c);

/** Peer address as "a.b.c.d:port" into buf (at least 24 bytes). Returns buf. */
const char *gale_conn_peer_str(const struct gale_conn *c, char *buf, size_t len);

/** Open connections of the instance. */
unsigned int gale_conn_count(const struct gale_conn_backend *be);

/** Copy the instance's counters (any thread; each field read atomically). */
void gale_conn_stats_get(const struct gale_conn_backend *be, struct gale_conn_stats *st);

/** Parse "HOST:PORT" (numeric IPv4, HOST may be empty or '*' for any) into host (>= 16 bytes) and
 * *port. 0 or -EINVAL. */
int gale_conn_parse_addr(const char *s, char *host, size_t host_len, uint16_t *port);

#endif /* GALE_CONN_H */
