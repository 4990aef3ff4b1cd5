#!/usr/bin/python3
"""Item 11 inside the sandbox: idle connections, a slowloris client, a client that never reads a
10 MB response and an upstream that never answers, while a normal request must stay fast.
Phases are handed to the test outside through files in the workspace:
  writes stress.phase = baseline | loaded | closed | done, and stress.result (key=value lines)
  waits for stress.go1 (baseline measured), stress.go2 (load measured), stress.go3 (end)."""
import os
import socket
import subprocess
import sys
import threading
import time

IDLE_RAW, IDLE_TUNNELS = int(sys.argv[1]), int(sys.argv[2])
results = []


def phase(name):
    with open("stress.phase.tmp", "w") as f:
        f.write(name)
    os.rename("stress.phase.tmp", "stress.phase")


def result(line):
    results.append(line)
    with open("stress.result", "w") as f:
        f.write("\n".join(results) + "\n")


def wait_for(name, limit=60):
    deadline = time.time() + limit
    while not os.path.exists(name):
        if time.time() > deadline:
            result(f"timeout waiting for {name}")
            sys.exit(1)
        time.sleep(0.05)


def tunnel(target):
    sock = socket.create_connection(("127.0.0.1", 3128), 5)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return sock, data.split(b"\r\n")[0]


slowloris_end = {}


def slowloris():
    request = b"GET http://api.example.test/slowloris HTTP/1.1\r\nHost: api.example.test\r\nX-Slow: " + b"s" * 100
    sock = socket.create_connection(("127.0.0.1", 3128), 5)
    started = time.time()
    try:
        for byte in request:
            sock.sendall(bytes([byte]))
            sock.settimeout(1.0)
            try:
                data = sock.recv(4096)
                slowloris_end["how"] = "answered " + data.split(b"\r\n")[0].decode("latin-1") if data else "eof"
                break
            except socket.timeout:
                pass
        else:
            slowloris_end["how"] = "never cut"
    except (BrokenPipeError, ConnectionResetError):
        slowloris_end["how"] = "reset"
    slowloris_end["after"] = time.time() - started
    sock.close()


def main():
    phase("baseline")
    wait_for("stress.go1")
    idle = []
    for _ in range(IDLE_RAW):
        idle.append(socket.create_connection(("127.0.0.1", 3128), 5))
    established = 0
    for _ in range(IDLE_TUNNELS):
        sock, status = tunnel("api.example.test:80")
        idle.append(sock)
        established += status.endswith(b"200 Connection established")
    result(f"tunnels={established}")
    threading.Thread(target=slowloris, daemon=True).start()
    never_reads = socket.create_connection(("127.0.0.1", 3128), 5)
    never_reads.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    never_reads.sendall(b"GET http://api.example.test/big HTTP/1.1\r\nHost: api.example.test\r\n\r\n")
    hanging = socket.create_connection(("127.0.0.1", 3128), 5)
    hanging.sendall(b"GET http://198.51.100.20:8080/hang HTTP/1.1\r\nHost: 198.51.100.20:8080\r\n\r\n")
    time.sleep(1.5)  # the 10 MB response fills every buffer on its way
    phase("loaded")
    wait_for("stress.go2")
    for attempt, argv in enumerate([
            ["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
             "http://api.example.test/normal-proxy"],
            ["curl", "-sS", "--max-time", "10", "--noproxy", "*", "-o", "/dev/null", "-w",
             "%{http_code}", "http://api.example.test/normal-transparent"]]):
        started = time.time()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=15)
        result(f"normal{attempt}={done.stdout.strip()} seconds={time.time() - started:.2f}")
    deadline = time.time() + 20
    while "how" not in slowloris_end and time.time() < deadline:
        time.sleep(0.2)
    result(f"slowloris={slowloris_end.get('how', 'still running')} after={slowloris_end.get('after', 0):.1f}")
    for sock in idle + [never_reads, hanging]:
        sock.close()
    phase("closed")
    wait_for("stress.go3")
    phase("done")


main()
