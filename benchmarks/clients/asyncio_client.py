"""``asyncio``: an asyncio Protocol with the same framing (a Python user's pick)."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from .._measure import (
    RoundTrips,
    now_ns,
    scale_metrics,
)
from ._coroutines import bulk_once, echo_client, rr_by_size

_HEADER = struct.Struct("<L")
_T = TypeVar("_T")


class _Framed(asyncio.Protocol):
    """Length-prefixed messages over an asyncio transport; ``receive()`` awaits one."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.messages: deque[bytes] = deque()
        self.waiters: deque[asyncio.Future[bytes]] = deque()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        offset = 0
        available = len(buffer)
        while available - offset >= 4:
            (length,) = _HEADER.unpack_from(buffer, offset)
            end = offset + 4 + length
            if end > available:
                break
            message = bytes(buffer[offset + 4 : end])
            offset = end
            if self.waiters:
                self.waiters.popleft().set_result(message)
            else:
                self.messages.append(message)
        del buffer[:offset]

    def connection_lost(self, exc: Exception | None) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_exception(ConnectionError("connection lost"))
        if not self.closed.done():
            self.closed.set_result(None)

    def send(self, payload: bytes) -> None:
        assert self.transport is not None
        if len(payload) < 64 * 1024:
            self.transport.write(_HEADER.pack(len(payload)) + payload)
        else:
            self.transport.writelines([_HEADER.pack(len(payload)), payload])

    def receive(self) -> asyncio.Future[bytes]:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        if self.messages:
            future.set_result(self.messages.popleft())
        else:
            self.waiters.append(future)
        return future

    async def close(self) -> None:
        assert self.transport is not None
        self.transport.close()
        await self.closed


async def _connect(port: int) -> _Framed:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(_Framed, "127.0.0.1", port)
    return protocol


async def _round_trips(client: _Framed, payload: bytes, rounds: RoundTrips) -> None:
    """``rr``'s timed loop: ``send``, then ``await receive()``, until time is up."""
    while True:
        rounds.begin()
        client.send(payload)
        if rounds.done(await client.receive()):
            break


async def _exchange(client: _Framed, payload: bytes) -> bytes:
    """``bulk``'s timed part: ``send``, then ``await receive()``."""
    client.send(payload)
    return await client.receive()


class Bench:
    """asyncio's default (epoll selector) event loop."""

    def setup(self) -> str:
        """Nothing to install: each scenario runs in ``asyncio.run``."""
        return "asyncio.Protocol on the default selector event loop"

    def _run(self, work: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        return asyncio.run(work())

    def rr(
        self, port: int, sizes: list[int], duration: float, warmup: int
    ) -> list[dict[str, Any]]:
        """Request/reply: ``send``, then ``await receive()``; each size in turn."""
        return self._run(
            lambda: rr_by_size(
                lambda: _connect(port), sizes, duration, warmup, _round_trips
            )
        )

    def bulk(self, port: int, size: int) -> dict[str, Any]:
        """One large message echoed."""
        return self._run(lambda: bulk_once(lambda: _connect(port), size, _exchange))

    def scale(self, port: int, clients: int, round_trips: int) -> dict[str, Any]:
        """``clients`` tasks at once: connect, round trips, close."""
        payload = b"x" * 16

        async def work() -> dict[str, Any]:
            start = now_ns()
            done = await asyncio.gather(
                *(
                    echo_client(lambda: _connect(port), payload, round_trips)
                    for _ in range(clients)
                ),
                return_exceptions=True,
            )
            wall = (now_ns() - start) / 1e9
            return scale_metrics(
                wall, sum(1 for outcome in done if outcome is not None)
            )

        return self._run(work)

    def idle(self, port: int, ready: Callable[[], None]) -> None:
        """Connected, the loop running with nothing to do."""

        async def work() -> None:
            await _connect(port)
            ready()
            await asyncio.get_running_loop().create_future()

        self._run(work)

    def shutdown(self, port: int, bound: float) -> dict[str, Any]:
        """``transport.close()`` with a receive pending; time to connection_lost."""

        async def work() -> dict[str, Any]:
            client = await _connect(port)
            pending = client.receive()
            await asyncio.sleep(0.05)
            start = now_ns()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(client.close(), bound)
            elapsed = now_ns() - start
            pending.cancel()
            return {
                "join_ms": elapsed / 1e6,
                "still_alive": int(not client.closed.done()),
            }

        return self._run(work)
