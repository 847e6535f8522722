/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gale-thriftc: the Thrift IDL compiler of gale, usable on its own (as Thriftgo is to Kitex).
 *
 *   gale-thriftc [-I DIR]... [-o OUTDIR] [--gen c[:OPTIONS]] [-r] [--plugin=NAME=PROGRAM]... FILE.thrift
 *
 * Exit status: 0 success, 1 errors in the IDL (or a failed plugin / unwritable output), 2 usage errors.
 * All diagnostics go to stderr as `file:line:col: error: message`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "thriftc.h"

static void
gale__tc_usage(FILE *out)
{
	fputs("usage: gale-thriftc [options] FILE.thrift\n"
	      "Compiles a Thrift IDL file into C (one .h and .c per IDL file) for gale.\n"
	      "\n"
	      "  -I, --include DIR        add DIR to the include search path (after the including file's dir)\n"
	      "  -o, --out DIR            write generated files into DIR (default: current directory)\n"
	      "      --gen LANG[:OPTS]    generator: c (alias gale); OPTS is a comma-separated list\n"
	      "  -r, --recurse            also generate code for every included file\n"
	      "      --plugin NAME=PROG   run PROG (via /bin/sh -c) with the checked AST as JSON on stdin;\n"
	      "                           it replies {\"files\":[{\"name\":..,\"content\":..}]} on stdout\n"
	      "      --dump-ast           print the checked AST as JSON on stdout, generate nothing\n"
	      "      --check              parse and check only, generate nothing\n"
	      "  -q, --quiet              do not print warnings\n"
	      "  -h, --help               this text\n"
	      "  -V, --version            print the version\n"
	      "\n"
	      "Exit status: 0 success, 1 errors in the IDL, 2 usage errors.\n",
	      out);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "include", required_argument, NULL, 'I' },
		{ "out", required_argument, NULL, 'o' },
		{ "gen", required_argument, NULL, 'g' },
		{ "recurse", no_argument, NULL, 'r' },
		{ "plugin", required_argument, NULL, 'p' },
		{ "dump-ast", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct tc_ctx ctx;
	struct tc_vec plugins = { 0 };
	const char *outdir = ".", *gen_opts = "";
	bool recurse = false, dump = false, check_only = false, quiet = false;
	struct tc_file *root;
	struct tc_loc none = { NULL, 0, 0 };
	struct stat st;
	int c, rc = 0;
	size_t i;

	gale__tc_ctx_init(&ctx);
	while ((c = getopt_long(argc, argv, "I:o:rqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'I':
			gale__tc_vec_push(&ctx, &ctx.incdirs, optarg);
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'g': {
			const char *colon = strchr(optarg, ':');
			size_t n = colon ? (size_t)(colon - optarg) : strlen(optarg);

			if (!((n == 1 && optarg[0] == 'c') || (n == 4 && memcmp(optarg, "gale", 4) == 0))) {
				fprintf(stderr, "gale-thriftc: unknown generator '%.*s' (known: c, gale)\n", (int)n,
					optarg);
				gale__tc_ctx_free(&ctx);
				return 2;
			}
			gen_opts = colon ? colon + 1 : "";
			break;
		}
		case 'r':
			recurse = true;
			break;
		case 'p':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
				fprintf(stderr, "gale-thriftc: --plugin wants NAME=PROGRAM\n");
				gale__tc_ctx_free(&ctx);
				return 2;
			}
			gale__tc_vec_push(&ctx, &plugins, optarg);
			break;
		case 'd':
			dump = true;
			break;
		case 'c':
			check_only = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			gale__tc_usage(stdout);
			gale__tc_ctx_free(&ctx);
			return 0;
		case 'V':
			printf("gale-thriftc %s\n", GALE_THRIFTC_VERSION);
			gale__tc_ctx_free(&ctx);
			return 0;
		default:
			gale__tc_usage(stderr);
			gale__tc_ctx_free(&ctx);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "gale-thriftc: %s\n", optind >= argc ? "no input file" : "exactly one input file");
		gale__tc_usage(stderr);
		gale__tc_ctx_free(&ctx);
		return 2;
	}
	ctx.quiet = quiet;
	if (!dump && !check_only && (stat(outdir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "gale-thriftc: output directory '%s' does not exist\n", outdir);
		gale__tc_ctx_free(&ctx);
		return 2;
	}
	root = gale__tc_parse_file(&ctx, argv[optind], none);
	if (root == NULL || ctx.nerrors > 0 || gale__tc_check(&ctx) != 0) {
		gale__tc_ctx_free(&ctx);
		return 1;
	}
	if (dump) {
		gale__tc_json_program(&ctx, root, stdout);
		gale__tc_ctx_free(&ctx);
		return 0;
	}
	if (check_only) {
		gale__tc_ctx_free(&ctx);
		return 0;
	}
	for (i = 0; i < ctx.files.n && rc == 0; i++) {
		struct tc_file *f = ctx.files.v[i];

		if (f != root && !recurse)
			continue;
		if (gale__tc_gen_c(&ctx, f, outdir, gen_opts) != 0)
			rc = 1;
	}
	for (i = 0; i < plugins.n && rc == 0; i++)
		if (gale__tc_run_plugin(&ctx, root, plugins.v[i], outdir) != 0)
			rc = 1;
	gale__tc_ctx_free(&ctx);
	return rc;
}
