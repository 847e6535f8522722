#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Malformed frames against an echo server (fault_server, gale-echo) on raw sockets, Framed + Binary.

    malformed.py --port N [--host H]

One well-behaved connection makes a call before and after every case, and must keep working:
  garbage args     a frame whose arguments are garbage (an invalid field type): a TApplicationException
                   PROTOCOL_ERROR with the call's name and seqid; the connection stays open and serves a call;
  bad envelope     a frame whose message header cannot be read (a name longer than the frame): the same;
  over the limit   a frame length beyond the server's frame limit: the connection is closed;
  broken framing   bytes that are no Thrift transport at all (an HTTP request): the connection is closed;
  cut short        half a frame, then the client goes away (RST): nothing is answered, nothing else is hurt.
Finally a new connection is served. Exit 0 when every expectation held (the first miss is printed).
"""
import argparse
import socket
import struct
import sys

T_STOP, T_I32, T_I64, T_STRING, T_STRUCT = 0, 8, 10, 11, 12
PROTOCOL_ERROR = 7


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def envelope(name, mtype, seqid):
    return struct.pack(">Ii", 0x80010000 | mtype, len(name)) + name + struct.pack(">i", seqid)


def add_call(a, b, seqid):
    body = struct.pack(">bhq", T_I64, 1, a) + struct.pack(">bhq", T_I64, 2, b) + bytes([T_STOP])
    return frame(envelope(b"add", 1, seqid) + body)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_frame(s):
    hdr = recv_exact(s, 4)
    if hdr is None:
        return None
    return recv_exact(s, struct.unpack(">I", hdr)[0])


def parse_envelope(p):
    ver, nlen = struct.unpack(">Ii", p[:8])
    name = p[8:8 + nlen]
    (seqid,) = struct.unpack(">i", p[8 + nlen:12 + nlen])
    return ver & 0xff, name, seqid, p[12 + nlen:]


def parse_appex(body):
    """TApplicationException {1: string message, 2: i32 type} -> (message, type)."""
    msg, typ, i = None, None, 0
    while body[i] != T_STOP:
        ftype, fid = struct.unpack(">bh", body[i:i + 3])
        i += 3
        if ftype == T_STRING:
            (n,) = struct.unpack(">i", body[i:i + 4])
            val = body[i + 4:i + 4 + n]
            i += 4 + n
            if fid == 1:
                msg = val.decode(errors="replace")
        elif ftype == T_I32:
            (val,) = struct.unpack(">i", body[i:i + 4])
            i += 4
            if fid == 2:
                typ = val
        else:
            raise ValueError("unexpected field type %d in an exception" % ftype)
    return msg, typ


class Checker:
    def __init__(self, host, port):
        self.host, self.port, self.seq = host, port, 100

    def connect(self):
        s = socket.create_connection((self.host, self.port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def add(self, s, a, b, what):
        self.seq += 1
        s.sendall(add_call(a, b, self.seq))
        p = read_frame(s)
        if p is None:
            sys.exit("%s: connection closed instead of answering add" % what)
        mtype, name, seqid, body = parse_envelope(p)
        got = struct.unpack(">q", body[3:11])[0] if mtype == 2 and body[:3] == bytes([T_I64, 0, 0]) else None
        if (mtype, name, seqid, got) != (2, b"add", self.seq, a + b):
            sys.exit("%s: add(%d, %d) answered %r" % (what, a, b, (mtype, name, seqid, got)))

    def expect_appex(self, s, seqid, name, what):
        p = read_frame(s)
        if p is None:
            sys.exit("%s: connection closed, want a TApplicationException" % what)
        mtype, rname, rseq, body = parse_envelope(p)
        msg, typ = parse_appex(body)
        if mtype != 3 or typ != PROTOCOL_ERROR or rseq != seqid or rname != name:
            sys.exit("%s: got type %d name %r seqid %d exception %r/%r, want PROTOCOL_ERROR for %r seqid %d"
                     % (what, mtype, rname, rseq, typ, msg, name, seqid))
        print("%s: TApplicationException PROTOCOL_ERROR (%s)" % (what, msg))

    def expect_closed(self, s, what):
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            sys.exit("%s: the connection is still open after 5 s" % what)
        if data:
            sys.exit("%s: got %r, want the connection closed" % (what, data[:32]))
        print("%s: connection closed" % what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    c = Checker(a.host, a.port)
    good = c.connect()
    c.add(good, 1, 2, "good connection")

    s = c.connect()
    c.add(s, 3, 4, "garbage args (before)")
    s.sendall(frame(envelope(b"add", 1, 77) + b"\xee" * 16))
    c.expect_appex(s, 77, b"add", "garbage args")
    c.add(s, 5, 6, "garbage args (same connection after)")
    c.add(good, 7, 8, "good connection after garbage args")

    s2 = c.connect()
    s2.sendall(frame(struct.pack(">Ii", 0x80010001, 0x7ffffff0) + b"xyz"))
    c.expect_appex(s2, 0, b"", "bad envelope")
    c.add(s2, 9, 10, "bad envelope (same connection after)")

    s3 = c.connect()
    s3.sendall(struct.pack(">I", 0x7ffffff0) + struct.pack(">Ii", 0x80010001, 3) + b"add")
    c.expect_closed(s3, "over the limit")
    c.add(good, 11, 12, "good connection after over the limit")

    s4 = c.connect()
    s4.sendall(b"GET / HTTP/1.1\r\nHost: gale\r\n\r\n")
    c.expect_closed(s4, "broken framing")
    c.add(good, 13, 14, "good connection after broken framing")

    s6 = c.connect()
    s6.sendall(add_call(1, 1, 999)[:20])
    s6.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s6.close()  # RST with half a frame sent
    c.add(good, 19, 20, "good connection after a frame cut short")
    c.add(s, 15, 16, "garbage-args connection at the end")

    s5 = c.connect()
    c.add(s5, 17, 18, "a new connection")
    for x in (good, s, s2, s3, s4, s5):
        x.close()
    print("malformed frames: ok")


if __name__ == "__main__":
    main()
