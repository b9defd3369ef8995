"""Ctrl-C and SIGTERM: a command ends within a second or two, saying what was kept, never with a traceback.

The handlers are installed before anything slow is imported (``install``): a signal in the
first instants must not kill the process unannounced (SIGTERM) or end it with a traceback.
While a command runs, a watcher thread says an interrupt again if Python dropped it.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import warnings
import weakref

_MAIN_PID = os.getpid()


class _Interrupt(KeyboardInterrupt):
    """Ctrl-C or SIGTERM, watched until the command has reported it."""


# while a command runs: a token for it, and the interrupt under way (None once said again) with its signal
_running: object | None = None
_pending: tuple[weakref.ref[_Interrupt] | None, int] | None = None


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C and SIGTERM stop a run cleanly in the main process, keeping what is finished.

    A worker process forked before it set its own handlers ends quietly instead of printing
    a traceback: the main process is the one that reports.
    """
    if os.getpid() != _MAIN_PID:
        os._exit(128 + signum)
    if _running is None:
        raise KeyboardInterrupt
    quiet_from_now()
    raise _watched(signum)


def quiet_from_now() -> None:
    """After an interrupt, the one line the command says is the last word.

    Whatever is being stopped may log or warn about it (a library whose callback the interrupt
    cut short warns that it fell back to something else, say): none of that is for the user.
    """
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")


def _watched(signum: int) -> _Interrupt:
    """The interrupt to raise, watched until the command has reported it."""
    global _pending
    interrupt = _Interrupt()
    _pending = (weakref.ref(interrupt), signum)
    return interrupt


def _say_again_if_lost(command: object) -> None:
    """While a command runs, send a signal again if its exception vanished before the command reported it.

    Compiled code calling back into Python (a warning issued from it, say) may drop an exception
    raised there, and the run would go on as if never interrupted. An exception on its way up
    stays alive, so only a lost one is said again.
    """
    global _pending
    while _running is command:
        pending = _pending
        if pending is not None and pending[0] is not None and pending[0]() is None:
            _pending = (None, pending[1])
            signal.pthread_kill(threading.main_thread().ident or 0, pending[1])
        time.sleep(0.1)


def catch_signals() -> None:
    """Send Ctrl-C and SIGTERM to ``_stop``, which ends the command cleanly."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


_show_unraisable = sys.unraisablehook


def _unraisable(info: sys.UnraisableHookArgs) -> None:
    """An interrupt lost in a finalizer is said again, not printed as a traceback; anything else is shown."""
    if not isinstance(info.exc_value, _Interrupt):
        _show_unraisable(info)


def install() -> None:
    """Catch Ctrl-C and SIGTERM, and keep an interrupt lost in a finalizer from printing a traceback."""
    catch_signals()
    sys.unraisablehook = _unraisable


def command_started() -> None:
    """Watch for a lost interrupt while a command runs, catching the signals again first.

    Something run in this process since the import may have replaced the handlers. The
    watcher is started here, never in the signal handler, which may run while this thread
    holds a lock threads need.
    """
    global _running
    catch_signals()
    _running = command = object()
    threading.Thread(target=_say_again_if_lost, args=(command,), name="watch-interrupt", daemon=True).start()


def command_ended() -> None:
    """The command reported its interrupt, or ended anyway: nothing more to say again."""
    global _running, _pending
    _running, _pending = None, None
