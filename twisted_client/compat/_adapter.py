"""`SocketClientThread`: the classic thread's interface, on the Twisted reactor."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

from twisted.python import log

from twisted_client import DEFAULT_MAX_LENGTH
from twisted_client._checks import check_callback, check_seconds
from twisted_client._framing import check_max_length

from ._messages import ClientReply
from ._queues import GetGuard, PutHook, check_queue, put, taker
from ._runtime import Runtime, runtime_for
from ._session import Session
from ._tls import TLSOptions, opener_for, tls_options

__all__ = ["SocketClientThread"]

STOPPED_BY_JOIN = "the client was stopped by join() before this command completed"
"""The ERROR text of a command still running when `join` is called."""

_BLOCKING_GET = (
    "reply_q.get() would block the thread that runs the Twisted reactor (in a "
    "Qt program: the GUI thread), and that is the thread that delivers the "
    "replies, so the program would freeze. Take replies without waiting: call "
    "reply_q.get(block=False) from a QTimer, as the article's demo does, "
    "or pass on_reply= a callback or a compat.qt.ReplySignal to "
    "SocketClientThread(...)."
)

_INLINE_WAIT = 0.01
"""
Seconds a put waits for the reactor's thread to finish its turn before it
hands the command over instead (see `compat._inline`).

Waiting is usually cheaper than handing over: the turn is short (the reply
that woke the reactor is being read), and afterwards the command often
completes at once in the putting thread. The bound keeps a put from waiting
on a reactor's thread that is stuck (say, putting on a full bounded reply_q).
"""

_numbers = itertools.count(1)


class SocketClientThread:
    """
    The classic socket client thread, as a drop-in running on the Twisted reactor.

    Code written for the classic thread's class switches by changing its import line:
    the same constructor, the same ``cmd_q``, ``reply_q`` and ``alive``
    attributes, the same thread-like ``start()``, ``join(timeout=None)``,
    ``is_alive()``, ``name`` and ``daemon``, and for every case the classic thread
    defines the same replies: `ClientReply` objects of the same type with the
    same data (``None``, the message, ``'Socket closed prematurely'``, or the
    ``str()`` of the `OSError` the classic thread's socket raises for the same event,
    such as ``'[Errno 111] Connection refused'``).

    It has no thread of its own. The commands run on the Twisted reactor: in
    a Qt program, the reactor inside Qt, in the GUI thread (installed and
    started by the first client if the program only calls ``app.exec_()``);
    in a script, one daemon thread shared by every client of the process.

    What it does better than the classic thread:

    * No polling: a command put on ``cmd_q`` (any `queue.Queue`; its ``put``
      is wrapped, see ``compat._queues``) is started at once; an idle client
      costs nothing.
    * ``join()`` returns at once, even while a RECEIVE waits for data that
      never comes; that command gets an ERROR reply.
    * SEND, RECEIVE or CLOSE before CONNECT, CONNECT while connected, an
      unknown command type, non-bytes data, a bad address, and a peer that
      announces a message longer than ``max_length``: ERROR with a clear
      text, and the client keeps working.
    * Messages the server pushes unasked are read as they arrive and kept,
      in order, for the next RECEIVEs (in a script, while a thread reads
      the replies to its SENDs itself, see ``compat._inline``: within
      50 ms, or at its next command).
    * Replies can come without polling: ``on_reply`` is called with each
      reply on the reactor thread (in a Qt program, the GUI thread), instead
      of putting it on ``reply_q``; `compat.qt.ReplySignal` turns that into
      a Qt signal.
    * A blocking ``reply_q.get()`` on the reactor's thread, which would freeze
      the program, raises `BlockingCallError` saying what to do instead.

    Differences that remain, each a consequence of the above:

    * A command put on the reactor's thread (the GUI thread in a Qt program)
      is handled during the ``put`` call: an immediate reply, such as an
      ERROR, is on ``reply_q`` (or passed to ``on_reply``) when it returns.
      In a script (without ``on_reply``) the same holds from any thread for
      commands that need no waiting: a SEND the socket takes at once, a
      RECEIVE of a message that has arrived, CLOSE, an ERROR. The putting
      thread runs them itself while the reactor's thread sleeps (see
      ``compat._inline``) instead of crossing to that thread and back.
    * Clearing ``alive`` by hand does not stop the client (nothing polls
      it); ``join()`` does.
    * Messages longer than ``max_length`` (16 MiB by default) are refused;
      the classic thread accepts up to 4 GiB - 1.
    * A host name is tried over IPv6 and IPv4 (the classic thread: IPv4 only).
    * After a failed CONNECT, a SEND answers ``'[Errno 32] Broken pipe (not
      connected: the last CONNECT failed)'``; the classic thread gives the errno part
      only.
    * After the peer closed the connection, a SEND fails at once with
      ``'[Errno 32] Broken pipe'``; the classic thread's first ``sendall`` after the
      peer's FIN usually still succeeds.
    * Which reactor runs is decided by the first ``start()`` of the process:
      a client started before the QApplication exists runs in script mode
      (the replies still reach the GUI through ``reply_q``).

    Args:
        cmd_q: The command queue (a `queue.Queue`); a new one if None.
        reply_q: The reply queue (a `queue.Queue`); a new one if None.
        reactor: The reactor to run on; default: the installed one (a Qt
            reactor is installed first in a Qt program that has none yet).
        connect_timeout: Seconds a CONNECT may take (None: no limit); when
            it runs out the reply is ``ERROR('[Errno 110] Connection timed
            out')``.
        max_length: The longest message accepted from the server (default
            16 MiB, at most 4 GiB - 1, which is what the classic thread accepts).
        on_reply: Called with each reply on the reactor's thread, in place of
            ``reply_q.put``; exceptions it raises are logged.
        tls: True, or a `TLSOptions` dict (``hostname``, ``trust``), to
            connect over TLS: each CONNECT then verifies the server's
            certificate as `twisted_client.connect_tls` does (trusted,
            issued for the host name; this cannot be turned off) and replies
            after the handshake. A certificate that fails gets an ERROR
            reply saying why. None or False: plain TCP, as the classic thread.

    Raises:
        UsageError: a bad option; ``tls`` asked for without pyOpenSSL and
            service-identity (the text says what to install).
    """

    def __init__(
        self,
        cmd_q: queue.Queue[Any] | None = None,
        reply_q: queue.Queue[Any] | None = None,
        *,
        reactor: Any = None,
        connect_timeout: float | None = 30.0,
        max_length: int = DEFAULT_MAX_LENGTH,
        on_reply: Callable[[ClientReply], object] | None = None,
        tls: bool | TLSOptions | None = None,
    ) -> None:
        self.cmd_q: queue.Queue[Any] = queue.Queue() if cmd_q is None else cmd_q
        self.reply_q: queue.Queue[Any] = queue.Queue() if reply_q is None else reply_q
        check_queue("cmd_q", self.cmd_q)
        check_queue("reply_q", self.reply_q)
        check_seconds(
            "connect_timeout", connect_timeout, allow_none=True, positive=True
        )
        check_max_length(max_length)
        check_callback("on_reply", on_reply)
        self._tls = tls_options(tls)
        self.alive = threading.Event()
        self.alive.set()
        self.name = f"{type(self).__name__}-{next(_numbers)}"
        self._daemon = threading.current_thread().daemon
        self._reactor = reactor
        self._connect_timeout = connect_timeout
        self._max_length = max_length
        self._on_reply = on_reply
        self._runtime: Runtime | None = None
        self._session: Session | None = None
        self._started = False
        self._ended = False
        self._wake_lock = threading.Lock()
        self._wake_pending = False
        # Commands may run in the putting thread (see compat._inline), but not
        # with on_reply: that callback is promised the reactor's thread.
        self._inline = on_reply is None

    def __repr__(self) -> str:
        if not self._started:
            state = "initial"
        elif self._ended:
            state = "stopped"
        else:
            state = "started"
        return f"<{type(self).__name__}({self.name}, {state})>"

    @property
    def daemon(self) -> bool:
        """Kept for `threading.Thread` compatibility; nothing waits for the client."""
        return self._daemon

    @daemon.setter
    def daemon(self, value: bool) -> None:
        if self._started:
            raise RuntimeError("cannot set daemon status of active thread")
        self._daemon = bool(value)

    def start(self) -> None:
        """
        Start taking commands from ``cmd_q`` (those queued already run first).

        Raises:
            RuntimeError: when called more than once, as `threading.Thread` does.
        """
        if self._started:
            raise RuntimeError("threads can only be started once")
        runtime = runtime_for(self._reactor)
        runtime.ensure_running()
        self._runtime = runtime
        self._session = Session(
            runtime.reactor,
            taker(self.cmd_q),
            self._deliver,
            connect_timeout=self._connect_timeout,
            max_length=self._max_length,
            # Without the queue's lock: a put racing this sees to its own
            # command (the put calls _wake once the command is in the queue).
            waiting=self.cmd_q._qsize,
            opener=opener_for(self._tls),
            reader=runtime.reader if self._inline else None,
        )
        self._started = True
        GetGuard.install(self.reply_q, runtime.in_reactor_thread, _BLOCKING_GET)
        if self._inline:
            GetGuard.add_wait_hook(self.reply_q, self._wait_here)
        PutHook.add(self.cmd_q, self._wake)
        self._wake()

    def is_alive(self) -> bool:
        """True from `start` until `join`."""
        return self._started and not self._ended

    def join(self, timeout: float | None = None) -> None:
        """
        Clear ``alive`` and stop the client; return within milliseconds.

        A command still running (a RECEIVE waiting for data, say) gets
        ``ERROR('the client was stopped by join() before this command
        completed')`` and the connection is dropped. Commands still in
        ``cmd_q`` stay there, as with the classic thread. ``timeout`` bounds the wait
        for the reactor's thread to do it (it normally takes microseconds).

        Raises:
            RuntimeError: when the client was not started, as `threading.Thread`.
        """
        self.alive.clear()
        if not self._started:
            raise RuntimeError("cannot join thread before it is started")
        assert self._runtime is not None
        self._runtime.call_and_wait(self._end, timeout, inline=self._inline)

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        PutHook.remove(self.cmd_q, self._wake)
        GetGuard.remove_wait_hook(self.reply_q, self._wait_here)
        assert self._session is not None
        self._session.stop(STOPPED_BY_JOIN)

    def _wake(self) -> None:
        """A command may have arrived: pump the session, here if it can be done now."""
        assert self._runtime is not None
        if self._inline and self._runtime.run_inline(self._pump_here, _INLINE_WAIT):
            return
        self._hand_over()

    def _hand_over(self) -> None:
        """Pump the session on the reactor's thread (once, however many ask)."""
        assert self._runtime is not None
        with self._wake_lock:
            if self._wake_pending or self._ended:
                return
            self._wake_pending = True
        self._runtime.call_soon(self._pump)

    def _pump(self) -> None:
        with self._wake_lock:
            self._wake_pending = False
        if not self._ended:
            assert self._session is not None
            self._session.pump()

    def _pump_here(self) -> None:
        """`_pump`, on the reactor's behalf in the putting thread."""
        if not self._ended:
            assert self._session is not None
            if not self._session.pump(connect=False):
                self._hand_over()

    def _wait_here(self, timeout: float | None) -> None:
        """
        Before ``reply_q.get`` waits: if the running RECEIVE waits for a
        socket held for this thread, wait for the socket and read it here.

        The reply then never crosses from the reactor's thread (see
        `Session.waiting_reader`); otherwise this returns at once.
        """
        session = self._session
        reader = session.waiting_reader() if session is not None else None
        if reader is not None and reader.wait_readable(timeout):
            assert self._runtime is not None
            self._runtime.run_inline(self._read_here, _INLINE_WAIT)

    def _read_here(self) -> None:
        """`Session.read_waiting`, then the commands queued after the RECEIVE."""
        if not self._ended:
            assert self._session is not None
            self._session.read_waiting()
            self._pump_here()

    def _deliver(self, reply: ClientReply) -> None:
        if self._on_reply is None:
            put(self.reply_q, reply)
            return
        try:
            self._on_reply(reply)
        except Exception:
            log.err(None, f"compat: on_reply raised for {reply!r}")
