#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Linux as the TCP peer of gale's native stack over net_tap, inside a namespace this test makes:
#  1. kernel clients -> gale-tcpecho echo server (198.18.0.2): ping (ICMP echo), transfers of 1 KiB .. 256 MiB
#     with SHA-256 checked of what came back, then 1,000 concurrent connections opened, echoed and closed;
#     afterwards the server reports no open connection, no held buffer and every buffer back in its pool;
#  2. gale-tcpecho client -> kernel echo server (198.18.1.1): the kernel hashes what it got, gale checks every
#     byte it gets back; and a kernel sink that hashes a one-way transfer.
# GALE_TCPECHO_MAX_BYTES caps the largest transfer (default 268435456).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/netns.sh
source "$here/../../lib/netns.sh"
gale_fixture_init
[ -x "${GALE_TCPECHO:-}" ] || gale_skip "GALE_TCPECHO is not set to the gale-tcpecho binary"
[ -x /usr/bin/python3 ] || gale_skip "needs /usr/bin/python3"
peer="/usr/bin/python3 $here/tcp_peer.py"
max=${GALE_TCPECHO_MAX_BYTES:-268435456}

gale_netns_new ns
mapfile -t eal < <(gale_eal_args tcpecho-srv 0)
gale_tap_start "$ns" gtap0 198.18.0.1 "$GALE_TCPECHO" "${eal[@]}" --vdev=net_tap0,iface=gtap0 -- \
	--ip 198.18.0.2/24 --listen 7 --stats
gale_wait_for 30 "ICMP echo from gale" ip netns exec "$ns" ping -c 1 -W 1 198.18.0.2

fail=0
for n in 1024 65536 1048576 16777216 $max; do
	[ "$n" -le "$max" ] || continue
	ip netns exec "$ns" timeout 300 $peer echo-client 198.18.0.2 7 "$n" || fail=1
done
ip netns exec "$ns" timeout 180 $peer many 198.18.0.2 7 1000 1024 || fail=1

pid=$(gale__bg_pid tap-gtap0)
kill -TERM "$pid"
gale_wait_pid tap-gtap0 30 || fail=1
log="$GALE_TMP/tap-gtap0.log"
grep -Eq "conns_open=0 conns_timewait=[0-9]+ mbufs_held=0" "$log" || { echo "server left connections or buffers"; fail=1; }
grep -q "pool_leaked=0" "$log" || { echo "server leaked packet buffers"; fail=1; }
grep -E "^tcpecho:|^stat (tcp_conn_passive|tcp_rst|tcp_drop|tcp_rexmt|ip_drop|eth_drop)" "$log" || true

# gale as the client, the kernel as the server.
mapfile -t eal < <(gale_eal_args tcpecho-cli 0)
gale_bg kecho ip netns exec "$ns" timeout 300 $peer echo-server 0.0.0.0 9000 4
# (the kernel servers print "listening" once bound: a client started sooner is refused)
gale_wait_for 30 "kernel echo server listening" grep -q listening "$GALE_TMP/kecho.log"
gale_tap_start "$ns" gtap1 198.18.1.1 "$GALE_TCPECHO" "${eal[@]}" --vdev=net_tap1,iface=gtap1 -- \
	--ip 198.18.1.2/24 --connect 198.18.1.1:9000 --conns 4 --bytes 8388608 --stats
gale_wait_pid tap-gtap1 300 || { echo "gale echo client failed"; fail=1; }
gale_wait_pid kecho 60 || { echo "kernel echo server saw bad data"; fail=1; }
grep -E "^tcpecho:" "$GALE_TMP/tap-gtap1.log" || true
grep -q "pool_leaked=0" "$GALE_TMP/tap-gtap1.log" || { echo "client leaked buffers"; fail=1; }

gale_bg ksink ip netns exec "$ns" timeout 300 $peer sink-server 0.0.0.0 9001 1 $max
gale_wait_for 30 "kernel sink listening" grep -q listening "$GALE_TMP/ksink.log"

gale_tap_start "$ns" gtap2 198.18.2.1 "$GALE_TCPECHO" "${eal[@]}" --vdev=net_tap2,iface=gtap2 -- \
	--ip 198.18.2.2/24 --connect 198.18.2.1:9001 --conns 1 --bytes $max --client send
gale_wait_pid tap-gtap2 300 || { echo "gale send client failed"; fail=1; }
gale_wait_pid ksink 60 || { echo "kernel sink saw bad data"; fail=1; }
exit $fail
