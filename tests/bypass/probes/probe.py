#!/usr/bin/python3
"""Raw clients for the bypass checks, run inside the sandbox (stdlib only). Each prints one
"key=value" line per step, so the shell can assert on exactly what the client saw.

  probe.py send HOST PORT PAYLOAD...      each PAYLOAD (Python escapes, e.g. 'GET / HTTP/1.1\\r\\n')
                                          is sent, then one HTTP response (or EOF/reset) is read
  probe.py tunnel TARGET SNI [REQUEST]    CONNECT TARGET on the HTTP proxy, then TLS with SNI,
                                          then REQUEST (escaped) inside the tunnel
  probe.py tls HOST PORT SNI [REQUEST]    TLS straight to HOST:PORT (the transparent path)
  probe.py socks HOST PORT [SNI]          SOCKS5 CONNECT (HOST as a domain, UTF-8 bytes as given;
                                          an IPv4/IPv6 literal as an address), then TLS with SNI
  probe.py dns NAME TYPE [tcp] [SERVER]   one DNS question; NAME's labels split on '.' only
  probe.py tls-fragmented HOST PORT SNI N  TLS whose ClientHello is cut into N-byte records
  probe.py udp HOST PORT PAYLOAD          one datagram; reports whether anything answers
"""
import codecs
import ipaddress
import os
import socket
import ssl
import struct
import sys

CA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ca.crt")
TIMEOUT = float(os.environ.get("PROBE_TIMEOUT", "3"))


def unescape(text):
    return codecs.decode(text, "unicode_escape").encode("latin-1")


def read_response(sock):
    """One HTTP response: (status line, headers dict, body bytes, end) with end one of
    complete, eof, reset, timeout."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return parse(data) + ("eof",)
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        status, headers, _ = parse(head + b"\r\n\r\n")
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return status, headers, body, "eof"
            body += chunk
        return status, headers, body, "complete"
    except ConnectionResetError:
        return parse(data) + ("reset",)
    except (socket.timeout, TimeoutError):
        return parse(data) + ("timeout",)
    except ssl.SSLError as error:
        return parse(data) + (f"ssl-error:{error.reason}",)


def parse(data):
    if b"\r\n\r\n" not in data:
        return (data.split(b"\r\n")[0].decode("latin-1") if data else ""), {}, b""
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


def report(step, status, headers, body, end):
    fields = [f"step={step}", f"status={status.split(' ')[1] if status.startswith('HTTP/') else '-'}",
              f"end={end}", f"bytes={len(body)}"]
    if "x-airlock-reason" in headers:
        fields.append(f"reason={headers['x-airlock-reason']}")
    print(" ".join(fields))
    if body:
        print("body: " + body[:4000].decode("latin-1").replace("\r\n", "\\r\\n\nbody: "))


def send(host, port, payloads):
    try:
        sock = socket.create_connection((host, int(port)), TIMEOUT)
    except OSError as error:
        print(f"step=1 status=- end=connect-{type(error).__name__} bytes=0")
        return
    sock.settimeout(TIMEOUT)
    for step, payload in enumerate(payloads, 1):
        try:
            sock.sendall(unescape(payload))
        except (BrokenPipeError, ConnectionResetError):
            print(f"step={step} status=- end=reset-on-send bytes=0")
            return
        status, headers, body, end = read_response(sock)
        report(step, status, headers, body, end)
        if end != "complete":
            return


def tls_context():
    context = ssl.create_default_context(cafile=CA)
    return context


def tls_then(sock, sni, request, step=1):
    try:
        tls = tls_context().wrap_socket(sock, server_hostname=sni)
    except ConnectionResetError:
        print(f"step={step} tls=reset")
        return
    except ssl.SSLError as error:
        print(f"step={step} tls=ssl-error:{error.reason}")
        return
    except (socket.timeout, TimeoutError):
        print(f"step={step} tls=timeout")
        return
    except OSError as error:
        print(f"step={step} tls=error:{error}")
        return
    print(f"step={step} tls=ok")
    # Always a whole exchange, then the server closes first: a client that vanishes while the
    # proxy still has bytes for it is a check of its own (run_bypass.sh, item 11).
    if not request:
        request = f"GET /probe HTTP/1.1\\r\\nHost: {sni}\\r\\nConnection: close\\r\\n\\r\\n"
    tls.sendall(unescape(request))
    status, headers, body, end = read_response(tls)
    report(step + 1, status, headers, body, end)


def tunnel(target, sni, request=None):
    sock = socket.create_connection(("127.0.0.1", 3128), TIMEOUT)
    sock.settimeout(TIMEOUT)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode("utf-8"))
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    status, headers, _ = parse(data)
    code = status.split(" ")[1] if status.startswith("HTTP/") else "-"
    print(f"step=connect status={code}" +
          (f" reason={headers['x-airlock-reason']}" if "x-airlock-reason" in headers else ""))
    if code == "200":
        tls_then(sock, sni, request)


def tls_direct(host, port, sni, request=None):
    try:
        sock = socket.create_connection((host, int(port)), TIMEOUT)
    except OSError as error:
        print(f"step=connect error={type(error).__name__}")
        return
    sock.settimeout(TIMEOUT)
    tls_then(sock, sni, request)


def tls_fragmented(host, port, sni, size):
    """A ClientHello cut into TLS records of `size` bytes (RFC 8446 5.1 allows it), then the
    rest of the handshake and one request, pumped through memory BIOs."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = tls_context().wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    records, hello = outgoing.read(), b""
    while records:
        length = struct.unpack("!H", records[3:5])[0]
        hello += records[5:5 + length]
        records = records[5 + length:]
    size = int(size)
    fragmented = b"".join(b"\x16\x03\x01" + struct.pack("!H", len(hello[i:i + size])) + hello[i:i + size]
                          for i in range(0, len(hello), size))
    sock = socket.create_connection((host, int(port)), TIMEOUT)
    sock.settimeout(TIMEOUT)
    print(f"step=1 records={len(range(0, len(hello), size))}")
    try:
        sock.sendall(fragmented)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                data = sock.recv(65536)
                if not data:
                    print("step=2 tls=eof")
                    return
                incoming.write(data)
                sock.sendall(outgoing.read())
        print("step=2 tls=ok")
        tls.write(f"GET /fragmented HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n".encode())
        sock.sendall(outgoing.read())
        reply = b""
        while b"\r\n" not in reply:
            try:
                reply += tls.read(4096)
            except ssl.SSLWantReadError:
                data = sock.recv(65536)
                if not data:
                    break
                incoming.write(data)
        print("step=3 reply=" + reply.split(b"\r\n")[0].decode("latin-1"))
    except ConnectionResetError:
        print("step=2 tls=reset")
    except (socket.timeout, TimeoutError):
        print("step=2 tls=timeout")
    except ssl.SSLError as error:
        print(f"step=2 tls=ssl-error:{error.reason}")


def udp(host, port, payload):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    try:
        sock.sendto(unescape(payload), (host, int(port)))
        data = sock.recv(4096)
        print(f"udp=answered bytes={len(data)}")
    except (socket.timeout, TimeoutError):
        print("udp=no-answer")
    except OSError as error:
        print(f"udp=error:{type(error).__name__}")


SOCKS_REPLIES = {0: "succeeded", 1: "general-failure", 2: "not-allowed", 3: "network-unreachable",
                 4: "host-unreachable", 5: "connection-refused", 7: "command-not-supported",
                 8: "address-type-not-supported"}


def socks(host, port, sni=None):
    sock = socket.create_connection(("127.0.0.1", 1080), TIMEOUT)
    sock.settimeout(TIMEOUT)
    sock.sendall(b"\x05\x01\x00")
    if sock.recv(2) != b"\x05\x00":
        print("step=greeting failed")
        return
    try:
        address = ipaddress.ip_address(host)
        target = (b"\x01" if address.version == 4 else b"\x04") + address.packed
    except ValueError:
        name = host.encode("utf-8")
        target = b"\x03" + bytes([len(name)]) + name
    sock.sendall(b"\x05\x01\x00" + target + struct.pack("!H", int(port)))
    try:
        reply = sock.recv(10)
    except ConnectionResetError:
        print("step=socks reply=reset")
        return
    if len(reply) < 2:
        print("step=socks reply=eof")
        return
    print(f"step=socks reply={reply[1]} ({SOCKS_REPLIES.get(reply[1], '?')})")
    if reply[1] == 0 and sni:
        tls_then(sock, sni, None, step=2)


TYPES = {"A": 1, "NS": 2, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28, "ANY": 255}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def dns(name, qtype, *options):
    use_tcp = "tcp" in options
    server = next((o for o in options if o != "tcp"), "127.0.0.1")
    question = b"".join(bytes([len(label)]) + label
                        for label in (part.encode("utf-8") for part in name.split(".")) if label)
    query = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + question + b"\x00" + \
        struct.pack("!HH", TYPES[qtype], 1)
    try:
        if use_tcp:
            sock = socket.create_connection((server, 53), TIMEOUT)
            sock.settimeout(TIMEOUT)
            sock.sendall(struct.pack("!H", len(query)) + query)
            length = struct.unpack("!H", sock.recv(2))[0]
            reply = b""
            while len(reply) < length:
                reply += sock.recv(length - len(reply))
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(TIMEOUT)
            sock.sendto(query, (server, 53))
            reply = sock.recv(4096)
    except (OSError, struct.error) as error:
        print(f"rcode=none error={type(error).__name__}")
        return
    rcode = reply[3] & 0x0f
    ancount = struct.unpack("!H", reply[6:8])[0]
    at = 12 + len(question) + 1 + 4
    answers = []
    for _ in range(ancount):
        if reply[at] & 0xc0 == 0xc0:
            at += 2
        else:
            while reply[at] != 0:
                at += 1 + reply[at]
            at += 1
        rtype, _, ttl, length = struct.unpack("!HHIH", reply[at:at + 10])
        data = reply[at + 10:at + 10 + length]
        at += 10 + length
        if rtype in (1, 28):
            answers.append(str(ipaddress.ip_address(data)))
        else:
            answers.append(f"type{rtype}")
    print(f"rcode={RCODES.get(rcode, rcode)} answers={','.join(answers)}")


def main():
    command, arguments = sys.argv[1], sys.argv[2:]
    {"send": lambda: send(arguments[0], arguments[1], arguments[2:]),
     "tunnel": lambda: tunnel(*arguments),
     "tls": lambda: tls_direct(*arguments),
     "socks": lambda: socks(*arguments),
     "dns": lambda: dns(*arguments),
     "tls-fragmented": lambda: tls_fragmented(*arguments),
     "udp": lambda: udp(*arguments)}[command]()


if __name__ == "__main__":
    main()
