#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gale-bench on loopback (kernel backend):
#  1. closed loop against gale-echo (framed/binary and ttheader/compact): calls complete, every answer checked,
#     no error, JSON written with the fields perf/ reads;
#  2. it drives a non-gale server: Apache Thrift's C++ TNonblockingServer (framed, binary);
#  3. open loop against Apache's threaded server with injected stalls (every 400th call sleeps 40 ms): latency
#     measured from the intended send time includes the queueing behind each stall (p90 far above a call's
#     normal time, max about the stall), while a closed-loop run against the same server, which measures from
#     the actual send time, sees almost none of it (p90 stays low). That contrast is what would vanish if the
#     open-loop mode measured the way a closed loop does.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
bench=$GALE_BUILD_DIR/apps/bench/gale-bench
echo_srv=$GALE_BUILD_DIR/apps/echo/gale-echo
thrift_srv=$GALE_BUILD_DIR/tests/peers/thrift-echo-server
[ -x "$bench" ] && [ -x "$echo_srv" ] || { echo "gale-bench or gale-echo not built" >&2; exit 1; }

json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }

# 1. gale-echo, two transport/protocol pairs.
gale_bg echo "$echo_srv" --listen 127.0.0.1:0 --port-file "$GALE_TMP/echo.port"
gale_wait_for 30 "gale-echo listening" test -s "$GALE_TMP/echo.port"
port=$(cat "$GALE_TMP/echo.port")
for tp in framed/binary ttheader/compact; do
	"$bench" --target "127.0.0.1:$port" --transport "${tp%/*}" --protocol "${tp#*/}" --connections 4 \
		--pipeline 4 --duration 2 --warmup 0.5 --payload 100 --json "$GALE_TMP/closed.json"
	ok=$(json "$GALE_TMP/closed.json" calls_ok)
	[ "$(json "$GALE_TMP/closed.json" errors)" = 0 ] || { echo "$tp: errors against gale-echo" >&2; exit 1; }
	[ "$(json "$GALE_TMP/closed.json" "int(calls_ok > 1000)")" = 1 ] || { echo "$tp: only $ok calls" >&2; exit 1; }
	[ "$(json "$GALE_TMP/closed.json" "int(latency['p50_ns'] <= latency['p99_ns'] <= latency['max_ns'])")" = 1 ]
	echo "gale-bench -> gale-echo ($tp): $ok calls, no error"
done
kill -TERM "$(gale__bg_pid echo)"
gale_wait_pid echo 20

[ -x "$thrift_srv" ] || gale_skip "thrift-echo-server not built (needs thrift-compiler and libthrift-dev); parts 2-3 skipped"

# 2. Apache's TNonblockingServer.
gale_bg nb "$thrift_srv" --server nonblocking --transport framed --port-file "$GALE_TMP/nb.port"
gale_wait_for 30 "thrift nonblocking server" test -s "$GALE_TMP/nb.port"
"$bench" --target "127.0.0.1:$(cat "$GALE_TMP/nb.port")" --connections 2 --pipeline 2 --duration 1 --warmup 0.2 \
	--json "$GALE_TMP/nb.json"
[ "$(json "$GALE_TMP/nb.json" errors)" = 0 ] && [ "$(json "$GALE_TMP/nb.json" "int(calls_ok > 100)")" = 1 ]
echo "gale-bench -> Apache TNonblockingServer: $(json "$GALE_TMP/nb.json" calls_ok) calls, no error"

# 3. Stalls: open loop vs closed loop against the same stalling server.
gale_bg stall "$thrift_srv" --server threaded --transport framed --stall-every 400 --stall-ms 40 \
	--port-file "$GALE_TMP/stall.port"
gale_wait_for 30 "stalling thrift server" test -s "$GALE_TMP/stall.port"
target=127.0.0.1:$(cat "$GALE_TMP/stall.port")
"$bench" --target "$target" --rate 2000 --duration 3 --warmup 0.2 --timeout-ms 2000 --json "$GALE_TMP/open.json"
"$bench" --target "$target" --duration 3 --warmup 0.2 --timeout-ms 2000 --json "$GALE_TMP/co.json"
open_p90=$(json "$GALE_TMP/open.json" "latency['p90_ns']")
open_max=$(json "$GALE_TMP/open.json" "latency['max_ns']")
co_p90=$(json "$GALE_TMP/co.json" "latency['p90_ns']")
echo "open loop p90 ${open_p90} ns max ${open_max} ns; closed loop p90 ${co_p90} ns"
[ "$(json "$GALE_TMP/open.json" errors)" = 0 ] && [ "$(json "$GALE_TMP/co.json" errors)" = 0 ]
# At 2,000 calls/s a 40 ms stall every 400 calls (every 0.2 s) leaves 80 calls queued behind it, waiting
# 40..0 ms: a fifth of all calls, so p90 is several ms. The closed loop sees one slow call per stall.
[ "$(json "$GALE_TMP/open.json" "int(latency['p90_ns'] > 4000000 and latency['max_ns'] > 30000000)")" = 1 ] ||
	{ echo "open loop did not measure the queueing behind the stalls" >&2; exit 1; }
[ "$(json "$GALE_TMP/co.json" "int(latency['p90_ns'] < 4000000)")" = 1 ] ||
	{ echo "closed loop p90 unexpectedly high: the contrast this test relies on is gone" >&2; exit 1; }
echo "open loop includes stall queueing; closed loop does not"
