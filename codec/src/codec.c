/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.c: the slow paths of the segmented reader and writer (<gale/codec.h>).
 *
 * The inline fast paths handle a value that lies inside the current segment. Everything here runs only when a
 * value straddles a boundary, the input runs out, or an error is reported, so it favours clarity: walk segment by
 * segment, never read past a segment's len or past r->stop. The invariant kept by every function: r->cur and
 * r->end lie in r->seg (end = base + min(len, stop - seg_off)), and when the reader is exhausted r->seg is the
 * last segment that was entered (so gale_codec_reader_offset() stays right).
 *
 * A slow read first checks that all n bytes are present (walking ahead without moving), and only then copies and
 * advances: a failed read leaves the reader where it was, which is what lets a caller retry after more input.
 * The same rule keeps an arena copy from being made for a value that has not fully arrived.
 *
 * gale_codec_reader_init() and gale_codec_writer_init() are inline in <gale/codec.h> for the common case (one
 * call per message each); only what they leave (explicit limits, no segment yet) is here, as the _slow
 * functions. Measured with callgrind on perf/codec's echo-1KiB binary round trip: 456 -> 402 instructions.
 * What bounds that round trip next to its payload's copy is the work around it: instructions (past the few
 * dozen that hide under the copy, ~0.08 ns each here) and stores, and the latency of values the next function
 * loads back. The inits store their fields in 16-byte pairs (reader 6 -> 5 stores, writer 9 -> 5; data writes
 * per echo round trip 76 -> 72 -> 63 with the other changes of that commit series), but views stay two scalar
 * stores: a vector store read back into general registers at once cost more than the store it saved.
 */
#include <stdint.h>
#include <string.h>

#include <gale/codec.h>

static const char *const reason_text[] = {
#define GALE__REASON_TEXT(name, text) text,
	GALE_CODEC_REASONS(GALE__REASON_TEXT)
#undef GALE__REASON_TEXT
};

const char *
gale_codec_strerror(int reason)
{
	if (reason < 0 || reason >= GALE_CODEC_E__COUNT)
		return "unknown codec error";
	return reason_text[reason];
}

void
gale_codec_limits_default(struct gale_codec_limits *l)
{
	l->max_frame = GALE_CODEC_DEFAULT_MAX_FRAME;
	l->max_string = GALE_CODEC_DEFAULT_MAX_FRAME;
	l->max_container = GALE_CODEC_DEFAULT_MAX_FRAME;
	l->max_depth = GALE_CODEC_DEFAULT_MAX_DEPTH;
}

static void
resolve_limits(struct gale_codec_limits *dst, const struct gale_codec_limits *src)
{
	gale_codec_limits_default(dst);
	if (src == NULL)
		return;
	if (src->max_frame != 0)
		dst->max_frame = src->max_frame;
	dst->max_string = src->max_string != 0 ? src->max_string : dst->max_frame;
	dst->max_container = src->max_container != 0 ? src->max_container : dst->max_frame;
	if (src->max_depth != 0)
		dst->max_depth = src->max_depth;
	if (dst->max_depth > GALE_CODEC_DEPTH_CAP)
		dst->max_depth = GALE_CODEC_DEPTH_CAP;
}

/* Points cur/end at segment s (whose stream offset is off), clipped at r->stop. */
static void
enter_seg(struct gale_codec_reader *r, const struct gale_codec_seg *s, size_t off)
{
	size_t len = s->len;

	r->seg = s;
	r->seg_off = off;
	if (off >= r->stop)
		len = 0;
	else if (r->stop - off < len)
		len = r->stop - off;
	r->cur = s->base;
	r->end = s->base + len;
}

static const uint8_t empty_byte;
static const struct gale_codec_seg empty_seg = {&empty_byte, 0};

void
gale_codec__reader_init_slow(struct gale_codec_reader *r, const struct gale_codec_seg *segs, unsigned nseg,
			     const struct gale_codec_limits *limits, struct gale_arena *arena)
{
	/* Field by field rather than a memset: this runs once per request and shows in the benchmark. */
	static const struct gale_codec_limits defaults = {
		GALE_CODEC_DEFAULT_MAX_FRAME, GALE_CODEC_DEFAULT_MAX_FRAME, GALE_CODEC_DEFAULT_MAX_FRAME,
		GALE_CODEC_DEFAULT_MAX_DEPTH};

	if (limits == NULL)
		r->limits = defaults;
	else
		resolve_limits(&r->limits, limits);
	r->depth = 0;
	r->final = 0;
	r->reason = GALE_CODEC_E_OK;
	r->bool_pending = 0;
	r->bool_value = 0;
	r->nonstrict = 0;
	r->last_fid = 0;
	r->arena = arena;
	r->stop = SIZE_MAX;
	if (nseg == 0 || segs == NULL) {
		r->segs_end = &empty_seg + 1;
		enter_seg(r, &empty_seg, 0);
		return;
	}
	r->segs_end = segs + nseg;
	enter_seg(r, segs, 0);
}

int
gale_codec_reader_fail(struct gale_codec_reader *r, int reason)
{
	r->reason = (uint8_t)reason;
	return reason == GALE_CODEC_E_NEED_MORE ? GALE_CODEC_NEED_MORE : GALE_CODEC_MALFORMED;
}

/* Out of input: need more, or past the end when the reader is final. */
static int
ran_out(struct gale_codec_reader *r)
{
	return gale_codec_reader_fail(r, r->final ? GALE_CODEC_E_PAST_END : GALE_CODEC_E_NEED_MORE);
}

/* Are n bytes readable from the current position? Walks ahead without moving. */
static int
have(const struct gale_codec_reader *r, size_t n)
{
	const struct gale_codec_seg *s = r->seg;
	size_t avail = (size_t)(r->end - r->cur);
	size_t off = r->seg_off + s->len;

	while (avail < n) {
		size_t len;

		if (++s >= r->segs_end || off >= r->stop)
			return 0;
		len = s->len;
		if (r->stop - off < len)
			len = r->stop - off;
		avail += len;
		off += s->len;
	}
	return 1;
}

size_t
gale_codec_reader_remaining(const struct gale_codec_reader *r)
{
	const struct gale_codec_seg *s = r->seg;
	size_t avail = (size_t)(r->end - r->cur);
	size_t off = r->seg_off + s->len;

	while (++s < r->segs_end && off < r->stop) {
		size_t len = s->len;

		if (r->stop - off < len)
			len = r->stop - off;
		avail += len;
		off += s->len;
	}
	return avail;
}

/* Copies (dst != NULL) or skips n bytes known to be present, moving across segments. */
static void
take(struct gale_codec_reader *r, uint8_t *dst, size_t n)
{
	for (;;) {
		size_t k = (size_t)(r->end - r->cur);

		if (k > n)
			k = n;
		if (dst != NULL && k != 0) {
			memcpy(dst, r->cur, k);
			dst += k;
		}
		r->cur += k;
		n -= k;
		if (n == 0 && r->cur < r->end)
			return;
		/* Segment done: step to the next one that exists (stay on the last so offsets stay right). */
		if (r->seg + 1 >= r->segs_end || r->seg_off + r->seg->len >= r->stop) {
			return;
		}
		enter_seg(r, r->seg + 1, r->seg_off + r->seg->len);
		if (n == 0 && r->cur < r->end)
			return;
	}
}

int
gale_codec__read_slow(struct gale_codec_reader *r, void *dst, size_t n)
{
	if (!have(r, n))
		return ran_out(r);
	take(r, (uint8_t *)dst, n);
	return 0;
}

int
gale_codec__skip_slow(struct gale_codec_reader *r, size_t n)
{
	if (!have(r, n))
		return ran_out(r);
	take(r, NULL, n);
	return 0;
}

int
gale_codec__view_slow(struct gale_codec_reader *r, size_t n, struct gale_codec_bytes *out)
{
	uint8_t *p;

	if (!have(r, n))
		return ran_out(r);
	/* Empty current segment (boundary exactly here): the value may still be contiguous in the next one. */
	while (r->cur == r->end && n != 0 && r->seg + 1 < r->segs_end && r->seg_off + r->seg->len < r->stop)
		enter_seg(r, r->seg + 1, r->seg_off + r->seg->len);
	if ((size_t)(r->end - r->cur) >= n) {
		out->ptr = n != 0 ? r->cur : NULL;
		out->len = (uint32_t)n;
		take(r, NULL, n);
		return 0;
	}
	p = gale_arena_alloc(r->arena, n, 1);
	if (p == NULL)
		return gale_codec_reader_fail(r, GALE_CODEC_E_ARENA_FULL);
	take(r, p, n);
	out->ptr = p;
	out->len = (uint32_t)n;
	return 0;
}

int
gale_codec_reader_bound(struct gale_codec_reader *r, size_t len)
{
	size_t off = gale_codec_reader_offset(r);

	if (!have(r, len))
		return gale_codec_reader_fail(r, GALE_CODEC_E_NEED_MORE);
	r->stop = off + len;
	r->final = 1;
	/* Re-clip the current segment; cur stays where it is. */
	{
		const uint8_t *cur = r->cur;

		enter_seg(r, r->seg, r->seg_off);
		r->cur = cur;
	}
	return 0;
}

size_t
gale_codec_reader_peek(const struct gale_codec_reader *r, void *dst, size_t n)
{
	struct gale_codec_reader copy;
	size_t avail = gale_codec_reader_remaining(r);

	if (n > avail)
		n = avail;
	/* Only the positional fields matter to take(); copy those, not the field-id stack. */
	memcpy(&copy, r, offsetof(struct gale_codec_reader, fid_stack));
	take(&copy, (uint8_t *)dst, n);
	return n;
}

/* ---- writer ---- */

static void
wenter(struct gale_codec_writer *w, unsigned idx, size_t off)
{
	w->idx = idx;
	w->seg_off = off;
	w->segs[idx].len = 0;
	w->cur = w->segs[idx].base;
	w->end = w->segs[idx].base + w->segs[idx].cap;
}

void
gale_codec__writer_init_slow(struct gale_codec_writer *w, struct gale_codec_wseg *segs, unsigned nseg,
			     unsigned max_seg, gale_codec_refill_cb_t refill, void *refill_arg)
{
	/* Field by field rather than a memset: once per reply, and it shows in the benchmark. */
	w->idx = 0;
	w->seg_off = 0;
	w->reason = GALE_CODEC_E_OK;
	w->bool_pending = 0;
	w->depth = 0;
	w->pending_fid = 0;
	w->last_fid = 0;
	w->segs = segs;
	w->nseg = nseg;
	w->max_seg = max_seg < nseg ? nseg : max_seg;
	w->refill = refill;
	w->refill_arg = refill_arg;
	w->nonstrict = 0;
	if (nseg == 0) {
		/* Nothing yet: the first write asks refill for segs[0]. Until then segs[0] is an empty stand-in. */
		static uint8_t none_byte;
		static struct gale_codec_wseg none = {&none_byte, 0, 0};

		if (w->max_seg == 0)
			w->segs = &none;
		else
			segs[0] = none;
		w->cur = w->end = w->segs[0].base;
		return;
	}
	wenter(w, 0, 0);
}

int
gale_codec_writer_fail(struct gale_codec_writer *w, int reason)
{
	w->reason = (uint8_t)reason;
	return GALE_CODEC_MALFORMED;
}

/* Moves to the next segment, asking refill when the given ones are used up. */
static int
wnext(struct gale_codec_writer *w)
{
	size_t off;
	unsigned next;

	w->segs[w->idx].len = (size_t)(w->cur - w->segs[w->idx].base);
	off = w->seg_off + w->segs[w->idx].len;
	next = w->nseg == 0 ? 0 : w->idx + 1;
	if (next >= w->nseg) {
		if (w->refill == NULL || next >= w->max_seg)
			return gale_codec_writer_fail(w, GALE_CODEC_E_NO_SPACE);
		if (w->refill(w->refill_arg, &w->segs[next]) != 0 || w->segs[next].base == NULL)
			return gale_codec_writer_fail(w, GALE_CODEC_E_NO_SPACE);
		w->nseg = next + 1;
	}
	wenter(w, next, off);
	return 0;
}

int
gale_codec__write_slow(struct gale_codec_writer *w, const void *src, size_t n)
{
	const uint8_t *s = (const uint8_t *)src;

	for (;;) {
		size_t k = (size_t)(w->end - w->cur);

		if (k > n)
			k = n;
		if (k != 0) {
			if (s != NULL) {
				memcpy(w->cur, s, k);
				s += k;
			}
			w->cur += k;
			n -= k;
		}
		if (n == 0)
			return 0;
		if (wnext(w) != 0)
			return GALE_CODEC_MALFORMED;
	}
}

int
gale_codec_writer_reserve(struct gale_codec_writer *w, size_t n, struct gale_codec_mark *m)
{
	m->off = gale_codec_writer_offset(w);
	m->len = n;
	if (GALE_CODEC_LIKELY((size_t)(w->end - w->cur) >= n)) {
		memset(w->cur, 0, n);
		w->cur += n;
		return 0;
	}
	/* Across segments: the bytes are left as they are, to be patched. */
	return gale_codec__write_slow(w, NULL, n);
}

void
gale_codec_writer_patch(struct gale_codec_writer *w, const struct gale_codec_mark *m, const void *src, size_t n)
{
	const uint8_t *s = (const uint8_t *)src;
	size_t off = 0, pos = m->off;
	unsigned i;

	if (n > m->len)
		n = m->len;
	w->segs[w->idx].len = (size_t)(w->cur - w->segs[w->idx].base);
	for (i = 0; i <= w->idx && n != 0; i++) {
		size_t len = w->segs[i].len;

		if (pos < off + len) {
			size_t k = off + len - pos;

			if (k > n)
				k = n;
			memcpy(w->segs[i].base + (pos - off), s, k);
			s += k;
			pos += k;
			n -= k;
		}
		off += len;
	}
}

unsigned
gale_codec_writer_finish(struct gale_codec_writer *w)
{
	unsigned i, used = 0;

	if (w->nseg == 0)
		return 0;
	w->segs[w->idx].len = (size_t)(w->cur - w->segs[w->idx].base);
	for (i = 0; i <= w->idx; i++) {
		if (w->segs[i].len != 0)
			used = i + 1;
	}
	return used == 0 ? 1 : used;
}
