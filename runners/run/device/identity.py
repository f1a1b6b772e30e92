# mpconform's probe, on the port: what MicroPython this is (runners/run/probe.py reads
# the lines it prints). Runs by hand too: `micropython identity.py`, `mpremote run identity.py`.
# It must compile on old and tiny MicroPythons: no f-strings, no slices, every step guarded.
import sys
_i = sys.implementation
for _k in ('name', 'version', '_machine', '_build', '_mpy', '_thread'):
    if hasattr(_i, _k):
        print('mpconform-probe', _k, repr(getattr(_i, _k)))
print('mpconform-probe', 'platform', repr(sys.platform))
print('mpconform-probe', 'sys_version', repr(sys.version))
