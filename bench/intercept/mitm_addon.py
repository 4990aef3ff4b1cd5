"""The mitmproxy side of bench/intercept.sh: the same substitution airlock's interception does.

Request headers: every occurrence of $BENCH_PLACEHOLDER in a header value becomes $BENCH_REAL_KEY.
Responses with Content-Type text/event-stream are streamed (flow.response.stream = True), as a
user proxying an agent's server-sent events would have to; mitmproxy buffers every other body.
"""
import os

from mitmproxy import http

PLACEHOLDER = os.environ["BENCH_PLACEHOLDER"]
REAL_KEY = os.environ["BENCH_REAL_KEY"]


class Substitute:
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        headers = flow.request.headers
        for name, value in headers.items(multi=True):
            if PLACEHOLDER in value:
                headers[name] = value.replace(PLACEHOLDER, REAL_KEY)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response.headers.get("content-type", "").startswith("text/event-stream"):
            flow.response.stream = True


addons = [Substitute()]
