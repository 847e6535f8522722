#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A net_tap port in a fresh netns with 2 workers / 2 queues, software steering (RSS forced off with --steer sw;
# on tap it is also what auto picks). The kernel sends UDP test frames from 16 source ports; the kernel spreads
# them over the tap queues by its own hash, and gale must count each flow on the worker owning it (Toeplitz
# recomputed independently by check_flows.py), forwarding between workers where the kernel's queue was wrong.
# Then --steer rss on the same tap must fail cleanly (no usable RSS on tap here).
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
[ -c /dev/net/tun ] || gale_skip "no /dev/net/tun"
N=1600
FLOWS=16
here=$(dirname "$0")
gale_netns_new ns
gale_tap_start "$ns" gtap0 198.18.0.1 "$GALE_PORT_TEST" --no-pci -l 0-1 --no-huge -m 512 \
	--file-prefix "gale-steer-tap-$$" --vdev=net_tap0,iface=gtap0 -- --steer sw --expect "$N" --duration 60 \
	--xstats --ready-file "$GALE_TMP/ready"
# The tap exists from the EAL's probe on, before the port is started: wait for the port, not the iface.
gale_wait_for 30 "gale port ready" test -s "$GALE_TMP/ready"
ip -n "$ns" neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev gtap0
ip netns exec "$ns" /usr/bin/python3 - "$N" "$FLOWS" <<'PY'
import socket, sys
n, flows = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.0.1", 41000 + i))
    socks.append(s)
for i in range(n):
    socks[i % flows].sendto(b"gale%06d" % i, ("198.18.0.2", 9))
PY
gale_wait_pid tap-gtap0 60
log="$GALE_TMP/tap-gtap0.log"
grep -q "port net_tap0 .* 2 worker(s).*steer sw" "$log"
grep -E '^(worker|total|mbufs)' "$log"
/usr/bin/python3 "$here/check_flows.py" "$log" 2 --min-flows "$FLOWS" --expect-total "$N"
grep -q '^mbufs: \([0-9]*\)/\1 free' "$log"

# RSS required on tap: refused with a clear message, nothing left behind.
set +e
ip netns exec "$ns" "$GALE_PORT_TEST" --no-pci -l 0-1 --no-huge -m 512 --file-prefix "gale-steer-rss-$$" \
	--vdev=net_tap0,iface=gtap1 -- --steer rss --duration 1 >"$GALE_TMP/rss.log" 2>&1
rc=$?
set -e
cat "$GALE_TMP/rss.log"
[ "$rc" -eq 1 ] || { echo "--steer rss on tap: exit $rc, want 1" >&2; exit 1; }
grep -q "no usable RSS" "$GALE_TMP/rss.log"
! ip -n "$ns" link show gtap1 2>/dev/null
echo "tap: $N frames of $FLOWS flows, each counted on its owner worker (software steering)"
