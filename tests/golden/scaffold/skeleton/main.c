// The golden port: `golden SCRIPT` runs one Python file and exits 0, or
// prints the traceback and exits 1 when an exception escapes it.
#include <stdio.h>
#include <stdlib.h>

#include "py/compile.h"
#include "py/cstack.h"
#include "py/gc.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/runtime.h"

#if MICROPY_ENABLE_GC
static char heap[MICROPY_HEAP_SIZE];
#endif

static int run_file(const char *path) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_lexer_t *lex = mp_lexer_new_from_file(qstr_from_str(path));
        qstr source_name = lex->source_name;
        mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t module_fun = mp_compile(&tree, source_name, false);
        mp_call_function_0(module_fun);
        // Whatever is still queued (callbacks, an interrupt) runs before exit.
        mp_handle_pending(MP_HANDLE_PENDING_CALLBACKS_AND_EXCEPTIONS);
        nlr_pop();
        return 0;
    }
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)), MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        mp_obj_t code = mp_obj_exception_get_value(exc);
        return code == mp_const_none ? 0 : mp_obj_is_small_int(code) ? (int)MP_OBJ_SMALL_INT_VALUE(code) : 1;
    }
    mp_obj_print_exception(&mp_plat_print, exc);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRIPT\n", argv[0]);
        return 2;
    }
    // The stack top for the GC's root scan, and the limit stack_use() and
    // mem_info() measure against.
    mp_cstack_init_with_sp_here(MICROPY_PORT_STACK_LIMIT);
    #if MICROPY_ENABLE_GC
    gc_init(heap, heap + sizeof(heap));
    #endif
    mp_init();
    #if MICROPY_KBD_EXCEPTION
    mp_hal_set_interrupt_char(PORT_CHAR_CTRL_C);
    #endif
    mp_hal_stdio_init();
    int status = run_file(argv[1]);
    mp_deinit();
    return status;
}

void nlr_jump_fail(void *val) {
    fprintf(stderr, "FATAL: uncaught NLR %p\n", val);
    exit(1);
}

#if MICROPY_PY_IO
// The io module brings the open() builtin with it. This port has no filesystem
// beyond the script it runs, so open() says so; a port with a VFS replaces this.
static mp_obj_t skeleton_open(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    (void)n_args;
    (void)args;
    (void)kwargs;
    mp_raise_OSError(MP_ENOENT);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mp_builtin_open_obj, 1, skeleton_open);
#endif
