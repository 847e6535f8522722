/* SPDX-License-Identifier: Apache-2.0 */
/* Open-loop pacing for gale-bench: set-up (the per-request part is inline in pacer.h). */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "pacer.h"

int
gale_pacer_init(struct gale_pacer *p, double rate_per_s, uint64_t start_ns, bool poisson, uint64_t seed)
{
	if (!(rate_per_s > 0) || !isfinite(rate_per_s))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->next_ns = start_ns;
	p->start_ns = start_ns;
	p->interval_ns = 1e9 / rate_per_s;
	p->poisson = poisson;
	p->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ull; /* xorshift state must not be 0 */
	return 0;
}
