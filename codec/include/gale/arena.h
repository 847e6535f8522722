/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale/arena.h: a bump allocator over caller-supplied memory.
 *
 * The codec never calls malloc. Decoded strings and binaries are views into the input segments when they are
 * contiguous; when a value straddles a segment boundary it is copied into an arena the caller hands to the reader
 * (the runtime uses one arena per request and resets it when the reply is sent). Generated code also takes the
 * arrays of decoded lists, sets and maps from the same arena, after the reader has checked the element count
 * against the limits and against the bytes left in the frame, so a hostile count never reaches this allocator.
 *
 * Invariants: base..base+size is the caller's memory; used <= size; an allocation either returns a pointer
 * aligned to `align` (a power of two) with `n` bytes free behind it, or NULL and leaves the arena unchanged.
 * The arena never frees individual objects: gale_arena_reset() drops everything at once.
 */
#ifndef GALE_ARENA_H
#define GALE_ARENA_H

#include <stddef.h>
#include <stdint.h>

/** A bump allocator; embed it anywhere, initialise with gale_arena_init(). */
struct gale_arena {
	uint8_t *base; /**< start of the caller's memory (borrowed, never freed here) */
	size_t size;   /**< bytes at base */
	size_t used;   /**< bytes handed out so far, including alignment padding */
	size_t high;   /**< high-water mark of used, for sizing arenas in production */
};

/** Borrows `mem` (size bytes) for the arena's lifetime. mem may be NULL when size is 0 (an empty arena). */
static inline void
gale_arena_init(struct gale_arena *a, void *mem, size_t size)
{
	a->base = (uint8_t *)mem;
	a->size = mem != NULL ? size : 0;
	a->used = 0;
	a->high = 0;
}

/** Forgets every allocation; the memory is reused by the next ones. */
static inline void
gale_arena_reset(struct gale_arena *a)
{
	a->used = 0;
}

/**
 * Returns `n` bytes aligned to `align` (a power of two, at most 4096), or NULL when the arena (or a NULL
 * arena pointer) cannot hold them. Never touches memory outside the arena.
 */
static inline void *
gale_arena_alloc(struct gale_arena *a, size_t n, size_t align)
{
	uintptr_t p, q;

	if (a == NULL || a->base == NULL)
		return NULL;
	p = (uintptr_t)a->base + a->used;
	q = (p + (align - 1)) & ~(uintptr_t)(align - 1);
	if (q - (uintptr_t)a->base > a->size || a->size - (q - (uintptr_t)a->base) < n)
		return NULL;
	a->used = (size_t)(q - (uintptr_t)a->base) + n;
	if (a->used > a->high)
		a->high = a->used;
	return (void *)q;
}

/** Bytes still free (ignoring alignment). */
static inline size_t
gale_arena_avail(const struct gale_arena *a)
{
	return a == NULL ? 0 : a->size - a->used;
}

#endif /* GALE_ARENA_H */
