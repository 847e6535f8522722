#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gale-kv on the native backend: a DPDK net_tap port inside a network namespace this test creates, gale's TCP
# stack on each of two workers (two shards) with software steering, and the Linux kernel of that namespace as
# the clients' TCP peer (the Python clients run inside the namespace):
#  1. gale-kv announces its address, the native backend and the port (software steering over 2 queues);
#  2. the negative client (refusals are declared KvErrors, the connection keeps working; scan pages cut by bytes);
#  3. four Apache Thrift Python clients at once, each a seeded random sequence of get/put/delete/scan on its own
#     key prefix over four connections (four transport/protocol pairs), every reply checked against its oracle;
#  4. the checker: a paged full scan equals the union of the oracles; stats() shows cross-worker requests
#     (> 0), counters that add up on every worker (local + cross + rejected + busy = get + put + delete;
#     served = cross + fanout), both workers used (the steering spread the connections), and exactly the
#     calls the clients made; the same counters on telemetry, and the rings' own counters agree;
#  5. SIGTERM: a clean drain, exit counters that add up with cross > 0, no connection left in the stacks and
#     every mbuf back in the port's pool (tests/lib/native.sh);
#  6. a second gale-kv on a tap in a second namespace, SIGTERM under load: four clients still calling
#     (cross-worker requests in flight) when the drain starts; every reply they got before the close is still
#     checked, the drain ends clean within the bound, the exit counters add up and every mbuf is back. The
#     connections its stacks still had at stop are printed, not asserted: the drain ends once every FIN gale
#     sent is acknowledged, and a client that has not closed its side by then (FIN_WAIT_2 here) counts.
# The worker-to-worker rings hold one message (--ring-size 1), so posts often wait on the sender. GALE_KV_OPS
# sets calls per client (default 1000: the whole test stays well under a minute on a loaded 2-core host).
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
. "$GALE_SOURCE_DIR/tests/lib/native.sh"
gale_fixture_init
. "$GALE_SOURCE_DIR/tests/integration/kv_lib.sh"
ops=${GALE_KV_OPS:-1000}
host=198.18.0.2

# No hugepages and a file prefix of our own, so the EAL's telemetry socket has a known path.
gale_netns_new ns
gale_tap_start "$ns" gtap0 198.18.0.1 "$kv" --no-pci --no-huge -m 512 "--file-prefix=gale-kvn-$$" \
	--log-level=lib.eal:warning "--lcores=0@0,1@0,2@$last" --vdev=net_tap0,iface=gtap0 -- \
	--backend native --ip "$host/24" --listen '*:9090' --workers 2 --steer sw --ring-size 1 \
	--max-key "$max_key" --max-value "$max_value" --port-file "$GALE_TMP/kv.port" --stack-stats
name=tap-gtap0
log=$GALE_TMP/$name.log
gale_wait_for 30 "gale-kv (native) to listen" test -s "$GALE_TMP/kv.port"
port=$(cat "$GALE_TMP/kv.port")
[ "$port" = 9090 ] || { echo "gale-kv listens on port $port, not 9090" >&2; exit 1; }
grep -q "listening on $host:9090 (backend native, 2 workers = shards, .* on $host/24 on .* (2 queues, software steering)" \
	"$log" || { echo "gale-kv did not announce its address, the native backend and the port" >&2; cat "$log" >&2; exit 1; }
py() { timeout 60 ip netns exec "$ns" /usr/bin/python3 "$kv_client" --gen-dir "$GALE_TMP/gen-py" --host "$host" \
	--port "$port" "$@"; }

# 2. Refusals (this also generates the Python code once, before the clients race for it).
py negative --max-key "$max_key" --max-value "$max_value" --dump "$GALE_TMP/neg.json"

# 3. Concurrent model-checked clients.
kv_clients_start n 4000 4 "$ops" 4
kv_clients_wait native

# 4. The shared phase, then the same counters on telemetry (a kernel socket: outside the namespace is fine).
py check --workers 2 --dumps "$GALE_TMP/neg.json" "$GALE_TMP"/n?.json --totals "$GALE_TMP/totals.json"
sock=/var/run/dpdk/gale-kvn-$$/dpdk_telemetry.v2
[ -S "$sock" ] || { echo "gale-kv has no telemetry socket at $sock" >&2; exit 1; }
timeout 60 /usr/bin/python3 "$kv_client" --gen-dir "$GALE_TMP/gen-py" --port "$port" telemetry --socket "$sock" \
	--totals "$GALE_TMP/totals.json" --wait 10 --workers 2

# 5. Drain, the counters at exit, the stacks and the pool.
kill -TERM "$(gale__bg_pid "$name")"
status=0
gale_wait_pid "$name" 30 || status=$?
grep "^gale-kv: \(stopped\|worker [0-9]*:\|total\|key requests\|native\|pool\)" "$log"
kv_exit_ok "gale-kv (native)" "$log" "$status"
kv_exit_cross "gale-kv (native)" "$log"
for w in 0 1; do
	grep -q "^gale-kv: worker $w stack " "$log" ||
		{ echo "gale-kv (native): worker $w printed no stack counters (--stack-stats)" >&2; exit 1; }
done
gale_native_exit_ok gale-kv "$log"
echo "gale-kv (native, net_tap, 2 workers, software steering): $((4 * ops)) random calls on 16 connections" \
	"checked against their oracles; $cross cross-worker; clean drain, no connection left, pool full"

# 6. Drain under load: a second gale-kv in a namespace of its own.
gale_netns_new ns
gale_tap_start "$ns" gtap1 198.18.0.1 "$kv" --no-pci --no-huge -m 512 "--file-prefix=gale-kvd-$$" \
	--log-level=lib.eal:warning "--lcores=0@0,1@0,2@$last" --vdev=net_tap0,iface=gtap1 -- \
	--backend native --ip "$host/24" --listen '*:9090' --workers 2 --steer sw --ring-size 1 \
	--port-file "$GALE_TMP/kvd.port" --stack-stats
name=tap-gtap1
log=$GALE_TMP/$name.log
gale_wait_for 30 "gale-kv (native, drain) to listen" test -s "$GALE_TMP/kvd.port"
port=$(cat "$GALE_TMP/kvd.port")
kv_clients_start d 5000 4 1000000 2 --until-closed
kv_clients_connected 60
py wait --cross 300
kill -TERM "$(gale__bg_pid "$name")"
status=0
gale_wait_pid "$name" 30 || status=$?
kv_clients_wait "native, before the drain"
grep "^gale-kv: \(stopped\|total\|key requests\|native\|pool\)" "$log"
kv_exit_ok "gale-kv (native, drain under load)" "$log" "$status"
grep -q "mbufs free at exit .*, 0 not returned" "$log" ||
	{ echo "gale-kv (native): the port's pool did not get every mbuf back after a drain under load" >&2; exit 1; }
echo "gale-kv (native): drain under load clean, counters add up, pool full"
