"""``python -m benchmarks.soak``: run the soak or the load and print the report."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twisted.internet.defer import ensureDeferred

from .._args import count, finite
from ._report import plot_soak, report_load, report_soak
from ._runs import load, soak
from ._server import start_demo_server

__all__ = ["main"]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.soak",
        description="Soak (one client, many messages, memory sampled) or load "
        "(many concurrent clients) against the demo server.",
    )
    parser.add_argument("--load", action="store_true", help="run the load test")
    parser.add_argument("--messages", type=count(), default=1_000_000, help="soak size")
    parser.add_argument("--size", type=count(), default=None, help="message bytes")
    parser.add_argument(
        "--window", type=count(), default=None, help="requests in flight"
    )
    parser.add_argument("--samples", type=count(), default=20, help="memory samples")
    parser.add_argument(
        "--max-growth",
        type=finite(),
        default=8.0,
        metavar="MIB",
        help="RSS growth after warm-up that fails the soak (default 8)",
    )
    parser.add_argument("--clients", type=count(), default=1000, help="load: clients")
    parser.add_argument(
        "--per-client", type=count(), default=1000, help="load: messages per client"
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
    return parser.parse_args(argv)


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
