/* SPDX-License-Identifier: MIT */
/* Unsafe libc calls made impossible to compile (after git's banned.h).
 * Include it last in every .c file, after all system headers. */
#ifndef QVM_BANNED_H
#define QVM_BANNED_H

#pragma GCC poison system popen sprintf vsprintf strcpy strcat strncpy strtok \
	atoi atol atoll gets mktemp tmpnam

#endif
