#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The memif-pair fixture: two DPDK processes joined by net_memif (no kernel networking); one sends N test
# frames, the other counts them and exits 0 when all arrived; the sender then sees the link go down and exits 0.
# Run twice: on hugepages when reserved, and forced to --no-huge.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
N=10000
for mode in default nohuge; do
	[ "$mode" = nohuge ] && export GALE_TEST_NO_HUGE=1
	gale_memif_pair "rx-$mode" "$GALE_PORT_TEST --expect $N --duration 60" \
		"tx-$mode" "$GALE_PORT_TEST --mode tx --count $N --duration 60"
	gale_wait_pid "rx-$mode" 60
	gale_wait_pid "tx-$mode" 30
	rx=$(sed -n 's/^total: .* test \([0-9]*\) .*/\1/p' "$GALE_TMP/rx-$mode.log")
	tx=$(sed -n 's/^total: .* tx \([0-9]*\)$/\1/p' "$GALE_TMP/tx-$mode.log")
	[ "$rx" -eq "$N" ] && [ "$tx" -eq "$N" ] || { echo "$mode: sent $tx, counted $rx, want $N" >&2; exit 1; }
	if [ "$mode" = nohuge ]; then
		grep -q 'no hugepages (--no-huge)' "$GALE_TMP/rx-$mode.log"
	elif [ "$(gale_eal_args probe 0 | grep -c in-memory)" -eq 1 ]; then
		grep -q ', hugepages, link' "$GALE_TMP/rx-$mode.log"
	fi
	echo "memif pair ($mode): $N frames sent and counted"
done
