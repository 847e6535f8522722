#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_bench.sh BUILD_DIR [ITERATIONS]: runs the gale-thriftc codec benchmark (bench_gale, generated C) and its
# Apache Thrift C++ baseline (bench_apache) one after the other on one pinned core (the last one), same message,
# same iteration count, and prints a table with the speedup. Nothing else should run meanwhile.
set -euo pipefail
build=$1
iters=${2:-1000000}
dir=$build/codec/thriftc/bench
core=$(( $(nproc) - 1 ))
pin=()
if command -v taskset >/dev/null; then
	pin=(taskset -c "$core")
fi
runs=${GALE_BENCH_RUNS:-5}
# Best of $runs alternating runs per line: the minimum is the least disturbed by whatever else the machine does.
best() {
	awk '{ k = $1 " " $2 " " $3; if (!(k in m) || $4 < m[k]) { m[k] = $4; b[k] = $5 } if (!(k in o)) o[k] = n++ }
	     END { for (k in o) print o[k], k, m[k], b[k] }' | sort -n | cut -d' ' -f2-
}
gale_all=""
apache_all=""
for _ in $(seq "$runs"); do
	gale_all+=$("${pin[@]}" "$dir/bench_gale" "$iters")$'\n'
	apache_all+=$("${pin[@]}" "$dir/bench_apache" "$iters")$'\n'
done
gale=$(printf '%s' "$gale_all" | grep . | best)
apache=$(printf '%s' "$apache_all" | grep . | best)
echo "# gale-thriftc generated C vs Apache Thrift $(pkg-config --modversion thrift 2>/dev/null || echo '?') generated C++"
echo "# message: bench.thrift Order (10 items, 5 attrs, 64-byte payload); $iters iterations, best of $runs runs; core $core"
echo "# command: $0 $*"
printf '%-8s %-7s %10s %10s %8s %7s\n' proto op gale_ns apache_ns speedup bytes
while read -r _ proto op ns bytes; do
	ans=$(echo "$apache" | awk -v p="$proto" -v o="$op" '$2 == p && $3 == o { print $4 }')
	printf '%-8s %-7s %10.1f %10.1f %7.2fx %7s\n' "$proto" "$op" "$ns" "$ans" "$(echo "$ans / $ns" | bc -l)" "$bytes"
done <<<"$gale"
