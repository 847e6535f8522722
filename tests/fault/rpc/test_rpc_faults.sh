#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# RPC faults on the kernel backend over loopback (fault_server: gale's RPC server; fault_client: gale's RPC
# client; malformed.py: raw sockets), each checked by its program and in the counters read through the EAL's
# telemetry socket (/gale/rpc/server, /gale/rpc/client; tel.py):
#   1. timeout: a call whose handler stalls past the client's RPC timeout fails with -ETIMEDOUT; its late reply is
#      discarded and counted; the connection serves the next calls.
#   2. malformed frames: garbage arguments and an unreadable envelope get a TApplicationException PROTOCOL_ERROR
#      and their connection stays open; a frame over the limit and broken framing close their connection; the
#      other connections and the server go on; so does a client gone (RST) after half a frame.
#   3. failover: two servers, one SIGKILLed with a call in flight on each: that call fails with a connection
#      error well before its timeout, the survivor's succeeds, and every later call succeeds on the survivor.
#   3b. an endpoint with no server: calls routed there fail over to the other; it is retried after its wait.
#   3c. the server closes an idle connection while a blocking client is not polling: its next call goes out on a
#      new connection instead of failing on the dead one.
#   4. one server, SIGKILLed: calls fail at once with a connection error; restarted on its port, the client
#      recovers.
# usage: test_rpc_faults.sh FAULT_SERVER FAULT_CLIENT
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
server=$1
client=$2
here=$GALE_SOURCE_DIR/tests/fault/rpc
[ -x "$server" ] && [ -x "$client" ] || gale_skip "fault_server/fault_client not built"
last=$(($(nproc) - 1))
sync=$GALE_TMP/sync
mkdir -p "$sync"

tel() { /usr/bin/python3 "$here/tel.py" "$@"; }

# start_server NAME ID LISTEN [options...]: a fault_server, waited for until it listens; its port in NAME.port.
start_server() {
	local name=$1 id=$2 listen=$3
	shift 3
	gale_bg "$name" "$server" --no-pci --no-huge -m 256 "--file-prefix=gale-$name-$$" \
		--log-level=lib.eal:warning "--lcores=0@0,1@$last" -- \
		--listen "$listen" --id "$id" --port-file "$GALE_TMP/$name.port" "$@"
	gale_wait_for 20 "$name to listen" test -s "$GALE_TMP/$name.port"
}

# kill_server NAME: SIGKILL, and reap it.
kill_server() {
	local pid
	pid=$(gale__bg_pid "$1")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
}

# at POINT: wait for the client to reach a sync point; go POINT: let it continue.
at() { gale_wait_for 30 "the client at '$1'" test -e "$sync/$1"; }
go() { touch "$sync/$1.go"; }

# client_done NAME: the client exits by itself with status 0.
client_done() {
	local status=0
	gale_wait_pid "$1" 60 || status=$?
	cat "$GALE_TMP/$1.log"
	[ "$status" = 0 ] || { echo "$1 exited with status $status" >&2; exit 1; }
}

echo "== 1. timeout and late reply"
start_server srv-t 0 127.0.0.1:0 --max-frame 1048576
port=$(cat "$GALE_TMP/srv-t.port")
gale_bg cl-t "$client" --no-pci --no-huge -m 128 "--file-prefix=gale-clt-$$" --log-level=lib.eal:warning \
	"--lcores=0@$last" -- --mode timeout --endpoint "127.0.0.1:$port" --sync "$sync"
at hold
echo "client counters: $(tel --prefix "gale-clt-$$" /gale/rpc/client 0)"
tel --prefix "gale-clt-$$" /gale/rpc/client 0.timeouts == 1
tel --prefix "gale-clt-$$" /gale/rpc/client 0.late_replies == 1
tel --prefix "gale-clt-$$" /gale/rpc/client 0.calls == 4
tel --prefix "gale-clt-$$" /gale/rpc/client 0.failed == 1
tel --prefix "gale-clt-$$" /gale/rpc/client 0.conns_open == 1
tel --prefix "gale-clt-$$" /gale/rpc/client 0.in_flight == 0
echo "server counters: $(tel --prefix "gale-srv-t-$$" /gale/rpc/server 0)"
tel --prefix "gale-srv-t-$$" /gale/rpc/server 0.requests == 4
tel --prefix "gale-srv-t-$$" /gale/rpc/server 0.replies == 4
tel --prefix "gale-srv-t-$$" /gale/rpc/server 0.deferred == 1
tel --prefix "gale-srv-t-$$" /gale/rpc/server 0.conns_open == 1
go hold
client_done cl-t

echo "== 2. malformed frames"
srv() { tel --prefix "gale-srv-t-$$" /gale/rpc/server "0.$1"; }
gale_wait_for 10 "the timeout client's connection to close" test "$(srv conns_open)" = 0
proto0=$(srv ex_protocol)
bad0=$(srv bad_frames)
req0=$(srv requests)
acc0=$(srv conns_accepted)
timeout 60 /usr/bin/python3 "$here/malformed.py" --port "$port"
gale_wait_for 10 "the malformed-frame connections to close" test "$(srv conns_open)" = 0
echo "server counters: $(tel --prefix "gale-srv-t-$$" /gale/rpc/server 0)"
tel --prefix "gale-srv-t-$$" /gale/rpc/server 0.ex_protocol == $((proto0 + 2))
tel --prefix "gale-srv-t-$$" /gale/rpc/server 0.bad_frames == $((bad0 + 2))
tel --prefix "gale-srv-t-$$" /gale/rpc/server 0.requests == $((req0 + 11))
tel --prefix "gale-srv-t-$$" /gale/rpc/server 0.conns_accepted == $((acc0 + 7))
kill -TERM "$(gale__bg_pid srv-t)"
gale_wait_pid srv-t 20

echo "== 3. failover: two servers, one killed mid-run"
start_server srv-a 0 127.0.0.1:0
start_server srv-b 1 127.0.0.1:0
gale_bg cl-f "$client" --mode failover --endpoint "127.0.0.1:$(cat "$GALE_TMP/srv-a.port")" \
	--endpoint "127.0.0.1:$(cat "$GALE_TMP/srv-b.port")" --sync "$sync"
at kill
kill_server srv-a
go kill
client_done cl-f

echo "== 3b. an endpoint with no server at all (a port just closed): fails over, retried after its wait"
dead=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
gale_bg cl-d "$client" --mode dead --endpoint "127.0.0.1:$dead" \
	--endpoint "127.0.0.1:$(cat "$GALE_TMP/srv-b.port")" --sync "$sync"
client_done cl-d
kill -TERM "$(gale__bg_pid srv-b)"
gale_wait_pid srv-b 20

echo "== 3c. a connection the server closed as idle while the (blocking) client was not polling"
start_server srv-i 0 127.0.0.1:0 --idle-timeout-ms 200
gale_bg cl-i "$client" --mode idle --endpoint "127.0.0.1:$(cat "$GALE_TMP/srv-i.port")" --sync "$sync"
at idle
gale_wait_for 10 "the server to close the idle connection" \
	tel --prefix "gale-srv-i-$$" /gale/rpc/server 0.idle_closed == 1
go idle
client_done cl-i
kill -TERM "$(gale__bg_pid srv-i)"
gale_wait_pid srv-i 20

echo "== 4. one server, killed, then back on its port"
rm -f "$sync"/*
start_server srv-c 0 127.0.0.1:0
port=$(cat "$GALE_TMP/srv-c.port")
gale_bg cl-s "$client" --mode single --endpoint "127.0.0.1:$port" --sync "$sync"
at kill
kill_server srv-c
go kill
at restart
start_server srv-c2 0 "127.0.0.1:$port"
go restart
client_done cl-s
echo "rpc faults: ok"
