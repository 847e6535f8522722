/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale_msgs.h: the C side of the codec benchmark, callable from the C++ driver (bench.cpp). Opaque on purpose:
 * the driver sees only "encode the message once" and "run N of this operation".
 */
#ifndef GALE_BENCH_MSGS_H
#define GALE_BENCH_MSGS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { GALE_BENCH_REQUEST, GALE_BENCH_ECHO, GALE_BENCH_ORDER, GALE_BENCH_CART, GALE_BENCH_NMSG };

/** What gale_bench_run() times: decode then encode, encode alone, decode alone. */
enum { GALE_BENCH_ROUNDTRIP, GALE_BENCH_ENCODE, GALE_BENCH_DECODE };

/** Encodes message `msg` (enum above) with protocol 0 binary / 2 compact into buf; returns bytes or 0. */
size_t
gale_bench_encode(int msg, int proto, uint8_t *buf, size_t cap);

/**
 * Runs `iters` operations `op` on message `msg`: a round trip decodes `in` (envelope and struct) into the
 * message's generated C struct and encodes it again; encode writes the message built by this file; decode reads
 * `in`. Returns the bytes written (encode, round trip) or read (decode) by the last one, or 0 on a failure.
 */
size_t
gale_bench_run(int op, int msg, int proto, const uint8_t *in, size_t len, long iters);

#ifdef __cplusplus
}
#endif

#endif /* GALE_BENCH_MSGS_H */
