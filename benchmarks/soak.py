"""
Soak and load: long runs that check nothing is lost and memory stays flat.

    python -m benchmarks.soak                     # 1,000,000 messages, one client
    python -m benchmarks.soak --messages 200000 --plot soak.png --json soak.json
    python -m benchmarks.soak --load              # 1000 clients x 1000 messages
    python -m benchmarks.soak --load --clients 200 --per-client 500

Both talk to the demo server (``python -m twisted_client.server``) in a
process of its own, so the memory sampled here is the client's alone. Every
message carries its client number and sequence number; each echo is checked
against what was sent, so a lost, duplicated or reordered message is
counted, never missed. The soak keeps ``--window`` requests in flight and
samples this process's resident memory (RSS) as it goes; the report shows it
after warm-up (the first tenth of the run) and fails when it grew more than
``--max-growth`` MiB. The exit status is 0 only when nothing was lost or
reordered, no error happened and memory stayed flat.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twisted.internet.defer import (
    Deferred,
    DeferredList,
    DeferredSemaphore,
    ensureDeferred,
)
from twisted.internet.task import LoopingCall

from twisted_client import Client, ClientError, connect

__all__ = [
    "LoadResult",
    "Sample",
    "SoakResult",
    "load",
    "main",
    "memory_growth",
    "soak",
    "start_demo_server",
]

MiB = 1024 * 1024
_TAG = struct.Struct("<IQ")  # client number, sequence number


def rss_bytes() -> int:
    """This process's resident set size."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _message(client: int, sequence: int, size: int) -> bytes:
    tag = _TAG.pack(client, sequence)
    return tag + b"." * max(0, size - len(tag))


def start_demo_server() -> tuple[subprocess.Popen[str], int]:
    """Start ``python -m twisted_client.server --port 0``; return it and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "twisted_client.server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"the demo server did not start: {line!r}")
    return process, int(line.rsplit(":", 1)[1])


# -- soak: one client, many messages ------------------------------------------


@dataclasses.dataclass
class Sample:
    """Memory at one point of the soak."""

    messages: int
    seconds: float
    rss: int
    blocks: int  # Python heap blocks in use: a per-message leak shows here first


@dataclasses.dataclass(kw_only=True)
class Tally:
    """What every echo run counts: sent, received, out of order, errors."""

    sent: int = 0
    received: int = 0
    reordered: int = 0
    errors: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        """Messages sent whose echo never came back."""
        return self.sent - self.received

    @property
    def clean(self) -> bool:
        """Nothing lost, nothing reordered, no error."""
        return self.lost == 0 and self.reordered == 0 and not self.errors

    @property
    def rate(self) -> float:
        """Echoes received per second."""
        return self.received / self.seconds if self.seconds else 0.0

    def counts(self) -> str:
        """``lost N, reordered N, errors N`` and the errors by kind, if any."""
        return (
            f"lost {self.lost}, reordered {self.reordered}, "
            f"errors {sum(self.errors.values())}"
            + (f" {dict(self.errors)}" if self.errors else "")
        )


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
    result.samples.append(Sample(0, 0.0, rss_bytes(), sys.getallocatedblocks()))
    client = await connect(reactor, host, port)

    def failed(failure: Any) -> None:
        result.errors[type(failure.value).__name__] += 1

    def send_next() -> None:
        client.send(_message(0, result.sent, size)).addErrback(failed)
        result.sent += 1

    for _ in range(min(window, messages)):
        send_next()
    try:
        while result.received < messages:
            echo = await client.receive(timeout=60)
            _, sequence = _TAG.unpack_from(echo)
            if sequence != result.received or len(echo) != max(size, _TAG.size):
                result.reordered += 1
            result.received += 1
            if result.sent < messages:
                send_next()
            if result.received % every == 0:
                elapsed = time.perf_counter() - started
                result.samples.append(
                    Sample(
                        result.received, elapsed, rss_bytes(), sys.getallocatedblocks()
                    )
                )
    except ClientError as error:
        result.errors[type(error).__name__] += 1
    result.seconds = time.perf_counter() - started
    await client.close()
    return result


def memory_growth(
    samples: Sequence[Sample], warmup: float = 0.1, field: str = "rss"
) -> tuple[int, int]:
    """
    ``field`` (``rss`` or ``blocks``) after warm-up: (growth from the first
    sample after warm-up to the last, highest minus lowest). Warm-up is the
    first ``warmup`` of the messages.
    """
    total = samples[-1].messages if samples else 0
    after = [s for s in samples if s.messages >= warmup * total and s.messages > 0]
    if len(after) < 2:
        return 0, 0
    values = [getattr(s, field) for s in after]
    return values[-1] - values[0], max(values) - min(values)


def report_soak(result: SoakResult, max_growth: float) -> tuple[str, bool]:
    """The soak's table and verdict; True when it passed."""
    lines = [
        f"soak: {result.messages:,} messages of {result.size} bytes through one "
        f"client, {result.window} in flight, demo server in its own process",
        "",
        f"{'messages':>11} {'seconds':>8} {'msg/s':>9} {'RSS MiB':>8} "
        f"{'vs warm':>8} {'py blocks':>10}",
    ]
    growth, spread = memory_growth(result.samples)
    blocks, _ = memory_growth(result.samples, field="blocks")
    block_limit = max(10_000, result.messages // 100)
    warm_rss = next(
        (s.rss for s in result.samples if s.messages >= 0.1 * result.messages),
        result.samples[0].rss,
    )
    previous: Sample | None = None
    for sample in result.samples:
        rate = ""
        if previous is not None and sample.seconds > previous.seconds:
            per_second = (sample.messages - previous.messages) / (
                sample.seconds - previous.seconds
            )
            rate = f"{per_second:,.0f}"
        versus = (
            f"{(sample.rss - warm_rss) / MiB:+.1f}"
            if sample.messages >= 0.1 * result.messages and sample.messages
            else "warm-up"
        )
        lines.append(
            f"{sample.messages:>11,} {sample.seconds:>8.1f} {rate:>9} "
            f"{sample.rss / MiB:>8.1f} {versus:>8} {sample.blocks:>10,}"
        )
        previous = sample
    flat = (
        growth <= max_growth * MiB
        and spread <= max_growth * MiB
        and blocks <= block_limit
    )
    clean = result.clean
    lines += [
        "",
        f"sent {result.sent:,}, received {result.received:,}, {result.counts()}",
        f"{result.seconds:.1f} s, {result.rate:,.0f} messages/s, "
        f"{result.received * (result.size + 4) * 2 / MiB:,.0f} MiB on the wire",
        f"memory after warm-up: grew {growth / MiB:+.2f} MiB, spread "
        f"{spread / MiB:.2f} MiB (limit {max_growth:g} MiB); Python heap blocks "
        f"{blocks:+,} (limit {block_limit:,}): " + ("flat" if flat else "NOT FLAT"),
        "PASS" if flat and clean else "FAIL",
    ]
    return "\n".join(lines), flat and clean


def plot_soak(result: SoakResult, path: str) -> str:
    """Draw RSS against messages to ``path``; the reason if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no plot: matplotlib is not installed (pip install '.[plot]')"
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.plot(
        [s.messages for s in result.samples],
        [s.rss / MiB for s in result.samples],
        marker="o",
    )
    axes.set_xlabel("messages echoed")
    axes.set_ylabel("client RSS (MiB)")
    axes.set_title("soak: client memory over a run")
    axes.set_ylim(0, max(s.rss for s in result.samples) / MiB * 1.25)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return f"plot written to {path}"


# -- load: many clients at once -----------------------------------------------


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

    def failed(failure: Any) -> None:
        result.errors[type(failure.value).__name__] += 1

    attempts = [gate.run(connect, reactor, host, port) for _ in range(clients)]
    made = await DeferredList(attempts, consumeErrors=True)
    ready: list[Client] = []
    for ok, value in made:
        if ok:
            ready.append(value)
        else:
            failed(value)
    result.connected = len(ready)

    async def stream(number: int, client: Client) -> None:
        sent = 0

        def send_next() -> None:
            nonlocal sent
            client.send(_message(number, sent, size)).addErrback(failed)
            sent += 1
            result.sent += 1

        for _ in range(min(window, per_client)):
            send_next()
        expected = 0
        try:
            while expected < per_client:
                echo = await client.receive(timeout=120)
                owner, sequence = _TAG.unpack_from(echo)
                if owner != number or sequence != expected:
                    result.reordered += 1
                expected += 1
                result.received += 1
                if sent < per_client:
                    send_next()
        except ClientError as error:
            result.errors[type(error).__name__] += 1
        await client.close()

    streams: list[Deferred[None]] = [
        ensureDeferred(stream(number, client)) for number, client in enumerate(ready)
    ]
    await DeferredList(streams, consumeErrors=True)
    result.seconds = time.perf_counter() - started
    sampler.stop()
    sample()
    result.rss_after = rss_bytes()
    return result


def report_load(result: LoadResult) -> tuple[str, bool]:
    """The load run's summary; True when it passed."""
    expected = result.clients * result.per_client
    clean = (
        result.connected == result.clients
        and result.received == expected
        and result.clean
    )
    lines = [
        f"load: {result.clients:,} concurrent clients x {result.per_client:,} "
        f"messages of {result.size} bytes, demo server in its own process",
        f"connected {result.connected:,}/{result.clients:,}; sent {result.sent:,}, "
        f"received {result.received:,} of {expected:,}; {result.counts()}",
        f"{result.seconds:.1f} s, {result.rate:,.0f} messages/s; client RSS "
        f"{result.rss_before / MiB:.1f} MiB before, peak {result.rss_peak / MiB:.1f},"
        f" {result.rss_after / MiB:.1f} after",
        "PASS" if clean else "FAIL",
    ]
    return "\n".join(lines), clean


# -- the program ----------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description="Soak (one client, many messages, memory sampled) or load "
        "(many concurrent clients) against the demo server.",
    )
    parser.add_argument("--load", action="store_true", help="run the load test")
    parser.add_argument("--messages", type=int, default=1_000_000, help="soak size")
    parser.add_argument("--size", type=int, default=None, help="message bytes")
    parser.add_argument("--window", type=int, default=None, help="requests in flight")
    parser.add_argument("--samples", type=int, default=20, help="memory samples")
    parser.add_argument(
        "--max-growth",
        type=float,
        default=8.0,
        metavar="MIB",
        help="RSS growth after warm-up that fails the soak (default 8)",
    )
    parser.add_argument("--clients", type=int, default=1000, help="load: clients")
    parser.add_argument(
        "--per-client", type=int, default=1000, help="load: messages per client"
    )
    from twisted_client.qt import REACTOR_KINDS

    parser.add_argument(
        "--reactor",
        choices=["default", *REACTOR_KINDS],
        default="default",
        help="the reactor to run the client on (qt ones run inside a QApplication, "
        "on the binding QT_API names, else the first installed)",
    )
    parser.add_argument("--plot", metavar="PATH", help="soak: draw RSS to a PNG")
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON")
    args = parser.parse_args(argv)
    for name in ("messages", "samples", "clients", "per_client"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak or the load test and print the report; 0 when it passed."""
    args = _parse_args(argv)
    if args.reactor != "default":
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from twisted_client import ClientError
        from twisted_client.qt import binding, install_reactor

        try:
            installed = install_reactor(args.reactor)
        except ClientError as error:  # no such binding; qt5reactor on Qt 6
            print(f"python -m benchmarks.soak: {error}", file=sys.stderr)
            return 2
        print(f"reactor: {type(installed).__name__} on {binding().describe()}")
    from twisted.internet import reactor

    server, port = start_demo_server()
    outcome: dict[str, Any] = {}

    async def run() -> None:
        try:
            if args.load:
                outcome["load"] = await load(
                    reactor,
                    "127.0.0.1",
                    port,
                    clients=args.clients,
                    per_client=args.per_client,
                    size=args.size or 32,
                    window=args.window or 8,
                )
            else:
                outcome["soak"] = await soak(
                    reactor,
                    "127.0.0.1",
                    port,
                    messages=args.messages,
                    size=args.size or 64,
                    window=args.window or 64,
                    samples=args.samples,
                )
        finally:
            reactor.stop()

    def broken(failure: Any) -> None:
        outcome["broken"] = failure.getTraceback()

    try:
        reactor.callWhenRunning(lambda: ensureDeferred(run()).addErrback(broken))
        reactor.run()
    finally:
        server.kill()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    if "broken" in outcome:
        print(outcome["broken"], file=sys.stderr)
        return 2
    if args.load:
        text, passed = report_load(outcome["load"])
    else:
        text, passed = report_soak(outcome["soak"], args.max_growth)
        if args.plot:
            text += "\n" + plot_soak(outcome["soak"], args.plot)
    print(text, flush=True)
    if args.json:
        data = dataclasses.asdict(outcome.get("load") or outcome["soak"])
        data["lost"] = (outcome.get("load") or outcome["soak"]).lost
        data["passed"] = passed
        Path(args.json).write_text(json.dumps(data, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
