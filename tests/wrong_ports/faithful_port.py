# A MicroPython prelude (runs on the port before each test) that swaps the
# `micropython` module for an object the project's tests can break one member at
# a time. Unchanged, it forwards to the real module and adds faithful Python
# versions of heap_locked(), alloc_emergency_exception_buf() and RingIO, so the
# whole suite must pass through it: the control for every wrong port.
import io
import sys

import micropython as _real


class _Port:
    pass


def _shadow(name, module):
    # A stand-in for a built-in module, whose members a wrong port replaces one at a
    # time; `import name` in the test then finds it first in sys.modules.
    stand_in = _Port()
    for member in dir(module):
        if not member.startswith('__'):
            setattr(stand_in, member, getattr(module, member))
    sys.modules[name] = stand_in
    return stand_in


_port = _shadow('micropython', _real)


def _heap_locked():
    # Locking then unlocking returns the depth as it was, without allocating.
    _real.heap_lock()
    return _real.heap_unlock()


def _alloc_emergency_exception_buf(size):
    # The unix port's emergency buffer is fixed; sizing it is a no-op there.
    return None


class _RingIO(io.IOBase):
    # io.IOBase and ioctl make the wrapper pollable as the real stream is (select, asyncio).
    def __init__(self, arg):
        self._r = _real.RingIO(arg)
        self._capacity = arg if type(arg) is int else len(arg) - 1

    def ioctl(self, request, arg):
        if request != 3:  # MP_STREAM_POLL; no file descriptor or anything else here
            return -1
        ready = 0
        if arg & 1 and self._r.any():
            ready |= 1
        if arg & 4 and self._r.any() < self._capacity:
            ready |= 4
        return ready

    def any(self):
        return self._r.any()

    def read(self, *args):
        return self._r.read(*args)

    def readline(self, *args):
        return self._r.readline(*args)

    def readinto(self, *args):
        return self._r.readinto(*args)

    def write(self, buf):
        return self._r.write(buf)

    def close(self):
        return self._r.close()


_port.heap_locked = _heap_locked
_port.alloc_emergency_exception_buf = _alloc_emergency_exception_buf
_port.RingIO = _RingIO
