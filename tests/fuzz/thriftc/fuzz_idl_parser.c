/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target on gale-thriftc's front end: the input is one IDL file (no includes resolve: the loader knows
 * only the input), run through the lexer, parser and semantic pass, then the JSON writer when it checks clean.
 * Any crash, over-read, leak or hang is a bug; errors are the expected outcome for most inputs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thriftc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_input {
	const uint8_t *data;
	size_t size;
};

static int
fuzz_load(void *arg, const char *path, char **out, size_t *len)
{
	const struct fuzz_input *in = arg;

	if (strcmp(path, "fuzz.thrift") != 0)
		return -2;
	*out = malloc(in->size ? in->size : 1);
	if (*out == NULL)
		return -12;
	if (in->size)
		memcpy(*out, in->data, in->size);
	*len = in->size;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct tc_loc none = { NULL, 0, 0 };
	struct tc_ctx ctx;
	struct tc_file *root;

	if (size > 65536)
		return 0;
	gale__tc_ctx_init(&ctx);
	ctx.diag = NULL;
	ctx.load = fuzz_load;
	ctx.load_arg = &in;
	root = gale__tc_parse_file(&ctx, "fuzz.thrift", none);
	if (root != NULL && ctx.nerrors == 0 && gale__tc_check(&ctx) == 0) {
		FILE *null = fopen("/dev/null", "w");

		if (null != NULL) {
			gale__tc_json_program(&ctx, root, null);
			fclose(null);
		}
	}
	gale__tc_ctx_free(&ctx);
	return 0;
}
