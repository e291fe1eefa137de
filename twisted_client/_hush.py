"""
Keeping a failure that was reported already out of "Unhandled error in Deferred".

Twisted keeps the failure a Deferred's callbacks ended with in the
Deferred's ``_debugInfo`` (a `DebugInfo`) and logs it when the Deferred is
collected. `QtClient` emits its failures as signals and `async_slot`
reports a slot's failure; the Deferreds they hand back may be ignored, and
logging the same failure a second time would only mislead. `hush` gives a
Deferred a record that stays silent about the one failure `handled` names;
any other failure its callbacks end with is logged as usual.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import DebugInfo, Deferred
from twisted.python.failure import Failure

__all__ = ["handled", "hush"]


class _HushedDebugInfo(DebugInfo):
    """Twisted's record of a Deferred's unhandled failure, silent about one."""

    handled: Failure | None = None

    def __del__(self) -> None:
        if self.failResult is not None and self.failResult is self.handled:
            return
        super().__del__()


def hush(deferred: Deferred[Any]) -> None:
    """Give ``deferred`` a record that `handled` can silence, keeping its old one."""
    quiet = _HushedDebugInfo()
    old = deferred._debugInfo
    if old is not None:
        quiet.creator, quiet.invoker = old.creator, old.invoker
        quiet.failResult, old.failResult = old.failResult, None
    deferred._debugInfo = quiet


def handled(deferred: Deferred[Any], failure: Failure) -> None:
    """``failure`` was reported: if ``deferred`` ends with it, do not log it."""
    info = deferred._debugInfo
    if isinstance(info, _HushedDebugInfo):
        info.handled = failure
