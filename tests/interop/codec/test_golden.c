/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_golden: gale against Apache Thrift's own bytes (acceptance 1).
 *
 * run_golden.sh has python3-thrift write the vectors into a temp dir (golden.py); this program then, for every
 * vector: detects transport and protocol from the bytes (guard-page placed), decodes the frame and the message
 * with gale into a value tree, compares the tree's dump with the dump Apache Thrift's reader produced, re-encodes
 * the same values with gale through a writer of 4 KiB segments and compares the bytes with Apache's, and, for the
 * EXCEPTION message, reads it as a TApplicationException. Then it splits Apache's bytes: every prefix must make
 * the frame decoder say -2, and every two-segment split and a chain of small segments (each piece against its
 * own guard page) must decode to the same values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gale/appex.h>
#include <gale/binary.h>
#include <gale/compact.h>
#include <gale/frame.h>
#include <gale/proto.h>

#include "guard.h"
#include "tv.h"

static int failures;

#define CHECK(cond, ...)                                                                                       \
	do {                                                                                                   \
		if (!(cond)) {                                                                                 \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                        \
			fprintf(stderr, __VA_ARGS__);                                                          \
			fprintf(stderr, "\n");                                                                 \
			failures++;                                                                            \
			return;                                                                                \
		}                                                                                              \
	} while (0)

static uint8_t *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

#define WSEG 4096
#define MAX_WSEG 1024

/*
 * Acceptance 2 on Apache's own bytes: every prefix says -2, and every two-segment split (inputs up to 4 KiB; 64
 * spread split points for larger ones) and a chain of small segments decode to the same values, each segment
 * against its own guard page.
 */
static int
decode_dump(const struct gale_codec_seg *segs, unsigned nseg, size_t len, void *arena_mem, size_t arena_len,
	    char *out, size_t cap)
{
	struct gale_arena arena;
	struct gale_frame f;
	struct gale_codec_reader r;
	struct gale_test_tv_msg m;

	gale_arena_init(&arena, arena_mem, arena_len);
	memset(&f, 0, sizeof(f));
	if (gale_frame_decode(segs, nseg, NULL, &arena, &f) != (long)len)
		return -1;
	if (gale_frame_payload_reader(&f, segs, nseg, NULL, &arena, &r) != 0 ||
	    gale_test_tv_read_msg(&r, f.proto, &arena, &m) != 0)
		return -1;
	gale_test_tv_dump_msg(&m, out, cap);
	return 0;
}

static void
splits(const char *bin, const uint8_t *data, size_t len, const char *want, struct gale_test_guard *g2,
       struct gale_test_guard *gc, void *arena_mem, size_t arena_len, char *dumpbuf, size_t dumpcap)
{
	const struct gale_codec_seg *segs;
	struct gale_codec_seg seg;
	struct gale_frame f;
	size_t k, step = len <= 4096 ? 1 : len / 64, chunk = len <= 4096 ? 7 : 4096, prefixes = 0, nsplit = 0;
	int n;

	for (k = 0; k < len; k += (len <= 4096 ? 1 : step)) {
		seg.base = gale_test_guard_put(g2, 0, data, k);
		seg.len = k;
		memset(&f, 0, sizeof(f));
		CHECK(gale_frame_decode(&seg, 1, NULL, NULL, &f) == GALE_CODEC_NEED_MORE, "%s: prefix %zu not -2", bin,
		      k);
		prefixes++;
	}
	for (k = 1; k < len; k += step) {
		n = gale_test_guard_split(g2, data, len, &k, 1, &segs);
		CHECK(n == 2, "%s: split placement", bin);
		CHECK(decode_dump(segs, 2, len, arena_mem, arena_len, dumpbuf, dumpcap) == 0 &&
			      strcmp(dumpbuf, want) == 0,
		      "%s: split at %zu decodes differently", bin, k);
		nsplit++;
	}
	n = gale_test_guard_chain(gc, data, len, chunk, &segs);
	CHECK(n > 0, "%s: chain placement", bin);
	CHECK(decode_dump(segs, (unsigned)n, len, arena_mem, arena_len, dumpbuf, dumpcap) == 0 &&
		      strcmp(dumpbuf, want) == 0,
	      "%s: %zu-byte segments decode differently", bin, chunk);
	printf("   %s: %zu prefixes -2, %zu splits and %d segments of %zu decode the same\n", bin, prefixes, nsplit,
	       n, chunk);
}

static void
one(const char *dir, const char *bin, const char *dumpf, const char *proto_s, const char *transport_s, int ns,
    struct gale_test_guard *g, struct gale_test_guard *g2, struct gale_test_guard *gc, void *arena_mem,
    size_t arena_len, char *dumpbuf, size_t dumpcap)
{
	size_t len, dlen, off, i;
	uint8_t *data = slurp(dir, bin, &len);
	char *want = (char *)slurp(dir, dumpf, &dlen);
	int proto = strcmp(proto_s, "compact") == 0 ? GALE_PROTO_COMPACT : GALE_PROTO_BINARY;
	int transport = strcmp(transport_s, "framed") == 0   ? GALE_TRANSPORT_FRAMED :
			strcmp(transport_s, "buffered") == 0 ? GALE_TRANSPORT_BUFFERED :
							       GALE_TRANSPORT_THEADER;
	struct gale_codec_seg seg;
	struct gale_frame f, out;
	struct gale_arena arena;
	struct gale_codec_reader r;
	struct gale_test_tv_msg m;
	static struct gale_codec_wseg wsegs[MAX_WSEG];
	static uint8_t wmem[MAX_WSEG][WSEG];
	struct gale_codec_writer w;
	unsigned nw;
	long rc;
	int rci;

	gale_arena_init(&arena, arena_mem, arena_len);
	seg.base = gale_test_guard_put(g, 0, data, len);
	seg.len = len;
	memset(&f, 0, sizeof(f));
	rc = gale_frame_decode(&seg, 1, NULL, &arena, &f);
	CHECK(rc == (long)len, "%s: frame decode returned %ld (reason %s), want %zu", bin, rc,
	      gale_codec_strerror(f.reason), len);
	CHECK(f.transport == transport, "%s: detected transport %s", bin, gale_frame_transport_str(f.transport));
	CHECK(f.proto == proto, "%s: detected protocol %d", bin, f.proto);
	CHECK(f.nonstrict == ns, "%s: detected nonstrict %d", bin, f.nonstrict);
	rci = gale_frame_payload_reader(&f, &seg, 1, NULL, &arena, &r);
	CHECK(rci == 0, "%s: payload reader %d", bin, rci);
	rci = gale_test_tv_read_msg(&r, proto, &arena, &m);
	CHECK(rci == 0, "%s: message decode %d (%s)", bin, rci, gale_codec_strerror(r.reason));
	CHECK(gale_codec_reader_offset(&r) == f.payload_off + f.payload_len, "%s: message ends at %zu of %zu", bin,
	      gale_codec_reader_offset(&r), f.payload_off + f.payload_len);
	gale_test_tv_dump_msg(&m, dumpbuf, dumpcap);
	if (strcmp(dumpbuf, want) != 0) {
		for (i = 0; dumpbuf[i] == want[i]; i++)
			;
		CHECK(0, "%s: values differ from Apache's at dump offset %zu:\n gale:   %.120s\n apache: %.120s", bin,
		      i, dumpbuf + (i > 20 ? i - 20 : 0), want + (i > 20 ? i - 20 : 0));
	}
	if (m.type == GALE_MSG_EXCEPTION) {
		struct gale_appex ex;
		struct gale_codec_bytes name;
		uint8_t type;
		int32_t seqid;

		gale_frame_payload_reader(&f, &seg, 1, NULL, &arena, &r);
		rci = gale_proto_ops(proto)->read_message_begin(&r, &name, &type, &seqid);
		CHECK(rci == 0, "%s: appex envelope %d", bin, rci);
		rci = gale_appex_read(&r, gale_proto_ops(proto), &ex);
		CHECK(rci == 0 && ex.type == GALE_APPEX_INTERNAL_ERROR && ex.message.len == 4 &&
			      memcmp(ex.message.ptr, "boom", 4) == 0,
		      "%s: appex rc %d type %d", bin, rci, ex.type);
	}

	/* Re-encode the same values with gale, through 4 KiB segments, and compare with Apache's bytes. */
	for (i = 0; i < MAX_WSEG; i++) {
		wsegs[i].base = wmem[i];
		wsegs[i].cap = WSEG;
	}
	gale_codec_writer_init(&w, wsegs, MAX_WSEG, MAX_WSEG, NULL, NULL);
	memset(&out, 0, sizeof(out));
	out.transport = f.transport;
	out.proto = f.proto;
	out.nonstrict = f.nonstrict;
	out.flags = f.flags;
	out.seqid = f.seqid;
	out.strkv = f.strkv;
	out.n_strkv = f.n_strkv;
	rci = gale_frame_encode_begin(&w, &out);
	CHECK(rci == 0, "%s: encode begin %d", bin, rci);
	rci = gale_test_tv_write_msg(&w, proto, &m);
	CHECK(rci == 0, "%s: encode %d (%s)", bin, rci, gale_codec_strerror(w.reason));
	rci = gale_frame_encode_end(&w, &out, NULL);
	CHECK(rci == 0, "%s: encode end %d", bin, rci);
	nw = gale_codec_writer_finish(&w);
	CHECK(gale_codec_writer_offset(&w) == len, "%s: gale wrote %zu bytes, Apache %zu", bin,
	      gale_codec_writer_offset(&w), len);
	off = 0;
	for (i = 0; i < nw; i++) {
		size_t k;

		for (k = 0; k < wsegs[i].len; k++, off++) {
			CHECK(wsegs[i].base[k] == data[off], "%s: byte %zu: gale %02x, Apache %02x", bin, off,
			      wsegs[i].base[k], data[off]);
		}
	}
	CHECK(off == len, "%s: segments hold %zu bytes", bin, off);
	printf("ok %s (%zu bytes)\n", bin, len);
	{
		char *want_copy = strdup(want);

		CHECK(want_copy != NULL, "oom");
		splits(bin, data, len, want_copy, g2, gc, arena_mem, arena_len, dumpbuf, dumpcap);
		free(want_copy);
	}
	free(data);
	free(want);
}

int
main(int argc, char **argv)
{
	char line[1024], bin[256], dumpf[256], proto[32], transport[32];
	struct gale_test_guard g, g2, gc;
	size_t arena_len = 64u << 20, dumpcap = 8u << 20;
	void *arena_mem = malloc(arena_len);
	char *dumpbuf = malloc(dumpcap);
	int ns, n = 0;
	FILE *mf;

	if (argc != 2) {
		fprintf(stderr, "usage: test_golden VECTOR_DIR\n");
		return 2;
	}
	snprintf(line, sizeof(line), "%s/manifest", argv[1]);
	mf = fopen(line, "r");
	if (mf == NULL || arena_mem == NULL || dumpbuf == NULL || gale_test_guard_init(&g, 1, 4u << 20) != 0 ||
	    gale_test_guard_init(&g2, 2, 4u << 20) != 0 || gale_test_guard_init(&gc, 1024, 4096) != 0) {
		fprintf(stderr, "cannot open %s or allocate\n", line);
		return 1;
	}
	while (fgets(line, sizeof(line), mf) != NULL) {
		if (sscanf(line, "%255s %255s %31s %31s %d", bin, dumpf, proto, transport, &ns) != 5)
			continue;
		one(argv[1], bin, dumpf, proto, transport, ns, &g, &g2, &gc, arena_mem, arena_len, dumpbuf, dumpcap);
		n++;
	}
	fclose(mf);
	gale_test_guard_fini(&g);
	gale_test_guard_fini(&g2);
	gale_test_guard_fini(&gc);
	free(arena_mem);
	free(dumpbuf);
	printf("%d vectors, %d failures\n", n, failures);
	return failures != 0 || n == 0;
}
