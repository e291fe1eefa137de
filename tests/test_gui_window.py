"""The demo window under a Qt reactor, offscreen: the exchange on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from gui._backends import backend_available
from gui._options import BACKENDS, ServerAddress
from gui._stress import StressResult

pytestmark = pytest.mark.qt

WAIT = 20.0
"""Seconds before a wait for a signal fails the test instead of hanging it."""


def next_emission(reactor: Any, signal: Any) -> Deferred[Any]:
    """
    A Deferred that fires with the next value ``signal`` emits.

    It fires from a reactor call, not inside the Qt emission: pytest-twisted
    runs the test's code on another greenlet, and a test that ended (and tore
    down its window) in the middle of an emission would leave Qt returning
    into deleted objects.
    """
    fired: Deferred[Any] = Deferred()

    def slot(value: Any = None) -> None:
        signal.disconnect(slot)
        reactor.callLater(0, fire, value)

    def fire(value: Any) -> None:
        if not fired.called:
            fired.callback(value)

    signal.connect(slot)
    return fired.addTimeout(WAIT, reactor)


def click(reactor: Any, button: Any, signal: Any) -> Deferred[Any]:
    """Click ``button``; a Deferred that fires with the next value ``signal`` emits."""
    emitted = next_emission(reactor, signal)
    button.click()
    return emitted


async def replies_logged(reactor: Any, window: Any, count: int) -> None:
    """Wait until ``count`` replies of the current exchange are logged."""
    while len(window.exchanges[-1]) < count:
        await next_emission(reactor, window.reply_logged)


def _serve(reactor: Any, **options: Any) -> Iterator[ServerAddress]:
    """A demo server (`twisted_client.server.listen` ``options``) for one test."""
    from twisted_client.server import listen

    port = listen(reactor, 0, **options)
    yield ServerAddress("127.0.0.1", port.getHost().port)
    port.stopListening()


@pytest.fixture
def seed_server(reactor: Any) -> Iterator[ServerAddress]:
    """A server that answers ``tuxy`` after 0.3 s, like the seed's (shorter)."""
    yield from _serve(reactor, delay=0.3, reply=b"tuxy")


@pytest.fixture
def slow_server(reactor: Any) -> Iterator[ServerAddress]:
    """A server that would answer only after a minute: a RECEIVE stays pending."""
    yield from _serve(reactor, delay=60.0, reply=b"late")


@pytest.fixture
def echo_server(reactor: Any) -> Iterator[ServerAddress]:
    """A server that echoes every message at once (what the stress action needs)."""
    yield from _serve(reactor)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each of the demo's backends in turn."""
    name: str = request.param
    return name


@pytest.fixture
def make_window(qapp: Any, reactor: Any) -> Iterator[Any]:
    """Build demo windows; every one is closed at the end of the test."""
    from gui._window import DemoWindow

    made: list[Any] = []

    def make(address: ServerAddress, backend: str = "twisted", **kw: Any) -> Any:
        if not backend_available(backend):
            pytest.skip(f"the {backend} backend is not available yet")
        window = DemoWindow(reactor, address, backend=backend, **kw)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()


@pytest_twisted.async_fixture
async def receive_waits(
    reactor: Any, make_window: Any, slow_server: ServerAddress, backend: str
) -> Any:
    """
    A window on ``backend`` after "Do it!": CONNECT and SEND answered, RECEIVE
    waiting for `slow_server`. (Tests for one backend parametrize ``backend``.)
    """
    window = make_window(slow_server, backend)
    window.do_it_button.click()
    await replies_logged(reactor, window, 2)
    return window


@pytest_twisted.ensureDeferred
async def test_do_it_logs_the_four_replies(
    reactor: Any, make_window: Any, seed_server: ServerAddress, backend: str
) -> None:
    """Clicking "Do it!" logs SUCCESS for CONNECT, SEND, RECEIVE (tuxy), CLOSE."""
    window = make_window(seed_server, backend)
    replies = await click(reactor, window.do_it_button, window.exchange_finished)
    assert [(reply.ok, reply.data) for reply in replies] == [
        (True, None),
        (True, None),
        (True, b"tuxy"),
        (True, None),
    ]
    logged = [line.split("] ", 1)[1] for line in window.log_lines]
    assert logged[-4:] == [
        "Client reply SUCCESS: None",
        "Client reply SUCCESS: None",
        "Client reply SUCCESS: tuxy",
        "Client reply SUCCESS: None",
    ]
    assert window.log_pane.toPlainText().splitlines() == window.log_lines
    assert not window.busy


@pytest_twisted.ensureDeferred
async def test_refused_connection_is_an_error_line(
    reactor: Any, make_window: Any, backend: str
) -> None:
    """A refused CONNECT is a 'Client reply ERROR' line; the window stays usable."""
    from twisted_client.server import listen

    port = listen(reactor, 0)
    address = ServerAddress("127.0.0.1", port.getHost().port)
    await port.stopListening()  # nothing listens there any more
    window = make_window(address, backend)
    replies = await click(reactor, window.do_it_button, window.exchange_finished)
    assert not replies[0].ok
    assert "refused" in str(replies[0].data).lower()
    assert any("Client reply ERROR: " in line for line in window.log_lines)
    assert window.do_it_button.isEnabled()


@pytest_twisted.ensureDeferred
async def test_frames_keep_coming_while_the_server_delays(
    reactor: Any, make_window: Any, seed_server: ServerAddress, backend: str
) -> None:
    """Between the SEND reply and the delayed RECEIVE reply the animation ticks on."""
    window = make_window(seed_server, backend)
    frames: list[int] = []
    window.circles.frame_advanced.connect(frames.append)
    window.do_it_button.click()
    await replies_logged(reactor, window, 2)
    before = len(frames)
    await replies_logged(reactor, window, 3)
    # 0.3 s of waiting is about 12 frames at 25 ms; a blocked GUI thread
    # would have let at most one (coalesced) timer tick through.
    assert len(frames) - before >= 3


@pytest_twisted.ensureDeferred
async def test_closing_mid_exchange_stops_everything(
    reactor: Any, receive_waits: Any
) -> None:
    """Closing while RECEIVE waits drops the backend and stops the animation."""
    window = receive_waits
    closed = next_emission(reactor, window.closed)
    assert window.busy
    window.close()
    await closed
    assert not window.busy
    assert not window.circles._timer.isActive()
    assert len(window.exchanges[-1]) == 2  # nothing more was logged
    window.do_it_button.click()  # a click after closing does nothing
    assert len(window.exchanges) == 1


@pytest.mark.parametrize("backend", ["twisted"])
@pytest_twisted.ensureDeferred
async def test_closing_mid_exchange_drops_the_native_connection(
    reactor: Any, receive_waits: Any
) -> None:
    """With the native client, closing the window closes its connection at once."""
    window = receive_waits
    client = window._backend.client
    assert client is not None
    assert client.is_open
    window.close()
    reason = await client.when_closed().addTimeout(WAIT, reactor)
    assert not client.is_open
    assert reason is not None


@pytest_twisted.ensureDeferred
async def test_stress_streams_and_reports(
    reactor: Any, make_window: Any, echo_server: ServerAddress, backend: str
) -> None:
    """The stress action streams its MiB through an echo server and gets them back."""
    window = make_window(echo_server, backend, stress_mb=4)
    done = click(reactor, window.stress_button, window.stress_finished)
    assert not window.do_it_button.isEnabled()
    result: StressResult = await done
    assert result.ok, result.error
    assert result.sent == result.received == 4 * 1024 * 1024
    assert window.do_it_button.isEnabled()
    assert window.log_lines[-1].split("] ", 1)[1].startswith("Stress done")


@pytest.mark.parametrize("backend", ["twisted"])
def test_switching_backend_mid_exchange_drops_it(receive_waits: Any) -> None:
    """Choosing another backend while one waits drops the pending commands."""
    window = receive_waits
    window.backend_box.setCurrentText("thread")
    assert window.backend_name == "thread"
    assert not window.busy
    assert "pending commands dropped" in window.log_lines[-2]


def test_status_line_names_the_binding_and_the_reactor(
    reactor: Any, make_window: Any, seed_server: ServerAddress
) -> None:
    """The window's status line says which Qt binding and reactor it runs on."""
    from twisted_client.qt import binding

    window = make_window(seed_server)
    qt = binding()
    assert window.status_label.text() == (
        f"{qt.name} {qt.version} on Qt {qt.qt_version} · {type(reactor).__name__}"
    )
    assert window.status_label.isVisible()
