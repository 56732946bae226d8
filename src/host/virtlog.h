/* SPDX-License-Identifier: MIT */
/* virt-install's stderr under --debug, reduced to what it prints without
 * it. qvm runs virt-install --print-xml, which silences its warnings;
 * --debug brings them back, among lines qvm does not show. */
#ifndef QVM_VIRTLOG_H
#define QVM_VIRTLOG_H

/*
 * Keeps the WARNING and ERROR records of a --debug log (each as
 * "LEVEL    message", continuation lines kept) and any line before the first
 * record (argparse's usage errors print no record). malloc'd; NULL on
 * ENOMEM. NULL text gives "".
 */
char *virtlog_filter(const char *text);

#endif
