"""The echo server process every benchmark talks to: C when a compiler is there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["EchoServer"]

_SOURCE = Path(__file__).with_name("echo_server.c")


class EchoServer:
    """
    The echo server, in its own process, on a free loopback port.

    Prefers ``echo_server.c`` built with the system C compiler (epoll, one
    thread, no parsing: the cheapest possible server); falls back to the same
    loop in Python (`benchmarks._pyecho`). `kind` says which one runs.
    """

    def __init__(self, cpu: int | None = None, force_python: bool = False) -> None:
        self.cpu = cpu
        self.port = 0
        self.kind = ""
        self._force_python = force_python
        self._process: subprocess.Popen[str] | None = None
        self._workdir: str | None = None

    def _command(self) -> list[str]:
        compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if compiler and not self._force_python:
            self._workdir = tempfile.mkdtemp(prefix="bench-echo-")
            binary = os.path.join(self._workdir, "echo_server")
            built = subprocess.run(
                [compiler, "-O2", "-o", binary, str(_SOURCE)],
                capture_output=True,
                text=True,
                check=False,
            )
            if built.returncode == 0:
                name = os.path.basename(compiler)
                self.kind = (
                    f"C, epoll, one thread ({name} -O2, benchmarks/echo_server.c)"
                )
                return [binary, "0"]
        why = "asked for" if self._force_python else "no C compiler"
        self.kind = f"Python, epoll, one thread (benchmarks/_pyecho.py; {why})"
        return [sys.executable, "-m", "benchmarks._pyecho", "0"]

    def start(self) -> EchoServer:
        """Start it and wait until it listens."""
        command = self._command()
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        if self.cpu is not None:
            os.sched_setaffinity(self._process.pid, {self.cpu})
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the echo server did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        """Stop the process and remove the built binary."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> EchoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
