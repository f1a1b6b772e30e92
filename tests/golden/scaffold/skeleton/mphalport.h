// HAL of the golden port: the host's clock, stdout and stdin.
#include "py/mpconfig.h"
#include "shared/runtime/interrupt_char.h"

#define PORT_CHAR_CTRL_C (3)
#define PORT_CHAR_CTRL_D (4)

mp_uint_t mp_hal_ticks_ms(void);
mp_uint_t mp_hal_ticks_us(void);
mp_uint_t mp_hal_ticks_cpu(void);
void mp_hal_delay_us(mp_uint_t us);

// Starts the receive path on stdin (call after mp_init()); undone at exit.
void mp_hal_stdio_init(void);

// Waiting for an event (select.poll, a blocking read) sleeps until a signal
// (stdin's SIGIO, SIGINT) or a short timeout, instead of spinning.
#define MICROPY_INTERNAL_WFE(TIMEOUT_MS) mp_hal_delay_us(500)
