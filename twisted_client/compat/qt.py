"""
`ReplySignal`: the drop-in client's replies as a Qt signal, with no polling.

    signal = ReplySignal()
    signal.replied.connect(self.show_reply)      # a slot taking a ClientReply
    client = SocketClientThread(on_reply=signal)

In a Qt program the replies are produced in the GUI thread, so the slot
runs at once; a `ReplySignal` living in another thread gets them through
Qt's queued connections.
"""

from __future__ import annotations

from typing import Any

from twisted_client.qt._binding import binding

from ._messages import ClientReply

__all__ = ["ReplySignal"]

_qt = binding()
QObject: Any = _qt.QtCore.QObject


class ReplySignal(QObject):  # type: ignore[misc]  # the binding is typed Any
    """A QObject whose ``replied(object)`` signal carries each `ClientReply`."""

    replied = _qt.Signal(object)

    def __call__(self, reply: ClientReply) -> None:
        """Emit ``replied(reply)``; pass the object itself as ``on_reply=``."""
        self.replied.emit(reply)
