"""
The Qt reactor kinds the subprocess tests run, and which of them this pass's
binding supports: ``qt`` and ``notifier`` run on every binding, ``qt5reactor``
(stock qt5reactor underneath) on PyQt5 only.

The binding is the one this process uses, or, in a pass without Qt, the one
the seam would choose for a subprocess (``QT_API``, else the first
installed); nothing here imports a binding.
"""

from __future__ import annotations

import pytest

KINDS = ("qt", "notifier", "qt5reactor")
REACTOR_CLASS = {
    "qt": "QtEPollReactor",
    "notifier": "QtNotifierReactor",
    "qt5reactor": "Qt5Reactor",
}


def binding_name() -> str:
    """The binding of this pass: ``"PyQt5"``, ``"PyQt6"`` or ``"PySide6"``."""
    from twisted_client.qt._binding import _PACKAGES, _choose

    return _PACKAGES[_choose()[0]]


def runs_here(kind: str) -> bool:
    """True when ``kind`` runs on this pass's binding."""
    return kind != "qt5reactor" or binding_name() == "PyQt5"


def kinds_here() -> list[str]:
    """The kinds of `KINDS` that run on this process's binding."""
    return [kind for kind in KINDS if runs_here(kind)]


def skip_unless_runs_here(kind: str) -> None:
    """Skip the calling test, saying why, when ``kind`` cannot run on this binding."""
    if not runs_here(kind):
        pytest.skip(
            f"{kind} is stock qt5reactor underneath, which runs on PyQt5 only; "
            f"this pass uses {binding_name()}"
        )
