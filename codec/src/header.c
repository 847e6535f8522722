/* SPDX-License-Identifier: Apache-2.0 */
/*
 * header.c: the part TTHeader (Kitex, magic 0x1000) and THeader (Apache/fbthrift, magic 0x0FFF) share: the fixed
 * 14 bytes, the header-size word, and the placement of the payload. Their variable parts differ (u8/u16 fields
 * versus varints) and live in ttheader.c and theader.c.
 *
 *    0 u32 LENGTH       bytes after this word, checked against max_frame first
 *    4 u16 MAGIC        0x1000 or 0x0FFF
 *    6 u16 FLAGS
 *    8 u32 SEQID
 *   12 u16 HEADER SIZE  x4 = bytes of the variable header, from offset 14 to the payload
 *   14 ...              variable header (protocol id, transforms, info), zero-padded to a multiple of 4
 *   14+4*HEADER SIZE    payload: one unframed message
 *
 * The frame is bounded before the header is parsed, so every header read is either inside the frame or a
 * PAST_END error; reads are additionally checked against the header's own end (BAD_HEADER) so a header cannot
 * claim bytes of the payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <gale/codec.h>
#include <gale/frame.h>

#include "frame_priv.h"

long
gale_frame__decode_header(struct gale_codec_reader *r, struct gale_frame *f, struct gale_arena *arena)
{
	uint8_t fx[10];
	uint32_t len;
	uint16_t magic, hsize;
	size_t hend, off;
	int rc;

	if ((rc = gale_codec_read_raw(r, &len, 4)) != 0)
		return gale_frame__fail(f, r, rc);
	len = gale_codec_be32(len);
	if (len > r->limits.max_frame) {
		f->reason = GALE_CODEC_E_FRAME_LIMIT;
		return GALE_CODEC_MALFORMED;
	}
	if (len < 10) {
		f->reason = GALE_CODEC_E_FRAME_SIZE;
		return GALE_CODEC_MALFORMED;
	}
	if ((rc = gale_codec_reader_bound(r, len)) != 0)
		return rc;
	if ((rc = gale_codec_read_raw(r, fx, 10)) != 0)
		return gale_frame__fail(f, r, rc);
	magic = (uint16_t)(fx[0] << 8 | fx[1]);
	if (magic != (f->transport == GALE_TRANSPORT_TTHEADER ? GALE_TTHEADER_MAGIC : GALE_THEADER_MAGIC)) {
		f->reason = GALE_CODEC_E_BAD_MAGIC;
		return GALE_CODEC_MALFORMED;
	}
	f->flags = (uint16_t)(fx[2] << 8 | fx[3]);
	f->seqid = (int32_t)((uint32_t)fx[4] << 24 | (uint32_t)fx[5] << 16 | (uint32_t)fx[6] << 8 | fx[7]);
	hsize = (uint16_t)(fx[8] << 8 | fx[9]);
	if (10 + (size_t)hsize * 4 > len) {
		f->reason = GALE_CODEC_E_BAD_HEADER;
		return GALE_CODEC_MALFORMED;
	}
	hend = 14 + (size_t)hsize * 4;
	if (f->transport == GALE_TRANSPORT_TTHEADER)
		rc = gale_frame__ttheader_info(r, f, arena, hend);
	else
		rc = gale_frame__theader_info(r, f, arena, hend);
	if (rc != 0)
		return rc;
	off = gale_codec_reader_offset(r);
	if (off > hend) {
		f->reason = GALE_CODEC_E_BAD_HEADER;
		return GALE_CODEC_MALFORMED;
	}
	if ((rc = gale_codec_skip_raw(r, hend - off)) != 0)
		return gale_frame__fail(f, r, rc);
	f->payload_off = hend;
	f->payload_len = 4 + (size_t)len - hend;
	f->frame_len = 4 + (size_t)len;
	return (long)f->frame_len;
}

int
gale_frame__encode_header(struct gale_codec_writer *w, struct gale_frame *f)
{
	static const uint8_t zeros[4];
	uint8_t fx[10];
	size_t hlen, pad;
	uint16_t magic;
	int rc;

	if (f->transport == GALE_TRANSPORT_TTHEADER) {
		hlen = gale_frame__ttheader_size(f);
		magic = GALE_TTHEADER_MAGIC;
	} else {
		hlen = gale_frame__theader_size(f);
		magic = GALE_THEADER_MAGIC;
	}
	if (hlen == 0)
		return gale_codec_writer_fail(w, GALE_CODEC_E_TOO_LARGE);
	pad = (4 - hlen % 4) % 4;
	if ((hlen + pad) / 4 > UINT16_MAX)
		return gale_codec_writer_fail(w, GALE_CODEC_E_TOO_LARGE);
	if ((rc = gale_codec_writer_reserve(w, 4, &f->len_mark)) != 0)
		return rc;
	fx[0] = (uint8_t)(magic >> 8);
	fx[1] = (uint8_t)magic;
	fx[2] = (uint8_t)(f->flags >> 8);
	fx[3] = (uint8_t)f->flags;
	fx[4] = (uint8_t)((uint32_t)f->seqid >> 24);
	fx[5] = (uint8_t)((uint32_t)f->seqid >> 16);
	fx[6] = (uint8_t)((uint32_t)f->seqid >> 8);
	fx[7] = (uint8_t)f->seqid;
	fx[8] = (uint8_t)(((hlen + pad) / 4) >> 8);
	fx[9] = (uint8_t)((hlen + pad) / 4);
	if ((rc = gale_codec_write_raw(w, fx, 10)) != 0)
		return rc;
	if (f->transport == GALE_TRANSPORT_TTHEADER)
		rc = gale_frame__ttheader_write(w, f);
	else
		rc = gale_frame__theader_write(w, f);
	if (rc != 0)
		return rc;
	return gale_codec_write_raw(w, zeros, pad);
}
