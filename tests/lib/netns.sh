#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Network-namespace fixture for gale's tests. Source it, then:
#
#   gale_fixture_init                      temp dir in $GALE_TMP; cleanup trap on EXIT, INT, TERM, HUP
#   gale_netns_new VAR                     a fresh, uniquely named netns in $VAR (removed on exit)
#   gale_veth_pair NS_A IP_A NS_B IP_B     veth between two namespaces (ifaces gv0/gv1), addresses with /24
#   gale_bg NAME cmd...                    start cmd in the background, logged to $GALE_TMP/NAME.log; killed on exit
#   gale_tap_start NS IFACE IP cmd...      start a DPDK process in NS that creates tap IFACE; wait for the tap,
#                                          bring it up with IP/24 on the kernel side
#   gale_eal_args NAME LCORES              EAL args for a test's DPDK process: --no-pci, -l LCORES, --in-memory on
#                                          free hugepages else --no-huge -m 512 and a unique --file-prefix
#   gale_memif_pair A "ARGS_A" B "ARGS_B"  two DPDK processes joined by net_memif (socket in $GALE_TMP): A is
#                                          the memif server on lcore 0, B the client on lcore 1 (0 on one core);
#                                          ARGS_* are the program and its options after `--` (word-split)
#   gale_wait_for SECONDS DESC cmd...      poll cmd until it succeeds (bounded), or fail naming DESC
#   gale_wait_pid NAME SECONDS             wait for a gale_bg process to exit by itself; returns its status
#   gale_skip REASON                       exit 77 (meson's "skipped") saying why
#
# Names carry the shell's pid and a random suffix, so fixtures running at once never collide. Every namespace,
# process and file made here is removed on exit, whatever the exit path, and so are the DPDK runtime files of
# processes started with a --file-prefix ending in the fixture's pid ("gale-NAME-$$"). Addresses come from 198.18.0.0/15
# (RFC 2544's benchmarking range); traffic never leaves the namespaces the fixture made.

set -euo pipefail

GALE_NETNS_LIST=()
GALE_BG_PIDS=()
GALE_BG_NAMES=()
GALE_TMP=""

gale_skip() {
	echo "SKIP: $*" >&2
	exit 77
}

gale__cleanup() {
	local status=$? i pid ns tries
	trap - EXIT INT TERM HUP
	set +e
	for ((i = ${#GALE_BG_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${GALE_BG_PIDS[$i]}
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null
		for ((tries = 0; tries < 50; tries++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# DPDK runtime files of this fixture's processes (prefixes end in the fixture's pid, as gale_eal_args and
	# the tests name them): a process killed here, or one that crashed, cannot remove its own.
	rm -rf /var/run/dpdk/gale-*-"$$" /dev/hugepages/gale-*-"$$"map_* 2>/dev/null
	for ns in "${GALE_NETNS_LIST[@]}"; do
		# Anything still running inside the namespace goes with it.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$GALE_TMP" ] && [ -d "$GALE_TMP" ]; then
		if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
			for f in "$GALE_TMP"/*.log; do
				[ -s "$f" ] || continue
				echo "---- $(basename "$f") (last 30 lines) ----" >&2
				tail -n 30 "$f" >&2
			done
		fi
		rm -rf "$GALE_TMP"
	fi
	exit "$status"
}

gale_fixture_init() {
	[ "$(id -u)" -eq 0 ] || gale_skip "needs root for network namespaces"
	command -v ip >/dev/null || gale_skip "iproute2 is not installed"
	GALE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gale-test.XXXXXX")
	trap gale__cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

gale_netns_new() {
	local __gale_ns="gale-$$-$RANDOM$RANDOM"
	ip netns add "$__gale_ns" || gale_skip "cannot create a network namespace (ip netns add failed)"
	GALE_NETNS_LIST+=("$__gale_ns")
	ip -n "$__gale_ns" link set lo up
	printf -v "$1" '%s' "$__gale_ns"
}

gale_veth_pair() {
	local ns_a=$1 ip_a=$2 ns_b=$3 ip_b=$4
	ip -n "$ns_a" link add gv0 type veth peer name gv1 netns "$ns_b"
	ip -n "$ns_a" addr add "$ip_a/24" dev gv0
	ip -n "$ns_b" addr add "$ip_b/24" dev gv1
	ip -n "$ns_a" link set gv0 up
	ip -n "$ns_b" link set gv1 up
}

gale_bg() {
	local name=$1
	shift
	"$@" >"$GALE_TMP/$name.log" 2>&1 &
	GALE_BG_PIDS+=("$!")
	GALE_BG_NAMES+=("$name")
}

gale__bg_pid() {
	local i
	for i in "${!GALE_BG_NAMES[@]}"; do
		if [ "${GALE_BG_NAMES[$i]}" = "$1" ]; then
			echo "${GALE_BG_PIDS[$i]}"
			return 0
		fi
	done
	return 1
}

gale_wait_for() {
	local seconds=$1 desc=$2 deadline
	shift 2
	deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "timed out after ${seconds}s waiting for: $desc" >&2
			return 1
		fi
		sleep 0.05
	done
}

gale_wait_pid() {
	local name=$1 seconds=$2 pid
	pid=$(gale__bg_pid "$name")
	gale_wait_for "$seconds" "$name to exit" bash -c "! kill -0 $pid"
	wait "$pid"
}

gale_eal_args() {
	local name=$1 lcores=$2 free
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	# LCORES is an -l list ("0-1") or, with '@', an lcore-to-CPU map ("0@0,1@1") given as --lcores.
	if [[ $lcores == *@* ]]; then
		printf '%s\n' --no-pci "--lcores=$lcores" --log-level=lib.eal:warning
	else
		printf '%s\n' --no-pci -l "$lcores" --log-level=lib.eal:warning
	fi
	if [ "${GALE_TEST_NO_HUGE:-0}" != 1 ] && [ "${free:-0}" -ge 256 ] && grep -qs ' hugetlbfs ' /proc/mounts; then
		printf '%s\n' --in-memory
	else
		printf '%s\n' --no-huge -m 512 "--file-prefix=gale-$name-$$"
	fi
}

gale_memif_pair() {
	local a=$1 args_a=$2 b=$3 args_b=$4 sock="$GALE_TMP/memif-$1-$3.sock" lc_b=1 prog
	local -a eal_a eal_b words
	[ "$(nproc)" -ge 2 ] || lc_b=0
	mapfile -t eal_a < <(gale_eal_args "$a" 0)
	mapfile -t eal_b < <(gale_eal_args "$b" "$lc_b")
	read -r -a words <<<"$args_a"
	prog=${words[0]}
	gale_bg "$a" "$prog" "${eal_a[@]}" "--vdev=net_memif0,role=server,id=0,socket=$sock,socket-abstract=no" \
		-- "${words[@]:1}"
	gale_wait_for 30 "memif socket of $a" test -S "$sock"
	read -r -a words <<<"$args_b"
	prog=${words[0]}
	gale_bg "$b" "$prog" "${eal_b[@]}" "--vdev=net_memif0,role=client,id=0,socket=$sock,socket-abstract=no" \
		-- "${words[@]:1}"
}

gale_tap_start() {
	local ns=$1 iface=$2 ip=$3 name
	shift 3
	name="tap-$iface"
	gale_bg "$name" ip netns exec "$ns" "$@"
	gale_wait_for 30 "tap $iface in $ns" ip -n "$ns" link show "$iface"
	ip -n "$ns" addr add "$ip/24" dev "$iface"
	ip -n "$ns" link set "$iface" up
}
