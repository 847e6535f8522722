#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Demonstration for `make run` (not a test): gale-port-test on a net_tap port in a fresh netns with 2 workers;
# the kernel side sends UDP frames from 8 source ports, and the per-worker, per-flow counts are printed (each
# flow on the worker that owns it). Everything made here is removed on exit.
# usage: GALE_PORT_TEST=build/apps/gale-port-test tests/integration/dpdk_port/demo_tap.sh [FRAMES]
set -euo pipefail
GALE_SOURCE_DIR=${GALE_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
GALE_PORT_TEST=${GALE_PORT_TEST:-$GALE_SOURCE_DIR/build/apps/gale-port-test}
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
[ -c /dev/net/tun ] || gale_skip "no /dev/net/tun"
[ -x "$GALE_PORT_TEST" ] || { echo "build gale-port-test first ($GALE_PORT_TEST)" >&2; exit 1; }
N=${1:-800}
gale_netns_new ns
echo "netns $ns: gale-port-test on net_tap0 (iface gtap0, 198.18.0.1/24 on the kernel side), 2 workers"
gale_tap_start "$ns" gtap0 198.18.0.1 "$GALE_PORT_TEST" --no-pci -l 0-1 --no-huge -m 512 \
	--file-prefix "gale-demo-$$" --vdev=net_tap0,iface=gtap0 -- --expect "$N" --duration 30 \
	--ready-file "$GALE_TMP/ready"
gale_wait_for 30 "gale port ready" test -s "$GALE_TMP/ready"
ip -n "$ns" neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev gtap0
echo "kernel: sending $N UDP frames from 8 source ports to 198.18.0.2:9"
ip netns exec "$ns" /usr/bin/python3 - "$N" <<'PY'
import socket, sys
n = int(sys.argv[1])
socks = []
for i in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.0.1", 43000 + i))
    socks.append(s)
for i in range(n):
    socks[i % 8].sendto(b"gale%06d" % i, ("198.18.0.2", 9))
PY
gale_wait_pid tap-gtap0 30
grep -vE '^(EAL|TELEMETRY|tap_nl|qdisc_create|eth_dev_tap)' "$GALE_TMP/tap-gtap0.log"
