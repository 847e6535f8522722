#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two DPDK processes joined by net_memif, 2 workers / 2 queues each (memif needs the same queue count on both
# sides). The sender spreads N test frames over 16 flows and both queues without regard to ownership; the
# receiver must count each flow on its owner worker (software steering; memif has no RSS), forwarding the
# frames that came in on the other queue, and get every frame exactly once.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
N=8000
FLOWS=16
here=$(dirname "$0")
sock="$GALE_TMP/memif.sock"
eal() { echo --no-pci -l 0-1 --no-huge -m 512 --file-prefix "gale-smemif-$1-$$" \
	"--vdev=net_memif0,role=$1,id=0,socket=$sock,socket-abstract=no"; }
# shellcheck disable=SC2046
gale_bg rx "$GALE_PORT_TEST" $(eal server) -- --steer auto --expect "$N" --duration 60
gale_wait_for 30 "memif socket" test -S "$sock"
# shellcheck disable=SC2046
gale_bg tx "$GALE_PORT_TEST" $(eal client) -- --mode tx --count "$N" --flows "$FLOWS" --duration 60
gale_wait_pid rx 60
gale_wait_pid tx 30
log="$GALE_TMP/rx.log"
grep -q "port net_memif0 .* 2 worker(s).*steer sw" "$log"
grep -E '^(worker|total|mbufs)' "$log"
/usr/bin/python3 "$here/check_flows.py" "$log" 2 --min-flows "$FLOWS" --expect-total "$N" --need-forwarding
total=$(sed -n 's/^total: rx \([0-9]*\) .*/\1/p' "$log")
[ "$total" -eq "$N" ] || { echo "received $total frames, want exactly $N" >&2; exit 1; }
grep -q '^mbufs: \([0-9]*\)/\1 free' "$log"
grep -q '^mbufs: \([0-9]*\)/\1 free' "$GALE_TMP/tx.log"
echo "memif: $N frames of $FLOWS flows, each counted once, on its owner worker"
