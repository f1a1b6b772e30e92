"""A labgrid place as the board runner's Target.

LabClient is one connection to a labgrid coordinator (labgrid's own ClientSession,
gRPC), its event loop on a thread of its own so the pool's instances can use it side
by side. PlaceTarget acquires its place at open(), reaches the board through the
place's NetworkSerialPort (the exporter's ser2net: rfc2217:// or socket://), uses
the place's power resource, when it has one, as the hard reset (labgrid's own
`labgrid-client power cycle`), and releases the place at close() - which the run
reaches on success, Ctrl-C, SIGTERM and any exception."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import threading
import time

from mpconform.runners.base import RunnerError
from mpconform.runners.transport.targets import Target

DEFAULT_PORT = 20408
CONNECT_S = 10.0
POWER_OFF_S = 0.5  # how long a power cycle leaves the board off
POLL_S = 0.5
# resource classes labgrid's `power` command can drive
POWER_CLASSES = {"NetworkPowerPort", "NetworkUSBPowerPort", "NetworkSiSPMPowerPort", "PDUDaemonPort",
                 "TasmotaPowerPort", "NetworkYKUSHPowerPort", "NetworkSysfsGPIO"}


def coordinator_address(given: str | None) -> str:
    address = given or os.environ.get("LG_COORDINATOR")
    if not address:
        raise RunnerError("no labgrid coordinator: pass --coordinator HOST:PORT or set LG_COORDINATOR")
    return address if ":" in address else f"{address}:{DEFAULT_PORT}"


def _import_labgrid():
    try:
        from labgrid.remote.client import ClientSession
        from labgrid.remote.generated import labgrid_coordinator_pb2
    except ImportError as exc:
        raise RunnerError(f"labgrid is not installed ({exc}); pip install 'mpconform[lab]'") from None
    return ClientSession, labgrid_coordinator_pb2


class LabClient:
    """A ClientSession on its own loop thread; shared per coordinator address, closed by
    its last user."""

    _open: dict[str, LabClient] = {}
    _guard = threading.Lock()

    @classmethod
    def get(cls, address: str) -> LabClient:
        with cls._guard:
            client = cls._open.get(address)
            if client is None:
                client = cls._open[address] = cls(address)
            client.users += 1
            return client

    def __init__(self, address: str):
        ClientSession, self.pb = _import_labgrid()
        # labgrid logs connection trouble on the root logger; the RunnerError below says it once
        logging.getLogger().addHandler(logging.NullHandler())
        self.address = address
        self.users = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=f"labgrid {address}", daemon=True)
        self.thread.start()

        async def start():
            session = ClientSession(address, self.loop)
            await asyncio.wait_for(session.start(), CONNECT_S)
            return session

        try:
            self.session = self._call(start(), CONNECT_S + 2)
        except BaseException as exc:
            self._stop_loop()
            raise RunnerError(f"cannot reach the labgrid coordinator at {address}: {_why(exc)}") from None

    def _call(self, awaitable, timeout: float = 30.0):
        """Wait here for a coroutine run on the client's loop."""

        async def wait():
            return await awaitable

        return asyncio.run_coroutine_threadsafe(wait(), self.loop).result(timeout)

    def rpc(self, method: str, request, timeout: float = 30.0):
        """One coordinator call (made on the loop's thread: gRPC binds a call to its loop)."""

        async def call():
            return await getattr(self.session.stub, method)(request)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout)

    def _stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def release_user(self) -> None:
        with self._guard:
            self.users -= 1
            if self.users > 0:
                return
            self._open.pop(self.address, None)

        async def stop():
            await self.session.stop()
            await self.session.close()

        try:
            self._call(stop(), 10)
        except Exception:  # noqa: BLE001 - a coordinator gone at the end changes nothing
            pass
        self._stop_loop()

    # -- what the coordinator knows ------------------------------------------------
    def sync(self) -> None:
        self._call(self.session.sync_with_coordinator())

    def places(self) -> dict:
        return dict(self.session.places)

    def place(self, name: str):
        place = self.session.places.get(name)
        if place is None:
            known = ", ".join(sorted(self.session.places)) or "none"
            raise RunnerError(f"no labgrid place '{name}' at {self.address} (places: {known})")
        return place

    def resources_of(self, place) -> list[tuple[tuple, object]]:
        """(path, resource) of every exported resource the place matches."""
        out = []
        for exporter, groups in self.session.resources.items():
            for group, resources in groups.items():
                for name, res in resources.items():
                    path = (exporter, group, res.cls, name)
                    if place.getmatch(path) is not None:
                        out.append((path, res))
        return out

    def acquire(self, name: str, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        told = False
        while True:
            holder = self.place(name).acquired
            if holder is None:
                try:
                    self.rpc("AcquirePlace", self.pb.AcquirePlaceRequest(placename=name))
                    self.sync()
                    return
                except Exception as exc:  # noqa: BLE001 - grpc errors: raced by another client, or broken resources
                    holder = self.place(name).acquired
                    if holder is None:
                        raise RunnerError(f"cannot acquire labgrid place '{name}': {_why(exc)}") from None
            if time.monotonic() >= deadline:
                hint = "" if wait_s else " (pass --wait S to wait for it)"
                raise RunnerError(f"labgrid place '{name}' is held by {holder}{hint}; gave up after {wait_s:.0f}s")
            if not told:
                print(f"mpconform: labgrid place '{name}' is held by {holder}; waiting up to {wait_s:.0f}s",
                      file=sys.stderr, flush=True)
                told = True
            time.sleep(POLL_S)
            self.sync()

    def release(self, name: str) -> None:
        try:
            self.rpc("ReleasePlace", self.pb.ReleasePlaceRequest(placename=name), 10)
            self.sync()
        except Exception:  # noqa: BLE001 - released already, or the coordinator is gone
            pass


def _why(exc: BaseException) -> str:
    details = getattr(exc, "details", None)
    text = details() if callable(details) else str(exc)
    return text or type(exc).__name__


def serial_url(args: dict) -> str | None:
    """A NetworkSerialPort's pyserial URL. A ser2net in front of a pty does not answer
    RFC 2217 SET-CONTROL, and a board needs none, so rfc2217 URLs skip waiting for it."""
    if not args.get("port"):
        return None
    host = args.get("host") or "127.0.0.1"
    if args.get("protocol", "rfc2217") == "raw":
        return f"socket://{host}:{args['port']}"
    return f"rfc2217://{host}:{args['port']}?ign_set_control"


class PlacePlan:
    """A place checked before the run starts: it exists and has a serial port."""

    def __init__(self, place: str, coordinator: str | None, wait_s: float):
        self.name = place
        self.address = coordinator_address(coordinator)
        self.wait_s = float(wait_s or 0)
        client = LabClient.get(self.address)
        try:
            found = client.resources_of(client.place(place))
            if not any(res.cls == "NetworkSerialPort" for _, res in found):
                classes = ", ".join(sorted({res.cls for _, res in found})) or "none"
                raise RunnerError(f"labgrid place '{place}' has no serial port (NetworkSerialPort); its resources: {classes}")
            self.has_power = any(res.cls in POWER_CLASSES for _, res in found)
        finally:
            client.release_user()

    def target(self) -> PlaceTarget:
        return PlaceTarget(self)


class PlaceTarget(Target):
    kind = "labgrid-place"

    def __init__(self, plan: PlacePlan):
        self.plan_ = plan
        self.client: LabClient | None = None
        self.url: str | None = None
        self.held = False
        self.reset_by_default = plan.has_power

    @staticmethod
    def plan(place: str, coordinator: str | None, wait_s: float) -> PlacePlan:
        return PlacePlan(place, coordinator, wait_s)

    def open(self) -> str:
        self.client = LabClient.get(self.plan_.address)
        self.client.acquire(self.plan_.name, self.plan_.wait_s)
        self.held = True
        # the exporter starts ser2net on acquire and then publishes its port
        deadline = time.monotonic() + CONNECT_S
        while True:
            place = self.client.place(self.plan_.name)
            urls = [serial_url(res.args) for path, res in self.client.resources_of(place)
                    if res.cls == "NetworkSerialPort" and list(path) in [list(p) for p in place.acquired_resources]]
            urls = [u for u in urls if u]
            if urls:
                self.url = urls[0]
                return self.url
            if time.monotonic() > deadline:
                raise RunnerError(f"labgrid place '{self.plan_.name}': its serial port was not exported "
                                  f"within {CONNECT_S:.0f}s (is its exporter running?)")
            time.sleep(0.1)
            self.client.sync()

    def close(self) -> None:
        if self.client is not None:
            if self.held:  # never release a place someone else holds
                self.client.release(self.plan_.name)
                self.held = False
            self.client.release_user()
            self.client = None

    @property
    def can_hard_reset(self) -> bool:
        return self.plan_.has_power

    def hard_reset(self, transport) -> None:
        client = shutil.which("labgrid-client") or os.path.join(os.path.dirname(sys.executable), "labgrid-client")
        argv = [client, "-x", self.plan_.address, "-p", self.plan_.name, "power", "cycle", "--delay", str(POWER_OFF_S)]
        try:
            subprocess.run(argv, check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RunnerError(f"power cycle of labgrid place '{self.plan_.name}' failed: {exc}") from None

    def describe(self) -> dict:
        return {"kind": self.kind, "place": self.plan_.name, "coordinator": self.plan_.address,
                "address": self.url or "?"}


def places_tagged(coordinator: str | None, key: str, value: str) -> list[str]:
    """Every place at the coordinator with tag key=value, sorted."""
    address = coordinator_address(coordinator)
    client = LabClient.get(address)
    try:
        names = sorted(n for n, p in client.places().items() if p.tags.get(key) == value)
    finally:
        client.release_user()
    if not names:
        raise RunnerError(f"no labgrid place at {address} is tagged {key}={value}")
    return names
