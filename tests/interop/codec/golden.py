#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Golden vectors for gale's codec, written at test time by Apache Thrift's Python library (python3-thrift).

golden.py OUTDIR writes, for every message below and every (protocol, transport) pair, the exact bytes Apache
Thrift produces (OUTDIR/<msg>.<proto>.<transport>.bin), a canonical dump of the values as Apache Thrift reads them
back (OUTDIR/<msg>.<proto>.dump, same grammar as tests/unit/codec/tv.h), and OUTDIR/manifest listing
"<bin> <dump> <proto> <transport> <nonstrict>" per line. test_golden (C) decodes each .bin with gale, compares its
dump, re-encodes with gale and compares the bytes.

The messages are written with raw protocol calls (no generated code) so the order of set elements and map pairs
is fixed; they cover every base type at its limits, NaN/inf/-0.0/subnormal doubles, unicode and 1 MiB strings,
empty/short/long(>=15) containers of every kind, nesting, far and negative field ids, all four message types.
Exits 77 when python3-thrift is missing.
"""
import math
import os
import struct
import sys

try:
    from thrift.Thrift import TType, TMessageType
    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.protocol.TCompactProtocol import TCompactProtocol
    from thrift.transport.TTransport import TMemoryBuffer, TFramedTransport
    from thrift.transport.THeaderTransport import THeaderTransport, THeaderClientType
except ImportError as e:  # pragma: no cover
    print("skip: python3-thrift not importable by %s: %s" % (sys.executable, e))
    sys.exit(77)

T = TType


def S(*fields):
    return (T.STRUCT, list(fields))


def L(et, vals):
    return (T.LIST, (et, vals))


def SET(et, vals):
    return (T.SET, (et, vals))


def M(kt, vt, pairs):
    return (T.MAP, (kt, vt, pairs))


def B(x): return (T.BOOL, x)
def I8(x): return (T.BYTE, x)
def I16(x): return (T.I16, x)
def I32(x): return (T.I32, x)
def I64(x): return (T.I64, x)
def D(x): return (T.DOUBLE, x)
def STR(x): return (T.STRING, x if isinstance(x, bytes) else x.encode("utf-8"))


def write(p, v):
    t, x = v
    if t == T.BOOL:
        p.writeBool(x)
    elif t == T.BYTE:
        p.writeByte(x)
    elif t == T.I16:
        p.writeI16(x)
    elif t == T.I32:
        p.writeI32(x)
    elif t == T.I64:
        p.writeI64(x)
    elif t == T.DOUBLE:
        p.writeDouble(x)
    elif t == T.STRING:
        p.writeBinary(x)
    elif t == T.STRUCT:
        p.writeStructBegin("s")
        for fid, fv in x:
            p.writeFieldBegin("f", fv[0], fid)
            write(p, fv)
            p.writeFieldEnd()
        p.writeFieldStop()
        p.writeStructEnd()
    elif t in (T.LIST, T.SET):
        et, vals = x
        (p.writeListBegin if t == T.LIST else p.writeSetBegin)(et, len(vals))
        for e in vals:
            write(p, (et, e))
        (p.writeListEnd if t == T.LIST else p.writeSetEnd)()
    elif t == T.MAP:
        kt, vt, pairs = x
        p.writeMapBegin(kt, vt, len(pairs))
        for k, val in pairs:
            write(p, (kt, k))
            write(p, (vt, val))
        p.writeMapEnd()
    else:
        raise ValueError(t)


def dump(p, t):
    if t == T.BOOL:
        return "T" if p.readBool() else "F"
    if t == T.BYTE:
        return "b%d" % p.readByte()
    if t == T.I16:
        return "h%d" % p.readI16()
    if t == T.I32:
        return "i%d" % p.readI32()
    if t == T.I64:
        return "l%d" % p.readI64()
    if t == T.DOUBLE:
        return "d" + struct.pack(">d", p.readDouble()).hex()
    if t == T.STRING:
        return "s" + p.readBinary().hex()
    if t == T.STRUCT:
        p.readStructBegin()
        out = "{"
        while True:
            _, ft, fid = p.readFieldBegin()
            if ft == T.STOP:
                break
            out += "%d:%s," % (fid, dump(p, ft))
            p.readFieldEnd()
        p.readStructEnd()
        return out + "}"
    if t in (T.LIST, T.SET):
        et, n = (p.readListBegin if t == T.LIST else p.readSetBegin)()
        out = ("[" if t == T.LIST else "<") + "%d:" % et
        out += "".join(dump(p, et) + "," for _ in range(n))
        (p.readListEnd if t == T.LIST else p.readSetEnd)()
        return out + ("]" if t == T.LIST else ">")
    if t == T.MAP:
        kt, vt, n = p.readMapBegin()
        out = "(" + ("%d,%d:" % (kt, vt) if n else "")
        for _ in range(n):
            out += dump(p, kt) + "=" + dump(p, vt) + ";"
        p.readMapEnd()
        return out + ")"
    raise ValueError(t)


def dump_msg(p):
    name, mtype, seqid = p.readMessageBegin()
    body = dump(p, T.STRUCT)
    p.readMessageEnd()
    return "m%s t%d q%d %s" % (name.encode("utf-8").hex(), mtype, seqid, body)


def inner(a, s):
    return (S((1, I32(a)), (2, STR(s))))[1]


def nested(depth):
    v = S((1, I32(depth)))
    for d in range(depth - 1, 0, -1):
        v = S((1, I32(d)), (2, v), (3, L(T.STRUCT, [])))
    return v


MESSAGES = [
    ("ping", "ping", TMessageType.CALL, 1, S(), {b"k1": b"v1", b"trace-id": b"abc123"}),
    ("scalars", "getScalars", TMessageType.REPLY, 0x7FFFFFFF, S(
        (1, B(True)), (2, B(False)), (3, I8(-128)), (4, I8(127)), (5, I8(0)),
        (6, I16(-32768)), (7, I16(32767)), (8, I32(-2**31)), (9, I32(2**31 - 1)), (10, I32(0)),
        (11, I64(-2**63)), (12, I64(2**63 - 1)), (13, I64(-1)), (14, D(0.0)), (15, D(-0.0)),
        (16, D(float("nan"))), (17, D(float("inf"))), (18, D(float("-inf"))), (19, D(5e-324)),
        (20, D(1.7976931348623157e308)), (21, D(math.pi)),
        (22, STR("h\u00e9llo w\u00f6rld \u2713 \U0001d11e \u4e2d\u6587")), (23, STR(b"")), (24, STR(bytes(range(256)))),
        (40, B(True)), (41, B(False)), (200, I32(123456)), (32767, I64(1 << 40)), (-1, I16(-2)), (-32768, B(True)),
        (5, STR("dup id after negative")),
    ), {}),
    ("containers", "putContainers", TMessageType.CALL, 42, S(
        (1, L(T.I32, [])), (2, SET(T.STRING, [])), (3, M(T.STRING, T.I64, [])),
        (4, L(T.I32, list(range(-10, 10)))), (5, L(T.BOOL, [True, False, True, True])),
        (6, SET(T.STRING, [b"a", b"bb", b"\xff\x00"])), (7, M(T.STRING, T.I64, [(b"x", 1), (b"y", -(2**40))])),
        (8, M(T.I32, T.LIST, [(1, (T.STRING, [b"p", b"q"])), (2, (T.STRING, []))])),
        (9, L(T.LIST, [(T.I16, [1, 2, 3]), (T.I16, []), (T.I16, [-1] * 16)])),
        (10, L(T.DOUBLE, [0.5, float("inf"), -0.0])), (11, L(T.STRUCT, [inner(1, "one"), inner(2, "two")])),
        (12, M(T.STRING, T.MAP, [(b"m", (T.I32, T.BOOL, [(1, True), (2, False)]))])),
        (13, L(T.BYTE, [-1, 0, 1, 127])), (14, L(T.I64, list(range(14)))), (15, L(T.I64, list(range(15)))),
        (16, SET(T.I32, list(range(300)))), (17, M(T.BOOL, T.DOUBLE, [(True, 1.0), (False, float("-inf"))])),
        (18, L(T.SET, [(T.BYTE, [1])])), (19, M(T.I16, T.STRUCT, [(7, inner(7, "seven"))])),
    ), {b"x": b"y"}),
    ("nested", "deep", TMessageType.CALL, 9, S((1, nested(40))), {}),
    ("bigstring", "echo", TMessageType.CALL, 123, S((1, STR(bytes((i * 7 + 3) & 0xFF for i in range(1 << 20))))), {}),
    ("exception", "doThing", TMessageType.EXCEPTION, 7, S((1, STR("boom")), (2, I32(6))), {}),
    ("oneway", "notify", TMessageType.ONEWAY, 3, S((1, STR("fire and forget"))), {}),
]

PROTOS = {"binary": (TBinaryProtocol, 0), "compact": (TCompactProtocol, 2)}


def encode(proto, transport, nonstrict, msg):
    _, name, mtype, seqid, body, headers = msg
    mem = TMemoryBuffer()
    cls, pid = PROTOS[proto]
    if transport == "buffered":
        trans = mem
    elif transport == "framed":
        trans = TFramedTransport(mem)
    else:
        trans = THeaderTransport(mem, [THeaderClientType.HEADERS], default_protocol=pid)
        trans.sequence_id = seqid
        for k, v in headers.items():
            trans.set_header(k, v)
    p = cls(trans, strictWrite=not nonstrict) if proto == "binary" else cls(trans)
    p.writeMessageBegin(name, mtype, seqid)
    write(p, body)
    p.writeMessageEnd()
    trans.flush()
    return mem.getvalue()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    lines = []
    for msg in MESSAGES:
        for proto in PROTOS:
            raw = encode(proto, "buffered", False, msg)
            cls, _ = PROTOS[proto]
            d = dump_msg(cls(TMemoryBuffer(raw)))
            dfile = "%s.%s.dump" % (msg[0], proto)
            with open(os.path.join(out, dfile), "w") as f:
                f.write(d)
            variants = [("buffered", False), ("framed", False), ("theader", False)]
            if proto == "binary":
                variants += [("buffered", True), ("framed", True)]
            for transport, ns in variants:
                data = encode(proto, transport, ns, msg)
                bfile = "%s.%s.%s%s.bin" % (msg[0], proto, transport, ".ns" if ns else "")
                with open(os.path.join(out, bfile), "wb") as f:
                    f.write(data)
                lines.append("%s %s %s %s %d" % (bfile, dfile, proto, transport, 1 if ns else 0))
    with open(os.path.join(out, "manifest"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d vectors to %s" % (len(lines), out))


if __name__ == "__main__":
    main()
