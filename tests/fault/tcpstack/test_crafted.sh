#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Crafted segments (scapy, crafted.py) against gale-tcpecho over net_tap, while a kernel connection keeps echoing
# through everything: blind RST and SYN (RFC 5961 challenge ACKs), PAWS, bad checksums, illegal flags, data
# beyond the window, then a flood of GALE_SYN_FLOOD (default 100000) SYNs. The kernel connection must see no
# error, SYN cookies must have been used, and gale's counters must show every kind of drop.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/netns.sh
source "$here/../../lib/netns.sh"
gale_fixture_init
[ -x "${GALE_TCPECHO:-}" ] || gale_skip "GALE_TCPECHO is not set to the gale-tcpecho binary"
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || gale_skip "python3-scapy is not installed"
flood=${GALE_SYN_FLOOD:-100000}
fail=0

gale_netns_new ns
mapfile -t eal < <(gale_eal_args crafted 0)
gale_tap_start "$ns" gtap0 198.18.0.1 "$GALE_TCPECHO" "${eal[@]}" --vdev=net_tap0,iface=gtap0 -- \
	--ip 198.18.0.2/24 --listen 7 --stats --ready-file "$GALE_TMP/ready"
gale_wait_for 30 "gale ready" test -s "$GALE_TMP/ready"
gale_wait_for 30 "ICMP echo from gale" ip netns exec "$ns" ping -c 1 -W 1 198.18.0.2
mac=$(head -n 1 "$GALE_TMP/ready")

# The kernel connection that must stay healthy throughout.
gale_bg keeper ip netns exec "$ns" timeout 600 /usr/bin/python3 "$here/keeper.py" 198.18.0.2 7 "$GALE_TMP/stop"
gale_wait_for 30 "keeper connected" grep -q connected "$GALE_TMP/keeper.log"

ip netns exec "$ns" timeout 300 /usr/bin/python3 "$here/crafted.py" gtap0 198.18.0.2 "$mac" "$flood" || fail=1
touch "$GALE_TMP/stop"
gale_wait_pid keeper 60 || { echo "FAIL: the established kernel connection saw errors"; fail=1; }
cat "$GALE_TMP/keeper.log"

pid=$(gale__bg_pid tap-gtap0)
kill -TERM "$pid"
gale_wait_pid tap-gtap0 30 || true
log="$GALE_TMP/tap-gtap0.log"
for c in tcp_challenge_ack_tx tcp_drop_paws tcp_drop_cksum tcp_drop_flags tcp_drop_out_of_window \
	tcp_syncookie_tx tcp_syn_rx; do
	if grep -Eq "^stat $c [1-9]" "$log"; then
		grep -E "^stat $c " "$log"
	else
		echo "FAIL: counter $c is zero"
		fail=1
	fi
done
grep -q "pool_leaked=0" "$log" || { echo "FAIL: buffers leaked"; fail=1; }
exit $fail
