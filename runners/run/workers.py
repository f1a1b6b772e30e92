"""Jobs on a few threads, each result handed back as soon as its job ends (or, for jobs
that keep their own results, only the end of all of them): all a run needs of
concurrent.futures, whose import (logging, weakref tables, ...) cost a run more before
its first test than the tests of a small suite take on a native port."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

_STOP = object()


class Workers:
    """`jobs` threads taking jobs in the order submitted. Use as a context manager:
    leaving it drops the jobs not yet started and waits for those running."""

    def __init__(self, jobs: int, name: str = "mpconform", each: bool = True):
        """`each`: every job's value is handed back (results()); else the jobs keep their
        own results and the caller waits for the end of them all (wait())."""
        self._todo: queue.SimpleQueue = queue.SimpleQueue()
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._dropping = threading.Event()
        self._each = each
        self._count = threading.Lock()
        self._pending = 0  # jobs submitted and not yet handed back (each) or ended (not each)
        self._threads = [threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True) for i in range(max(1, jobs))]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._count:
            self._pending += 1
        self._todo.put((fn, args))

    def wait(self, poll_s: float = 0.5) -> None:
        """Until every job submitted has ended (a job's exception is raised here). The
        caller is woken once at the end, not for each job (a run's main thread would
        take the interpreter lock from the workers for every test), and every `poll_s`,
        so an interrupt reaches it while jobs run."""
        assert not self._each, "jobs that hand back their values are read with results()"
        while True:
            with self._count:
                if not self._pending:
                    return
            try:
                ok, value = self._done.get(timeout=poll_s)
            except queue.Empty:
                continue
            if not ok:
                raise value

    def results(self, poll_s: float = 0.5) -> Iterator[Any]:
        """Each job's return value as it ends (a job's exception is raised here). The wait
        wakes every `poll_s`, so an interrupt reaches the caller while jobs run."""
        while self._pending:
            try:
                ok, value = self._done.get(timeout=poll_s)
            except queue.Empty:
                continue
            self._pending -= 1
            if not ok:
                raise value
            yield value

    def _work(self) -> None:
        while True:
            job = self._todo.get()
            if job is _STOP:
                return
            if self._dropping.is_set():
                continue
            fn, args = job
            try:
                value = fn(*args)
            except BaseException as exc:  # handed to the caller, as a future's result() would
                self._done.put((False, exc))
                continue
            if self._each:
                self._done.put((True, value))
                continue
            with self._count:
                self._pending -= 1
                last = not self._pending
            if last:  # (a job submitted after this one will wake the caller again when it ends)
                self._done.put((True, None))

    def close(self) -> None:
        """Drop the jobs not started, wait for the running ones to end."""
        self._dropping.set()
        for _ in self._threads:
            self._todo.put(_STOP)
        for t in self._threads:
            t.join()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
