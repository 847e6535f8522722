#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Check a gale-port-test log: every flow was counted on exactly one worker, the one that owns it.

The owner is recomputed here, independently of gale's C code: the Toeplitz hash (bit by bit, as in Microsoft's
RSS specification) of src addr, dst addr, src port, dst port under the symmetric key 0x6d5a..., then RETA entry
(hash & 127) -> worker entry % workers (gale's default RETA when the NIC does not steer).

usage: check_flows.py LOG WORKERS [--min-flows N] [--dport P] [--expect-total N] [--need-forwarding]
"""
import argparse
import re
import socket
import sys

KEY = bytes([0x6D, 0x5A] * 20)


def toeplitz(data: bytes) -> int:
    key = int.from_bytes(KEY, "big")
    klen = len(KEY) * 8
    h = 0
    for i in range(len(data) * 8):
        if data[i // 8] & (0x80 >> (i % 8)):
            h ^= (key >> (klen - 32 - i)) & 0xFFFFFFFF
    return h


def owner(src, sport, dst, dport, workers, reta_size=128):
    data = socket.inet_aton(src) + socket.inet_aton(dst) + sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
    return (toeplitz(data) & (reta_size - 1)) % workers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("workers", type=int)
    ap.add_argument("--min-flows", type=int, default=2)
    ap.add_argument("--dport", type=int, default=9)
    ap.add_argument("--expect-total", type=int, default=0)
    ap.add_argument("--need-forwarding", action="store_true")
    a = ap.parse_args()
    flow_re = re.compile(r"^flow (udp|tcp) ([\d.]+):(\d+) > ([\d.]+):(\d+) worker (\d+) packets (\d+)$")
    seen = {}
    fwd_out = 0
    queue_rx = []
    with open(a.log) as f:
        for line in f:
            m = flow_re.match(line.strip())
            if m:
                key = (m[1], m[2], int(m[3]), m[4], int(m[5]))
                seen.setdefault(key, []).append((int(m[6]), int(m[7])))
            m = re.match(r"^worker \d+ .* queue_rx (\d+) .* fwd_out (\d+) ", line)
            if m:
                queue_rx.append(int(m[1]))
                fwd_out += int(m[2])
    bad = 0
    total = 0
    flows = 0
    for (proto, src, sport, dst, dport), where in sorted(seen.items()):
        if dport != a.dport:
            continue
        flows += 1
        want = owner(src, sport, dst, dport, a.workers)
        total += sum(n for _, n in where)
        if len(where) != 1 or where[0][0] != want:
            print(f"FLOW {proto} {src}:{sport} > {dst}:{dport}: counted on {where}, owner is worker {want}")
            bad += 1
    print(f"{flows} flows to port {a.dport}, {total} frames, each on its owner: {'yes' if bad == 0 else 'NO'}; "
          f"queue_rx per worker {queue_rx}, forwarded {fwd_out}")
    if bad:
        return 1
    if flows < a.min_flows:
        print(f"only {flows} flows seen, want at least {a.min_flows}")
        return 1
    if len({owner(s, sp, d, dp, a.workers) for (_, s, sp, d, dp) in seen if dp == a.dport}) < min(a.workers, 2):
        print("all flows have the same owner: the test would not show steering")
        return 1
    if a.expect_total and total != a.expect_total:
        print(f"counted {total} frames in flows, want {a.expect_total}")
        return 1
    if a.need_forwarding and fwd_out == 0:
        print("no frame was forwarded between workers: the software path was not exercised")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
