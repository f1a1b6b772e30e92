"""runners/run/workers.py: jobs that keep their own results, waited for as a whole."""

from __future__ import annotations

import threading

import pytest

from mpconform.runners.run.workers import Workers


def test_wait_returns_once_every_job_has_ended():
    kept: list[int] = []
    lock = threading.Lock()

    def job(n: int) -> None:
        with lock:
            kept.append(n)

    with Workers(3, each=False) as pool:
        for n in range(50):
            pool.submit(job, n)
        pool.wait()
        assert sorted(kept) == list(range(50))


def test_a_job_submitted_after_the_others_ended_is_waited_for_too():
    first_done = threading.Event()
    release = threading.Event()
    ended: list[str] = []
    with Workers(2, each=False) as pool:
        pool.submit(lambda: (ended.append("first"), first_done.set()))
        assert first_done.wait(5)  # all submitted jobs have ended: the end was signalled once
        pool.submit(lambda: (release.wait(5), ended.append("second")))
        threading.Timer(0.2, release.set).start()
        pool.wait()
        assert ended == ["first", "second"]


def test_a_jobs_exception_is_raised_by_wait():
    def fails() -> None:
        raise ValueError("from the job")

    with Workers(2, each=False) as pool:
        pool.submit(fails)
        with pytest.raises(ValueError, match="from the job"):
            pool.wait()
