"""The soak's and the load's reports (text and verdict), and the soak's plot."""

from __future__ import annotations

from ._runs import LoadResult, SoakResult
from ._tally import MiB, Sample, memory_growth

__all__ = ["plot_soak", "report_load", "report_soak"]


def report_soak(result: SoakResult, max_growth: float) -> tuple[str, bool]:
    """The soak's table and verdict; True when it passed."""
    lines = [
        f"soak: {result.messages:,} messages of {result.size} bytes through one "
        f"client, {result.window} in flight, demo server in its own process",
        "",
        f"{'messages':>11} {'seconds':>8} {'msg/s':>9} {'RSS MiB':>8} "
        f"{'vs warm':>8} {'py blocks':>10}",
    ]
    growth, spread = memory_growth(result.samples)
    blocks, _ = memory_growth(result.samples, field="blocks")
    block_limit = max(10_000, result.messages // 100)
    warm_rss = next(
        (s.rss for s in result.samples if s.messages >= 0.1 * result.messages),
        result.samples[0].rss,
    )
    previous: Sample | None = None
    for sample in result.samples:
        rate = ""
        if previous is not None and sample.seconds > previous.seconds:
            per_second = (sample.messages - previous.messages) / (
                sample.seconds - previous.seconds
            )
            rate = f"{per_second:,.0f}"
        versus = (
            f"{(sample.rss - warm_rss) / MiB:+.1f}"
            if sample.messages >= 0.1 * result.messages and sample.messages
            else "warm-up"
        )
        lines.append(
            f"{sample.messages:>11,} {sample.seconds:>8.1f} {rate:>9} "
            f"{sample.rss / MiB:>8.1f} {versus:>8} {sample.blocks:>10,}"
        )
        previous = sample
    flat = (
        growth <= max_growth * MiB
        and spread <= max_growth * MiB
        and blocks <= block_limit
    )
    clean = result.clean
    lines += [
        "",
        f"sent {result.sent:,}, received {result.received:,}, {result.counts()}",
        f"{result.seconds:.1f} s, {result.rate:,.0f} messages/s, "
        f"{result.received * (result.size + 4) * 2 / MiB:,.0f} MiB on the wire",
        f"memory after warm-up: grew {growth / MiB:+.2f} MiB, spread "
        f"{spread / MiB:.2f} MiB (limit {max_growth:g} MiB); Python heap blocks "
        f"{blocks:+,} (limit {block_limit:,}): " + ("flat" if flat else "NOT FLAT"),
        "PASS" if flat and clean else "FAIL",
    ]
    return "\n".join(lines), flat and clean


def plot_soak(result: SoakResult, path: str) -> str:
    """Draw RSS against messages to ``path``; the reason if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no plot: matplotlib is not installed (pip install '.[plot]')"
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.plot(
        [s.messages for s in result.samples],
        [s.rss / MiB for s in result.samples],
        marker="o",
    )
    axes.set_xlabel("messages echoed")
    axes.set_ylabel("client RSS (MiB)")
    axes.set_title("soak: client memory over a run")
    axes.set_ylim(0, max(s.rss for s in result.samples) / MiB * 1.25)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return f"plot written to {path}"


def report_load(result: LoadResult) -> tuple[str, bool]:
    """The load run's summary; True when it passed."""
    expected = result.clients * result.per_client
    clean = (
        result.connected == result.clients
        and result.received == expected
        and result.clean
    )
    lines = [
        f"load: {result.clients:,} concurrent clients x {result.per_client:,} "
        f"messages of {result.size} bytes, demo server in its own process",
        f"connected {result.connected:,}/{result.clients:,}; sent {result.sent:,}, "
        f"received {result.received:,} of {expected:,}; {result.counts()}",
        f"{result.seconds:.1f} s, {result.rate:,.0f} messages/s; client RSS "
        f"{result.rss_before / MiB:.1f} MiB before, peak {result.rss_peak / MiB:.1f},"
        f" {result.rss_after / MiB:.1f} after",
        "PASS" if clean else "FAIL",
    ]
    return "\n".join(lines), clean
