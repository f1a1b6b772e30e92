# mpconform's probe, on the port, for one probe sent on its own (the port had too little
# heap for more): no _run, whose work (implications, garbage) the host has done. The
# least a port must compile. The host puts before it one line of data, `NAME = '...'`,
# and the probe, `def _probe(): ...`. Runs by hand too, with no probe.
try:
    _probe
except NameError:
    NAME = 'none'

    def _probe():
        return (None, 'no probe given')
try:
    import micropython
except ImportError:
    micropython = None
print('mpconform-feature-begin', NAME)
try:
    r = _probe()
except ImportError as e:
    r = (False, 'ImportError ' + repr(e.args))
except BaseException as e:
    r = (None, repr(e))
print('mpconform-feature-end', NAME, repr(r))
