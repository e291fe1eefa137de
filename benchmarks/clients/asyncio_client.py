"""``asyncio``: an asyncio Protocol with the same framing (a Python user's pick)."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from .._measure import (
    RoundTrips,
    bulk_metrics,
    now_ns,
    scale_metrics,
)

_HEADER = struct.Struct("<L")


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


class Bench:
    """asyncio's default (epoll selector) event loop."""

    def setup(self) -> str:
        """Nothing to install: each scenario runs in ``asyncio.run``."""
        return "asyncio.Protocol on the default selector event loop"

    def _run(self, work: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        return asyncio.run(work())

    def rr(
        self, port: int, sizes: list[int], duration: float, warmup: int
    ) -> list[dict[str, Any]]:
        """Request/reply: ``send``, then ``await receive()``; each size in turn."""

        async def work() -> list[dict[str, Any]]:
            client = await _connect(port)
            results = []
            for size in sizes:
                payload = b"x" * size
                for _ in range(warmup):
                    client.send(payload)
                    await client.receive()
                rounds = RoundTrips(size, duration)
                while True:
                    rounds.begin()
                    client.send(payload)
                    if rounds.done(await client.receive()):
                        break
                results.append(rounds.metrics())
            await client.close()
            return results

        result: list[dict[str, Any]] = self._run(work)
        return result

    def bulk(self, port: int, size: int) -> dict[str, Any]:
        """One large message echoed."""

        async def work() -> dict[str, Any]:
            client = await _connect(port)
            payload = b"x" * size
            start = now_ns()
            client.send(payload)
            reply = await client.receive()
            elapsed = now_ns() - start
            await client.close()
            return bulk_metrics(size, len(reply), elapsed)

        result: dict[str, Any] = self._run(work)
        return result

    def scale(self, port: int, clients: int, round_trips: int) -> dict[str, Any]:
        """``clients`` tasks at once: connect, round trips, close."""
        payload = b"x" * 16

        async def one() -> None:
            client = await _connect(port)
            for _ in range(round_trips):
                client.send(payload)
                if len(await client.receive()) != 16:
                    raise AssertionError("wrong echo")
            await client.close()

        async def work() -> dict[str, Any]:
            start = now_ns()
            done = await asyncio.gather(
                *(one() for _ in range(clients)), return_exceptions=True
            )
            wall = (now_ns() - start) / 1e9
            return scale_metrics(
                wall, sum(1 for outcome in done if outcome is not None)
            )

        result: dict[str, Any] = self._run(work)
        return result

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

        result: dict[str, Any] = self._run(work)
        return result
