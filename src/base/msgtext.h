/* SPDX-License-Identifier: MIT */
/* Text from outside qvm (a file, an image header, zfs, libvirt, another
 * host) made safe to print. */
#ifndef QVM_MSGTEXT_H
#define QVM_MSGTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Copies s (len bytes) into buf as printable text for an error message:
 * control characters escaped (\n, \t, \xNN): C0 and DEL, the C1 controls
 * U+0080..U+009F (as their UTF-8 bytes, \xc2\xNN), and every byte that is
 * not part of valid UTF-8 (a raw 0x80..0x9f is C1 to an 8-bit terminal),
 * and the bidirectional controls (U+061C, U+200E/F, U+202A..U+202E,
 * U+2066..U+2069: they reorder what is shown), each byte as \xNN; valid
 * UTF-8 otherwise kept as it is, backslashes too. Cut with "..." to
 * fit size, never inside a character or an escape. Its output holds
 * nothing it would escape again. */
void msg_text(char *buf, size_t size, const char *s, size_t len);

/* The whole of s escaped as msg_text does, never cut, malloc'd (NULL on
 * ENOMEM). keep_lines: line breaks stay (qvm's own messages of several
 * lines). */
char *msg_text_dup(const char *s, size_t len, bool keep_lines);

/* Whether s (len bytes) holds a control character as msg_text sees one:
 * C0, DEL, C1 in UTF-8 or as a raw byte, a bidirectional control. */
bool msg_has_control(const char *s, size_t len);

#endif
