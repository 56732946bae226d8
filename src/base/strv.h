/* SPDX-License-Identifier: MIT */
/* NULL-terminated vectors of malloc'd strings (argv and lists of messages). */
#ifndef QVM_STRV_H
#define QVM_STRV_H

#include <stdarg.h>
#include <stddef.h>

/* Number of entries before the terminating NULL; NULL counts as empty. */
size_t strv_length(char *const *v);
/* Append a copy of s. Returns 0 or -ENOMEM (v unchanged on failure). */
int strv_push(char ***v, const char *s) __attribute__((warn_unused_result));
/* Append an already malloc'd string, taking ownership even on failure. */
int strv_consume(char ***v, char *s) __attribute__((warn_unused_result));
/* Append a printf-formatted string. */
int strv_pushf(char ***v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
/* Append copies of every string of a NULL-terminated argument list. */
int strv_push_many(char ***v, ...) __attribute__((sentinel, warn_unused_result));
/* Append copies of every string of another vector. */
int strv_extend(char ***v, char *const *other) __attribute__((warn_unused_result));
void strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }
#define _cleanup_strv_free_ __attribute__((cleanup(strv_freep)))

/* A printf-formatted string, malloc'd; NULL on ENOMEM. */
char *strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *vstrdupf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Join with a separator; returns malloc'd string or NULL on ENOMEM. */
char *strv_join(char *const *v, const char *sep);
/* Join as a command line a user can paste into a shell (quoting as needed). */
char *strv_join_shell(char *const *v);

#endif
