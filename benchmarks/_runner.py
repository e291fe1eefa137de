"""Runs the plan: fresh worker processes, clients interleaved, repeats spread out."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._measure import ProcessCounters, threads_of
from ._plan import Plan
from ._progress import Progress

__all__ = ["Outcome", "Run", "Runner", "run_parse"]

_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """One measured point: scenario, client, contract params, metrics."""

    scenario: str
    client: str
    params: dict[str, int]
    metrics: dict[str, float]


@dataclass
class Outcome:
    """Everything a run produced, for the report."""

    runs: list[Run] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    not_applicable: set[tuple[str, str]] = field(default_factory=set)
    described: dict[str, str] = field(default_factory=dict)
    controls: list[Run] = field(default_factory=list)


class Runner:
    """
    Spawns one worker process per measurement and collects the results.

    Every worker gets ``QT_API=qt_api`` in its environment (when given), so
    that all the Qt clients run on that binding.
    """

    def __init__(
        self,
        plan: Plan,
        port: int,
        cpu: int | None,
        progress: Progress,
        *,
        qt_api: str | None = None,
    ) -> None:
        self.plan = plan
        self.port = port
        self.cpu = cpu
        self.progress = progress
        self.outcome = Outcome()
        self._env = dict(os.environ)
        self._env.setdefault("QT_QPA_PLATFORM", "offscreen")
        runtime = Path(f"/tmp/bench-runtime-{os.getuid()}")
        runtime.mkdir(mode=0o700, exist_ok=True)
        self._env.setdefault("XDG_RUNTIME_DIR", str(runtime))
        if qt_api is not None:
            self._env["QT_API"] = qt_api
        self._env["PYTHONPATH"] = os.pathsep.join(
            [str(_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )

    # -- processes -----------------------------------------------------------

    def _popen(self, client: str, scenario: str, params: Any) -> subprocess.Popen[str]:
        cpu = self.cpu

        def pin() -> None:
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks._worker",
                client,
                scenario,
                str(self.port),
                json.dumps(params),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=_ROOT,
            env=self._env,
            preexec_fn=pin,  # noqa: PLW1509 (the parent runs no threads)
        )

    def _wait(
        self, process: subprocess.Popen[str], watch_threads: bool
    ) -> tuple[list[str], str, int]:
        """Wait for ``process`` (bounded); return its lines, stderr, peak threads."""
        deadline = time.monotonic() + self.plan.worker_timeout
        peak = 0
        if watch_threads:
            while process.poll() is None and time.monotonic() < deadline:
                peak = max(peak, threads_of(process.pid))
                time.sleep(0.005)
        try:
            out, err = process.communicate(
                timeout=max(0.1, deadline - time.monotonic())
            )
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            err += f"\n(killed after {self.plan.worker_timeout:.0f} s)"
            out += "\nERROR timed out"
        return out.splitlines(), err, peak

    def _interpret(self, client: str, scenario: str, lines: list[str], err: str) -> Any:
        """The RESULT payload, or None (recording why there is none)."""
        for line in lines:
            if line.startswith("DESCRIBE "):
                self.outcome.described.setdefault(client, line[9:])
        for line in lines:
            if line.startswith("RESULT "):
                return json.loads(line[7:])
            if line.startswith("UNAVAILABLE "):
                self.outcome.unavailable[client] = line[12:]
                return None
            if line == "NA":
                self.outcome.not_applicable.add((scenario, client))
                return None
            if line.startswith("ERROR "):
                self._error(client, scenario, line[6:], err)
                return None
        self._error(client, scenario, "the worker printed no result", err)
        return None

    def _error(self, client: str, scenario: str, text: str, err: str) -> None:
        tail = "\n".join(err.strip().splitlines()[-6:])
        self.outcome.errors.append(
            {"scenario": scenario, "client": client, "error": text, "stderr": tail}
        )
        self.progress.note(f"error: {scenario} {client}: {text}")

    def _one(
        self, client: str, scenario: str, params: Any, watch_threads: bool = False
    ) -> tuple[Any, int]:
        process = self._popen(client, scenario, params)
        lines, err, peak = self._wait(process, watch_threads)
        return self._interpret(client, scenario, lines, err), peak

    def _skip(self, client: str, scenario: str) -> bool:
        return (
            client in self.outcome.unavailable
            or (scenario, client) in self.outcome.not_applicable
        )

    def _record(
        self, scenario: str, client: str, params: dict[str, int], metrics: Any
    ) -> None:
        self.outcome.runs.append(Run(scenario, client, params, dict(metrics)))

    # -- scenarios -----------------------------------------------------------

    def probe(self, clients: list[str]) -> list[str]:
        """Set each client up once; return the ones that can run."""
        for client in clients:
            self.progress.step(f"probe {client}")
            self._one(client, "probe", {})
        return [c for c in clients if c not in self.outcome.unavailable]

    def jobs(
        self, scenarios: list[str], clients: list[str]
    ) -> Iterator[tuple[int, str, Callable[[str], None]]]:
        """(repeat, label, job(client)) in run order; clients rotate per repeat."""
        plan = self.plan
        for repeat in range(plan.repeats):
            for scenario in scenarios:
                if scenario == "rr":
                    yield repeat, "rr", self._rr_job(repeat)
                elif scenario == "bulk":
                    yield repeat, "bulk", self._bulk
                elif scenario == "scale":
                    for n in plan.scale_clients:
                        yield repeat, f"scale {n}", self._scale_job(n)
                elif scenario == "gui":
                    for size in plan.gui_sizes:
                        yield repeat, f"gui {size}", self._gui_job(size)
                    yield repeat, "gui-control", self._gui_control
                elif scenario == "shutdown":
                    yield repeat, "shutdown", self._shutdown

    def run(self, scenarios: list[str], clients: list[str]) -> Outcome:
        """Measure every (scenario, client), ``plan.repeats`` times, interleaved."""
        plan = self.plan
        per_repeat = [s for s in scenarios if s not in ("idle", "parse")]
        jobs = list(self.jobs(per_repeat, clients))
        idle = "idle" in scenarios
        total = sum(label != "gui-control" for _, label, _ in jobs) * len(clients) + (
            plan.repeats if idle else 0
        )
        self.progress.start(total)
        for repeat, label, job in jobs:
            if label == "gui-control":
                self.progress.step(f"gui timer alone (control)  run {repeat + 1}")
                job("control")
                continue
            order = clients[repeat % len(clients) :] + clients[: repeat % len(clients)]
            for client in order:
                if self._skip(client, label.split()[0]):
                    self.progress.step(f"{label} {client} (skipped)", count=True)
                    continue
                self.progress.step(
                    f"{label} {client}  run {repeat + 1}/{plan.repeats}", count=True
                )
                job(client)
        if idle:
            for repeat in range(plan.repeats):
                self.progress.step(
                    f"idle, all clients at once  run {repeat + 1}/{plan.repeats}",
                    count=True,
                )
                self._idle(clients)
        return self.outcome

    def _rr_job(self, repeat: int) -> Callable[[str], None]:
        """One process runs every size; the order rotates from repeat to repeat."""
        sizes = list(self.plan.rr_sizes)
        turn = repeat % len(sizes)
        sizes = sizes[turn:] + sizes[:turn]

        def job(client: str) -> None:
            plan = self.plan
            params = {
                "sizes": sizes,
                "duration": plan.rr_seconds,
                "warmup": plan.rr_warmup,
            }
            result, _ = self._one(client, "rr", params)
            if result is not None:
                for size, metrics in zip(sizes, result, strict=True):
                    self._record("rr", client, {"size": size}, metrics)

        return job

    def _bulk(self, client: str) -> None:
        size = self.plan.bulk_size
        result, _ = self._one(client, "bulk", {"size": size})
        if result is not None:
            self._record("bulk", client, {"size": size}, result)

    def _scale_job(self, clients: int) -> Callable[[str], None]:
        def job(client: str) -> None:
            params = {"clients": clients, "round_trips": self.plan.scale_round_trips}
            result, peak = self._one(client, "scale", params, watch_threads=True)
            if result is not None:
                result["peak_threads"] = max(result["peak_threads"], peak)
                self._record("scale", client, {"clients": clients}, result)

        return job

    def _gui_params(self, size: int) -> dict[str, Any]:
        """What a ``gui`` measurement is run with (the clients and the control)."""
        plan = self.plan
        return {
            "size": size,
            "duration": plan.gui_seconds,
            "interval_ms": plan.gui_interval_ms,
            "window": plan.gui_window,
        }

    def _gui_job(self, size: int) -> Callable[[str], None]:
        def job(client: str) -> None:
            result, _ = self._one(client, "gui", self._gui_params(size))
            if result is not None:
                self._record("gui", client, {"size": size}, result)

        return job

    def _gui_control(self, client: str) -> None:
        """The timer alone, once per repeat (it sends nothing: no size to vary)."""
        size = self.plan.gui_sizes[0]
        result, _ = self._one(client, "gui", self._gui_params(size))
        if result is not None:
            del result["mb_per_s"]
            self.outcome.controls.append(Run("gui", "control", {"size": size}, result))

    def _shutdown(self, client: str) -> None:
        result, _ = self._one(client, "shutdown", {"bound": self.plan.shutdown_bound})
        if result is not None:
            self._record("shutdown", client, {}, result)

    def _idle(self, clients: list[str]) -> None:
        """Every client idle at once, each in its own process, counted from /proc."""
        seconds = self.plan.idle_seconds
        started = {}
        for client in clients:
            if not self._skip(client, "idle"):
                started[client] = self._popen(client, "idle", {})
        ready: dict[str, subprocess.Popen[str]] = {}
        for client, process in started.items():
            assert process.stdout is not None
            lines = []
            while True:
                line = process.stdout.readline()
                if not line:
                    break
                lines.append(line.rstrip("\n"))
                if line.startswith(("READY", "RESULT", "ERROR", "UNAVAILABLE", "NA")):
                    break
            if lines and lines[-1] == "READY":
                ready[client] = process
                for line in lines:
                    if line.startswith("DESCRIBE "):
                        self.outcome.described.setdefault(client, line[9:])
            else:
                process.kill()
                _, err = process.communicate()
                self._interpret(client, "idle", lines, err)
        time.sleep(0.5)  # let every process settle after connecting
        counters = {c: ProcessCounters(p.pid) for c, p in ready.items()}
        before = {c: counter.read() for c, counter in counters.items()}
        time.sleep(seconds)
        after = {c: counter.read() for c, counter in counters.items()}
        for process in ready.values():
            process.send_signal(signal.SIGKILL)
            process.communicate()
        for client in ready:
            cpu_ns = after[client][0] - before[client][0]
            switches = after[client][1] - before[client][1]
            self._record(
                "idle",
                client,
                {},
                {"cpu_ms": cpu_ns / 1e6, "wakeups_per_s": switches / seconds},
            )


def run_parse(
    plan: Plan, cpu: int | None, outcome: Outcome, progress: Progress
) -> None:
    """The in-process parsing comparison, in a fresh process of its own."""
    progress.step("parse: core vs stock receiver, one large message", count=True)
    command = [
        sys.executable,
        "-m",
        "benchmarks.parsing",
        "--json",
        "--size",
        str(plan.parse_size // (1024 * 1024)),
        "--budget",
        str(plan.parse_stock_budget),
    ]

    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=_ROOT,
        preexec_fn=pin,
        timeout=plan.worker_timeout,
        check=False,
    )
    if done.returncode != 0:
        outcome.errors.append(
            {"scenario": "parse", "client": "-", "error": done.stderr[-500:]}
        )
        return
    names = {"core": "core-receiver", "stock": "stock-receiver"}
    for kind, size, runs in json.loads(done.stdout):
        for seconds in runs:
            outcome.runs.append(
                Run(
                    "parse",
                    names[kind],
                    {"size": size},
                    {"seconds": seconds, "mb_per_s": size / 1e6 / seconds},
                )
            )
