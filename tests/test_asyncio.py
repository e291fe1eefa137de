"""
`asyncio_reactor` and `as_future`: the client from an asyncio program.

Installing a reactor is once per process, and this process has one already,
so what installs runs in a subprocess (a program here prints what it saw);
refusals and `as_future` on Deferreds that need no reactor run in-process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from twisted.internet.defer import Deferred, succeed

from twisted_client import (
    AsyncioReactorError,
    UsageError,
    as_future,
    asyncio_reactor,
)
from twisted_client._asyncio import _install

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
"""Seconds before a program that does not end counts as a hang (the test fails)."""

_T = TypeVar("_T")

# Runs a client against a server on the asyncio reactor, leaves the block,
# and prints what it saw at each step: the shutdown trigger, the connections
# closed, the loop still running with the reactor's descriptors gone, an
# exception from the block, and a second block refused.
_LIFECYCLE = """
import asyncio
from twisted.internet import defer, task
from twisted_client import ClientError, as_future, asyncio_reactor, connect
from twisted_client.server import listen


async def main():
    loop = asyncio.get_running_loop()
    before = len(loop._selector.get_map())
    async with asyncio_reactor() as reactor:
        print("running", reactor.running)
        port = listen(reactor, 0).getHost().port

        def trigger():  # a Deferred-returning trigger is waited for
            print("shutdown trigger")
            return task.deferLater(reactor, 0.01, print, "trigger done")

        reactor.addSystemEventTrigger("before", "shutdown", trigger)
        client = await as_future(connect(reactor, "localhost", port, timeout=5))
        await as_future(client.send(b"ping"))
        print("echo", await as_future(client.receive(timeout=5)))
        client.when_closed().addCallback(lambda reason: print("closed:", reason))
    print("left; reactor running", reactor.running)
    await asyncio.sleep(0)
    print("loop running", loop.is_running())
    print("descriptors left", len(loop._selector.get_map()) - before)
    try:
        async with asyncio_reactor():
            pass
    except ClientError as error:
        print("again:", type(error).__name__)


async def failing():
    try:
        async with asyncio_reactor() as reactor:
            reactor.addSystemEventTrigger("before", "shutdown", print, "trigger")
            raise ValueError("from the block")
    except ValueError as error:
        print("raised:", error)


asyncio.run(main() if __import__("sys").argv[1] == "main" else failing())
print("exit")
"""


def _run_program(*arguments: str) -> list[str]:
    """Run the lifecycle program; its output lines (it must end with status 0)."""
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", _LIFECYCLE, *arguments],
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "error::ResourceWarning"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "Unhandled" not in done.stderr, done.stderr
    return done.stdout.splitlines()


def test_the_block_runs_the_reactor_and_shuts_it_down_leaving_the_loop() -> None:
    """
    Inside the block the reactor runs on the loop; leaving it fires the
    shutdown triggers (waiting for a Deferred one), closes the connections,
    and leaves the asyncio loop running with none of the reactor's
    descriptors; a second block in the same process is refused.
    """
    assert _run_program("main") == [
        "running True",
        "echo b'ping'",
        "shutdown trigger",
        "trigger done",
        "closed: the client was closed locally: the reactor is shutting down "
        "(the program is quitting)",
        "left; reactor running False",
        "loop running True",
        "descriptors left 0",
        "again: AsyncioReactorError",
        "exit",
    ]


def test_an_exception_in_the_block_propagates_after_the_shutdown() -> None:
    """An exception leaving the block is raised unchanged, after the triggers ran."""
    assert _run_program("failing") == ["trigger", "raised: from the block", "exit"]


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coroutine`` on a new asyncio loop of its own (not the test reactor's)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def test_a_process_with_a_reactor_is_refused_naming_it() -> None:
    """With a reactor installed already, entering the block says which one."""
    from twisted.internet import reactor

    async def enter() -> None:
        async with asyncio_reactor():
            pytest.fail("the block ran")

    with pytest.raises(AsyncioReactorError, match="installed already") as raised:
        _run(enter())
    assert type(reactor).__name__ in str(raised.value)
    assert isinstance(raised.value, UsageError)


def test_a_loop_that_is_not_a_selector_loop_is_refused() -> None:
    """A proactor-style loop is refused before anything is installed, saying why."""

    class ProactorEventLoop(asyncio.AbstractEventLoop):
        """A stand-in for Windows' default loop (no add_reader)."""

    with pytest.raises(AsyncioReactorError, match="selector event loop") as raised:
        _install(ProactorEventLoop())
    assert "ProactorEventLoop" in str(raised.value)
    assert "loop_factory=asyncio.SelectorEventLoop" in str(raised.value)


def test_as_future_gives_a_deferreds_result() -> None:
    """A Deferred's result comes out of the future."""

    async def main() -> int:
        return await as_future(succeed(5))

    assert _run(main()) == 5


def test_as_future_runs_a_twisted_coroutine_and_raises_its_failure() -> None:
    """A coroutine awaiting Deferreds runs; its exception is raised by the await."""
    later: Deferred[int] = Deferred()

    async def twisted_style() -> int:
        raise ValueError(await later)

    async def main() -> str:
        future = as_future(twisted_style())
        asyncio.get_running_loop().call_soon(later.callback, 3)
        try:
            await future
        except ValueError as error:
            return f"raised {error}"
        return "no error"

    assert _run(main()) == "raised 3"


def test_cancelling_the_future_cancels_the_deferred() -> None:
    """Cancelling what as_future gave cancels the Deferred behind it."""
    cancelled: list[Deferred[None]] = []
    waiting: Deferred[None] = Deferred(cancelled.append)

    async def main() -> None:
        future = as_future(waiting)
        asyncio.get_running_loop().call_soon(future.cancel)
        with pytest.raises(asyncio.CancelledError):
            await future

    _run(main())
    assert cancelled == [waiting]


def test_as_future_refuses_what_is_not_a_deferred_or_a_coroutine() -> None:
    """An asyncio future (awaited directly) or a value is a clear UsageError."""

    async def main() -> None:
        with pytest.raises(UsageError, match="not Future"):
            as_future(asyncio.get_running_loop().create_future())  # type: ignore[arg-type]

    _run(main())


def test_as_future_without_a_running_loop_says_where_to_call_it() -> None:
    """Outside a coroutine there is no loop for the future: a UsageError says so."""
    with pytest.raises(UsageError, match="running asyncio loop"):
        as_future(succeed(None))
