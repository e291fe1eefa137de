"""
One measurement in a fresh process.

    python -m benchmarks._worker CLIENT SCENARIO PORT PARAMS_JSON


Prints ``DESCRIBE <text>`` once the client is set up, ``READY`` when an idle
measurement may start, and finally ``RESULT <json metrics>``, or ``NA`` when
the client has no such scenario, ``UNAVAILABLE <reason>``, or ``ERROR <text>``.
The process then ends with ``os._exit``: a client that leaves a thread behind
(the classic thread does) cannot keep it alive.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

from .clients import Unavailable, load


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    """Run one scenario of one client and print what happened."""
    client, scenario, port, params = argv[0], argv[1], int(argv[2]), argv[3]
    bench = load(client)
    try:
        _say("DESCRIBE " + bench.setup())
    except Unavailable as reason:
        _say(f"UNAVAILABLE {reason}")
        return 0
    if scenario == "probe":
        _say("RESULT null")
        return 0
    method = getattr(bench, scenario, None)
    supports = getattr(bench, "supports", lambda _: True)
    if method is None or not supports(scenario):
        _say("NA")
        return 0
    kwargs = json.loads(params)
    if scenario == "idle":
        kwargs["ready"] = lambda: _say("READY")
    try:
        metrics = method(port, **kwargs)
    except BaseException as error:  # report, never hang: the parent records it
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        _say("ERROR " + detail.replace("\n", " | "))
        traceback.print_exc()
        return 1
    _say("RESULT " + json.dumps(metrics))
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
