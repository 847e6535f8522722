#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Blocking RPC calls from plain threads on the native backend (gale/rpc_remote.h): test_rpc_remote runs in a
# network namespace this test creates, on a net_tap port; its worker's clients use gale's TCP stack on the port
# and call the Echo server the same process serves on a kernel socket, reached over the tap from the kernel's
# side (198.18.0.1). The program's checks (tests/integration/rpc_remote.c): every reply of 4 threads x 200
# calls, a silent server's -ETIMEDOUT, -EBUSY past the slots, -ECANCELED for the calls waiting at stop; then
# no connection left in the stack and every mbuf back in the port's pool (tests/lib/native.sh).
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
. "$GALE_SOURCE_DIR/tests/lib/native.sh"
gale_fixture_init
prog=$GALE_BUILD_DIR/tests/integration/test_rpc_remote
[ -x "$prog" ] || { echo "test_rpc_remote not built" >&2; exit 1; }
last=$(($(nproc) - 1))

gale_netns_new ns
mapfile -t eal < <(gale_eal_args rremote "0@0,1@$last")
gale_tap_start "$ns" grr0 198.18.0.1 "$prog" "${eal[@]}" --vdev=net_tap0,iface=grr0 -- \
	--backend native --ip 198.18.0.2/24 --peer 198.18.0.1 --threads 4 --calls 200
name=tap-grr0
log=$GALE_TMP/$name.log
status=0
gale_wait_pid "$name" 150 || status=$?
cat "$log"
[ "$status" -eq 0 ] || { echo "test_rpc_remote (native) failed: status $status" >&2; exit 1; }
grep -q "blocking calls from plain threads (native backend): ok" "$log" ||
	{ echo "test_rpc_remote did not run on the native backend" >&2; exit 1; }
gale_native_exit_ok test_rpc_remote "$log"
echo "blocking calls from plain threads over gale's stack on net_tap: ok"
