// The origin of bench/intercept.sh: an HTTPS/1.1 keep-alive server (OpenSSL, blocking I/O, one
// worker thread per open connection, made ahead of need: the benchmark's clients are sequential,
// so a connection's thread is always ready for its next request) and a DNS responder for the
// proxies' resolvers. Built by the script with `cc -O2 ... -lssl -lcrypto -lpthread`; runs in the
// origin netns.
//
//   tls_origin ADDR HTTPS_PORT DNS_PORT CERT KEY API_KEY
//
// HTTPS_PORT: TLS 1.2/1.3 with CERT/KEY (PEM), ALPN "http/1.1" when offered, session tickets
// issued (OpenSSL's default, as a real origin does). Every request must carry
// "x-api-key: API_KEY" (the real key: a proxy that forgot the substitution gets 401, and the
// client counts it as an error).
//   GET /stream?n=N&gap_ms=G  200, text/event-stream, chunked: the first event at once, then N-1
//                             more, G ms apart, then the last chunk (the time-to-first-byte probe).
//   GET /stats                "handshakes=<n> requests=<n>" (no key needed).
//   any other GET             200 "ok" (Content-Length: 2).
// "Connection: close" in the request closes after the response; otherwise the connection is kept.
// DNS_PORT (UDP, same ADDR): every A query is answered with ADDR (TTL 300), every other type with
// an empty NOERROR answer; so any name the benchmark uses resolves to this origin.
// Prints "ready" on stdout once both sockets listen.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static SSL_CTX* ctx;
static const char* api_key;
static struct in_addr origin_addr;
static atomic_long handshakes, requests;

static void die(const char* what) {
  perror(what);
  exit(1);
}

static int alpn_select(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                       const unsigned char* in, unsigned int inlen, void* arg) {
  (void)ssl;
  (void)arg;
  static const unsigned char h1[] = "\x08http/1.1";
  unsigned char* selected;
  if (SSL_select_next_proto(&selected, outlen, h1, sizeof h1 - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

static int write_all(SSL* ssl, const char* data, size_t len) {
  while (len > 0) {
    int n = SSL_write(ssl, data, (int)len);
    if (n <= 0) return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

// The value of header `name` (lower case) in the head [head, end), or NULL; *len gets its length.
static const char* header_value(const char* head, const char* end, const char* name, size_t* len) {
  size_t name_len = strlen(name);
  const char* line = memchr(head, '\n', (size_t)(end - head));
  while (line != NULL && line + 1 < end) {
    line++;
    const char* eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == NULL) eol = end;
    if ((size_t)(eol - line) > name_len && line[name_len] == ':' &&
        strncasecmp(line, name, name_len) == 0) {
      const char* v = line + name_len + 1;
      while (v < eol && (*v == ' ' || *v == '\t')) v++;
      const char* ve = eol;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      *len = (size_t)(ve - v);
      return v;
    }
    line = eol;
  }
  return NULL;
}

static long query_number(const char* target, size_t target_len, const char* key, long fallback) {
  char buffer[512];
  if (target_len >= sizeof buffer) return fallback;
  memcpy(buffer, target, target_len);
  buffer[target_len] = 0;
  char* q = strchr(buffer, '?');
  if (q == NULL) return fallback;
  size_t key_len = strlen(key);
  for (char* p = q + 1; p != NULL && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
    if (strncmp(p, key, key_len) == 0 && p[key_len] == '=')
      return strtol(p + key_len + 1, NULL, 10);
  }
  return fallback;
}

// Answers one request head; returns 0 to keep the connection, -1 to close it.
static int answer(SSL* ssl, const char* head, size_t head_len) {
  const char* end = head + head_len;
  const char* sp1 = memchr(head, ' ', head_len);
  if (sp1 == NULL) return -1;
  const char* target = sp1 + 1;
  const char* sp2 = memchr(target, ' ', (size_t)(end - target));
  if (sp2 == NULL) return -1;
  size_t target_len = (size_t)(sp2 - target);
  size_t len = 0;
  const char* connection = header_value(head, end, "connection", &len);
  int close_after = connection != NULL && len == 5 && strncasecmp(connection, "close", 5) == 0;
  const char* keep = close_after ? "close" : "keep-alive";
  char out[512];
  atomic_fetch_add(&requests, 1);

  if (target_len >= 6 && memcmp(target, "/stats", 6) == 0) {
    char body[128];
    int body_len = snprintf(body, sizeof body, "handshakes=%ld requests=%ld\n",
                            atomic_load(&handshakes), atomic_load(&requests));
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n%s", body_len,
                     keep, body);
    return write_all(ssl, out, (size_t)n) == 0 && !close_after ? 0 : -1;
  }
  const char* key = header_value(head, end, "x-api-key", &len);
  if (key == NULL || len != strlen(api_key) || memcmp(key, api_key, len) != 0) {
    static const char body[] = "wrong or missing x-api-key\n";
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 401 Unauthorized\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n%s",
                     sizeof body - 1, keep, body);
    return write_all(ssl, out, (size_t)n) == 0 && !close_after ? 0 : -1;
  }
  if (target_len >= 7 && memcmp(target, "/stream", 7) == 0) {
    long count = query_number(target, target_len, "n", 5);
    long gap_ms = query_number(target, target_len, "gap_ms", 10);
    if (count < 1) count = 1;
    int n =
        snprintf(out, sizeof out,
                 "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                 "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nConnection: %s\r\n\r\n",
                 keep);
    // The head and the first event in one write: the first body byte leaves at once.
    for (long i = 0; i < count; i++) {
      char event[64];
      int event_len = snprintf(event, sizeof event, "data: {\"event\":%ld}\n\n", i);
      n += snprintf(out + n, sizeof out - (size_t)n, "%x\r\n%s\r\n", event_len, event);
      if (i + 1 == count) n += snprintf(out + n, sizeof out - (size_t)n, "0\r\n\r\n");
      if (write_all(ssl, out, (size_t)n) != 0) return -1;
      n = 0;
      if (i + 1 < count && gap_ms > 0) {
        struct timespec gap = {gap_ms / 1000, (gap_ms % 1000) * 1000000L};
        nanosleep(&gap, NULL);
      }
    }
    return close_after ? -1 : 0;
  }
  int n = snprintf(out, sizeof out,
                   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                   "Connection: %s\r\n\r\nok",
                   keep);
  return write_all(ssl, out, (size_t)n) == 0 && !close_after ? 0 : -1;
}

static void* serve(void* argument) {
  int fd = (int)(intptr_t)argument;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    atomic_fetch_add(&handshakes, 1);
    char in[16384];
    size_t in_len = 0;
    for (;;) {
      char* head_end = memmem(in, in_len, "\r\n\r\n", 4);
      if (head_end == NULL) {
        if (in_len == sizeof in) break;  // a head this long is not the benchmark's
        int n = SSL_read(ssl, in + in_len, (int)(sizeof in - in_len));
        if (n <= 0) break;
        in_len += (size_t)n;
        continue;
      }
      size_t head_len = (size_t)(head_end - in) + 4;  // requests are GETs: no body
      if (answer(ssl, in, head_len) != 0) break;
      memmove(in, in + head_len, in_len - head_len);
      in_len -= head_len;
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  close(fd);
  return NULL;
}

// Workers accept and serve one connection at a time; the one that takes the last idle slot
// starts another first, so an accept never waits for a busy worker (threads are made ahead of
// the connections: a thread's creation is not in anybody's handshake time).
static int listener;
static atomic_int idle_workers;
static pthread_attr_t attributes;

static void* worker(void* argument);

static void spawn_worker(void) {
  pthread_t thread;
  atomic_fetch_add(&idle_workers, 1);
  if (pthread_create(&thread, &attributes, worker, NULL) != 0) atomic_fetch_sub(&idle_workers, 1);
}

static void* worker(void* argument) {
  (void)argument;
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) usleep(10000);
      continue;
    }
    if (atomic_fetch_sub(&idle_workers, 1) == 1) spawn_worker();
    serve((void*)(intptr_t)fd);
    atomic_fetch_add(&idle_workers, 1);
  }
  return NULL;
}

// A minimal DNS responder: A -> origin_addr, anything else -> NOERROR with no answer.
static void* dns(void* argument) {
  int fd = (int)(intptr_t)argument;
  for (;;) {
    unsigned char q[512], r[512 + 16];
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr*)&from, &from_len);
    if (n < 12 + 5) continue;
    if (q[2] & 0x80) continue;             // a response
    if (q[4] != 0 || q[5] != 1) continue;  // one question only
    size_t p = 12;
    while (p < (size_t)n && q[p] != 0) p += (size_t)q[p] + 1;
    if (p + 5 > (size_t)n) continue;
    size_t question_end = p + 5;
    int qtype = (q[p + 1] << 8) | q[p + 2];
    memcpy(r, q, question_end);
    r[2] = 0x84 | (q[2] & 0x01);  // QR, AA, RD copied
    r[3] = 0x80;                  // RA, NOERROR
    r[6] = 0;
    r[7] = qtype == 1 ? 1 : 0;  // ANCOUNT
    r[8] = r[9] = r[10] = r[11] = 0;
    size_t len = question_end;
    if (qtype == 1) {
      static const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4};
      memcpy(r + len, rr, sizeof rr);
      len += sizeof rr;
      memcpy(r + len, &origin_addr, 4);
      len += 4;
    }
    sendto(fd, r, len, 0, (struct sockaddr*)&from, from_len);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s ADDR HTTPS_PORT DNS_PORT CERT KEY API_KEY\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (inet_pton(AF_INET, argv[1], &origin_addr) != 1) {
    fprintf(stderr, "bad address %s\n", argv[1]);
    return 2;
  }
  api_key = argv[6];
  ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, argv[4]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
  SSL_CTX_set_read_ahead(ctx, 1);
  // Session tickets as OpenSSL issues them by default (two after a TLS 1.3 handshake), like a
  // real origin: the benchmark's client never resumes, but a proxy may, on its upstream side.

  struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr = origin_addr};
  listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  address.sin_port = htons((uint16_t)atoi(argv[2]));
  if (bind(listener, (struct sockaddr*)&address, sizeof address) != 0) die("bind https");
  if (listen(listener, 1024) != 0) die("listen");

  int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  address.sin_port = htons((uint16_t)atoi(argv[3]));
  if (bind(udp, (struct sockaddr*)&address, sizeof address) != 0) die("bind dns");

  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attributes, 256 * 1024);
  pthread_t thread;
  if (pthread_create(&thread, &attributes, dns, (void*)(intptr_t)udp) != 0) die("pthread_create");
  for (int i = 0; i < 8; i++) spawn_worker();
  printf("ready\n");
  fflush(stdout);
  pause();
  return 0;
}
