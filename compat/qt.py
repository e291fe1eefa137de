"""``twisted_client.compat.qt`` (`ReplySignal`) under its short name."""

from twisted_client.compat.qt import ReplySignal

__all__ = ["ReplySignal"]
