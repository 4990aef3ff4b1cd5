-- wrk through a forward proxy: wrk connects to the proxy given on its command line, and this
-- sends each request in absolute-form (GET http://ORIGIN/ HTTP/1.1), as a proxy client does.
-- The origin comes from the environment (BENCH_ORIGIN, default 203.0.113.10:8080).
local origin = os.getenv("BENCH_ORIGIN") or "203.0.113.10:8080"
wrk.path = "http://" .. origin .. "/"
wrk.headers["Host"] = origin
