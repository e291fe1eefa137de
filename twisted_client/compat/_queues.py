"""
Watching a `queue.Queue` without polling it, and guarding blocking gets.

The adapter must react the moment a command is put on ``cmd_q``, and the
user may pass any `queue.Queue`, so the queue's class cannot be chosen for
them. Instead, the queue *instance* gets its ``put`` replaced by a `PutHook`:
it calls the class's ``put`` (so locking, ``maxsize`` and ``task_done`` are
untouched) and then tells each listener, in the putting thread, outside the
queue's lock. ``put_nowait`` calls ``self.put`` and so goes through the hook
too. Several clients may share one queue: the hook keeps a list of
listeners and removes itself when the last one goes. Puts that bypass the
instance (``queue.Queue.put(q, item)`` spelled out) are not seen.

`GetGuard` replaces ``get`` the same way: a ``get`` that would block on the
thread that delivers the replies would wait for ever, so it raises
`BlockingCallError` instead.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from twisted_client._errors import BlockingCallError

__all__ = [
    "NOTHING",
    "RELIED_ON",
    "BlockingCallError",
    "GetGuard",
    "PutHook",
    "check_queue",
    "put",
    "taker",
]


def check_queue(name: str, candidate: object) -> None:
    """Raise `TypeError` unless ``candidate`` is a queue the adapter can watch."""
    if not isinstance(candidate, queue.Queue):
        raise TypeError(
            f"{name} must be a queue.Queue (or a subclass), "
            f"not {type(candidate).__name__}"
        )


RELIED_ON: dict[str, tuple[str, ...]] = {
    "queue.Queue": ("mutex", "not_empty", "not_full", "_put", "_get", "_qsize"),
    "threading.Condition": ("_waiters",),
}
"""The undocumented members of the standard library's queues used here."""

NOTHING = object()
"""What a `taker` returns when the queue is empty."""

_PUT = queue.Queue.put
_GET = queue.Queue.get


def put(target: queue.Queue[Any], item: object) -> None:
    """
    ``target.put(item)``, in fewer steps when that is the same.

    (The members of `queue.Queue` and `threading.Condition` this module
    uses are listed in `RELIED_ON`, which the tests check.)

    For a queue whose ``put`` is `queue.Queue`'s own (no hook on the
    instance, no subclass's ``put``) and unbounded, it does what that
    ``put`` does under the queue's lock (``_put``, ``unfinished_tasks``,
    waking a waiting ``get``) without the layers around it; anything else
    gets its own ``put``.
    """
    if "put" in vars(target) or type(target).put is not _PUT or target.maxsize > 0:
        target.put(item)
        return
    _put_unbounded(target, item)


def _put_unbounded(target: queue.Queue[Any], item: object) -> None:
    """
    What `queue.Queue.put` does for an unbounded queue.

    It wakes a waiting ``get`` only if there is one: `threading.Condition`
    keeps them in ``_waiters``, and its ``notify`` does nothing (in more
    steps than the rest of this function) when that is empty.
    """
    not_empty = target.not_empty
    with target.mutex:
        target._put(item)
        target.unfinished_tasks += 1
        if getattr(not_empty, "_waiters", True):
            not_empty.notify()


def taker(target: queue.Queue[Any]) -> Callable[[], object]:
    """
    ``target.get_nowait``, returning `NOTHING` where it would raise `queue.Empty`.

    One round of the queue's lock, where asking ``qsize()`` first (to spare
    raising `queue.Empty`) takes two; a subclass's ``_qsize`` and ``_get``
    are used, as ``get`` uses them.
    """
    mutex = target.mutex
    not_full = target.not_full
    size = target._qsize  # Queue's hooks for subclasses, as ``get`` uses them
    get = target._get

    def take() -> object:
        with mutex:
            if not size():
                return NOTHING
            item = get()
            if target.maxsize > 0:  # only a bounded queue has puts waiting
                not_full.notify()
            return item

    return take


class PutHook:
    """A queue instance's ``put``: the class's ``put``, then every listener."""

    def __init__(self, target: queue.Queue[Any]) -> None:
        self._target = target
        # A tuple, replaced (under the lock) to add or remove one: a put reads
        # it without taking the lock or copying it.
        self._listeners: tuple[Callable[[], None], ...] = ()
        self._lock = threading.Lock()

    @classmethod
    def add(cls, target: queue.Queue[Any], listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every put on ``target`` from now on."""
        hook = vars(target).get("put")
        if not isinstance(hook, PutHook):
            hook = cls(target)
            target.put = hook  # type: ignore[method-assign]
        with hook._lock:
            hook._listeners += (listener,)

    @classmethod
    def remove(cls, target: queue.Queue[Any], listener: Callable[[], None]) -> None:
        """Stop calling ``listener``; restore the class's ``put`` if it was the last."""
        hook = vars(target).get("put")
        if not isinstance(hook, PutHook):
            return
        with hook._lock:
            listeners = list(hook._listeners)
            if listener in listeners:
                listeners.remove(listener)
            hook._listeners = tuple(listeners)
            last = not listeners
        if last:
            del target.put

    def __call__(
        self, item: Any, block: bool = True, timeout: float | None = None
    ) -> None:
        """Put ``item`` as `queue.Queue.put` does, then tell the listeners."""
        target = self._target
        cls_put = type(target).put
        if cls_put is _PUT and target.maxsize <= 0:
            _put_unbounded(target, item)
        else:
            cls_put(target, item, block, timeout)
        for listener in self._listeners:
            listener()


class GetGuard:
    """
    A queue instance's ``get`` that refuses to block on a given thread.

    It also runs the hooks added with `add_wait_hook` before a ``get`` that
    finds the queue empty waits: each may bring the item itself (the
    drop-in reads a reply's message in the waiting thread), within the
    ``get``'s timeout, which then counts the time they took.
    """

    def __init__(self, target: queue.Queue[Any], message: str) -> None:
        self._target = target
        self._message = message
        self._refusing: Callable[[], bool] = _never
        # Queue's own get: an item there already is taken with one lock round.
        self._take = taker(target) if type(target).get is _GET else None
        self._wait_hooks: list[Callable[[float | None], object]] = []

    @classmethod
    def install(
        cls, target: queue.Queue[Any], refusing: Callable[[], bool], message: str
    ) -> None:
        """Make blocking gets on ``target`` raise while ``refusing()`` is true."""
        guard = vars(target).get("get")
        if not isinstance(guard, GetGuard):
            guard = cls(target, message)
            target.get = guard  # type: ignore[method-assign]
        previous = guard._refusing
        if previous is _never:
            guard._refusing = refusing
        else:
            guard._refusing = lambda: refusing() or previous()

    @classmethod
    def add_wait_hook(
        cls, target: queue.Queue[Any], hook: Callable[[float | None], object]
    ) -> None:
        """
        Call ``hook(timeout)`` before a blocking ``get`` of ``target`` waits.

        ``target`` must have a `GetGuard` (`install`). The hook runs in the
        getting thread, without the queue's lock; ``timeout`` is what is
        left of the ``get``'s (None: no limit), and the hook must return
        within it.
        """
        guard = vars(target)["get"]
        assert isinstance(guard, GetGuard)
        guard._wait_hooks.append(hook)

    @classmethod
    def remove_wait_hook(
        cls, target: queue.Queue[Any], hook: Callable[[float | None], object]
    ) -> None:
        """Undo `add_wait_hook` (harmless if ``hook`` is not there)."""
        guard = vars(target).get("get")
        if isinstance(guard, GetGuard) and hook in guard._wait_hooks:
            guard._wait_hooks.remove(hook)

    def __call__(self, block: bool = True, timeout: float | None = None) -> Any:
        """`queue.Queue.get`, except that a wait on the refused thread raises."""
        if block and (timeout is None or timeout > 0) and self._refusing():
            raise BlockingCallError(self._message)
        if self._take is not None:
            item = self._take()
            if item is not NOTHING:
                return item
        target = self._target
        cls_get = type(target).get
        if block and self._wait_hooks and (timeout is None or timeout > 0):
            timeout = self._run_wait_hooks(timeout)
        return cls_get(target, block, timeout)

    def _run_wait_hooks(self, timeout: float | None) -> float | None:
        """Run the hooks until one brings an item; return the timeout left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for hook in list(self._wait_hooks):
            hook(timeout)
            if deadline is not None:
                timeout = max(0.0, deadline - time.monotonic())
            if self._target.qsize():
                break
        return timeout


def _never() -> bool:
    return False
