"""One run over several instances of one port: boards on several serial lines, or
emulators started side by side. The harness sees one runner whose `max_parallel` is
the number of live instances; each test goes to the next free instance.

An instance that dies (it loses its line, or its recovery gives up) is dropped, and
the test it was running goes once more to another instance, marked so in its
result. A line error on one test (a handshake lost under load) is not a death: that
test goes once more to another instance and the instance stays, unless its next test
errs too. The run stops only when no instance is left."""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from mpconform.runners.base import CLOSED, Execution, Runner, RunnerError, Step


class RunnerPool(Runner):
    name = "pool"

    def __init__(self, instances: list[Runner]):
        super().__init__({})
        if not instances:
            raise RunnerError("a pool needs at least one instance")
        self.instances = list(instances)
        self.name = instances[0].name
        self.options = instances[0].options
        caps = [i.capabilities for i in instances]
        # what every instance can do (they are of one profile, so that is what each can)
        self.capabilities = dataclasses.replace(
            caps[0], interact=all(c.interact for c in caps), repl=all(c.repl for c in caps),
            checks_programs=all(c.checks_programs for c in caps), max_parallel=None)
        self._free: queue.Queue[Runner] = queue.Queue()
        self._lock = threading.Lock()
        self._dead: dict[int, str] = {}  # instance index -> why it was dropped
        self._erred: set[int] = set()  # instances whose last test ended in a line error
        self._ran: dict[int, list[str]] = {i: [] for i in range(len(instances))}
        self._opening: list[threading.Thread] = []
        self._stopping = threading.Event()  # close() began: no test goes to another instance

    def open(self) -> None:
        errors = []
        threads = [threading.Thread(target=self._open_one, args=(i, errors)) for i in range(len(self.instances))]
        self._opening = threads
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if len(self._dead) == len(self.instances):
            raise RunnerError("no instance could be opened: " + "; ".join(errors))

    def _open_one(self, index: int, errors: list) -> None:
        try:
            self.instances[index].open()
        except RunnerError as exc:
            with self._lock:
                self._dead[index] = f"did not open: {exc}"
                errors.append(str(exc))
            self.instances[index].close()
            return
        self._free.put(self.instances[index])

    def close(self) -> None:
        self._stopping.set()
        # an interrupt may come while instances are still starting: let them finish, then stop them all
        for t in self._opening:
            if t.is_alive():
                t.join()
        # side by side: each emulator or line takes a moment to shut down
        threads = [threading.Thread(target=inst.close) for inst in self.instances]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    @property
    def alive(self) -> int:
        return len(self.instances) - len(self._dead)

    def _drop(self, inst: Runner, why: str, keep_last: bool = False) -> bool:
        """Drop `inst`; with keep_last, only while another instance is still alive. The
        check and the drop are one step: two instances failing at once must not each see
        the other alive and both go (a line error on the last instance is that test's error)."""
        with self._lock:
            if keep_last and self.alive <= 1:
                return False
            self._dead[self.instances.index(inst)] = why
        inst.close()
        return True

    def _take(self) -> Runner:
        while True:
            if self._stopping.is_set():
                raise RunnerError(CLOSED)
            if self.alive == 0:
                raise RunnerError("every instance was lost: " + "; ".join(sorted(set(self._dead.values()))))
            try:
                return self._free.get(timeout=0.5)
            except queue.Empty:
                continue

    @property
    def max_parallel(self) -> int:
        """One test per live instance."""
        return max(1, self.alive)

    def execute(self, program: Path, timeout_s: float, interact: Sequence[Step] = (),
                repl: Sequence[str] = ()) -> Execution:
        return self._on_an_instance(program, lambda inst: inst.execute(program, timeout_s, interact, repl))

    def execute_checked(self, program: Path, timeout_s: float, interact: Sequence[Step] = (),
                        repl: Sequence[str] = ()) -> Execution:
        return self._on_an_instance(program, lambda inst: inst.execute_checked(program, timeout_s, interact, repl))

    def _on_an_instance(self, script: Path, run: Callable[[Runner], Execution]) -> Execution:
        note = ""
        retried = False  # a test that ended in a line error goes once more to an instance
        while True:
            inst = self._take()  # RunnerError once no instance is left
            where = self._where(inst)
            try:
                ex = run(inst)
            except RunnerError as exc:
                if self._stopping.is_set():
                    raise
                # the instance is gone before the test ran on it: not one of the test's tries
                self._drop(inst, str(exc))
                note = f"instance {where} was lost ({exc})"
                continue
            index = self.instances.index(inst)
            if ex.error and self._stopping.is_set():
                return ex  # closed under it: an interrupted test, no instance's fault
            if ex.error and not retried:
                retried = True
                if index not in self._erred:  # one error: the test again elsewhere, the instance stays
                    self._erred.add(index)
                    self._free.put(inst)
                    note = f"instance {where} lost the test ({ex.error})"
                    continue
                if self._drop(inst, ex.error, keep_last=True):  # two in a row: the instance is unwell
                    note = f"instance {where} was lost ({ex.error})"
                    continue
            if not ex.error:
                self._erred.discard(index)
            with self._lock:
                self._ran[index].append(script.stem)
            self._free.put(inst)
            if note:
                ex.note = f"ran again on {where} after {note}"
            return ex

    def _where(self, inst: Runner) -> str:
        desc = inst.describe_target()
        return f"{self.instances.index(inst)} ({desc.get('address') or desc.get('kind')})"

    def targets(self) -> list[dict]:
        out = []
        for i, inst in enumerate(self.instances):
            desc = dict(inst.describe_target())
            desc["tests"] = list(self._ran[i])
            if i in self._dead:
                desc["dropped"] = self._dead[i]
            out.append(desc)
        return out

    def describe_target(self) -> dict:
        return {"kind": "pool", "instances": len(self.instances)}
