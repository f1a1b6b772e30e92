# mpconform's probe, on the port: the module under test, and _run, which skips a probe
# whose implied feature is known absent (or unknown), collects garbage first (a small
# heap), and prints the answer between markers. A probe decided by what it prints
# returns None: only the host knows its answer, so it is not in _known.
# The host puts one line of data before it, `_known = {...}` (earlier answers), and the
# probes (`def _probe(): ...` then `_run(name, _probe, needs)`) after it. Runs by hand too.
try:
    _known
except NameError:
    _known = {}
try:
    import micropython
except ImportError:
    micropython = None
try:
    from gc import collect as _collect
except ImportError:
    _collect = None
def _run(name, probe, needs):
    print('mpconform-feature-begin', name)
    r = None
    for n in needs:
        k = _known.get(n, 1)
        if k is False:
            r = (False, 'needs ' + n + ', which is absent')
        elif k is None and r is None:
            r = (None, 'needs ' + n + ', which the probe could not tell')
    if r is None:
        if _collect:
            _collect()
        try:
            r = probe()
        except ImportError as e:
            r = (False, 'ImportError ' + repr(e.args))
        except MemoryError as e:
            r = (None, 'MemoryError ' + repr(e.args))
        except BaseException as e:
            r = (None, repr(e))
    if type(r) is tuple:
        _known[name] = r[0]
    elif r is not None:
        _known[name] = r
    print('mpconform-feature-end', name, repr(r))
