"""
Test configuration: which reactor this pytest process runs on.

One reactor per process. ``--reactor`` (pytest-twisted's option) and
``--qt-reactor`` (ours) choose it; `tests/__main__.py` runs every pass:

* ``--reactor=qt5reactor`` (the default, through ``addopts``): a QApplication
  and our qt5reactor-based reactor, installed before pytest-twisted looks.
* ``--reactor=default --qt-reactor=qt``: a QApplication and our
  `QtEPollReactor` (an EPollReactor driven by Qt), installed first too.
* ``--reactor=default --qt-reactor=none``: Twisted's default reactor and no
  Qt at all; tests marked ``qt`` are skipped. This proves the core does not
  depend on Qt.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

import pytest

QT_REACTOR_KINDS = ("auto", "qt", "qt5reactor", "none")
_QT_KIND = pytest.StashKey[str | None]()
_APP = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--qt-reactor",
        default="auto",
        choices=QT_REACTOR_KINDS,
        help="with --reactor=default: install this Qt reactor first ('none': no Qt)",
    )


def _qt_kind(config: pytest.Config) -> str | None:
    """The Qt reactor this process installs, or None for a plain reactor."""
    base = config.getoption("reactor")
    chosen = config.getoption("qt_reactor")
    if base == "qt5reactor":
        return "qt5reactor"
    if base == "default" and chosen in ("qt", "qt5reactor"):
        return str(chosen)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Install the chosen reactor before pytest-twisted installs its own."""
    kind = _qt_kind(config)
    config.stash[_QT_KIND] = kind
    if kind is None:
        return
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if "XDG_RUNTIME_DIR" not in os.environ:  # Qt warns without one
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="runtime-")
    from PyQt5.QtWidgets import QApplication

    from twisted_client.qt import install_reactor

    # Hold the QApplication for the whole run: one that nobody references is
    # deleted at once, and widgets (the demo's tests) need a QApplication,
    # not the QCoreApplication a reactor would make in its place.
    config.stash[_APP] = QApplication.instance() or QApplication(sys.argv[:1])
    install_reactor(kind)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip the tests marked ``qt`` in a process without a Qt reactor."""
    if config.stash[_QT_KIND] is not None:
        return
    skip = pytest.mark.skip(reason="needs a Qt reactor (this pass runs without Qt)")
    for item in items:
        if "qt" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def reactor() -> Any:
    """The reactor this process runs (pytest-twisted installed and runs it)."""
    from twisted.internet import reactor as installed

    return installed


@pytest.fixture
def qapp() -> Any:
    """The process's QApplication; the test is skipped in a pass without Qt."""
    from PyQt5.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        pytest.skip("no QApplication in this pass")
    return app
