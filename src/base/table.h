/* SPDX-License-Identifier: MIT */
/* Aligned text tables for people (qvm list, qvm images). */
#ifndef QVM_TABLE_H
#define QVM_TABLE_H

#include <stdio.h>

struct table;

/* A table with ncols columns; headers[i] names column i. A header starting
 * with '>' (not printed) right-aligns its column. NULL on ENOMEM. */
struct table *table_new(size_t ncols, const char *const *headers);
/* Appends a row of ncols cells (copied, escaped for the terminal with
 * msg_text: a cell may hold anything zfs, libvirt or another host said;
 * NULL prints as "-"). 0 or -ENOMEM. */
int table_add(struct table *t, const char *const *cells);
/* Prints the header and the rows, columns two spaces apart, the last
 * column not padded. */
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);
static inline void table_freep(struct table **t) { table_free(*t); }

#endif
