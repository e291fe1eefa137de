"""
The drop-in for the classic socket client thread, under its short name.

``twisted_client.compat`` is its home, and the import the README
recommends: a module of your own named ``compat`` cannot hide it. This
package re-exports the same objects, so ``from compat import
SocketClientThread`` keeps working, and ``compat.threaded`` and
``compat.qt`` are ``twisted_client.compat.threaded`` and
``twisted_client.compat.qt``.
"""

from twisted_client.compat import *  # noqa: F403  (the same objects, by design)
from twisted_client.compat import __all__ as __all__
