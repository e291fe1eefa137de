"""
The benchmark harness: the report's arithmetic and the JSON contract's shape.

No timing is asserted anywhere: the numbers of a benchmark belong to its
report. The end-to-end test runs the real program with its seconds-long
``--tiny`` preset in a subprocess (bounded by a timeout) and checks the
document it writes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from benchmarks._args import count, finite
from benchmarks._plan import CLIENT_ORDER, METRICS, TARGETS
from benchmarks._report import (
    aggregate,
    check_targets,
    machine,
    markdown_summary,
    qt_text,
    text_report,
)
from benchmarks._runner import Outcome, Run

from .helpers import run_python

ROOT = Path(__file__).resolve().parent.parent


def _outcome(*runs: Run) -> Outcome:
    outcome = Outcome()
    outcome.runs.extend(runs)
    return outcome


def _rr16(round_trips_per_s: dict[str, float]) -> list[Run]:
    """One 16-byte ``rr`` run for each client, at its rate."""
    return [
        Run("rr", client, {"size": 16}, {"round_trips_per_s": rate})
        for client, rate in round_trips_per_s.items()
    ]


def _tiny_run(
    tmp_path: Path, *args: str, unset: tuple[str, ...] = ()
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """
    ``python -m benchmarks --tiny ARGS --json FILE`` offscreen, without the
    ``unset`` environment variables, in two minutes at most: the finished
    process and the JSON document it wrote. It must have exited 0.
    """
    out = tmp_path / "bench.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    for name in unset:
        env.pop(name, None)
    done = run_python(
        "-m", "benchmarks", "--tiny", *args, "--json", str(out), env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done, json.loads(out.read_text())


@pytest.mark.reactorless
def test_aggregate_gives_median_min_max_and_every_run() -> None:
    """Three runs of one metric become one entry with their median, min and max."""
    outcome = _outcome(
        *(
            Run("bulk", "raw", {"size": 8}, {"mb_per_s": value})
            for value in (30.0, 10.0, 20.0)
        )
    )
    (entry,) = aggregate(outcome)
    assert entry == {
        "scenario": "bulk",
        "client": "raw",
        "params": {"size": 8},
        "metric": "mb_per_s",
        "median": 20.0,
        "min": 10.0,
        "max": 30.0,
        "runs": [30.0, 10.0, 20.0],
    }


@pytest.mark.reactorless
def test_targets_met_missed_and_not_measured() -> None:
    """A ratio target compares medians; a missing client makes it 'not measured'."""
    outcome = _outcome(
        *_rr16(
            {
                "thread": 100.0,
                "compat": 160.0,
                "twisted-qt": 160.0,
                "twisted-epoll": 400.0,
            }
        ),
        Run("shutdown", "twisted-qt", {}, {"join_ms": 1.0, "still_alive": 0}),
    )
    checked = {t["target"]: t for t in check_targets(aggregate(outcome))}
    assert checked["compat rr 16 B vs thread"]["status"] == "met"
    assert checked["compat rr 16 B vs thread"]["ratio"] == 1.6
    assert checked["rr 16 B vs epoll"]["status"] == "missed"
    assert checked["close with receive pending"]["status"] == "met"
    assert checked["bulk 64 MiB vs raw"]["status"] == "not measured"
    assert len(checked) == len(TARGETS)


@pytest.mark.reactorless
def test_markdown_summary_has_a_row_per_measured_client() -> None:
    """The README table lists each measured client once, baseline ratios included."""
    outcome = _outcome(*_rr16({"thread": 100.0, "asyncio": 150.0}))
    doc = {
        "unavailable": {"compat": "absent"},
        "pinned": True,
        "settings": {"repeats": 1},
        "machine": {
            "cpu": "a CPU",
            "cpus": 2,
            "system": "Linux",
            "versions": {},
            "echo_server": "C (cc)",
        },
    }
    text = markdown_summary(aggregate(outcome), doc)
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split("|")[1].strip() for row in rows] == ["`thread`", "`asyncio`"]
    assert "150 (1.50x)" in rows[1]
    assert "`compat` not measured: absent" in text
    assert "pinned to one CPU" in text


def test_tiny_run_writes_the_json_contract(tmp_path: Path) -> None:
    """A whole (tiny) run writes machine, pinned and results in the contract's shape."""
    done, doc = _tiny_run(
        tmp_path,
        "--only",
        "rr,bulk,scale,shutdown,idle",
        "--clients",
        "raw,thread,twisted-epoll",
    )
    assert isinstance(doc["machine"], dict)
    assert doc["pinned"] is False
    assert doc["errors"] == []
    seen = set()
    for result in doc["results"]:
        assert set(result) == {
            "scenario", "client", "params", "metric", "median", "min", "max", "runs",
        }  # fmt: skip
        assert result["client"] in CLIENT_ORDER
        assert result["metric"] in METRICS[result["scenario"]]
        assert set(result["params"]) <= {"size", "clients"}
        assert result["min"] <= result["median"] <= result["max"]
        assert len(result["runs"]) == 1
        seen.add((result["scenario"], result["client"]))
    expected = {
        (scenario, client)
        for scenario in ("rr", "bulk", "scale", "shutdown", "idle")
        for client in ("raw", "thread", "twisted-epoll")
    }
    assert seen == expected
    thread_joins = [
        r for r in doc["results"]
        if r["scenario"] == "shutdown" and r["client"] == "thread"
        and r["metric"] == "still_alive"
    ]  # fmt: skip
    assert thread_joins[0]["median"] == 1  # the seed's thread cannot be joined
    assert "targets" in done.stdout


PYSIDE6 = SimpleNamespace(
    api="pyside6",
    name="PySide6",
    version="6.8.1",
    qt_version="6.8.2",
    reason="QT_API=pyside6",
)
"""Stands in for the `twisted_client.qt.QtBinding` a run was given."""


def test_the_report_names_the_qt_binding() -> None:
    """Machine info records the binding; the text and Markdown reports name it."""
    info = machine("C", pinned=False, qt=PYSIDE6)
    assert info["qt_binding"] == {
        "api": "pyside6",
        "name": "PySide6",
        "version": "6.8.1",
        "qt_version": "6.8.2",
        "reason": "QT_API=pyside6",
    }
    assert info["versions"]["pyside6"] == "6.8.1"
    assert info["versions"]["qt"] == "6.8.2"
    outcome = _outcome(*_rr16({"thread": 1.0}))
    outcome.unavailable["twisted-qt5reactor"] = "stock qt5reactor runs on PyQt5 only"
    doc = {
        "machine": info,
        "pinned": False,
        "settings": {"repeats": 1},
        "targets": [],
        "unavailable": outcome.unavailable,
        "not_applicable": [],
        "errors": [],
        "controls": [],
    }
    results = aggregate(outcome)
    text = text_report(results, doc)
    assert "Qt clients on: PySide6 6.8.1 on Qt 6.8.2 (QT_API=pyside6)" in text
    assert "twisted-qt5reactor: stock qt5reactor runs on PyQt5 only" in text
    assert "PySide6 6.8.1 on Qt 6.8.2;" in markdown_summary(results, doc)


@pytest.mark.reactorless
def test_a_saved_run_from_before_the_binding_was_recorded_ran_on_pyqt5() -> None:
    """A document with only PyQt5's versions reads as PyQt5; one with none, no Qt."""
    versions = {"pyqt5": "5.15.11", "qt": "5.15.14"}
    assert qt_text({"versions": versions}) == "PyQt5 5.15.11 on Qt 5.15.14"
    assert qt_text({"versions": {}, "qt_binding": None}) == "no Qt binding"


def _installed(api: str) -> bool:
    return (
        importlib.util.find_spec({"pyqt6": "PyQt6", "pyside6": "PySide6"}[api])
        is not None
    )


@pytest.mark.parametrize("api", ["pyside6", "pyqt6"])
def test_qt_api_reaches_every_worker_and_the_report(tmp_path: Path, api: str) -> None:
    """
    With --qt-api, each Qt client's worker runs on that binding (it says so),
    the JSON and the text report name it, and stock qt5reactor is skipped
    with the reason.
    """
    if not _installed(api):
        pytest.skip(f"{api} is not installed (pip install '.[{api}]')")
    name = {"pyqt6": "PyQt6", "pyside6": "PySide6"}[api]
    done, doc = _tiny_run(
        tmp_path,
        "--qt-api",
        api,
        "--only",
        "shutdown",
        "--clients",
        "twisted-qt,twisted-qt5reactor,qtcpsocket",
        unset=("QT_API",),
    )
    assert doc["errors"] == []
    assert doc["machine"]["qt_binding"]["api"] == api
    assert doc["machine"]["qt_binding"]["reason"] == f"QT_API={api}"
    assert f"in {name} " in doc["clients"]["twisted-qt"]
    assert doc["clients"]["qtcpsocket"].startswith(f"{name} ")
    assert "PyQt5 only" in doc["unavailable"]["twisted-qt5reactor"]
    assert {r["client"] for r in doc["results"]} == {"twisted-qt", "qtcpsocket"}
    assert f"Qt clients on: {name} " in done.stdout


def test_a_qt_api_that_cannot_be_imported_is_a_usage_error(tmp_path: Path) -> None:
    """--qt-api naming a binding whose import fails: status 2, and why; nothing runs."""
    broken = tmp_path / "PyQt6"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('broken on purpose')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    done = run_python("-m", "benchmarks", "--tiny", "--qt-api", "pyqt6", env=env)
    assert done.returncode == 2
    assert "PyQt6 was chosen (QT_API=pyqt6) but cannot be imported" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.reactorless
@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (count(), "3", 3),
        (count(0), "0", 0),
        (finite(), "8", 8.0),
        (finite(), "0.5", 0.5),
    ],
)
def test_number_options_take_what_is_in_range(
    parse: Any, text: str, expected: float
) -> None:
    """The command lines' number types give the value when it is in range."""
    assert parse(text) == expected


@pytest.mark.reactorless
@pytest.mark.parametrize(
    ("parse", "text", "reason"),
    [
        (count(), "0", "must be >= 1"),
        (count(), "2.5", "not a whole number"),
        (finite(), "nan", "finite"),
        (finite(), "inf", "finite"),
        (finite(), "-1", "must be >= 0"),
        (finite(minimum=0.001), "0", "must be >= 0.001"),
        (finite(), "many", "not a number"),
    ],
)
def test_number_options_refuse_what_is_not(parse: Any, text: str, reason: str) -> None:
    """Out of range, NaN (a limit no measurement can exceed) or not a number:
    argparse's error, with the reason."""
    with pytest.raises(argparse.ArgumentTypeError, match=reason):
        parse(text)
