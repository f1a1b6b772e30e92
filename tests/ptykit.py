"""A dead board's device path after its pseudo-terminal number was given away again."""

from __future__ import annotations

import os

import pytest


def assert_gone_once_reused(path: str, device: str) -> None:
    """`device` (/dev/pts/N, which `path` led to while its relay lived) is a terminal
    again, ours or another program's: the control. Then `path` must open nothing, not
    that stranger's terminal; nobody removed `path` itself."""
    strangers: list[int] = []
    try:
        while len(strangers) < 512 and not os.path.exists(device):
            strangers += os.openpty()
        assert os.path.exists(device)  # the old export, /dev/pts/N, leads to a terminal again
        assert os.path.lexists(path)  # nobody removed it
        with pytest.raises(FileNotFoundError):
            os.close(os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK))
    finally:
        for fd in strangers:
            os.close(fd)
