// HAL of the golden port on a POSIX host: stdout, stdin and the interrupt
// character, clocks, delays that run scheduled callbacks, the GC's root scan.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "py/gc.h"
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/stream.h"
#include "shared/runtime/gchelper.h"

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(STDOUT_FILENO, str + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    return done;
}

// The receive path. On a board the UART's receive interrupt takes each byte as
// it arrives: the interrupt character schedules a KeyboardInterrupt, any other
// byte waits in a ring buffer for mp_hal_stdin_rx_chr(). Here stdin raises SIGIO
// when bytes arrive, and its handler plays that interrupt. The main code touches
// the buffer only with both signals blocked.
static unsigned char rx_buf[256];
static volatile unsigned int rx_head, rx_tail; // free-running; rx_head - rx_tail bytes are waiting
static volatile sig_atomic_t rx_eof;

static void rx_byte(int c) {
    #if MICROPY_KBD_EXCEPTION
    if (c == mp_interrupt_char) {
        mp_sched_keyboard_interrupt();
        return;
    }
    #endif
    if (rx_head - rx_tail < sizeof(rx_buf)) { // full: the byte is lost, as in a UART overrun
        rx_buf[rx_head % sizeof(rx_buf)] = (unsigned char)c;
        rx_head++;
    }
}

// Moves what stdin holds into the ring buffer while it has room; the rest stays
// with the OS until the script reads some, so piped input is never dropped.
static void rx_drain(void) {
    unsigned char chunk[64];
    while (!rx_eof && rx_head - rx_tail < sizeof(rx_buf)) {
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        if (poll(&pfd, 1, 0) <= 0) {
            return;
        }
        size_t room = sizeof(rx_buf) - (rx_head - rx_tail);
        ssize_t n = read(STDIN_FILENO, chunk, room < sizeof(chunk) ? room : sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rx_eof = 1; // end of input (or no usable stdin): nothing more will come
            return;
        }
        for (ssize_t i = 0; i < n; i++) {
            rx_byte(chunk[i]);
        }
    }
}

static void on_sigio(int signum) {
    (void)signum;
    int saved = errno;
    rx_drain();
    errno = saved;
}

// Ctrl-C delivered as a signal (by a terminal still in ISIG mode, or by whatever
// runs the port) is the same byte, taken the same way: it interrupts only while
// it is the interrupt character, else it is ordinary input.
static void on_sigint(int signum) {
    (void)signum;
    rx_byte(PORT_CHAR_CTRL_C);
}

static void rx_block(sigset_t *old) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, old);
}

static struct termios saved_termios;
static int saved_termios_valid;
static int saved_flags = -1;

static void stdio_restore(void) {
    if (saved_termios_valid) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    }
    if (saved_flags >= 0) {
        fcntl(STDIN_FILENO, F_SETFL, saved_flags);
    }
}

void mp_hal_stdio_init(void) {
    // A terminal hands over each key at once, Ctrl-C included, as a UART does.
    if (tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
        struct termios raw = saved_termios;
        raw.c_lflag &= ~(ICANON | ECHO | ISIG);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        saved_termios_valid = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGIO);
    sigaddset(&sa.sa_mask, SIGINT);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_sigio;
    sigaction(SIGIO, &sa, NULL);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    saved_flags = fcntl(STDIN_FILENO, F_GETFL);
    if (saved_flags >= 0) {
        fcntl(STDIN_FILENO, F_SETOWN, getpid());
        fcntl(STDIN_FILENO, F_SETFL, saved_flags | O_ASYNC);
    }
    atexit(stdio_restore);
    sigset_t old;
    rx_block(&old);
    rx_drain(); // what arrived before SIGIO was on
    sigprocmask(SIG_SETMASK, &old, NULL);
}

int mp_hal_stdin_rx_chr(void) {
    for (;;) {
        sigset_t old;
        rx_block(&old);
        rx_drain();
        int c = -1;
        if (rx_head != rx_tail) {
            c = rx_buf[rx_tail % sizeof(rx_buf)];
            rx_tail++;
        }
        int eof = rx_eof;
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (c >= 0) {
            return c;
        }
        if (eof) {
            return PORT_CHAR_CTRL_D; // the end of input, as a terminal signals it
        }
        mp_event_wait_indefinite(); // runs callbacks, raises a KeyboardInterrupt, sleeps a little
    }
}

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    uintptr_t ready = poll_flags & MP_STREAM_POLL_WR;
    if (poll_flags & MP_STREAM_POLL_RD) {
        sigset_t old;
        rx_block(&old);
        rx_drain();
        if (rx_head != rx_tail || rx_eof) {
            ready |= MP_STREAM_POLL_RD;
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    return ready;
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

// A signal (stdin's SIGIO, SIGINT) ends the sleep early, so a wait notices it at once.
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
