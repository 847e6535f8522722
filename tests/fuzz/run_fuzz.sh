#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_fuzz.sh TARGET SEED_DIR...: a bounded fuzz run (libFuzzer builds) or a replay of the seeds (other builds).
# Several seed directories may be given (e.g. a target's own seeds and test inputs kept elsewhere in tests/).
# The working corpus lives in a temp dir removed on exit; seeds are never modified. A crash fails the test
# and leaves the crashing input's bytes in the log (hex) so it can be turned into a seed.
set -euo pipefail
target=$1
shift
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || { echo "usage: run_fuzz.sh TARGET SEED_DIR..." >&2; exit 1; }
for d in "${seeds[@]}"; do
	[ -d "$d" ] || { echo "no seed directory $d" >&2; exit 1; }
done
if [ "${GALE_FUZZ_LIBFUZZER:-0}" != 1 ]; then
	exec "$target" "${seeds[@]}"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/gale-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
set +e
# libFuzzer's own failure exit code is 77, which meson reads as "skipped": make every failure exit 1.
"$target" -max_total_time="${GALE_FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$work/" "$work/corpus" "${seeds[@]}" 2>"$work/log"
st=$?
set -e
tail -n 25 "$work/log"
for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
	[ -f "$f" ] || continue
	echo "artifact $(basename "$f"): $(od -An -tx1 -v "$f" | tr -d ' \n' | head -c 2000)"
	st=1
done
# 77 must never come out of here for a run that happened: it would read as a skip.
[ "$st" -eq 77 ] && st=1
exit "$st"
