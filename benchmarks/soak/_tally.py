"""What a soak or load run counts, and the tagged echo stream both runs use."""

from __future__ import annotations

import collections
import dataclasses
import os
import struct
import sys
from collections.abc import Callable, Sequence

from twisted.python.failure import Failure

from twisted_client import Client, ClientError

__all__ = [
    "MiB",
    "Sample",
    "Tally",
    "echo_stream",
    "memory_growth",
    "rss_bytes",
    "sample_now",
]

MiB = 1024 * 1024
_TAG = struct.Struct("<IQ")  # client number, sequence number


def rss_bytes() -> int:
    """This process's resident set size."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclasses.dataclass
class Sample:
    """Memory at one point of the soak."""

    messages: int
    seconds: float
    rss: int
    blocks: int  # Python heap blocks in use: a per-message leak shows here first


def sample_now(messages: int, seconds: float) -> Sample:
    """This process's memory now, after ``messages`` echoes and ``seconds``."""
    return Sample(messages, seconds, rss_bytes(), sys.getallocatedblocks())


@dataclasses.dataclass(kw_only=True)
class Tally:
    """What every echo run counts: sent, received, out of order, errors."""

    sent: int = 0
    received: int = 0
    reordered: int = 0
    errors: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        """Messages sent whose echo never came back."""
        return self.sent - self.received

    @property
    def clean(self) -> bool:
        """Nothing lost, nothing reordered, no error."""
        return self.lost == 0 and self.reordered == 0 and not self.errors

    @property
    def rate(self) -> float:
        """Echoes received per second."""
        return self.received / self.seconds if self.seconds else 0.0

    def counts(self) -> str:
        """``lost N, reordered N, errors N`` and the errors by kind, if any."""
        return (
            f"lost {self.lost}, reordered {self.reordered}, "
            f"errors {sum(self.errors.values())}"
            + (f" {dict(self.errors)}" if self.errors else "")
        )

    def count_error(self, error: BaseException | None) -> None:
        """Count ``error`` by the name of its type."""
        self.errors[type(error).__name__] += 1


def _message(client: int, sequence: int, size: int) -> bytes:
    tag = _TAG.pack(client, sequence)
    return tag + b"." * max(0, size - len(tag))


async def echo_stream(
    client: Client,
    tally: Tally,
    *,
    number: int,
    messages: int,
    size: int,
    window: int,
    timeout: float,
    on_echo: Callable[[], None] | None = None,
) -> None:
    """
    Echo ``messages`` tagged messages through ``client``, ``window`` in flight.

    Every message carries ``number`` (the client's) and its sequence number;
    an echo with another owner, sequence or length counts as reordered, a
    failed send or receive as an error, so nothing lost goes unnoticed.
    ``on_echo`` runs after each echo is counted. Closes the client at the end.
    """
    sent = 0

    def failed(failure: Failure) -> None:
        tally.count_error(failure.value)

    def send_next() -> None:
        nonlocal sent
        client.send(_message(number, sent, size)).addErrback(failed)
        sent += 1
        tally.sent += 1

    for _ in range(min(window, messages)):
        send_next()
    expected = 0
    try:
        while expected < messages:
            echo = await client.receive(timeout=timeout)
            owner, sequence = _TAG.unpack_from(echo)
            if (owner, sequence, len(echo)) != (number, expected, max(size, _TAG.size)):
                tally.reordered += 1
            expected += 1
            tally.received += 1
            if sent < messages:
                send_next()
            if on_echo is not None:
                on_echo()
    except ClientError as error:
        tally.count_error(error)
    await client.close()


def memory_growth(
    samples: Sequence[Sample], warmup: float = 0.1, field: str = "rss"
) -> tuple[int, int]:
    """
    ``field`` (``rss`` or ``blocks``) after warm-up: (growth from the first
    sample after warm-up to the last, highest minus lowest). Warm-up is the
    first ``warmup`` of the messages.
    """
    total = samples[-1].messages if samples else 0
    after = [s for s in samples if s.messages >= warmup * total and s.messages > 0]
    if len(after) < 2:
        return 0, 0
    values = [getattr(s, field) for s in after]
    return values[-1] - values[0], max(values) - min(values)
