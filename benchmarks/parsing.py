"""
Receiving one large message: our linear-time parser against Twisted's stock one.

Both parse the same bytes, in the same 64 KiB chunks (what a reactor reads at
a time), in this process, with no socket: ``LengthPrefixedProtocol`` from
`twisted_client`, and Twisted's ``IntNStringReceiver`` set up for the same
4-byte little-endian prefix (what ``Int32StringReceiver`` is, apart from the
byte order). The stock one copies its whole buffer for every chunk, so its
time grows with the square of the size: it is measured at growing sizes until
one run exceeds a time budget, and the report says where it stopped.

    python -m benchmarks.parsing            # 64 MiB, stock up to a 4 s budget
    python -m benchmarks.parsing --size 16  # in MiB
"""

from __future__ import annotations

import argparse
import gc
import json
import struct
import time
from collections.abc import Sequence
from typing import Any

from twisted.protocols.basic import IntNStringReceiver

from twisted_client import LengthPrefixedProtocol

from ._args import count, finite

__all__ = ["CHUNK", "main", "measure", "time_parse"]

CHUNK = 64 * 1024
"""Bytes per ``dataReceived`` call."""

MIB = 1024 * 1024


class _Core(LengthPrefixedProtocol):
    def __init__(self, max_length: int) -> None:
        super().__init__(max_length)
        self.got: list[int] = []

    def message_received(self, message: bytes) -> None:
        self.got.append(len(message))


class _Stock(IntNStringReceiver):
    structFormat = "<L"
    prefixLength = struct.calcsize(structFormat)

    def __init__(self, max_length: int) -> None:
        self.MAX_LENGTH = max_length
        self.got: list[int] = []

    def stringReceived(self, string: bytes) -> None:
        self.got.append(len(string))


def _chunks(size: int) -> list[bytes]:
    wire = struct.pack("<L", size) + b"x" * size
    return [wire[i : i + CHUNK] for i in range(0, len(wire), CHUNK)]


def time_parse(kind: str, size: int) -> float:
    """Seconds ``kind`` ("core" or "stock") takes to parse one ``size``-byte message."""
    chunks = _chunks(size)
    receiver: Any = _Core(size) if kind == "core" else _Stock(size)
    feed = receiver.dataReceived
    gc.collect()
    start = time.perf_counter()
    for chunk in chunks:
        feed(chunk)
    elapsed = time.perf_counter() - start
    if receiver.got != [size]:
        raise AssertionError(f"{kind} parsed {receiver.got}, not [{size}]")
    return elapsed


def measure(
    size: int, stock_budget: float, repeats: int = 3
) -> list[tuple[str, int, list[float]]]:
    """
    (kind, size, seconds of each repeat) for both parsers.

    The core parses ``size`` bytes ``repeats`` times. The stock parser runs
    once per size, doubling from 1 MiB up to ``size``, and stops after the
    first size that took longer than ``stock_budget`` seconds.
    """
    results: list[tuple[str, int, list[float]]] = []
    sizes = []
    step = MIB
    while step < size:
        sizes.append(step)
        step *= 2
    sizes.append(size)
    for each in sizes:
        results.append(
            ("core", each, [time_parse("core", each) for _ in range(repeats)])
        )
    for each in sizes:
        seconds = time_parse("stock", each)
        results.append(("stock", each, [seconds]))
        if seconds > stock_budget:
            break
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Print how long each parser takes for each size."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.parsing")
    parser.add_argument("--size", type=count(), default=64, help="message size in MiB")
    parser.add_argument(
        "--budget",
        type=finite(minimum=0.001),
        default=4.0,
        help="stop the stock parser after a run this long (s)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)
    if args.json:
        print(json.dumps(measure(args.size * MIB, args.budget)))
        return 0
    print(f"one message in {CHUNK // 1024} KiB chunks, parsed in-process")
    print(f"{'parser':<8} {'size':>8} {'seconds':>9} {'MB/s':>9}")
    for kind, size, runs in measure(args.size * MIB, args.budget):
        best = sorted(runs)[len(runs) // 2]
        print(f"{kind:<8} {size // MIB:>5} MiB {best:>9.3f} {size / 1e6 / best:>9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
