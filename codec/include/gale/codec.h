/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/codec.h: segmented byte reader and writer shared by every Thrift protocol and transport.
 *
 * Input arrives as a chain of (pointer, length) segments: the data rooms of an mbuf chain, a heap buffer, a test
 * vector cut at every byte. `struct gale_codec_reader` keeps `cur`/`end` over the current segment so the common
 * case (the next field lies inside the segment) is one compare and one load, inlined into generated code; only
 * when a value straddles a boundary does the out-of-line slow path, gale_codec__read_slow(), walk the chain. This
 * is Apache Thrift's TBufferBase split (a borrow fast path, a virtual slow path), minus the virtual call.
 *
 * Output goes to a chain of fixed-size segments the caller supplies (`struct gale_codec_wseg`), optionally
 * topped up by a refill callback, so the runtime can hand the writer mbuf data rooms and send the result without a
 * copy. A frame length that is only known at the end is written by reserving its bytes
 * (gale_codec_writer_reserve()) and patching them afterwards (gale_codec_writer_patch()), even if the reserved
 * bytes straddle two segments.
 *
 * Return convention, for every read function here and in the protocol headers: 0 on success, GALE_CODEC_NEED_MORE
 * (-2) when the input ends before the value does and more may still arrive, GALE_CODEC_MALFORMED (-1) otherwise,
 * with the reason left in `r->reason` (enum gale_codec_reason, gale_codec_strerror()). A reader marked final
 * (gale_codec_reader_bound(), used once a whole frame has arrived) turns "ran out" into -1 with
 * GALE_CODEC_E_PAST_END: a length that points past the frame is malformed, not incomplete. Write functions return
 * 0 or -1 with `w->reason` set (GALE_CODEC_E_NO_SPACE when out of segments).
 *
 * Limits (`struct gale_codec_limits`) are checked before anything is copied or allocated: frame size (default
 * 16 MiB), string/binary size, container element count, and nesting depth (default 64, capped at
 * GALE_CODEC_DEPTH_CAP because the compact protocol keeps a field-id stack of that size inside the reader and
 * writer, which keeps them free of allocation).
 *
 * What generated code calls: gale_codec_reader_init() / gale_codec_writer_init() once per message (the runtime
 * usually does this), then only the gale_binary_* or gale_compact_* functions of <gale/binary.h> and
 * <gale/compact.h>. Everything in this header is protocol independent.
 */
#ifndef GALE_CODEC_H
#define GALE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gale/arena.h>

#define GALE_CODEC_NEED_MORE (-2) /**< decoder: input ends early, call again with more */
#define GALE_CODEC_MALFORMED (-1) /**< decoder: input is invalid; reason says why */

#define GALE_CODEC_LIKELY(x) __builtin_expect(!!(x), 1)
#define GALE_CODEC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GALE_CODEC_NOINLINE __attribute__((noinline, cold))

/** Bit (1 << t) set for every valid TType t of a container element (everything but STOP and VOID). */
#define GALE_CODEC_ELEM_TYPES 0x1fd5cu

/** Thrift type ids as they appear on the Binary wire (TType). */
enum gale_ttype {
	GALE_T_STOP = 0,
	GALE_T_VOID = 1,
	GALE_T_BOOL = 2,
	GALE_T_BYTE = 3, /**< also i8 */
	GALE_T_DOUBLE = 4,
	GALE_T_I16 = 6,
	GALE_T_I32 = 8,
	GALE_T_I64 = 10,
	GALE_T_STRING = 11, /**< also binary */
	GALE_T_STRUCT = 12,
	GALE_T_MAP = 13,
	GALE_T_SET = 14,
	GALE_T_LIST = 15,
	GALE_T_UUID = 16,
};

/** Message types of the envelope (TMessageType). */
enum gale_msg_type {
	GALE_MSG_CALL = 1,
	GALE_MSG_REPLY = 2,
	GALE_MSG_EXCEPTION = 3,
	GALE_MSG_ONEWAY = 4,
};

/** Protocol ids, with the values THeader and TTHeader put on the wire. */
enum gale_proto {
	GALE_PROTO_BINARY = 0,
	GALE_PROTO_COMPACT = 2,
};

/* Why a decode or encode failed: X(name, text). */
#define GALE_CODEC_REASONS(X)                                                                                  \
	X(OK, "no error")                                                                                       \
	X(NEED_MORE, "input ends before the value does")                                                       \
	X(PAST_END, "a length or value runs past the end of the frame")                                        \
	X(NEG_LENGTH, "negative length or element count")                                                      \
	X(STRING_LIMIT, "string or binary longer than the string limit")                                       \
	X(CONTAINER_LIMIT, "container element count over the container limit")                                 \
	X(DEPTH_LIMIT, "nesting deeper than the depth limit")                                                  \
	X(FRAME_LIMIT, "frame size over the frame limit")                                                      \
	X(FRAME_SIZE, "frame size too small to hold its header")                                               \
	X(VARINT, "varint longer than its type allows")                                                        \
	X(BAD_TYPE, "unknown or invalid type id")                                                              \
	X(BAD_VERSION, "bad protocol id or version word")                                                      \
	X(BAD_MSG_TYPE, "invalid message type")                                                                \
	X(BAD_MAGIC, "bad transport magic")                                                                    \
	X(BAD_HEADER, "malformed transport header")                                                            \
	X(BAD_INFO, "unknown info id in a TTHeader header")                                                    \
	X(BAD_TRANSFORM, "unsupported header transform")                                                       \
	X(BAD_PROTOCOL, "unsupported protocol id")                                                             \
	X(UNKNOWN_TRANSPORT, "cannot detect the transport and protocol")                                       \
	X(ARENA_FULL, "arena too small for a value that must be copied")                                       \
	X(NO_SPACE, "writer ran out of segments")                                                              \
	X(TOO_LARGE, "value too large for its wire encoding")                                                  \
	X(BAD_STATE, "call out of order (e.g. bool without a field header)")                                   \
	X(TRAILING, "bytes left after the message inside its frame")

enum gale_codec_reason {
#define GALE__CODEC_REASON_ENUM(name, text) GALE_CODEC_E_##name,
	GALE_CODEC_REASONS(GALE__CODEC_REASON_ENUM)
#undef GALE__CODEC_REASON_ENUM
	GALE_CODEC_E__COUNT
};

/** A static string for a reason code (also for out-of-range values). */
const char *
gale_codec_strerror(int reason);

#define GALE_CODEC_DEFAULT_MAX_FRAME (16u << 20)
#define GALE_CODEC_DEFAULT_MAX_DEPTH 64u
#define GALE_CODEC_DEPTH_CAP 128u

/** Limits checked before any copy or allocation. Zero in a field means "use the default". */
struct gale_codec_limits {
	uint32_t max_frame;     /**< whole frame, bytes (default 16 MiB) */
	uint32_t max_string;    /**< one string or binary, bytes (default: max_frame) */
	uint32_t max_container; /**< elements of one list, set or map (default: max_frame) */
	uint32_t max_depth;     /**< structs and containers nested (default 64, at most GALE_CODEC_DEPTH_CAP) */
};

/** Fills *l with the defaults. */
void
gale_codec_limits_default(struct gale_codec_limits *l);

/** One input segment (borrowed by the reader). */
struct gale_codec_seg {
	const uint8_t *base; /**< first byte */
	size_t len;          /**< bytes at base; zero-length segments are allowed and skipped */
};

/** A string or binary: a view into the input, or into the reader's arena when it had to be copied. */
struct gale_codec_bytes {
	const uint8_t *ptr; /**< not NUL-terminated; may be NULL when len is 0 */
	uint32_t len;
};

/*
 * Two 64-bit lanes, for setting two adjacent 8-byte fields with one 16-byte store (GCC and clang vector
 * extension: SSE2 on x86-64, two scalar stores where there is no vector unit). Internal.
 */
typedef uint64_t gale_codec__v2u64 __attribute__((vector_size(16)));

/*
 * Keeps a vector in a vector register up to its store: without it the compiler splits a constant (or a pair of
 * constants) into two 8-byte immediate stores, which is the cost the pairing removes. Internal.
 */
#if defined(__x86_64__)
#define GALE_CODEC__VREG(v) __asm__("" : "+x"(v))
#elif defined(__aarch64__)
#define GALE_CODEC__VREG(v) __asm__("" : "+w"(v))
#else
#define GALE_CODEC__VREG(v) ((void)0)
#endif

/*
 * Sets a view; every decoded string and binary goes through here. Two scalar stores, on purpose: one 16-byte store
 * (built in a vector register) saved a store but made the round trip slower, because the generated writer soon
 * loads ptr and len back into general registers and forwarding from a vector store costs more latency (perf/codec,
 * echo-1KiB: 3% slower with it, 5-10% faster without, against the same code at the parent commit). Internal.
 */
static inline void
gale_codec__set_bytes(struct gale_codec_bytes *b, const uint8_t *ptr, uint32_t len)
{
	b->ptr = ptr;
	b->len = len;
}

/** Reader over a chain of segments. Initialise with gale_codec_reader_init(); fields are for the inline paths. */
struct gale_codec_reader {
	/* Laid out in 16-byte pairs set at init by one store each (see gale_codec_reader_init()). */
	const uint8_t *cur;                /**< next byte (fast path) */
	const uint8_t *end;                /**< end of the readable part of the current segment */
	const struct gale_codec_seg *seg;  /**< current segment */
	const struct gale_codec_seg *segs_end; /**< one past the last segment */
	struct gale_arena *arena;          /**< copies of values that straddle segments (may be NULL) */
	/* From depth to nonstrict: 8 bytes, all zero at init (stored with arena). */
	uint16_t depth;                    /**< current nesting */
	int16_t last_fid;                  /**< compact: previous field id in the current struct */
	uint8_t final;                     /**< 1: no more input will come; running out is malformed */
	uint8_t reason;                    /**< enum gale_codec_reason of the last failure */
	uint8_t bool_pending;              /**< compact: a field header carried a bool value */
	uint8_t nonstrict;                 /**< binary: an envelope this reader read was old non-strict (sticky) */
	/* From seg_off to limits: constants at init, in two 16-byte blocks. */
	size_t seg_off;                    /**< stream offset of seg->base */
	size_t stop;                       /**< stream offset where reading stops (SIZE_MAX: end of segments) */
	struct gale_codec_limits limits;   /**< resolved limits (no zeros) */
	uint8_t bool_value;                /**< compact: that value (meaningful only while bool_pending) */
	int16_t fid_stack[GALE_CODEC_DEPTH_CAP]; /**< compact: last_fid of each enclosing struct */
};

/** Out-of-line part of gale_codec_reader_init() (limits given, or no segment). Internal. */
void
gale_codec__reader_init_slow(struct gale_codec_reader *r, const struct gale_codec_seg *segs, unsigned nseg,
			     const struct gale_codec_limits *limits, struct gale_arena *arena);

/**
 * Borrows `segs` (nseg entries) and the bytes they point to until the reader is dropped; `limits` is copied
 * (NULL: defaults); `arena` is borrowed (NULL: values that straddle segments fail with GALE_CODEC_E_ARENA_FULL).
 * Inline because it runs once per message: the common case (default limits, at least one segment) is a few
 * stores (perf/codec/run, echo-1KiB round trip: see codec.c's essay for the number).
 */
static inline void
gale_codec_reader_init(struct gale_codec_reader *r, const struct gale_codec_seg *segs, unsigned nseg,
		       const struct gale_codec_limits *limits, struct gale_arena *arena)
{
	if (GALE_CODEC_UNLIKELY(limits != NULL || nseg == 0 || segs == NULL)) {
		gale_codec__reader_init_slow(r, segs, nseg, limits, arena);
		return;
	}
#if defined(__LP64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/*
	 * Five 16-byte stores where field by field took six or more (each store counts: see codec.c); bool_value is
	 * set with bool_pending.
	 */
	gale_codec__v2u64 v;

	_Static_assert(offsetof(struct gale_codec_reader, seg) == 16 &&
			       offsetof(struct gale_codec_reader, arena) == 32 &&
			       offsetof(struct gale_codec_reader, depth) == 40 &&
			       offsetof(struct gale_codec_reader, nonstrict) == 47 &&
			       offsetof(struct gale_codec_reader, seg_off) == 48 &&
			       offsetof(struct gale_codec_reader, limits) == 64,
		       "reader init stores pairs of fields");
	v = (gale_codec__v2u64){(uintptr_t)segs->base, (uintptr_t)(segs->base + segs->len)};
	memcpy(&r->cur, &v, 16);
	v = (gale_codec__v2u64){(uintptr_t)segs, (uintptr_t)(segs + nseg)};
	memcpy(&r->seg, &v, 16);
	v = (gale_codec__v2u64){(uintptr_t)arena, 0};
	GALE_CODEC__VREG(v);
	memcpy(&r->arena, &v, 16); /* arena, depth .. nonstrict = 0 */
	v = (gale_codec__v2u64){0, SIZE_MAX};
	GALE_CODEC__VREG(v);
	memcpy(&r->seg_off, &v, 16); /* seg_off, stop */
	v = (gale_codec__v2u64){(uint64_t)GALE_CODEC_DEFAULT_MAX_FRAME << 32 | GALE_CODEC_DEFAULT_MAX_FRAME,
				(uint64_t)GALE_CODEC_DEFAULT_MAX_DEPTH << 32 | GALE_CODEC_DEFAULT_MAX_FRAME};
	GALE_CODEC__VREG(v);
	memcpy(&r->limits, &v, 16);
#else
	r->cur = segs->base;
	r->end = segs->base + segs->len;
	r->seg = segs;
	r->segs_end = segs + nseg;
	r->arena = arena;
	r->depth = 0;
	r->last_fid = 0;
	r->final = 0;
	r->reason = GALE_CODEC_E_OK;
	r->bool_pending = 0;
	r->nonstrict = 0; /* bool_value is set with bool_pending */
	r->seg_off = 0;
	r->stop = SIZE_MAX;
	r->limits.max_frame = GALE_CODEC_DEFAULT_MAX_FRAME;
	r->limits.max_string = GALE_CODEC_DEFAULT_MAX_FRAME;
	r->limits.max_container = GALE_CODEC_DEFAULT_MAX_FRAME;
	r->limits.max_depth = GALE_CODEC_DEFAULT_MAX_DEPTH;
#endif
}

/**
 * Restricts the reader to the next `len` bytes and marks it final (the caller has the whole frame). Returns 0, or
 * GALE_CODEC_NEED_MORE when fewer than `len` bytes are present.
 */
int
gale_codec_reader_bound(struct gale_codec_reader *r, size_t len);

/** Stream offset of the next byte (bytes consumed since init). */
static inline size_t
gale_codec_reader_offset(const struct gale_codec_reader *r)
{
	return r->seg_off + (size_t)(r->cur - r->seg->base);
}

/** Bytes readable from the current position (up to the bound). Walks the segments: not for hot loops. */
size_t
gale_codec_reader_remaining(const struct gale_codec_reader *r);

/** Records `reason` and returns -1 (or -2 for GALE_CODEC_E_NEED_MORE). For protocol code. */
GALE_CODEC_NOINLINE int
gale_codec_reader_fail(struct gale_codec_reader *r, int reason);

/** Slow path of gale_codec_read_raw(): copies n bytes across segments. Internal; use the inline wrappers. */
GALE_CODEC_NOINLINE int
gale_codec__read_slow(struct gale_codec_reader *r, void *dst, size_t n);

/** Slow path of gale_codec_skip_raw(). Internal. */
GALE_CODEC_NOINLINE int
gale_codec__skip_slow(struct gale_codec_reader *r, size_t n);

/** Slow path of gale_codec_read_view(). Internal. */
GALE_CODEC_NOINLINE int
gale_codec__view_slow(struct gale_codec_reader *r, size_t n, struct gale_codec_bytes *out);

/** Copies the next n raw bytes into dst and consumes them. */
static inline int
gale_codec_read_raw(struct gale_codec_reader *r, void *dst, size_t n)
{
	if (GALE_CODEC_LIKELY((size_t)(r->end - r->cur) >= n)) {
		memcpy(dst, r->cur, n);
		r->cur += n;
		return 0;
	}
	return gale_codec__read_slow(r, dst, n);
}

/** Consumes n raw bytes. */
static inline int
gale_codec_skip_raw(struct gale_codec_reader *r, size_t n)
{
	if (GALE_CODEC_LIKELY((size_t)(r->end - r->cur) >= n)) {
		r->cur += n;
		return 0;
	}
	return gale_codec__skip_slow(r, n);
}

/**
 * Consumes n bytes and returns them as a view: zero-copy when they lie in one segment, else copied into the
 * reader's arena. n must already be checked against the string limit (the protocol functions do).
 */
static inline int
gale_codec_read_view(struct gale_codec_reader *r, size_t n, struct gale_codec_bytes *out)
{
	if (GALE_CODEC_LIKELY((size_t)(r->end - r->cur) >= n)) {
		gale_codec__set_bytes(out, r->cur, (uint32_t)n); /* ptr may be non-NULL when n is 0 */
		r->cur += n;
		return 0;
	}
	return gale_codec__view_slow(r, n, out);
}

/** Reads one byte. */
static inline int
gale_codec_read_u8(struct gale_codec_reader *r, uint8_t *v)
{
	if (GALE_CODEC_LIKELY(r->cur < r->end)) {
		*v = *r->cur++;
		return 0;
	}
	return gale_codec__read_slow(r, v, 1);
}

/** Copies up to n bytes at the current position into dst without consuming them; returns how many. */
size_t
gale_codec_reader_peek(const struct gale_codec_reader *r, void *dst, size_t n);

/* Byte order helpers (the codec is little- and big-endian clean). */
static inline uint16_t
gale_codec_be16(uint16_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap16(x);
#else
	return x;
#endif
}

static inline uint32_t
gale_codec_be32(uint32_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(x);
#else
	return x;
#endif
}

static inline uint64_t
gale_codec_be64(uint64_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap64(x);
#else
	return x;
#endif
}

static inline uint64_t
gale_codec_le64(uint64_t x)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return x;
#else
	return __builtin_bswap64(x);
#endif
}

/*
 * Unaligned integer stores of a non-character type. A store through uint8_t * (or memcpy) may alias anything, so
 * after one the compiler must reload the writer's cur/end from memory, chaining every field's write through a
 * store-to-load forward; a typed store lets it keep them in registers across consecutive writes. Internal.
 */
typedef uint32_t __attribute__((aligned(1))) gale_codec__u32u;
typedef uint64_t __attribute__((aligned(1))) gale_codec__u64u;

/*
 * Copies n bytes (a method name, a short string) with at most two overlapping loads and stores when n is 4 to
 * 16, else memcpy: a call to memcpy for a few bytes costs more stores (the call's own) than the copy. Internal.
 */
static inline void
gale_codec__copy_small(uint8_t *dst, const void *src, size_t n)
{
	const uint8_t *s = (const uint8_t *)src;

	if (n >= 8 && n <= 16) {
		uint64_t a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(dst, &a, 4);
		memcpy(dst + n - 4, &b, 4);
	} else if (n != 0) {
		memcpy(dst, s, n);
	}
}

/** One output segment: base and cap are the caller's; len is how much the writer filled. */
struct gale_codec_wseg {
	uint8_t *base; /**< data room (borrowed) */
	size_t cap;    /**< bytes available at base */
	size_t len;    /**< bytes written (set by the writer) */
};

/**
 * Asked for one more output segment when the writer has used all it was given. Fill seg->base and seg->cap
 * (seg->len is reset by the writer) and return 0, or return a negative errno (e.g. -ENOBUFS) to fail the write.
 */
typedef int (*gale_codec_refill_cb_t)(void *arg, struct gale_codec_wseg *seg);

/** Writer over caller-supplied segments. */
struct gale_codec_writer {
	/* Laid out in 16-byte pairs set at init by one store each (see gale_codec_writer_init()). */
	uint8_t *cur;                    /**< next byte (fast path) */
	uint8_t *end;                    /**< end of the current segment */
	struct gale_codec_wseg *segs;    /**< caller's array (borrowed) */
	gale_codec_refill_cb_t refill;   /**< may be NULL */
	unsigned nseg;                   /**< entries of segs in use */
	unsigned max_seg;                /**< capacity of segs (refill appends up to it) */
	size_t seg_off;                  /**< stream offset of segs[idx].base */
	/* From here to bool_pending: constants at init, in one 16-byte block. */
	unsigned idx;                    /**< current segment */
	uint16_t depth;                  /**< compact: struct nesting */
	int16_t pending_fid;             /**< compact: its field id */
	int16_t last_fid;                /**< compact: previous field id in the current struct */
	uint8_t reason;                  /**< enum gale_codec_reason of the last failure */
	uint8_t nonstrict;               /**< binary: write old non-strict envelopes (no version word; default 0) */
	uint8_t bool_pending;            /**< compact: a bool field header awaits its value */
	void *refill_arg;                /**< passed to refill (left unset when refill is NULL) */
	int16_t fid_stack[GALE_CODEC_DEPTH_CAP]; /**< compact: last_fid of each enclosing struct */
};

/** Out-of-line part of gale_codec_writer_init() (no segment yet). Internal. */
void
gale_codec__writer_init_slow(struct gale_codec_writer *w, struct gale_codec_wseg *segs, unsigned nseg,
			     unsigned max_seg, gale_codec_refill_cb_t refill, void *refill_arg);

/**
 * Borrows `segs`: the first `nseg` entries are ready to fill (base, cap); up to `max_seg` entries in total are
 * obtained from `refill` (may be NULL) when those run out. Each entry's len is kept up to date as segments fill
 * and is final after gale_codec_writer_finish(). Inline for the same reason as gale_codec_reader_init().
 */
static inline void
gale_codec_writer_init(struct gale_codec_writer *w, struct gale_codec_wseg *segs, unsigned nseg, unsigned max_seg,
		       gale_codec_refill_cb_t refill, void *refill_arg)
{
	if (GALE_CODEC_UNLIKELY(nseg == 0)) {
		gale_codec__writer_init_slow(w, segs, nseg, max_seg, refill, refill_arg);
		return;
	}
#if defined(__LP64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/*
	 * Four 16-byte stores where field by field took nine (each store counts: see codec.c).
	 */
	gale_codec__v2u64 v;

	_Static_assert(offsetof(struct gale_codec_writer, segs) == 16 &&
			       offsetof(struct gale_codec_writer, nseg) == 32 &&
			       offsetof(struct gale_codec_writer, max_seg) == 36 &&
			       offsetof(struct gale_codec_writer, seg_off) == 40 &&
			       offsetof(struct gale_codec_writer, idx) == 48 &&
			       offsetof(struct gale_codec_writer, nonstrict) == 59 &&
			       offsetof(struct gale_codec_writer, refill_arg) >= 64,
		       "writer init stores pairs of fields");
	v = (gale_codec__v2u64){(uintptr_t)segs[0].base, (uintptr_t)(segs[0].base + segs[0].cap)};
	memcpy(&w->cur, &v, 16);
	v = (gale_codec__v2u64){(uintptr_t)segs, (uintptr_t)refill};
	memcpy(&w->segs, &v, 16);
	v = (gale_codec__v2u64){(uint64_t)nseg | (uint64_t)(max_seg < nseg ? nseg : max_seg) << 32, 0};
	GALE_CODEC__VREG(v);
	memcpy(&w->nseg, &v, 16); /* nseg, max_seg, seg_off = 0 */
	v = (gale_codec__v2u64){0, 0};
	memcpy(&w->idx, &v, 16); /* idx .. bool_pending: all zero */
#else
	w->cur = segs[0].base;
	w->end = segs[0].base + segs[0].cap;
	w->segs = segs;
	w->refill = refill;
	w->nseg = nseg;
	w->max_seg = max_seg < nseg ? nseg : max_seg;
	w->seg_off = 0;
	w->idx = 0;
	w->depth = 0;
	w->pending_fid = 0;
	w->last_fid = 0;
	w->reason = GALE_CODEC_E_OK;
	w->nonstrict = 0;
	w->bool_pending = 0;
#endif
	if (refill != NULL) /* read only to call refill: one store fewer per message without it */
		w->refill_arg = refill_arg;
	segs[0].len = 0;
}

/** Bytes written since init. */
static inline size_t
gale_codec_writer_offset(const struct gale_codec_writer *w)
{
	return w->seg_off + (size_t)(w->cur - w->segs[w->idx].base);
}

/** Slow path of gale_codec_write_raw(). Internal. */
GALE_CODEC_NOINLINE int
gale_codec__write_slow(struct gale_codec_writer *w, const void *src, size_t n);

/** Appends n raw bytes (src may be NULL when n is 0). */
static inline int
gale_codec_write_raw(struct gale_codec_writer *w, const void *src, size_t n)
{
	if (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= n)) {
		if (n != 0) /* memcpy from NULL is undefined even for 0 bytes; constant n folds this away */
			memcpy(w->cur, src, n);
		w->cur += n;
		return 0;
	}
	return gale_codec__write_slow(w, src, n);
}

/** Appends one byte. */
static inline int
gale_codec_write_u8(struct gale_codec_writer *w, uint8_t v)
{
	if (GALE_CODEC_LIKELY(w->cur < w->end)) {
		*w->cur++ = v;
		return 0;
	}
	return gale_codec__write_slow(w, &v, 1);
}

/** A reserved hole in the output, to be patched later. */
struct gale_codec_mark {
	size_t off; /**< stream offset of the hole */
	size_t len; /**< its size */
};

/** Reserves n bytes (they may straddle segments) and records where; fill them later with _patch(). */
int
gale_codec_writer_reserve(struct gale_codec_writer *w, size_t n, struct gale_codec_mark *m);

/** Writes n bytes (at most m->len) of src into the hole at m. Borrows src. */
void
gale_codec_writer_patch(struct gale_codec_writer *w, const struct gale_codec_mark *m, const void *src, size_t n);

/** Closes the current segment's len; returns the number of segments that hold data (at least 1). */
unsigned
gale_codec_writer_finish(struct gale_codec_writer *w);

/** Records `reason` on the writer and returns -1. For protocol code. */
GALE_CODEC_NOINLINE int
gale_codec_writer_fail(struct gale_codec_writer *w, int reason);

#endif /* GALE_CODEC_H */
