"""
The drop-in lives in `twisted_client.compat`; the top-level `compat` package
re-exports it, so both imports give the very same objects.
"""

from __future__ import annotations

import importlib

import pytest

import compat
import compat.threaded
import twisted_client.compat
import twisted_client.compat.threaded


@pytest.mark.reactorless
def test_both_packages_export_the_same_names() -> None:
    assert compat.__all__ == twisted_client.compat.__all__


@pytest.mark.reactorless
@pytest.mark.parametrize("name", twisted_client.compat.__all__)
def test_each_name_is_the_same_object(name: str) -> None:
    assert getattr(compat, name) is getattr(twisted_client.compat, name)


@pytest.mark.reactorless
@pytest.mark.parametrize("name", twisted_client.compat.threaded.__all__)
def test_the_threaded_baseline_is_the_same_object(name: str) -> None:
    assert getattr(compat.threaded, name) is getattr(
        twisted_client.compat.threaded, name
    )


@pytest.mark.reactorless
def test_the_drop_in_names_its_home_package() -> None:
    """Tracebacks and reprs show ``twisted_client.compat.SocketClientThread``."""
    assert compat.SocketClientThread.__module__ == "twisted_client.compat"
    assert compat.ClientReply.__module__ == "twisted_client.compat"


@pytest.mark.qt
def test_the_reply_signal_is_the_same_object() -> None:
    short = importlib.import_module("compat.qt")
    home = importlib.import_module("twisted_client.compat.qt")
    assert short.ReplySignal is home.ReplySignal
