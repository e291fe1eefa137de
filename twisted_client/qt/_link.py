"""`QtLink`: reach a QObject only while its C++ side is alive."""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable
from typing import Any

from ._binding import binding

__all__ = ["QtLink", "qt_object_deleted"]


def qt_object_deleted(qobject: Any) -> bool:
    """
    True when the C++ object under ``qobject`` is gone.

    A Python wrapper outlives its C++ object when Qt deletes it (a parent
    deleted, ``deleteLater``, ``sip.delete``/``shiboken6.delete``); calling it
    then raises ``RuntimeError: wrapped C/C++ object ... has been deleted``.
    The binding knows: ``sip.isdeleted`` (PyQt), ``shiboken6.isValid``
    (PySide6).
    """
    qt = binding()
    if qt.api == "pyside6":
        shiboken = importlib.import_module("shiboken6")
        return not shiboken.isValid(qobject)
    sip = importlib.import_module(f"{qt.name}.sip")
    return bool(sip.isdeleted(qobject))


class QtLink:
    """
    A weak link to a QObject, for code that outlives it (Deferred callbacks).

    `emit` emits one of its signals only while the object is alive: its
    Python wrapper still exists and its C++ object was not deleted; after
    that it does nothing. ``on_destroyed`` is called (once) when the link
    finds the object gone: at once from Qt's ``destroyed`` signal for an
    object that has a parent when the link is made (Qt deletes it with its
    parent, while Python may still hold it), else at the next `alive` or
    `emit`.

    A parentless object is not hooked: Python owns it, and when Python
    collects its wrapper the C++ object dies inside that collection; a
    ``destroyed`` slot run from there crashed the process (PyQt5, seen in
    the test suite).
    """

    def __init__(self, qobject: Any, on_destroyed: Callable[[], object]) -> None:
        self._ref = weakref.ref(qobject)
        self._dead = False
        self._on_destroyed = on_destroyed
        if qobject.parent() is not None:
            # A plain function, held strongly by the connection: a bound
            # method may be held weakly, and the object's own methods die
            # with it.
            qobject.destroyed.connect(lambda *_: self._destroyed())

    @property
    def alive(self) -> bool:
        """True while the object can be used."""
        return self._live() is not None

    def emit(self, signal: str, *args: object) -> bool:
        """Emit the object's ``signal`` with ``args`` if it is alive; say whether."""
        qobject = self._live()
        if qobject is None:
            return False
        getattr(qobject, signal).emit(*args)
        return True

    def _live(self) -> Any:
        """The object while it can be used, else None (calling on_destroyed once)."""
        if self._dead:
            return None
        qobject = self._ref()
        if qobject is None or qt_object_deleted(qobject):
            self._destroyed()
            return None
        return qobject

    def _destroyed(self) -> None:
        if self._dead:
            return
        self._dead = True
        self._on_destroyed()
