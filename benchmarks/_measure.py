"""Small measuring helpers shared by the client modules and the runner."""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Sequence, Sized

__all__ = [
    "BULK_TIMEOUT",
    "ProcessCounters",
    "RoundTrips",
    "bulk_metrics",
    "gap_metrics",
    "now_ns",
    "peak_rss_mib",
    "percentile",
    "rr_metrics",
    "scale_metrics",
    "threads_of",
]

BULK_TIMEOUT = 120.0
"""Seconds any single wait in a worker may take before it counts as an error."""


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, nearest-rank on sorted data."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return float(ordered[rank])


def rr_metrics(samples_ns: Sequence[int], elapsed_ns: int) -> dict[str, float]:
    """Round trips per second and the p50/p99 latency in microseconds."""
    count = len(samples_ns)
    return {
        "round_trips_per_s": count / (elapsed_ns / 1e9) if elapsed_ns else math.nan,
        "p50_us": percentile(samples_ns, 50) / 1e3,
        "p99_us": percentile(samples_ns, 99) / 1e3,
    }


class RoundTrips:
    """
    Times request/reply round trips of ``size`` bytes for ``duration`` seconds.

    Call `begin` before each request and `done` with the reply: it records
    the round trip, raises `AssertionError` if the echo has the wrong length,
    and says whether the time is up. `metrics` gives `rr_metrics` of them.
    """

    def __init__(self, size: int, duration: float) -> None:
        self.size = size
        self.samples: list[int] = []
        self.start = self._begin = self._end = now_ns()
        self._deadline = self.start + int(duration * 1e9)

    def begin(self) -> None:
        """A request is about to go out."""
        self._begin = now_ns()

    def done(self, reply: Sized) -> bool:
        """Its reply came: record the round trip; True once the time is up."""
        self._end = now_ns()
        if len(reply) != self.size:
            raise AssertionError("wrong echo")
        self.samples.append(self._end - self._begin)
        return self._end >= self._deadline

    def metrics(self) -> dict[str, float]:
        """Round trips per second and latency percentiles of the run."""
        return rr_metrics(self.samples, self._end - self.start)


def bulk_metrics(size: int, received: int, elapsed_ns: int) -> dict[str, float]:
    """Megabytes per second of one ``size``-byte echo; `AssertionError` if short."""
    if received != size:
        raise AssertionError("wrong echo")
    return {"mb_per_s": size / 1e6 / (elapsed_ns / 1e9)}


def scale_metrics(wall_s: float, errors: int) -> dict[str, float]:
    """The scale scenario's figures: wall time, errors, this process's peaks."""
    return {
        "wall_s": wall_s,
        "peak_threads": threads_of(),
        "peak_rss_mib": peak_rss_mib(),
        "errors": errors,
    }


def gap_metrics(ticks: Sequence[float]) -> dict[str, float]:
    """The gaps between successive timer ticks (seconds in), in milliseconds."""
    gaps = [(b - a) * 1e3 for a, b in itertools.pairwise(ticks)]
    return {
        "p50_gap_ms": percentile(gaps, 50),
        "p99_gap_ms": percentile(gaps, 99),
        "max_gap_ms": max(gaps) if gaps else math.nan,
    }


def peak_rss_mib() -> float:
    """This process's peak resident set size (VmHWM) in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return math.nan


def threads_of(pid: int | str = "self") -> int:
    """How many threads process ``pid`` has now (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class ProcessCounters:
    """CPU time and context switches of every thread of a process, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def read(self) -> tuple[float, int]:
        """(CPU nanoseconds, context switches) summed over the threads alive now."""
        cpu_ns = 0
        switches = 0
        task_dir = f"/proc/{self.pid}/task"
        for tid in os.listdir(task_dir):
            try:
                with open(f"{task_dir}/{tid}/schedstat") as stat:
                    cpu_ns += int(stat.read().split()[0])
                with open(f"{task_dir}/{tid}/status") as status:
                    for line in status:
                        if "ctxt_switches:" in line:
                            switches += int(line.split()[1])
            except OSError:
                continue
        return cpu_ns, switches


def now_ns() -> int:
    """A monotonic clock in nanoseconds."""
    return time.perf_counter_ns()
