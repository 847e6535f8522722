/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_binary: the binary protocol decoder on arbitrary bytes, cut into three segments at points taken from the input.
 * Invariants (fuzz_common.h): decode returns 0 or -1 with a reason, never reads outside a segment (ASan), never
 * allocates beyond the arena; a streaming skip agrees with the decoder; decode -> encode -> decode is the
 * identity on values.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_segs s;

	if (size < 2)
		return 0;
	fuzz_segs_make(&s, data + 2, size - 2, data[0], (size_t)data[1] * 3);
	fuzz_roundtrip(s.seg, s.n, size - 2, GALE_PROTO_BINARY);
	fuzz_segs_free(&s);
	return 0;
}
