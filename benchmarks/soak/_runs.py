"""The two runs: a soak (one client, many messages) and a load (many clients)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, cast

from twisted.internet.defer import (
    Deferred,
    DeferredList,
    DeferredSemaphore,
    ensureDeferred,
)
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from twisted_client import Client, connect

from ._tally import Sample, Tally, echo_stream, rss_bytes, sample_now

__all__ = ["LoadResult", "SoakResult", "load", "soak"]


@dataclasses.dataclass(kw_only=True)
class SoakResult(Tally):
    """What a soak run saw."""

    messages: int
    size: int
    window: int
    samples: list[Sample] = dataclasses.field(default_factory=list)


async def soak(
    reactor: Any,
    host: str,
    port: int,
    *,
    messages: int = 1_000_000,
    size: int = 64,
    window: int = 64,
    samples: int = 20,
) -> SoakResult:
    """Echo ``messages`` messages through one client, ``window`` in flight."""
    result = SoakResult(messages=messages, size=size, window=window)
    every = max(1, messages // samples)
    started = time.perf_counter()
    result.samples.append(sample_now(0, 0.0))
    client = await connect(reactor, host, port)

    def sample_every_so_often() -> None:
        if result.received % every == 0:
            elapsed = time.perf_counter() - started
            result.samples.append(sample_now(result.received, elapsed))

    await echo_stream(
        client,
        result,
        number=0,
        messages=messages,
        size=size,
        window=window,
        timeout=60,
        on_echo=sample_every_so_often,
    )
    result.seconds = time.perf_counter() - started
    return result


@dataclasses.dataclass(kw_only=True)
class LoadResult(Tally):
    """What a load run saw."""

    clients: int
    per_client: int
    size: int
    connected: int = 0
    rss_before: int = 0
    rss_peak: int = 0
    rss_after: int = 0


async def load(
    reactor: Any,
    host: str,
    port: int,
    *,
    clients: int = 1000,
    per_client: int = 1000,
    size: int = 32,
    window: int = 8,
    connecting: int = 100,
) -> LoadResult:
    """
    Connect ``clients`` clients (``connecting`` at a time), then let every one
    of them echo ``per_client`` messages at once, ``window`` in flight each.
    """
    result = LoadResult(clients=clients, per_client=per_client, size=size)
    result.rss_before = result.rss_peak = rss_bytes()

    def sample() -> None:
        result.rss_peak = max(result.rss_peak, rss_bytes())

    sampler = LoopingCall(sample)
    sampler.clock = reactor
    sampler.start(0.25)
    started = time.perf_counter()
    gate = DeferredSemaphore(connecting)
    attempts = [gate.run(connect, reactor, host, port) for _ in range(clients)]
    made = await DeferredList(attempts, consumeErrors=True)
    ready: list[Client] = []
    for ok, value in made:
        if ok:
            ready.append(value)
        else:
            result.count_error(cast(Failure, value).value)
    result.connected = len(ready)
    streams: list[Deferred[None]] = [
        ensureDeferred(
            echo_stream(
                client,
                result,
                number=number,
                messages=per_client,
                size=size,
                window=window,
                timeout=120,
            )
        )
        for number, client in enumerate(ready)
    ]
    await DeferredList(streams, consumeErrors=True)
    result.seconds = time.perf_counter() - started
    sampler.stop()
    sample()
    result.rss_after = rss_bytes()
    return result
