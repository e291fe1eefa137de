"""Turning runs into the JSON document, the terminal table and the target check."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
from collections import defaultdict
from typing import Any

from ._plan import CLIENT_ORDER, METRICS, TARGETS, Target
from ._runner import Outcome, Run

__all__ = [
    "aggregate",
    "check_targets",
    "document",
    "dump",
    "machine",
    "markdown_summary",
    "number",
    "qt_text",
    "size_text",
    "text_report",
]

BASELINE = "thread"

_UNITS = {
    "round_trips_per_s": "/s",
    "p50_us": "us",
    "p99_us": "us",
    "mb_per_s": "MB/s",
    "wall_s": "s",
    "peak_threads": "",
    "peak_rss_mib": "MiB",
    "errors": "",
    "p50_gap_ms": "ms",
    "p99_gap_ms": "ms",
    "max_gap_ms": "ms",
    "cpu_ms": "ms",
    "wakeups_per_s": "/s",
    "join_ms": "ms",
    "still_alive": "",
    "seconds": "s",
}


def _key(params: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(params.items()))


def aggregate(outcome: Outcome) -> list[dict[str, Any]]:
    """One entry per (scenario, client, params, metric): median, min, max, runs."""
    return aggregate_runs(outcome.runs)


def aggregate_runs(runs_in: list[Run]) -> list[dict[str, Any]]:
    """`aggregate` for any list of runs."""
    grouped: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for run in runs_in:
        for metric in METRICS[run.scenario]:
            if metric in run.metrics:
                key = (run.scenario, run.client, _key(run.params), metric)
                grouped[key].append(float(run.metrics[metric]))
    order = {name: i for i, name in enumerate(CLIENT_ORDER)}
    results = []
    for (scenario, client, params, metric), runs in grouped.items():
        results.append(
            {
                "scenario": scenario,
                "client": client,
                "params": dict(params),
                "metric": metric,
                "median": statistics.median(runs),
                "min": min(runs),
                "max": max(runs),
                "runs": runs,
            }
        )
    scenario_order = {name: i for i, name in enumerate(METRICS)}
    results.sort(
        key=lambda r: (
            scenario_order[r["scenario"]],
            tuple(r["params"].values()),
            METRICS[r["scenario"]].index(r["metric"]),
            order.get(r["client"], 99),
            r["client"],
        )
    )
    return results


def machine(server: str, pinned: bool, qt: Any = None) -> dict[str, Any]:
    """
    What the numbers were measured on.

    ``qt`` is the `twisted_client.qt.QtBinding` the Qt clients were given
    (``--qt-api``), or None when there is none; it is recorded under
    ``qt_binding``, and its versions under ``versions``.
    """
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    try:
        import twisted

        versions["twisted"] = twisted.__version__
    except ImportError:
        pass
    binding = None
    if qt is not None:
        versions[qt.api] = qt.version
        versions["qt"] = qt.qt_version
        binding = {
            "api": qt.api,
            "name": qt.name,
            "version": qt.version,
            "qt_version": qt.qt_version,
            "reason": qt.reason,
        }
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "system": f"{platform.system()} {platform.release()}",
        "implementation": sys.implementation.name,
        "versions": versions,
        "qt_binding": binding,
        "echo_server": server,
        "pinned_cpu": 0 if pinned else None,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def qt_text(info: dict[str, Any]) -> str:
    """
    The Qt binding and Qt version of a run: ``PySide6 6.8.1 on Qt 6.8.1``.

    Documents written before ``qt_binding`` existed ran on PyQt5.
    """
    binding = info.get("qt_binding")
    if binding:
        return f"{binding['name']} {binding['version']} on Qt {binding['qt_version']}"
    versions = info.get("versions", {})
    if "pyqt5" in versions:
        return f"PyQt5 {versions['pyqt5']} on Qt {versions.get('qt')}"
    return "no Qt binding"


def _find(
    results: list[dict[str, Any]], scenario: str, client: str,
    params: dict[str, int], metric: str,
) -> dict[str, Any] | None:  # fmt: skip
    for result in results:
        if (
            result["scenario"] == scenario
            and result["client"] == client
            and result["params"] == params
            and result["metric"] == metric
        ):
            return result
    return None


def check_targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target with its measured value, bound, and met/missed/not measured."""
    checked = []
    for target in TARGETS:
        checked.append(_check(results, target))
    return checked


def _check(results: list[dict[str, Any]], target: Target) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "target": target.label,
        "goal": target.describe(),
        "scenario": target.scenario,
        "params": target.params,
        "metric": target.metric,
        "client": target.client,
    }
    mine = _find(results, target.scenario, target.client, target.params, target.metric)
    if mine is None:
        entry.update(status="not measured", detail=f"no result for {target.client}")
        return entry
    bound = target.factor
    if target.reference is not None:
        other = _find(
            results, target.scenario, target.reference, target.params, target.metric
        )
        if other is None:
            entry.update(
                status="not measured", detail=f"no result for {target.reference}"
            )
            return entry
        bound = target.factor * other["median"]
        entry["ratio"] = mine["median"] / other["median"] if other["median"] else None
    value = mine["median"]
    met = value >= bound if target.op == ">=" else value <= bound
    entry.update(
        value=value,
        bound=bound,
        status="met" if met else "missed",
    )
    return entry


def document(  # noqa: PLR0917
    results: list[dict[str, Any]],
    outcome: Outcome,
    machine_info: dict[str, Any],
    pinned: bool,
    settings: dict[str, Any],
    elapsed: float,
) -> dict[str, Any]:
    """The JSON document: the contract's keys first, then what explains them."""
    return {
        "machine": machine_info,
        "pinned": pinned,
        "results": results,
        "targets": check_targets(results),
        "clients": outcome.described,
        "unavailable": outcome.unavailable,
        "not_applicable": sorted(f"{s} {c}" for s, c in outcome.not_applicable),
        "errors": outcome.errors,
        "controls": aggregate_runs(outcome.controls),
        "settings": settings,
        "elapsed_s": elapsed,
    }


def number(value: float) -> str:  # noqa: PLR0911
    """
    A measured value as the reports show it (the tables and the plot's bar
    labels): ``-`` for NaN, thousands as ``k``, fewer decimals the larger it is.
    """
    if math.isnan(value):
        return "-"
    magnitude = abs(value)
    if magnitude >= 100_000:
        return f"{value / 1000:.0f}k"
    if magnitude >= 10_000:
        return f"{value / 1000:.1f}k"
    if magnitude >= 100 or value == int(value):
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _ratio(ratio: float) -> str:
    if ratio == 0 or ratio >= 10:
        return f"{ratio:.0f}"
    if ratio >= 1:
        return f"{ratio:.2f}"
    return f"{ratio:.2g}"


def _cell(result: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    text = (
        f"{number(result['median'])} ({number(result['min'])}-{number(result['max'])})"
    )
    if baseline is not None and baseline["median"]:
        text += " x" + _ratio(result["median"] / baseline["median"])
    return text


def size_text(size: int) -> str:
    """A message size as the reports show it: ``16 B``, ``64 KiB``, ``64 MiB``."""
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024:
        return f"{size // 1024} KiB"
    return f"{size} B"


def _params_text(params: dict[str, int]) -> str:
    if "size" in params:
        return f"size {size_text(params['size'])}"
    if "clients" in params:
        return f"{params['clients']} clients"
    return ""


def text_report(  # noqa: PLR0912
    results: list[dict[str, Any]], doc: dict[str, Any]
) -> str:
    """The terminal report: per scenario point a row per client, a column per metric."""
    lines = []
    info = doc["machine"]
    lines.append(
        f"machine: {info['cpu']}, {info['cpus']} CPUs, {info['system']}, "
        f"Python {info['versions'].get('python')}, "
        f"Twisted {info['versions'].get('twisted')}"
    )
    binding = info.get("qt_binding")
    reason = f" ({binding['reason']})" if binding else ""
    lines.append(f"Qt clients on: {qt_text(info)}{reason}")
    lines.append(f"echo server: {info['echo_server']}")
    lines.append(
        "pinned: "
        + (
            "yes, client and server on CPU 0"
            if doc["pinned"]
            else "no (--pin not given)"
        )
    )
    lines.append(
        "cells: median (min-max) over the runs, then xN = median / thread's median"
    )
    points: dict[tuple[str, tuple[Any, ...]], list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        points[(result["scenario"], _key(result["params"]))].append(result)
    for (scenario, params), group in points.items():
        metrics = [m for m in METRICS[scenario] if any(r["metric"] == m for r in group)]
        clients = []
        for result in group:
            if result["client"] not in clients:
                clients.append(result["client"])
        title = f"{scenario} {_params_text(dict(params))}".strip()
        lines.append("")
        lines.append(title)
        cells = [
            ["client"] + [f"{m} ({_UNITS[m]})".replace(" ()", "") for m in metrics]
        ]
        for client in clients:
            row = [client]
            for metric in metrics:
                mine = next(
                    (
                        r
                        for r in group
                        if r["client"] == client and r["metric"] == metric
                    ),
                    None,
                )
                base = next(
                    (
                        r
                        for r in group
                        if r["client"] == BASELINE and r["metric"] == metric
                    ),
                    None,
                )
                row.append("-" if mine is None else _cell(mine, base))
            cells.append(row)
        if scenario == "gui":
            cells.append(_control_row(doc["controls"], metrics))
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        for row in cells:
            lines.append(
                "  "
                + "  ".join(
                    text.ljust(width) for text, width in zip(row, widths, strict=True)
                ).rstrip()
            )
    lines.append("")
    lines.append("targets (medians of this run):")
    for target in doc["targets"]:
        status = (
            target["status"].upper()
            if target["status"] == "missed"
            else target["status"]
        )
        if "value" in target:
            detail = f"{number(target['value'])} vs bound {number(target['bound'])}"
            if target.get("ratio") is not None:
                detail += f" (ratio {target['ratio']:.2f})"
        else:
            detail = target.get("detail", "")
        lines.append(
            f"  {status:<12} {target['target']:<28} {target['goal']:<40} {detail}"
        )
    if doc["unavailable"]:
        lines.append("")
        lines.append("not measured (client unavailable here):")
        for client, reason in doc["unavailable"].items():
            lines.append(f"  {client}: {reason}")
    if doc["not_applicable"]:
        lines.append("")
        lines.append(
            "not applicable: "
            + ", ".join(item.replace(" ", "/") for item in doc["not_applicable"])
        )
    if doc["errors"]:
        lines.append("")
        lines.append("errors:")
        for error in doc["errors"]:
            lines.append(f"  {error['scenario']} {error['client']}: {error['error']}")
    return "\n".join(lines)


def _control_row(controls: list[dict[str, Any]], metrics: list[str]) -> list[str]:
    """The ``gui`` table's last row: the timer alone, with no client."""
    row = ["(timer alone)"]
    for metric in metrics:
        mine = next((c for c in controls if c["metric"] == metric), None)
        row.append("-" if mine is None else _cell(mine, None))
    return row


SUMMARY_COLUMNS = [
    ("rr 16 B round trips/s", "rr", {"size": 16}, "round_trips_per_s"),
    ("rr 16 B p99 µs", "rr", {"size": 16}, "p99_us"),
    ("rr 64 KiB round trips/s", "rr", {"size": 65536}, "round_trips_per_s"),
    ("bulk 64 MiB MB/s", "bulk", {"size": 64 * 1024 * 1024}, "mb_per_s"),
    ("1000 clients s", "scale", {"clients": 1000}, "wall_s"),
    ("1000 clients threads", "scale", {"clients": 1000}, "peak_threads"),
    ("GUI p99 gap ms", "gui", {"size": 65536}, "p99_gap_ms"),
    ("GUI stream MB/s", "gui", {"size": 65536}, "mb_per_s"),
    ("idle wakeups/s", "idle", {}, "wakeups_per_s"),
    ("join/close ms", "shutdown", {}, "join_ms"),
]


_RATIO_COLUMNS = {"round_trips_per_s", "mb_per_s", "wall_s"}


def markdown_summary(results: list[dict[str, Any]], doc: dict[str, Any]) -> str:
    """A compact Markdown table for the README: medians, ratio to thread."""
    info = doc["machine"]
    pinned = "client and server pinned to one CPU" if doc["pinned"] else "not pinned"
    lines = [
        f"Medians of {doc['settings']['repeats']} runs; {info['cpu']}, "
        f"{info['cpus']} CPUs, {info['system']}, Python "
        f"{info['versions'].get('python')}, Twisted {info['versions'].get('twisted')}, "
        f"{qt_text(info)}; {pinned}; echo server: "
        f"{info['echo_server'].split(' (')[0]}. (x: ratio to `thread`.)",
        "",
    ]
    header = ["client"] + [title for title, *_ in SUMMARY_COLUMNS]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    present = {r["client"] for r in results if r["scenario"] != "parse"}
    for client in [c for c in CLIENT_ORDER if c in present]:
        row = [f"`{client}`"]
        for _, scenario, params, metric in SUMMARY_COLUMNS:
            mine = _find(results, scenario, client, params, metric)
            base = _find(results, scenario, BASELINE, params, metric)
            if mine is None:
                row.append("n/a")
                continue
            text = number(mine["median"])
            if (
                base is not None
                and base["median"]
                and client != BASELINE
                and metric in _RATIO_COLUMNS
            ):
                text += f" ({_ratio(mine['median'] / base['median'])}x)"
            alive = _find(results, "shutdown", client, {}, "still_alive")
            if metric == "join_ms" and alive is not None and alive["median"] >= 1:
                text += " (gave up: thread still alive)"
            row.append(text)
        lines.append("| " + " | ".join(row) + " |")
    for client, reason in doc["unavailable"].items():
        lines.append(f"\n`{client}` not measured: {reason}")
    return "\n".join(lines)


def dump(doc: dict[str, Any], path: str) -> None:
    """Write the JSON document."""
    with open(path, "w") as out:
        json.dump(doc, out, indent=1)
        out.write("\n")
