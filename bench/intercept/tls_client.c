// The client of bench/intercept.sh: HTTPS/1.1 over OpenSSL, directly (a transparently captured
// connection inside `airlock run`) or through an HTTP CONNECT proxy. Built by the script with
// `cc -O2 ... -lssl -lcrypto`; runs on the host and inside the sandbox alike.
//
//   tls_client MODE COUNT --target NAME:PORT [--proxy HOST:PORT] [--connect ADDR:PORT]
//              [--ca FILE] [--key VALUE | --key-env VARIABLE] [--warmup N] [--stream N,GAP_MS]
//              [--quickack 1]
//
// The server certificate is verified for NAME (SNI NAME, ALPN http/1.1) against --ca FILE, or
// else OpenSSL's default paths (SSL_CERT_FILE, then the system bundle). No session resumption:
// every handshake is a full one. Every request is `GET` with "Host: NAME" and "x-api-key: KEY";
// a status other than 200 is an error: the client prints the response and exits 1.
// Without --proxy or --connect, NAME is resolved with getaddrinfo.
// --quickack 1 sets TCP_QUICKACK around every read, so the client's kernel ACKs each segment at
// once instead of delaying the ACK (up to 40 ms) for a reply to carry it: a diagnostic that shows
// what a sender's Nagle algorithm (a peer without TCP_NODELAY) costs the default figures.
//
// MODE rps: one connection; --warmup requests (default 200), then COUNT timed `GET /`
//   one after the other. Prints "rps R p50_us A p99_us B max_us C" (per request: from before
//   the request is written to the response's last byte; rps = COUNT / the loop's wall time).
// MODE ttfb: one connection; --warmup streams (default 3), then COUNT timed
//   `GET /stream?n=N&gap_ms=GAP_MS` (default 5,20): the origin sends the head and the first
//   event at once, then one event every GAP_MS. Prints "p50_us A p99_us B max_us C total_p50_us T"
//   of the time from before the request is written to the first byte of the first event's data
//   (T: to the end of the stream).
// MODE handshake: COUNT times a new connection: TCP connect (+ CONNECT exchange), TLS handshake,
//   one `GET /`, close. Prints "first_us F p50_us A p99_us B connect_p50_us C tls_p50_us T
//   request_p50_us R" (F: the first connection of the run, the others excluded from the
//   percentiles).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char* target_name;
static const char* target_port;
static const char* proxy;       // HOST:PORT or NULL
static const char* connect_to;  // ADDR:PORT or NULL
static const char* key = "";
static int quickack;  // --quickack 1: ACK every segment at once (a diagnostic, see below)
static SSL_CTX* ctx;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void fail(const char* what) {
  fprintf(stderr, "tls_client: %s\n", what);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static int tcp_connect(const char* host_port) {
  char host[256];
  const char* colon = strrchr(host_port, ':');
  if (colon == NULL || (size_t)(colon - host_port) >= sizeof host) fail("address is not HOST:PORT");
  memcpy(host, host_port, (size_t)(colon - host_port));
  host[colon - host_port] = 0;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *result;
  int status = getaddrinfo(host, colon + 1, &hints, &result);
  if (status != 0) {
    fprintf(stderr, "tls_client: %s: %s\n", host_port, gai_strerror(status));
    exit(1);
  }
  int fd = -1;
  for (struct addrinfo* a = result; a != NULL; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(result);
  if (fd < 0) {
    fprintf(stderr, "tls_client: connect %s: %s\n", host_port, strerror(errno));
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// A TCP connection whose bytes reach the target (after the CONNECT exchange through a proxy).
static int open_tunnel(void) {
  char target[300];
  snprintf(target, sizeof target, "%s:%s", target_name, target_port);
  if (proxy == NULL) return tcp_connect(connect_to != NULL ? connect_to : target);
  int fd = tcp_connect(proxy);
  char request[700];
  int n =
      snprintf(request, sizeof request, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target);
  if (write(fd, request, (size_t)n) != n) fail("cannot write the CONNECT request");
  char head[2048];
  size_t len = 0;
  // The proxy says nothing after its answer until the ClientHello: reading whole chunks is safe.
  while (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0) {
    ssize_t r = read(fd, head + len, sizeof head - 1 - len);
    if (r <= 0) {
      head[len] = 0;
      fprintf(stderr, "tls_client: CONNECT %s via %s: connection closed: %s\n", target, proxy,
              head);
      exit(1);
    }
    len += (size_t)r;
    if (len == sizeof head - 1) break;
  }
  head[len] = 0;
  if (strncmp(head, "HTTP/1.1 200", 12) != 0 && strncmp(head, "HTTP/1.0 200", 12) != 0) {
    fprintf(stderr, "tls_client: CONNECT %s via %s: %s\n", target, proxy, head);
    exit(1);
  }
  return fd;
}

static SSL* tls_start(int fd) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  int one = 1;
  if (quickack) setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  SSL_set_tlsext_host_name(ssl, target_name);
  SSL_set1_host(ssl, target_name);
  if (SSL_connect(ssl) != 1) {
    fprintf(stderr, "tls_client: TLS handshake with %s (verify: %s)\n", target_name,
            X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
    fail("handshake failed");
  }
  return ssl;
}

// --- a buffered response reader ---------------------------------------------------------------
struct reader {
  SSL* ssl;
  char buf[65536];
  size_t start, end;
  double last_read;  // when the last SSL_read returned
};

static void fill(struct reader* r) {
  if (r->start == r->end) r->start = r->end = 0;
  if (r->end == sizeof r->buf) {
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->start = 0;
  }
  int one = 1;
  if (quickack) setsockopt(SSL_get_fd(r->ssl), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  int n = SSL_read(r->ssl, r->buf + r->end, (int)(sizeof r->buf - r->end));
  if (quickack) setsockopt(SSL_get_fd(r->ssl), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  if (n <= 0) fail("connection closed in the middle of a response");
  r->last_read = now_us();
  r->end += (size_t)n;
}

// Reads one line (without CRLF) into out.
static void read_line(struct reader* r, char* out, size_t size) {
  for (;;) {
    char* nl = memchr(r->buf + r->start, '\n', r->end - r->start);
    if (nl != NULL) {
      size_t len = (size_t)(nl - (r->buf + r->start));
      size_t copy = len < size - 1 ? len : size - 1;
      memcpy(out, r->buf + r->start, copy);
      if (copy > 0 && out[copy - 1] == '\r') copy--;
      out[copy] = 0;
      r->start += len + 1;
      return;
    }
    fill(r);
  }
}

static void skip(struct reader* r, size_t n) {
  while (n > 0) {
    if (r->start == r->end) fill(r);
    size_t take = r->end - r->start < n ? r->end - r->start : n;
    r->start += take;
    n -= take;
  }
}

// Reads a whole response. *first_data gets when the first body byte was read (0: empty body).
static void read_response(struct reader* r, double* first_data) {
  char line[1024], status[1024];
  read_line(r, status, sizeof status);
  long content_length = -1;
  int chunked = 0;
  for (;;) {
    read_line(r, line, sizeof line);
    if (line[0] == 0) break;
    if (strncasecmp(line, "content-length:", 15) == 0) content_length = strtol(line + 15, NULL, 10);
    if (strncasecmp(line, "transfer-encoding:", 18) == 0 && strcasestr(line + 18, "chunked"))
      chunked = 1;
  }
  if (first_data != NULL) *first_data = 0;
  if (strncmp(status, "HTTP/1.1 200", 12) != 0) {
    char body[512] = "";
    if (content_length > 0 && content_length < (long)sizeof body) {
      while (r->end - r->start < (size_t)content_length) fill(r);
      memcpy(body, r->buf + r->start, (size_t)content_length);
      body[content_length] = 0;
    }
    fprintf(stderr, "tls_client: %s: %s\n", status, body);
    exit(1);
  }
  if (chunked) {
    for (;;) {
      read_line(r, line, sizeof line);
      size_t size = (size_t)strtoul(line, NULL, 16);
      if (size == 0) {
        read_line(r, line, sizeof line);  // no trailers
        return;
      }
      if (first_data != NULL && *first_data == 0) {
        if (r->start == r->end) fill(r);
        *first_data = r->last_read;
      }
      skip(r, size + 2);
    }
  }
  if (content_length > 0) {
    if (first_data != NULL) {
      if (r->start == r->end) fill(r);
      *first_data = r->last_read;
    }
    skip(r, (size_t)content_length);
  }
}

static int request_head(char* out, size_t size, const char* path) {
  return snprintf(out, size,
                  "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: airlock-bench\r\nAccept: */*\r\n"
                  "x-api-key: %s\r\n\r\n",
                  path, target_name, key);
}

static int compare(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double percentile(double* v, int n, double p) {
  if (n == 0) return 0;
  qsort(v, (size_t)n, sizeof *v, compare);
  int i = (int)(p * n + 0.999999) - 1;
  if (i < 0) i = 0;
  if (i >= n) i = n - 1;
  return v[i];
}

static void write_request(SSL* ssl, const char* data, int len) {
  if (SSL_write(ssl, data, len) != len) fail("cannot write a request");
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tls_client rps|ttfb|handshake COUNT --target NAME:PORT [options]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const char* mode = argv[1];
  int count = atoi(argv[2]);
  int warmup = -1;
  const char* ca = NULL;
  int stream_events = 5, stream_gap = 20;
  static char target_buf[300];
  for (int i = 3; i < argc; i++) {
    const char* option = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (value == NULL) fail("an option lacks its value");
    i++;
    if (strcmp(option, "--target") == 0) {
      snprintf(target_buf, sizeof target_buf, "%s", value);
      char* colon = strrchr(target_buf, ':');
      if (colon == NULL) fail("--target is NAME:PORT");
      *colon = 0;
      target_name = target_buf;
      target_port = colon + 1;
    } else if (strcmp(option, "--proxy") == 0) {
      proxy = value;
    } else if (strcmp(option, "--connect") == 0) {
      connect_to = value;
    } else if (strcmp(option, "--ca") == 0) {
      ca = value;
    } else if (strcmp(option, "--key") == 0) {
      key = value;
    } else if (strcmp(option, "--key-env") == 0) {
      key = getenv(value);
      if (key == NULL) {
        fprintf(stderr, "tls_client: $%s is not set\n", value);
        return 1;
      }
    } else if (strcmp(option, "--quickack") == 0) {
      quickack = atoi(value);
    } else if (strcmp(option, "--warmup") == 0) {
      warmup = atoi(value);
    } else if (strcmp(option, "--stream") == 0) {
      if (sscanf(value, "%d,%d", &stream_events, &stream_gap) != 2) fail("--stream is N,GAP_MS");
    } else {
      fprintf(stderr, "tls_client: unknown option %s\n", option);
      return 2;
    }
  }
  if (target_name == NULL || count < 1) fail("--target NAME:PORT and a COUNT >= 1 are needed");

  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  if (ca != NULL ? SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1
                 : SSL_CTX_set_default_verify_paths(ctx) != 1)
    fail("cannot load the trusted certificates");
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_read_ahead(ctx, 1);  // a record in one read, not its header and body in two
  static const unsigned char alpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);

  double* samples = calloc((size_t)count, sizeof *samples);
  char request[1024];
  static struct reader reader;

  if (strcmp(mode, "rps") == 0 || strcmp(mode, "ttfb") == 0) {
    int stream = strcmp(mode, "ttfb") == 0;
    char path[64] = "/";
    if (stream) snprintf(path, sizeof path, "/stream?n=%d&gap_ms=%d", stream_events, stream_gap);
    int len = request_head(request, sizeof request, path);
    if (warmup < 0) warmup = stream ? 3 : 200;
    int fd = open_tunnel();
    reader.ssl = tls_start(fd);
    for (int i = 0; i < warmup; i++) {
      write_request(reader.ssl, request, len);
      read_response(&reader, NULL);
    }
    double* totals = calloc((size_t)count, sizeof *totals);
    double loop_start = now_us();
    for (int i = 0; i < count; i++) {
      double start = now_us(), first = 0;
      write_request(reader.ssl, request, len);
      read_response(&reader, &first);
      double done = now_us();
      samples[i] = stream ? first - start : done - start;
      totals[i] = done - start;
    }
    double wall = now_us() - loop_start;
    if (stream) {
      double total_p50 = percentile(totals, count, 0.5);
      printf("p50_us %.0f p99_us %.0f max_us %.0f total_p50_us %.0f\n",
             percentile(samples, count, 0.5), percentile(samples, count, 0.99),
             percentile(samples, count, 1.0), total_p50);
    } else {
      printf("rps %.0f p50_us %.0f p99_us %.0f max_us %.0f\n", count / (wall / 1e6),
             percentile(samples, count, 0.5), percentile(samples, count, 0.99),
             percentile(samples, count, 1.0));
    }
    SSL_shutdown(reader.ssl);
    close(fd);
    return 0;
  }
  if (strcmp(mode, "handshake") == 0) {
    int len = request_head(request, sizeof request, "/");
    double* connects = calloc((size_t)count, sizeof *connects);
    double* tls = calloc((size_t)count, sizeof *tls);
    double* requests = calloc((size_t)count, sizeof *requests);
    double first = 0;
    int n = 0;
    for (int i = 0; i < count + 1; i++) {
      double t0 = now_us();
      int fd = open_tunnel();
      double t1 = now_us();
      reader.ssl = tls_start(fd);
      reader.start = reader.end = 0;
      double t2 = now_us();
      write_request(reader.ssl, request, len);
      read_response(&reader, NULL);
      double t3 = now_us();
      SSL_shutdown(reader.ssl);  // close_notify, no wait for the peer's
      SSL_free(reader.ssl);
      close(fd);
      if (i == 0) {
        first = t3 - t0;
        continue;
      }
      samples[n] = t3 - t0;
      connects[n] = t1 - t0;
      tls[n] = t2 - t1;
      requests[n] = t3 - t2;
      n++;
    }
    printf(
        "first_us %.0f p50_us %.0f p99_us %.0f connect_p50_us %.0f tls_p50_us %.0f request_p50_us "
        "%.0f\n",
        first, percentile(samples, n, 0.5), percentile(samples, n, 0.99),
        percentile(connects, n, 0.5), percentile(tls, n, 0.5), percentile(requests, n, 0.5));
    return 0;
  }
  fprintf(stderr, "tls_client: unknown mode %s\n", mode);
  return 2;
}
