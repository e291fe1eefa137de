"""`ConnectionState`: one vocabulary, equal to the strings it replaced."""

from __future__ import annotations

import pickle

import twisted_client
from twisted_client import ConnectionState, ReconnectingClient
from twisted_client.testing import MemoryServer


def test_members_equal_and_print_as_their_strings() -> None:
    """Each state compares, hashes, formats and prints as its string value."""
    assert ConnectionState.CONNECTED == "connected"
    assert {"waiting": 1}[ConnectionState.WAITING] == 1
    assert f"{ConnectionState.STOPPED}" == str(ConnectionState.STOPPED) == "stopped"
    assert ConnectionState("unconnected") is ConnectionState.UNCONNECTED


def test_it_is_published_under_the_package() -> None:
    """It shows and pickles as twisted_client.ConnectionState."""
    assert "ConnectionState" in twisted_client.__all__
    assert ConnectionState.__module__ == "twisted_client"
    state = pickle.loads(pickle.dumps(ConnectionState.CONNECTING))
    assert state is ConnectionState.CONNECTING


def test_reconnecting_client_speaks_it() -> None:
    """ReconnectingClient.state and its listeners get ConnectionState members."""
    server = MemoryServer()
    reconnecting = ReconnectingClient(server.reactor, server.endpoint)
    heard: list[object] = []
    reconnecting.add_listener(heard.append)
    assert reconnecting.state is ConnectionState.STOPPED
    reconnecting.start()
    server.accept()
    server.advance(0)
    assert reconnecting.state is ConnectionState.CONNECTED
    assert heard == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    assert all(isinstance(state, ConnectionState) for state in heard)
    reconnecting.stop()
