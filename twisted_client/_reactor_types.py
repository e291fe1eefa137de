"""
The reactors that the public functions accept, typed so that mypy checks callers.

Twisted names a reactor's abilities with zope interfaces (`IReactorTime`,
`IReactorTCP`, ...). A function that needs one of them takes that interface
(`connect_endpoint` and `ReconnectingClient` take an `IReactorTime`: the
endpoint brings its own transport). A function that needs two at once,
such as `connect`, which makes a TCP connection *and* times the attempt out,
needs an intersection, which Python's types lack; treq's ``_ITreqReactor``
and Twisted's ``_IReactorCommon`` (the type of ``twisted.internet.reactor``)
combine the interfaces in a new one, which only that one object provides.
The protocols (`typing.Protocol`) here list instead the methods of each
interface that the function calls, so they are structural: every real
reactor (epoll, select, asyncio, our Qt reactors), `MemoryReactorClock` and
``twisted.internet.reactor`` fit without declaring anything, while an int, a
string, or a bare `Clock` where TCP is needed is a type error.

As everywhere in Twisted, the types assume the mypy-zope plugin, which makes
a class that declares ``@implementer(IReactorTime)`` an `IReactorTime`.

* `ConnectReactor`: `IReactorTCP` (connecting) and `IReactorTime`, for
  `connect`, `connect_tls` and `tls_endpoint`.
* `ListenReactor`: `IReactorTCP` (listening) and `IReactorTime` (the server's
  ``delay`` and ``push_every``), for `twisted_client.server.listen`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from twisted.internet.interfaces import (
        IConnector,
        IDelayedCall,
        IListeningPort,
        IReactorTime,
    )
    from twisted.internet.protocol import ClientFactory, ServerFactory

__all__ = ["ConnectReactor", "ListenReactor", "as_clock"]


class _Time(Protocol):
    """The methods of `IReactorTime`."""

    def seconds(self) -> float:
        """The current time, in seconds."""
        ...

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> IDelayedCall:
        """Call ``callable(*args, **kw)`` in ``delay`` seconds."""
        ...

    def getDelayedCalls(self) -> Sequence[IDelayedCall]:
        """The calls scheduled and not yet run."""
        ...


class ConnectReactor(_Time, Protocol):
    """A reactor that makes TCP connections and keeps time."""

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        timeout: float = ...,
        bindAddress: tuple[str, int] | None = ...,  # noqa: N803 (Twisted's name)
    ) -> IConnector:
        """Connect ``factory`` to ``host``:``port`` over TCP (`IReactorTCP`)."""
        ...


class ListenReactor(_Time, Protocol):
    """A reactor that accepts TCP connections and keeps time."""

    def listenTCP(
        self,
        port: int,
        factory: ServerFactory[Any],
        backlog: int = ...,
        interface: str = ...,
    ) -> IListeningPort:
        """Serve ``factory`` on TCP ``port`` (`IReactorTCP`)."""
        ...


def as_clock(reactor: ConnectReactor | ListenReactor) -> IReactorTime:
    """
    ``reactor`` as the `IReactorTime` it is: what Twisted's helpers and the
    `Client` are typed to take (a protocol is not a zope interface to mypy).
    """
    return cast("IReactorTime", reactor)
