#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Apache Thrift Python client for apps/echo/echo.thrift: an interop peer for gale's tests.

    echo_client.py --gen-dir DIR --port N [--host H] [--transport framed|buffered|header]
                   [--protocol binary|compact] [--calls N] [--payload BYTES]

Runs every method of the Echo service (echo, echo_binary, echo_all with every type, ping, add, echo_or_fail both ways, notify) N times and
checks every answer; exits 0 only if all were right. The Python code for echo.thrift is generated at test time
into --gen-dir by Debian's `thrift --gen py` (see gen_py below); nothing generated is checked in.
"""
import argparse
import os
import subprocess
import sys


def gen_py(idl, out_dir):
    """Generate Apache Thrift's Python code for idl into out_dir (once) and make it importable."""
    marker = os.path.join(out_dir, "gale_echo", "Echo.py")
    if not os.path.exists(marker):
        os.makedirs(out_dir, exist_ok=True)
        subprocess.run(["thrift", "--gen", "py", "-out", out_dir, idl], check=True)
    sys.path.insert(0, out_dir)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen-dir", required=True)
    ap.add_argument("--idl", default=os.path.join(os.path.dirname(__file__), "../../apps/echo/echo.thrift"))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--transport", choices=["framed", "buffered", "header"], default="framed")
    ap.add_argument("--protocol", choices=["binary", "compact"], default="binary")
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--payload", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()

    gen_py(a.idl, a.gen_dir)
    from gale_echo import Echo
    from gale_echo.ttypes import AllTypes, Color, EchoError, Inner
    from thrift.protocol import TBinaryProtocol, TCompactProtocol, THeaderProtocol
    from thrift.transport import THeaderTransport, TSocket, TTransport

    sock = TSocket.TSocket(a.host, a.port)
    sock.setTimeout(int(a.timeout * 1000))
    if a.transport == "header":
        sub = (THeaderTransport.THeaderSubprotocolID.COMPACT if a.protocol == "compact"
               else THeaderTransport.THeaderSubprotocolID.BINARY)
        trans = sock
        proto = THeaderProtocol.THeaderProtocol(sock, [THeaderTransport.THeaderClientType.HEADERS], sub)
        trans = proto.trans
    else:
        trans = (TTransport.TFramedTransport(sock) if a.transport == "framed"
                 else TTransport.TBufferedTransport(sock))
        proto = (TCompactProtocol.TCompactProtocol(trans) if a.protocol == "compact"
                 else TBinaryProtocol.TBinaryProtocol(trans))
    client = Echo.Client(proto)
    trans.open()
    text = ("gale-é-" * (a.payload // 8 + 1))[: a.payload]
    blob = bytes(range(256)) * (a.payload // 256 + 1)
    blob = blob[: a.payload]
    full = AllTypes(b=True, i8v=-128, i16v=-32768, i32v=2**31 - 1, i64v=-2**63, d=-1.25e-300,
                    s="gale-é-☃-" + text[:64], bin=bytes(range(256)), li=[0, -1, 2**31 - 1, -2**31],
                    ss={"a", "é", ""}, m={"k": 2**40, "": -1}, inner=Inner(id=7, name="inner"),
                    inners=[Inner(id=i, name="n%d" % i) for i in range(3)],
                    nested={1: ["x", "y"], -2: [], 3: ["é"]}, color=Color.BLUE, opt="set")
    empty = AllTypes(b=False, i8v=0, i16v=0, i32v=0, i64v=0, d=float("inf"), s="", bin=b"", li=[], ss=set(),
                     m={}, inner=Inner(id=0, name=""), inners=[], nested={}, color=Color.RED)
    errors = 0
    for i in range(a.calls):
        checks = [
            ("echo", client.echo(text + str(i)), text + str(i)),
            ("echo_binary", client.echo_binary(blob), blob),
            ("ping", client.ping(), None),
            ("add", client.add(i, -3 * i + 2**40), 2**40 - 2 * i),
            ("echo_or_fail ok", client.echo_or_fail("fine", 0), "fine"),
            ("echo_all", client.echo_all(full), full),
            ("echo_all empty", client.echo_all(empty), empty),
        ]
        try:
            client.echo_or_fail("boom", 7 + i)
            checks.append(("echo_or_fail raise", "no exception", "EchoError"))
        except EchoError as e:
            checks.append(("echo_or_fail raise", (e.code, e.message), (7 + i, "boom")))
        client.notify("n%d" % i)
        for name, got, want in checks:
            if got != want:
                errors += 1
                print("call %d %s: got %r, want %r" % (i, name, got, want), file=sys.stderr)
    # A final two-way call proves the oneway notifies did not break the stream.
    if client.add(1, 1) != 2:
        errors += 1
    trans.close()
    print("echo_client: %d x 7 methods over %s/%s: %s" % (a.calls, a.transport, a.protocol,
                                                         "ok" if errors == 0 else "%d errors" % errors))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
