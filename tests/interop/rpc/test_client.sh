#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gale's RPC client (rpc_client_driver: blocking and pipelined asynchronous calls, two pooled connections) on
# loopback against:
#   - Apache Thrift's C++ TNonblockingServer (framed, header) and TThreadedServer (framed, buffered, header), binary
#     and compact, when tests/peers built thrift-echo-server;
#   - gale-echo, for framed, buffered, THeader and TTHeader, binary and compact;
#   - two servers as two endpoints: round-robin sends each about half of the calls;
#   - a connect that never completes (connect timeout) and one that is refused;
#   - a TThreadedServer that stalls every 4th call for 1500 ms, with a 300 ms RPC timeout: calls time out, late
#     replies are dropped and counted, and the other calls get their own answers.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
driver=$GALE_BUILD_DIR/tests/interop/rpc/rpc_client_driver
server=$GALE_BUILD_DIR/tests/peers/thrift-echo-server
echo_bin=$GALE_BUILD_DIR/apps/echo/gale-echo
[ -x "$driver" ] || gale_skip "rpc_client_driver not built"
# Connect timeout (a listener whose queue is full drops SYNs) and a refused connect: no peer needed.
timeout 60 "$driver" --mode connect-timeout
[ -x "$server" ] || gale_skip "thrift-echo-server not built (needs thrift-compiler and libthrift-dev)"
n=0

for kind in nonblocking threaded; do
	for transport in framed buffered header; do
		[ "$kind" = nonblocking ] && [ "$transport" = buffered ] && continue
		for protocol in binary compact; do
			name="$kind-$transport-$protocol"
			gale_bg "$name" "$server" --server "$kind" --transport "$transport" --protocol "$protocol" \
				--port-file "$GALE_TMP/$name.port"
			gale_wait_for 20 "$name to listen" test -s "$GALE_TMP/$name.port"
			timeout 120 "$driver" --endpoint "127.0.0.1:$(cat "$GALE_TMP/$name.port")" \
				--transport "$transport" --protocol "$protocol" --calls 10 --payload 70000
			kill -TERM "$(gale__bg_pid "$name")"
			gale_wait_pid "$name" 20 || true
			n=$((n + 1))
		done
	done
done
echo "gale client vs Apache C++ servers: $n server/transport/protocol combinations ok"

ncpu=$(nproc)
gale_bg gale-echo "$echo_bin" --no-pci --no-huge -m 256 "--file-prefix=gale-echo-client-$$" \
	--log-level=lib.eal:warning "--lcores=0@0,1@$((ncpu - 1))" -- \
	--listen 127.0.0.1:0 --port-file "$GALE_TMP/gale-echo.port"
gale_wait_for 20 "gale-echo to listen" test -s "$GALE_TMP/gale-echo.port"
m=0
for transport in framed buffered header ttheader; do
	for protocol in binary compact; do
		timeout 120 "$driver" --endpoint "127.0.0.1:$(cat "$GALE_TMP/gale-echo.port")" \
			--transport "$transport" --protocol "$protocol" --calls 10 --payload 70000
		m=$((m + 1))
	done
done
kill -TERM "$(gale__bg_pid gale-echo)"
gale_wait_pid gale-echo 30
echo "gale client vs gale-echo: $m transport/protocol pairs ok"

# Two endpoints: round-robin spreads the calls over both servers (each reports how many it served).
for e in rr1 rr2; do
	gale_bg "$e" "$server" --server threaded --transport framed --protocol binary --port-file "$GALE_TMP/$e.port"
	gale_wait_for 20 "$e to listen" test -s "$GALE_TMP/$e.port"
done
timeout 120 "$driver" --endpoint "127.0.0.1:$(cat "$GALE_TMP/rr1.port")" \
	--endpoint "127.0.0.1:$(cat "$GALE_TMP/rr2.port")" --transport framed --protocol binary --calls 10
for e in rr1 rr2; do
	kill -TERM "$(gale__bg_pid "$e")"
	gale_wait_pid "$e" 20 || true
	served=$(sed -n 's/.*stopped after \([0-9]*\) calls.*/\1/p' "$GALE_TMP/$e.log")
	# 10 x 7 blocking calls and 64 async ones: about half each way.
	if [ -z "$served" ] || [ "$served" -lt 50 ]; then
		echo "round-robin: $e served ${served:-no} calls, expected about 67" >&2
		cat "$GALE_TMP/$e.log" >&2
		exit 1
	fi
	echo "round-robin: $e served $served calls"
done

gale_bg stall "$server" --server threaded --transport framed --protocol binary --stall-every 4 --stall-ms 1500 \
	--port-file "$GALE_TMP/stall.port"
gale_wait_for 20 "stalling server to listen" test -s "$GALE_TMP/stall.port"
timeout 120 "$driver" --endpoint "127.0.0.1:$(cat "$GALE_TMP/stall.port")" --transport framed --protocol binary \
	--mode timeout --timeout-ms 300 --calls 10 --conns 1
kill -TERM "$(gale__bg_pid stall)"
gale_wait_pid stall 20 || true
