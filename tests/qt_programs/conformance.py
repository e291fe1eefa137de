"""
Twisted's own reactor tests, pointed at our Qt reactors (run by trial).

    QT_CONFORMANCE_KIND=qt python -m twisted.trial tests/qt_programs/conformance.py

Builds, from the `ReactorBuilder` test builders of ``twisted.internet.test``
(core: run/stop/crash/system events; time; threads; TCP; file descriptor
sets; processes and SIGCHLD; UNIX sockets; UDP), test cases for the reactor
of the kind named by ``QT_CONFORMANCE_KIND``: ``qt`` (`QtEPollReactor`),
``notifier`` (`QtNotifierReactor`) or ``qt5reactor`` (`Qt5Reactor`), on the
binding the seam chooses (``QT_API``). A QApplication is made first, as each
test builds its own reactor. tests/test_qt_conformance.py runs this in a
subprocess.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from twisted.internet.test import (
    test_core,
    test_fdset,
    test_process,
    test_tcp,
    test_threads,
    test_time,
    test_udp,
    test_unix,
)

from twisted_client.qt import binding

_app = binding().module("QtWidgets").QApplication(sys.argv[:1])

KIND = os.environ.get("QT_CONFORMANCE_KIND", "qt")
REACTORS = {
    "qt": "twisted_client.qt._qtreactor.QtEPollReactor",
    "notifier": "twisted_client.qt._notifierreactor.QtNotifierReactor",
    "qt5reactor": "twisted_client.qt._qt5reactor.Qt5Reactor",
}
MODULES = [
    test_core,
    test_time,
    test_threads,
    test_tcp,
    test_fdset,
    test_process,
    test_unix,
    test_udp,
]

# Tests that do not apply, with the reason; keyed by reactor kind.
SKIPS: dict[str, dict[str, str]] = {
    "qt": {
        # Twisted skips it for EPollReactor by class name: epoll drops a
        # closed descriptor silently, so no reactor built on it can notice.
        "test_lostFileDescriptor": "epoll cannot detect lost file descriptors",
    },
    "notifier": {},
    "qt5reactor": {
        "test_lostFileDescriptor": "qt5reactor cannot detect lost descriptors",
        "test_negativeOneFileDescriptor": (
            "qt5reactor keeps watching a descriptor whose fileno() became -1"
        ),
    },
}


if os.getuid() == 0:
    for _skips in SKIPS.values():
        # Fails the same way on Twisted's own EPollReactor when run as root
        # here: the child, switched to another user, cannot start Python.
        _skips["test_changeUID"] = "fails on Twisted's EPollReactor too as root"


def _build() -> dict[str, type]:
    """One trial TestCase per concrete Twisted builder, for our reactor."""
    cases: dict[str, type] = {}
    skips = SKIPS[KIND]
    for module in MODULES:
        for name in dir(module):
            # A builder Twisted instantiates itself has an EPoll variant.
            if not hasattr(module, name + "_EPollReactorTests"):
                continue
            builder = getattr(module, name)
            attributes: dict[str, object] = {
                "_reactors": [REACTORS[KIND]],
                "__module__": __name__,
                "timeout": 20,  # a hang fails the test in 20 s, not 120
            }
            for test, reason in skips.items():
                if hasattr(builder, test):
                    attributes[test] = _skipped(reason)
            subclass = type(name, (builder,), attributes)
            cases.update(subclass.makeTestCaseClasses())
    return cases


def _skipped(reason: str) -> object:
    def test(self: object) -> None:
        from twisted.trial.unittest import SkipTest

        raise SkipTest(reason)

    return test


globals().update(_build())
