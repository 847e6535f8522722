#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gale-kv (kernel backend, loopback, two workers = two shards) under concurrent clients on both workers:
#  1. the negative client: an oversized value or key gets the declared KvError (not a crash, not a closed
#     connection), a scan limit of 0 BAD_ARGUMENT, a missing key NotFound;
#  2. six Apache Thrift Python clients at once, each a seeded random sequence of get/put/delete/scan on its own
#     key prefix over four connections (24 connections, spread over the workers by SO_REUSEPORT; four
#     transport/protocol pairs), every reply checked against the client's oracle (kv_client.py);
#  3. after they all ended, one checker: a paged full scan equals the union of the oracles, and stats() shows
#     cross-worker requests (> 0), counters that add up (local + cross + rejected + busy = get + put + delete
#     on every worker; served = cross + fanout), both workers used, and exactly the calls the clients made;
#     the same counters reach telemetry (/gale/counters on the EAL's socket) and the rings' own counters
#     (/gale/xworker) agree;
#  4. SIGTERM: a clean drain, and the counters printed at exit add up too;
#  5. the same with one worker, shorter: nothing crosses, scan and stats answer without deferring;
#  6. SIGTERM under load: four clients still calling (cross-worker requests in flight) when the drain starts;
#     every reply they got before their connection closed is still checked, the drain ends clean within the
#     bound, and the exit counters add up (every message posted came back).
# The worker-to-worker rings hold one message (--ring-size 1), so posts often find them full and wait on the
# sender (counted as ring_full): the answers must be right all the same. GALE_KV_OPS sets calls per client.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
. "$GALE_SOURCE_DIR/tests/integration/kv_lib.sh"
ops=${GALE_KV_OPS:-1500}

gale_bg kv "$kv" --no-pci --no-huge -m 256 "--file-prefix=gale-kv-$$" --log-level=lib.eal:warning \
	"--lcores=0@0,1@0,2@$last" -- --backend kernel --listen 127.0.0.1:0 --workers 2 --ring-size 1 \
	--max-key "$max_key" --max-value "$max_value" --port-file "$GALE_TMP/kv.port"
gale_wait_for 20 "gale-kv to listen" test -s "$GALE_TMP/kv.port"
port=$(cat "$GALE_TMP/kv.port")
grep -q "listening on 127.0.0.1:$port (backend kernel, 2 workers" "$GALE_TMP/kv.log" ||
	{ echo "gale-kv did not announce its address, backend and workers" >&2; exit 1; }
py() { timeout 60 /usr/bin/python3 "$kv_client" --gen-dir "$GALE_TMP/gen-py" --port "$port" "$@"; }

# 1. Refusals (this also generates the Python code once, before the clients race for it).
py negative --max-key "$max_key" --max-value "$max_value" --dump "$GALE_TMP/neg.json"

# 2. Concurrent model-checked clients.
kv_clients_start c 1000 6 "$ops" 4
kv_clients_wait "two workers"

# 3. The shared phase.
py check --workers 2 --dumps "$GALE_TMP/neg.json" "$GALE_TMP"/c?.json --totals "$GALE_TMP/totals.json"
# The same counters reach the control thread and telemetry (sent up every 100 ms).
sock=/var/run/dpdk/gale-kv-$$/dpdk_telemetry.v2
[ -S "$sock" ] || { echo "gale-kv has no telemetry socket at $sock" >&2; exit 1; }
py telemetry --socket "$sock" --totals "$GALE_TMP/totals.json" --wait 10 --workers 2

# 4. Drain and the counters at exit.
kill -TERM "$(gale__bg_pid kv)"
status=0
gale_wait_pid kv 30 || status=$?
grep "^gale-kv: \(stopped\|worker\|total\|key requests\)" "$GALE_TMP/kv.log"
kv_exit_ok gale-kv "$GALE_TMP/kv.log" "$status"
kv_exit_cross gale-kv "$GALE_TMP/kv.log"
echo "gale-kv: $((6 * ops)) random calls on 24 connections checked against their oracles; $cross cross-worker"

# 5. One worker: every shard operation is local (scan and stats answer at once), nothing crosses.
gale_bg kv1 "$kv" --no-pci --no-huge -m 256 "--file-prefix=gale-kv1-$$" --log-level=lib.eal:warning \
	"--lcores=0@0,1@$last" -- --listen 127.0.0.1:0 --workers 1 --port-file "$GALE_TMP/kv1.port"
gale_wait_for 20 "gale-kv (one worker) to listen" test -s "$GALE_TMP/kv1.port"
port=$(cat "$GALE_TMP/kv1.port")
kv_clients_start o 2000 2 400 2
kv_clients_wait "one worker"
py check --workers 1 --dumps "$GALE_TMP"/o?.json
kill -TERM "$(gale__bg_pid kv1)"
status=0
gale_wait_pid kv1 30 || status=$?
kv_exit_ok "gale-kv (one worker)" "$GALE_TMP/kv1.log" "$status"

# 6. Drain under load.
gale_bg kv2 "$kv" --no-pci --no-huge -m 256 "--file-prefix=gale-kv2-$$" --log-level=lib.eal:warning \
	"--lcores=0@0,1@0,2@$last" -- --listen 127.0.0.1:0 --workers 2 --ring-size 1 \
	--port-file "$GALE_TMP/kv2.port"
gale_wait_for 20 "gale-kv (drain) to listen" test -s "$GALE_TMP/kv2.port"
port=$(cat "$GALE_TMP/kv2.port")
kv_clients_start d 3000 4 1000000 2 --until-closed
kv_clients_connected 60
py wait --cross 500
kill -TERM "$(gale__bg_pid kv2)"
status=0
gale_wait_pid kv2 30 || status=$?
kv_clients_wait "before the drain"
grep "^gale-kv: \(stopped\|total\|key requests\)" "$GALE_TMP/kv2.log"
kv_exit_ok "gale-kv (drain under load)" "$GALE_TMP/kv2.log" "$status"
