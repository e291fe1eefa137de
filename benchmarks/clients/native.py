"""
``twisted-qt``, ``twisted-qt5reactor``, ``twisted-epoll``: `Client` on a reactor.

The Qt reactors run on the binding the worker was given (``QT_API``);
stock qt5reactor runs on PyQt5 only, and is unavailable on the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from .._measure import (
    RoundTrips,
    now_ns,
    scale_metrics,
)
from . import Unavailable
from ._coroutines import bulk_once, echo_client, rr_by_size
from ._qtgui import TickRecorder, qt_application, qt_binding

_HOST = "127.0.0.1"
_T = TypeVar("_T")


async def _round_trips(client: Any, payload: bytes, rounds: RoundTrips) -> None:
    """``rr``'s timed loop: ``send``, ``await receive()``, ``await`` the send."""
    while True:
        rounds.begin()
        sent = client.send(payload)
        reply = await client.receive()
        await sent
        if rounds.done(reply):
            break


async def _exchange(client: Any, payload: bytes) -> bytes:
    """``bulk``'s timed part: ``send``, ``await receive()``, ``await`` the send."""
    sent = client.send(payload)
    reply: bytes = await client.receive()
    await sent
    return reply


class Bench:
    """The native client, ``twisted_client.connect``, on the reactor named."""

    def __init__(self, reactor: str) -> None:
        self.kind = reactor
        self.reactor: Any = None

    def setup(self) -> str:
        """Install the reactor; refuse when the one asked for is not what we get."""
        if self.kind == "epoll":
            from twisted.internet import epollreactor

            epollreactor.install()
        else:
            qt_application()
            qt = qt_binding()
            if self.kind == "qt5reactor" and qt.api != "pyqt5":
                raise Unavailable(
                    f"stock qt5reactor runs on PyQt5 only; this run uses {qt.name} "
                    f"{qt.version} on Qt {qt.qt_version} ({qt.reason})"
                )
            from twisted_client import ClientError
            from twisted_client.qt import install_reactor

            try:
                install_reactor(self.kind)
            except (TypeError, ValueError, ImportError, ClientError) as error:
                raise Unavailable(f"install_reactor({self.kind!r}): {error}") from error
        from twisted.internet import reactor

        import twisted_client  # noqa: F401  (imported here, not in a timed region)

        self.reactor = reactor
        cls = type(reactor)
        name = f"{cls.__module__}.{cls.__qualname__}"
        if self.kind == "qt" and cls.__module__.startswith("qt5reactor"):
            raise Unavailable(
                f"install_reactor('qt') still installs the stock {name}: "
                "the new Qt reactor is not there yet"
            )
        if self.kind == "epoll":
            return f"twisted_client.connect on {name}"
        qt = qt_binding()
        return (
            f"twisted_client.connect on {name}, in {qt.name} {qt.version}'s "
            f"Qt {qt.qt_version} event loop"
        )

    def supports(self, scenario: str) -> bool:
        """The ``gui`` scenario needs a Qt reactor."""
        return scenario != "gui" or self.kind != "epoll"

    def _run(self, work: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        """Run ``work()`` on the reactor; return its result or raise its error."""
        from twisted.internet.defer import ensureDeferred

        reactor = self.reactor
        outcome: list[Any] = []

        def finished(result: Any) -> None:
            outcome.append(result)
            reactor.stop()

        def start() -> None:
            ensureDeferred(work()).addBoth(finished)

        reactor.callWhenRunning(start)
        reactor.run()
        if not outcome:
            raise RuntimeError("the reactor stopped before the work finished")
        result = outcome[0]
        from twisted.python.failure import Failure

        if isinstance(result, Failure):
            result.raiseException()
        return cast("_T", result)

    async def _connect(self, port: int, max_length: int = 16 * 1024 * 1024) -> Any:
        from twisted_client import connect

        return await connect(self.reactor, _HOST, port, max_length=max_length)

    def rr(
        self, port: int, sizes: list[int], duration: float, warmup: int
    ) -> list[dict[str, Any]]:
        """Request/reply: ``send``, then ``await receive()``; each size in turn."""
        return self._run(
            lambda: rr_by_size(
                lambda: self._connect(port), sizes, duration, warmup, _round_trips
            )
        )

    def bulk(self, port: int, size: int) -> dict[str, Any]:
        """One large message: ``send`` it, ``await receive()`` the echo."""
        return self._run(
            lambda: bulk_once(
                lambda: self._connect(port, max_length=size), size, _exchange
            )
        )

    def scale(self, port: int, clients: int, round_trips: int) -> dict[str, Any]:
        """``clients`` coroutines at once: connect, round trips, close."""
        from twisted.internet.defer import DeferredList, ensureDeferred

        payload = b"x" * 16

        async def work() -> dict[str, Any]:
            start = now_ns()
            done = await DeferredList(
                [
                    ensureDeferred(
                        echo_client(lambda: self._connect(port), payload, round_trips)
                    )
                    for _ in range(clients)
                ],
                consumeErrors=True,
            )
            wall = (now_ns() - start) / 1e9
            return scale_metrics(wall, sum(1 for ok, _ in done if not ok))

        return self._run(work)

    def gui(
        self, port: int, size: int, duration: float, interval_ms: int, window: int
    ) -> dict[str, Any]:
        """Stream ``size``-byte echoes, ``window`` in flight, under a Qt timer."""
        from twisted.internet.defer import gatherResults

        recorder = TickRecorder(interval_ms)
        received = [0]

        async def stream(client: Any, deadline: int) -> None:
            payload = b"x" * size
            while now_ns() < deadline:
                client.send(payload)
                reply = await client.receive()
                # Not "received[0] += len(await ...)": that reads received[0]
                # before the await and drops what the other streams added.
                received[0] += len(reply)

        async def work() -> dict[str, Any]:
            client = await self._connect(port)
            recorder.start()
            start = now_ns()
            deadline = start + int(duration * 1e9)
            await gatherResults(
                [_ensure(stream(client, deadline)) for _ in range(window)]
            )
            elapsed = now_ns() - start
            metrics = recorder.stop()
            await client.close()
            metrics["mb_per_s"] = received[0] / 1e6 / (elapsed / 1e9)
            return metrics

        return self._run(work)

    def idle(self, port: int, ready: Callable[[], None]) -> None:
        """Connected, nothing to do, the reactor running."""

        async def work() -> None:
            await self._connect(port)
            ready()
            from twisted.internet.defer import Deferred

            await Deferred()  # for ever: the parent ends the process

        self._run(work)

    def shutdown(self, port: int, bound: float) -> dict[str, Any]:
        """``close()`` while a ``receive()`` waits on a silent server."""
        from twisted.internet.task import deferLater

        async def work() -> dict[str, Any]:
            client = await self._connect(port)
            pending = client.receive()
            pending.addErrback(lambda _: None)
            await deferLater(self.reactor, 0.05, lambda: None)
            start = now_ns()
            closing = client.close()
            closing.addTimeout(bound, self.reactor)
            with contextlib.suppress(Exception):
                await closing
            elapsed = now_ns() - start
            return {
                "join_ms": elapsed / 1e6,
                "still_alive": int(not client.when_closed().called),
            }

        return self._run(work)


def _ensure(coroutine: Coroutine[Any, Any, Any]) -> Any:
    from twisted.internet.defer import ensureDeferred

    return ensureDeferred(coroutine)
