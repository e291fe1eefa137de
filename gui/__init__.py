"""
The classic socket client thread's Qt demo, running on the Twisted reactor inside Qt.

``python -m gui`` (or ``twisted-client-demo``) opens a window with pulsing
circles, a live frame meter, a "Do it!" button that runs the classic exchange
(CONNECT, SEND ``hello``, RECEIVE, CLOSE) on one of three backends, a stress
action, and a log pane. With no display it runs headless: it presses the
button itself, prints the log and a one-line summary, and exits 0 on success.

The names below are imported on first use, so that ``import gui`` (and the
parts without widgets, such as `FrameMeter`) do not load Qt.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BACKENDS",
    "CirclesWidget",
    "DemoWindow",
    "FrameMeter",
    "Options",
    "Reply",
    "ServerAddress",
    "make_backend",
    "parse_args",
    "run",
]

_HOMES = {
    "BACKENDS": "._options",
    "CirclesWidget": "._circles",
    "DemoWindow": "._window",
    "FrameMeter": "._meter",
    "Options": "._options",
    "Reply": "._commands",
    "ServerAddress": "._options",
    "make_backend": "._backends",
    "parse_args": "._options",
    "run": "._app",
}


def __getattr__(name: str) -> Any:
    """Import the public name ``name`` from its private module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gui' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value
