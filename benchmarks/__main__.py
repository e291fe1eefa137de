"""
Thread vs async, side by side: ``python -m benchmarks`` (or ``twisted-client-bench``).

    python -m benchmarks --quick                 # a smoke run, under 2.5 minutes
    python -m benchmarks --json r.json --plot r.png
    python -m benchmarks --only rr --clients thread,twisted-qt --pin
    python -m benchmarks --quick --qt-api pyside6  # the Qt clients on PySide6

Every measurement runs in a fresh process against an echo server in a process
of its own; clients are interleaved and each point is repeated; the table
shows medians, min-max and the ratio to the ``thread`` baseline, then the
issue's targets, met or missed. The Qt clients run on one Qt binding, chosen
here (``--qt-api``, else ``QT_API``, else the first installed) and passed to
every worker as ``QT_API``; the report names it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twisted_client.qt import API_ENV_VAR, APIS

from ._args import count
from ._plan import CLIENT_ORDER, FULL, QUICK, SCENARIOS, TINY
from ._progress import Progress
from ._report import aggregate, document, dump, machine, markdown_summary, text_report
from ._runner import Runner, run_parse
from ._server import EchoServer


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark the threaded client against the Twisted client "
        "(on Qt and on epoll), asyncio and QTcpSocket, over loopback.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run (< 2.5 min on 2 cores)"
    )
    scenarios = [*SCENARIOS, "soak"]
    parser.add_argument(
        "--only",
        metavar="SCENARIO",
        help=f"comma-separated scenarios to run, from: {', '.join(scenarios)}",
    )
    parser.add_argument(
        "--clients",
        metavar="A,B,...",
        help=f"comma-separated clients, from: {', '.join(CLIENT_ORDER)}",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument(
        "--plot", metavar="PATH", help="draw a PNG (needs matplotlib: the plot extra)"
    )
    parser.add_argument(
        "--markdown", metavar="PATH", help="write the summary table as Markdown"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="run the clients and the server on CPU 0 (cross-CPU wakeups on small "
        "VMs cost ~40 us and swamp the differences)",
    )
    parser.add_argument(
        "--from-json",
        metavar="PATH",
        help="run nothing: report (table, --plot, --markdown) a saved --json file",
    )
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--repeats", type=count(), help="runs per point (default 5, quick 3)"
    )
    parser.add_argument(
        "--qt-api",
        choices=APIS,
        help="the Qt binding the Qt clients run on (default: $QT_API, else the "
        "first installed of PyQt5, PyQt6, PySide6)",
    )
    parser.add_argument(
        "--python-server",
        action="store_true",
        help="use the Python echo server even when a C compiler is there",
    )
    args = parser.parse_args(argv)
    args.qt = None if args.from_json else _qt_binding(args.qt_api, parser)
    chosen = args.only.split(",") if args.only else [s for s in SCENARIOS]
    unknown = [s for s in chosen if s not in scenarios]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    args.scenarios = chosen
    clients = args.clients.split(",") if args.clients else list(CLIENT_ORDER)
    unknown = [c for c in clients if c not in CLIENT_ORDER]
    if unknown:
        parser.error(f"unknown client(s): {', '.join(unknown)}")
    args.client_list = [c for c in CLIENT_ORDER if c in clients]
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error(
                "--plot needs matplotlib: pip install 'twisted-qt-client[plot]'"
            )
    return args


def _qt_binding(api: str | None, parser: argparse.ArgumentParser) -> Any:
    """
    The `twisted_client.qt.QtBinding` the Qt clients get, or None for none.

    ``--qt-api`` names one (a usage error when it cannot be imported);
    without it, the choice `twisted_client.qt.binding` makes, if any.
    """
    from twisted_client.qt import QtBindingError, binding

    if api is not None:
        os.environ[API_ENV_VAR] = api
    try:
        return binding()
    except QtBindingError as error:
        if api is not None or os.environ.get(API_ENV_VAR):
            parser.error(str(error))
        return None


def _run_soak(quick: bool) -> int:
    """Run ``python -m benchmarks.soak`` (the reliability soak) in its own process."""
    import subprocess

    extra = ["--messages", "100000"] if quick else []
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", *extra],
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    return done.returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print the report; 0 unless the run itself broke."""
    args = _parse_args(argv)
    if args.from_json:
        with open(args.from_json) as saved:
            return _publish(json.load(saved), args)
    plan = TINY if args.tiny else QUICK if args.quick else FULL
    if args.repeats is not None:
        plan = dataclasses.replace(plan, repeats=args.repeats)
    if args.scenarios == ["soak"]:
        return _run_soak(args.quick or args.tiny)
    machine_info = machine("", args.pin, args.qt)
    cpu = None
    if args.pin:
        usable = sorted(os.sched_getaffinity(0))
        cpu = usable[0]
        if len(usable) > 1:
            os.sched_setaffinity(0, set(usable[1:]))  # keep this process off CPU 0
    progress = Progress()
    began = time.monotonic()
    with EchoServer(cpu=cpu, force_python=args.python_server) as server:
        progress.note(f"echo server: {server.kind}, port {server.port}")
        if args.qt is not None:
            progress.note(f"Qt clients on {args.qt.describe()}")
        qt_api = None if args.qt is None else args.qt.api
        runner = Runner(plan, server.port, cpu, progress, qt_api=qt_api)
        clients = runner.probe(args.client_list)
        for client, reason in runner.outcome.unavailable.items():
            progress.note(f"{client}: not available: {reason}")
        outcome = runner.run(args.scenarios, clients)
        if "parse" in args.scenarios:
            run_parse(plan, cpu, outcome, progress)
    progress.finish()
    if "soak" in args.scenarios:
        _run_soak(args.quick or args.tiny)
    machine_info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results = aggregate(outcome)
    doc = document(
        results,
        outcome,
        {**machine_info, "echo_server": server.kind},
        args.pin,
        plan.settings(),
        time.monotonic() - began,
    )
    return _publish(doc, args)


def _publish(doc: dict[str, Any], args: argparse.Namespace) -> int:
    """Print the report; write the JSON, Markdown and plot asked for."""
    results = doc["results"]
    plan_name = doc["settings"]["preset"]
    print(text_report(results, doc))
    print(
        f"\n({doc['elapsed_s']:.0f} s, {plan_name} run, "
        f"{doc['settings']['repeats']} runs per point)"
    )
    if args.json and args.json != args.from_json:
        dump(doc, args.json)
        print(f"JSON: {args.json}")
    if args.markdown:
        Path(args.markdown).write_text(markdown_summary(results, doc) + "\n")
        print(f"Markdown: {args.markdown}")
    if args.plot:
        from ._plot import plot

        plot(results, doc, args.plot)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
