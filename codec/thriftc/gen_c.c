/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder */
#include "thriftc.h"

int
gale__tc_gen_c(struct tc_ctx *ctx, struct tc_file *f, const char *outdir, const char *options)
{
	(void)ctx;
	(void)f;
	(void)outdir;
	(void)options;
	return 0;
}
