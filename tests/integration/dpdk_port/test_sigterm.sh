#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SIGTERM during traffic: a 2-worker gale-port-test on a tap in a fresh netns receives a UDP flood from the
# kernel (16 flows, software steering, so the forwarding rings are busy too). Once traffic is seen flowing it
# gets SIGTERM and must exit 0 within the drain deadline with every mbuf back in the pool; its tap must be gone.
# The same for a memif receiver while its peer keeps sending. The fixture then removes the netns; nothing of it
# may remain.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
[ -c /dev/net/tun ] || gale_skip "no /dev/net/tun"
DRAIN_MS=3000

# Wait for a `pps:` line showing traffic, SIGTERM, wait (bounded) for the exit, check status and the pool.
term_during_traffic() {
	local name=$1 log="$GALE_TMP/$1.log" pid i
	gale_wait_for 30 "$name: traffic flowing" grep -qE '^pps: rx [1-9]' "$log"
	pid=$(gale__bg_pid "$name")
	kill -TERM "$pid"
	gale_wait_pid "$name" 10 || { echo "$name: exit status $?, want 0" >&2; return 1; }
	grep -E '^(total|mbufs|shutdown)' "$log"
	grep -q '^mbufs: \([0-9]*\)/\1 free' "$log"
	ms=$(sed -n 's/^shutdown: \([0-9]*\) ms.*/\1/p' "$log")
	[ "$ms" -le "$DRAIN_MS" ]
	total=$(sed -n 's/^total: rx \([0-9]*\) .*/\1/p' "$log")
	[ "$total" -gt 0 ]
}

gale_netns_new ns
gale_tap_start "$ns" gtap0 198.18.0.1 "$GALE_PORT_TEST" --no-pci -l 0-1 --no-huge -m 512 \
	--file-prefix "gale-term-$$" --vdev=net_tap0,iface=gtap0 -- --steer sw --duration 60 --stats-period 0.2 \
	--drain-ms "$DRAIN_MS" --ready-file "$GALE_TMP/ready"
gale_wait_for 30 "gale port ready" test -s "$GALE_TMP/ready"
ip -n "$ns" neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev gtap0
# The flood: bounded (at most 20 s), stops by itself when the tap goes away.
gale_bg flood ip netns exec "$ns" /usr/bin/python3 -c '
import socket, time
socks = []
for i in range(16):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.0.1", 42000 + i))
    socks.append(s)
end = time.time() + 20
i = 0
try:
    while time.time() < end:
        socks[i % 16].sendto(b"x" * 64, ("198.18.0.2", 9))
        i += 1
except OSError:
    pass
'
term_during_traffic tap-gtap0
if ip -n "$ns" link show gtap0 >/dev/null 2>&1; then
	echo "tap gtap0 still exists after gale exited" >&2
	exit 1
fi

sock="$GALE_TMP/memif.sock"
eal() { echo --no-pci -l 0-1 --no-huge -m 512 --file-prefix "gale-term-$1-$$" \
	"--vdev=net_memif0,role=$1,id=0,socket=$sock,socket-abstract=no"; }
# shellcheck disable=SC2046
gale_bg mrx "$GALE_PORT_TEST" $(eal server) -- --duration 60 --stats-period 0.2 --drain-ms "$DRAIN_MS"
gale_wait_for 30 "memif socket" test -S "$sock"
# shellcheck disable=SC2046
gale_bg mtx "$GALE_PORT_TEST" $(eal client) -- --mode tx --count 100000000 --flows 16 --duration 30
term_during_traffic mrx
echo "SIGTERM during traffic: exit 0 within ${DRAIN_MS} ms, pool full, tap gone"
