#!/usr/bin/python3
"""A TCP echo service on the HOST's loopback (127.0.0.1 and [::1], port 5432 or the one given) for the
localhost:5432 rule; each connection is logged (echo.log, or echo-PORT.log), so a test can tell
whether a sandbox connection reached the host.  Usage: echo_server.py STATE_DIR [PORT]"""
import os
import socket
import sys
import threading
import time

PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 5432
LOG = os.path.join(sys.argv[1], "echo.log" if PORT == 5432 else f"echo-{PORT}.log")


def handle(sock, peer):
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(f"{time.time():.3f} connection from {peer[0]}:{peer[1]}\n")
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                break
            sock.sendall(b"echo:" + data)
    except OSError:
        pass
    sock.close()


def serve(family, address):
    server = socket.socket(family)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    server.bind((address, PORT))
    server.listen(64)
    while True:
        client, peer = server.accept()
        threading.Thread(target=handle, args=(client, peer), daemon=True).start()


# Both loopbacks, like a database listening on "localhost".
threading.Thread(target=serve, args=(socket.AF_INET6, "::1"), daemon=True).start()
serve(socket.AF_INET, "127.0.0.1")
