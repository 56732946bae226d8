/* SPDX-License-Identifier: MIT */
/* Time for deadlines: a monotonic clock, untouched by changes of the
 * wall clock. */
#ifndef QVM_CLOCK_H
#define QVM_CLOCK_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t clock_ms(void);

#endif
