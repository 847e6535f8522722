#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Raw-socket checks of gale's RPC server (gale-echo) that Apache's client library cannot make.

    rpc_raw.py --gen-dir DIR --port N [--host H]

Messages are built and parsed with Apache Thrift's Python protocols (TBinaryProtocol, TCompactProtocol over a
TMemoryBuffer) and the code `thrift --gen py` makes for apps/echo/echo.thrift; only the framing and the broken
parts are written by hand. Each check prints one line; the script exits 0 only if every check passed:

  - pipelining: 64 calls in one write are answered in order, each with its own seqid and result
  - split delivery: a request that arrives a few bytes at a time is answered once whole
  - unknown method: TApplicationException UNKNOWN_METHOD with the call's seqid; the connection keeps working
  - undecodable arguments inside an intact frame: TApplicationException PROTOCOL_ERROR; connection keeps working
  - wrong message type (a REPLY sent to the server): TApplicationException INVALID_MESSAGE_TYPE
  - multiplexed name "Echo:add": served, answered as "add"
  - TTHeader (Kitex), bare payload and TTHeaderFramed (inner length word), binary and compact, with string and
    int headers: answered in kind with the header seqid
  - garbage bytes, an oversized Framed length, a TTHeader with a bad header: the connection is closed
  - 300 seeded damaged requests (cut, bit-flipped, bytes inserted or dropped, noise), each followed by EOF:
    the server closes every one of those connections and keeps serving new ones
  - a connection opened before all that still answers afterwards (only the offending connections suffered)
"""
import argparse
import os
import socket
import struct
import subprocess
import sys
import time


def gen_py(idl, out_dir):
    marker = os.path.join(out_dir, "gale_echo", "Echo.py")
    if not os.path.exists(marker):
        os.makedirs(out_dir, exist_ok=True)
        subprocess.run(["thrift", "--gen", "py", "-out", out_dir, idl], check=True)
    sys.path.insert(0, out_dir)


class Checker:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok   %s" % name)
        else:
            self.failed += 1
            print("FAIL %s %s" % (name, detail))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen-dir", required=True)
    ap.add_argument("--idl", default=os.path.join(os.path.dirname(__file__), "../../../apps/echo/echo.thrift"))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    gen_py(a.idl, a.gen_dir)
    from gale_echo import Echo
    from thrift.protocol import TBinaryProtocol, TCompactProtocol
    from thrift.Thrift import TApplicationException, TMessageType
    from thrift.transport import TTransport

    protos = {"binary": TBinaryProtocol.TBinaryProtocol, "compact": TCompactProtocol.TCompactProtocol}
    ck = Checker()

    def connect():
        deadline = time.time() + 10
        while True:
            try:
                s = socket.create_connection((a.host, a.port), timeout=10)
                s.settimeout(10)
                return s
            except ConnectionRefusedError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def message(proto, name, mtype, seqid, args):
        buf = TTransport.TMemoryBuffer()
        p = protos[proto](buf)
        p.writeMessageBegin(name, mtype, seqid)
        if args is not None:
            args.write(p)
        p.writeMessageEnd()
        return buf.getvalue()

    def call(proto, name, seqid, args, mtype=TMessageType.CALL):
        return message(proto, name, mtype, seqid, args)

    def framed(payload):
        return struct.pack(">I", len(payload)) + payload

    def recv_exact(s, n):
        out = b""
        while len(out) < n:
            chunk = s.recv(n - len(out))
            if not chunk:
                raise EOFError("closed after %d of %d bytes" % (len(out), n))
            out += chunk
        return out

    def recv_framed(s):
        (n,) = struct.unpack(">I", recv_exact(s, 4))
        return recv_exact(s, n)

    def parse_reply(proto, data, result_cls):
        """Returns (name, type, seqid, result or TApplicationException)."""
        p = protos[proto](TTransport.TMemoryBuffer(data))
        name, mtype, seqid = p.readMessageBegin()
        if mtype == TMessageType.EXCEPTION:
            x = TApplicationException()
            x.read(p)
            return name, mtype, seqid, x
        r = result_cls()
        r.read(p)
        return name, mtype, seqid, r

    def closed_by_server(s):
        try:
            return s.recv(65536) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def add_args(x, y):
        return Echo.add_args(a=x, b=y)

    # A bystander connection: must still work at the end.
    bystander = connect()
    bystander.sendall(framed(call("binary", "add", 1, add_args(1, 2))))
    _, _, _, r = parse_reply("binary", recv_framed(bystander), Echo.add_result)
    ck.check("bystander first call", getattr(r, "success", None) == 3)

    for proto in ("binary", "compact"):
        # Pipelining: many calls in one write, answers in order.
        s = connect()
        n = 64
        s.sendall(b"".join(framed(call(proto, "add", 1000 + i, add_args(i, 10 * i))) for i in range(n)))
        ok = True
        for i in range(n):
            name, mtype, seqid, r = parse_reply(proto, recv_framed(s), Echo.add_result)
            if name != "add" or mtype != TMessageType.REPLY or seqid != 1000 + i or r.success != 11 * i:
                ok = False
                print("  pipelined %d: %r %r %r %r" % (i, name, mtype, seqid, getattr(r, "success", r)))
                break
        ck.check("%s pipelining %d calls in one write" % (proto, n), ok)

        # Split delivery: a few bytes at a time.
        req = framed(call(proto, "echo", 7, Echo.echo_args(message="split" * 50)))
        for off in range(0, len(req), 5):
            s.sendall(req[off:off + 5])
            time.sleep(0.001)
        _, _, seqid, r = parse_reply(proto, recv_framed(s), Echo.echo_result)
        ck.check("%s request split into 5-byte writes" % proto, seqid == 7 and r.success == "split" * 50)

        # Unknown method: TApplicationException, same connection keeps working.
        s.sendall(framed(call(proto, "no_such_method", 41, Echo.ping_args())))
        name, mtype, seqid, x = parse_reply(proto, recv_framed(s), Echo.ping_result)
        ck.check("%s unknown method -> UNKNOWN_METHOD" % proto,
                 mtype == TMessageType.EXCEPTION and seqid == 41 and name == "no_such_method" and
                 x.type == TApplicationException.UNKNOWN_METHOD, "%r %r %r" % (name, mtype, x))

        # Undecodable arguments in an intact frame: field 1 of echo_args with an invalid type id.
        head = message(proto, "echo", TMessageType.CALL, 42, None)
        if proto == "binary":
            body = bytes([0x11]) + struct.pack(">h", 1) + b"\x00"
        else:
            body = bytes([0x1E]) + b"\x00"
        s.sendall(framed(head + body))
        name, mtype, seqid, x = parse_reply(proto, recv_framed(s), Echo.echo_result)
        ck.check("%s bad field type -> PROTOCOL_ERROR" % proto,
                 mtype == TMessageType.EXCEPTION and seqid == 42 and
                 x.type == TApplicationException.PROTOCOL_ERROR, "%r %r" % (mtype, x))

        # A REPLY sent to the server.
        s.sendall(framed(message(proto, "add", TMessageType.REPLY, 43, Echo.add_result(success=1))))
        name, mtype, seqid, x = parse_reply(proto, recv_framed(s), Echo.add_result)
        ck.check("%s REPLY to the server -> INVALID_MESSAGE_TYPE" % proto,
                 mtype == TMessageType.EXCEPTION and x.type == TApplicationException.INVALID_MESSAGE_TYPE,
                 "%r %r" % (mtype, x))

        # Multiplexed service name.
        s.sendall(framed(call(proto, "Echo:add", 44, add_args(20, 22))))
        name, mtype, seqid, r = parse_reply(proto, recv_framed(s), Echo.add_result)
        ck.check("%s multiplexed Echo:add" % proto, name == "add" and seqid == 44 and r.success == 42)

        # Still fine after the errors.
        s.sendall(framed(call(proto, "add", 45, add_args(2, 3))))
        _, _, seqid, r = parse_reply(proto, recv_framed(s), Echo.add_result)
        ck.check("%s connection usable after the exceptions" % proto, seqid == 45 and r.success == 5)
        s.close()

        # TTHeader (Kitex), bare and TTHeaderFramed.
        for inner in (False, True):
            payload = call(proto, "echo", 46, Echo.echo_args(message="kitex"))
            if inner:
                payload = framed(payload)
            info = b""
            # int headers: RPC_TIMEOUT (12) = "250"; string headers: "user" = "gale".
            info += bytes([0x10]) + struct.pack(">H", 1) + struct.pack(">H", 12) + struct.pack(">H", 3) + b"250"
            info += bytes([0x01]) + struct.pack(">H", 1) + struct.pack(">H", 4) + b"user" + \
                struct.pack(">H", 4) + b"gale"
            hdr = bytes([0 if proto == "binary" else 2, 0]) + info
            while len(hdr) % 4:
                hdr += b"\x00"
            body = struct.pack(">HHIH", 0x1000, 0, 777, len(hdr) // 4) + hdr + payload
            t = connect()
            t.sendall(framed(body))
            frame = recv_framed(t)
            magic, flags, hseq, hsize = struct.unpack(">HHIH", frame[:10])
            rp = frame[10 + 4 * hsize:]
            if inner:
                (ilen,) = struct.unpack(">I", rp[:4])
                ok_inner = ilen == len(rp) - 4
                rp = rp[4:]
            else:
                ok_inner = True
            name, mtype, seqid, r = parse_reply(proto, rp, Echo.echo_result)
            ck.check("%s TTHeader%s" % (proto, "Framed" if inner else ""),
                     magic == 0x1000 and hseq == 777 and ok_inner and seqid == 46 and r.success == "kitex",
                     "magic %x hseq %d inner %r seqid %r %r" % (magic, hseq, ok_inner, seqid, r))
            t.close()

    # A client that sends 200 large requests before reading any reply (~13 MB of replies): the server
    # stops decoding while the replies wait, resumes as they drain, and every reply arrives in order.
    import threading
    s = connect()
    s.settimeout(30)
    big = "y" * 65536
    reqs = b"".join(framed(call("binary", "echo", 5000 + i, Echo.echo_args(message=big))) for i in range(200))
    sender = threading.Thread(target=s.sendall, args=(reqs,))
    sender.start()
    time.sleep(0.5)
    ok = True
    for i in range(200):
        _, _, seqid, r = parse_reply("binary", recv_framed(s), Echo.echo_result)
        if seqid != 5000 + i or r.success != big:
            ok = False
            break
    sender.join()
    ck.check("200 x 64 KiB requests sent before reading: all answered in order (back-pressure)", ok)
    s.close()

    # Broken framing: the server closes the offending connection.
    s = connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    ck.check("garbage -> connection closed", closed_by_server(s))
    s.close()

    s = connect()
    s.sendall(struct.pack(">I", 0x7FFFFFF0) + message("binary", "echo", TMessageType.CALL, 1, None))
    ck.check("oversized Framed length -> connection closed", closed_by_server(s))
    s.close()

    s = connect()
    bad = struct.pack(">HHIH", 0x1000, 0, 1, 1) + bytes([0, 0, 0x55, 0])  # info id 0x55 is unknown
    s.sendall(framed(bad + call("binary", "ping", 1, Echo.ping_args())))
    ck.check("TTHeader with an unknown info id -> connection closed", closed_by_server(s))
    s.close()

    # Seeded random damage: valid requests of every kind cut short, bit-flipped, with bytes inserted or
    # dropped, and plain noise, 300 connections. Each may get exceptions or be closed; the server must
    # survive all of them (checked by the bystander below).
    import random
    rng = random.Random(7)
    samples = []
    for proto in ("binary", "compact"):
        m = call(proto, "echo_or_fail", 5, Echo.echo_or_fail_args(message="x" * 40, code=3))
        samples.append(framed(m))
        samples.append(m)
        hdr = bytes([0 if proto == "binary" else 2, 0, 0, 0])
        samples.append(framed(struct.pack(">HHIH", 0x1000, 0, 5, 1) + hdr + m))
        samples.append(framed(struct.pack(">HHIH", 0x0FFF, 0, 5, 1) + hdr + m))
    survived_answers = 0
    hung = 0
    for i in range(300):
        data = bytearray(rng.choice(samples))
        kind = i % 5
        if kind == 0:
            data = data[: rng.randrange(1, len(data))]
        elif kind == 1:
            for _ in range(rng.randrange(1, 4)):
                j = rng.randrange(len(data))
                data[j] ^= 1 << rng.randrange(8)
        elif kind == 2:
            j = rng.randrange(len(data))
            data[j:j] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        elif kind == 3:
            j = rng.randrange(len(data))
            del data[j: j + rng.randrange(1, 8)]
        else:
            data = bytearray(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        s = connect()
        s.settimeout(5)
        try:
            s.sendall(bytes(data))
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                survived_answers += 1
        except socket.timeout:
            hung += 1
        except OSError:
            pass  # reset or already closed by the server (ECONNRESET, EPIPE, ENOTCONN)
        s.close()
    ck.check("300 damaged requests then EOF: every connection closed by the server (%d hung, %d replies)"
             % (hung, survived_answers), hung == 0)
    s = connect()
    s.sendall(framed(call("compact", "add", 3, add_args(1, 1))))
    _, _, seqid, r = parse_reply("compact", recv_framed(s), Echo.add_result)
    ck.check("a new connection is served after the damage", seqid == 3 and r.success == 2)
    s.close()

    # The bystander saw none of it.
    bystander.sendall(framed(call("binary", "add", 2, add_args(40, 2))))
    _, _, seqid, r = parse_reply("binary", recv_framed(bystander), Echo.add_result)
    ck.check("bystander still served after the broken connections", seqid == 2 and r.success == 42)
    bystander.close()

    print("rpc_raw: %d passed, %d failed" % (ck.passed, ck.failed))
    return 0 if ck.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
