#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Apache Thrift peers themselves: Apache's Python and C++ clients call Apache's C++ echo server for every
# server kind and transport x protocol pair it supports, on loopback. Proves the interop harness before gale is measured
# against it (a broken peer must fail here, not make a gale test pass or fail for the wrong reason).
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
server=$GALE_BUILD_DIR/tests/peers/thrift-echo-server
[ -x "$server" ] || gale_skip "thrift-echo-server not built (needs thrift-compiler and libthrift-dev)"
/usr/bin/python3 -c 'import thrift' 2>/dev/null || gale_skip "python3-thrift is not installed"
n=0
for kind in nonblocking threaded; do
	for transport in framed buffered header; do
		[ "$kind" = nonblocking ] && [ "$transport" = buffered ] && continue
		for protocol in binary compact; do
			name="$kind-$transport-$protocol"
			gale_bg "$name" "$server" --server "$kind" --transport "$transport" --protocol "$protocol" \
				--port-file "$GALE_TMP/$name.port"
			gale_wait_for 20 "$name to listen" test -s "$GALE_TMP/$name.port"
			/usr/bin/python3 "$GALE_SOURCE_DIR/tests/peers/echo_client.py" --gen-dir "$GALE_TMP/gen-py" \
				--port "$(cat "$GALE_TMP/$name.port")" --transport "$transport" --protocol "$protocol" \
				--calls 20 --payload 70000
			"$GALE_BUILD_DIR/tests/peers/thrift-echo-client" --port "$(cat "$GALE_TMP/$name.port")" \
				--transport "$transport" --protocol "$protocol" --calls 20 --payload 70000
			kill -TERM "$(gale__bg_pid "$name")"
			gale_wait_pid "$name" 20 || true
			n=$((n + 1))
		done
	done
done
echo "thrift peers: $n server/transport/protocol combinations answered correctly"
