"""The demo's parts that need no Qt: frame meter, command line, stress accounting."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from gui._commands import CLOSE, CONNECT, RECEIVE, SEND, ClientCommand, Reply
from gui._meter import FrameMeter
from gui._options import DEFAULT_PORT, ServerAddress, display_available, parse_args
from gui._options import parse_server as parse
from gui._stress import CHUNK, WINDOW, StressPlan, StressResult, StressRun


class _Frames:
    """A `FrameMeter` on a fake clock that only moves when the test says."""

    def __init__(self, window: float = 3.0) -> None:
        self.now = 100.0
        self.meter = FrameMeter(window=window, clock=lambda: self.now)

    def draw(self, *gaps: float) -> FrameMeter:
        """For each of ``gaps``: let that many seconds pass, then tick; the meter."""
        for gap in gaps:
            self.now += gap
            self.meter.tick()
        return self.meter


def test_meter_counts_frames_per_second() -> None:
    """Forty evenly spaced frames a second read as 40 fps with a 25 ms worst gap."""
    meter = _Frames(window=3.0).draw(0, *[0.025] * 199)
    assert meter.fps() == pytest.approx(40.0)
    assert meter.worst_gap() == pytest.approx(0.025)
    assert meter.frames == 200


def test_meter_worst_gap_shows_a_freeze_then_forgets_it() -> None:
    """A 400 ms freeze is the worst gap while in the window, then leaves it."""
    frames = _Frames(window=1.0)
    meter = frames.draw(0, 0.4)
    assert meter.worst_gap() == pytest.approx(0.4)
    frames.draw(*[0.025] * 60)
    assert meter.worst_gap() == pytest.approx(0.025)
    assert meter.worst_gap_ever == pytest.approx(0.4)


def test_meter_counts_a_current_freeze() -> None:
    """No frame for a while counts as a gap now, before the next frame arrives."""
    frames = _Frames(window=3.0)
    meter = frames.draw(0, 0.025)
    frames.now += 0.5
    assert meter.worst_gap() == pytest.approx(0.5)


def test_meter_reset_starts_over() -> None:
    """After reset the meter has no frames and no worst gap."""
    meter = _Frames().draw(0, 1)
    meter.reset()
    assert (meter.frames, meter.worst_gap_ever, meter.fps()) == (0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("embedded", None),
        ("example.com", ServerAddress("example.com", DEFAULT_PORT)),
        ("127.0.0.1:6000", ServerAddress("127.0.0.1", 6000)),
        ("[::1]:6000", ServerAddress("::1", 6000)),
        ("[::1]", ServerAddress("::1", DEFAULT_PORT)),
    ],
)
def test_server_addresses(text: str, expected: ServerAddress | None) -> None:
    """--server takes 'embedded', HOST, HOST:PORT and [V6]:PORT."""
    assert parse(text) == expected


@pytest.mark.parametrize("text", ["host:0", "host:70000", ":50007", "[::1", "h:x"])
def test_bad_server_addresses(text: str) -> None:
    """A bad --server value is a ValueError (argparse turns it into usage)."""
    with pytest.raises(ValueError, match="bad"):
        parse(text)


def test_headless_is_chosen_without_a_display() -> None:
    """With no DISPLAY on Linux, or the offscreen platform, the run is headless."""
    assert not display_available({}, "linux")
    assert not display_available({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})
    assert display_available({"DISPLAY": ":0"}, "linux")
    assert parse_args([], environ={}).headless
    assert not parse_args([], environ={"DISPLAY": ":0"}).headless
    assert parse_args(["--headless"], environ={"DISPLAY": ":0"}).headless


def test_defaults() -> None:
    """Defaults: twisted backend, embedded server, the seed's 1.5 s, a short run."""
    options = parse_args([], environ={})
    assert (options.backend, options.server, options.delay) == ("twisted", None, 1.5)
    assert options.delay < options.duration <= 5
    assert options.qt_api is None  # QT_API, else the first installed


def test_qt_api_is_one_of_the_supported_bindings() -> None:
    """--qt-api takes the names QT_API takes; parsing it imports no binding."""
    import sys

    bindings = {"PyQt5", "PyQt6", "PySide6"}
    before = bindings & set(sys.modules)
    for api in ("pyqt5", "pyqt6", "pyside6"):
        assert parse_args(["--qt-api", api], environ={}).qt_api == api
    assert bindings & set(sys.modules) == before


def test_bad_options_exit_with_usage() -> None:
    """Unknown backends or bindings, and seconds that are negative, NaN or
    infinite, are usage errors (exit status 2), not a traceback from the reactor."""
    for argv in (
        ["--backend", "carrier-pigeon"],
        ["--qt-api", "pyqt4"],
        ["--delay", "-1"],
        ["--delay", "nan"],
        ["--delay", "inf"],
        ["--duration", "0"],
        ["--duration", "nan"],
        ["--duration", "inf"],
    ):
        with pytest.raises(SystemExit) as exited:
            parse_args(argv, environ={})
        assert exited.value.code == 2


class _RecordingBackend:
    """A backend that records commands; the test answers them."""

    name = "fake"

    def __init__(self) -> None:
        self.commands: list[ClientCommand] = []
        self.drain = False

    def submit(self, commands: Iterable[ClientCommand]) -> None:
        self.commands.extend(commands)

    def stop(self) -> None:
        pass

    def set_drain(self, drain: bool) -> None:
        self.drain = drain


def _answer(run: StressRun, backend: _RecordingBackend, answered: int) -> int:
    """Answer every command not answered yet as a well-behaved echo would."""
    while answered < len(backend.commands):
        command = backend.commands[answered]
        answered += 1
        run.reply(Reply(True, command.data if command.type == RECEIVE else None))
    return answered


def _started_run(
    messages: int,
) -> tuple[StressRun, _RecordingBackend, list[StressResult]]:
    """A started `StressRun` of ``messages`` MiB on a `_RecordingBackend`, and
    the list its result goes to."""
    backend = _RecordingBackend()
    results: list[StressResult] = []
    plan = StressPlan(ServerAddress("127.0.0.1", 1), messages, results.append)
    run = StressRun(backend, plan)
    run.start()
    return run, backend, results


def test_stress_streams_every_message_then_closes() -> None:
    """CONNECT, N pairs of SEND 1 MiB / RECEIVE, CLOSE; at most 2*WINDOW in flight."""
    run, backend, results = _started_run(20)
    assert backend.drain
    assert backend.commands[0].type == CONNECT
    assert len(backend.commands) <= 1 + 2 * WINDOW
    answered = 0
    while not results:
        answered = _answer(run, backend, answered)
    types = [command.type for command in backend.commands]
    assert types == [CONNECT, *[SEND, RECEIVE] * 20, CLOSE]
    (result,) = results
    assert result.ok
    assert result.sent == 20 * CHUNK
    assert not backend.drain


def test_stress_stops_at_the_first_error() -> None:
    """A failed CONNECT ends the run with that error, after the queued replies."""
    run, backend, results = _started_run(100)
    queued = len(backend.commands)
    run.reply(Reply(False, "refused"))
    for _ in range(queued):  # the rest of the queue, and the CLOSE
        run.reply(Reply(False, "not connected"))
    (result,) = results
    assert not result.ok
    assert result.error == "CONNECT: refused"
    assert backend.commands[-1].type == CLOSE
    assert result.sent == 0


def test_stress_needs_an_echo_server() -> None:
    """A server that answers something else than the message ends the run with why."""
    run, backend, results = _started_run(3)
    answered = 0
    while not results:
        command = backend.commands[answered]
        answered += 1
        run.reply(Reply(True, b"tuxy" if command.type == RECEIVE else None))
    (result,) = results
    assert not result.ok
    assert "echo server" in str(result.error)
    assert backend.commands[-1].type == CLOSE
