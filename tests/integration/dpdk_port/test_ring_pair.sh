#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A crossed net_ring pair in one process, 2 workers: worker k injects its share of the frames (16 flows) on
# queue k of the far side; the near side must count each flow on its owner worker (software steering).
# Then the same through the impairment layer: rx duplication doubles what is counted, rx drop of every
# frame counts none, each accounted in the impairment counters; the pool is full at the end every time.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
N=6400
FLOWS=16
here=$(dirname "$0")
run() {
	local name=$1
	shift
	"$GALE_PORT_TEST" --no-pci -l 0-1 --no-huge -m 512 --file-prefix "gale-ring-$name-$$" \
		--log-level=lib.eal:warning -- --ring-pair --flows "$FLOWS" --duration 30 "$@" \
		>"$GALE_TMP/$name.log" 2>&1
}
run plain --count "$N"
log="$GALE_TMP/plain.log"
grep -E '^(port|worker|total|mbufs)' "$log"
grep -q "port net_ring_gring_b .* 2 worker(s).*steer sw" "$log"
/usr/bin/python3 "$here/check_flows.py" "$log" 2 --min-flows "$FLOWS" --expect-total "$N" --need-forwarding
grep -q '^mbufs: \([0-9]*\)/\1 free' "$log"

run dup --count 1000 --expect 2000 --impair-rx dup=1,seed=5
grep -E '^(total|impair|mbufs)' "$GALE_TMP/dup.log"
grep -q '^total: rx 2000 .* test 2000 ' "$GALE_TMP/dup.log"
grep -q '^impair rx: packets 1000 dropped 0 duplicated 1000 ' "$GALE_TMP/dup.log"
grep -q '^mbufs: \([0-9]*\)/\1 free' "$GALE_TMP/dup.log"

set +e
run drop --count 1000 --expect 1000 --duration 2 --impair-rx drop=1,seed=5
rc=$?
set -e
grep -E '^(total|impair|mbufs)' "$GALE_TMP/drop.log"
[ "$rc" -eq 3 ] || { echo "all dropped: exit $rc, want 3 (expected frames not counted)" >&2; exit 1; }
grep -q '^total: rx 0 ' "$GALE_TMP/drop.log"
grep -q '^impair rx: packets 1000 dropped 1000 ' "$GALE_TMP/drop.log"
grep -q '^mbufs: \([0-9]*\)/\1 free' "$GALE_TMP/drop.log"
echo "net_ring pair: $N frames of $FLOWS flows on their owners; impairments counted"
