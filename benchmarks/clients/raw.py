"""``raw``: a blocking socket in the calling thread, the Python floor."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

from .._measure import RoundTrips, bulk_metrics, now_ns, peak_rss_mib, threads_of

_HEADER = struct.Struct("<L")


class _Conn:
    """One blocking connection with a reusable receive buffer."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buffer = bytearray(4096)

    def send(self, payload: bytes) -> None:
        if len(payload) < 64 * 1024:
            self.sock.sendall(_HEADER.pack(len(payload)) + payload)
        else:
            self.sock.sendall(_HEADER.pack(len(payload)))
            self.sock.sendall(payload)

    def receive(self) -> memoryview:
        """Read one whole message; return a view of it (valid until the next call)."""
        view = memoryview(self.buffer)
        have = 0
        while have < 4:
            got = self.sock.recv_into(view[have:])
            if not got:
                raise ConnectionError("socket closed prematurely")
            have += got
        (length,) = _HEADER.unpack_from(self.buffer)
        if length + 4 > len(self.buffer):
            self.buffer = bytearray(length + 4)
            self.buffer[:have] = view[:have]
            view = memoryview(self.buffer)
        while have < length + 4:
            got = self.sock.recv_into(view[have : length + 4])
            if not got:
                raise ConnectionError("socket closed prematurely")
            have += got
        return view[4 : length + 4]


class Bench:
    """The floor: no threads, no event loop, no copies it can avoid."""

    def setup(self) -> str:
        """Nothing to prepare."""
        return "blocking socket.socket, recv_into a reused buffer"

    def rr(
        self, port: int, sizes: list[int], duration: float, warmup: int
    ) -> list[dict[str, Any]]:
        """Request/reply on one connection, for each size in turn."""
        conn = _Conn(port)
        results = []
        for size in sizes:
            payload = b"x" * size
            for _ in range(warmup):
                conn.send(payload)
                conn.receive()
            rounds = RoundTrips(size, duration)
            while True:
                rounds.begin()
                conn.send(payload)
                if rounds.done(conn.receive()):
                    break
            results.append(rounds.metrics())
        conn.sock.close()
        return results

    def bulk(self, port: int, size: int) -> dict[str, Any]:
        """One large message echoed."""
        conn = _Conn(port)
        payload = b"x" * size
        start = now_ns()
        conn.send(payload)
        got = len(conn.receive())
        elapsed = now_ns() - start
        conn.sock.close()
        return bulk_metrics(size, got, elapsed)

    def scale(self, port: int, clients: int, round_trips: int) -> dict[str, Any]:
        """Many connections from one thread, one round trip each in turn."""
        payload = b"x" * 16
        errors = 0
        start = now_ns()
        conns = []
        for _ in range(clients):
            try:
                conns.append(_Conn(port))
            except OSError:
                errors += 1
        for _ in range(round_trips):
            for conn in conns:
                conn.send(payload)
            for conn in conns:
                if len(conn.receive()) != 16:
                    errors += 1
        threads = threads_of()
        for conn in conns:
            conn.sock.close()
        wall = (now_ns() - start) / 1e9
        return {
            "wall_s": wall,
            "peak_threads": threads,
            "peak_rss_mib": peak_rss_mib(),
            "errors": errors,
        }

    def idle(self, port: int, ready: Any) -> None:
        """Connected and blocked in recv: the kernel does all the waiting."""
        conn = _Conn(port)
        ready()
        conn.sock.recv(1)

    def shutdown(self, port: int, bound: float) -> dict[str, Any]:
        """A thread blocked in recv; ``shutdown()`` wakes it, then it is joined."""
        conn = _Conn(port)
        reader = threading.Thread(target=lambda: conn.sock.recv(4), daemon=True)
        reader.start()
        reader.join(0.05)
        start = now_ns()
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.sock.close()
        reader.join(bound)
        return {
            "join_ms": (now_ns() - start) / 1e6,
            "still_alive": int(reader.is_alive()),
        }


__all__ = ["Bench"]
