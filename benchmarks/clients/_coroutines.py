"""
Measurement scaffolding for the clients whose API is coroutines: ``asyncio``
and the native ``twisted-*`` clients, whose connections both have
``send(payload)``, ``await receive()`` and ``await close()``.

Here: the plumbing of ``rr`` and ``bulk`` around what they time
(connecting, the sizes in turn, the warm-up, the clock, the records), and
one ``scale`` client, whose connect, echoes and close both APIs spell the
same way. The timed loop of ``rr`` and the timed echo of ``bulk`` stay in
each client's module, written as a user of that API would write them (the
native client awaits what ``send`` returns; asyncio's returns nothing).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from .._measure import RoundTrips, bulk_metrics, now_ns

__all__ = ["Echoing", "bulk_once", "echo_client", "rr_by_size"]

_C = TypeVar("_C", bound="Echoing")


class Echoing(Protocol):
    """A connection of either API: ``send`` a message, ``await`` one back."""

    def send(self, payload: bytes) -> Any:
        """Send one message (what it returns, if anything, is the API's)."""

    def receive(self) -> Awaitable[bytes]:
        """The next message."""

    def close(self) -> Awaitable[Any]:
        """Close the connection."""


async def rr_by_size(
    connect: Callable[[], Awaitable[_C]],
    sizes: list[int],
    duration: float,
    warmup: int,
    timed: Callable[[_C, bytes, RoundTrips], Awaitable[None]],
) -> list[dict[str, Any]]:
    """
    The ``rr`` scenario on one connection, for each of ``sizes`` in turn.

    ``connect()``; for each size, ``warmup`` untimed round trips, then
    ``timed(client, payload, rounds)``: the client's own timed loop, which
    records into ``rounds`` until it says the time is up; close. Returns the
    metrics of each size, in order.
    """
    client = await connect()
    results: list[dict[str, Any]] = []
    for size in sizes:
        payload = b"x" * size
        for _ in range(warmup):
            client.send(payload)
            await client.receive()
        rounds = RoundTrips(size, duration)
        await timed(client, payload, rounds)
        results.append(rounds.metrics())
    await client.close()
    return results


async def bulk_once(
    connect: Callable[[], Awaitable[_C]],
    size: int,
    exchange: Callable[[_C, bytes], Awaitable[bytes]],
) -> dict[str, Any]:
    """
    The ``bulk`` scenario: ``connect()``, time ``exchange(client, payload)``
    (the client's own send of one ``size``-byte message and receive of its
    echo), close; `bulk_metrics` of it.
    """
    client = await connect()
    payload = b"x" * size
    start = now_ns()
    reply = await exchange(client, payload)
    elapsed = now_ns() - start
    await client.close()
    return bulk_metrics(size, len(reply), elapsed)


async def echo_client(
    connect: Callable[[], Awaitable[Echoing]], payload: bytes, round_trips: int
) -> None:
    """
    One client of the ``scale`` scenario: connect, ``round_trips`` echoes of
    ``payload`` one after the other, close. `AssertionError` on a wrong echo.
    """
    client = await connect()
    for _ in range(round_trips):
        client.send(payload)
        if len(await client.receive()) != len(payload):
            raise AssertionError("wrong echo")
    await client.close()
