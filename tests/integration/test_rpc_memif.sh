#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gale-bench (native backend, one DPDK process) calls gale-echo (native backend, another DPDK process) over
# net_memif: no kernel networking at all, gale's TCP stack on both ends. 256 connections x pipeline depth 16 for
# GALE_RPC_MEMIF_SECONDS (default 60, the acceptance run; e.g. 10 for a quick check). Checks: the bench exits 0
# with zero errors, every call it sent was answered (calls_sent == calls_answered, and the server counted
# exactly that many requests and replies), after shutdown neither stack had a connection open, and every mbuf
# of both ports' pools came back (each program prints its pool's free count at exit; 0 not returned). Each
# process has two lcores (control thread and one worker, on different CPUs) and sleeps when idle. gale-echo stops
# first (SIGTERM once the bench's workers are done), while gale-bench waits with its port still open: DPDK 22.11's
# memif can crash a process whose worker is polling when its peer disconnects.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
. "$GALE_SOURCE_DIR/tests/lib/native.sh"
gale_fixture_init
echo_bin=$GALE_BUILD_DIR/apps/echo/gale-echo
bench=$GALE_BUILD_DIR/apps/bench/gale-bench
[ -x "$echo_bin" ] && [ -x "$bench" ] || { echo "gale-echo or gale-bench not built" >&2; exit 1; }
secs=${GALE_RPC_MEMIF_SECONDS:-60}
conns=256
depth=16
last=$(($(nproc) - 1))
sock=$GALE_TMP/rpc-memif.sock

# EAL arguments from the fixture (hugepages or --no-huge, unique prefix), with two lcores on two CPUs.
eal_for() {
	gale_eal_args "$1" 0 | sed "s/^-l$/--lcores=$2/; /^0$/d"
}
mapfile -t eal_srv < <(eal_for echo-memif "0@0,1@$last")
mapfile -t eal_cli < <(eal_for bench-memif "0@$last,1@0")

gale_bg echo "$echo_bin" "${eal_srv[@]}" "--vdev=net_memif0,role=server,id=0,socket=$sock,socket-abstract=no,rsize=14" -- \
	--backend native --ip 198.18.0.2/24 --listen '*:9090' --port-file "$GALE_TMP/echo.port" --idle sleep --stack-stats
gale_wait_for 30 "gale-echo listening" test -s "$GALE_TMP/echo.port"
grep -q "listening on 198.18.0.2:9090 (backend native, 1 worker" "$GALE_TMP/echo.log" ||
	{ echo "gale-echo did not announce its native address" >&2; exit 1; }

gale_bg bench "$bench" "${eal_cli[@]}" "--vdev=net_memif0,role=client,id=0,socket=$sock,socket-abstract=no,rsize=14" -- \
	--backend native --ip 198.18.0.3/24 --target 198.18.0.2:9090 --connections "$conns" --pipeline "$depth" \
	--duration "$secs" --warmup 1 --payload 64 --timeout-ms 20000 --idle sleep --progress \
	--json "$GALE_TMP/bench.json" --stack-stats --wait-file "$GALE_TMP/echo.stopped"
gale_wait_for $((secs + 90)) "gale-bench to finish its calls" grep -q "waiting for" "$GALE_TMP/bench.log"

kill -TERM "$(gale__bg_pid echo)"
status=0
gale_wait_pid echo 30 || status=$?
tail -n 4 "$GALE_TMP/echo.log"
[ "$status" = 0 ] || { echo "gale-echo exited with status $status" >&2; exit 1; }
touch "$GALE_TMP/echo.stopped"
status=0
gale_wait_pid bench 30 || status=$?
tail -n 8 "$GALE_TMP/bench.log"
[ "$status" = 0 ] || { echo "gale-bench exited with status $status" >&2; exit 1; }

json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }
sent=$(json "$GALE_TMP/bench.json" calls_sent)
answered=$(json "$GALE_TMP/bench.json" calls_answered)
errors=$(json "$GALE_TMP/bench.json" errors)
ok=$(json "$GALE_TMP/bench.json" calls_ok)
[ "$errors" = 0 ] || { echo "gale-bench counted $errors errors" >&2; exit 1; }
[ "$sent" -gt 0 ] && [ "$sent" = "$answered" ] || { echo "calls sent $sent, answered $answered" >&2; exit 1; }
gale_native_exit_ok gale-bench "$GALE_TMP/bench.log"

grep -q "stopped (clean)" "$GALE_TMP/echo.log" || { echo "gale-echo did not drain cleanly" >&2; exit 1; }
reqs=$(sed -n 's/.* \([0-9]*\) requests, \([0-9]*\) replies.*/\1/p' "$GALE_TMP/echo.log")
reps=$(sed -n 's/.* \([0-9]*\) requests, \([0-9]*\) replies.*/\2/p' "$GALE_TMP/echo.log")
[ "$reqs" = "$sent" ] && [ "$reps" = "$sent" ] ||
	{ echo "gale-echo counted $reqs requests and $reps replies; gale-bench sent $sent" >&2; exit 1; }
gale_native_exit_ok gale-echo "$GALE_TMP/echo.log"
echo "memif: gale-bench -> gale-echo, native both ends, $conns connections x pipeline $depth, ${secs} s: $sent calls" \
	"sent and answered ($ok measured), 0 errors, no connection left, pools full"
