"""`ClientCommand` and `ClientReply`: the classic thread's data classes, for both."""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["ClientCommand", "ClientReply"]


class ClientCommand:
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

    def __init__(self, type: int, data: Any = None) -> None:
        self.type = type
        self.data = data

    def __repr__(self) -> str:
        return f"ClientCommand({_name(self, self.type)}, {self.data!r})"


class ClientReply:
    """
    A reply from the client. Each reply type has its associated data.

    ERROR:      the error text (str)
    SUCCESS:    the received message (bytes) for RECEIVE; None for the others
    """

    ERROR: ClassVar[int] = 0
    SUCCESS: ClassVar[int] = 1

    def __init__(self, type: int, data: Any = None) -> None:
        self.type = type
        self.data = data

    def __repr__(self) -> str:
        return f"ClientReply({_name(self, self.type)}, {self.data!r})"


_NAMES: dict[type, dict[int, str]] = {
    ClientCommand: {0: "CONNECT", 1: "SEND", 2: "RECEIVE", 3: "CLOSE"},
    ClientReply: {0: "ERROR", 1: "SUCCESS"},
}


def _name(instance: object, value: object) -> str:
    """The constant's name for ``value``, or its repr when it is not one of them."""
    for cls in type(instance).__mro__:
        names = _NAMES.get(cls)
        if names is not None and isinstance(value, int) and value in names:
            return names[value]
    return repr(value)
