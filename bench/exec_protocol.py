#!/usr/bin/env python3
"""The cost of one command for an orchestrator that speaks the control socket itself
(docs/control.md) instead of starting `airlock exec` per command: connect, send the exec request
with three descriptors, read events until `exited`. Prints the median in milliseconds.

    bench/exec_protocol.py SOCKET RUNS [CMD...]     (default CMD: /bin/true)
"""
import json
import os
import socket
import statistics
import sys
import time


def one_exec(path, argv, stdio):
    started = time.perf_counter()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(path)
        request = json.dumps({"op": "exec", "argv": argv, "env": [], "cwd": "."}) + "\n"
        socket.send_fds(connection, [request.encode()], stdio)
        buffered = b""
        while True:
            chunk = connection.recv(4096)
            if not chunk:
                raise RuntimeError("the session closed the connection: " + buffered.decode())
            buffered += chunk
            for line in buffered.split(b"\n")[:-1]:
                event = json.loads(line)
                if event.get("event") == "failed" or event.get("ok") is False:
                    raise RuntimeError(line.decode())
                if event.get("event") == "exited":
                    if event.get("exit_code") != 0:
                        raise RuntimeError(line.decode())
                    return time.perf_counter() - started


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, runs = sys.argv[1], int(sys.argv[2])
    argv = sys.argv[3:] or ["/bin/true"]
    null = os.open(os.devnull, os.O_RDWR)
    stdio = [null, null, null]
    for _ in range(5):  # warm-up
        one_exec(path, argv, stdio)
    samples = [one_exec(path, argv, stdio) for _ in range(runs)]
    print(f"{statistics.median(samples) * 1000:.3f}")


if __name__ == "__main__":
    main()
