# SPDX-License-Identifier: Apache-2.0
# Checks on the exit report of a gale program that ran the native backend (gale/netopt.h): sourced by tests.
#
# gale_native_exit_ok NAME LOG: the program printed that its stacks had no connection open at stop and that
# every mbuf came back to its port's pool; otherwise say which and fail.
gale_native_exit_ok() {
	local name=$1 log=$2
	grep -q "native: 0 connections still open in the stacks at stop" "$log" ||
		{ echo "$name: gale's stacks still had connections open at stop" >&2; return 1; }
	grep -q "mbufs free at exit .*, 0 not returned" "$log" ||
		{ echo "$name: the port's pool did not get every mbuf back" >&2; return 1; }
}
