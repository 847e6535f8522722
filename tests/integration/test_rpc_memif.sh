#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# gale-bench (native backend, one DPDK process) calls gale-echo (native backend, another DPDK process) over
# net_memif: no kernel networking at all, gale's TCP stack on both ends. 256 connections x pipeline depth 16 for
# GALE_RPC_MEMIF_SECONDS (default 60, the acceptance run; e.g. 10 for a quick check). Checks: the bench exits 0
# with zero errors, every call it sent was answered (calls_sent == calls_answered, and the server counted
# exactly that many requests and replies), after shutdown neither stack had a connection open, and every mbuf
# of both ports' pools came back (each program prints its pool's free count at exit; 0 not returned). Each
# process has two lcores (control thread and one worker, on different CPUs) and sleeps when idle. Then a short
# second pair: 4 MiB echoes each way (2 connections x pipeline 2, 3 s), the stacks' windows, retransmissions and
# the backends' gathering of frames longer than one peek on both ends; same checks. gale-echo stops
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
last=$(($(nproc) - 1))

# EAL arguments from the fixture (hugepages or --no-huge, unique prefix), with two lcores on two CPUs (run_pair).
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }

# run_pair TAG SECONDS CONNECTIONS DEPTH PAYLOAD TIMEOUT_MS: gale-echo and gale-bench over their own memif link,
# then every check; sets $sent and $ok.
run_pair() {
	local tag=$1 secs=$2 conns=$3 depth=$4 payload=$5 tmo=$6 status answered errors reqs reps
	local sock=$GALE_TMP/memif-$tag.sock srv=echo-$tag cli=bench-$tag
	local -a eal_srv eal_cli
	mapfile -t eal_srv < <(gale_eal_args "$srv" "0@0,1@$last")
	mapfile -t eal_cli < <(gale_eal_args "$cli" "0@$last,1@0")
	gale_bg "$srv" "$echo_bin" "${eal_srv[@]}" \
		"--vdev=net_memif0,role=server,id=0,socket=$sock,socket-abstract=no,rsize=14" -- \
		--backend native --ip 198.18.0.2/24 --listen '*:9090' --port-file "$GALE_TMP/$srv.port" --idle sleep \
		--stack-stats
	gale_wait_for 30 "gale-echo ($tag) listening" test -s "$GALE_TMP/$srv.port"
	grep -q "listening on 198.18.0.2:9090 (backend native, 1 worker" "$GALE_TMP/$srv.log" ||
		{ echo "gale-echo ($tag) did not announce its native address" >&2; exit 1; }
	gale_bg "$cli" "$bench" "${eal_cli[@]}" \
		"--vdev=net_memif0,role=client,id=0,socket=$sock,socket-abstract=no,rsize=14" -- \
		--backend native --ip 198.18.0.3/24 --target 198.18.0.2:9090 --connections "$conns" --pipeline "$depth" \
		--duration "$secs" --warmup 1 --payload "$payload" --timeout-ms "$tmo" --idle sleep --progress \
		--json "$GALE_TMP/$cli.json" --stack-stats --wait-file "$GALE_TMP/$srv.stopped"
	gale_wait_for $((secs + 90)) "gale-bench ($tag) to finish its calls" grep -q "waiting for" "$GALE_TMP/$cli.log"

	kill -TERM "$(gale__bg_pid "$srv")"
	status=0
	gale_wait_pid "$srv" 30 || status=$?
	tail -n 4 "$GALE_TMP/$srv.log"
	[ "$status" = 0 ] || { echo "gale-echo ($tag) exited with status $status" >&2; exit 1; }
	touch "$GALE_TMP/$srv.stopped"
	status=0
	gale_wait_pid "$cli" 30 || status=$?
	tail -n 8 "$GALE_TMP/$cli.log"
	[ "$status" = 0 ] || { echo "gale-bench ($tag) exited with status $status" >&2; exit 1; }

	sent=$(json "$GALE_TMP/$cli.json" calls_sent)
	answered=$(json "$GALE_TMP/$cli.json" calls_answered)
	errors=$(json "$GALE_TMP/$cli.json" errors)
	ok=$(json "$GALE_TMP/$cli.json" calls_ok)
	[ "$errors" = 0 ] || { echo "gale-bench ($tag) counted $errors errors" >&2; exit 1; }
	[ "$sent" -gt 0 ] && [ "$sent" = "$answered" ] ||
		{ echo "$tag: calls sent $sent, answered $answered" >&2; exit 1; }
	gale_native_exit_ok "gale-bench ($tag)" "$GALE_TMP/$cli.log"

	grep -q "stopped (clean)" "$GALE_TMP/$srv.log" || { echo "gale-echo ($tag) did not drain cleanly" >&2; exit 1; }
	reqs=$(sed -n 's/.* \([0-9]*\) requests, \([0-9]*\) replies.*/\1/p' "$GALE_TMP/$srv.log")
	reps=$(sed -n 's/.* \([0-9]*\) requests, \([0-9]*\) replies.*/\2/p' "$GALE_TMP/$srv.log")
	[ "$reqs" = "$sent" ] && [ "$reps" = "$sent" ] ||
		{ echo "gale-echo ($tag) counted $reqs requests and $reps replies; gale-bench sent $sent" >&2; exit 1; }
	gale_native_exit_ok "gale-echo ($tag)" "$GALE_TMP/$srv.log"
}

run_pair soak "$secs" 256 16 64 20000
echo "memif: gale-bench -> gale-echo, native both ends, 256 connections x pipeline 16, ${secs} s: $sent calls" \
	"sent and answered ($ok measured), 0 errors, no connection left, pools full"
run_pair big 3 2 2 4194304 30000
echo "memif: 4 MiB echoes, 2 connections x pipeline 2, 3 s: $sent calls sent and answered, 0 errors," \
	"no connection left, pools full"
