"""What a run measures: scenarios, their parameters, the targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CLIENT_ORDER",
    "FULL",
    "LOWER_IS_BETTER",
    "METRICS",
    "QUICK",
    "SCENARIOS",
    "TARGETS",
    "TINY",
    "Plan",
    "Target",
]

CLIENT_ORDER = [
    "raw",
    "thread",
    "compat",
    "twisted-qt",
    "twisted-qt5reactor",
    "twisted-epoll",
    "asyncio",
    "qtcpsocket",
]
"""Every client kind, in the order tables show them; ``thread`` is the baseline."""

SCENARIOS = ["rr", "bulk", "scale", "gui", "idle", "shutdown", "parse"]
"""Every scenario ``--only`` accepts, besides ``soak`` (`benchmarks.soak`)."""

METRICS: dict[str, list[str]] = {
    "rr": ["round_trips_per_s", "p50_us", "p99_us"],
    "bulk": ["mb_per_s"],
    "scale": ["wall_s", "peak_threads", "peak_rss_mib", "errors"],
    "gui": ["p50_gap_ms", "p99_gap_ms", "max_gap_ms", "mb_per_s"],
    "idle": ["cpu_ms", "wakeups_per_s"],
    "shutdown": ["join_ms", "still_alive"],
    "parse": ["seconds", "mb_per_s"],
}
"""The metrics of each scenario: the names the JSON uses."""

LOWER_IS_BETTER = {
    "p50_us",
    "p99_us",
    "wall_s",
    "peak_threads",
    "peak_rss_mib",
    "errors",
    "p50_gap_ms",
    "p99_gap_ms",
    "max_gap_ms",
    "cpu_ms",
    "wakeups_per_s",
    "join_ms",
    "still_alive",
    "seconds",
}


@dataclass(frozen=True)
class Plan:
    """The knobs of one run; `FULL` and `QUICK` are the two presets."""

    name: str
    repeats: int
    rr_sizes: tuple[int, ...] = (16, 1024, 65536)
    rr_seconds: float = 1.5
    rr_warmup: int = 300
    bulk_size: int = 64 * 1024 * 1024
    scale_clients: tuple[int, ...] = (10, 100, 1000)
    scale_round_trips: int = 20
    gui_sizes: tuple[int, ...] = (64 * 1024, 16, 1)
    gui_seconds: float = 4.0
    gui_interval_ms: int = 16
    gui_window: int = 8
    idle_seconds: float = 10.0
    shutdown_bound: float = 2.0
    parse_size: int = 64 * 1024 * 1024
    parse_stock_budget: float = 4.0
    worker_timeout: float = 240.0
    extra: dict[str, Any] = field(default_factory=dict)

    def settings(self) -> dict[str, Any]:
        """Everything that is not a contract parameter, for the JSON."""
        return {
            "preset": self.name,
            "repeats": self.repeats,
            "rr_seconds_per_size": self.rr_seconds,
            "rr_warmup_round_trips": self.rr_warmup,
            "scale_round_trips": self.scale_round_trips,
            "gui_seconds": self.gui_seconds,
            "gui_interval_ms": self.gui_interval_ms,
            "gui_messages_in_flight": self.gui_window,
            "idle_seconds": self.idle_seconds,
            "shutdown_bound_s": self.shutdown_bound,
            "parse_chunk_bytes": 65536,
            "parse_stock_budget_s": self.parse_stock_budget,
        }


FULL = Plan(name="full", repeats=5)
QUICK = Plan(
    name="quick",
    repeats=3,
    rr_seconds=0.25,
    rr_warmup=100,
    scale_clients=(10, 1000),
    gui_seconds=1.0,
    idle_seconds=2.0,
    shutdown_bound=1.0,
    parse_size=16 * 1024 * 1024,
    parse_stock_budget=1.0,
    worker_timeout=90.0,
)
TINY = Plan(
    name="tiny",
    repeats=1,
    rr_seconds=0.02,
    rr_warmup=5,
    bulk_size=1024 * 1024,
    scale_clients=(3,),
    scale_round_trips=2,
    gui_seconds=0.2,
    idle_seconds=0.2,
    shutdown_bound=0.5,
    parse_size=2 * 1024 * 1024,
    parse_stock_budget=0.2,
    worker_timeout=60.0,
)
"""Seconds-long smoke preset for the harness's own test: the numbers mean nothing."""


@dataclass(frozen=True)
class Target:
    """A goal from the issue: ``client``'s metric against a bound or another client."""

    label: str
    scenario: str
    params: dict[str, int]
    metric: str
    client: str
    op: str  # ">=" or "<="
    factor: float
    reference: str | None = None  # another client, or None: ``factor`` is absolute

    def describe(self) -> str:
        """The goal in words."""
        if self.reference is None:
            return f"{self.client} {self.metric} {self.op} {self.factor:g}"
        return f"{self.client} {self.op} {self.factor:g}x {self.reference}"


TARGETS = [
    Target("compat rr 16 B vs thread", "rr", {"size": 16}, "round_trips_per_s",
           "compat", ">=", 1.0, "thread"),
    Target("compat rr 64 KiB vs thread", "rr", {"size": 65536}, "round_trips_per_s",
           "compat", ">=", 1.0, "thread"),
    Target("rr 16 B vs qtcpsocket", "rr", {"size": 16}, "round_trips_per_s",
           "twisted-qt", ">=", 1.0, "qtcpsocket"),
    Target("rr 16 B vs asyncio", "rr", {"size": 16}, "round_trips_per_s",
           "twisted-qt", ">=", 1.0, "asyncio"),
    Target("rr 64 KiB vs thread", "rr", {"size": 65536}, "round_trips_per_s",
           "twisted-qt", ">=", 1.0, "thread"),
    Target("rr 16 B vs epoll", "rr", {"size": 16}, "round_trips_per_s",
           "twisted-qt", ">=", 0.85, "twisted-epoll"),
    Target("bulk 64 MiB vs raw", "bulk", {"size": 64 * 1024 * 1024}, "mb_per_s",
           "twisted-qt", ">=", 0.6, "raw"),
    Target("1000 clients vs thread", "scale", {"clients": 1000}, "wall_s",
           "twisted-qt", "<=", 1 / 1.5, "thread"),
    Target("GUI timer p99 gap", "gui", {"size": 64 * 1024}, "p99_gap_ms",
           "twisted-qt", "<=", 17.0),
    Target("GUI timer p99 gap (compat)", "gui", {"size": 64 * 1024}, "p99_gap_ms",
           "compat", "<=", 17.0),
    Target("idle wakeups", "idle", {}, "wakeups_per_s", "twisted-qt", "<=", 0.0),
    Target("idle wakeups (compat)", "idle", {}, "wakeups_per_s", "compat", "<=", 0.0),
    Target("close with receive pending", "shutdown", {}, "join_ms",
           "twisted-qt", "<=", 5.0),
    Target("join with RECEIVE pending", "shutdown", {}, "join_ms",
           "compat", "<=", 5.0),
]  # fmt: skip
"""The targets of issue 13, checked against the medians of one run."""
