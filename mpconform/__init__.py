"""mpconform: a cross-port conformance suite for MicroPython's `micropython` module."""

__version__ = "0.1.0"
