#!/usr/bin/python3
"""The origin side of the bypass test world (runs inside netns airlock-bypass-origin).

Listeners, one thread per connection:
  198.51.100.10:443  TLS (server cert for api.example.test, *.cdn.example.test, other.example.test)
  198.51.100.10:80   plain HTTP
  198.51.100.20:8080 plain HTTP
  198.51.100.10:443/udp  logs and echoes datagrams (QUIC must never get here from a sandbox)
Every request is answered with its own request line and headers as the body (the echo the
Proxy-Authorization and Host checks read), except GET /repo.git/... (static files of a dumb-HTTP
git repository), GET /big (10 MB), GET /drip (2000 bytes in two parts 0.5 s apart) and GET
/hang (never answered). Every request head, TLS SNI and
connection is appended to the log as one line, so a test can prove what did NOT reach the origin.

Like nginx (RFC 9112 section 2.2 "SHOULD ignore at least one empty line"), empty lines before a
request line are skipped.
"""
import os
import socket
import ssl
import sys
import threading
import time

LOG_LOCK = threading.Lock()


def log(path, line):
    with LOG_LOCK, open(path, "a", encoding="utf-8") as f:
        f.write(f"{time.time():.3f} {line}\n")


def shown(data):
    return data.decode("latin-1").encode("unicode_escape").decode("ascii")


class Connection:
    def __init__(self, sock, name, args):
        self.sock = sock
        self.name = name
        self.args = args
        self.buffer = b""

    def read_more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def read_line(self):
        while b"\n" not in self.buffer:
            if len(self.buffer) > 1 << 20:
                raise EOFError
            self.read_more()
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line + b"\n"

    def read_exact(self, n):
        while len(self.buffer) < n:
            self.read_more()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def read_body(self, headers):
        length = None
        chunked = False
        for name, value in headers:
            if name.lower() == b"content-length" and value.strip().isdigit():
                length = int(value.strip())
            if name.lower() == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            body = b""
            while True:
                size_line = self.read_line()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.read_line().strip():
                        pass
                    return body
                body += self.read_exact(size)
                self.read_line()
        if length:
            return self.read_exact(length)
        return b""

    def answer(self, status, body, close, content_type=b"text/plain"):
        head = (b"HTTP/1.1 " + status + b"\r\nContent-Type: " + content_type +
                b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n")
        head += b"Connection: close\r\n\r\n" if close else b"\r\n"
        self.sock.sendall(head + body)

    def serve_file(self, path, close):
        root = os.path.realpath(self.args["docroot"])
        local = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not local.startswith(root + "/") or not os.path.isfile(local):
            self.answer(b"404 Not Found", b"not found\n", close)
            return
        with open(local, "rb") as f:
            self.answer(b"200 OK", f.read(), close, b"application/octet-stream")

    def serve(self):
        while True:
            raw = b""
            line = self.read_line()
            while line in (b"\r\n", b"\n"):  # RFC 9112 2.2: ignore empty lines before a request
                raw += line
                line = self.read_line()
            request_line = line
            raw += line
            headers = []
            while True:
                line = self.read_line()
                raw += line
                if line in (b"\r\n", b"\n"):
                    break
                if b":" in line:
                    name, value = line.split(b":", 1)
                    headers.append((name.strip(), value.strip()))
            host = next((v for n, v in headers if n.lower() == b"host"), b"")
            log(self.args["log"], f"{self.name} request host={shown(host)} head={shown(raw)}")
            body = self.read_body(headers)
            if body:
                log(self.args["log"], f"{self.name} body={shown(body[:200])}")
            parts = request_line.split()
            path = parts[1].decode("latin-1") if len(parts) > 1 else "/"
            close = any(n.lower() == b"connection" and v.lower() == b"close" for n, v in headers)
            if path.startswith("/repo.git/"):
                self.serve_file(path.split("?")[0], close)
            elif path == "/big":
                self.answer(b"200 OK", b"x" * (10 * 1024 * 1024), close)
            elif path == "/drip":  # half the body now, half 0.5 s later
                self.sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b"d" * 1000)
                time.sleep(0.5)
                self.sock.sendall(b"d" * 1000)
            elif path == "/hang":
                time.sleep(120)
                return
            else:
                self.answer(b"200 OK", b"origin " + self.name.encode() + b" received:\n" + raw,
                            close)
            if close:
                return


def handle(sock, peer, name, args, tls_context):
    try:
        if tls_context is not None:
            sock.settimeout(10)
            sock = tls_context.wrap_socket(sock, server_side=True)
        sock.settimeout(300)
        log(args["log"], f"{name} connection from {peer[0]}:{peer[1]}")
        Connection(sock, name, args).serve()
    except (EOFError, OSError, ssl.SSLError, ValueError) as error:
        if not isinstance(error, EOFError):
            log(args["log"], f"{name} connection ended: {type(error).__name__}: {error}")
    finally:
        try:
            sock.close()
        except OSError:
            pass


def listen(address, port, name, args, tls_context=None):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(1024)

    def loop():
        while True:
            sock, peer = server.accept()
            threading.Thread(target=handle, args=(sock, peer, name, args, tls_context),
                             daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def listen_udp(address, port, name, args):
    """Logs every datagram: QUIC and other UDP from a sandbox must never arrive."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))

    def loop():
        while True:
            data, peer = sock.recvfrom(65536)
            log(args["log"], f"{name} datagram from {peer[0]}:{peer[1]} {shown(data[:100])}")
            sock.sendto(b"udp-echo", peer)

    threading.Thread(target=loop, daemon=True).start()


def main():
    state = sys.argv[1]
    args = {"log": os.path.join(state, "origin.log"), "docroot": os.path.join(state, "docroot")}
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(state, "server.crt"), os.path.join(state, "server.key"))

    def sni(sock, server_name, ctx):
        log(args["log"], f"https sni={server_name}")

    context.sni_callback = sni
    listen("198.51.100.10", 443, "https", args, context)
    listen("198.51.100.10", 80, "http", args)
    listen("198.51.100.20", 8080, "http8080", args)
    listen_udp("198.51.100.10", 443, "udp443", args)
    log(args["log"], "origin ready")
    threading.Event().wait()


if __name__ == "__main__":
    main()
