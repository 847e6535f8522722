#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two DPDK processes joined by net_memif (no kernel networking): one sends N test frames, the other counts
# them and exits 0 when all arrived; the sender then sees the link go down and exits 0 too.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
N=10000
sock="$GALE_TMP/memif.sock"
eal() { echo --no-pci -l "$1" --no-huge -m 512 --file-prefix "gale-memif-$2-$$" \
	"--vdev=net_memif0,role=$2,id=0,socket=$sock,socket-abstract=no"; }
# shellcheck disable=SC2046
gale_bg rx "$GALE_PORT_TEST" $(eal 0 server) -- --expect "$N" --duration 60
gale_wait_for 30 "memif socket" test -S "$sock"
# shellcheck disable=SC2046
gale_bg tx "$GALE_PORT_TEST" $(eal 1 client) -- --mode tx --count "$N" --duration 60
gale_wait_pid rx 60
gale_wait_pid tx 30
grep '^total' "$GALE_TMP/rx.log" "$GALE_TMP/tx.log"
echo "memif pair: $N frames passed"
