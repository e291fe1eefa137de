"""
The seed's demo, headless: a QApplication, the drop-in client, a QTimer that
polls ``reply_q.get(block=False)`` every 100 ms, and a 25 ms animation timer.

    python -m tests.compat_programs.gui_app PORT exec   # only app.exec()
    python -m tests.compat_programs.gui_app PORT run    # reactor.run()

"Do it!" is pressed from the event loop: CONNECT to localhost, SEND hello,
RECEIVE, CLOSE, queued at once. After the fourth reply the program quits
(``app.quit()``, or ``reactor.stop()`` in ``run`` mode). A second client is
left waiting in a RECEIVE that is never answered: quitting must end the
process anyway, and that RECEIVE is answered with an ERROR saying the
program quit. A blocking ``reply_q.get()`` in the GUI thread, tried before
the loop starts, must raise `BlockingCallError` instead of freezing. Prints
one JSON line, once the loop has returned, with the replies, the waiting
client's replies, the animation ticks seen while waiting, the reactor's
type and the threads.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from typing import Any

from tests.compat_programs.seed import reply_row, seed_commands
from tests.compat_programs.seed_gui import start_seed_timers
from twisted_client.compat import (
    BlockingCallError,
    ClientCommand,
    ClientReply,
    SocketClientThread,
)
from twisted_client.qt import binding

_qt = binding()  # the seam's choice: QT_API, inherited from the test
QTimer: Any = _qt.QtCore.QTimer
QApplication: Any = _qt.module("QtWidgets").QApplication


def main() -> None:
    port, mode = int(sys.argv[1]), sys.argv[2]
    app = QApplication(sys.argv[:1])
    reactor: Any = None
    if mode == "run":
        from twisted_client.qt import install_reactor

        reactor = install_reactor()
    client = SocketClientThread()
    client.start()
    idle = SocketClientThread()
    idle.start()
    state: dict[str, Any] = {"replies": [], "ticks": 0}
    try:  # the GUI thread will run the reactor: a blocking get would freeze it
        client.reply_q.get()
    except BlockingCallError as error:
        state["blocking_get"] = type(error).__name__

    def animate() -> None:
        state["ticks"] += 1

    def do_it() -> None:
        idle.cmd_q.put(ClientCommand(ClientCommand.CONNECT, ("localhost", port)))
        idle.cmd_q.put(ClientCommand(ClientCommand.RECEIVE))  # never answered
        for command in seed_commands(port):
            client.cmd_q.put(command)

    def on_client_reply_timer() -> None:
        try:
            reply: ClientReply = client.reply_q.get(block=False)
        except queue.Empty:
            return
        state["replies"].append(reply_row(reply))
        if len(state["replies"]) == 2:
            state["ticks_at_send_reply"] = state["ticks"]
        if len(state["replies"]) == 3:
            state["ticks_while_waiting"] = state["ticks"] - state["ticks_at_send_reply"]
        if len(state["replies"]) == 4:
            finish()

    def finish() -> None:
        from twisted.internet import reactor as installed

        state["reactor"] = type(installed).__name__
        state["threads"] = sorted(thread.name for thread in threading.enumerate())
        state["reactor_in_main_thread"] = client._runtime.in_reactor_thread()  # type: ignore[union-attr]
        if mode == "run":
            installed.stop()
        else:
            app.quit()

    timers = start_seed_timers(animate, on_client_reply_timer)
    QTimer.singleShot(0, do_it)
    if mode == "run":
        reactor.run()
    else:
        app.exec()
    for timer in timers:
        timer.stop()
    state["idle_replies"] = []
    while not idle.reply_q.empty():
        reply = idle.reply_q.get(block=False)
        state["idle_replies"].append([reply.type, reply.data])
    print(json.dumps(state), flush=True)


if __name__ == "__main__":
    main()
