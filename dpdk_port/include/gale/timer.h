/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-worker hierarchical timer wheel: O(1) arm and cancel, expiry in microseconds from the TSC.
 *
 * One wheel per worker, touched only by that worker: no atomics, no locks. Timers are intrusive and
 * caller-owned (embedded in a connection, a call, ...), initialised statically with
 * GALE_TIMER_INITIALIZER or by gale_timer_init, and never allocated by the wheel. A callback may
 * arm or cancel any timer, itself included.
 *
 * It lives in dpdk_port/, the lowest DPDK layer, because both tcpstack/ (retransmission, delayed
 * ACK, keepalive, TIME_WAIT) and runtime/ (RPC deadlines, pools) run their timers on the worker's
 * one wheel, and tcpstack/ sits below runtime/.
 *
 * Resolution is 1 us (one tick at the lowest level); a timer runs in the first advance whose time
 * reaches its expiry, never before. Times are uint64 microseconds that may wrap: "later" means less
 * than 2^63 us ahead. Timers armed at or before the wheel's current time run at the start of the
 * next advance (in no particular order among themselves); all others run in expiry order.
 */
#ifndef GALE_TIMER_H
#define GALE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gale_timer;
struct gale_timer_wheel;

/** Called on the wheel's worker when the timer expires; the timer is no longer pending. */
typedef void (*gale_timer_cb_t)(struct gale_timer *timer, void *arg);

/** An intrusive timer. Fields are the wheel's; use the functions below. */
struct gale_timer {
	struct gale_timer *next;   /**< slot list link. */
	struct gale_timer **pprev; /**< where this timer's pointer is; NULL = not pending. */
	uint64_t expire_us;        /**< absolute expiry, wheel time in microseconds. */
	gale_timer_cb_t cb;        /**< expiry callback. */
	void *arg;                 /**< callback argument. */
};

/* clang-format off */
#define GALE_TIMER_INITIALIZER(cb_, arg_) { NULL, NULL, 0, (cb_), (arg_) }
/* clang-format on */

/** Create a wheel whose time starts at now_us. NULL with errno set on failure. */
struct gale_timer_wheel *gale_timer_wheel_create(uint64_t now_us);

/** Free a wheel. Pending timers are forgotten (not called). Accepts NULL. */
void gale_timer_wheel_free(struct gale_timer_wheel *wheel);

/** Initialise a timer (not pending). */
void gale_timer_init(struct gale_timer *timer, gale_timer_cb_t cb, void *arg);

/** Arm (or re-arm) timer to expire at absolute time expire_us; a time already past expires on the
 * next advance. */
void gale_timer_arm(struct gale_timer_wheel *wheel, struct gale_timer *timer, uint64_t expire_us);

/** Cancel timer if pending; harmless otherwise. */
void gale_timer_cancel(struct gale_timer_wheel *wheel, struct gale_timer *timer);

/** True while the timer is armed and has not expired. */
static inline bool
gale_timer_pending(const struct gale_timer *timer)
{
	return timer->pprev != NULL;
}

/** Advance the wheel to now_us, running every timer that expired, in expiry order. Returns how many
 * ran. */
unsigned int gale_timer_wheel_advance(struct gale_timer_wheel *wheel, uint64_t now_us);

/**
 * A lower bound on the next expiry (exact for timers within 64 us; otherwise the next time the
 * wheel has work, which may be a cascade point): what an idle worker may sleep until. 0, or -ENOENT
 * when nothing is pending.
 */
int gale_timer_wheel_next(const struct gale_timer_wheel *wheel, uint64_t *when_us);

/** The wheel's current time (inside a callback: the expiry instant being processed). */
uint64_t gale_timer_wheel_now(const struct gale_timer_wheel *wheel);

/** Pending timers on the wheel. */
uint64_t gale_timer_wheel_count(const struct gale_timer_wheel *wheel);

/**
 * Microseconds since an arbitrary start, from the TSC (monotonic; for feeding
 * gale_timer_wheel_advance). Before rte_eal_init it falls back to CLOCK_MONOTONIC, a different
 * origin: do not mix readings across EAL init. Exactly floor(tsc * 10^6 / tsc_hz), computed by
 * gale_tsc_us_conv (a few multiplies, no division). A poll loop reads it once per iteration.
 */
uint64_t gale_timer_now_us(void);

/**
 * TSC cycles to microseconds without a division: floor(cycles * 10^6 / hz) from a multiply by a
 * precomputed reciprocal, exact for every 64-bit cycles value (see gale_tsc_us_conv).
 */
struct gale_tsc_us {
	uint64_t hz;   /**< cycles per second, > 10^6. */
	uint64_t mult; /**< floor(2^64 * 10^6 / hz). */
};

/** Set c up for a clock of hz cycles per second. Returns 0, or -EINVAL when hz <= 10^6. */
int gale_tsc_us_init(struct gale_tsc_us *c, uint64_t hz);

/**
 * floor(cycles * 10^6 / c->hz), exactly. With m = floor(2^64 * 10^6 / hz), the high half of
 * cycles * m lies in (x - 1, x] for x = cycles * 10^6 / hz (the reciprocal's error is below one
 * unit in 2^64, times cycles < 2^64), so its floor is floor(x) or floor(x) - 1; one 128-bit
 * comparison tells which. The two 64-bit divisions it replaces cost 40-90 cycles each on older x86
 * cores.
 */
static inline uint64_t
gale_tsc_us_conv(const struct gale_tsc_us *c, uint64_t cycles)
{
	uint64_t est = (uint64_t)(((unsigned __int128)cycles * c->mult) >> 64);

	if ((unsigned __int128)(est + 1) * c->hz <= (unsigned __int128)cycles * 1000000u)
		est++;
	return est;
}

#endif /* GALE_TIMER_H */
