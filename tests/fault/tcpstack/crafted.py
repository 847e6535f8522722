#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Crafted segments against gale-tcpecho from the kernel side of its tap (scapy builds and parses them).

crafted.py IFACE GALE_IP GALE_MAC FLOOD_COUNT

As 198.18.x.77 (an address the kernel does not own, announced to gale by ARP) it opens a connection by hand and
then sends: a blind in-window RST and an in-window SYN (RFC 5961: each must get a challenge ACK, the connection
lives), data with an old timestamp (PAWS: dropped, ACKed), a bad checksum, illegal flag combinations, data far
beyond the window; after each, valid data must still be echoed. Then FLOOD_COUNT SYNs from random ports (raw
socket, prebuilt frames) and the connection must still echo. Prints PASS/FAIL lines; exit 0 when all pass.
"""
import os
import random
import socket
import struct
import sys
import time

from scapy.all import ARP, IP, TCP, Ether, Raw, conf  # noqa: E402

conf.verb = 0
IFACE, GALE_IP, GALE_MAC, FLOOD = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ME = GALE_IP.rsplit(".", 1)[0] + ".77"
with open(f"/sys/class/net/{IFACE}/address") as f:
    MY_MAC = f.read().strip()
PORT = 7
failures = 0
ME_RAW = socket.inet_aton(ME)

rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
rx.bind((IFACE, 0))
rx.settimeout(0.2)
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind((IFACE, 0))


def send(pkt):
    tx.send(bytes(pkt))


def expect(pred, timeout=2.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            data = rx.recv(65535)
        except socket.timeout:
            continue
        # Cheap filter first: the keeper's traffic shares the tap and scapy parsing is slow.
        if len(data) < 54 or data[12:14] != b"\x08\x00" or data[23] != 6 or data[30:34] != ME_RAW:
            continue
        p = Ether(data)
        if IP in p and TCP in p and p[IP].src == GALE_IP and p[IP].dst == ME and pred(p[TCP]):
            return p[TCP]
    return None


def drain():
    while expect(lambda t: True, 0.05) is not None:
        pass


def check(name, ok):
    global failures
    print(("PASS " if ok else "FAIL ") + name, flush=True)
    if not ok:
        failures += 1


def eth():
    return Ether(src=MY_MAC, dst=GALE_MAC)


# Tell gale where ME is (an ARP request for its address teaches it the sender).
send(Ether(src=MY_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=MY_MAC, psrc=ME, pdst=GALE_IP))
time.sleep(0.1)

sport = 40000
isn = 1000000
ts = 100000
send(eth() / IP(src=ME, dst=GALE_IP) / TCP(sport=sport, dport=PORT, flags="S", seq=isn,
                                           options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (ts, 0)),
                                                    ("WScale", 7)]))
sa = expect(lambda t: t.flags == "SA", 3)
check("SYN-ACK to a crafted SYN", sa is not None)
if sa is None:
    sys.exit(1)
opts = dict((k, v) for k, v in sa.options if isinstance(k, str))
gale_ts = opts.get("Timestamp", (0, 0))[0]
snd = isn + 1
rcv = sa.seq + 1


def seg(flags, seq=None, ack=None, data=b"", tsval=None, chksum=None, window=65535):
    global ts
    if tsval is None:
        ts += 1
        tsval = ts
    t = TCP(sport=sport, dport=PORT, flags=flags, seq=snd if seq is None else seq,
            ack=rcv if ack is None else ack, window=window, options=[("NOP", None), ("NOP", None),
                                                                     ("Timestamp", (tsval, gale_ts))])
    if chksum is not None:
        t.chksum = chksum
    return eth() / IP(src=ME, dst=GALE_IP) / t / Raw(data) if data else eth() / IP(src=ME, dst=GALE_IP) / t


def echo_ok(tag):
    """Send 10 bytes, expect them echoed (gale-tcpecho echo mode)."""
    global snd, rcv
    payload = ("%-10s" % tag[:10]).encode()
    send(seg("PA", data=payload))
    snd += len(payload)
    got = b""
    end = time.time() + 3
    while len(got) < len(payload) and time.time() < end:
        t = expect(lambda t: len(bytes(t.payload)) > 0, 0.5)
        if t is None:
            continue
        if t.seq == rcv:
            got += bytes(t.payload)
            rcv += len(bytes(t.payload))
            send(seg("A"))
    return got == payload


send(seg("A"))
check("connection established and echoing", echo_ok("hello"))
drain()

# RFC 5961 3.2: blind RST inside the window but not at rcv_nxt: challenge ACK.
send(seg("R", seq=snd + 1000))
t = expect(lambda t: t.flags == "A" and t.ack == snd)
check("in-window RST answered with a challenge ACK", t is not None)
check("connection alive after blind RST", echo_ok("afterrst"))
drain()

# RFC 5961 4.2: SYN on a synchronized connection: challenge ACK.
send(seg("S", seq=snd + 5000))
t = expect(lambda t: t.flags == "A" and t.ack == snd)
check("in-window SYN answered with a challenge ACK", t is not None)
check("connection alive after blind SYN", echo_ok("aftersyn"))
drain()

# RFC 7323 PAWS: data with an old timestamp is dropped and ACKed (rcv_nxt unchanged).
send(seg("PA", data=b"stale-data", tsval=ts - 50000))
t = expect(lambda t: t.flags == "A" and t.ack == snd)
check("old timestamp (PAWS) dropped and ACKed", t is not None and expect(lambda t: len(bytes(t.payload)) > 0,
                                                                           0.3) is None)
check("connection alive after PAWS", echo_ok("afterpaws"))
drain()

# Bad checksum: silently dropped.
send(seg("PA", data=b"badchecksum", chksum=0x1234))
check("bad checksum ignored", expect(lambda t: True, 0.5) is None)
# Illegal flag combinations: dropped.
for fl in ("SF", "", "F", "FPU", "SR"):
    send(seg(fl, data=b"x" if fl == "" else b""))
check("illegal flag combinations ignored", expect(lambda t: t.flags != "A" or t.ack != snd, 0.5) is None)
check("connection alive after bad segments", echo_ok("afterbad"))
drain()

# Data far beyond the window: dropped, ACKed with rcv_nxt.
send(seg("PA", seq=snd + 50 * 1024 * 1024, data=b"far-future"))
t = expect(lambda t: t.flags == "A" and t.ack == snd)
check("data beyond the window ACKed, not taken", t is not None)
check("connection alive after out-of-window data", echo_ok("afterwin"))
drain()

# SYN flood from random ports, prebuilt frames through a raw socket.
if FLOOD > 0:
    base = bytearray(bytes(eth() / IP(src=ME, dst=GALE_IP) / TCP(sport=1, dport=PORT, flags="S", seq=1,
                                                                 options=[("MSS", 1460)])))
    ip_off, tcp_off = 14, 34

    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s >> 16) + (s & 0xffff)
        s += s >> 16
        return (~s) & 0xffff

    src = socket.inet_aton(ME)
    dst = socket.inet_aton(GALE_IP)
    tcp_len = len(base) - tcp_off
    pseudo = src + dst + struct.pack("!BBH", 0, 6, tcp_len)
    t0 = time.time()
    rnd = random.Random(1)
    for i in range(FLOOD):
        p = base
        sp = 1024 + rnd.randrange(60000)
        struct.pack_into("!HHI", p, tcp_off, sp, PORT, rnd.getrandbits(32))
        struct.pack_into("!H", p, tcp_off + 16, 0)
        struct.pack_into("!H", p, tcp_off + 16, csum(pseudo + bytes(p[tcp_off:])))
        try:
            tx.send(p)
        except OSError:
            time.sleep(0.001)
    print(f"flood: {FLOOD} SYNs in {time.time() - t0:.1f} s", flush=True)
    drain()
    check("connection alive after the SYN flood", echo_ok("afterflood"))

send(seg("R"))
sys.exit(1 if failures else 0)
