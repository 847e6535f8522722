/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale_msgs.h: the C side of the codec benchmark, callable from the C++ driver (bench.cpp). Opaque on purpose:
 * the driver sees only "build the message, encode it, run N round trips".
 */
#ifndef GALE_BENCH_MSGS_H
#define GALE_BENCH_MSGS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { GALE_BENCH_REQUEST, GALE_BENCH_ECHO, GALE_BENCH_ORDER, GALE_BENCH_NMSG };

/** Encodes message `msg` (enum above) with protocol 0 binary / 2 compact into buf; returns bytes or 0. */
size_t
gale_bench_encode(int msg, int proto, uint8_t *buf, size_t cap);

/**
 * Runs `iters` round trips (decode `in` into the message's C struct, then encode it again) and returns the bytes
 * written by the last one, or 0 if a decode or encode failed.
 */
size_t
gale_bench_roundtrip(int msg, int proto, const uint8_t *in, size_t len, long iters);

#ifdef __cplusplus
}
#endif

#endif /* GALE_BENCH_MSGS_H */
