"""
Load and soak, scaled down for the test suite: many concurrent clients, many
messages, nothing lost or reordered. The full sizes (1000 clients x 1000
messages; a million messages through one client) are run by
``python -m benchmarks.soak``, whose checking code these tests exercise.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from benchmarks.soak import Sample, load, memory_growth, soak

from .helpers import run_python

ROOT = Path(__file__).resolve().parent.parent


@pytest_twisted.ensureDeferred
async def test_200_concurrent_clients_lose_and_reorder_nothing(
    reactor: Any, echo_port: int
) -> None:
    """
    200 clients connected at once, 100 messages each (8 in flight per client)
    through the demo server: all 20,000 echoes come back to the right client,
    in order; no error.
    """
    result = await load(
        reactor, "127.0.0.1", echo_port, clients=200, per_client=100, window=8
    )
    assert result.connected == 200
    assert result.sent == result.received == 20_000
    assert result.lost == 0
    assert result.reordered == 0
    assert not result.errors


@pytest_twisted.ensureDeferred
async def test_soak_through_one_client_loses_nothing(
    reactor: Any, echo_port: int
) -> None:
    """30,000 messages with 64 in flight through one client: every echo, in order."""
    result = await soak(reactor, "127.0.0.1", echo_port, messages=30_000, samples=6)
    assert result.received == result.sent == 30_000
    assert result.reordered == 0
    assert not result.errors
    assert [s.messages for s in result.samples] == [0, *range(5000, 30_001, 5000)]


@pytest.mark.reactorless
def test_memory_growth_ignores_warm_up_and_sees_a_leak() -> None:
    """Growth is measured after the first tenth of the run; a steady climb shows."""
    warm_up = [Sample(0, 0.0, 10, 0), Sample(50, 0.0, 900, 0)]  # before 10 %
    flat = warm_up + [Sample(n * 100, 0.0, 1000, 0) for n in range(1, 11)]
    assert memory_growth(flat) == (0, 0)
    climbing = [Sample(n * 100, 0.0, 1000 * n, 7 * n) for n in range(11)]
    assert memory_growth(climbing) == (9000, 9000)
    assert memory_growth(climbing, field="blocks") == (63, 63)


def run_program(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks.soak ARGS`` with a timeout, so a hang fails the test."""
    return run_python(
        "-m",
        "benchmarks.soak",
        *args,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        timeout=120,
    )


def test_the_soak_program_reports_flat_memory_and_passes(tmp_path: Path) -> None:
    """The soak program runs against the demo server process and says PASS."""
    out = tmp_path / "soak.json"
    done = run_program("--messages", "20000", "--samples", "4", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lost 0, reordered 0, errors 0" in done.stdout
    assert done.stdout.rstrip().endswith("PASS")
    data = json.loads(out.read_text())
    assert data["passed"] is True
    assert data["received"] == 20_000
    assert len(data["samples"]) == 5


def test_the_load_program_passes(tmp_path: Path) -> None:
    """The load program connects every client and loses nothing."""
    done = run_program("--load", "--clients", "50", "--per-client", "40")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "connected 50/50" in done.stdout
    assert "received 2,000 of 2,000; lost 0, reordered 0, errors 0" in done.stdout
