"""How a run is stopped from outside: Ctrl-C (SIGINT), a CI cancel or timeout
(SIGTERM), a closed terminal (SIGHUP). All three end the run the same way, as an
interruption that still writes what was measured; later signals (a second Ctrl-C a
moment after the first) are noted but cannot break off the cleanup and the writing."""

from __future__ import annotations

import signal
import sys
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopSignals:
    def __init__(self):
        self.received: list[int] = []
        self._raised = False
        self._deferred = False
        self._old: dict[int, object] = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        if self.received:  # a stopped run is about to exit: a late signal must not turn its status into a kill
            self._deferred = True
            # Ignored by the OS from here: Python's own handler goes at interpreter shutdown,
            # and a signal landing then would still kill the process.
            if threading.current_thread() is threading.main_thread():
                for signum in self._old:
                    signal.signal(signum, signal.SIG_IGN)
            return
        for signum, old in self._old.items():
            signal.signal(signum, old)
        self._old.clear()

    def _handle(self, signum, frame) -> None:
        self.received.append(signum)
        if self._raised or self._deferred:
            name = signal.Signals(signum).name
            why = "again: still stopping" if self._raised else "after the last test"
            print(f"mpconform: {name} {why}: writing the results", file=sys.stderr, flush=True)
            return
        self._raised = True
        raise KeyboardInterrupt

    def defer(self) -> None:
        """From now on signals only stop nothing: the run is cleaning up and writing."""
        self._deferred = True

    @property
    def exit_status(self) -> int | None:
        """128 + the first signal, the shell's convention (130 for Ctrl-C); None if none came."""
        return 128 + self.received[0] if self.received else None
