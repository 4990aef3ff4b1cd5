#!/usr/bin/python3
"""Local HTTPS stand-ins for the agent CLIs' provider APIs (runs inside netns airlock-agents-origin).

    standin_server.py STATE_DIR

Listeners (one thread per connection, HTTP/1.1 keep-alive):
  203.0.113.70:443  TLS, certificate from the world's test CA for every name below
  203.0.113.70:80   plain HTTP (the plain-HTTP misuse check)

Which API answers is chosen by the request's Host:
  api.anthropic.example.test       Anthropic Messages API: POST /v1/messages (stream or JSON),
                                   POST /v1/messages/count_tokens, GET /v1/models
  api.openai.example.test          OpenAI Responses API: POST /v1/responses (SSE), GET /v1/models;
                                   a WebSocket upgrade is refused with 426 (Codex then uses SSE)
  generativelanguage.example.test  Gemini API: POST /v1beta/models/M:streamGenerateContent?alt=sse,
                                   :generateContent, :countTokens, GET /v1beta/models
  anything else (other.example.test ...)  only /echo
On every host GET|POST /echo answers 200 with the request line and headers it received as the
body (text/plain), so a test can read what reached the origin through the proxy.

Every answer is recognisable: "pong from the anthropic stand-in" (openai, gemini). Streams are
sent as SSE in chunked encoding, one event per write with STREAM_DELAY seconds between the
deltas, so the stream arrives in pieces; each write is logged with its time.

The log (STATE/requests.jsonl, JSON Lines) records every connection, request (method, target,
headers, body length and its first 300 characters, the API key header and whether it matched),
every SSE write, every hold and release. The expected key for an API is read, per request, from
STATE/keys/<anthropic|openai|gemini> when that file exists; a request without it is answered 401
in the API's error format, as the real API would.

Holding: while STATE/hold exists, model requests (messages, responses, generateContent) create
STATE/held-<api> and wait for STATE/release (at most HOLD_TIMEOUT seconds) before answering, so a
test can scan the sandbox while the CLI waits on an open request.
"""
import http.server
import itertools
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

STREAM_DELAY = 0.15
HOLD_TIMEOUT = 90
LOG_LOCK = threading.Lock()
CONNECTIONS = itertools.count(1)
STATE = ""

APIS = {
    "api.anthropic.example.test": "anthropic",
    "api.openai.example.test": "openai",
    "generativelanguage.example.test": "gemini",
}


def log(record):
    record = {"t": round(time.time(), 4), **record}
    with LOG_LOCK, open(os.path.join(STATE, "requests.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")


def answer_text(api):
    return f"pong from the {api} stand-in"


def pieces(api):  # the deltas of a stream: "pong ", "from ", "the ", "<api> ", "stand-in"
    words = answer_text(api).split(" ")
    return [w + " " for w in words[:-1]] + [words[-1]]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "airlock-agents-standin/1"

    def setup(self):
        super().setup()
        self.connection_id = next(CONNECTIONS)
        self.request_number = 0
        log({"kind": "connection", "conn": self.connection_id, "port": self.server.server_address[1],
             "peer": f"{self.client_address[0]}:{self.client_address[1]}",
             "sni": getattr(self.request, "sni", None)})

    def log_message(self, format, *args):  # the JSON log replaces http.server's stderr lines
        pass

    # ---- plumbing ------------------------------------------------------------------------------
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length and length.strip().isdigit() else b""

    def send(self, status, body, content_type="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        log({"kind": "response", "conn": self.connection_id, "req": self.request_number,
             "status": status, "bytes": len(body)})

    def start_stream(self, content_type="text/event-stream", headers=()):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()
        self.stream_writes = 0

    def stream(self, data):  # one SSE event, one chunk, one write, flushed and logged
        data = data.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
        self.stream_writes += 1
        log({"kind": "sse_write", "conn": self.connection_id, "req": self.request_number,
             "n": self.stream_writes, "bytes": len(data)})

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        log({"kind": "response", "conn": self.connection_id, "req": self.request_number,
             "status": 200, "stream_writes": self.stream_writes})

    def hold(self, api):
        if not os.path.exists(os.path.join(STATE, "hold")):
            return
        log({"kind": "held", "conn": self.connection_id, "req": self.request_number, "api": api})
        open(os.path.join(STATE, f"held-{api}"), "a").close()
        deadline = time.time() + HOLD_TIMEOUT
        while not os.path.exists(os.path.join(STATE, "release")) and time.time() < deadline:
            time.sleep(0.05)
        log({"kind": "released", "conn": self.connection_id, "req": self.request_number, "api": api,
             "timed_out": time.time() >= deadline})

    # ---- dispatch ------------------------------------------------------------------------------
    def handle_any(self):
        self.request_number += 1
        body = self.read_body()
        target = urllib.parse.urlsplit(self.path)
        path = target.path
        query = urllib.parse.parse_qs(target.query)
        host = self.headers.get("Host", "").rsplit(":", 1)[0] if not self.headers.get(
            "Host", "").startswith("[") else self.headers.get("Host", "")
        api = APIS.get(host)
        key_header, key = None, None
        if api == "anthropic":
            key_header, key = "x-api-key", self.headers.get("x-api-key")
            if key is None and self.headers.get("Authorization", "").startswith("Bearer "):
                key_header, key = "authorization", self.headers["Authorization"][7:]
        elif api == "openai":
            auth = self.headers.get("Authorization", "")
            key_header, key = "authorization", auth[7:] if auth.startswith("Bearer ") else None
        elif api == "gemini":
            key_header, key = "x-goog-api-key", self.headers.get("x-goog-api-key")
            if key is None and "key" in query:
                key_header, key = "query:key", query["key"][0]
        expected = None
        if api:
            try:
                with open(os.path.join(STATE, "keys", api), encoding="utf-8") as f:
                    expected = f.read().strip()
            except OSError:
                pass
        key_ok = None if expected is None else key == expected
        try:
            body_json = json.loads(body) if body else None
        except ValueError:
            body_json = None
        log({"kind": "request", "conn": self.connection_id, "req": self.request_number,
             "port": self.server.server_address[1], "sni": getattr(self.request, "sni", None),
             "method": self.command, "target": self.path, "path": path, "host": host,
             "api": api, "headers": [[n, v] for n, v in self.headers.items()],
             "body_len": len(body), "body_head": body[:300].decode("utf-8", "replace"),
             "key_header": key_header, "key": key, "key_ok": key_ok,
             "stream": bool(body_json.get("stream")) if isinstance(body_json, dict) else None})
        if path == "/echo":
            text = f"{self.requestline}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in self.headers.items())
            self.send(200, "echo from the stand-in:\n" + text, "text/plain")
            return
        if api is None:
            self.send(404, {"error": f"no API at {host}{path}"})
            return
        if self.headers.get("Upgrade", "").lower() == "websocket":
            log({"kind": "websocket_refused", "conn": self.connection_id, "req": self.request_number,
                 "path": path})
            self.send(426, {"error": {"message": "the stand-in speaks SSE only", "type": "invalid_request_error"}},
                      headers=[("Connection", "close")])
            self.close_connection = True
            return
        getattr(self, "api_" + api)(path, query, body_json, key_ok)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = handle_any

    # ---- Anthropic Messages API ----------------------------------------------------------------
    def api_anthropic(self, path, query, body, key_ok):
        if key_ok is False:
            self.send(401, {"type": "error", "error": {"type": "authentication_error",
                                                        "message": "invalid x-api-key (stand-in)"}})
            return
        if self.command == "POST" and path == "/v1/messages/count_tokens":
            self.send(200, {"input_tokens": 12})
            return
        if self.command == "GET" and path.startswith("/v1/models"):
            self.send(200, {"data": [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude (stand-in)",
                                      "created_at": "2025-01-01T00:00:00Z"}],
                            "has_more": False, "first_id": "claude-sonnet-4-5", "last_id": "claude-sonnet-4-5"})
            return
        if not (self.command == "POST" and path == "/v1/messages"):
            self.send(404, {"type": "error", "error": {"type": "not_found_error", "message": f"{path} (stand-in)"}})
            return
        self.hold("anthropic")
        model = (body or {}).get("model", "claude-sonnet-4-5")
        message_id = f"msg_standin{self.connection_id:04d}{self.request_number:04d}"
        text = answer_text("anthropic")
        usage = {"input_tokens": 12, "output_tokens": 9, "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0}
        if not (body or {}).get("stream"):
            self.send(200, {"id": message_id, "type": "message", "role": "assistant", "model": model,
                            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                            "stop_sequence": None, "usage": usage}, headers=[("request-id", "req_standin")])
            return
        self.start_stream(headers=[("request-id", "req_standin")])

        def event(name, data):
            self.stream(f"event: {name}\ndata: {json.dumps(data)}\n\n")

        event("message_start", {"type": "message_start", "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}})
        event("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}})
        event("ping", {"type": "ping"})
        for piece in pieces("anthropic"):
            time.sleep(STREAM_DELAY)
            event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": piece}})
        event("content_block_stop", {"type": "content_block_stop", "index": 0})
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                "usage": {"output_tokens": 9}})
        event("message_stop", {"type": "message_stop"})
        self.end_stream()

    # ---- OpenAI Responses API ------------------------------------------------------------------
    def api_openai(self, path, query, body, key_ok):
        if key_ok is False:
            self.send(401, {"error": {"message": "Incorrect API key provided (stand-in)",
                                      "type": "invalid_request_error", "code": "invalid_api_key"}})
            return
        if self.command == "GET" and path.startswith("/v1/models"):
            self.send(200, {"object": "list", "data": [{"id": "gpt-5", "object": "model", "created": 1700000000,
                                                         "owned_by": "stand-in"}]})
            return
        if not (self.command == "POST" and path == "/v1/responses"):
            self.send(404, {"error": {"message": f"{path} (stand-in)", "type": "invalid_request_error"}})
            return
        self.hold("openai")
        model = (body or {}).get("model", "gpt-5")
        response_id = f"resp_standin{self.connection_id:04d}{self.request_number:04d}"
        item_id = f"msg_standin{self.connection_id:04d}{self.request_number:04d}"
        text = answer_text("openai")
        usage = {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 9,
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 21}
        item = {"type": "message", "id": item_id, "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}]}
        response = {"id": response_id, "object": "response", "created_at": int(time.time()), "model": model,
                    "status": "in_progress", "output": [], "usage": None}
        if not (body or {}).get("stream"):
            self.send(200, {**response, "status": "completed", "output": [item], "usage": usage})
            return
        self.start_stream()
        sequence = itertools.count()

        def event(data):
            data = {**data, "sequence_number": next(sequence)}
            self.stream(f"event: {data['type']}\ndata: {json.dumps(data)}\n\n")

        event({"type": "response.created", "response": response})
        event({"type": "response.in_progress", "response": response})
        event({"type": "response.output_item.added", "output_index": 0,
               "item": {**item, "status": "in_progress", "content": []}})
        event({"type": "response.content_part.added", "item_id": item_id, "output_index": 0, "content_index": 0,
               "part": {"type": "output_text", "text": "", "annotations": []}})
        for piece in pieces("openai"):
            time.sleep(STREAM_DELAY)
            event({"type": "response.output_text.delta", "item_id": item_id, "output_index": 0,
                   "content_index": 0, "delta": piece})
        event({"type": "response.output_text.done", "item_id": item_id, "output_index": 0, "content_index": 0,
               "text": text})
        event({"type": "response.content_part.done", "item_id": item_id, "output_index": 0, "content_index": 0,
               "part": {"type": "output_text", "text": text, "annotations": []}})
        event({"type": "response.output_item.done", "output_index": 0, "item": item})
        event({"type": "response.completed",
               "response": {**response, "status": "completed", "output": [item], "usage": usage}})
        self.end_stream()

    # ---- Gemini API ----------------------------------------------------------------------------
    def api_gemini(self, path, query, body, key_ok):
        if key_ok is False:
            self.send(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key. (stand-in)",
                                      "status": "INVALID_ARGUMENT"}})
            return
        if self.command == "GET" and path.startswith("/v1beta/models"):
            self.send(200, {"models": [{"name": "models/gemini-2.5-pro", "displayName": "Gemini (stand-in)"}]})
            return
        model, _, method = path.rpartition(":")
        if self.command != "POST" or not model.startswith("/v1beta/models/"):
            self.send(404, {"error": {"code": 404, "message": f"{path} (stand-in)", "status": "NOT_FOUND"}})
            return
        model = model[len("/v1beta/models/"):]
        if method == "countTokens":
            self.send(200, {"totalTokens": 12})
            return
        if method not in ("generateContent", "streamGenerateContent"):
            self.send(404, {"error": {"code": 404, "message": f"{method} (stand-in)", "status": "NOT_FOUND"}})
            return
        self.hold("gemini")
        config = (body or {}).get("generationConfig") or {}
        usage = {"promptTokenCount": 12, "candidatesTokenCount": 9, "totalTokenCount": 21}
        if config.get("responseMimeType") == "application/json" or config.get("responseJsonSchema") \
                or config.get("responseSchema"):
            # the CLI's own helper calls (model router, next-speaker check) ask for JSON
            parts = [json.dumps({"reasoning": "stand-in", "next_speaker": "user", "model_choice": "flash",
                                 "complexity_reasoning": "stand-in", "complexity_score": 1})]
        elif method == "generateContent":
            parts = [answer_text("gemini")]
        else:
            parts = pieces("gemini")

        def candidate(text, last):
            c = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
            if last:
                c["finishReason"] = "STOP"
            return {"candidates": [c], "usageMetadata": usage, "modelVersion": model,
                    "responseId": f"standin{self.connection_id}-{self.request_number}"}

        if method == "generateContent":
            self.send(200, candidate("".join(parts), True))
            return
        sse = query.get("alt", [""])[0] == "sse"
        self.start_stream("text/event-stream" if sse else "application/json")
        if not sse:  # a JSON array streamed element by element
            self.stream("[")
        for n, piece in enumerate(parts):
            if n:
                time.sleep(STREAM_DELAY)
            data = json.dumps(candidate(piece, n == len(parts) - 1))
            self.stream(f"data: {data}\r\n\r\n" if sse else ("," if n else "") + data)
        if not sse:
            self.stream("]")
        self.end_stream()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    tls_context = None

    def finish_request(self, request, client_address):
        # the TLS handshake happens here, in the connection's own thread
        if self.tls_context is not None:
            try:
                request.settimeout(10)
                request = self.tls_context.wrap_socket(request, server_side=True)
                request.settimeout(300)
            except (OSError, ssl.SSLError) as error:
                log({"kind": "tls_error", "peer": f"{client_address[0]}:{client_address[1]}",
                     "error": f"{type(error).__name__}: {error}"})
                return
        try:
            self.RequestHandlerClass(request, client_address, self)
        except (OSError, ssl.SSLError, ValueError) as error:
            log({"kind": "connection_error", "error": f"{type(error).__name__}: {error}"})


def main():
    global STATE
    STATE = sys.argv[1]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(STATE, "server.crt"), os.path.join(STATE, "server.key"))
    context.set_alpn_protocols(["http/1.1"])

    def sni(sock, server_name, ctx):
        sock.sni = server_name

    context.sni_callback = sni
    tls = Server(("203.0.113.70", 443), Handler)
    tls.tls_context = context
    plain = Server(("203.0.113.70", 80), Handler)
    for server in (tls, plain):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    log({"kind": "ready"})
    threading.Event().wait()


if __name__ == "__main__":
    main()
