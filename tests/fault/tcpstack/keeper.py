#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""keeper.py HOST PORT STOPFILE: one kernel connection echoing 1 KiB messages until STOPFILE exists; every reply
must match. Exit 0 when it made at least 10 round trips without error."""
import os
import socket
import sys
import time

host, port, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print("connected", flush=True)
n = 0
while not os.path.exists(stop):
    msg = bytes((n + i) % 256 for i in range(1024))
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        d = s.recv(len(msg) - len(got))
        if not d:
            print(f"EOF after {n} round trips", flush=True)
            sys.exit(1)
        got += d
    if got != msg:
        print(f"mismatch at round trip {n}", flush=True)
        sys.exit(1)
    n += 1
    time.sleep(0.001)  # steady, not saturating: the crafted segments share the tap
s.close()
print(f"keeper: {n} round trips, no error", flush=True)
sys.exit(0 if n >= 10 else 1)
