/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guard.h: test inputs placed flush against an inaccessible page, and cut into segments at every split point.
 *
 * picohttpparser's trick: a parser that reads one byte past its input touches a PROT_NONE page and the test dies
 * with SIGSEGV, even without ASan. gale_test_guard_chain() goes further for a segmented reader: it cuts the input
 * into chunks and puts every chunk against its own guard page, so reading past any segment's end (not just the
 * last) crashes. Reusable by any suite that feeds a decoder (codec, runtime framing, TCP reassembly).
 */
#ifndef GALE_TEST_GUARD_H
#define GALE_TEST_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include <gale/codec.h>

/** A reusable mapping: slots of data pages, each followed by a PROT_NONE page. */
struct gale_test_guard {
	uint8_t *map;       /**< the mapping */
	size_t map_len;     /**< its length */
	size_t slot_len;    /**< data bytes per slot (page multiple) */
	unsigned nslots;    /**< slots available */
	struct gale_codec_seg *segs; /**< segments of the last chain (malloc'd, nslots entries) */
};

/** Maps room for `nslots` chunks of up to `max_chunk` bytes each. Returns 0 or -errno. */
int
gale_test_guard_init(struct gale_test_guard *g, unsigned nslots, size_t max_chunk);

void
gale_test_guard_fini(struct gale_test_guard *g);

/** Copies src[0..len) flush against slot `slot`'s guard page; returns where it starts. */
const uint8_t *
gale_test_guard_put(struct gale_test_guard *g, unsigned slot, const void *src, size_t len);

/**
 * Cuts src[0..len) at the given cut points (sorted, strictly inside 0..len) and places each piece against its own
 * guard page. Returns the number of segments (ncuts + 1) and sets *segs, or -1 if the pieces do not fit.
 */
int
gale_test_guard_split(struct gale_test_guard *g, const void *src, size_t len, const size_t *cuts, unsigned ncuts,
		      const struct gale_codec_seg **segs);

/** Cuts src into chunks of `chunk` bytes (the last may be shorter), each against its own guard page. */
int
gale_test_guard_chain(struct gale_test_guard *g, const void *src, size_t len, size_t chunk,
		      const struct gale_codec_seg **segs);

#endif /* GALE_TEST_GUARD_H */
