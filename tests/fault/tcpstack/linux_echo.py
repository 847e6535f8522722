#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A plain kernel TCP echo server (the Linux-to-Linux baseline of the fault test): echo HOST PORT forever."""
import socket
import sys
import threading


def handle(c):
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        c.sendall(d)
    c.close()


def main():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((sys.argv[1], int(sys.argv[2])))
    ls.listen(128)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
