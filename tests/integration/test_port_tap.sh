#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A DPDK net_tap port inside a fresh netns, 2 workers / 2 queues: the kernel sends UDP test frames from the
# namespace's side of the tap, the gale process counts them (per worker) and exits 0 once it has all of them.
# Also covers the EAL's no-huge start-up path when hugepages are not reserved.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
[ -c /dev/net/tun ] || gale_skip "no /dev/net/tun"
N=200
gale_netns_new ns
gale_tap_start "$ns" gtap0 198.18.0.1 "$GALE_PORT_TEST" --no-pci -l 0-1 --no-huge -m 512 \
	--file-prefix "gale-tap-$$" --vdev=net_tap0,iface=gtap0 -- --expect "$N" --duration 60 \
	--ready-file "$GALE_TMP/ready"
# The tap exists from EAL probe time, before the port is started: wait until it is.
gale_wait_for 30 "gale port ready" test -s "$GALE_TMP/ready"
# Send to a static neighbour so no ARP answer is needed; many source ports so both queues can get flows.
ip -n "$ns" neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev gtap0
ip netns exec "$ns" /usr/bin/python3 - "$N" <<'PY'
import socket, sys
n = int(sys.argv[1])
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(8)]
for i in range(n):
    socks[i % 8].sendto(b"gale%06d" % i, ("198.18.0.2", 9))
PY
gale_wait_pid tap-gtap0 60
log="$GALE_TMP/tap-gtap0.log"
grep -q "port net_tap0 .* 2 worker(s)" "$log"
total=$(sed -n 's/^total: .* test \([0-9]*\) .*/\1/p' "$log")
[ "$total" -ge "$N" ] || { echo "counted $total test frames, want $N" >&2; exit 1; }
grep '^worker' "$log"
echo "tap: $total test frames counted by the DPDK port"
