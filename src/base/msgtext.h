/* SPDX-License-Identifier: MIT */
/* Text from outside qvm (a file, an image header) made safe to print. */
#ifndef QVM_MSGTEXT_H
#define QVM_MSGTEXT_H

#include <stddef.h>

/* Copies s (len bytes) into buf as printable text for an error message:
 * control characters escaped (\n, \t, \xNN), cut with "..." to fit size. */
void msg_text(char *buf, size_t size, const char *s, size_t len);

#endif
