/* SPDX-License-Identifier: MIT */
/* Asking before a command removes anything: only on a terminal. */
#ifndef QVM_CONFIRM_H
#define QVM_CONFIRM_H

#include <stdbool.h>

/* Why nothing could be asked, for "not <doing> anything without
 * confirmation: " CONFIRM_NO_TERMINAL. */
#define CONFIRM_NO_TERMINAL "standard input is not a terminal (use --yes)"

/* 1 when yes (--yes was given); else prints the question with " [y/N] "
 * and reads the answer: 1 yes ("y" or "yes", any case), 0 anything else
 * (or no answer), -ENOTTY when standard
 * input is not a terminal: nothing was asked; -EINTR when a signal came
 * while it waited. */
int confirm(bool yes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
