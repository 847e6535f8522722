/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guard.c: guard-page placement for decoder tests (guard.h). Test code: uses mmap/mprotect/malloc freely.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"

int
gale_test_guard_init(struct gale_test_guard *g, unsigned nslots, size_t max_chunk)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned i;

	memset(g, 0, sizeof(*g));
	if (max_chunk == 0)
		max_chunk = 1;
	g->slot_len = (max_chunk + page - 1) / page * page;
	g->nslots = nslots;
	g->map_len = (g->slot_len + page) * nslots;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED) {
		g->map = NULL;
		return -errno;
	}
	for (i = 0; i < nslots; i++) {
		if (mprotect(g->map + i * (g->slot_len + page) + g->slot_len, page, PROT_NONE) != 0)
			return -errno;
	}
	g->segs = calloc(nslots, sizeof(*g->segs));
	return g->segs == NULL ? -ENOMEM : 0;
}

void
gale_test_guard_fini(struct gale_test_guard *g)
{
	if (g->map != NULL)
		munmap(g->map, g->map_len);
	free(g->segs);
	memset(g, 0, sizeof(*g));
}

const uint8_t *
gale_test_guard_put(struct gale_test_guard *g, unsigned slot, const void *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *end = g->map + slot * (g->slot_len + page) + g->slot_len;

	if (slot >= g->nslots || len > g->slot_len)
		abort();
	if (len != 0)
		memcpy(end - len, src, len);
	return end - len;
}

int
gale_test_guard_split(struct gale_test_guard *g, const void *src, size_t len, const size_t *cuts, unsigned ncuts,
		      const struct gale_codec_seg **segs)
{
	const uint8_t *s = src;
	size_t prev = 0;
	unsigned i;

	if (ncuts + 1 > g->nslots)
		return -1;
	for (i = 0; i <= ncuts; i++) {
		size_t next = i < ncuts ? cuts[i] : len;

		if (next < prev || next - prev > g->slot_len)
			return -1;
		g->segs[i].base = gale_test_guard_put(g, i, s + prev, next - prev);
		g->segs[i].len = next - prev;
		prev = next;
	}
	*segs = g->segs;
	return (int)ncuts + 1;
}

int
gale_test_guard_chain(struct gale_test_guard *g, const void *src, size_t len, size_t chunk,
		      const struct gale_codec_seg **segs)
{
	const uint8_t *s = src;
	unsigned i, n = (unsigned)((len + chunk - 1) / chunk);

	if (n == 0)
		n = 1;
	if (n > g->nslots || chunk > g->slot_len)
		return -1;
	for (i = 0; i < n; i++) {
		size_t off = (size_t)i * chunk, k = len - off < chunk ? len - off : chunk;

		if (len == 0)
			k = 0;
		g->segs[i].base = gale_test_guard_put(g, i, s + off, k);
		g->segs[i].len = k;
	}
	*segs = g->segs;
	return (int)n;
}
