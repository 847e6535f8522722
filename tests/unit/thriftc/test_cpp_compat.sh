#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_cpp_compat.sh COMPAT_GALE COMPAT_APACHE: wire compatibility with Apache Thrift's generated C++ on the
# Order of cpp_compat/order.thrift (perf/codec's cart), both ways, Binary and Compact: each side encodes its
# own copy of the message ("dump") and the other decodes it and compares with its own copy ("check"). Both write
# fields in IDL order and the map's keys in the same order, so the encodings must also be byte-identical.
set -euo pipefail
gale=$1
apache=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gale-cpp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for proto in binary compact; do
	"$gale" dump "$proto" >"$tmp/gale.$proto"
	"$apache" dump "$proto" >"$tmp/apache.$proto"
	[ -s "$tmp/gale.$proto" ] && [ -s "$tmp/apache.$proto" ] || { echo "FAIL: empty encoding ($proto)"; exit 1; }
	"$apache" check "$proto" <"$tmp/gale.$proto" || { echo "FAIL: Apache C++ rejects gale's $proto"; exit 1; }
	"$gale" check "$proto" <"$tmp/apache.$proto" || { echo "FAIL: gale rejects Apache C++'s $proto"; exit 1; }
	cmp "$tmp/gale.$proto" "$tmp/apache.$proto" || { echo "FAIL: $proto encodings differ"; exit 1; }
	echo "$proto: byte-identical, -> Apache C++ ok ($(stat -c %s "$tmp/gale.$proto") bytes), Apache C++ -> gale ok ($(stat -c %s "$tmp/apache.$proto") bytes)"
done
