// HAL of the golden port on a POSIX host: stdout, clocks, delays that run
// scheduled callbacks, the GC's root scan and Ctrl-C.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "py/gc.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "shared/runtime/gchelper.h"

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(STDOUT_FILENO, str + done, len - done);
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    return done;
}

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

mp_uint_t mp_hal_ticks_ms(void) {
    return (mp_uint_t)(monotonic_ns() / 1000000u);
}

mp_uint_t mp_hal_ticks_us(void) {
    return (mp_uint_t)(monotonic_ns() / 1000u);
}

mp_uint_t mp_hal_ticks_cpu(void) {
    return (mp_uint_t)monotonic_ns();
}

void mp_hal_delay_us(mp_uint_t us) {
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000};
    nanosleep(&ts, NULL);
}

// Every wait runs what is pending (scheduled callbacks, a KeyboardInterrupt) at
// least once, even for 0 ms, so time.sleep_ms(0) is a point where they happen.
void mp_hal_delay_ms(mp_uint_t ms) {
    mp_uint_t start = mp_hal_ticks_ms();
    for (;;) {
        mp_event_handle_nowait();
        if (mp_hal_ticks_ms() - start >= ms) {
            break;
        }
        mp_hal_delay_us(500);
    }
}

#if MICROPY_ENABLE_GC
void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
}
#endif

#if MICROPY_KBD_EXCEPTION
// On a host the receive path for Ctrl-C is the terminal, which turns it into
// SIGINT; the handler asks the VM to raise KeyboardInterrupt "very soon".
static void on_sigint(int signum) {
    (void)signum;
    mp_sched_keyboard_interrupt();
}

void mp_hal_set_interrupt_char(int c) {
    struct sigaction sa = {0};
    sa.sa_handler = (c == PORT_CHAR_CTRL_C) ? on_sigint : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}
#endif
