"""
The client kinds the benchmarks compare, one small module each.

Each module has a ``Bench`` class: ``setup()`` prepares the process (installs
the reactor, imports the client) and returns a one-line description, or raises
`Unavailable`; then one method per scenario it can run (``rr``, ``bulk``,
``scale``, ``gui``, ``idle``, ``shutdown``), each returning its metrics. A
scenario a client has no method for is reported as not applicable.
The two coroutine clients (``asyncio``, the native ``twisted-*``) share the
plumbing around what they time: `benchmarks.clients._coroutines`.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CLIENTS", "Unavailable", "load"]


class Unavailable(Exception):
    """This client kind cannot run here (its module is missing, ...)."""


CLIENTS: dict[str, tuple[str, dict[str, str]]] = {
    "raw": ("benchmarks.clients.raw", {}),
    "thread": ("benchmarks.clients.queued", {"impl": "twisted_client.compat.threaded"}),
    "compat": ("benchmarks.clients.queued", {"impl": "twisted_client.compat"}),
    "twisted-qt": ("benchmarks.clients.native", {"reactor": "qt"}),
    "twisted-qt5reactor": ("benchmarks.clients.native", {"reactor": "qt5reactor"}),
    "twisted-epoll": ("benchmarks.clients.native", {"reactor": "epoll"}),
    "asyncio": ("benchmarks.clients.asyncio_client", {}),
    "qtcpsocket": ("benchmarks.clients.qtcpsocket", {}),
    "control": ("benchmarks.clients.control", {}),
}
"""Client name (the JSON contract) -> (module, options for its ``Bench``)."""


def load(name: str) -> Any:
    """A ``Bench`` for client ``name`` (not set up yet)."""
    module_name, options = CLIENTS[name]
    module = importlib.import_module(module_name)
    return module.Bench(**options)
