"""``qtcpsocket``: the binding's QTcpSocket with the same framing (a Qt user's pick)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .._measure import (
    BULK_TIMEOUT,
    now_ns,
    rr_metrics,
    scale_metrics,
)
from ._qtgui import TickRecorder, qt_application, qt_binding

_HEADER = struct.Struct("<L")


class _Conn:
    """One QTcpSocket; calls ``on_message(bytes)`` for each whole message."""

    def __init__(
        self,
        port: int,
        on_connected: Callable[[_Conn], None],
        on_message: Callable[[_Conn, bytes], None],
        on_error: Callable[[_Conn, str], None],
    ) -> None:
        network = qt_binding().module("QtNetwork")
        self.sock = network.QTcpSocket()
        self.buffer = bytearray()
        self._on_message = on_message
        self.sock.readyRead.connect(self._read)
        self.sock.connected.connect(lambda: on_connected(self))
        self.sock.errorOccurred.connect(
            lambda _: on_error(self, self.sock.errorString())
        )
        self.sock.connectToHost("127.0.0.1", port)

    def _read(self) -> None:
        buffer = self.buffer
        buffer += self.sock.readAll().data()
        offset = 0
        available = len(buffer)
        messages = []
        while available - offset >= 4:
            (length,) = _HEADER.unpack_from(buffer, offset)
            end = offset + 4 + length
            if end > available:
                break
            messages.append(bytes(buffer[offset + 4 : end]))
            offset = end
        del buffer[:offset]
        for message in messages:
            self._on_message(self, message)

    def send(self, payload: bytes) -> None:
        if len(payload) < 64 * 1024:
            self.sock.write(_HEADER.pack(len(payload)) + payload)
        else:
            self.sock.write(_HEADER.pack(len(payload)))
            self.sock.write(payload)


class _Loop:
    """Runs the Qt event loop until `finish` is called or the time bound passes."""

    def __init__(self, timeout: float = BULK_TIMEOUT) -> None:
        self.app = qt_application()
        self.result: Any = None
        self.error: str | None = None
        self._watchdog = qt_binding().QtCore.QTimer()
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(lambda: self.fail("timed out"))
        self._watchdog.start(int(timeout * 1000))

    def finish(self, result: Any) -> None:
        if self.result is None and self.error is None:
            self.result = result
        self.app.exit(0)

    def fail(self, error: str) -> None:
        if self.result is None and self.error is None:
            self.error = error
        self.app.exit(1)

    def run(self, start: Callable[[], None]) -> Any:
        qt_binding().QtCore.QTimer.singleShot(0, start)
        self.app.exec()
        self._watchdog.stop()
        if self.error is not None:
            raise RuntimeError(self.error)
        return self.result

    def run_one(
        self,
        port: int,
        on_connected: Callable[[_Conn], None],
        on_message: Callable[[_Conn, bytes], None],
        on_error: Callable[[_Conn, str], None] | None = None,
    ) -> Any:
        """
        `run` with one `_Conn` to ``port``, made once the loop runs and kept
        until it ends; an error on it fails the run unless ``on_error`` is given.
        """
        kept: list[_Conn] = []

        def failed(conn: _Conn, text: str) -> None:
            self.fail(text)

        error = on_error or failed
        return self.run(
            lambda: kept.append(_Conn(port, on_connected, on_message, error))
        )


class Bench:
    """QTcpSocket driven by its signals in the Qt event loop."""

    def setup(self) -> str:
        """Make the QApplication."""
        qt_application()
        qt = qt_binding()
        return (
            f"{qt.name} {qt.version} QTcpSocket, signals in the Qt "
            f"{qt.qt_version} event loop"
        )

    def rr(
        self, port: int, sizes: list[int], duration: float, warmup: int
    ) -> list[dict[str, Any]]:
        """Request/reply: each reply's signal sends the next request; each size."""
        return [self._rr(port, size, duration, warmup) for size in sizes]

    def _rr(self, port: int, size: int, duration: float, warmup: int) -> dict[str, Any]:
        loop = _Loop()
        payload = b"x" * size
        samples: list[int] = []
        state = {"warm": warmup, "begin": 0, "start": 0, "deadline": 0}

        def connected(conn: _Conn) -> None:
            state["begin"] = now_ns()
            conn.send(payload)

        def message(conn: _Conn, reply: bytes) -> None:
            end = now_ns()
            if len(reply) != size:
                loop.fail("wrong echo")
                return
            if state["warm"] > 0:
                state["warm"] -= 1
                if state["warm"] == 0:
                    state["start"] = end
                    state["deadline"] = end + int(duration * 1e9)
            else:
                samples.append(end - state["begin"])
                if end >= state["deadline"]:
                    conn.sock.abort()
                    loop.finish(rr_metrics(samples, end - state["start"]))
                    return
            state["begin"] = now_ns()
            conn.send(payload)

        result: dict[str, Any] = loop.run_one(port, connected, message)
        return result

    def bulk(self, port: int, size: int) -> dict[str, Any]:
        """One large message echoed."""
        loop = _Loop()
        payload = b"x" * size
        state = {"start": 0}

        def connected(conn: _Conn) -> None:
            state["start"] = now_ns()
            conn.send(payload)

        def message(conn: _Conn, reply: bytes) -> None:
            elapsed = now_ns() - state["start"]
            conn.sock.abort()
            if len(reply) != size:
                loop.fail("wrong echo")
            loop.finish({"mb_per_s": size / 1e6 / (elapsed / 1e9)})

        result: dict[str, Any] = loop.run_one(port, connected, message)
        return result

    def scale(self, port: int, clients: int, round_trips: int) -> dict[str, Any]:
        """``clients`` sockets at once: connect, round trips, close."""
        loop = _Loop()
        payload = b"x" * 16
        left = {"clients": clients, "errors": 0}
        counts: dict[int, int] = {}
        conns: list[_Conn] = []
        start = now_ns()

        def done_one(conn: _Conn) -> None:
            conn.sock.close()
            left["clients"] -= 1
            if left["clients"] == 0:
                wall = (now_ns() - start) / 1e9
                loop.finish(scale_metrics(wall, left["errors"]))

        def connected(conn: _Conn) -> None:
            counts[id(conn)] = 0
            conn.send(payload)

        def message(conn: _Conn, reply: bytes) -> None:
            counts[id(conn)] += 1
            if counts[id(conn)] == round_trips:
                done_one(conn)
            else:
                conn.send(payload)

        def error(conn: _Conn, text: str) -> None:
            if counts.get(id(conn), 0) < round_trips:
                left["errors"] += 1
                counts[id(conn)] = round_trips
                done_one(conn)

        def begin() -> None:
            for _ in range(clients):
                conns.append(_Conn(port, connected, message, error))

        result: dict[str, Any] = loop.run(begin)
        return result

    def gui(
        self, port: int, size: int, duration: float, interval_ms: int, window: int
    ) -> dict[str, Any]:
        """Stream echoes, ``window`` in flight, in the GUI thread under a Qt timer."""
        loop = _Loop()
        recorder = TickRecorder(interval_ms)
        payload = b"x" * size
        state = {"start": 0, "deadline": 0, "received": 0, "in_flight": 0}

        def connected(conn: _Conn) -> None:
            recorder.start()
            state["start"] = now_ns()
            state["deadline"] = state["start"] + int(duration * 1e9)
            for _ in range(window):
                conn.send(payload)
            state["in_flight"] = window

        def message(conn: _Conn, reply: bytes) -> None:
            state["received"] += len(reply)
            state["in_flight"] -= 1
            if now_ns() < state["deadline"]:
                conn.send(payload)
                state["in_flight"] += 1
            elif state["in_flight"] == 0:
                elapsed = now_ns() - state["start"]
                metrics = recorder.stop()
                metrics["mb_per_s"] = state["received"] / 1e6 / (elapsed / 1e9)
                conn.sock.abort()
                loop.finish(metrics)

        result: dict[str, Any] = loop.run_one(port, connected, message)
        return result

    def idle(self, port: int, ready: Callable[[], None]) -> None:
        """Connected, the Qt event loop running with nothing to do."""
        loop = _Loop(timeout=10**6)
        loop.run_one(port, lambda _: ready(), lambda *_: None, lambda *_: None)

    def shutdown(self, port: int, bound: float) -> dict[str, Any]:
        """``disconnectFromHost()`` with no data coming; time to ``disconnected``."""
        timer = qt_binding().QtCore.QTimer
        loop = _Loop(timeout=bound + 1)
        state = {"start": 0}

        def gone(conn: _Conn) -> None:
            loop.finish(
                {"join_ms": (now_ns() - state["start"]) / 1e6, "still_alive": 0}
            )

        def connected(conn: _Conn) -> None:
            def close() -> None:
                conn.sock.disconnected.connect(lambda: gone(conn))
                state["start"] = now_ns()
                conn.sock.disconnectFromHost()

            timer.singleShot(50, close)

        try:
            return dict(loop.run_one(port, connected, lambda *_: None, lambda *_: None))
        except RuntimeError:
            return {"join_ms": bound * 1e3, "still_alive": 1}
