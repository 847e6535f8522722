#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Apache Thrift Python client for apps/kv/kv.thrift: gale-kv's model-checked test driver.

    kv_client.py --gen-dir DIR --port N random --seed S --ops N --ns PREFIX --dump FILE [--conns C] [--until-closed]
    kv_client.py --gen-dir DIR --port N wait --cross N
    kv_client.py --gen-dir DIR --port N check --dumps F1 F2 ... --workers W [--totals FILE]
    kv_client.py --gen-dir DIR --port N telemetry --socket PATH --totals FILE --workers W
    kv_client.py --gen-dir DIR --port N negative --max-key K --max-value V --dump FILE

random: a seeded random sequence of get/put/delete/scan on keys under the client's own prefix (so
its oracle, a dict, is exact even with other clients running), spread over C connections that each
use another Thrift transport/protocol pair; every reply is checked against the oracle. scan sees the
other clients' keys too, and the check says what must hold anyway: keys in order, the client's own
keys in the page are exactly its oracle's keys between start and the page's last key, and since a
prefix's keys are contiguous in byte order they come first. The final oracle and the number of each
call made go to --dump (JSON).

check (after every random client ended): a paged full scan must equal the union of the oracles;
stats() must show that the counters add up (local + cross + rejected + busy = get + put + delete,
served = cross + fanout), that cross-worker requests happened, that every worker had connections,
and that the server counted exactly the calls the clients made.

telemetry: the counters the workers sent up (the EAL's telemetry socket, /gale/counters) reach the totals
stats() reported, within a bounded wait; the rings' own counters (/gale/xworker) agree with them.

negative: a value over --max-value and a key over --max-key get the declared KvError, a scan
limit of 0 BAD_ARGUMENT, a missing key NotFound; the connection keeps working after each. Then
scan pages cut by bytes (values at the limit) are paged through: each key once, in order. Its calls
go to --dump for the checker (no key is left).

The Python code for kv.thrift is generated at test time into --gen-dir by Debian's `thrift --gen py`.
"""
import argparse
import json
import os
import random
import subprocess
import sys

IDL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../apps/kv/kv.thrift")
PAIRS = [("framed", "binary"), ("framed", "compact"), ("buffered", "binary"), ("header", "compact")]


def gen_py(out_dir):
    """Generate Apache Thrift's Python code for kv.thrift into out_dir once (clients race: rename wins)."""
    marker = os.path.join(out_dir, "gale_kv", "KV.py")
    if not os.path.exists(marker):
        tmp = "%s.tmp%d" % (out_dir, os.getpid())
        os.makedirs(tmp, exist_ok=True)
        os.makedirs(out_dir, exist_ok=True)
        subprocess.run(["thrift", "--gen", "py", "-out", tmp, IDL], check=True)
        try:
            os.rename(os.path.join(tmp, "gale_kv"), os.path.join(out_dir, "gale_kv"))
        except OSError:
            pass  # another client was first
    sys.path.insert(0, out_dir)


def connect(host, port, transport, protocol, timeout):
    from gale_kv import KV
    from thrift.protocol import TBinaryProtocol, TCompactProtocol, THeaderProtocol
    from thrift.transport import THeaderTransport, TSocket, TTransport

    sock = TSocket.TSocket(host, port)
    sock.setTimeout(int(timeout * 1000))
    if transport == "header":
        sub = (THeaderTransport.THeaderSubprotocolID.COMPACT if protocol == "compact"
               else THeaderTransport.THeaderSubprotocolID.BINARY)
        proto = THeaderProtocol.THeaderProtocol(sock, [THeaderTransport.THeaderClientType.HEADERS], sub)
        trans = proto.trans
    else:
        trans = TTransport.TFramedTransport(sock) if transport == "framed" else TTransport.TBufferedTransport(sock)
        proto = (TCompactProtocol.TCompactProtocol(trans) if protocol == "compact"
                 else TBinaryProtocol.TBinaryProtocol(trans))
    trans.open()
    return KV.Client(proto), trans


class Fail(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Fail(what)


def check_scan(page, start, limit, oracle, ns):
    """Check one scan page against the client's oracle (see the module text)."""
    keys = [kv.key for kv in page.items]
    expect(len(keys) <= limit, "scan returned %d > limit %d" % (len(keys), limit))
    expect(all(k >= start for k in keys), "scan returned a key before start")
    expect(all(a < b for a, b in zip(keys, keys[1:])), "scan keys not strictly increasing")
    mine = sorted((k, v) for k, v in oracle.items() if k >= start)
    if not keys:
        expect(not mine and not page.more, "empty scan page but keys exist (more=%s)" % page.more)
        return
    last = keys[-1]
    own = [(kv.key, kv.value) for kv in page.items if kv.key.startswith(ns)]
    want = [(k, v) for k, v in mine if k <= last]
    expect(own == want, "scan page's own keys differ from the oracle: got %r, want %r" % (own[:5], want[:5]))
    # Own keys >= start are contiguous and first; pages are not cut by bytes at these value sizes.
    expect(own == mine[:len(own)] and len(own) == min(limit, len(mine)),
           "scan page holds %d own keys, oracle has %d from start (limit %d)" % (len(own), len(mine), limit))
    if not page.more:
        expect(len(want) == len(mine), "scan said no more but the oracle has keys after the page")


def run_random(a):
    from gale_kv.ttypes import NotFound
    from thrift.transport.TTransport import TTransportException

    rng = random.Random(a.seed)
    ns = a.ns.encode()
    conns = [connect(a.host, a.port, *PAIRS[i % len(PAIRS)], a.timeout) for i in range(a.conns)]
    if a.ready:
        # Every connection is open: the drain test starts SIGTERM only after all clients say so (a client still
        # connecting when the listener closes would be refused, which is the drain working, not a failure).
        with open(a.ready + ".tmp", "w") as f:
            f.write("%d\n" % len(conns))
        os.rename(a.ready + ".tmp", a.ready)
    oracle = {}
    counts = {"get": 0, "put": 0, "delete": 0, "scan": 0}
    names = [ns + b"k%03d" % i for i in range(a.keys)] + [ns + bytes([0, 255, i]) for i in range(4)]
    try:
        for i in range(a.ops):
            cl = conns[i % len(conns)][0]
            key = rng.choice(names)
            r = rng.random()
            if r < 0.35:
                counts["put"] += 1
                n = rng.choice([0, 1, 7, 64, 200, rng.randrange(0, 2000)])
                val = bytes(rng.getrandbits(8) for _ in range(n))
                cl.put(key, val)
                oracle[key] = val
            elif r < 0.70:
                counts["get"] += 1
                try:
                    got = cl.get(key)
                    expect(key in oracle, "get(%r) returned a value for a key never put or deleted" % key)
                    expect(got == oracle[key], "get(%r) returned %d bytes, oracle has %d" %
                           (key, len(got), len(oracle[key])))
                except NotFound as e:
                    expect(key not in oracle, "get(%r) raised NotFound but the oracle has it" % key)
                    expect(e.key == key, "NotFound names %r, not %r" % (e.key, key))
            elif r < 0.88:
                counts["delete"] += 1
                existed = cl.delete(key)
                expect(existed == (key in oracle), "delete(%r) said %s, oracle %s" % (key, existed, key in oracle))
                oracle.pop(key, None)
            else:
                counts["scan"] += 1
                start = rng.choice([ns, key, ns + b"k05"])
                limit = rng.randrange(1, 25)
                check_scan(cl.scan(start, limit), start, limit, oracle, ns)
    except (TTransportException, OSError, EOFError) as e:
        if not a.until_closed:
            raise
        # The server drains: every reply before the close was checked; that is the test.
        print("client %s seed %d: connection closed by the server (%s) after %d checked calls" %
              (a.ns, a.seed, e, sum(counts.values())))
        return
    for _, t in conns:
        t.close()
    with open(a.dump, "w") as f:
        json.dump({"oracle": {k.hex(): v.hex() for k, v in oracle.items()}, "counts": counts}, f)
    print("client %s seed %d: %d calls checked (%s), %d keys at the end" %
          (a.ns, a.seed, a.ops, ", ".join("%s %d" % kv for kv in counts.items()), len(oracle)))


def run_check(a):
    cl, t = connect(a.host, a.port, "framed", "binary", a.timeout)
    union, counts = {}, {"get": 0, "put": 0, "delete": 0, "scan": 0, "rejected": 0}
    for path in a.dumps:
        with open(path) as f:
            d = json.load(f)
        for k, v in d["oracle"].items():
            expect(bytes.fromhex(k) not in union, "two clients own key %s" % k)
            union[bytes.fromhex(k)] = bytes.fromhex(v)
        for k in counts:
            counts[k] += d["counts"].get(k, 0)
    # Paged full scan from the empty key.
    seen, start, pages = [], b"", 0
    while True:
        page = cl.scan(start, 37)
        pages += 1
        seen.extend((kv.key, kv.value) for kv in page.items)
        if not page.more:
            break
        expect(page.items, "scan page empty but more is set")
        start = page.items[-1].key + b"\x00"
    expect([k for k, _ in seen] == sorted(union), "full scan keys differ from the union of the oracles "
           "(%d scanned, %d expected)" % (len(seen), len(union)))
    expect(dict(seen) == union, "full scan values differ from the union of the oracles")
    st = cl.stats()
    t.close()
    expect(len(st) == a.workers and sorted(w.worker for w in st) == list(range(a.workers)),
           "stats() answered for workers %r" % [w.worker for w in st])
    tot = {f: sum(getattr(w, f) for w in st) for f in
           ("keys", "gets", "puts", "deletes", "scans", "stats", "local", "cross", "rejected", "fanout",
            "served", "ring_full", "busy", "busy_fanout")}
    keyops = tot["gets"] + tot["puts"] + tot["deletes"]
    for w in st:
        expect(w.local + w.cross + w.rejected + w.busy == w.gets + w.puts + w.deletes,
               "worker %d: local %d + cross %d + rejected %d + busy %d != get+put+delete %d" %
               (w.worker, w.local, w.cross, w.rejected, w.busy, w.gets + w.puts + w.deletes))
        expect(w.gets + w.puts + w.deletes + w.scans > 0,
               "worker %d served no request of its own: connections did not spread" % w.worker)
    expect(tot["keys"] == len(union), "shards hold %d keys, oracles %d" % (tot["keys"], len(union)))
    expect(tot["served"] == tot["cross"] + tot["fanout"],
           "served %d != cross %d + fanout %d" % (tot["served"], tot["cross"], tot["fanout"]))
    if a.workers > 1:
        expect(tot["cross"] > 0, "no cross-worker request was counted")
        expect(all(w.keys > 0 for w in st), "a shard holds no key: keys did not spread")
    else:
        expect(tot["cross"] == 0 and tot["fanout"] == 0 and tot["served"] == 0,
               "one worker counted cross-worker traffic: cross %d fanout %d served %d" %
               (tot["cross"], tot["fanout"], tot["served"]))
    # The clients' own counts (the negative client's calls come on top).
    expect((tot["gets"], tot["puts"], tot["deletes"]) == (counts["get"], counts["put"], counts["delete"]),
           "server counted gets/puts/deletes %d/%d/%d, clients made %d/%d/%d" %
           (tot["gets"], tot["puts"], tot["deletes"], counts["get"], counts["put"], counts["delete"]))
    expect(tot["scans"] == counts["scan"] + pages, "server counted %d scans, clients made %d" %
           (tot["scans"], counts["scan"] + pages))
    expect(tot["rejected"] == counts.get("rejected", 0), "server rejected %d requests, clients sent %d oversized" %
           (tot["rejected"], counts.get("rejected", 0)))
    expect(tot["busy"] == 0 and tot["busy_fanout"] == 0, "%d + %d requests refused as busy" %
           (tot["busy"], tot["busy_fanout"]))
    print("check: full scan of %d keys in %d pages equals the union of %d oracles" % (len(union), pages,
                                                                                       len(a.dumps)))
    for w in st:
        print("check: worker %d: keys %d, requests get/put/delete/scan %d/%d/%d/%d, local %d, cross %d, "
              "rejected %d, fanout %d, served %d, ring_full %d" %
              (w.worker, w.keys, w.gets, w.puts, w.deletes, w.scans, w.local, w.cross, w.rejected, w.fanout,
               w.served, w.ring_full))
    print("check: %d key requests = local %d + cross %d + rejected %d + busy %d; served %d = cross + fanout %d" %
          (keyops, tot["local"], tot["cross"], tot["rejected"], tot["busy"], tot["served"],
           tot["cross"] + tot["fanout"]))
    if a.totals:
        with open(a.totals, "w") as f:
            json.dump(tot, f)


# gale-kv's counter ids in telemetry's /gale/counters (enum kv_ctr in apps/kv/gale_kv.c).
TELEMETRY_IDS = {"gets": 0, "puts": 1, "deletes": 2, "scans": 3, "stats": 4, "local": 5, "cross": 6,
                 "rejected": 7, "fanout": 8, "served": 9, "busy": 10, "ring_full": 11, "busy_fanout": 12}


def tel_query(path, cmd):
    """One command on the EAL's telemetry socket; its answer, or None."""
    import socket

    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
        s.recv(16384)  # the greeting
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 20).decode())[cmd]
    except (OSError, ValueError, KeyError):
        return None
    finally:
        s.close()


def run_telemetry(a):
    """Poll the EAL's telemetry socket until /gale/counters equals stats()'s totals (bounded), then
    check the rings' own view, /gale/xworker, against the same totals."""
    import time

    with open(a.totals) as f:
        tot = json.load(f)
    want = {str(i): tot[k] for k, i in TELEMETRY_IDS.items() if tot[k] != 0}
    deadline = time.monotonic() + a.wait
    got = None
    while time.monotonic() < deadline:
        got = tel_query(a.socket, "/gale/counters")
        if got == want:
            break
        time.sleep(0.05)
    expect(got == want, "telemetry /gale/counters %r never equalled stats() totals %r" % (got, want))
    print("telemetry: /gale/counters equals stats(): %s" %
          ", ".join("%s %d" % (k, tot[k]) for k in TELEMETRY_IDS if tot[k] != 0))
    xw = tel_query(a.socket, "/gale/xworker")
    expect(isinstance(xw, dict) and len(xw) == a.workers, "/gale/xworker answered %r" % (xw,))
    sums = {f: sum(w[f] for w in xw.values()) for f in next(iter(xw.values()))}
    expect(sums["posted"] == tot["cross"] + tot["fanout"] and sums["completed"] == sums["posted"] and
           sums["served"] == tot["served"] and sums["ring_full"] == tot["ring_full"] and
           sums["queued"] == 0 and sums["requests_waiting"] == 0 and sums["answers_waiting"] == 0,
           "/gale/xworker %r disagrees with stats() (cross %d + fanout %d, served %d, ring_full %d)" %
           (sums, tot["cross"], tot["fanout"], tot["served"], tot["ring_full"]))
    print("telemetry: /gale/xworker: %d posted = completed = cross + fanout, %d served, %d ring full, "
          "nothing waiting" % (sums["posted"], sums["served"], sums["ring_full"]))


def run_wait(a):
    """Poll stats() until the workers counted at least --cross cross-worker requests (bounded)."""
    import time

    cl, t = connect(a.host, a.port, "framed", "binary", a.timeout)
    deadline = time.monotonic() + a.wait
    cross = 0
    while time.monotonic() < deadline:
        cross = sum(w.cross for w in cl.stats())
        if cross >= a.cross:
            t.close()
            print("wait: %d cross-worker requests so far" % cross)
            return
        time.sleep(0.05)
    t.close()
    raise Fail("only %d cross-worker requests after %.0f s (wanted %d)" % (cross, a.wait, a.cross))


def run_negative(a):
    from gale_kv.ttypes import ErrorCode, KvError, NotFound

    cl, t = connect(a.host, a.port, "framed", "compact", a.timeout)
    key = b"neg/key"
    cl.put(key, b"v" * a.max_value)  # exactly at the limit: accepted
    expect(cl.get(key) == b"v" * a.max_value, "value at the limit did not read back")
    for what, call in (("value", lambda: cl.put(key, b"x" * (a.max_value + 1))),
                       ("key", lambda: cl.put(b"k" * (a.max_key + 1), b"v")),
                       ("get key", lambda: cl.get(b"k" * (a.max_key + 1)))):
        try:
            call()
            raise Fail("oversized %s accepted" % what)
        except KvError as e:
            want = ErrorCode.VALUE_TOO_LARGE if what == "value" else ErrorCode.KEY_TOO_LARGE
            expect(e.code == want, "oversized %s: code %s, want %s" % (what, e.code, want))
            expect(e.message, "oversized %s: no message" % what)
        expect(cl.get(key) == b"v" * a.max_value, "the value changed after a refused put")
    try:
        cl.scan(b"", 0)
        raise Fail("scan limit 0 accepted")
    except KvError as e:
        expect(e.code == ErrorCode.BAD_ARGUMENT, "scan limit 0: code %s" % e.code)
    try:
        cl.get(b"neg/missing")
        raise Fail("get of a missing key returned a value")
    except NotFound as e:
        expect(e.key == b"neg/missing", "NotFound names %r" % e.key)
    expect(cl.delete(key) is True and cl.delete(key) is False, "delete did not report existence")
    # So far: 3 puts (2 refused), 6 gets (1 refused), 1 scan, 2 deletes.
    counts = {"get": 6, "put": 3, "delete": 2, "scan": 1, "rejected": 3}
    # Pages cut by bytes: 40 values at the limit make ~165 KB, more than every shard's 64 KiB page
    # together, so a page stops early (more set) at the smallest last key of a shard that was cut;
    # paging on from there must give every key exactly once, in order.
    rng = random.Random(40)
    big = {b"neg/big/" + bytes(rng.getrandbits(8) for _ in range(6)): bytes([65 + i % 26]) * a.max_value
           for i in range(40)}
    for k, v in big.items():
        cl.put(k, v)
    counts["put"] += len(big)
    got, start, first = [], b"neg/big/", None
    while True:
        page = cl.scan(start, 40)
        counts["scan"] += 1
        first = len(page.items) if first is None else first
        got.extend((kv.key, kv.value) for kv in page.items)
        if not page.more:
            break
        expect(page.items, "scan page empty but more is set")
        start = page.items[-1].key + b"\x00"
    expect(got == sorted(big.items()), "paged scan of byte-cut pages: %d pairs, want the 40 put, in order" %
           len(got))
    expect(first < 40, "a 40-item page of %d-byte values was not cut by bytes (%d items)" % (a.max_value, first))
    for k in big:
        expect(cl.delete(k) is True, "delete of %r" % k)
    counts["delete"] += len(big)
    t.close()
    with open(a.dump, "w") as f:
        json.dump({"oracle": {}, "counts": counts}, f)
    print("negative: oversized value and key refused with the declared KvError; the server kept serving; "
          "40 values of %d bytes paged in byte-cut pages (first page %d items)" % (a.max_value, first))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen-dir", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=20.0)
    sub = ap.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("random")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--ops", type=int, default=1000)
    r.add_argument("--ns", required=True)
    r.add_argument("--keys", type=int, default=48)
    r.add_argument("--conns", type=int, default=4)
    r.add_argument("--dump", required=True)
    r.add_argument("--until-closed", action="store_true",
                   help="a connection closed by the server ends the run (the drain test): not a failure")
    r.add_argument("--ready", help="create this file once every connection is open")
    w = sub.add_parser("wait")
    w.add_argument("--cross", type=int, required=True)
    w.add_argument("--wait", type=float, default=30.0)
    c = sub.add_parser("check")
    c.add_argument("--dumps", nargs="+", required=True)
    c.add_argument("--workers", type=int, required=True)
    c.add_argument("--totals", help="write the stats() totals here (JSON)")
    t = sub.add_parser("telemetry")
    t.add_argument("--socket", required=True)
    t.add_argument("--totals", required=True)
    t.add_argument("--wait", type=float, default=10.0)
    t.add_argument("--workers", type=int, required=True)
    n = sub.add_parser("negative")
    n.add_argument("--max-key", type=int, required=True)
    n.add_argument("--max-value", type=int, required=True)
    n.add_argument("--dump", required=True)
    a = ap.parse_args()
    gen_py(a.gen_dir)
    try:
        {"random": run_random, "check": run_check, "negative": run_negative, "telemetry": run_telemetry,
         "wait": run_wait}[a.mode](a)
    except Fail as e:
        print("FAIL (%s): %s" % (a.mode, e), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
