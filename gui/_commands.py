"""
The demo's log record of a reply, how commands are shown, and what every
backend offers. The commands themselves are compat's `ClientCommand`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from twisted_client.compat import ClientCommand

if TYPE_CHECKING:
    from ._options import ServerAddress
    from ._stress import StressPlan

__all__ = [
    "CLOSE",
    "COMMAND_NAMES",
    "CONNECT",
    "RECEIVE",
    "SEND",
    "Backend",
    "BackendUnavailable",
    "ClientCommand",
    "CommandBackend",
    "Reply",
    "ReplyCallback",
    "Stress",
    "describe_command",
    "describe_data",
]

CONNECT, SEND, RECEIVE, CLOSE = (
    ClientCommand.CONNECT,
    ClientCommand.SEND,
    ClientCommand.RECEIVE,
    ClientCommand.CLOSE,
)
"""The classic command types, as the demo's code names them (compat's constants)."""

COMMAND_NAMES = {CONNECT: "CONNECT", SEND: "SEND", RECEIVE: "RECEIVE", CLOSE: "CLOSE"}


def describe_command(command: ClientCommand) -> str:
    """A command as the log shows it: ``CONNECT host:port``, ``SEND hello``, ..."""
    name = COMMAND_NAMES.get(command.type, str(command.type))
    if command.type == CONNECT:
        host, port = command.data
        return f"{name} {host}:{port}"
    if command.type == SEND:
        return f"{name} {describe_data(command.data)}"
    return name


@dataclass(frozen=True)
class Reply:
    """
    The answer to one step, as the window logs it: SUCCESS with data (bytes
    or None), or ERROR text. One record for every backend: the polled ones
    turn their `ClientReply` into it, the native one makes it from a signal.
    """

    ok: bool
    data: bytes | str | None = None

    @property
    def type_name(self) -> str:
        """``SUCCESS`` or ``ERROR``, as the classic demo's log shows it."""
        return "SUCCESS" if self.ok else "ERROR"

    def __str__(self) -> str:
        return f"Client reply {self.type_name}: {describe_data(self.data)}"


def describe_data(data: bytes | str | None, limit: int = 60) -> str:
    """Reply data as the log shows it: text as is, short ASCII bytes decoded."""
    if data is None or isinstance(data, str):
        return str(data)
    if len(data) <= limit and data.isascii() and data.decode().isprintable():
        return data.decode()
    if len(data) <= limit:
        return repr(data)
    return f"<{len(data)} bytes>"


ReplyCallback = Callable[[Reply], None]


class Stress(Protocol):
    """A stress run a backend made: the window starts it and shows its progress."""

    finished: bool

    @property
    def received_mib(self) -> float:
        """MiB received back so far."""

    def start(self) -> None:
        """Connect and start streaming."""

    def reply(self, reply: Reply) -> None:
        """One reply of the backend, while the run is under way."""


class Backend(Protocol):
    """What the window needs from a backend."""

    name: str
    ends_on_error: bool
    """True when an ERROR reply is the last of its exchange."""

    def describe_exchange(self, address: ServerAddress) -> str:
        """What "Do it!" does, for the log."""

    def exchange(self, address: ServerAddress) -> None:
        """Run "Do it!" with the server at ``address``; replies go to the callback."""

    def stress(self, plan: StressPlan) -> Stress:
        """A stress run as ``plan`` asks, not started yet."""

    def stop(self) -> None:
        """Drop pending commands and the connection at once; no reply follows."""

    def set_drain(self, drain: bool) -> None:
        """Deliver every waiting reply at once (True) or the classic way (False)."""


class CommandBackend(Protocol):
    """A backend that takes the classic commands (what `StressRun` drives)."""

    def submit(self, commands: Iterable[ClientCommand]) -> None:
        """Queue ``commands``; each gets one reply, in order."""

    def set_drain(self, drain: bool) -> None:
        """Deliver every waiting reply at once (True) or the classic way (False)."""


class BackendUnavailable(RuntimeError):
    """The module a backend needs is not installed or not built yet."""
