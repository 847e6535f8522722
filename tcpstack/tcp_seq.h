/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP sequence-number arithmetic (RFC 9293 3.4): comparisons modulo 2^32, valid while the two
 * numbers are less than 2^31 apart, which the window rules guarantee. Timestamps (RFC 7323) use the
 * same arithmetic.
 */
#ifndef GALE_TCP_SEQ_H
#define GALE_TCP_SEQ_H

#include <stdint.h>

#define GALE_SEQ_LT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define GALE_SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define GALE_SEQ_GT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define GALE_SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define GALE_SEQ_MIN(a, b) (GALE_SEQ_LT(a, b) ? (a) : (b))
#define GALE_SEQ_MAX(a, b) (GALE_SEQ_GT(a, b) ? (a) : (b))

/* Timestamp comparisons are the same modular arithmetic. */
#define GALE_TSTMP_LT(a, b)  GALE_SEQ_LT(a, b)
#define GALE_TSTMP_GEQ(a, b) GALE_SEQ_GEQ(a, b)

#endif /* GALE_TCP_SEQ_H */
