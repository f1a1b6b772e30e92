// Configuration of the golden port: a host (Linux) build that runs one script.
// Written by `mpconform scaffold`; the port is yours to edit from here on.
#include <stdint.h>
#include <alloca.h>

// Start from the core language and add what a script needs; the optional parts
// of the `micropython` module come from mpconfigport_micropython.h below.
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_CORE_FEATURES)

// How scripts get in: read from a file by path, compiled, run.
#define MICROPY_READER_POSIX              (1)
#define MICROPY_ENABLE_EXTERNAL_IMPORT    (0)
#define MICROPY_HELPER_REPL               (0)
#define MICROPY_ALLOC_PATH_MAX            (256)
#define MICROPY_ERROR_REPORTING           (MICROPY_ERROR_REPORTING_DETAILED)
#define MICROPY_LONGINT_IMPL              (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_WARNINGS                  (1)

// Language and builtins the conformance suite's scripts use.
#define MICROPY_PY_FSTRINGS               (1)
#define MICROPY_PY_BUILTINS_STR_UNICODE   (1)
#define MICROPY_PY_SYS_EXIT               (1)

// The GC scans registers with shared/runtime/gchelper_generic.c.
#define MICROPY_HEAP_SIZE                 (256 * 1024)
// The C stack limit mp_cstack_check() and mem_info()/stack_use() measure against.
#define MICROPY_PORT_STACK_LIMIT          (128 * 1024)

#include "mpconfigport_micropython.h"

typedef long mp_off_t;

#define MICROPY_HW_BOARD_NAME "golden: a host (Linux) port scaffolded by mpconform"
#define MICROPY_HW_MCU_NAME "host"
#define MICROPY_PY_SYS_PLATFORM "golden"

#define MP_STATE_PORT MP_STATE_VM
