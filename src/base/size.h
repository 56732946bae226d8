/* SPDX-License-Identifier: MIT */
/* Byte sizes: rounding and human-readable formatting. */
#ifndef QVM_SIZE_H
#define QVM_SIZE_H

#include <stdbool.h>
#include <stdint.h>

#define MIB (UINT64_C(1) << 20)

/* Round up to a multiple of align (a power of two). Returns false on overflow. */
bool size_round_up(uint64_t size, uint64_t align, uint64_t *out);

/* "1.5 GiB"-style text into buf (at least 16 bytes). Returns buf. */
const char *size_format(uint64_t bytes, char *buf, size_t bufsize);

/* Parses a non-negative decimal integer, whole string, no sign, overflow
 * checked. Returns 0 or -EINVAL / -ERANGE. */
int parse_u64(const char *s, uint64_t *out);

/*
 * A size as zfs(8) reads one (libzfs's zfs_nicestrtonum): digits, an
 * optional fraction, an optional suffix B K M G T P E Z (powers of 1024,
 * any case) that may be followed by "B" or "iB" ("20G", "1.5t", "4GiB",
 * "512MB"). qvm checks a size with this before any change and hands zfs
 * the bytes it gives, so what was checked is what zfs gets. Returns 0, or
 * -EINVAL / -ERANGE with *why as zfs words it ("invalid numeric suffix
 * 'X'", "numeric value is too large").
 */
int size_parse(const char *s, uint64_t *out, const char **why);

#endif
