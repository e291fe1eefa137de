"""
Run the whole test suite: every reactor pass, then the linters.

    python -m tests            # everything, as CI does
    python -m tests --fast     # the pytest passes only, no linters
    python -m tests -- -k send # extra arguments go to every pytest pass

One reactor per process, so each pass is its own pytest process. The last
line sums them up as ``N passed, N failed, N skipped``; the exit status is
non-zero when any pass or linter failed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PASSES: list[tuple[str, list[str]]] = [
    ("qt5reactor", ["--reactor=qt5reactor"]),
    ("qt reactor", ["--reactor=default", "--qt-reactor=qt"]),
    (
        "plain reactor, no Qt",
        # pytest-qt imports a binding when it starts: not in this pass.
        [
            "--reactor=default",
            "--qt-reactor=none",
            "-m",
            "not qt",
            "-p",
            "no:pytest-qt",
        ],
    ),
]

LINTERS: list[tuple[str, list[str]]] = [
    ("ruff check", [sys.executable, "-m", "ruff", "check", "."]),
    ("ruff format", [sys.executable, "-m", "ruff", "format", "--check", "."]),
    ("mypy", [sys.executable, "-m", "mypy"]),
]

_COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")


def _tally(output: str) -> dict[str, int]:
    """The counts from pytest's closing summary line."""
    counts: dict[str, int] = {}
    lines = [line for line in output.splitlines() if line.startswith("=")]
    for number, word in _COUNT.findall(lines[-1] if lines else ""):
        key = "error" if word.startswith("error") else word
        counts[key] = counts.get(key, 0) + int(number)
    return counts


def _run(command: list[str]) -> tuple[int, str]:
    """Run ``command`` from the repository root, echoing its output as it comes."""
    env = dict(
        os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen")
    )
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        seen.append(line)
    return process.wait(), "".join(seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--fast", action="store_true", help="skip the linters")
    parser.add_argument("pytest_args", nargs="*", help="passed on to every pytest pass")
    args = parser.parse_args(argv)
    totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    failures: list[str] = []
    for name, options in PASSES:
        print(f"\n##### pytest pass: {name}", flush=True)
        started = time.monotonic()
        status, output = _run(
            [sys.executable, "-m", "pytest", *options, *args.pytest_args]
        )
        counts = _tally(output)
        for key in totals:
            totals[key] += counts.get(key, 0)
        print(
            f"##### {name}: exit {status} in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        if status != 0:
            failures.append(f"pytest pass '{name}' (exit {status})")
    if not args.fast:
        for name, command in LINTERS:
            print(f"\n##### {name}", flush=True)
            status, _ = _run(command)
            if status != 0:
                failures.append(f"{name} (exit {status})")
    print()
    for failure in failures:
        print(f"FAILED: {failure}")
    failed = totals["failed"] + totals["error"]
    if failures and not failed:
        failed = len(failures)
    print(f"{totals['passed']} passed, {failed} failed, {totals['skipped']} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
