"""The drop-in refuses bad options with the core's checks, word for word."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from twisted_client import UsageError
from twisted_client._checks import check_callback, check_seconds
from twisted_client._framing import check_max_length
from twisted_client.compat import SocketClientThread


def _text(call: Callable[[], object]) -> str:
    with pytest.raises(UsageError) as raised:
        call()
    return str(raised.value)


@pytest.mark.parametrize("bad", [2**32, -1, 1.5, "10", True])
def test_max_length_is_refused_as_the_core_refuses_it(bad: object) -> None:
    """The same text as `LengthPrefixedProtocol`'s own check."""
    adapter = _text(lambda: SocketClientThread(max_length=bad))  # type: ignore[arg-type]
    assert adapter == _text(lambda: check_max_length(bad))  # type: ignore[arg-type]
    assert "max_length" in adapter


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True, "5"])
def test_connect_timeout_is_refused_as_the_core_refuses_it(bad: object) -> None:
    """The same text as `connect`'s ``timeout`` check, under its own name."""
    adapter = _text(lambda: SocketClientThread(connect_timeout=bad))  # type: ignore[arg-type]
    core = _text(
        lambda: check_seconds("connect_timeout", bad, allow_none=True, positive=True)
    )
    assert adapter == core


def test_on_reply_is_refused_as_the_core_refuses_it() -> None:
    """A callback that is not callable: the core's text, naming ``on_reply``."""
    adapter = _text(lambda: SocketClientThread(on_reply="print"))  # type: ignore[arg-type]
    assert adapter == _text(lambda: check_callback("on_reply", "print"))
    assert adapter == "on_reply must be callable or None, not 'print'"
    check_callback("on_reply", None)
    check_callback("on_reply", print)
