"""`ClientCommand` and `ClientReply`: the classic thread's data classes, for both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = ["ClientCommand", "ClientReply"]


class _Message:
    """A type constant and its data; the repr names the constant."""

    _NAMES: ClassVar[Mapping[int, str]] = {}

    def __init__(self, type: int, data: Any = None) -> None:
        self.type = type
        self.data = data

    def __repr__(self) -> str:
        name = self._NAMES.get(self.type) if isinstance(self.type, int) else None
        return f"{type(self).__name__}({name or repr(self.type)}, {self.data!r})"


class ClientCommand(_Message):
    """
    A command to the client. Each command type has its associated data.

    CONNECT:    a ``(host, port)`` tuple
    SEND:       the message (bytes)
    RECEIVE:    None
    CLOSE:      None
    """

    CONNECT: ClassVar[int] = 0
    SEND: ClassVar[int] = 1
    RECEIVE: ClassVar[int] = 2
    CLOSE: ClassVar[int] = 3
    _NAMES: ClassVar[Mapping[int, str]] = {
        0: "CONNECT",
        1: "SEND",
        2: "RECEIVE",
        3: "CLOSE",
    }


class ClientReply(_Message):
    """
    A reply from the client. Each reply type has its associated data.

    ERROR:      the error text (str)
    SUCCESS:    the received message (bytes) for RECEIVE; None for the others
    """

    ERROR: ClassVar[int] = 0
    SUCCESS: ClassVar[int] = 1
    _NAMES: ClassVar[Mapping[int, str]] = {0: "ERROR", 1: "SUCCESS"}
