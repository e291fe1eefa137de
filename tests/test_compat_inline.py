"""
Script mode with commands run in the putting thread (`compat._inline`): many
threads at once lose, duplicate and reorder nothing, and join() still ends a
client that waits, closing its connection (which needs the sleeping reactor
woken). The program runs in its own process, where the drop-in's reactor is
the global one in its ``compat-reactor`` thread, as in a real script.
"""

from __future__ import annotations

import pytest_twisted

from .test_compat_programs import report_of, run_program


@pytest_twisted.ensureDeferred
async def test_threads_in_script_mode(echo_port: int) -> None:
    """Four threads with a client each (500 rounds of SEND, SEND, RECEIVE,
    RECEIVE: 2000 commands each) and one client fed by a producer thread and
    drained by a consumer thread (2000 SEND/RECEIVE pairs): every reply is the
    expected one, in order, none left over; then a RECEIVE waits on each
    worker's client and join() ends it: ERROR(STOPPED_BY_JOIN), not alive,
    the connection closed. Inside work done on the reactor's behalf
    threadable.isInIOThread() is true, and only there."""
    done = await run_program("threaded_stress", echo_port)
    report = report_of(done)
    assert report["wrong"] == []
    assert report["wrong_count"] == 0
    assert report["stuck_threads"] == 0
    assert report["left_over"] == 0
    assert report["alive_after_join"] == 0
    assert report["never_closed"] == 0
    assert report["io_thread"] == [False, True, False]


@pytest_twisted.ensureDeferred
async def test_a_held_socket_is_read_when_its_thread_leaves_it() -> None:
    """A thread whose RECEIVE read its echo itself (so the reactor's poll
    stopped watching the socket) puts nothing more while the server pushes
    16 MiB unasked, more than the kernel buffers: the push completes (the
    reactor's thread takes the socket back and reads it) and every pushed
    message is then received, in order."""
    done = await run_program("held_socket")
    report = report_of(done)
    assert report["echo"] == [1, "hello"]
    assert report["push_completed"] is True
    assert report["wrong"] == 0
    assert report["alive_after_join"] is False


@pytest_twisted.ensureDeferred
async def test_a_waiting_get_reads_its_reply_itself() -> None:
    """RECEIVEs that must wait: the thread waiting in reply_q.get reads the
    echo itself (no crossing from the reactor's thread; most of 200 rounds,
    all of them unless the machine stalls a round for 50 ms), an echo that
    comes after the socket's hold ended is read by the reactor's thread and
    returned all the same, and a get with a short timeout still raises
    queue.Empty in time and loses nothing: the next get has the reply."""
    done = await run_program("getter_reads")
    report = report_of(done)
    assert report["wrong"] == 0
    assert report["short_get_empty"] is True
    assert report["alive_after_join"] is False
    parsed = report["parsed_by"]
    assert parsed.get("MainThread", 0) > 100, parsed
    assert parsed.get("compat-reactor", 0) >= 1, parsed
