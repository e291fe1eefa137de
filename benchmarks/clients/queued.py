"""``thread`` and ``compat``: a ``SocketClientThread`` driven through its two queues."""

from __future__ import annotations

import importlib
import queue
import threading
from collections.abc import Callable
from typing import Any

from .._measure import (
    BULK_TIMEOUT,
    RoundTrips,
    bulk_metrics,
    now_ns,
    peak_rss_mib,
    threads_of,
)
from . import Unavailable
from ._qtgui import TickRecorder, qt_application, qt_binding

_ADDRESS = ("127.0.0.1", 0)
_THREADED = "twisted_client.compat.threaded"


class Bench:
    """
    The classic thread's interface: commands on ``cmd_q``, replies from ``reply_q``.

    ``impl`` is the module with ``SocketClientThread``, ``ClientCommand`` and
    ``ClientReply``: ``twisted_client.compat.threaded`` (the classic thread, the
    baseline) or ``twisted_client.compat`` (the drop-in adapter on the Twisted
    reactor). The driving code is the same for both, as it is for a program
    that changes its import.
    """

    def __init__(self, impl: str) -> None:
        self.impl_name = impl
        self.impl: Any = None

    def setup(self) -> str:
        """Import the implementation."""
        try:
            self.impl = importlib.import_module(self.impl_name)
            self.impl.SocketClientThread  # noqa: B018
        except (ImportError, AttributeError) as error:
            raise Unavailable(f"{self.impl_name}.SocketClientThread: {error}") from None
        if self.impl_name == _THREADED:
            return "compat.threaded.SocketClientThread: the classic thread, ported"
        return (
            "compat.SocketClientThread: the drop-in adapter (reactor in a thread "
            "of its own; in the gui scenario, the Qt reactor in the GUI thread)"
        )

    # -- helpers ---------------------------------------------------------------

    def _client(self, **options: Any) -> Any:
        if self.impl_name == _THREADED:
            options = {}  # the classic thread has no options (and no limit)
        client = self.impl.SocketClientThread(**options)
        client.start()
        return client

    def _put(self, client: Any, kind: str, data: Any = None) -> None:
        command = self.impl.ClientCommand
        client.cmd_q.put(command(getattr(command, kind), data))

    def _get(self, client: Any, timeout: float = BULK_TIMEOUT) -> Any:
        try:
            reply = client.reply_q.get(True, timeout)
        except queue.Empty:
            raise TimeoutError(f"no reply within {timeout} s") from None
        if reply.type != self.impl.ClientReply.SUCCESS:
            raise ConnectionError(f"ERROR reply: {reply.data}")
        return reply.data

    def _connect(self, port: int, **options: Any) -> Any:
        client = self._client(**options)
        self._put(client, "CONNECT", (_ADDRESS[0], port))
        self._get(client)
        return client

    def _finish(self, client: Any) -> None:
        self._put(client, "CLOSE")
        self._get(client)
        client.join(5.0)

    # -- scenarios -------------------------------------------------------------

    def rr(
        self, port: int, sizes: list[int], duration: float, warmup: int
    ) -> list[dict[str, Any]]:
        """Request/reply: put SEND and RECEIVE, take both replies; each size in turn."""
        client = self._connect(port)
        results = []
        for size in sizes:
            payload = b"x" * size
            for _ in range(warmup):
                self._put(client, "SEND", payload)
                self._put(client, "RECEIVE")
                self._get(client)
                self._get(client)
            rounds = RoundTrips(size, duration)
            while True:
                rounds.begin()
                self._put(client, "SEND", payload)
                self._put(client, "RECEIVE")
                self._get(client)
                if rounds.done(self._get(client)):
                    break
            results.append(rounds.metrics())
        self._finish(client)
        return results

    def bulk(self, port: int, size: int) -> dict[str, Any]:
        """One large message: SEND, RECEIVE, both replies (compat: max_length=size)."""
        client = self._connect(port, max_length=size)
        payload = b"x" * size
        start = now_ns()
        self._put(client, "SEND", payload)
        self._put(client, "RECEIVE")
        self._get(client)
        reply = self._get(client)
        elapsed = now_ns() - start
        self._finish(client)
        return bulk_metrics(size, len(reply), elapsed)

    def scale(self, port: int, clients: int, round_trips: int) -> dict[str, Any]:
        """``clients`` clients with every command queued at once; then every reply."""
        payload = b"x" * 16
        errors = 0
        if self.impl_name != _THREADED:
            # Start the adapter's shared reactor thread before timing, as a
            # native client's reactor runs before anything is timed.
            warm = self._client()
            warm.join(5.0)
        start = now_ns()
        started = []
        for _ in range(clients):
            client = self._client()
            self._put(client, "CONNECT", (_ADDRESS[0], port))
            for _ in range(round_trips):
                self._put(client, "SEND", payload)
                self._put(client, "RECEIVE")
            self._put(client, "CLOSE")
            started.append(client)
        threads = threads_of()
        for client in started:
            for _ in range(2 + 2 * round_trips):
                try:
                    self._get(client)
                except (ConnectionError, TimeoutError):
                    errors += 1
                    break
        wall = (now_ns() - start) / 1e9
        threads = max(threads, threads_of())
        for client in started:
            client.alive.clear()
        for client in started:
            client.join(5.0)
        return {
            "wall_s": wall,
            "peak_threads": threads,
            "peak_rss_mib": peak_rss_mib(),
            "errors": errors,
        }

    def gui(  # noqa: PLR0915
        self, port: int, size: int, duration: float, interval_ms: int, window: int
    ) -> dict[str, Any]:
        """
        Stream echoes under a 16 ms Qt timer, the classic thread's way.

        A 5 ms QTimer in the GUI thread takes every reply with
        ``reply_q.get(block=False)`` and tops the commands up so that
        ``8 * window`` SEND/RECEIVE pairs are always outstanding (with only
        ``window``, the 5 ms poll itself would cap the stream).
        """
        app = qt_application()
        QTimer = qt_binding().QtCore.QTimer  # noqa: N806 (a class)
        client = self._client()
        recorder = TickRecorder(interval_ms)
        payload = b"x" * size
        state = {"start": 0, "deadline": 0, "received": 0, "outstanding": 0}
        state["phase"] = 0  # 0 connecting, 1 streaming, 2 draining
        window *= 8
        failure: list[str] = []
        poller = QTimer()

        def top_up() -> None:
            while state["outstanding"] < window:
                self._put(client, "SEND", payload)
                self._put(client, "RECEIVE")
                state["outstanding"] += 1

        def poll() -> None:
            while True:
                try:
                    reply = client.reply_q.get(block=False)
                except queue.Empty:
                    break
                if reply.type != self.impl.ClientReply.SUCCESS:
                    failure.append(str(reply.data))
                    app.exit(1)
                    return
                if state["phase"] == 0:
                    state["phase"] = 1
                    recorder.start()
                    state["start"] = now_ns()
                    state["deadline"] = state["start"] + int(duration * 1e9)
                elif reply.data is not None:
                    state["received"] += len(reply.data)
                    state["outstanding"] -= 1
            if state["phase"] == 1 and now_ns() >= state["deadline"]:
                state["phase"] = 2
            if state["phase"] == 1:
                top_up()
            elif state["phase"] == 2 and state["outstanding"] == 0:
                app.exit(0)

        poller.timeout.connect(poll)
        watchdog = QTimer()
        watchdog.setSingleShot(True)

        def give_up() -> None:
            failure.append("timed out")
            app.exit(1)

        watchdog.timeout.connect(give_up)
        self._put(client, "CONNECT", (_ADDRESS[0], port))
        poller.start(5)
        watchdog.start(int((duration + 60) * 1000))
        app.exec()
        poller.stop()
        watchdog.stop()
        if failure:
            raise RuntimeError(failure[0])
        elapsed = now_ns() - state["start"]
        metrics = recorder.stop()
        metrics["mb_per_s"] = state["received"] / 1e6 / (elapsed / 1e9)
        return metrics

    def idle(self, port: int, ready: Callable[[], None]) -> None:
        """Connected; the main thread waits on an Event that is never set."""
        self._connect(port)
        ready()
        threading.Event().wait()

    def shutdown(self, port: int, bound: float) -> dict[str, Any]:
        """``join(bound)`` while a RECEIVE waits on a silent server."""
        client = self._connect(port)
        self._put(client, "RECEIVE")
        threading.Event().wait(0.05)
        start = now_ns()
        client.join(bound)
        elapsed = now_ns() - start
        return {"join_ms": elapsed / 1e6, "still_alive": int(client.is_alive())}
