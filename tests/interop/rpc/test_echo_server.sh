#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gale-echo (gale's RPC server) against Apache Thrift's Python client and (when tests/peers built it) Apache's
# C++ client for every {framed, buffered, header} x {binary, compact} pair, then the raw-socket checks of rpc_raw.py
# (pipelining, split delivery, exceptions, TTHeader/TTHeaderFramed, malformed frames that must close only their own
# connection), then a clean SIGTERM drain whose exit status and counters are checked. Three runs:
#  - kernel backend on loopback, one worker, and two workers sharing the port through SO_REUSEPORT;
#  - native backend (DPDK net_tap port, gale's TCP stack) inside a network namespace this test creates, two
#    workers with software steering, the Linux kernel of that namespace as the clients' TCP peer; every pair
#    also echoes a 4 MiB payload (more than the stacks' windows: both directions segment, queue and reassemble),
#    and at exit no connection is left in gale's stacks and every mbuf is back in the port's pool.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
. "$GALE_SOURCE_DIR/tests/lib/native.sh"
gale_fixture_init
echo_bin=$GALE_BUILD_DIR/apps/echo/gale-echo
[ -x "$echo_bin" ] || gale_skip "gale-echo not built"
command -v thrift >/dev/null || gale_skip "Debian's thrift compiler is not installed (needed for the Python peer)"
/usr/bin/python3 -c 'import thrift' 2>/dev/null || gale_skip "python3-thrift is not installed"
cpp_client=$GALE_BUILD_DIR/tests/peers/thrift-echo-client
[ -x "$cpp_client" ] || echo "note: thrift-echo-client not built: only Apache's Python client is run" >&2
ncpu=$(nproc)
last=$((ncpu - 1))
host=127.0.0.1
peer=() # how the clients run: as they are (loopback), or inside the native run's namespace

run_server() {
	local name=$1 workers=$2 backend=$3 lcores
	if [ "$workers" = 1 ]; then
		lcores="0@0,1@$last"
	else
		lcores="0@0,1@0,2@$last"
	fi
	if [ "$backend" = kernel ]; then
		gale_bg "$name" "$echo_bin" --no-pci --no-huge -m 256 "--file-prefix=gale-$name-$$" \
			--log-level=lib.eal:warning "--lcores=$lcores" -- \
			--backend kernel --listen 127.0.0.1:0 --workers "$workers" --port-file "$GALE_TMP/$name.port"
	else
		local -a eal
		# The fixture's EAL arguments (hugepages or --no-huge, unique prefix) with our lcore placement.
		mapfile -t eal < <(gale_eal_args "$name" "$lcores")
		gale_netns_new ns
		gale_tap_start "$ns" gtap0 198.18.0.1 "$echo_bin" "${eal[@]}" --vdev=net_tap0,iface=gtap0 -- \
			--backend native --ip 198.18.0.2/24 --listen '*:9090' --workers "$workers" \
			--port-file "$GALE_TMP/$name.port" --stack-stats
		name=tap-gtap0
		echo_name=$name
		host=198.18.0.2
		peer=(ip netns exec "$ns")
	fi
	gale_wait_for 20 "$name to listen" test -s "$GALE_TMP/${1}.port"
	grep -q "listening on $host:$(cat "$GALE_TMP/${1}.port") (backend $backend, $workers worker" \
		"$GALE_TMP/$name.log" || { echo "$name did not announce its address and backend" >&2; exit 1; }
}

runs="kernel-1 kernel-2 native-2"
if [ ! -c /dev/net/tun ]; then
	echo "note: no /dev/net/tun: the native-backend run (net_tap) is skipped" >&2
	runs="kernel-1 kernel-2"
fi
for run in $runs; do
	backend=${run%-*}
	workers=${run#*-}
	name=echo-$run
	echo_name=$name
	run_server "$name" "$workers" "$backend"
	port=$(cat "$GALE_TMP/$name.port")
	name=$echo_name
	n=0
	cpp=0
	big=0
	for transport in framed buffered header; do
		for protocol in binary compact; do
			timeout 120 "${peer[@]}" /usr/bin/python3 "$GALE_SOURCE_DIR/tests/peers/echo_client.py" \
				--gen-dir "$GALE_TMP/gen-py" --host "$host" --port "$port" --transport "$transport" \
				--protocol "$protocol" --calls 20 --payload 70000
			n=$((n + 1))
			if [ -x "$cpp_client" ]; then
				timeout 120 "${peer[@]}" "$cpp_client" --host "$host" --port "$port" \
					--transport "$transport" --protocol "$protocol" --calls 20 --payload 70000
				cpp=$((cpp + 1))
			fi
			if [ "$backend" = native ]; then
				# 4 MiB each way through gale's stacks, every pair, both clients.
				timeout 120 "${peer[@]}" /usr/bin/python3 "$GALE_SOURCE_DIR/tests/peers/echo_client.py" \
					--gen-dir "$GALE_TMP/gen-py" --host "$host" --port "$port" \
					--transport "$transport" --protocol "$protocol" --calls 1 --payload 4194304 \
					--timeout 60
				big=$((big + 1))
				if [ -x "$cpp_client" ]; then
					timeout 120 "${peer[@]}" "$cpp_client" --host "$host" --port "$port" \
						--transport "$transport" --protocol "$protocol" --calls 1 \
						--payload 4194304
					big=$((big + 1))
				fi
			fi
		done
	done
	timeout 120 "${peer[@]}" /usr/bin/python3 "$GALE_SOURCE_DIR/tests/interop/rpc/rpc_raw.py" \
		--gen-dir "$GALE_TMP/gen-py" --host "$host" --port "$port"
	# Several clients at once (spread over the workers when there are two).
	pids=()
	for i in 1 2 3 4; do
		timeout 120 "${peer[@]}" /usr/bin/python3 "$GALE_SOURCE_DIR/tests/peers/echo_client.py" \
			--gen-dir "$GALE_TMP/gen-py" --host "$host" --port "$port" --transport framed \
			--protocol compact --calls 20 --payload 1000 &
		pids+=("$!")
	done
	for p in "${pids[@]}"; do wait "$p"; done
	kill -TERM "$(gale__bg_pid "$name")"
	status=0
	gale_wait_pid "$name" 30 || status=$?
	cat "$GALE_TMP/$name.log"
	[ "$status" = 0 ] || { echo "$name exited with status $status after SIGTERM" >&2; exit 1; }
	grep -q "stopped (clean)" "$GALE_TMP/$name.log" || { echo "$name did not drain cleanly" >&2; exit 1; }
	# 6 pairs x 20 iterations x 7 calls (+1 final add) plus the four parallel clients' 4 x (20 x 7 + 1).
	reqs=$(sed -n 's/.* \([0-9]*\) requests.*/\1/p' "$GALE_TMP/$name.log")
	want=$(((n + cpp) * (20 * 7 + 1) + 4 * (20 * 7 + 1) + big * (7 + 1)))
	if [ -z "$reqs" ] || [ "$reqs" -lt "$want" ]; then
		echo "$name counted ${reqs:-no} requests, expected at least $want" >&2
		exit 1
	fi
	grep -q "[1-9][0-9]* bad frames" "$GALE_TMP/$name.log" ||
		{ echo "$name did not count the malformed frames" >&2; exit 1; }
	# Whether 4 MiB of replies pile up within rpc_raw's 0.5 s of not reading depends on how fast requests
	# arrive: sure on loopback, not over tap on a loaded machine (the native backend's own back-pressure is
	# covered by runtime_conn_native). rpc_raw checked every reply arrived in order either way.
	[ "$backend" = native ] || grep -q "[1-9][0-9]* pauses for unread replies" "$GALE_TMP/$name.log" ||
		{ echo "$name never paused a connection whose replies were not read" >&2; exit 1; }
	[ "$backend" != native ] || gale_native_exit_ok "$name" "$GALE_TMP/$name.log"
	echo "gale-echo ($backend, $workers worker(s)): $n transport/protocol pairs (Python; C++: $cpp)," \
		"$big 4 MiB echoes, raw checks, 4 parallel clients, clean drain"
	host=127.0.0.1
	peer=()
done
