"""A local board farm with real labgrid processes: a labgrid-coordinator on loopback
(unless one is given), emulated boards, and a labgrid-exporter exporting them.

* a unix-pty profile's boards are pty relays (runners/pty_target.py); the exporter
  offers each as a RawSerialPort, which labgrid exports through its own ser2net
  (RFC 2217) while a place holds it;
* a qemu profile's boards are QEMU instances with their UART on 127.0.0.1:P, offered
  as a NetworkSerialPort (raw TCP).

Places `<profile>-<k>` (tag profile=<profile>) match one board each. Every process
started runs in its own session and is recorded in the state directory with its start
time (pid = process group), and carries the lab's id in its environment, inherited by
what it starts; `down` signals only processes proven its own by one or the other (a
recorded pid now given to another process is left alone). The coordinator keeps its
places in a folder of its own, and the pty boards' device paths are in a /dev/shm
folder of the lab's (Lab.devices_dir); `down` removes both. A signal (SIGINT, SIGTERM, SIGHUP)
during `up` stops what it had started."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import yaml

from mpconform.core.inputfile import InputFileError, decode, parse_json
from mpconform.core.model import RunnerSpec, read_manifest
from mpconform.core.procid import is_running, start_time
from mpconform.core.selfcommand import module_command
from mpconform.runners.base import RunnerError
from mpconform.runners.lab.place import LabClient
from mpconform.runners.transport.line import free_port, listening

EXPORTER = "mpconform-lab"
START_S = 15.0
MAX_BOARDS = 64  # each board is a process or an emulator, and a place at the coordinator
RECORD_BYTES = 1 << 20
LAB_ENV = "MPCONFORM_LAB"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
DEVICES_ROOT = Path("/dev/shm")  # a /dev folder anyone may write: labgrid exports /dev paths only


class Stopped(KeyboardInterrupt):
    """`lab up` was stopped by a signal; what it had started is stopped too."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _StopSignals:
    """SIGTERM and SIGHUP stop `up` as Ctrl-C does, so its cleanup runs; a signal that
    comes while a process is being started and recorded waits until it is recorded;
    later signals cannot break off the cleanup."""

    def __init__(self):
        self.came: list[int] = []
        self.holding = False
        self._old: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)

    def _handle(self, signum, _frame):
        self.came.append(signum)
        if len(self.came) == 1 and not self.holding:
            raise Stopped(signum)

    @contextlib.contextmanager
    def hold(self):
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if len(self.came) == 1:  # it came while held: stop now
            self.came.append(self.came[0])
            raise Stopped(self.came[0])


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        raise RunnerError(f"{name} not found; pip install 'mpconform[lab]' (labgrid)")
    return found


def parse_boards(text: str) -> list[tuple[str, int]]:
    out = []
    for part in text.split(","):
        profile, sep, count = part.strip().partition(":")
        if not profile or (sep and not (count.isascii() and count.isdigit())) or (sep and int(count) < 1):
            raise RunnerError(f"--boards: expected PROFILE:N[,PROFILE:N], got {text!r}")
        out.append((profile, int(count) if sep else 1))
    total = sum(n for _, n in out)
    if total > MAX_BOARDS:
        shown = str(total) if len(str(total)) <= 12 else f"{str(total)[:12]}... ({len(str(total))} digits)"
        raise RunnerError(f"--boards: at most {MAX_BOARDS} boards in one lab, got {shown}")
    return out


def _problem(record) -> str:
    """What is wrong with a lab record read from lab.json, or "" when it is one."""
    if not isinstance(record, dict):
        return f"expected an object, got {type(record).__name__}"
    if not isinstance(record.get("coordinator"), (str, type(None))) or "coordinator" not in record:
        return "coordinator: expected HOST:PORT"
    if not isinstance(record.get("own_coordinator"), bool):
        return "own_coordinator: expected true or false"
    if not isinstance(record.get("lab", ""), str):
        return "lab: expected a string"
    places = record.get("places")
    if not isinstance(places, list) or not all(isinstance(p, str) for p in places):
        return "places: expected a list of names"
    processes = record.get("processes")
    if not isinstance(processes, list):
        return "processes: expected a list"
    for i, p in enumerate(processes):
        if not isinstance(p, dict):
            return f"processes[{i}]: expected an object"
        pid, start, argv = p.get("pid"), p.get("start"), p.get("argv")
        if not isinstance(p.get("name"), str):
            return f"processes[{i}].name: expected a string"
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            return f"processes[{i}].pid: expected a process id, got {json.dumps(pid)[:40]}"
        if start is not None and (not isinstance(start, int) or isinstance(start, bool)):
            return f"processes[{i}].start: expected a start time, got {json.dumps(start)[:40]}"
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            return f"processes[{i}].argv: expected a list of strings"
    return ""


def _ours(p: dict) -> bool:
    """Whether a recorded process still runs and is the one `up` started (its pid alone
    may since belong to another process)."""
    return is_running(p["pid"], p.get("start"), p.get("argv"))


class Lab:
    def __init__(self, state: Path):
        self.state = Path(state)
        self.pids_file = self.state / "lab.json"
        self._stops = _StopSignals()

    # -- bookkeeping -----------------------------------------------------------------
    def read(self) -> dict:
        try:
            with self.pids_file.open("rb") as fh:
                raw = fh.read(RECORD_BYTES + 1)
        except FileNotFoundError:
            raise RunnerError(f"no lab recorded in {self.state} (start one with `mpconform lab up --state {self.state}`)") \
                from None
        except OSError as exc:
            raise RunnerError(f"{self.pids_file}: cannot read: {exc.strerror}") from None
        why = "larger than a lab record can be" if len(raw) > RECORD_BYTES else ""
        record = None
        if not why:
            try:
                record = parse_json(self.pids_file, decode(self.pids_file, raw))
            except InputFileError as exc:
                why = str(exc).split(": ", 1)[-1]
        why = why or _problem(record)
        if why:
            raise RunnerError(f"{self.pids_file}: not a lab record written by `mpconform lab up` ({why}); "
                              "remove it if no lab runs there")
        return record

    def _save(self, record: dict) -> None:
        self.pids_file.write_text(json.dumps(record, indent=1))

    def _spawn(self, record: dict, name: str, argv: list[str], cwd: Path | None = None) -> subprocess.Popen:
        log = open(self.state / f"{name}.log", "wb")
        # a signal now would leave a process started but not recorded: it waits until it is
        with log, self._stops.hold():
            proc = subprocess.Popen(argv, cwd=cwd or self.state, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env={**os.environ, LAB_ENV: record["lab"]})
            record["processes"].append({"name": name, "pid": proc.pid, "start": start_time(proc.pid), "argv": argv})
            self._save(record)
        return proc

    @property
    def devices_dir(self) -> Path:
        """Where the pty boards' device paths are published, one folder per state folder;
        `down` removes it. Each is the relay's own link (pty_target: it names the relay's
        descriptor, so it goes when the relay does): exporting the /dev/pts/N it leads to
        instead would let ser2net reopen N after a relay is killed, by then another
        program's terminal. Under /dev because labgrid exports only /dev paths."""
        digest = hashlib.sha256(str(self.state.resolve()).encode()).hexdigest()[:16]
        return DEVICES_ROOT / f"mpconform-lab-{digest}"

    @property
    def coordinator_dir(self) -> Path:
        """Where the coordinator we start keeps its places (places.yaml): `down` removes it."""
        return self.state / "coordinator"

    # -- up ------------------------------------------------------------------------
    def up(self, root: Path, boards: list[tuple[str, int]], coordinator: str | None) -> str:
        """Start the lab; a failure or a stop signal half-way stops what was started."""
        with self._stops:
            return self._up(root, boards, coordinator)

    def _up(self, root: Path, boards: list[tuple[str, int]], coordinator: str | None) -> str:
        self.state.mkdir(parents=True, exist_ok=True)
        if self.pids_file.exists() and any(_ours(p) for p in self.read()["processes"]):
            raise RunnerError(f"a lab is already up in {self.state}; `mpconform lab down --state {self.state}` first")
        runners = {profile: _runner_of(root, profile) for profile, _ in boards}
        record = {"lab": uuid.uuid4().hex, "coordinator": coordinator, "own_coordinator": coordinator is None,
                  "processes": [], "places": []}
        self._save(record)
        shutil.rmtree(self.devices_dir, ignore_errors=True)  # left by a lab that was killed
        try:
            if coordinator is None:
                port = free_port()
                coordinator = record["coordinator"] = f"127.0.0.1:{port}"
                shutil.rmtree(self.coordinator_dir, ignore_errors=True)  # left by a lab that was killed
                self.coordinator_dir.mkdir()
                self._spawn(record, "coordinator", [_tool("labgrid-coordinator"), "-l", coordinator],
                            cwd=self.coordinator_dir)
                _wait_port(port, "labgrid-coordinator", self.state / "coordinator.log", connect=True)
            client = LabClient.get(coordinator)  # also: is the coordinator reachable at all?
            try:
                resources = {}
                for profile, count in boards:
                    for k in range(1, count + 1):
                        name = f"{profile}-{k}"
                        resources[name] = self._start_board(record, name, runners[profile])
                self._power_switch(record, resources)
                config = self.state / "exporter.yaml"
                config.write_text(yaml.safe_dump(resources, sort_keys=False))
                self._spawn(record, "exporter", [_tool("labgrid-exporter"), "-c", coordinator, "-n", EXPORTER,
                                                 "--hostname", "127.0.0.1", str(config)])
                self._wait_resources(client, set(resources))
                for profile, count in boards:
                    for k in range(1, count + 1):
                        self._add_place(client, record, f"{profile}-{k}", profile)
            finally:
                client.release_user()
        except BaseException:
            self.down()
            raise
        return coordinator

    def _start_board(self, record: dict, name: str, runner: RunnerSpec) -> dict:
        options = runner.options
        if runner.name == "qemu":
            from mpconform.runners.plugins.qemu import QemuRunner

            names = {o.name for o in QemuRunner.OPTIONS}  # the profile's, less what a place adds
            port = free_port()
            self._spawn(record, name, QemuRunner.plan({k: v for k, v in options.items() if k in names}).command(port))
            _wait_port(port, f"QEMU for {name}", self.state / f"{name}.log")
            return {"NetworkSerialPort": {"host": "127.0.0.1", "port": port, "speed": 115200, "protocol": "raw"}}
        if runner.name == "board" and (options.get("target") or {}).get("kind") == "unix-pty":
            from mpconform.runners.plugins.unix import find_micropython

            published = DEVICES_ROOT.is_dir()  # the link itself is exported (see devices_dir)
            if published:
                self.devices_dir.mkdir(mode=0o700, exist_ok=True)
                link = self.devices_dir / name
            else:  # no /dev/shm: the resolved /dev/pts path, as a last resort
                link = self.state / name
            link.unlink(missing_ok=True)
            self._spawn(record, name, module_command("mpconform.runners.transport.pty_target", "--link", str(link), "--",
                                                      find_micropython(options.get("micropython"))))
            deadline = time.monotonic() + START_S
            while not link.exists():
                if time.monotonic() > deadline:
                    raise RunnerError(f"the pty relay for {name} did not start (see {self.state / (name + '.log')})")
                time.sleep(0.02)
            port = str(link) if published else os.path.realpath(link)  # labgrid exports only /dev paths
            return {"RawSerialPort": {"port": port, "speed": 115200}}
        raise RunnerError(f"profile of {name.rsplit('-', 1)[0]} is not an emulated board (unix-pty or qemu); "
                          "export real boards with your own labgrid-exporter")

    def _power_switch(self, record: dict, resources: dict) -> None:
        """One HTTP power switch (runners/lab_power.py) for the pty boards: their places
        get a NetworkPowerPort, which the run uses as the hard reset."""
        relays = {p["name"]: p["pid"] for p in record["processes"]}
        outlets = [name for name, res in resources.items() if "RawSerialPort" in res]
        if not outlets:
            return
        port = free_port()
        self._spawn(record, "power", module_command("mpconform.runners.lab.power", "--port", str(port),
                                                        *[str(relays[name]) for name in outlets]))
        _wait_port(port, "the lab's power switch", self.state / "power.log", connect=True)
        for index, name in enumerate(outlets):
            resources[name]["NetworkPowerPort"] = {"model": "simplerest", "index": index,
                                                   "host": f"http://127.0.0.1:{port}/relay/{{index}}/{{value}}"}

    def _wait_resources(self, client: LabClient, groups: set[str]) -> None:
        deadline = time.monotonic() + START_S
        while True:
            client.sync()
            have = set(client.session.resources.get(EXPORTER, {}))
            if groups <= have:
                return
            if time.monotonic() > deadline:
                log = (self.state / "exporter.log").read_text(errors="replace").strip()[-400:]
                raise RunnerError(f"labgrid-exporter did not export {', '.join(sorted(groups - have))}: {log}")
            time.sleep(0.2)

    def _add_place(self, client: LabClient, record: dict, name: str, profile: str) -> None:
        pb = client.pb
        if name in client.places():
            raise RunnerError(f"the coordinator already has a place '{name}'")
        client.rpc("AddPlace", pb.AddPlaceRequest(name=name))
        record["places"].append(name)
        self._save(record)
        client.rpc("AddPlaceMatch", pb.AddPlaceMatchRequest(placename=name, pattern=f"{EXPORTER}/{name}/*"))
        client.rpc("SetPlaceTags", pb.SetPlaceTagsRequest(placename=name, tags={"profile": profile}))
        client.sync()

    # -- down ----------------------------------------------------------------------
    def down(self) -> list[str]:
        record = self.read()
        if not record["own_coordinator"] and record["places"]:
            try:
                client = LabClient.get(record["coordinator"])
                try:
                    for name in record["places"]:
                        client.rpc("DeletePlace", client.pb.DeletePlaceRequest(name=name))
                finally:
                    client.release_user()
            except Exception:  # noqa: BLE001 - a coordinator that is gone has no places to delete
                pass
        stopped = []
        # the exporter first, by SIGINT (it ends on KeyboardInterrupt, stopping its ser2net
        # and leaving the coordinator; it ignores SIGTERM for a while); then the rest at once
        exporter = [p for p in record["processes"] if p["name"] == "exporter"]
        rest = [p for p in record["processes"] if p["name"] != "exporter"]
        for group, sig in ((exporter, signal.SIGINT), (rest, signal.SIGTERM)):
            stopped += _stop_groups(group, sig)
        if record.get("lab"):
            _stop_tagged(record["lab"])  # what they started outside their groups (a relay's board)
        if record["own_coordinator"]:
            shutil.rmtree(self.coordinator_dir, ignore_errors=True)
        shutil.rmtree(self.devices_dir, ignore_errors=True)
        self.pids_file.unlink(missing_ok=True)
        return stopped


def _runner_of(root: Path, profile: str) -> RunnerSpec:
    manifest = root / "suites" / profile / "manifest.json"
    if not manifest.is_file():
        raise RunnerError(f"unknown port '{profile}': no suites/{profile}/manifest.json")
    return read_manifest(manifest).runner


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _stop_groups(processes: list[dict], sig: int) -> list[str]:
    """`sig` to each recorded process group whose leader is still the process recorded,
    SIGKILL what is left of those groups after 5 s; the names of those that were still
    there. (While a group has members its id is never given to another process.)"""
    alive = [p for p in processes if _ours(p)]
    for p in alive:
        try:
            os.kill(p["pid"], sig)  # the leader: labgrid's processes take SIGINT as Ctrl-C
            os.killpg(p["pid"], signal.SIGTERM if sig != signal.SIGINT else sig)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while any(group_alive(p["pid"]) for p in alive) and time.monotonic() < deadline:
        for p in alive:
            _reap(p["pid"])
        time.sleep(0.05)
    for p in alive:
        if group_alive(p["pid"]):
            try:
                os.killpg(p["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
            time.sleep(0.1)
            _reap(p["pid"])
    return [p["name"] for p in alive]


def _tagged(lab: str) -> list[int]:
    needle = f"{LAB_ENV}={lab}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _stop_tagged(lab: str) -> None:
    """SIGKILL every process left that carries this lab's id, and wait until they are gone."""
    deadline = time.monotonic() + 5
    while True:
        left = [pid for pid in _tagged(lab) if start_time(pid) is not None]
        if not left or time.monotonic() > deadline:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            _reap(pid)
        time.sleep(0.05)


def _reap(pid: int) -> None:
    """Collect a child of this process (when `up` fails, its processes are ours)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _wait_port(port: int, what: str, log: Path, connect: bool = False) -> None:
    """Until something listens on the port: by connecting, or (QEMU, whose only client
    slot a connection would take) from /proc."""
    deadline = time.monotonic() + START_S
    while True:
        if connect:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                pass
        else:
            up = listening(port)
            if up or up is None:
                return
        if time.monotonic() > deadline:
            text = log.read_text(errors="replace").strip()[-300:] if log.exists() else ""
            raise RunnerError(f"{what} did not listen on 127.0.0.1:{port}: {text}")
        time.sleep(0.05)
