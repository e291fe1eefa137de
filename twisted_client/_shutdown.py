"""
Open clients per reactor, so that a reactor shutting down ends them itself.

When a reactor stops, Twisted drops every connection with
``ConnectionLost`` ("Connection to the other side was lost in a non-clean
fashion"), which blames the peer for what this side did. One "before
shutdown" trigger per reactor (not one per client) runs before that and
ends each open client with `ReactorShutdown`, which says it was closed
locally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["forget", "watch"]

_watches: WeakKeyDictionary[Any, _Watch] = WeakKeyDictionary()


class _Watch:
    """The open clients of one reactor; its trigger ends them at shutdown."""

    def __init__(self, reactor: Any) -> None:
        self.clients: dict[Client, None] = {}  # a set that keeps the order
        reactor.addSystemEventTrigger("before", "shutdown", self._shutting_down)

    def _shutting_down(self) -> None:
        clients, self.clients = self.clients, {}
        for client in clients:
            client._reactor_shutting_down()


def watch(reactor: Any, client: Client) -> None:
    """
    End ``client`` with `ReactorShutdown` if ``reactor`` shuts down first.

    Reactors without system event triggers (a bare `Clock`), or that cannot
    be weakly referenced, are not watched: their clients are not told.
    """
    try:
        found = _watches.get(reactor)
    except TypeError:  # not weakly referenceable
        return
    if found is None:
        if not hasattr(reactor, "addSystemEventTrigger"):
            return
        found = _watches[reactor] = _Watch(reactor)
    found.clients[client] = None


def forget(reactor: Any, client: Client) -> None:
    """Stop watching ``client`` (its connection is gone)."""
    try:
        found = _watches.get(reactor)
    except TypeError:
        return
    if found is not None:
        found.clients.pop(client, None)
