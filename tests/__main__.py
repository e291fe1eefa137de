"""
Run the whole test suite: every reactor pass on every Qt binding, then the
linters and the API reference's build (Sphinx, warnings as errors).

    python -m tests            # everything, as CI does
    python -m tests --fast     # the pytest passes only, no linters or docs
    python -m tests -- -k send # extra arguments go to every pytest pass

One reactor and one Qt binding per process, so each pass is its own pytest
process, with ``QT_API`` set in its environment (the binding seam reads it,
and every subprocess a test starts inherits it). On PyQt5: qt5reactor,
QtEPollReactor, QtNotifierReactor, and the plain reactor with no Qt; on
PySide6 and on PyQt6: QtEPollReactor and QtNotifierReactor. The summary
gives each pass's counts and time, then the total as
``N passed, N failed, N skipped``; the exit status is non-zero when any pass
or linter failed.
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

_QT = ["--reactor=default", "--qt-reactor=qt"]
_NOTIFIER = ["--reactor=default", "--qt-reactor=notifier"]

#: (name, QT_API, pytest options) of every pass.
PASSES: list[tuple[str, str, list[str]]] = [
    ("qt5reactor on PyQt5", "pyqt5", ["--reactor=qt5reactor"]),
    ("qt reactor on PyQt5", "pyqt5", _QT),
    ("notifier reactor on PyQt5", "pyqt5", _NOTIFIER),
    ("qt reactor on PySide6", "pyside6", _QT),
    ("notifier reactor on PySide6", "pyside6", _NOTIFIER),
    ("qt reactor on PyQt6", "pyqt6", _QT),
    ("notifier reactor on PyQt6", "pyqt6", _NOTIFIER),
    (
        "plain reactor, no Qt",
        "pyqt5",  # for the Qt programs its subprocess tests start
        ["--reactor=default", "--qt-reactor=none", "-m", "not qt"],
    ),
]

#: Nitpicky, warnings as errors, from a fresh environment (about 5 s).
DOCS_OPTIONS = ["-W", "--keep-going", "-n", "-E", "-q", "-b", "html"]

LINTERS: list[tuple[str, list[str]]] = [
    ("ruff check", [sys.executable, "-m", "ruff", "check", "."]),
    ("ruff format", [sys.executable, "-m", "ruff", "format", "--check", "."]),
    ("mypy", [sys.executable, "-m", "mypy"]),
    # The API reference (docs/): any Sphinx warning fails the run.
    (
        "docs",
        [sys.executable, "-m", "sphinx", *DOCS_OPTIONS, "docs", "docs/_build/html"],
    ),
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


def _counts_text(counts: dict[str, int]) -> str:
    """``N passed, N failed, N skipped`` for one pass."""
    failed = counts.get("failed", 0) + counts.get("error", 0)
    passed, skipped = counts.get("passed", 0), counts.get("skipped", 0)
    return f"{passed} passed, {failed} failed, {skipped} skipped"


def _run(command: list[str], qt_api: str | None = None) -> tuple[int, str]:
    """Run ``command`` from the repository root, echoing its output as it comes."""
    env = dict(
        os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen")
    )
    if qt_api is not None:
        env["QT_API"] = qt_api
        env["PYTEST_QT_API"] = qt_api  # pytest-qt: the same binding
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
    parser.add_argument(
        "--fast", action="store_true", help="skip the linters and the docs build"
    )
    parser.add_argument("pytest_args", nargs="*", help="passed on to every pytest pass")
    args = parser.parse_args(argv)
    totals = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
    failures: list[str] = []
    summaries: list[str] = []
    began = time.monotonic()
    for name, qt_api, options in PASSES:
        print(f"\n##### pytest pass: {name} (QT_API={qt_api})", flush=True)
        started = time.monotonic()
        status, output = _run(
            [sys.executable, "-m", "pytest", *options, *args.pytest_args], qt_api
        )
        counts = _tally(output)
        for key in totals:
            totals[key] += counts.get(key, 0)
        took = time.monotonic() - started
        print(f"##### {name}: exit {status} in {took:.0f} s", flush=True)
        outcome = _counts_text(counts) if counts else f"no counts (exit {status})"
        summaries.append(f"{name}: {outcome} in {took:.0f} s")
        if status != 0:
            failures.append(f"pytest pass '{name}' (exit {status})")
    if not args.fast:
        for name, command in LINTERS:
            print(f"\n##### {name}", flush=True)
            status, _ = _run(command)
            if status != 0:
                failures.append(f"{name} (exit {status})")
    print()
    for summary in summaries:
        print(summary)
    print(f"all passes and linters: {time.monotonic() - began:.0f} s")
    for failure in failures:
        print(f"FAILED: {failure}")
    failed = totals["failed"] + totals["error"]
    if failures and not failed:
        failed = len(failures)
    print(f"{totals['passed']} passed, {failed} failed, {totals['skipped']} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
