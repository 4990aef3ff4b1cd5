// The origin of bench/egress.sh: one single-threaded epoll server, fast enough that the proxy in
// front of it is what gets measured. Built by the script with `cc -O2`; runs in the origin netns.
//
//   origin ADDR HTTP_PORT ECHO_PORT ONCE_PORT ZERO_FILE
//
// HTTP_PORT: HTTP/1.1. `GET /bytes/N` answers N zero bytes, sent with sendfile(2) from ZERO_FILE
// (a sparse file on tmpfs: its holes are the shared zero page, so nothing is copied from user
// space and no memory is used). `GET /stats` answers "open=<connections> accepted=<total>".
// Any other path answers the two bytes "ok". "Connection: close" in the request closes the
// connection after the response (the origin closes first, so TIME_WAIT stays on its side);
// otherwise it is kept alive.
// ECHO_PORT: every byte read is written back (the idle tunnels).
// ONCE_PORT: the first bytes read are written back, then the origin closes (the connect-latency
// probe: the origin closing first keeps TIME_WAIT on its side, so thousands of short connections
// do not use up the host's ephemeral ports toward it).
// On start it raises RLIMIT_NOFILE to the hard limit and prints "ready" on stdout.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum kind { LISTEN_HTTP, LISTEN_ECHO, LISTEN_ONCE, CONN_HTTP, CONN_ECHO, CONN_ONCE };

struct conn {
  int fd;
  enum kind kind;
  char in[4096];
  size_t in_len;
  char out[256];  // response head (HTTP) or bytes to echo back
  size_t out_len, out_off;
  uint64_t body_left;
  int close_after;
  int writing;  // epoll interest is EPOLLOUT
};

static int epfd;
static int zero_fd;
static off_t zero_size;
static long open_conns, accepted;

static void die(const char* what) {
  perror(what);
  exit(1);
}

static void set_interest(struct conn* c, int out) {
  struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl mod");
  c->writing = out;
}

static void drop(struct conn* c) {
  close(c->fd);  // also removes it from the epoll set
  free(c);
  open_conns--;
}

static int listen_on(const char* addr, int port, enum kind kind) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) die("inet_pton");
  if (bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0) die("bind");
  if (listen(fd, 65535) != 0) die("listen");
  struct conn* c = calloc(1, sizeof *c);
  c->fd = fd;
  c->kind = kind;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl add");
  return fd;
}

static void accept_all(struct conn* l) {
  for (;;) {
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      if (errno == EMFILE || errno == ENFILE) {
        fprintf(stderr, "origin: accept: out of descriptors at %ld open\n", open_conns);
        return;
      }
      die("accept4");
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn* c = calloc(1, sizeof *c);
    if (!c) die("calloc");
    c->fd = fd;
    c->kind = l->kind == LISTEN_HTTP ? CONN_HTTP : l->kind == LISTEN_ECHO ? CONN_ECHO : CONN_ONCE;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl add");
    open_conns++;
    accepted++;
  }
}

// A complete request head is in c->in: prepare the response and consume the head.
static void start_response(struct conn* c, size_t head_len) {
  char* line_end = memchr(c->in, '\r', head_len);
  char path[128] = "";
  if (line_end) {
    char* sp1 = memchr(c->in, ' ', (size_t)(line_end - c->in));
    if (sp1) {
      char* sp2 = memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1));
      size_t n = sp2 ? (size_t)(sp2 - sp1 - 1) : 0;
      if (n >= sizeof path) n = sizeof path - 1;
      memcpy(path, sp1 + 1, n);
      path[n] = 0;
    }
  }
  // Absolute-form (a proxy passed it on as it was): keep only the path.
  char* p = path;
  if (strncmp(p, "http://", 7) == 0) {
    p = strchr(p + 7, '/');
    if (!p) p = "/";
  }
  c->close_after = memmem(c->in, head_len, "onnection: close", 16) != NULL ||
                   memmem(c->in, head_len, "onnection: Close", 16) != NULL;
  char body[64];
  uint64_t size;
  if (strncmp(p, "/bytes/", 7) == 0) {
    size = strtoull(p + 7, NULL, 10);
    c->body_left = size;
    body[0] = 0;
  } else if (strcmp(p, "/stats") == 0) {
    snprintf(body, sizeof body, "open=%ld accepted=%ld\n", open_conns - 1, accepted);
    size = strlen(body);
    c->body_left = 0;
  } else {
    strcpy(body, "ok");
    size = 2;
    c->body_left = 0;
  }
  int n = snprintf(c->out, sizeof c->out,
                   "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\nContent-Type: text/plain\r\n%s\r\n%s",
                   (unsigned long long)size, c->close_after ? "Connection: close\r\n" : "", body);
  c->out_len = (size_t)n;
  c->out_off = 0;
  memmove(c->in, c->in + head_len, c->in_len - head_len);
  c->in_len -= head_len;
}

// Writes what is pending. Returns 0 when done, 1 when the socket is full, -1 on error.
static int flush(struct conn* c) {
  while (c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN ? 1 : -1;
    c->out_off += (size_t)n;
  }
  while (c->body_left > 0) {
    static off_t offset;  // any offset will do: every byte of the file is zero
    if (offset >= zero_size) offset = 0;
    size_t chunk = c->body_left < (1u << 30) ? (size_t)c->body_left : (1u << 30);
    if ((off_t)chunk > zero_size - offset) chunk = (size_t)(zero_size - offset);
    ssize_t n = sendfile(c->fd, zero_fd, &offset, chunk);
    if (n < 0) return errno == EAGAIN ? 1 : -1;
    if (n == 0) return -1;
    c->body_left -= (uint64_t)n;
  }
  return 0;
}

static void on_http(struct conn* c, uint32_t events) {
  if (c->writing) {
    int r = flush(c);
    if (r < 0) { drop(c); return; }
    if (r > 0) return;
    if (c->close_after) { drop(c); return; }
    set_interest(c, 0);
  } else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    if (c->in_len == sizeof c->in) { drop(c); return; }  // a head this big is not ours
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) return;
      { drop(c); return; }
    }
    c->in_len += (size_t)n;
  }
  // Answer every complete request head that is buffered (pipelining).
  while (!c->writing) {
    char* end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return;
    start_response(c, (size_t)(end + 4 - c->in));
    int r = flush(c);
    if (r < 0) { drop(c); return; }
    if (r > 0) { set_interest(c, 1); return; }
    if (c->close_after) { drop(c); return; }
  }
}

static void on_echo(struct conn* c, uint32_t events) {
  if (c->writing) {
    int r = flush(c);
    if (r < 0) { drop(c); return; }
    if (r > 0) return;
    if (c->close_after) { drop(c); return; }
    set_interest(c, 0);
    return;
  }
  (void)events;
  ssize_t n = recv(c->fd, c->out, sizeof c->out, 0);
  if (n <= 0) {
    if (n < 0 && errno == EAGAIN) return;
    { drop(c); return; }
  }
  c->out_len = (size_t)n;
  c->out_off = 0;
  c->close_after = c->kind == CONN_ONCE;
  int r = flush(c);
  if (r < 0) { drop(c); return; }
  if (r > 0) { set_interest(c, 1); return; }
  if (c->close_after) drop(c);
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: origin ADDR HTTP_PORT ECHO_PORT ONCE_PORT ZERO_FILE\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  zero_fd = open(argv[5], O_RDONLY | O_CLOEXEC);
  if (zero_fd < 0) die(argv[5]);
  struct stat st;
  if (fstat(zero_fd, &st) != 0 || st.st_size <= 0) die("zero file size");
  zero_size = st.st_size;
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  listen_on(argv[1], atoi(argv[2]), LISTEN_HTTP);
  listen_on(argv[1], atoi(argv[3]), LISTEN_ECHO);
  listen_on(argv[1], atoi(argv[4]), LISTEN_ONCE);
  printf("ready\n");
  fflush(stdout);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epfd, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct conn* c = events[i].data.ptr;
      switch (c->kind) {
        case LISTEN_HTTP:
        case LISTEN_ECHO:
        case LISTEN_ONCE: accept_all(c); break;
        case CONN_HTTP: on_http(c, events[i].events); break;
        case CONN_ECHO:
        case CONN_ONCE: on_echo(c, events[i].events); break;
      }
    }
  }
}
