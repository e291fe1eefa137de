/*
 * The benchmark echo server: epoll, one thread, every byte sent back as it came.
 *
 * It does not parse the framing: echoing the byte stream echoes every framed
 * message unchanged, at the lowest cost per message a server can have. It
 * keeps reading while a peer is not reading (the unsent bytes wait in memory),
 * so a client that sends a whole 64 MiB message before it reads, as the
 * seed's thread does, cannot deadlock against it.
 *
 * Usage: echo_server PORT   (0 picks a free port; prints "listening on
 * 127.0.0.1:PORT" once ready). Binds the loopback address only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)
#define MAX_EVENTS 256

struct conn {
    int fd;
    char *buf;
    size_t off, len, cap; /* unsent bytes are buf[off:len] */
    int want_out;
};

static int ep;

static void set_events(struct conn *c, int out)
{
    struct epoll_event ev;
    if (out == c->want_out)
        return;
    ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static void drop(struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->buf);
    free(c);
}

/* Send what is pending; 0 on success (maybe partial), -1 if the peer is gone. */
static int flush(struct conn *c)
{
    while (c->off < c->len) {
        ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->off += (size_t)n;
    }
    if (c->off == c->len)
        c->off = c->len = 0;
    set_events(c, c->len > 0);
    return 0;
}

/* Read one chunk and echo it; -1 when the connection should go. */
static int on_readable(struct conn *c)
{
    ssize_t n;
    if (c->off > 0 && c->off == c->len)
        c->off = c->len = 0;
    if (c->off > c->cap / 2) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->cap - c->len < READ_CHUNK) {
        size_t cap = c->cap ? c->cap * 2 : READ_CHUNK * 2;
        char *grown;
        while (cap - c->len < READ_CHUNK)
            cap *= 2;
        grown = realloc(c->buf, cap);
        if (!grown)
            return -1;
        c->buf = grown;
        c->cap = cap;
    }
    n = recv(c->fd, c->buf + c->len, READ_CHUNK, 0);
    if (n == 0)
        return -1;
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    c->len += (size_t)n;
    return flush(c);
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int one = 1;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    struct epoll_event ev, events[MAX_EVENTS];

    signal(SIGPIPE, SIG_IGN);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)port);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) {
        perror("echo_server: listen");
        return 1;
    }
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    ep = epoll_create1(0);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL; /* NULL marks the listening socket */
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    for (;;) {
        int i, ready = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("echo_server: epoll_wait");
            return 1;
        }
        for (i = 0; i < ready; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct conn *nc = calloc(1, sizeof *nc);
                    if (!nc) {
                        close(fd);
                        continue;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    nc->fd = fd;
                    ev.events = EPOLLIN;
                    ev.data.ptr = nc;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                if (!(events[i].events & EPOLLIN)) {
                    drop(c);
                    continue;
                }
            }
            if ((events[i].events & EPOLLOUT) && flush(c) < 0) {
                drop(c);
                continue;
            }
            if ((events[i].events & EPOLLIN) && on_readable(c) < 0)
                drop(c);
        }
    }
}
