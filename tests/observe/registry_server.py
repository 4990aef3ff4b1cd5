#!/usr/bin/python3
"""A static package server for the observe tests (runs inside netns airlock-bypass-origin).

  registry_server.py STATE ADDRESS

HTTPS on ADDRESS:443 with STATE/server.crt (signed by the bypass world's test CA). The Host
header picks the document root: STATE/docroot/<host>/ (registry.example.test: an npm registry's
package documents and tarballs; pypi.example.test: a PEP 503 simple index and a wheel). A
directory is answered with its index.json (npm) or index.html (PEP 503). Every request is one
line of STATE/registry.log ("time host method path status"), so a test can prove what reached
the registry and what did not.
"""
import http.server
import os
import ssl
import sys
import threading
import time

STATE = sys.argv[1]
ADDRESS = sys.argv[2]
LOG_LOCK = threading.Lock()
TYPES = {".json": "application/json", ".html": "text/html", ".tgz": "application/octet-stream",
         ".whl": "application/octet-stream"}


def log(line):
    with LOG_LOCK, open(os.path.join(STATE, "registry.log"), "a", encoding="utf-8") as f:
        f.write(f"{time.time():.3f} {line}\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as npm and pip expect from a registry

    def do_GET(self):
        self.answer(with_body=True)

    def do_HEAD(self):
        self.answer(with_body=False)

    def answer(self, with_body):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = self.path.split("?")[0].split("#")[0]
        root = os.path.realpath(os.path.join(STATE, "docroot", host))
        target = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if os.path.isdir(target):
            for index in ("index.json", "index.html"):
                if os.path.isfile(os.path.join(target, index)):
                    target = os.path.join(target, index)
                    break
        found = host and (target == root or target.startswith(root + os.sep)) and os.path.isfile(target)
        status = 200 if found else 404
        body = open(target, "rb").read() if found else b"not found\n"
        log(f"{host} {self.command} {path} {status}")
        self.send_response(status)
        self.send_header("Content-Type", TYPES.get(os.path.splitext(target)[1], "text/plain"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, *args):
        pass  # registry.log has every request


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        # The handshake runs in the request's own thread: a client that stalls cannot hold
        # the accept loop.
        sock, address = self.socket.accept()
        return CONTEXT.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
CONTEXT.load_cert_chain(os.path.join(STATE, "server.crt"), os.path.join(STATE, "server.key"))
server = Server((ADDRESS, 443), Handler)
log("listening")
server.serve_forever()
