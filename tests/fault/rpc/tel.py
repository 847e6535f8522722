#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Query a DPDK process's telemetry socket (what dpdk-telemetry.py does, without the prompt).

    tel.py --prefix FILE_PREFIX COMMAND [KEY.KEY... [OP VALUE]]

Prints the reply of COMMAND (e.g. /gale/rpc/server) as JSON; with a KEY path (e.g. 0.late_replies) prints that
value only; with OP (== >= <=) and VALUE exits 0 only when the value compares so (else 1, saying what it was).
"""
import argparse
import json
import socket
import sys


def query(prefix, cmd):
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(3)
    s.connect(path)
    hello = json.loads(s.recv(16384).decode())
    s.send(cmd.encode())
    reply = json.loads(s.recv(int(hello.get("max_output_len", 16384))).decode())
    s.close()
    return reply[cmd]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", required=True)
    ap.add_argument("command")
    ap.add_argument("path", nargs="?")
    ap.add_argument("op", nargs="?", choices=["==", ">=", "<="])
    ap.add_argument("value", nargs="?", type=int)
    a = ap.parse_args()
    v = query(a.prefix, a.command)
    for k in (a.path.split(".") if a.path else []):
        v = v[k]
    if a.op is None:
        print(json.dumps(v, sort_keys=True))
        return 0
    ok = {"==": v == a.value, ">=": v >= a.value, "<=": v <= a.value}[a.op]
    if not ok:
        print("telemetry %s %s = %s, want %s %d" % (a.command, a.path, v, a.op, a.value), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
