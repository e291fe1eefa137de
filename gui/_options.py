"""
The command line of ``python -m gui``: options, server addresses, headless
choice, and the Qt binding asked for.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted_client.qt import API_ENV_VAR, APIS, REACTOR_KINDS

if TYPE_CHECKING:
    from twisted_client.qt import QtBinding

from twisted_client._checks import seconds_argument

__all__ = [
    "BACKENDS",
    "DEFAULT_PORT",
    "Options",
    "ServerAddress",
    "display_available",
    "parse_args",
    "parse_server",
    "use_qt_api",
]

BACKENDS = ("twisted", "compat", "thread")
"""The ways the demo can run the exchange; see `gui._backends`."""

DEFAULT_PORT = 50007
"""The classic demo's port, used when ``--server`` names a host without one."""

STRESS_LIMIT = 120.0
"""Headless with ``--stress``: the default limit on the run, in seconds."""


@dataclass(frozen=True)
class ServerAddress:
    """Where the demo's client connects: a host and a port."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class Options:
    """Everything the command line chose."""

    backend: str
    server: ServerAddress | None
    """None for the embedded server."""
    delay: float
    headless: bool
    duration: float
    """Headless: seconds to run (with ``stress``: the most to wait for it)."""
    screenshot: str | None
    stress: bool
    stress_mb: int
    reactor: str | None
    qt_api: str | None = None
    """The binding ``--qt-api`` asked for; None: ``QT_API`` or the first installed."""


def parse_server(text: str) -> ServerAddress | None:
    """
    ``embedded`` gives None; ``HOST``, ``HOST:PORT``, ``[V6]:PORT`` an address.

    Raises:
        ValueError: the text is not one of those forms.
    """
    if text == "embedded":
        return None
    host, port = text, str(DEFAULT_PORT)
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"bad address {text!r}: expected [V6ADDRESS]:PORT")
        port = rest[1:] or port
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host:
        raise ValueError(f"bad address {text!r}: no host")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port {port!r}: expected 1 to 65535")
    return ServerAddress(host, int(port))


def display_available(
    environ: Mapping[str, str] = os.environ, platform: str = sys.platform
) -> bool:
    """True when a window can be shown: not offscreen, and a display on X11/Wayland."""
    if environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
        return False
    if platform.startswith("linux") or "bsd" in platform:
        return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))
    return True


def _server(text: str) -> ServerAddress | None:
    try:
        return parse_server(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gui",
        description="The classic socket client thread's Qt demo on the Twisted "
        "reactor: pulsing circles, "
        "a 'Do it!' button that runs CONNECT, SEND hello, RECEIVE, CLOSE, and a "
        "frame meter that shows the window never freezes.",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="twisted",
        help="twisted: the native client (signals, no polling); compat: the "
        "drop-in adapter polled like the classic thread; thread: the classic "
        "thread itself (default: twisted)",
    )
    parser.add_argument(
        "--server",
        type=_server,
        default=None,
        metavar="embedded|HOST[:PORT]",
        help="'embedded' (default) starts the demo server in-process on a free "
        f"port; HOST[:PORT] talks to a running one (default port {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--delay",
        type=seconds_argument(),
        metavar="SECONDS",
        default=1.5,
        help="seconds the embedded server waits before answering (default 1.5, "
        "as the classic demo's test server)",
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no window on screen: press 'Do it!', run --duration seconds, print "
        "the log and a summary (chosen automatically when there is no display)",
    )
    parser.add_argument(
        "--duration",
        type=seconds_argument(positive=True),
        metavar="SECONDS",
        default=None,
        help="headless: seconds to run (default: --delay + 1.5); with --stress, "
        "the run ends when the stress ends, or after this many seconds "
        f"(default {STRESS_LIMIT:g})",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        help="save a PNG of the window: headless at the end of the run, else "
        "when the window closes",
    )
    parser.add_argument(
        "--stress",
        action="store_true",
        help="headless: after the exchange, also stream --stress-mb MiB through "
        "the connection",
    )
    parser.add_argument(
        "--stress-mb",
        type=int,
        default=256,
        metavar="MIB",
        help="MiB the stress action sends (and gets back) (default 256)",
    )
    parser.add_argument(
        "--reactor",
        choices=REACTOR_KINDS,
        default=None,
        help="which Qt reactor twisted_client.qt installs (default: its choice)",
    )
    parser.add_argument(
        "--qt-api",
        choices=APIS,
        default=None,
        help=f"the Qt binding to run on (default: ${API_ENV_VAR}, else the first "
        "installed of PyQt5, PyQt6, PySide6)",
    )
    return parser


def parse_args(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ
) -> Options:
    """Parse the command line; headless is forced when no display is available."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.stress_mb < 1:
        parser.error("--stress-mb must be >= 1")
    duration = args.duration
    if duration is None:
        duration = STRESS_LIMIT if args.stress else args.delay + 1.5
    return Options(
        backend=args.backend,
        server=args.server,
        delay=args.delay,
        headless=args.headless or not display_available(environ),
        duration=duration,
        screenshot=args.screenshot,
        stress=args.stress,
        stress_mb=args.stress_mb,
        reactor=args.reactor,
        qt_api=args.qt_api,
    )


def use_qt_api(api: str | None) -> QtBinding:
    """
    Choose the Qt binding: ``api`` (one of `twisted_client.qt.APIS`), or the
    default choice when None; import it and return it.

    Call it before anything imports a binding: it sets ``QT_API`` for
    `twisted_client.qt.binding`, which chooses once per process.

    Raises:
        twisted_client.qt.QtBindingError: the binding is not installed or
            cannot be imported, ``QT_API`` names no supported binding, or the
            process uses another binding already. The text says which.
    """
    from twisted_client.qt import QtBindingError, binding

    if api is not None:
        os.environ[API_ENV_VAR] = api
    chosen = binding()
    if api is not None and chosen.api != api:
        raise QtBindingError(
            f"--qt-api {api} cannot take effect: this process uses {chosen.describe()}"
        )
    return chosen
