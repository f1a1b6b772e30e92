# mpconform's probe, on the port: helpers a probe body may use. The host sends each
# only with the probes that name it (runners/run/probe.py picks them out of this file).
# `@micropython.bytecode` is compiled through exec() so a build that rejects the
# decorator fails only the probes that use it.
import sys
try:
    import micropython
except ImportError:
    micropython = None


def _exec(src):
    try:
        exec
    except NameError:
        raise RuntimeError('no exec() to compile a test snippet with')
    try:
        exec(src, {})
    except SyntaxError as e:
        return False, 'SyntaxError ' + repr(e.args) + ' compiling ' + repr(src)
    return True, 'compiled and ran ' + repr(src)


def _show(fn):
    try:
        fn()
    except Exception as e:
        sys.print_exception(e)
        return
    raise RuntimeError('nothing raised')


def _raise_plain():
    raise ValueError('probe')


def _bytecode_raiser():
    g = {}
    try:
        exec('@micropython.bytecode\ndef f():\n    raise ValueError(\'probe\')\n', g)
    except SyntaxError as e:
        raise RuntimeError('@micropython.bytecode did not compile: ' + repr(e.args))
    return g['f']
