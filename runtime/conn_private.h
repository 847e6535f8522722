/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the backends of gale/conn.h share with the dispatcher (conn.c) and nobody else sees.
 *
 * Both backends' backend and connection structures start with a pointer to their operations
 * table, so conn.c can route every public call without knowing either layout: the first member of
 * a structure is at its address (C11 6.7.2.1p15), and conn.c reads only that member. Each backend
 * keeps its own, private definition of everything after it.
 */
#ifndef GALE_CONN_PRIVATE_H
#define GALE_CONN_PRIVATE_H

#include <stdint.h>

#include "gale/conn.h"

/** One backend's implementation of every per-instance and per-connection call of gale/conn.h. */
struct gale__conn_ops {
	void (*backend_free)(struct gale_conn_backend *be);
	enum gale_conn_kind (*kind)(const struct gale_conn_backend *be);
	unsigned int (*poll_wait)(struct gale_conn_backend *be, int timeout_ms);
	int (*listen)(struct gale_conn_backend *be, const char *host, uint16_t port,
	              gale_conn_accept_cb_t cb, void *arg);
	uint16_t (*listen_port)(const struct gale_conn_backend *be);
	int (*unlisten)(struct gale_conn_backend *be);
	int (*connect)(struct gale_conn_backend *be, const char *host, uint16_t port,
	               const struct gale_conn_callbacks *cbs, void *arg, struct gale_conn **cp);
	void (*set_callbacks)(struct gale_conn *c, const struct gale_conn_callbacks *cbs,
	                      void *arg);
	unsigned int (*recv_peek)(const struct gale_conn *c, struct gale_codec_seg *segs,
	                          unsigned int max, size_t *len);
	int (*consume)(struct gale_conn *c, size_t len);
	bool (*eof)(const struct gale_conn *c);
	int (*tx_begin)(struct gale_conn *c, struct gale_conn_tx *tx, size_t hint);
	int (*tx_commit)(struct gale_conn_tx *tx);
	void (*tx_abort)(struct gale_conn_tx *tx);
	int (*send)(struct gale_conn *c, const struct gale_codec_seg *segs, unsigned int n);
	size_t (*tx_space)(const struct gale_conn *c);
	size_t (*tx_pending)(const struct gale_conn *c);
	int (*close)(struct gale_conn *c);
	void (*abort)(struct gale_conn *c);
	const char *(*peer_str)(const struct gale_conn *c, char *buf, size_t len);
	unsigned int (*count)(const struct gale_conn_backend *be);
	void (*stats_get)(const struct gale_conn_backend *be, struct gale_conn_stats *st);
};

/** The kernel backend (conn_kernel.c): conf checked by the caller. NULL with errno set. */
struct gale_conn_backend *gale__conn_kernel_create(const struct gale_conn_conf *conf);

/** The native backend (conn_native.c): conf checked by the caller. NULL with errno set. */
struct gale_conn_backend *gale__conn_native_create(const struct gale_conn_conf *conf);

/**
 * Parse a numeric IPv4 host: NULL, "" and "*" are INADDR_ANY. *ip in network byte order. 0 or
 * -EINVAL.
 */
int gale__conn_parse_ip(const char *host, uint32_t *ip);

/** Copy a backend's counters with one relaxed load per field. */
void gale__conn_stats_copy(const struct gale_conn_stats *src, struct gale_conn_stats *dst);

#endif /* GALE_CONN_PRIVATE_H */
