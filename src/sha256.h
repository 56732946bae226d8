/* SPDX-License-Identifier: MIT */
/* SHA-256 of a byte stream (OpenSSL's EVP, which uses the CPU's SHA
 * instructions where there are some), and reading expected digests from
 * --sha256 and from SHA256SUMS files. */
#ifndef QVM_SHA256_H
#define QVM_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256;

/* A new hash, or NULL on ENOMEM. */
struct sha256 *sha256_new(void);
/* Adds bytes (ctx is a struct sha256 *, to be used as a callback). */
void sha256_update(void *ctx, const void *buf, size_t len);
/* The digest as 64 lowercase hex digits and a NUL. Ends the hash. */
void sha256_hex(struct sha256 *h, char out[SHA256_HEX_LEN + 1]);
void sha256_free(struct sha256 *h);
static inline void sha256_freep(struct sha256 **h) { sha256_free(*h); }

/* Checks that s is 64 hex digits (either case); writes it in lowercase to
 * out. Returns 0 or -EINVAL. */
int sha256_parse_hex(const char *s, char out[SHA256_HEX_LEN + 1]);

/*
 * Finds the digest of file name in the text of a checksum file: lines
 * "HASH  NAME", "HASH *NAME" (sha256sum) or "SHA256 (NAME) = HASH" (BSD).
 * A line naming a path matches by its last component if no line names
 * name exactly. Returns 0, -ENOENT if no line names it, or -EINVAL if the
 * line that does has no valid SHA-256 digest.
 */
int sha256_find_in_sums(const char *text, const char *name, char out[SHA256_HEX_LEN + 1]);

#endif
