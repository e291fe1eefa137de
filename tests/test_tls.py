"""
TLS through Twisted endpoints, the server's certificate verified by default.

A CA and a server certificate for ``localhost`` / 127.0.0.1 are made at test
time; the server is the demo echo server behind ``listenSSL`` on loopback.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet.endpoints import TCP4ClientEndpoint, wrapClientTLS
from twisted.internet.protocol import Factory
from twisted.internet.ssl import Certificate, PrivateCertificate, optionsForClientTLS

from twisted_client import (
    ConnectError,
    ConnectionClosed,
    ConnectTimeout,
    ReconnectingClient,
    UsageError,
    connect_endpoint,
    connect_tls,
    tls_endpoint,
)
from twisted_client.server import ServerProtocol

from .reliability_certs import Issued, make_ca, make_server
from .reliability_peers import (
    PeerServer,
    client_transport,
    kernel_buffer,
    send_to_a_slow_reader,
    set_buffers,
)

# Twisted's TLS options still hand pyOpenSSL objects to pyOpenSSL, which warns.
pytestmark = pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")

CA = make_ca()
SERVER = make_server(CA, "localhost", ips=("127.0.0.1",))
OTHER_CA = make_ca("Some other CA")


class RecordingServer(ServerProtocol):
    """The echo server, noting every message that reached the application."""

    seen: list[bytes]

    def message_received(self, message: bytes) -> None:
        self.seen.append(message)
        super().message_received(message)


class TLSServer:
    """An echo server over TLS on 127.0.0.1 with the given certificate."""

    def __init__(self, reactor: Any, certificate: Issued = SERVER) -> None:
        self.seen: list[bytes] = []

        def build() -> RecordingServer:
            protocol = RecordingServer(reactor)
            protocol.seen = self.seen
            return protocol

        options = PrivateCertificate.loadPEM(certificate.pem).options()
        self.port = reactor.listenSSL(
            0, Factory.forProtocol(build), options, interface="127.0.0.1"
        )
        self.number = self.port.getHost().port


@pytest.fixture
def server(reactor: Any) -> Any:
    """A TLS echo server, stopped after the test."""
    running = TLSServer(reactor)
    yield running
    return running.port.stopListening()


@pytest_twisted.ensureDeferred
async def test_connect_tls_verifies_the_certificate_and_echoes(
    reactor: Any, server: TLSServer
) -> None:
    """A certificate from the trusted CA, for the right name: messages go through."""
    client = await connect_tls(
        reactor, "127.0.0.1", server.number, hostname="localhost", trust=CA.certificate
    )
    await client.send(b"secret")
    assert await client.receive(timeout=10) == b"secret"
    assert server.seen == [b"secret"]
    await client.close()


@pytest_twisted.ensureDeferred
async def test_connect_tls_by_name_with_a_trust_file(
    reactor: Any, server: TLSServer, tmp_path: Path
) -> None:
    """Connecting to ``localhost`` checks that name; trust can be a PEM file's path."""
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(OTHER_CA.certificate + CA.certificate)  # a bundle of two
    client = await connect_tls(reactor, "localhost", server.number, trust=bundle)
    await client.send(b"by name")
    assert await client.receive(timeout=10) == b"by name"
    await client.close()


@pytest_twisted.ensureDeferred
async def test_a_client_that_cannot_be_set_up_fails_connect_tls_with_why(
    reactor: Any, server: TLSServer, setup_fails: str
) -> None:
    """An error while setting the client up fails `connect_tls` with that
    error, before the handshake (not with the abort that followed it)."""
    with pytest.raises(ConnectError, match=setup_fails) as caught:
        await connect_tls(
            reactor,
            "127.0.0.1",
            server.number,
            hostname="localhost",
            trust=CA.certificate,
        )
    assert isinstance(caught.value.reason, RuntimeError)


@pytest_twisted.ensureDeferred
async def test_a_wrong_hostname_is_refused(reactor: Any, server: TLSServer) -> None:
    """
    A valid certificate for another name: the connect fails with `ConnectError`
    whose reason names the mismatch (service-identity's `VerificationError`),
    and nothing reaches the server.
    """
    with pytest.raises(ConnectError) as raised:
        await connect_tls(
            reactor,
            "127.0.0.1",
            server.number,
            hostname="wrong.example",
            trust=CA.certificate,
        )
    assert isinstance(raised.value.reason, VerificationError)
    assert "wrong.example" in str(raised.value)
    assert "tls:127.0.0.1" in str(raised.value)
    assert server.seen == []


@pytest.mark.parametrize(
    "trust", [None, OTHER_CA.certificate], ids=["system-trust", "other-ca"]
)
@pytest_twisted.ensureDeferred
async def test_an_untrusted_certificate_is_refused_by_default(
    reactor: Any, server: TLSServer, trust: bytes | None
) -> None:
    """Without trusting the issuing CA (system trust by default), the connect fails."""
    with pytest.raises(ConnectError) as raised:
        await connect_tls(
            reactor, "127.0.0.1", server.number, hostname="localhost", trust=trust
        )
    assert isinstance(raised.value.reason, SSL.Error)


@pytest_twisted.ensureDeferred
async def test_plain_twisted_tls_endpoints_work_too(
    reactor: Any, server: TLSServer
) -> None:
    """`connect_endpoint` takes ``wrapClientTLS(optionsForClientTLS(...), tcp)``."""
    options = optionsForClientTLS("localhost", Certificate.loadPEM(CA.certificate))
    endpoint = wrapClientTLS(
        options, TCP4ClientEndpoint(reactor, "127.0.0.1", server.number)
    )
    client = await connect_endpoint(reactor, endpoint)
    await client.send(b"endpoint")
    assert await client.receive(timeout=10) == b"endpoint"
    await client.close()


@pytest_twisted.ensureDeferred
async def test_a_tls_endpoint_string_refuses_a_wrong_hostname_later(
    reactor: Any, server: TLSServer, tmp_path: Path
) -> None:
    """
    With a ``tls:`` endpoint string the check happens too, but after connect
    returned: the message is never sent in clear (the server sees nothing) and
    the client ends with `ConnectionClosed` carrying the mismatch. This is
    why `connect_tls` waits for the handshake.
    """
    (tmp_path / "ca.pem").write_bytes(CA.certificate)
    good = await connect_endpoint(
        reactor, rf"tls:localhost:{server.number}:trustRoots={tmp_path}"
    )
    await good.send(b"string")
    assert await good.receive(timeout=10) == b"string"
    await good.close()

    wrong = await connect_endpoint(
        reactor,
        rf"tls:wrong.example:{server.number}"
        rf":endpoint=tcp\:127.0.0.1\:{server.number}:trustRoots={tmp_path}",
    )
    wrong.send(b"must not leak").addErrback(lambda _: None)
    with pytest.raises(ConnectionClosed) as raised:
        await wrong.receive(timeout=10)
    assert raised.value.reason.check(VerificationError)
    assert server.seen == [b"string"]


@pytest_twisted.ensureDeferred
async def test_a_handshake_that_never_comes_times_out(reactor: Any) -> None:
    """A peer that accepts TCP but never speaks TLS: `ConnectTimeout`, then dropped."""
    peers = PeerServer(reactor)
    try:
        attempt = connect_tls(
            reactor, "127.0.0.1", peers.number, trust=CA.certificate, timeout=0.2
        )
        peer = await peers.accept()
        with pytest.raises(ConnectTimeout):
            await attempt
        await peer.lost
    finally:
        await peers.stop()


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        ({"host": ""}, "host"),
        ({"port": 0}, "port"),
        ({"hostname": ""}, "hostname"),
        ({"trust": b"not a certificate"}, "PEM"),
        ({"trust": "/nonexistent/ca.pem"}, "cannot read"),
        ({"timeout": -1}, "timeout"),
        ({"max_length": -1}, "max_length"),
    ],
)
def test_connect_tls_refuses_bad_arguments(
    reactor: Any, arguments: dict[str, Any], needle: str
) -> None:
    """Bad arguments raise `UsageError` at the call, naming what is wrong."""
    given = {"host": "127.0.0.1", "port": 1, "trust": CA.certificate, **arguments}
    host, port = given.pop("host"), given.pop("port")
    with pytest.raises(UsageError, match=needle):
        connect_tls(reactor, host, port, **given)


@pytest_twisted.ensureDeferred
async def test_send_over_tls_waits_for_a_peer_that_does_not_read(
    reactor: Any,
) -> None:
    """
    Back-pressure survives TLS: `Client.send` over TLS fires only while the
    socket under TLS holds less than its buffer size, so a sender that waits
    for it stays within the kernel buffers plus that much of a slow reader;
    every message arrives whole and in order.
    """
    options = PrivateCertificate.loadPEM(SERVER.pem).options()
    server = PeerServer(reactor, tls=options)
    try:
        client = await connect_tls(
            reactor,
            "127.0.0.1",
            server.number,
            hostname="localhost",
            trust=CA.certificate,
        )
        peer = await server.accept()
        client_tcp = client_transport(client).transport
        peer_tcp = peer.transport.transport
        set_buffers(client_tcp, send=64 * 1024)
        set_buffers(peer_tcp, recv=64 * 1024)
        buffered = kernel_buffer(client_tcp, socket.SO_SNDBUF) + kernel_buffer(
            peer_tcp, socket.SO_RCVBUF
        )
        allowed = buffered + 2 * 65536  # + the TLS socket's buffer, + overhead
        messages = [bytes([i]) * (64 * 1024) for i in range(100)]
        assert sum(map(len, messages)) > 10 * allowed
        await send_to_a_slow_reader(
            reactor, client, peer, messages, lambda message: allowed + len(message)
        )
    finally:
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_reconnecting_over_tls_checks_every_connection(
    reactor: Any, server: TLSServer
) -> None:
    """
    `tls_endpoint` gives `ReconnectingClient` verified TLS: with a wrong name
    every attempt fails with the mismatch and nothing connects; with the right
    one it connects and echoes.
    """
    wrong = ReconnectingClient(
        reactor,
        tls_endpoint(
            reactor,
            "127.0.0.1",
            server.number,
            hostname="wrong.example",
            trust=CA.certificate,
        ),
        initial_delay=0.01,
        jitter=0.0,
    )
    wrong.start()
    try:
        with pytest.raises(ConnectError) as raised:
            await wrong.when_connected(failures=2)
        assert isinstance(raised.value.reason, VerificationError)
        assert wrong.client is None
    finally:
        await wrong.stop()
    right = ReconnectingClient(
        reactor,
        tls_endpoint(
            reactor,
            "127.0.0.1",
            server.number,
            hostname="localhost",
            trust=CA.certificate,
        ),
    )
    right.start()
    try:
        client = await right.when_connected(failures=1)
        await client.send(b"verified")
        assert await client.receive(timeout=10) == b"verified"
    finally:
        await right.stop()
    assert server.seen == [b"verified"]
