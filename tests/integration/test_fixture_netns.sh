#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The netns fixture itself: namespaces and veth come up and carry traffic; two fixtures at once do not collide;
# everything is removed on a normal exit, on a failing exit, and on SIGINT/SIGTERM.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init

leftovers() { ip netns list | grep -c "^gale-$1-" || true; }

# 1. A child fixture with two namespaces joined by veth: ping across, report its pid, exit with a given status.
cat >"$GALE_TMP/child.sh" <<CHILD
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
gale_netns_new a
gale_netns_new b
gale_veth_pair "\$a" 198.18.1.1 "\$b" 198.18.1.2
ip netns exec "\$a" ping -c 2 -i 0.2 -W 2 198.18.1.2 >/dev/null
echo "\$\$" >"\$1"
case "\$2" in
	ok) exit 0 ;;
	fail) exit 7 ;;
	hang) gale_bg sleeper sleep 300; echo "\${GALE_BG_PIDS[-1]}" >"\$1.bg"; touch "\$1.ready"; wait ;;
esac
CHILD

for mode in ok fail; do
	set +e
	bash "$GALE_TMP/child.sh" "$GALE_TMP/pid.$mode" "$mode"
	st=$?
	set -e
	want=0
	[ "$mode" = fail ] && want=7
	[ "$st" -eq "$want" ] || { echo "child ($mode) exited $st, want $want" >&2; exit 1; }
	pid=$(cat "$GALE_TMP/pid.$mode")
	n=$(leftovers "$pid")
	[ "$n" -eq 0 ] || { echo "child ($mode) left $n namespaces behind" >&2; exit 1; }
done

# 2. Two fixtures at once, each interrupted (INT, TERM) while a background process runs: both clean up.
for sig in INT TERM; do
	# A background job of a non-interactive shell starts with SIGINT ignored; give it the default back.
	env --default-signal=INT bash "$GALE_TMP/child.sh" "$GALE_TMP/pid.$sig" hang &
	cpid=$!
	gale_wait_for 20 "child fixture ready ($sig)" test -f "$GALE_TMP/pid.$sig.ready"
	eval "cpid_$sig=$cpid"
done
[ "$(leftovers "$(cat "$GALE_TMP/pid.INT")")" -eq 2 ] || { echo "first fixture lost a namespace" >&2; exit 1; }
[ "$(leftovers "$(cat "$GALE_TMP/pid.TERM")")" -eq 2 ] || { echo "second fixture lost a namespace" >&2; exit 1; }
for sig in INT TERM; do
	eval "cpid=\$cpid_$sig"
	kill -"$sig" "$cpid"
	set +e
	wait "$cpid"
	set -e
	n=$(leftovers "$(cat "$GALE_TMP/pid.$sig")")
	[ "$n" -eq 0 ] || { echo "child interrupted by SIG$sig left $n namespaces" >&2; exit 1; }
	if kill -0 "$(cat "$GALE_TMP/pid.$sig.bg")" 2>/dev/null; then
		echo "child interrupted by SIG$sig left its background process" >&2
		exit 1
	fi
done
echo "fixture: create, veth ping, cleanup on exit 0 / exit 7 / SIGINT / SIGTERM, two at once: ok"
