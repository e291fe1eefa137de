"""The one exception tree: every public error derives from `ClientError`, names
its public package, and survives pickling with its message and attributes."""

from __future__ import annotations

import copy
import importlib
import pickle
from typing import Any

import pytest
from twisted.internet.error import ConnectionLost, ConnectionRefusedError
from twisted.python.failure import Failure

import twisted_client as tc
from twisted_client.compat import BlockingCallError
from twisted_client.qt import QtBindingError, WrongReactorError

pytestmark = pytest.mark.reactorless  # plain objects: one pass is enough

#: The packages whose ``__all__`` holds public exceptions.
PACKAGES = ("twisted_client", "twisted_client.qt", "twisted_client.compat")

#: One instance of each public exception, built as the library builds it.
EXAMPLES: list[BaseException] = [
    tc.ClientError("something went wrong"),
    tc.UsageError("max_buffered must be >= 0, not -1"),
    tc.WrongThreadError("send() was called from another thread"),
    tc.ClientClosed(),
    tc.ReactorShutdown(),
    tc.RemoteProtocolError("bad framing"),
    tc.MessageTooLong(70_000, 65_536),
    tc.ConnectError("tcp:example.com:80", ConnectionRefusedError()),
    tc.ConnectError("tcp:example.com:80", None),
    tc.ClientTimeout("a wait ran out of time"),
    tc.ConnectTimeout("example.com:80", 2.5),
    tc.ReceiveTimeout(0.25),
    tc.SignalTimeout("QtClient.connected", 5.0),
    tc.AsyncioReactorError("another Twisted reactor is installed already"),
    tc.ConnectionClosed(Failure(ConnectionLost()), clean=False, partial=0),
    tc.ConnectionClosed(Failure(ConnectionLost()), clean=True, partial=7),
    WrongReactorError("a Qt reactor was asked for"),
    QtBindingError("no Qt binding is installed"),
    BlockingCallError("reply_q.get() would block"),
]


def _public_exceptions() -> dict[str, type[BaseException]]:
    """``package.Name`` of every exception class in the packages' ``__all__``."""
    found = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            # vars(), not getattr(): the lazily loaded names need Qt.
            value = vars(module).get(name)
            if isinstance(value, type) and issubclass(value, BaseException):
                found[f"{package}.{name}"] = value
    return found


def _comparable(value: object) -> object:
    """An attribute in a form that compares by content (Failures, exceptions)."""
    if isinstance(value, Failure):
        return (Failure, value.type, value.getErrorMessage())
    if isinstance(value, BaseException):
        return (type(value), value.args)
    return value


def _state(error: BaseException) -> dict[str, Any]:
    return {
        "type": type(error),
        "str": str(error),
        "args": error.args,
        "attributes": {key: _comparable(v) for key, v in vars(error).items()},
    }


def test_every_public_exception_is_in_the_tree() -> None:
    """Every exception in a public package's ``__all__`` derives from `ClientError`."""
    outside = [
        name
        for name, cls in _public_exceptions().items()
        if not issubclass(cls, tc.ClientError)
    ]
    assert outside == []


def test_every_public_exception_names_a_public_module() -> None:
    """Tracebacks and pickles name the package a user imports an error from."""
    private = {
        name: cls.__module__
        for name, cls in _public_exceptions().items()
        if "._" in cls.__module__
    }
    assert private == {}
    assert WrongReactorError.__module__ == "twisted_client.qt"
    assert QtBindingError.__module__ == "twisted_client.qt"
    assert BlockingCallError.__module__ == "twisted_client.compat"


def test_every_public_exception_has_an_example_here() -> None:
    """A new public error gets an example above, so the pickling test covers it."""
    covered = {type(example) for example in EXAMPLES}
    missing = [name for name, cls in _public_exceptions().items() if cls not in covered]
    assert missing == []


@pytest.mark.parametrize(
    "protocol", [0, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL]
)
@pytest.mark.parametrize("error", EXAMPLES, ids=lambda error: type(error).__name__)
def test_errors_pickle_with_their_message_and_attributes(
    error: BaseException, protocol: int
) -> None:
    """``pickle.loads(pickle.dumps(e))`` gives the same class, str, args and
    attributes, although most ``__init__`` parameters are not the args."""
    assert _state(pickle.loads(pickle.dumps(error, protocol))) == _state(error)


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda error: type(error).__name__)
def test_errors_copy_with_their_message_and_attributes(error: BaseException) -> None:
    """`copy.copy` and `copy.deepcopy` (which pickle's protocol drives) agree."""
    assert _state(copy.copy(error)) == _state(error)
    assert _state(copy.deepcopy(error)) == _state(error)


@pytest.mark.parametrize("pickled", [False, True])
def test_connect_timeout_keeps_the_arguments_init_gave(pickled: bool) -> None:
    """`ConnectTimeout`'s args are the message its ``__init__`` set, nothing
    else, before and after pickling; it is still a `TimeoutError`."""
    error = tc.ConnectTimeout("example.com:80", 2.5)
    if pickled:
        error = pickle.loads(pickle.dumps(error))
    assert error.args == ("connecting to example.com:80 timed out after 2.5 s",)
    assert (error.destination, error.reason, error.timeout) == (
        "example.com:80",
        None,
        2.5,
    )
    assert isinstance(error, TimeoutError)


def test_a_pickled_error_keeps_notes_and_attributes_added_later() -> None:
    """Attributes set after ``__init__`` (notes and the like) survive too."""
    error = tc.MessageTooLong(9, 8)
    error.context = "while reading"  # type: ignore[attr-defined]
    copied = pickle.loads(pickle.dumps(error))
    assert copied.context == "while reading"
    assert (copied.length, copied.max_length) == (9, 8)


def test_the_moved_errors_are_still_importable_from_their_old_modules() -> None:
    """Code that imported them from the private modules gets the same classes."""
    from twisted_client.compat import _queues
    from twisted_client.qt import _binding, _install

    assert _queues.BlockingCallError is BlockingCallError
    assert _binding.QtBindingError is QtBindingError
    assert _install.WrongReactorError is WrongReactorError
