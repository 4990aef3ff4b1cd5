#!/usr/bin/python3
"""Raw clients the agent tests run inside the sandbox (python3 stdlib).

  probe.py raw HOST PORT FILE     TLS (the sandbox's trust store: airlock's bundle) to HOST:PORT,
                                  send FILE's bytes as they are, print what comes back until the
                                  peer closes or 4 s of silence; "closed" / "timeout" at the end
  probe.py keepalive HOST PORT FILE1 FILE2
                                  TLS; send FILE1, read its whole answer (Content-Length), print
                                  "first: STATUS LINE"; then on the same connection send FILE2
                                  and print "second: " with the answer's first line, or how the
                                  connection ended
  probe.py plain HOST PORT        plain TCP: "GET / HTTP/1.0" and the answer's first line, and
                                  whether it names the client certificate's subject
  probe.py tls HOST PORT          the same over TLS (verified with the sandbox's trust store)
  probe.py pid1                   try to read the memory of the sandbox's pid 1 (ptrace attach,
                                  process_vm_readv, /proc/1/environ): each line says what happened
"""
import ctypes
import os
import socket
import ssl
import sys


def tls(host, port):
    raw = socket.create_connection((host, port), 8)
    return ssl.create_default_context().wrap_socket(raw, server_hostname=host)


def read_all(sock, quiet=4.0):
    sock.settimeout(quiet)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
        return data, "closed"
    except socket.timeout:
        return data, "timeout"
    except (ConnectionResetError, ssl.SSLError, OSError) as error:
        return data, f"error {type(error).__name__}"


def answer(sock):
    """One HTTP/1.1 response with Content-Length: (status line, body)."""
    sock.settimeout(8)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError
        body += chunk
    return head.split(b"\r\n")[0].decode("latin-1"), body


def kms(sock, host):
    # HTTP/1.1 with Host, as an HTTP KMS client sends it (airlock refuses HTTP without a Host on a
    # name rule)
    sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    data, end = read_all(sock, 8)
    print(data.split(b"\r\n")[0].decode("latin-1") or f"nothing ({end})")
    if b"Subject: CN=airlock agents test KMS client" in data:
        print("client-certificate=airlock agents test KMS client")


def pid1():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    result = libc.ptrace(16, 1, None, None)  # PTRACE_ATTACH
    print(f"ptrace-attach={'ok' if result == 0 else os.strerror(ctypes.get_errno())}")

    class Iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]

    buffer = ctypes.create_string_buffer(4096)
    local = Iovec(ctypes.addressof(buffer), 4096)
    stack = 0
    try:
        with open("/proc/1/maps") as maps:
            stack = int(next(l for l in maps if "[stack]" in l).split("-")[0], 16)
    except (OSError, StopIteration):
        stack = 0x400000
    remote = Iovec(stack, 4096)
    result = libc.process_vm_readv(1, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    print(f"process_vm_readv={'ok' if result > 0 else os.strerror(ctypes.get_errno())}")
    try:
        with open("/proc/1/environ", "rb") as f:
            print(f"proc-environ=ok {len(f.read())} bytes")
    except OSError as error:
        print(f"proc-environ={error.strerror}")


def main():
    what = sys.argv[1]
    if what == "raw":
        sock = tls(sys.argv[2], int(sys.argv[3]))
        with open(sys.argv[4], "rb") as f:
            sock.sendall(f.read())
        data, end = read_all(sock)
        sys.stdout.write(data.decode("latin-1"))
        print(f"\n{end}")
    elif what == "keepalive":
        sock = tls(sys.argv[2], int(sys.argv[3]))
        with open(sys.argv[4], "rb") as f:
            sock.sendall(f.read())
        status, body = answer(sock)
        print(f"first: {status}")
        with open(sys.argv[5], "rb") as f:
            sock.sendall(f.read())
        data, end = read_all(sock)
        first_line = data.split(b"\r\n")[0].decode("latin-1")
        print(f"second: {first_line}" if data else f"second: {end}")
    elif what == "plain":
        kms(socket.create_connection((sys.argv[2], int(sys.argv[3])), 8), f"{sys.argv[2]}:{sys.argv[3]}")
    elif what == "tls":
        kms(tls(sys.argv[2], int(sys.argv[3])), f"{sys.argv[2]}:{sys.argv[3]}")
    elif what == "pid1":
        pid1()


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the test reads this line
        print(f"error {type(error).__name__}: {error}")
