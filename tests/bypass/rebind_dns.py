#!/usr/bin/python3
"""A DNS server on 127.0.0.1:5354 (UDP and TCP) for the rebinding test: rebind.example.test A is
answered alternately 198.51.100.10 and 127.0.0.1, TTL 0 (AAAA: no data); every other name is
NXDOMAIN. Each question and answer is logged."""
import os
import socket
import struct
import sys
import threading
import time

LOG = os.path.join(sys.argv[1], "rebind.log")
ANSWERS = [bytes([198, 51, 100, 10]), bytes([127, 0, 0, 1])]
counter = [0]
lock = threading.Lock()


def answer(query):
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    labels, at = [], 12
    while at < len(query) and query[at] != 0:
        length = query[at]
        labels.append(query[at + 1:at + 1 + length].decode("latin-1"))
        at += 1 + length
    at += 1
    qtype, qclass = struct.unpack("!HH", query[at:at + 4])
    question = query[12:at + 4]
    name = ".".join(labels).lower()
    rcode, records, given = 0, b"", "-"
    if name == "rebind.example.test":
        if qtype == 1:
            with lock:
                address = ANSWERS[counter[0] % 2]
                counter[0] += 1
            given = socket.inet_ntoa(address)
            records = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) + address
    else:
        rcode = 3
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(f"{time.time():.3f} query {name} type {qtype} -> rcode {rcode} {given}\n")
    header = struct.pack("!HHHHHH", ident, 0x8400 | (flags & 0x0100) | rcode, 1,
                         1 if records else 0, 0, 0)
    return header + question + records


def udp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 5354))
    while True:
        data, peer = sock.recvfrom(4096)
        reply = answer(data)
        if reply:
            sock.sendto(reply, peer)


def tcp_client(conn):
    try:
        while True:
            head = conn.recv(2)
            if len(head) < 2:
                break
            (length,) = struct.unpack("!H", head)
            data = b""
            while len(data) < length:
                chunk = conn.recv(length - len(data))
                if not chunk:
                    return
                data += chunk
            reply = answer(data)
            if reply:
                conn.sendall(struct.pack("!H", len(reply)) + reply)
    finally:
        conn.close()


def tcp():
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 5354))
    sock.listen(16)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=tcp_client, args=(conn,), daemon=True).start()


threading.Thread(target=tcp, daemon=True).start()
udp()
