"""
`asyncio_reactor` and `as_future`: the client from an asyncio program.

Deferreds are awaitable in Twisted's coroutines only: a coroutine that
`asyncio.run` drives fails with ``Task got bad yield`` when it awaits one.
So an asyncio program runs Twisted's `AsyncioSelectorReactor` on its own
loop for a while (``async with asyncio_reactor() as reactor:``) and awaits a
Deferred, or a whole Twisted coroutine, through `as_future`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Coroutine, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.error import ReactorNotRunning

from ._errors import AsyncioReactorError, UsageError

if TYPE_CHECKING:  # imported when used, not with the package (it is slow to import)
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    from ._asyncio_guest import GuestReactor

__all__ = ["as_future", "asyncio_reactor"]

_T = TypeVar("_T")


@contextlib.asynccontextmanager
async def asyncio_reactor() -> AsyncIterator[AsyncioSelectorReactor]:
    """
    Run Twisted's asyncio reactor on the running asyncio loop, for the block.

    ``async with asyncio_reactor() as reactor:`` inside ``asyncio.run(...)``
    installs an `AsyncioSelectorReactor` on the running loop as the global
    reactor, starts it (its startup triggers fire; no signal handlers: the
    loop keeps its own), and gives it. On leaving the block, also by an
    exception, it stops the reactor and waits until it has shut down: the
    shutdown triggers have run (Deferred-returning ones waited for), the
    connections are closed and the thread pool is stopped. The asyncio loop
    keeps running. A process runs it once: Twisted reactors cannot restart.

    Raises:
        AsyncioReactorError: another Twisted reactor is installed already
            (something imported ``twisted.internet.reactor`` first, or the
            block ran before), or the loop is not a selector loop (the
            ``ProactorEventLoop`` Windows uses by default).
    """
    loop = asyncio.get_running_loop()
    reactor = _install(loop)
    stopped: Deferred[None] = Deferred()
    reactor.addSystemEventTrigger("after", "shutdown", stopped.callback, None)
    reactor.startRunning(installSignalHandlers=False)
    try:
        yield reactor
    finally:
        with contextlib.suppress(ReactorNotRunning):  # the block stopped it
            reactor.stop()  # type: ignore[no-untyped-call]
        # Shielded: a second cancellation leaves the block; shutdown goes on.
        await asyncio.shield(stopped.asFuture(loop))
        reactor.leave_loop()


def as_future(
    awaitable: Deferred[_T]
    | Coroutine[Deferred[Any], Any, _T]
    | Generator[Deferred[Any], Any, _T],
) -> asyncio.Future[_T]:
    """
    An asyncio future for a Deferred, or for a coroutine that awaits Deferreds.

    ``await as_future(connect(reactor, host, port))`` gives the client;
    ``await as_future(talk(client))`` runs a coroutine written as in Twisted
    (``async with client``, ``async for message in client``, ``await
    client.receive()``) through `Deferred.fromCoroutine` and gives its
    result. Either way a failure is raised as its exception, and cancelling
    the future cancels the Deferred. Call it in a coroutine running on the
    loop of `asyncio_reactor`: the future belongs to the running loop, and
    the Deferred must fire on that loop's thread.

    Raises:
        UsageError: no asyncio loop is running in this thread, or
            ``awaitable`` is neither a Deferred nor a coroutine (an asyncio
            future or task is awaited directly).
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise UsageError(
            "as_future() needs a running asyncio loop: call it in a coroutine "
            "inside 'async with asyncio_reactor()'"
        ) from None
    if isinstance(awaitable, Deferred):
        return awaitable.asFuture(loop)
    if asyncio.iscoroutine(awaitable):
        return Deferred.fromCoroutine(awaitable).asFuture(loop)
    raise UsageError(
        f"as_future() takes a Deferred or a coroutine, not {type(awaitable).__name__}"
        " (await an asyncio future or task directly)"
    )


def _install(loop: asyncio.AbstractEventLoop) -> GuestReactor:
    """Install a `GuestReactor` on ``loop``, or say why it cannot be."""
    from twisted.internet.main import installReactor

    from ._asyncio_guest import GuestReactor

    if not isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop):
        raise AsyncioReactorError(
            "Twisted's asyncio reactor needs a selector event loop, and this one "
            f"is a {type(loop).__name__}; run the program on a selector loop: "
            "asyncio.run(main(), loop_factory=asyncio.SelectorEventLoop) "
            "(Python 3.12+) or asyncio.Runner(loop_factory=asyncio.SelectorEventLoop)"
        )
    if "twisted.internet.reactor" in sys.modules:
        from twisted.internet import reactor as installed

        if isinstance(installed, GuestReactor):
            raise AsyncioReactorError(
                "Twisted's asyncio reactor ran in this process already, and a "
                "Twisted reactor cannot be restarted: keep one 'async with "
                "asyncio_reactor()' block around everything that uses it"
            )
        kind = f"{type(installed).__module__}.{type(installed).__name__}"
        raise AsyncioReactorError(
            f"a Twisted reactor is installed already ({kind}); 'async with "
            "asyncio_reactor()' installs Twisted's asyncio reactor once per "
            "process, before anything imports twisted.internet.reactor"
        )
    reactor = GuestReactor(loop)
    installReactor(reactor)
    return reactor
