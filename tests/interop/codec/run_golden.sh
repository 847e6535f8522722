#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_golden.sh TEST_GOLDEN GOLDEN_PY: Apache Thrift (python3-thrift) writes the vectors into a temp dir at test
# time, then test_golden checks gale against them. Exits 77 when /usr/bin/python3 cannot import thrift.
set -euo pipefail
prog=$1
helper=$2
if ! /usr/bin/python3 -c 'import thrift' 2>/dev/null; then
	echo "skip: /usr/bin/python3 cannot import thrift (install python3-thrift)"
	exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/gale-golden.XXXXXX")
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 "$helper" "$dir"
"$prog" "$dir"
