#!/usr/bin/env python3
"""The client side of bench/egress.sh; runs on the host and inside `airlock run` alike.

  client.py fetch HOST:PORT BYTES [--via http|socks5 PROXY_HOST:PORT]
      GET /bytes/BYTES from the origin, directly (a transparently captured connection inside
      the sandbox) or through a CONNECT / SOCKS5 tunnel; prints "MB/s <value>" (10^6 bytes/s,
      from before connect() to the last byte).
  client.py latency HOST:PORT COUNT [--via http PROXY_HOST:PORT]
      COUNT times, one after the other: connect, send one byte, read it back (the origin's
      echo-once port, which then closes), close. Prints "p50_us <v> p99_us <v> max_us <v>" of
      the connect-to-echo times.
  client.py hold HOST:PORT COUNT DIR [--silent]
      Writes DIR/started, waits for DIR/go, then opens COUNT connections to the echo port one
      after the other, each proven end to end by a one-byte echo (--silent: no byte is sent;
      the caller counts the origin's open connections instead), stopping at the first failure;
      writes "held N of COUNT[; why it stopped]" to DIR/held and keeps the connections open
      until DIR/release.
"""
import os
import resource
import socket
import statistics
import sys
import time


def parse_address(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def read_head(sock):
    """Reads an HTTP response head; returns (status code, bytes read past the head)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit(f"connection closed before the response head: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, rest, head


def open_tunnel(target, via):
    """A socket whose bytes reach `target`: direct, or through an HTTP CONNECT / SOCKS5 proxy."""
    if via is None:
        return socket.create_connection(target)
    kind, proxy = via
    sock = socket.create_connection(proxy)
    host, port = target
    if kind == "http":
        sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        status, rest, head = read_head(sock)
        if status != 200 or rest:
            raise SystemExit(f"CONNECT {host}:{port} via {proxy}: {head!r}")
    elif kind == "socks5":
        sock.sendall(b"\x05\x01\x00")
        if sock.recv(2) != b"\x05\x00":
            raise SystemExit("SOCKS5: no-auth method refused")
        name = host.encode()
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
        reply = b""
        while len(reply) < 10:  # IPv4 bound address
            chunk = sock.recv(10 - len(reply))
            if not chunk:
                raise SystemExit("SOCKS5: connection closed")
            reply += chunk
        if reply[1] != 0:
            raise SystemExit(f"SOCKS5 CONNECT {host}:{port}: reply {reply[1]}")
    else:
        raise SystemExit(f"unknown proxy kind {kind}")
    return sock


def fetch(target, size, via):
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    start = time.perf_counter()
    sock = open_tunnel(target, via)
    sock.sendall(f"GET /bytes/{size} HTTP/1.1\r\nHost: {target[0]}:{target[1]}\r\n"
                 "Connection: close\r\n\r\n".encode())
    status, rest, head = read_head(sock)
    if status != 200:
        raise SystemExit(f"GET: {head!r}")
    got = len(rest)
    while got < size:
        n = sock.recv_into(view)
        if n == 0:
            raise SystemExit(f"short body: {got} of {size} bytes")
        got += n
    elapsed = time.perf_counter() - start
    sock.close()
    print(f"MB/s {size / elapsed / 1e6:.0f}")


def latency(target, count, via):
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        sock = open_tunnel(target, via)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"x")
        if sock.recv(1) != b"x":
            raise SystemExit("echo: no byte back")
        samples.append((time.perf_counter_ns() - start) / 1000)
        sock.close()
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"p50_us {statistics.median(samples):.0f} p99_us {p99:.0f} max_us {samples[-1]:.0f}")


def wait_for(path, seconds):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.05)


def hold(target, count, directory, silent):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < count + 64:
        raise SystemExit(f"RLIMIT_NOFILE is {hard}: too low to hold {count} connections")
    with open(os.path.join(directory, "started"), "w") as f:
        f.write("started\n")
    wait_for(os.path.join(directory, "go"), 60)
    held = []
    failure = ""
    for i in range(count):
        sock = None
        try:
            sock = socket.create_connection(target, timeout=5)
            if not silent:
                sock.sendall(b"x")
                if sock.recv(1) != b"x":
                    raise OSError("the echo did not come back")
        except OSError as error:  # stop at the first failure; keep what is held for the reading
            failure = f"; connection {i + 1} failed: {error}"
            if sock is not None:
                sock.close()
            break
        held.append(sock)
    with open(os.path.join(directory, "held"), "w") as f:
        f.write(f"held {len(held)} of {count}{failure}\n")
    wait_for(os.path.join(directory, "release"), 120)
    for sock in held:
        sock.close()


def main(argv):
    if len(argv) < 4:
        raise SystemExit(__doc__)
    mode, target = argv[1], parse_address(argv[2])
    via = None
    if "--via" in argv:
        at = argv.index("--via")
        via = (argv[at + 1], parse_address(argv[at + 2]))
        argv = argv[:at] + argv[at + 3:]
    if mode == "fetch":
        fetch(target, int(argv[3]), via)
    elif mode == "latency":
        latency(target, int(argv[3]), via)
    elif mode == "hold":
        hold(target, int(argv[3]), argv[4], "--silent" in argv[5:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
