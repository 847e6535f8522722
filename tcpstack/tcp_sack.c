/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SACK (RFC 2018) both ways and the scoreboard behind SACK-based loss recovery (RFC 6675).
 *
 * Receiver: sack_send lists the out-of-order blocks we hold, the block changed by the latest
 * segment first (RFC 2018 4), rebuilt from the reassembly slots so it is never stale. Sender:
 * sackblks holds up to 8 disjoint, sorted blocks the peer reported above snd_una; blocks outside
 * (snd_una, snd_max] are ignored, overlapping ones merge, and when it is full the lowest block is
 * dropped (the peer will re-report it). The pipe estimate takes un-SACKed bytes below the highest
 * SACKed byte as lost (out of the pipe) until retransmitted, which is RFC 6675's IsLost with
 * DupThresh folded to "any SACKed byte above".
 */
#include <string.h>

#include "tcp_var.h"

/* Receiver side: remember that [start, end) arrived out of order (most recent first). */
void
gale__tcp_sack_update_send(struct gale_tcp_conn *tp, uint32_t start, uint32_t end)
{
	struct gale__seq_block blk = { start, end };
	unsigned int i, j;

	/* Widen to the reassembly slot run containing it. */
	for (i = 0; i < tp->reass_n; i++) {
		uint32_t s0 = tp->reass[i].seq, e0 = s0 + tp->reass[i].len;

		if (GALE_SEQ_LEQ(s0, blk.end) && GALE_SEQ_GEQ(e0, blk.start)) {
			blk.start = GALE_SEQ_MIN(blk.start, s0);
			blk.end = GALE_SEQ_MAX(blk.end, e0);
		}
	}
	/* Drop entries it covers, then put it first. */
	for (i = 0, j = 0; i < tp->nsack_send; i++) {
		if (GALE_SEQ_GEQ(tp->sack_send[i].start, blk.start) &&
		    GALE_SEQ_LEQ(tp->sack_send[i].end, blk.end))
			continue;
		if (GALE_SEQ_LEQ(tp->sack_send[i].start, blk.end) &&
		    GALE_SEQ_GEQ(tp->sack_send[i].end, blk.start))
			continue;
		tp->sack_send[j++] = tp->sack_send[i];
	}
	if (j == GALE__SACK_SEND)
		j--;
	memmove(&tp->sack_send[1], &tp->sack_send[0], j * sizeof(tp->sack_send[0]));
	tp->sack_send[0] = blk;
	tp->nsack_send = (uint8_t)(j + 1);
}

/* Receiver side: forget blocks now below rcv_nxt or no longer held. */
void
gale__tcp_sack_prune_send(struct gale_tcp_conn *tp)
{
	unsigned int i, j, k;
	bool held;

	for (i = 0, j = 0; i < tp->nsack_send; i++) {
		if (GALE_SEQ_LEQ(tp->sack_send[i].end, tp->rcv_nxt))
			continue;
		held = false;
		for (k = 0; k < tp->reass_n && !held; k++)
			held = GALE_SEQ_GEQ(tp->reass[k].seq, tp->sack_send[i].start) &&
			       GALE_SEQ_LEQ(tp->reass[k].seq + tp->reass[k].len,
			                    tp->sack_send[i].end);
		if (held)
			tp->sack_send[j++] = tp->sack_send[i];
	}
	tp->nsack_send = (uint8_t)j;
}

void
gale__tcp_sack_clear(struct gale_tcp_conn *tp)
{
	tp->nsackblks = 0;
	tp->sack_rexmit_nxt = tp->snd_una;
}

/* Sender side: merge the blocks of one ACK into the scoreboard and drop what snd_una passed. */
void
gale__tcp_sack_rcvd(struct gale_tcp_conn *tp, const struct gale__seq_block *blks, unsigned int n)
{
	struct gale__seq_block sb[GALE__SACK_SCOREBOARD + 4], b;
	unsigned int i, j, cnt = 0;

	for (i = 0; i < tp->nsackblks; i++)
		if (GALE_SEQ_GT(tp->sackblks[i].end, tp->snd_una))
			sb[cnt++] = tp->sackblks[i];
	for (i = 0; i < n; i++) {
		b = blks[i];
		if (!GALE_SEQ_LT(b.start, b.end) || GALE_SEQ_GT(b.end, tp->snd_max) ||
		    GALE_SEQ_LEQ(b.end, tp->snd_una))
			continue;
		if (GALE_SEQ_LT(b.start, tp->snd_una))
			b.start = tp->snd_una;
		sb[cnt++] = b;
	}
	for (i = 0; i < cnt; i++) {
		if (GALE_SEQ_LT(sb[i].start, tp->snd_una))
			sb[i].start = tp->snd_una;
	}
	/* sort by start (insertion sort; at most 12 entries) */
	for (i = 1; i < cnt; i++) {
		b = sb[i];
		for (j = i; j > 0 && GALE_SEQ_GT(sb[j - 1].start, b.start); j--)
			sb[j] = sb[j - 1];
		sb[j] = b;
	}
	/* merge */
	for (i = 0, j = 0; i < cnt; i++) {
		if (j > 0 && GALE_SEQ_LEQ(sb[i].start, sb[j - 1].end)) {
			sb[j - 1].end = GALE_SEQ_MAX(sb[j - 1].end, sb[i].end);
			continue;
		}
		sb[j++] = sb[i];
	}
	cnt = j;
	i = cnt > GALE__SACK_SCOREBOARD ? cnt - GALE__SACK_SCOREBOARD : 0;
	memcpy(tp->sackblks, &sb[i], (cnt - i) * sizeof(sb[0]));
	tp->nsackblks = (uint8_t)(cnt - i);
	if (GALE_SEQ_LT(tp->sack_rexmit_nxt, tp->snd_una))
		tp->sack_rexmit_nxt = tp->snd_una;
}

uint32_t
gale__tcp_sacked_bytes(const struct gale_tcp_conn *tp)
{
	uint32_t n = 0;
	unsigned int i;

	for (i = 0; i < tp->nsackblks; i++)
		n += tp->sackblks[i].end - tp->sackblks[i].start;
	return n;
}

/* RFC 6675 pipe, simplified: un-SACKed bytes above the highest SACK plus retransmitted hole bytes.
 */
uint32_t
gale__tcp_sack_pipe(const struct gale_tcp_conn *tp)
{
	uint32_t high, pipe, lo, hi, limit;
	unsigned int i;

	if (tp->nsackblks == 0)
		return tp->snd_max - tp->snd_una;
	high = tp->sackblks[tp->nsackblks - 1].end;
	pipe = tp->snd_max - high;
	limit = GALE_SEQ_MIN(tp->sack_rexmit_nxt, high);
	lo = tp->snd_una;
	for (i = 0; i < tp->nsackblks && GALE_SEQ_LT(lo, limit); i++) {
		hi = GALE_SEQ_MIN(tp->sackblks[i].start, limit);
		if (GALE_SEQ_GT(hi, lo))
			pipe += hi - lo;
		lo = tp->sackblks[i].end;
	}
	return pipe;
}

/* The next hole to retransmit at or after sack_rexmit_nxt, below the highest SACKed byte. */
bool
gale__tcp_sack_next_hole(struct gale_tcp_conn *tp, uint32_t *seq, uint32_t *len)
{
	uint32_t cur = GALE_SEQ_MAX(tp->sack_rexmit_nxt, tp->snd_una);
	unsigned int i;

	for (i = 0; i < tp->nsackblks; i++) {
		if (GALE_SEQ_LT(cur, tp->sackblks[i].start)) {
			*seq = cur;
			*len = tp->sackblks[i].start - cur;
			return true;
		}
		if (GALE_SEQ_LT(cur, tp->sackblks[i].end))
			cur = tp->sackblks[i].end;
	}
	return false;
}
