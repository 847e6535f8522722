# SPDX-License-Identifier: Apache-2.0
# What gale-kv's tests (test_kv.sh: kernel backend; test_kv_native.sh: native backend) share. Source it after
# tests/lib/netns.sh and gale_fixture_init; it skips (77) when gale-kv or the Python peer is missing, and sets:
#   kv, kv_client     the gale-kv binary and tests/integration/kv_client.py
#   last              the last CPU (the worker lcores' placement)
#   max_key, max_value  the limits the tests start gale-kv with (the negative client checks them)
# The caller defines py(): kv_client.py with its --gen-dir, --host and --port (and, for native, run inside the
# namespace).
#
#   kv_clients_start TAG SEED N OPS CONNS [ARGS...]  N random clients in the background, the i-th with seed
#                       SEED+i, key prefix TAGi/, CONNS connections, dumping to $GALE_TMP/TAGi.json
#                       (each creates $GALE_TMP/TAGi.ready once all its connections are open)
#   kv_clients_connected SECONDS  wait (bounded) until every client started by kv_clients_start is connected
#   kv_clients_wait WHAT   wait for them; fail naming WHAT when a client's replies disagreed with its oracle
#   kv_exit_ok NAME LOG STATUS  gale-kv exited 0 after SIGTERM, drained clean, and its exit counters add up
#   kv_exit_cross NAME LOG      the cross-worker requests counted at exit, into $cross; fail when there are none
kv=$GALE_BUILD_DIR/apps/kv/gale-kv
kv_client="$GALE_SOURCE_DIR/tests/integration/kv_client.py"
[ -x "$kv" ] || gale_skip "gale-kv not built"
command -v thrift >/dev/null || gale_skip "Debian's thrift compiler is not installed (needed for the Python clients)"
/usr/bin/python3 -c 'import thrift' 2>/dev/null || gale_skip "python3-thrift is not installed"
last=$(($(nproc) - 1))
max_key=512
max_value=4096
kv_pids=()

kv_clients_start() {
	local tag=$1 seed=$2 n=$3 ops=$4 conns=$5 i
	shift 5
	kv_pids=()
	kv_ready=()
	for ((i = 1; i <= n; i++)); do
		rm -f "$GALE_TMP/$tag$i.ready"
		py random --seed "$((seed + i))" --ops "$ops" --ns "$tag$i/" --conns "$conns" \
			--dump "$GALE_TMP/$tag$i.json" --ready "$GALE_TMP/$tag$i.ready" "$@" &
		kv_pids+=("$!")
		kv_ready+=("$GALE_TMP/$tag$i.ready")
	done
}

kv__all_ready() {
	local f
	for f in "${kv_ready[@]}"; do [ -e "$f" ] || return 1; done
}

kv_clients_connected() {
	gale_wait_for "$1" "all ${#kv_ready[@]} clients to open their connections" kv__all_ready
}

kv_clients_wait() {
	local p failed=0
	for p in "${kv_pids[@]}"; do wait "$p" || failed=1; done
	[ "$failed" = 0 ] || { echo "a client's replies disagreed with its oracle ($1)" >&2; return 1; }
}

kv_exit_ok() {
	local name=$1 log=$2 status=$3
	[ "$status" = 0 ] || { echo "$name exited with status $status after SIGTERM" >&2; return 1; }
	grep -q "stopped (clean)" "$log" || { echo "$name did not drain cleanly" >&2; return 1; }
	grep -q "key requests .*(adds up); served .*(adds up)" "$log" ||
		{ echo "$name: the exit counters do not add up" >&2; return 1; }
}

kv_exit_cross() {
	cross=$(sed -n 's/^gale-kv: total: .* cross=\([0-9]*\) .*/\1/p' "$2")
	[ "${cross:-0}" -gt 0 ] || { echo "$1 counted no cross-worker request at exit" >&2; return 1; }
}
