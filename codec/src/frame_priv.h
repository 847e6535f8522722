/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frame_priv.h: what frame.c shares with the header transports (ttheader.c, theader.c).
 */
#ifndef GALE_FRAME_PRIV_H
#define GALE_FRAME_PRIV_H

#include <gale/codec.h>
#include <gale/frame.h>

/* Maps a reader failure to the decoder contract and copies the reason into f. */
int
gale_frame__fail(struct gale_frame *f, struct gale_codec_reader *r, int rc);

/* TTHeader or THeader (by f->transport): the reader is at the frame start. Returns total bytes, -2 or -1. */
long
gale_frame__decode_header(struct gale_codec_reader *r, struct gale_frame *f, struct gale_arena *arena);

/* Writes a TTHeader or THeader transport header, reserving the length word. */
int
gale_frame__encode_header(struct gale_codec_writer *w, struct gale_frame *f);

/* Decodes the variable part of each header kind; r is bounded to the frame, hend is the header's end offset. */
int
gale_frame__ttheader_info(struct gale_codec_reader *r, struct gale_frame *f, struct gale_arena *arena, size_t hend);
int
gale_frame__theader_info(struct gale_codec_reader *r, struct gale_frame *f, struct gale_arena *arena, size_t hend);

/* Header bytes (after the fixed 14) each kind needs for f, before padding; 0 with w->reason on overflow. */
size_t
gale_frame__ttheader_size(const struct gale_frame *f);
size_t
gale_frame__theader_size(const struct gale_frame *f);
int
gale_frame__ttheader_write(struct gale_codec_writer *w, const struct gale_frame *f);
int
gale_frame__theader_write(struct gale_codec_writer *w, const struct gale_frame *f);

#endif /* GALE_FRAME_PRIV_H */
