"""
The classic socket client thread, and a drop-in replacement on Twisted.

``from twisted_client.compat import SocketClientThread, ClientCommand,
ClientReply`` (or the short ``from compat import ...``) gives the drop-in:
the classic thread's interface (``cmd_q``, ``reply_q``, ``start``,
``join``), running on the Twisted reactor with no thread per client.
``twisted_client.compat.threaded.SocketClientThread`` is the original,
ported to Python 3 and kept as the baseline.
``twisted_client.compat.qt.ReplySignal`` delivers the drop-in's replies as
a Qt signal.
"""

from twisted_client._public import publish

from ._adapter import STOPPED_BY_JOIN, SocketClientThread
from ._messages import ClientCommand, ClientReply
from ._queues import BlockingCallError
from ._session import NOT_CONNECTED
from ._texts import CLOSED_PREMATURELY
from ._tls import TLSOptions

__all__ = [
    "CLOSED_PREMATURELY",
    "NOT_CONNECTED",
    "STOPPED_BY_JOIN",
    "BlockingCallError",
    "ClientCommand",
    "ClientReply",
    "SocketClientThread",
    "TLSOptions",
]

publish(__name__, globals(), __all__)
