"""
The drop-in over TLS: ``SocketClientThread(tls=...)`` against the demo server
serving TLS on loopback, with a CA and certificates made at test time.

Verification is as strict as `connect_tls`: an untrusted certificate or a
wrong host name is an ERROR reply that says which, never a hang and never
a connection in clear. The classic thread (``compat.threaded``) has no TLS
and says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from twisted_client import UsageError
from twisted_client.compat import SocketClientThread, TLSOptions
from twisted_client.compat.threaded import NO_TLS
from twisted_client.compat.threaded import SocketClientThread as ClassicThread

from .helpers import CLOSE, CONNECT, ERROR, RECEIVE, SEND, SUCCESS, Adapter, tls_missing
from .reliability_certs import make_ca, make_server

# Twisted's TLS options still hand pyOpenSSL objects to pyOpenSSL, which warns.
pytestmark = pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")

CA = make_ca()
SERVER = make_server(CA, "localhost", ips=("127.0.0.1",))
OTHER_CA = make_ca("Some other CA")


@pytest.fixture
def tls_echo(listening: Any) -> int:
    """The demo echo server over TLS on loopback: its port number."""
    return int(listening.echo(tls=(SERVER.certificate, SERVER.key)).getHost().port)


@pytest.fixture
def exchange_over_tls(
    adapter: Callable[..., Adapter], tls_echo: int
) -> Callable[..., Awaitable[list[tuple[int, Any]]]]:
    """``await exchange_over_tls(tls, host="127.0.0.1")``: the classic exchange
    (CONNECT, SEND, RECEIVE, CLOSE) with `tls_echo`, on a new client with ``tls``."""

    async def exchange(
        tls: bool | TLSOptions, host: str = "127.0.0.1"
    ) -> list[tuple[int, Any]]:
        return await adapter(tls=tls).exchange(
            (CONNECT, (host, tls_echo)), (SEND, b"secret"), (RECEIVE,), (CLOSE,)
        )

    return exchange


TRUSTED: TLSOptions = {"hostname": "localhost", "trust": CA.certificate}
"""Trust in our CA, for the name on the server's certificate."""


@pytest_twisted.ensureDeferred
async def test_a_trusted_certificate_carries_the_exchange(
    exchange_over_tls: Any,
) -> None:
    """Trusting the CA, for the name on the certificate: the exchange works."""
    got = await exchange_over_tls(TRUSTED)
    assert got == [
        (SUCCESS, None),
        (SUCCESS, None),
        (SUCCESS, b"secret"),
        (SUCCESS, None),
    ]


@pytest_twisted.ensureDeferred
async def test_the_host_name_is_checked_by_default_and_trust_can_be_a_file(
    exchange_over_tls: Any, tmp_path: Path
) -> None:
    """Without ``hostname``, the certificate must carry the CONNECT's host."""
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(CA.certificate)
    got = await exchange_over_tls({"trust": str(bundle)}, "localhost")
    assert got[2] == (SUCCESS, b"secret")


@pytest.mark.parametrize("tls", [True, {"trust": OTHER_CA.certificate}])
@pytest_twisted.ensureDeferred
async def test_an_untrusted_certificate_is_an_error_reply(
    exchange_over_tls: Any, tls: bool | TLSOptions
) -> None:
    """
    With the system's trust (``tls=True``) or another CA, the CONNECT gets an
    ERROR saying the certificate is not trusted and how to trust it; the
    commands after it get the not-connected ERRORs, and nothing hangs.
    """
    got = await exchange_over_tls(tls, "localhost")
    kind, text = got[0]
    assert kind == ERROR
    assert "certificate is not trusted" in text
    assert "tls={'trust'" in text
    assert [reply[0] for reply in got[1:]] == [ERROR, ERROR, SUCCESS]
    assert "the last CONNECT failed" in got[1][1]


@pytest_twisted.ensureDeferred
async def test_a_wrong_host_name_is_an_error_reply(exchange_over_tls: Any) -> None:
    """A trusted certificate issued for another name: ERROR naming the name."""
    got = await exchange_over_tls(
        {"hostname": "wrong.example", "trust": CA.certificate}
    )
    assert got[0][0] == ERROR
    assert "not issued for 'wrong.example'" in got[0][1]


@pytest_twisted.ensureDeferred
async def test_a_plain_client_gets_no_answer_from_a_tls_server_but_a_tls_one_does(
    exchange_over_tls: Any, adapter: Any, tls_echo: int
) -> None:
    """Connecting in clear to the TLS server is possible, but the TLS client is the
    one whose messages arrive: the option really switches the transport."""
    got = await exchange_over_tls(TRUSTED)
    assert got[2] == (SUCCESS, b"secret")
    plain = adapter(tls=False)
    connected = await plain.exchange((CONNECT, ("127.0.0.1", tls_echo)))
    assert connected == [(SUCCESS, None)]
    plain.put(SEND, b"in clear")
    plain.put(RECEIVE)
    sent = await plain.reply()
    # The server reads the clear bytes as a broken TLS record and drops
    # the connection: the RECEIVE ends, it never gets an echo.
    received = await plain.reply()
    assert sent == (SUCCESS, None)
    assert received[0] == ERROR


@pytest_twisted.ensureDeferred
async def test_an_unreadable_trust_file_is_an_error_reply(adapter: Any) -> None:
    """The trust file is read at each CONNECT: one that is missing is an ERROR."""
    client = adapter(tls={"trust": "/nonexistent/ca.pem"})
    got = await client.exchange((CONNECT, ("127.0.0.1", 1)))
    assert got[0][0] == ERROR
    assert got[0][1].startswith("CONNECT: cannot read the trusted certificates")


@pytest.mark.reactorless
@pytest.mark.parametrize(
    ("tls", "needle"),
    [
        ("yes", "tls must be True, False, None or a dict"),
        ({"verify": False}, "unknown option verify; the options are hostname, trust"),
        ({"hostname": ""}, "hostname must be a non-empty str"),
        ({"hostname": 7}, "hostname must be a non-empty str"),
    ],
)
def test_bad_tls_options_are_refused_at_once(tls: Any, needle: str) -> None:
    """A bad ``tls`` is a `UsageError` from the constructor, naming what is wrong."""
    with pytest.raises(UsageError, match=needle):
        SocketClientThread(tls=tls)


@pytest.mark.reactorless
def test_tls_without_its_libraries_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with tls_missing(monkeypatch):
        SocketClientThread(tls=True)
    SocketClientThread(tls=False)  # plain TCP needs nothing more


@pytest.mark.reactorless
@pytest.mark.parametrize("tls", [True, {"trust": CA.certificate}])
def test_the_classic_thread_says_it_has_no_tls(tls: Any) -> None:
    """The baseline speaks TCP only: asked for TLS it refuses, naming the drop-in."""
    with pytest.raises(UsageError) as raised:
        ClassicThread(tls=tls)
    assert str(raised.value) == NO_TLS
    assert "has no TLS" in NO_TLS
    assert "twisted_client.compat.SocketClientThread(tls=...)" in NO_TLS
    assert ClassicThread(tls=None).socket is None  # without it, as before
