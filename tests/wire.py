"""
The seed's wire format, built independently of `twisted_client.frame`, and a
framing protocol that records what it delivers: shared by the tests.
"""

from __future__ import annotations

import struct

from twisted_client import DEFAULT_MAX_LENGTH, LengthPrefixedProtocol


def wire(*messages: bytes) -> bytes:
    """The bytes a sender puts on the wire for ``messages``."""
    return b"".join(struct.pack("<L", len(m)) + m for m in messages)


class Recorder(LengthPrefixedProtocol):
    """Keeps every message it is given and every too-long length it refuses."""

    def __init__(self, max_length: int = DEFAULT_MAX_LENGTH) -> None:
        super().__init__(max_length)
        self.messages: list[bytes] = []
        self.refused: list[int] = []

    def message_received(self, message: bytes) -> None:
        self.messages.append(message)

    def length_limit_exceeded(self, length: int) -> None:
        self.refused.append(length)
        super().length_limit_exceeded(length)
