"""
The fallback echo server, for machines without a C compiler.

Same behaviour as ``echo_server.c``: epoll, one thread, every byte echoed as it
came, unsent bytes kept in memory while the peer is not reading. Run it as
``python -m benchmarks._pyecho PORT``.
"""

from __future__ import annotations

import select
import socket
import sys

_CHUNK = 256 * 1024


def serve(port: int) -> None:  # noqa: PLR0915
    """Serve on 127.0.0.1:``port`` for ever; print ``listening on ...`` when ready."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(4096)
    listener.setblocking(False)
    poller = select.epoll()
    poller.register(listener.fileno(), select.EPOLLIN)
    conns: dict[int, socket.socket] = {}
    pending: dict[int, bytearray] = {}
    print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)

    def drop(fd: int) -> None:
        poller.unregister(fd)
        conns.pop(fd).close()
        pending.pop(fd, None)

    def flush(fd: int) -> bool:
        out = pending[fd]
        try:
            sent = conns[fd].send(out)
        except BlockingIOError:
            sent = 0
        except OSError:
            return False
        del out[:sent]
        mask = select.EPOLLIN | (select.EPOLLOUT if out else 0)
        poller.modify(fd, mask)
        return True

    while True:
        for fd, events in poller.poll():
            if fd == listener.fileno():
                while True:
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        break
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    conns[conn.fileno()] = conn
                    pending[conn.fileno()] = bytearray()
                    poller.register(conn.fileno(), select.EPOLLIN)
                continue
            if fd not in conns:
                continue
            if events & select.EPOLLOUT and not flush(fd):
                drop(fd)
                continue
            if events & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                try:
                    data = conns[fd].recv(_CHUNK)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    drop(fd)
                    continue
                pending[fd] += data
                if not flush(fd):
                    drop(fd)


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
