#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Kernel-side peer for gale-tcpecho tests (runs inside the test's network namespace).

Streams carry gale-tcpecho's pattern: byte i of a stream is i % 251. Every check is a SHA-256 of what arrived
against the SHA-256 of the pattern of that length, so a lost, duplicated or corrupted byte anywhere fails it.

  tcp_peer.py echo-client HOST PORT BYTES      send BYTES, read the echo back, check both hashes
  tcp_peer.py many HOST PORT CONNS BYTES       CONNS concurrent echo clients (asyncio), each BYTES
  tcp_peer.py echo-server HOST PORT CONNS      accept CONNS connections, echo, hash what each sent
  tcp_peer.py sink-server HOST PORT CONNS BYTES  accept CONNS connections, read to EOF, check hash and length
"""
import asyncio
import hashlib
import socket
import sys
import threading

PERIOD = 251
BLOCK = bytes(range(PERIOD)) * 4096  # a whole number of periods


def pattern_chunks(nbytes, chunk=len(BLOCK)):
    sent = 0
    while sent < nbytes:
        n = min(chunk, nbytes - sent)
        off = sent % PERIOD
        yield (BLOCK[off:] + BLOCK[:off])[:n] if off else BLOCK[:n]
        sent += n


def pattern_sha(nbytes):
    h = hashlib.sha256()
    for c in pattern_chunks(nbytes):
        h.update(c)
    return h.hexdigest()


def echo_client(host, port, nbytes):
    s = socket.create_connection((host, port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = hashlib.sha256()
    received = [0]
    err = []

    def reader():
        try:
            while received[0] < nbytes:
                d = s.recv(1 << 20)
                if not d:
                    break
                got.update(d)
                received[0] += len(d)
        except Exception as e:  # noqa: BLE001
            err.append(e)

    t = threading.Thread(target=reader)
    t.start()
    for c in pattern_chunks(nbytes):
        s.sendall(c)
    s.shutdown(socket.SHUT_WR)
    t.join(120)
    tail = s.recv(1)  # EOF after the echo
    s.close()
    want = pattern_sha(nbytes)
    ok = not err and received[0] == nbytes and got.hexdigest() == want and tail == b""
    print(f"echo-client bytes={nbytes} received={received[0]} sha_ok={got.hexdigest() == want} "
          f"eof={tail == b''} err={err}")
    return 0 if ok else 1


async def one(host, port, nbytes, sem):
    async with sem:
        r, w = await asyncio.open_connection(host, port)
    data = b"".join(pattern_chunks(nbytes))
    w.write(data)
    await w.drain()
    w.write_eof()
    got = await r.read(-1)  # until gale closes after echoing
    w.close()
    try:
        await w.wait_closed()
    except ConnectionError:
        pass
    return hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest() and len(got) == nbytes


async def many(host, port, conns, nbytes):
    sem = asyncio.Semaphore(conns)  # all open at once
    results = await asyncio.wait_for(
        asyncio.gather(*(one(host, port, nbytes, sem) for _ in range(conns)), return_exceptions=True), 120)
    ok = sum(1 for r in results if r is True)
    bad = [r for r in results if r is not True][:3]
    print(f"many conns={conns} bytes={nbytes} ok={ok} examples_of_failures={bad}")
    return 0 if ok == conns else 1


def serve(host, port, conns, handler):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1024)
    print("listening", flush=True)
    threads, results = [], []
    for _ in range(conns):
        c, _ = ls.accept()
        t = threading.Thread(target=lambda c=c: results.append(handler(c)))
        t.start()
        threads.append(t)
    for t in threads:
        t.join(300)
    ls.close()
    ok = sum(1 for r in results if r)
    print(f"server conns={conns} ok={ok}")
    return 0 if ok == conns else 1


def echo_handler(c):
    h = hashlib.sha256()
    n = 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        h.update(d)
        n += len(d)
        c.sendall(d)
    c.close()
    ok = h.hexdigest() == pattern_sha(n)
    print(f"echo-server conn bytes={n} sha_ok={ok}", flush=True)
    return ok and n > 0


def sink_handler(expect):
    def handler(c):
        h = hashlib.sha256()
        n = 0
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            h.update(d)
            n += len(d)
        c.close()
        ok = n == expect and h.hexdigest() == pattern_sha(n)
        print(f"sink-server conn bytes={n} sha_ok={ok}", flush=True)
        return ok
    return handler


def main():
    cmd = sys.argv[1]
    if cmd == "echo-client":
        return echo_client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    if cmd == "many":
        return asyncio.run(many(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
    if cmd == "echo-server":
        return serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), echo_handler)
    if cmd == "sink-server":
        return serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sink_handler(int(sys.argv[5])))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
