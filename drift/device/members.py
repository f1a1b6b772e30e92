# mpconform's drift probe, on the port (drift/port.py): what its micropython module holds.
# It lists the module's members, each member's type, a class's methods, and each
# callable's largest accepted argument count, read from the TypeError a call with too
# many arguments raises. Any MicroPython, old or tiny: no f-strings, every step guarded.
# The host puts one line of data before it: PARAMS = (the tag its lines start with, how
# many arguments to call with, {class: constructor arguments}). Runs by hand too:
# `micropython members.py`, `mpremote run members.py`.
try:
    PARAMS
except NameError:
    PARAMS = ('mpconform-drift', 12, {})
_TAG = PARAMS[0]
try:
    import micropython as _m
except ImportError:
    print(_TAG, repr(('nomodule', '', '')))
    raise SystemExit
_ARGS = (0,) * PARAMS[1]
_CTOR = PARAMS[2]


def _kind(o):
    try:
        if isinstance(o, type):
            return 'class'
    except Exception:
        pass
    try:
        return type(o).__name__
    except Exception:
        return repr(type(o))


def _arity(f):
    try:
        f(*_ARGS)
    except TypeError as e:
        try:
            return 'TypeError: ' + str(e)
        except Exception:
            return 'TypeError'
    except Exception as e:
        try:
            return 'raised ' + type(e).__name__
        except Exception:
            return 'raised'
    return 'ran'


def _callable(o):
    try:
        return callable(o)
    except Exception:
        return True


def _report(what, name, obj):
    k = _kind(obj)
    a = ''
    if k != 'module' and _callable(obj):
        try:
            a = _arity(obj)
        except Exception:
            a = 'probe error'
    print(_TAG, repr((what, name, k, a)))


try:
    _names = dir(_m)
except Exception:
    _names = []
for _n in _names:
    if _n.startswith('__'):
        continue
    try:
        _o = getattr(_m, _n)
    except Exception:
        print(_TAG, repr(('member', _n, 'unreadable', '')))
        continue
    try:
        _report('member', _n, _o)
    except Exception:
        print(_TAG, repr(('member', _n, 'error', '')))
    if _kind(_o) == 'class':
        try:
            _ms = dir(_o)
        except Exception:
            _ms = []
        # Methods are probed bound to an instance: a native method called through
        # its class checks `self` before it counts arguments.
        _inst = _o
        if _n in _CTOR:
            try:
                _inst = _o(*_CTOR[_n])
            except Exception:
                _inst = _o
        for _a in _ms:
            if _a.startswith('__'):
                continue
            try:
                _report('method', _n + '.' + _a, getattr(_inst, _a))
            except Exception:
                print(_TAG, repr(('method', _n + '.' + _a, 'error', '')))
print(_TAG, repr(('done', '', '', '')))
