#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The user guide (docs/guide.md), followed as written: guide_extract.py turns its blocks into a script (sh blocks
# run in order in one shell, file= blocks saved, output blocks compared), run in a fresh directory inside a network
# namespace of its own (the guide's server listens on 127.0.0.1:9090 there, clear of anything else on the
# machine), against a `meson install --destdir` of this build: nothing goes to a system path; PATH and
# PKG_CONFIG_PATH are set by the guide's own commands from GALE_PREFIX. The install block is the one the test does
# itself (building gale again would take minutes). The DPDK-port step runs the server on the native backend with a
# net_tap port (gale0) in that namespace, the namespace's kernel as the client.
# Bounded (timeout 120 s); whatever the guide left running in the namespace is stopped.
set -euo pipefail
. "$GALE_SOURCE_DIR/tests/lib/netns.sh"
gale_fixture_init
for tool in cc pkg-config meson dpdk-telemetry.py; do
	command -v "$tool" >/dev/null || gale_skip "$tool is not installed"
done
here=$GALE_SOURCE_DIR/tests/guide

# Install this build under a temporary root. The .pc files name the prefix the build was configured with; under
# that root, a build configured with --prefix=$GALE_PREFIX would have named that one instead.
option() {
	meson introspect "$GALE_BUILD_DIR" --buildoptions |
		/usr/bin/python3 -c 'import json, sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]][0])' "$1"
}
[ "$(option b_sanitize)" = none ] ||
	gale_skip "a sanitizer build's libraries need the sanitizer runtime in the user's program too (the guide builds with plain cc)"
prefix=$(option prefix)
meson install -C "$GALE_BUILD_DIR" --destdir "$GALE_TMP/root" --no-rebuild --quiet
export GALE_PREFIX=$GALE_TMP/root$prefix
pcs=$(find "$GALE_PREFIX" -name 'gale*.pc')
[ -n "$pcs" ] || { echo "meson install put no gale.pc under $GALE_PREFIX" >&2; exit 1; }
for pc in $pcs; do
	sed -i "s|^prefix=.*|prefix=$GALE_PREFIX|" "$pc"
done
# Every public header of every layer (<lib>/include/gale/), the compiler and both pkg-config files.
for h in "$GALE_SOURCE_DIR"/*/include/gale/*.h "$GALE_SOURCE_DIR"/codec/thriftc/include/gale/*.h; do
	[ -e "$GALE_PREFIX/include/gale/$(basename "$h")" ] ||
		{ echo "meson install did not install the public header $h" >&2; exit 1; }
done
for f in bin/gale-thriftc "lib/$(gcc -dumpmachine)/pkgconfig/gale.pc" "lib/$(gcc -dumpmachine)/pkgconfig/gale-codec.pc"; do
	[ -e "$GALE_PREFIX/$f" ] || { echo "meson install did not install $f (libdir is not lib/<multiarch>?)" >&2; exit 1; }
done

/usr/bin/python3 "$here/guide_extract.py" "$GALE_SOURCE_DIR/docs/guide.md" >"$GALE_TMP/guide.sh"
gale_netns_new ns
mkdir "$GALE_TMP/work"
status=0
(cd "$GALE_TMP/work" && timeout 120 ip netns exec "$ns" bash "$GALE_TMP/guide.sh") || status=$?

# A step that failed may have left the guide's server running: drain it (SIGTERM; its EAL files go with it), or
# kill it and remove them.
for pid in $(ip netns pids "$ns"); do
	kill -TERM "$pid" 2>/dev/null || true
	gale_wait_for 10 "process $pid to stop" bash -c "! kill -0 $pid" ||
		{ kill -KILL "$pid" 2>/dev/null || true; rm -rf "/var/run/dpdk/gale-$pid"; }
done
if [ "$status" != 0 ]; then
	for f in "$GALE_TMP"/work/*.log; do
		[ -s "$f" ] && { echo "---- $f" >&2; cat "$f" >&2; }
	done
	echo "the guide failed (status $status)" >&2
	exit 1
fi
echo "guide: ok"
