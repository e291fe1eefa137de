"""
The three ways the demo runs the classic thread's commands, behind one small interface.

Every backend runs "Do it!" (`exchange`) and a stress run (`stress`), and
calls ``on_reply`` with one `Reply` per step, on the GUI thread:

* `TwistedBackend` (``twisted``): the native client on the reactor inside Qt,
  as a signal/slot program: "Do it!" connects, the slot of ``connected``
  sends, the slot of ``message_received`` logs the reply and closes. Each
  step is logged the moment its signal fires: no commands, no polling.
* `QueueBackend` over ``compat.SocketClientThread`` (``compat``): the drop-in
  adapter, driven exactly as the classic demo drives its thread: commands go on
  ``cmd_q``, and a QTimer takes replies from ``reply_q`` every 100 ms.
* `QueueBackend` over ``compat.threaded.SocketClientThread`` (``thread``): the
  classic thread itself, driven the same way.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._commands import Backend, BackendUnavailable, ReplyCallback
from ._native import TwistedBackend
from ._options import BACKENDS
from ._polled import QueueBackend

__all__ = ["QueueBackend", "TwistedBackend", "backend_available", "make_backend"]

_QUEUE_CLIENTS = {
    # backend: (module holding SocketClientThread, join timeout in seconds)
    "compat": ("twisted_client.compat", 1.0),
    # The original cannot be interrupted in recv: do not wait for it (it is a
    # daemon thread, so it does not hold the process either).
    "thread": ("twisted_client.compat.threaded", 0.0),
}


def _queue_classes(name: str) -> tuple[Any, Any, Any]:
    module_name, _ = _QUEUE_CLIENTS[name]
    try:
        module = importlib.import_module(module_name)
        commands = importlib.import_module("twisted_client.compat")
        return (
            module.SocketClientThread,
            commands.ClientCommand,
            commands.ClientReply,
        )
    except (ImportError, AttributeError) as error:
        raise BackendUnavailable(
            f"the {name!r} backend needs {module_name}.SocketClientThread and "
            "twisted_client.compat.ClientCommand/ClientReply, which are not "
            f"available: {error}"
        ) from None


def backend_available(name: str) -> bool:
    """True when `make_backend` can build the backend called ``name``."""
    if name == "twisted":
        return True
    try:
        _queue_classes(name)
    except BackendUnavailable:
        return False
    return True


def make_backend(name: str, reactor: Any, on_reply: ReplyCallback) -> Backend:
    """
    Build the backend called ``name`` (one of `gui._options.BACKENDS`).

    Raises:
        ValueError: no backend has that name.
        BackendUnavailable: the backend's module is missing.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
    if name == "twisted":
        return TwistedBackend(reactor, on_reply)
    client_class, command_class, reply_class = _queue_classes(name)
    _, join_timeout = _QUEUE_CLIENTS[name]
    return QueueBackend(
        name,
        client_class,
        command_class,
        reply_class,
        on_reply,
        join_timeout=join_timeout,
    )
