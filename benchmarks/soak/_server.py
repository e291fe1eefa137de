"""The demo server, in a process of its own, for the soak and the load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["start_demo_server"]


def start_demo_server() -> tuple[subprocess.Popen[str], int]:
    """Start ``python -m twisted_client.server --port 0``; return it and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "twisted_client.server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"the demo server did not start: {line!r}")
    return process, int(line.rsplit(":", 1)[1])
