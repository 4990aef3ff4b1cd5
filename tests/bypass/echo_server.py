#!/usr/bin/python3
"""A TCP echo service on the HOST's loopback (127.0.0.1:5432, or the port given) for the
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


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", PORT))
server.listen(64)
while True:
    client, address = server.accept()
    threading.Thread(target=handle, args=(client, address), daemon=True).start()
