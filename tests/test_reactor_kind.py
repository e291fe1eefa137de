"""
"Is this a Qt reactor?" has one answer, `twisted_client.qt._install.kind_of`,
which the drop-in's runtime asks too; `finish_shutdown` ends our Qt reactors
only.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.testing import MemoryReactorClock

from twisted_client.qt._binding import imported_api
from twisted_client.qt._install import kind_of
from twisted_client.qt._lifecycle import QtLifecycleMixin, finish_shutdown


def test_a_reactor_qt_does_not_drive_has_no_kind() -> None:
    """Twisted's reactors, test doubles and non-reactors are no Qt reactor,
    and asking imports no Qt binding."""
    from twisted.internet.task import Clock

    before = imported_api()
    for reactor in (MemoryReactorClock(), Clock(), object(), None, 3):
        assert kind_of(reactor) is None
    assert imported_api() == before


@pytest.mark.qt
def test_the_installed_qt_reactor_has_its_kind(reactor: Any) -> None:
    """The reactor of this pass is the kind its class says."""
    from tests.test_qt_install import kind_of as kind_by_class

    assert kind_of(reactor) == kind_by_class(reactor)


def test_the_drop_in_asks_the_same_function() -> None:
    """compat's runtime has no answer of its own (it used module-name prefixes)."""
    from twisted_client.compat import _runtime

    assert _runtime.kind_of is kind_of


class _Recording(QtLifecycleMixin):
    """A lifecycle reactor that only counts the shutdowns asked of it."""

    def __init__(self) -> None:  # no reactor behind it
        self.finished = 0

    def _finish_shutdown(self) -> None:
        self.finished += 1


def test_finish_shutdown_ends_our_reactors_only() -> None:
    """Our Qt reactors are driven to the end of their shutdown; any other
    reactor (stock qt5reactor, a test double) is left alone."""
    ours = _Recording()
    finish_shutdown(ours)
    assert ours.finished == 1
    other = MemoryReactorClock()
    finish_shutdown(other)
    assert not other.hasStopped
