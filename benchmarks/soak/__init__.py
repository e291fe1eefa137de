"""
Soak and load: long runs that check nothing is lost and memory stays flat.

    python -m benchmarks.soak                     # 1,000,000 messages, one client
    python -m benchmarks.soak --messages 200000 --plot soak.png --json soak.json
    python -m benchmarks.soak --load              # 1000 clients x 1000 messages
    python -m benchmarks.soak --load --clients 200 --per-client 500

Both talk to the demo server (``python -m twisted_client.server``) in a
process of its own, so the memory sampled here is the client's alone. Every
message carries its client number and sequence number; each echo is checked
against what was sent, so a lost, duplicated or reordered message is
counted, never missed. The soak keeps ``--window`` requests in flight and
samples this process's resident memory (RSS) as it goes; the report shows it
after warm-up (the first tenth of the run) and fails when it grew more than
``--max-growth`` MiB. The exit status is 0 only when nothing was lost or
reordered, no error happened and memory stayed flat.
"""

from __future__ import annotations

from ._report import plot_soak, report_load, report_soak
from ._runs import LoadResult, SoakResult, load, soak
from ._server import start_demo_server
from ._tally import Sample, Tally, echo_stream, memory_growth, rss_bytes

__all__ = [
    "LoadResult",
    "Sample",
    "SoakResult",
    "Tally",
    "echo_stream",
    "load",
    "memory_growth",
    "plot_soak",
    "report_load",
    "report_soak",
    "rss_bytes",
    "soak",
    "start_demo_server",
]
