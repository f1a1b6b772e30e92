// HAL of the golden port: the host's clock and stdout.
#include "py/mpconfig.h"

mp_uint_t mp_hal_ticks_ms(void);
mp_uint_t mp_hal_ticks_us(void);
mp_uint_t mp_hal_ticks_cpu(void);
void mp_hal_delay_us(mp_uint_t us);
