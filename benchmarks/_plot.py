"""The PNG summary (matplotlib, from the optional ``plot`` extra)."""

from __future__ import annotations

import math
from typing import Any

from ._plan import CLIENT_ORDER
from ._report import number, qt_text, size_text

__all__ = ["plot"]

_COLOURS = {
    "raw": "#7f7f7f",
    "thread": "#d62728",
    "compat": "#ff7f0e",
    "twisted-qt": "#2ca02c",
    "twisted-qt5reactor": "#9467bd",
    "twisted-epoll": "#1f77b4",
    "asyncio": "#8c564b",
    "qtcpsocket": "#e377c2",
    "core-receiver": "#2ca02c",
    "stock-receiver": "#d62728",
}


def _pick(
    results: list[dict[str, Any]], scenario: str, metric: str
) -> list[dict[str, Any]]:
    return [r for r in results if r["scenario"] == scenario and r["metric"] == metric]


def _bars(  # noqa: PLR0917
    ax: Any, rows: list[dict[str, Any]], title: str, log: bool = False,
          line: float | None = None,
          notes: dict[str, str] | None = None) -> None:  # fmt: skip
    order = {c: i for i, c in enumerate(CLIENT_ORDER)}
    rows = sorted(rows, key=lambda r: order.get(r["client"], 99))
    names = [r["client"] for r in rows]
    medians = [r["median"] for r in rows]
    low = [r["median"] - r["min"] for r in rows]
    high = [r["max"] - r["median"] for r in rows]
    bars = ax.bar(names, medians, yerr=[low, high], capsize=3,
                  color=[_COLOURS.get(n, "#333333") for n in names])  # fmt: skip
    labels = [
        number(m) + (notes or {}).get(n, "")
        for n, m in zip(names, medians, strict=True)
    ]
    ax.bar_label(bars, labels=labels, fontsize=7, padding=2)
    if log and any(m > 0 for m in medians):
        ax.set_yscale("log")
    if line is not None:
        ax.axhline(line, color="black", linestyle="--", linewidth=1)
    ax.set_title(title, fontsize=10)
    _client_labels(ax)
    if not rows:
        _not_measured(ax)


def _client_labels(ax: Any) -> None:
    """Slant the client names under the bars, as every bar panel does."""
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")


def _not_measured(ax: Any) -> None:
    ax.text(0.5, 0.5, "not measured", ha="center", va="center",
            transform=ax.transAxes)  # fmt: skip


def _gui(ax: Any, rows: list[dict[str, Any]], timer_alone: float | None) -> None:
    """
    The ``gui`` panel: per client, one bar per message size, side by side.

    The y axis starts a little under the lowest whisker: the gaps all sit
    near 16 ms, and from 0 their differences (tenths of a millisecond)
    would not show. The target (17 ms) is a dashed line, the timer alone a
    dotted one.
    """
    order = {c: i for i, c in enumerate(CLIENT_ORDER)}
    clients = sorted({r["client"] for r in rows}, key=lambda c: order.get(c, 99))
    sizes = sorted({r["params"]["size"] for r in rows})
    width = 0.8 / max(1, len(sizes))
    for index, size in enumerate(sizes):
        mine = {r["client"]: r for r in rows if r["params"]["size"] == size}
        xs = [i + (index - (len(sizes) - 1) / 2) * width
              for i, c in enumerate(clients) if c in mine]  # fmt: skip
        shown = [mine[c] for c in clients if c in mine]
        bars = ax.bar(
            xs, [r["median"] for r in shown], width,
            yerr=[[r["median"] - r["min"] for r in shown],
                  [r["max"] - r["median"] for r in shown]],
            capsize=2, color=[_COLOURS.get(r["client"], "#333333") for r in shown],
            alpha=1.0 - 0.25 * index, edgecolor="black", linewidth=0.5,
        )  # fmt: skip
        ax.bar_label(bars, labels=[f"{r['median']:.1f}" for r in shown],
                     fontsize=6, padding=2)  # fmt: skip
    ax.axhline(17.0, color="black", linestyle="--", linewidth=1, label="target 17")
    if timer_alone is not None:
        ax.axhline(timer_alone, color="black", linestyle=":", linewidth=1,
                   label=f"timer alone {timer_alone:.1f}")  # fmt: skip
    if rows:
        low = min(r["min"] for r in rows)
        high = max(17.0, *(r["max"] for r in rows))
        bottom = max(0.0, math.floor(low - 0.5))
        ax.set_ylim(bottom, high + 0.8)
        ax.set_ylabel(f"ms (the axis starts at {bottom:g})", fontsize=8)
        ax.legend(fontsize=7, loc="upper right")
    else:
        _not_measured(ax)
    ax.set_xticks(range(len(clients)), clients)
    _client_labels(ax)
    names = ", ".join(size_text(size) for size in sizes)
    ax.set_title(f"gui: p99 gap of a 16 ms Qt timer while streaming\n"
                 f"(ms; bars left to right: {names})", fontsize=10)  # fmt: skip


def _lines(  # noqa: PLR0917
    ax: Any, rows: list[dict[str, Any]], key: str, title: str,
           xlabel: str, ylabel: str) -> None:  # fmt: skip
    clients = [c for c in [*CLIENT_ORDER, "core-receiver", "stock-receiver"]
               if any(r["client"] == c for r in rows)]  # fmt: skip
    for client in clients:
        mine = sorted((r for r in rows if r["client"] == client),
                      key=lambda r: r["params"][key])  # fmt: skip
        xs = [r["params"][key] for r in mine]
        ax.errorbar(
            xs, [r["median"] for r in mine],
            yerr=[[r["median"] - r["min"] for r in mine],
                  [r["max"] - r["median"] for r in mine]],
            marker="o", capsize=3, label=client, color=_COLOURS.get(client),
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    if clients:
        ax.legend(fontsize=7)


def plot(results: list[dict[str, Any]], doc: dict[str, Any], path: str) -> None:
    """Draw the run's medians (bars: min-max) into a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(20, 10))
    rr16 = [
        r
        for r in _pick(results, "rr", "round_trips_per_s")
        if r["params"] == {"size": 16}
    ]
    _bars(axes[0][0], rr16, "rr 16 B: round trips/s (higher is better)")
    rr64 = [
        r
        for r in _pick(results, "rr", "round_trips_per_s")
        if r["params"] == {"size": 65536}
    ]
    _bars(axes[0][1], rr64, "rr 64 KiB: round trips/s (higher is better)")
    _bars(axes[0][2], _pick(results, "bulk", "mb_per_s"),
          "bulk, one 64 MiB echo: MB/s (higher is better)", log=True)  # fmt: skip
    _lines(axes[0][3], _pick(results, "scale", "wall_s"), "clients",
           "scale: N clients x 20 round trips, wall s (lower is better)",
           "concurrent clients", "seconds")  # fmt: skip
    alone = [
        r["median"]
        for r in doc.get("controls", [])
        if r["scenario"] == "gui" and r["metric"] == "p99_gap_ms"
    ]
    _gui(axes[1][0], _pick(results, "gui", "p99_gap_ms"), alone[0] if alone else None)
    _bars(axes[1][1], _pick(results, "idle", "wakeups_per_s"),
          "idle: wakeups/s of a connected idle client (lower is better)")  # fmt: skip
    alive = {
        r["client"]: " (bound: still alive)"
        for r in _pick(results, "shutdown", "still_alive")
        if r["median"] >= 1
    }
    _bars(axes[1][2], _pick(results, "shutdown", "join_ms"),
          "shutdown: join/close, receive pending (ms, log)", log=True,
          notes=alive)  # fmt: skip
    _lines(axes[1][3], _pick(results, "parse", "seconds"), "size",
           "parsing one message fed in 64 KiB chunks",
           "message bytes", "seconds")  # fmt: skip
    info = doc["machine"]
    fig.suptitle(
        f"twisted-client benchmarks: {info['cpu']}, {info['cpus']} CPUs, "
        f"{qt_text(info)}; "
        f"{'pinned to one CPU' if doc['pinned'] else 'not pinned'}; "
        f"echo server: {info['echo_server'].split(' (')[0]}; "
        "bars: median, whiskers: min-max",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=90)
    plt.close(fig)
