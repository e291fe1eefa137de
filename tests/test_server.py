"""The demo server: its protocol on a `Clock`, and its command line in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.address import IPv4Address, UNIXAddress
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor, StringTransport

from twisted_client import UsageError, connect_tls
from twisted_client.server import (
    ServerProtocol,
    _parse_args,
    listen,
    listening_address,
)

from .helpers import run_python
from .reliability_certs import make_ca, make_server
from .wire import wire


def served(**options: object) -> tuple[ServerProtocol, StringTransport, Clock]:
    """A server connection on an in-memory transport and a fake clock."""
    clock = Clock()
    protocol = ServerProtocol(clock, **options)  # type: ignore[arg-type]
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport, clock


@pytest.mark.reactorless
def test_echoes_at_once_by_default() -> None:
    """Without a delay, each message is echoed as it arrives."""
    protocol, transport, _ = served()
    protocol.dataReceived(wire(b"one", b"two"))
    assert transport.value() == wire(b"one", b"two")


@pytest.mark.reactorless
def test_fixed_reply() -> None:
    """With ``reply``, every message is answered with it."""
    protocol, transport, _ = served(reply=b"tuxy")
    protocol.dataReceived(wire(b"hello"))
    assert transport.value() == b"\x04\x00\x00\x00tuxy"


@pytest.mark.reactorless
def test_delay_answers_later_and_in_order() -> None:
    """Answers wait ``delay`` seconds each, and keep the order of the requests."""
    protocol, transport, clock = served(delay=1.5)
    protocol.dataReceived(wire(b"a"))
    clock.advance(0.5)
    protocol.dataReceived(wire(b"b", b"c"))
    clock.advance(0.9)
    assert transport.value() == b""
    clock.advance(0.1)
    assert transport.value() == wire(b"a")
    clock.advance(0.5)
    assert transport.value() == wire(b"a", b"b", b"c")
    assert clock.getDelayedCalls() == []


@pytest.mark.reactorless
def test_pushes_unasked() -> None:
    """With ``push_every``, numbered messages are sent at that period."""
    _, transport, clock = served(push_every=2.0)
    clock.advance(2.0)
    clock.advance(2.0)
    assert transport.value() == wire(b"push 1", b"push 2")


@pytest.mark.reactorless
def test_connection_lost_cancels_pending_work() -> None:
    """A closed connection leaves no pending answer or push timer behind."""
    protocol, _, clock = served(delay=1.0, push_every=1.0)
    protocol.dataReceived(wire(b"pending"))
    protocol.connectionLost()
    assert clock.getDelayedCalls() == []


@pytest.mark.reactorless
@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"delay": -1}, "delay"),
        ({"delay": float("nan")}, "delay"),
        ({"delay": float("inf")}, "delay"),
        ({"push_every": 0}, "push_every"),
        ({"push_every": float("nan")}, "push_every"),
        ({"push_every": float("inf")}, "push_every"),
        ({"max_length": -1}, "max_length"),
    ],
)
def test_listen_refuses_bad_options(options: dict[str, object], word: str) -> None:
    """Bad options are a `UsageError` before anything listens."""
    with pytest.raises(UsageError, match=word):
        listen(object(), 0, **options)  # type: ignore[arg-type]


@pytest.mark.reactorless
def test_listening_address_tells_the_port_picked() -> None:
    """The address of a TCP listening port; anything else is a `UsageError`."""
    port = listen(MemoryReactor(), 0, "127.0.0.1")
    assert listening_address(port) == IPv4Address("TCP", "0.0.0.0", 0)

    class UnixPort:
        def getHost(self) -> UNIXAddress:
            return UNIXAddress(b"/tmp/socket")

    with pytest.raises(UsageError, match="does not listen on TCP"):
        listening_address(UnixPort())  # type: ignore[arg-type]


def start_server(*arguments: str) -> tuple[subprocess.Popen[str], int]:
    """Run the server's command line on a free port; return it and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "twisted_client.server", "--port", "0", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    host, _, port = first.removeprefix("listening on ").rpartition(":")
    assert first.startswith("listening on "), first
    assert host == "127.0.0.1"
    return process, int(port)


def exchange(port: int, message: bytes) -> bytes:
    """One request and its answer over a plain socket, seed-style."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(wire(message))
        header = sock.recv(4, socket.MSG_WAITALL)
        (length,) = struct.unpack("<L", header)
        return sock.recv(length, socket.MSG_WAITALL)


@pytest.mark.reactorless
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_command_line_serves_and_stops_on_signal(stop: signal.Signals) -> None:
    """
    ``python -m twisted_client.server`` prints its address and serves clients.

    SIGTERM and Ctrl-C (SIGINT) stop it cleanly, with exit status 0.
    """
    process, port = start_server("--reply", "tuxy", "--delay", "0.01")
    try:
        assert exchange(port, b"hello") == b"tuxy"
        assert exchange(port, b"again") == b"tuxy"
        os.kill(process.pid, stop)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.communicate()


@pytest.mark.reactorless
def test_command_line_echoes_many_clients_at_once() -> None:
    """Several clients connected at once each get their own echo."""
    process, port = start_server()
    try:
        sockets = [
            socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(20)
        ]
        for n, sock in enumerate(sockets):
            sock.sendall(wire(b"client %d" % n))
        for n, sock in enumerate(sockets):
            (length,) = struct.unpack("<L", sock.recv(4, socket.MSG_WAITALL))
            assert sock.recv(length, socket.MSG_WAITALL) == b"client %d" % n
            sock.close()
    finally:
        process.terminate()
        process.communicate(timeout=20)


@pytest.mark.reactorless
def test_command_line_reports_a_port_in_use() -> None:
    """A port that is taken gives a one-line error and exit status 1."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        result = run_python(
            "-m",
            "twisted_client.server",
            "--port",
            str(taken.getsockname()[1]),
            timeout=30,
        )
    finally:
        taken.close()
    assert result.returncode == 1
    assert "cannot listen" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.reactorless
def test_command_line_refuses_bad_arguments() -> None:
    """A negative delay is refused by the argument parser (exit status 2)."""
    result = run_python("-m", "twisted_client.server", "--delay", "-1", timeout=30)
    assert result.returncode == 2
    assert "--delay" in result.stderr


@pytest.mark.reactorless
@pytest.mark.parametrize(
    "argv",
    [
        ["--delay", "nan"],
        ["--delay", "inf"],
        ["--delay", "-1"],
        ["--push-every", "nan"],
        ["--push-every=-inf"],
        ["--push-every", "0"],
    ],
)
def test_command_line_refuses_non_finite_seconds(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """NaN, infinities and out-of-range seconds are argparse errors (status 2)
    that name the option, not a server that starts and never answers."""
    with pytest.raises(SystemExit) as exited:
        _parse_args(argv)
    assert exited.value.code == 2
    error = capsys.readouterr().err
    option = argv[0].split("=")[0]
    assert f"argument {option}: expected a finite number of seconds" in error


SERVER_CA = make_ca()
SERVER_CERTIFICATE = make_server(SERVER_CA, "localhost", ips=("127.0.0.1",))


@pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")
@pytest_twisted.ensureDeferred
async def test_listen_serves_over_tls(reactor: Any, listening: Any) -> None:
    """``listen(tls=(certificate, key))`` serves TLS: `connect_tls` verifies it."""
    port = listening.echo(tls=(SERVER_CERTIFICATE.certificate, SERVER_CERTIFICATE.key))
    client = await connect_tls(
        reactor,
        "127.0.0.1",
        port.getHost().port,
        hostname="localhost",
        trust=SERVER_CA.certificate,
    )
    await client.send(b"over tls")
    assert await client.receive(timeout=10) == b"over tls"
    await client.close()


@pytest.mark.reactorless
@pytest.mark.parametrize(
    ("tls", "needle"),
    [
        (("/nonexistent/cert.pem", "/nonexistent/key.pem"), "cannot read"),
        ((b"no certificate", b"no key"), "a PEM certificate and its private key"),
        ((SERVER_CERTIFICATE.certificate,), r"a \(certificate, key\) pair"),
        ((SERVER_CERTIFICATE.certificate, 7), "PEM bytes or a path"),
    ],
)
def test_listen_refuses_unusable_tls(tls: Any, needle: str) -> None:
    """An unusable ``tls`` is a `UsageError` before anything listens."""
    with pytest.raises(UsageError, match=needle):
        listen(object(), 0, tls=tls)


@pytest.mark.reactorless
def test_command_line_serves_tls(tmp_path: Path) -> None:
    """``--tls CERT KEY`` serves TLS that a stdlib client verifies against the CA."""
    (tmp_path / "cert.pem").write_bytes(SERVER_CERTIFICATE.certificate)
    (tmp_path / "key.pem").write_bytes(SERVER_CERTIFICATE.key)
    (tmp_path / "ca.pem").write_bytes(SERVER_CA.certificate)
    process, port = start_server(
        "--tls", str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    )
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as sock,
        ):
            sock.sendall(wire(b"hello"))
            header = sock.recv(4)
            (length,) = struct.unpack("<L", header)
            assert sock.recv(length) == b"hello"
    finally:
        process.terminate()
        process.communicate(timeout=20)


@pytest.mark.reactorless
def test_command_line_reports_unusable_tls_files(tmp_path: Path) -> None:
    """A missing key file gives a one-line error and exit status 1."""
    (tmp_path / "cert.pem").write_bytes(SERVER_CERTIFICATE.certificate)
    result = run_python(
        "-m",
        "twisted_client.server",
        "--port",
        "0",
        "--tls",
        str(tmp_path / "cert.pem"),
        str(tmp_path / "missing.pem"),
        timeout=30,
    )
    assert result.returncode == 1
    assert "cannot read" in result.stderr
    assert "missing.pem" in result.stderr
    assert "Traceback" not in result.stderr
