"""Deliberately wrong ports: each breaks one documented behaviour of one API, as
MicroPython code appended to faithful_port.py, and names the behaviours that must
then fail. `fake_binary` instead wraps the real binary (for parser features)."""

from __future__ import annotations

WRONG_PORTS = {
    "const_not_identity_at_run_time": {
        "code": "_port.const = lambda x: x + 1 if type(x) is int else x\n",
        "select": ["const.*"],
        "must_fail": ["const.runtime_call_returns_argument", "const.module_prefix_not_folded"],
    },
    "const_returns_none": {
        # Also run on a build without parser const (tests/test_build_configs.py), where
        # every behaviour that drops the const requirement must fail with it.
        "code": "_port.const = lambda x: None\n",
        "select": ["const.*"],
        "must_fail": ["const.runtime_call_returns_argument", "const.module_prefix_not_folded", "const.alias_not_folded"],
    },
    "const_not_folded_by_the_parser": {
        # A port built without MICROPY_COMP_CONST: const(...) is an ordinary call.
        "fake_binary": "sed -e 's/\\([^.A-Za-z_]\\)const(/\\1(/g' \"$1\" > \"$tmp/$1\"",
        "select": ["const.*"],
        "must_fail": [
            "const.underscore_name_not_in_globals",
            "const.runtime_variable_is_syntax_error",
            "const.function_call_is_syntax_error",
            # folding and elimination are what the parser does: none of it happens at run time
            "const.folds_expression",
            "const.reuses_earlier_constant_at_compile_time",
            "const.int_arithmetic_and_bitwise",
            "const.reassigned_global_keeps_inlined_value",
            "const.false_guarded_code_eliminated",
        ],
    },
    "opt_level_setting_ignored": {
        "code": "def _opt(*a):\n    return None if a else 0\n_port.opt_level = _opt\n",
        "select": ["opt_level.*"],
        "must_fail": [
            "opt_level.get_returns_level_last_set",
            "opt_level.asserts_dropped_at_level_1_and_higher",
            "opt_level.debug_false_at_level_1_and_higher",
            "opt_level.line_numbers_dropped_at_level_3",
        ],
    },
    "opt_level_set_returns_old_level": {
        "code": "def _opt(*a):\n    old = _real.opt_level()\n    if a:\n        _real.opt_level(*a)\n    return old\n_port.opt_level = _opt\n",
        "select": ["opt_level.*"],
        "must_fail": ["opt_level.set_returns_none"],
    },
    "alloc_emergency_exception_buf_returns_size": {
        "code": "_port.alloc_emergency_exception_buf = lambda size: size\n",
        "select": ["alloc_emergency_exception_buf.*"],
        "must_fail": ["alloc_emergency_exception_buf.returns_none"],
    },
    "mem_info_prints_nothing": {
        "code": "_port.mem_info = lambda *a: None\n",
        "select": ["mem_info.*"],
        "must_fail": [
            "mem_info.returns_none",
            "mem_info.reports_stack_usage",
            "mem_info.reports_heap_usage",
            "mem_info.verbose_adds_block_map",
        ],
    },
    "mem_info_ignores_verbose": {
        "code": "_port.mem_info = lambda *a: _real.mem_info()\n",
        "select": ["mem_info.*"],
        "must_fail": ["mem_info.verbose_adds_block_map", "mem_info.verbose_map_uses_documented_symbols"],
    },
    "qstr_info_ignores_verbose": {
        "code": "_port.qstr_info = lambda *a: _real.qstr_info()\n",
        "select": ["qstr_info.*"],
        "must_fail": ["qstr_info.verbose_lists_runtime_interned_name", "qstr_info.verbose_lists_script_identifier"],
    },
    "stack_use_constant": {
        "code": "_port.stack_use = lambda: 1000\n",
        "select": ["stack_use.*"],
        "must_fail": ["stack_use.grows_with_call_depth", "stack_use.deeper_recursion_uses_more"],
    },
    "heap_lock_is_a_no_op": {
        "code": "_port.heap_lock = lambda: None\n_port.heap_unlock = lambda: 0\n",
        "select": ["heap_lock.*", "heap_unlock.zero_means_allocation_works", "alloc_emergency_exception_buf.*"],
        "must_fail": [
            "heap_lock.alloc_raises_memoryerror",
            "heap_lock.dict_alloc_raises_memoryerror",
            "heap_lock.bytearray_alloc_raises_memoryerror",
            "heap_lock.str_concat_raises_memoryerror",
            "heap_lock.list_growth_raises_memoryerror",
            "heap_lock.nesting_needs_matching_unlocks",
            # what still runs, or works again, under a lock that never locks: their controls fail
            "heap_lock.non_allocating_code_still_runs",
            "heap_lock.unlock_restores_allocation",
            "heap_unlock.zero_means_allocation_works",
            "alloc_emergency_exception_buf.exception_created_while_heap_locked",
            "alloc_emergency_exception_buf.traceback_kept_while_heap_locked",
        ],
    },
    "heap_unlock_returns_none": {
        "code": "def _unlock():\n    _real.heap_unlock()\n_port.heap_unlock = _unlock\n",
        "select": ["heap_unlock.*"],
        "must_fail": ["heap_unlock.returns_depth", "heap_unlock.counts_down_three_levels"],
    },
    "heap_locked_returns_a_bool": {
        "code": "def _locked():\n    _real.heap_lock()\n    return _real.heap_unlock() > 0\n_port.heap_locked = _locked\n",
        "select": ["heap_locked.*"],
        "must_fail": ["heap_locked.zero_when_unlocked", "heap_locked.reports_nesting_depth"],
    },
    "kbd_intr_rejects_minus_one": {
        "code": "def _kbd(c):\n    if c < 0:\n        raise ValueError('bad char')\n    return _real.kbd_intr(c)\n_port.kbd_intr = _kbd\n",
        "select": ["kbd_intr.*"],
        "must_fail": ["kbd_intr.disable_returns_none", "kbd_intr.script_runs_normally_while_disabled"],
    },
    "schedule_calls_synchronously": {
        "code": "def _sched(f, a):\n    f(a)\n_port.schedule = _sched\n",
        "select": ["schedule.*"],
        "must_fail": [
            "schedule.no_preemption_of_running_callback",
            "schedule.full_queue_raises_runtimeerror",
        ],
    },
    # Claims that something does not happen, on ports where it never would: their controls fail.
    "schedule_runs_callbacks_only_in_sleeps": {
        "code": (
            "_pending = []\n_port.schedule = lambda f, a: _pending.append((f, a))\n"
            "import time as _time\n_t = _shadow('time', _time)\n"
            "def _sleep_ms(ms):\n    while _pending:\n        f, a = _pending.pop(0)\n        f(a)\n    _time.sleep_ms(ms)\n"
            "_t.sleep_ms = _sleep_ms\n"
        ),
        "select": ["schedule.not_called_inside_native_code", "schedule.runs_between_opcodes_without_sleep"],
        "must_fail": ["schedule.not_called_inside_native_code", "schedule.runs_between_opcodes_without_sleep"],
    },
    "sleep_ms_runs_no_callback": {
        "code": (
            "import time as _time\n_shadow('time', _time).sleep_ms = lambda ms: None\n"
        ),
        "select": ["schedule.sleep_inside_callback_does_not_run_others", "schedule.sleep_ms_zero_runs_pending"],
        "must_fail": ["schedule.sleep_inside_callback_does_not_run_others", "schedule.sleep_ms_zero_runs_pending"],
    },
    "tracebacks_without_line_numbers": {
        "code": (
            "_sys = sys\n_s = _shadow('sys', _sys)\n"
            "def _print_exception(e, f=_sys.stdout):\n    b = io.StringIO()\n    _sys.print_exception(e, b)\n"
            "    f.write(''.join(p.split(', line ')[0] + (',' + p.split(',', 2)[2] if p.count(',') > 1 else '')\n"
            "                    for p in b.getvalue().splitlines(True)))\n"
            "_s.print_exception = _print_exception\n"
        ),
        "select": ["opt_level.line_numbers_dropped_at_level_3"],
        "must_fail": ["opt_level.line_numbers_dropped_at_level_3"],
    },
    "schedule_drops_the_argument": {
        "code": "_port.schedule = lambda f, a: _real.schedule(f, None)\n",
        "select": ["schedule.*"],
        "must_fail": ["schedule.passes_argument"],
    },
    "ringio_size_off_by_one": {
        "code": (
            "class _Off(_RingIO):\n    def __init__(self, arg):\n"
            "        self._r = _real.RingIO(arg + 1 if type(arg) is int else arg)\n_port.RingIO = _Off\n"
        ),
        "select": ["RingIO.*"],
        "must_fail": ["RingIO.int_size_holds_size_bytes"],
    },
    "ringio_any_off_by_one": {
        "code": "class _Any(_RingIO):\n    def any(self):\n        return self._r.any() + 1\n_port.RingIO = _Any\n",
        "select": ["RingIO.any.*"],
        "must_fail": ["RingIO.any.counts_readable_bytes", "RingIO.any.full_equals_capacity"],
    },
    "ringio_read_ignores_nbytes": {
        "code": "class _Read(_RingIO):\n    def read(self, *a):\n        return self._r.read()\n_port.RingIO = _Read\n",
        "select": ["RingIO.read.*"],
        "must_fail": ["RingIO.read.limits_to_nbytes"],
    },
    "ringio_readline_ignores_newline": {
        "code": "class _Line(_RingIO):\n    def readline(self, *a):\n        return self._r.read(*a)\n_port.RingIO = _Line\n",
        "select": ["RingIO.readline.*"],
        "must_fail": ["RingIO.readline.stops_after_newline", "RingIO.readline.nbytes_beyond_newline_stops_at_newline"],
    },
    "ringio_readinto_ignores_nbytes": {
        "code": "class _Into(_RingIO):\n    def readinto(self, buf, *a):\n        return self._r.readinto(buf)\n_port.RingIO = _Into\n",
        "select": ["RingIO.readinto.*"],
        "must_fail": ["RingIO.readinto.limits_to_nbytes"],
    },
    "ringio_write_returns_none": {
        "code": "class _Write(_RingIO):\n    def write(self, buf):\n        self._r.write(buf)\n_port.RingIO = _Write\n",
        "select": ["RingIO.write.*"],
        "must_fail": ["RingIO.write.returns_count", "RingIO.write.partial_when_space_runs_out"],
    },
    "ringio_close_discards_data": {
        "code": "class _Close(_RingIO):\n    def close(self):\n        self._r.read()\n_port.RingIO = _Close\n",
        "select": ["RingIO.close.*"],
        "must_fail": ["RingIO.close.keeps_data"],
    },
    "RingIO_poll_always_ready": {
        "code": "class _Ready(_RingIO):\n    def ioctl(self, request, arg):\n        return arg if request == 3 else -1\n_port.RingIO = _Ready\n",
        "select": ["RingIO.*"],
        "must_fail": ["RingIO.pollable_stream"],
    },
    # Model-based sequences (spec/models): each must fail, with its shrunk sequence.
    "ringio_drops_oldest_when_full": {
        "code": (
            "class _Drop(_RingIO):\n    def write(self, buf):\n        for b in bytes(buf):\n"
            "            if self._r.any() == self._capacity:\n                self._r.read(1)\n"
            "            self._r.write(bytes([b]))\n        return len(buf)\n_port.RingIO = _Drop\n"
        ),
        "select": ["RingIO.model.*"],
        "must_fail": ["RingIO.model.seed1", "RingIO.model.seed2", "RingIO.model.seed3", "RingIO.model.seed4"],
    },
    "heap_unlock_returns_zero": {
        "code": "def _unlock():\n    _real.heap_unlock()\n    return 0\n_port.heap_unlock = _unlock\n",
        "select": ["heap_lock.model.*"],
        "must_fail": ["heap_lock.model.seed1", "heap_lock.model.seed2"],
    },
    "schedule_runs_last_first": {
        # its own queue of 4, drained newest first by one real callback
        "code": (
            "_waiting = []\ndef _drain(_):\n    while _waiting:\n        f, a = _waiting.pop()\n        f(a)\n"
            "def _lifo(f, a):\n    if len(_waiting) >= 4:\n        raise RuntimeError('schedule queue full')\n"
            "    _waiting.append((f, a))\n    if len(_waiting) == 1:\n        _real.schedule(_drain, None)\n"
            "_port.schedule = _lifo\n"
        ),
        "select": ["schedule.model.*"],
        "must_fail": ["schedule.model.seed1", "schedule.model.seed2"],
    },
}

# kbd_intr's argument only shows where the port reads its input stream: the unix port
# takes Ctrl-C as SIGINT and skips those behaviours (feature kbd_intr_stream), so these
# run on the micro:bit firmware in QEMU. It has no sys.modules, so `kbd_intr` is the
# replacement bound to the name `micropython` before the test's own code, whose
# `import micropython, ...` line then imports only the rest.
STREAM_WRONG_PORTS = {
    "faithful": {"kbd_intr": "_real.kbd_intr", "must_fail": []},
    "kbd_intr_does_nothing": {
        "kbd_intr": "lambda c: None",
        "must_fail": ["kbd_intr.disabled_ctrl_c_raises_nothing", "kbd_intr.other_character_raises"],
    },
    "never_delivers_ctrl_c": {
        # capture off from the start, and kbd_intr cannot turn it on: as ports/qemu, which
        # never looks at its input while code runs
        "kbd_intr": "(_real.kbd_intr(-1), lambda c: None)[1]",
        "must_fail": ["kbd_intr.disabled_ctrl_c_raises_nothing", "kbd_intr.other_character_raises",
                      "kbd_intr.ctrl_c_raises_keyboardinterrupt", "kbd_intr.restore_after_disable_raises_again",
                      "kbd_intr.restore_after_other_character_raises_on_ctrl_c"],
    },
    "kbd_intr_ignores_its_argument": {
        "kbd_intr": "lambda c: _real.kbd_intr(3)",
        "must_fail": ["kbd_intr.disabled_ctrl_c_raises_nothing", "kbd_intr.other_character_raises"],
    },
}
