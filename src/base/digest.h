/* SPDX-License-Identifier: MIT */
/* SHA-256 and SHA-512 of a byte stream (OpenSSL's EVP, which uses the
 * CPU's SHA instructions where there are some), and the expected digest
 * from --sha256/--sha512 or from a checksum file as distributions publish
 * them: GNU lines (sha256sum, sha512sum), BSD lines (`SHA256 (name) = hex`),
 * either of them inside a PGP clear-signed message. */
#ifndef QVM_DIGEST_H
#define QVM_DIGEST_H

#include <stddef.h>

enum digest_alg { DIGEST_NONE, DIGEST_SHA256, DIGEST_SHA512 };

/* Room for the longest digest in hex, and its NUL. */
#define DIGEST_HEX_MAX 128

struct digest;

/* A new hash, or NULL on ENOMEM. */
struct digest *digest_new(enum digest_alg alg);
/* Adds bytes (ctx is a struct digest *, to be used as a callback). */
void digest_update(void *ctx, const void *buf, size_t len);
/* The digest in lowercase hex and a NUL. Ends the hash. */
void digest_hex(struct digest *d, char out[DIGEST_HEX_MAX + 1]);
void digest_free(struct digest *d);
static inline void digest_freep(struct digest **d) { digest_free(*d); }

/* "sha256", "sha512" (as in qvm:sha256 and in messages). */
const char *digest_name(enum digest_alg alg);
/* Hex digits of a digest: 64 or 128. */
size_t digest_hex_len(enum digest_alg alg);

/* Checks that s is the hex digest of alg (either case); writes it in
 * lowercase to out. Returns 0 or -EINVAL. */
int digest_parse_hex(enum digest_alg alg, const char *s, char out[DIGEST_HEX_MAX + 1]);

/*
 * Finds the digest of file `name` in the text of a checksum file. A line
 * that names a path matches by its last component if no line names name
 * exactly; of two digests for the same name, SHA-512 is taken. Inside a
 * PGP clear-signed message only the signed text counts (the signature is
 * not checked). Returns 0 with *alg and out set; -ENOENT if no line names
 * it; -EINVAL if the line that does has no valid digest; -EPROTONOSUPPORT
 * if only other algorithms name it (*other: "MD5", "SHA1", ...);
 * -ENOTUNIQ if two lines give it different digests of the same algorithm.
 */
int digest_find_in_sums(const char *text, const char *name, enum digest_alg *alg,
			char out[DIGEST_HEX_MAX + 1], const char **other);

/*
 * A checksum file published for one file (NAME.sha256, NAME.SHA256,
 * NAME.sha512 beside NAME): its one digest, whatever file name its line
 * gives (a "latest" link's file names the build it points to) or none (a
 * bare digest, as Alpine's cloud images have). Returns 0 with *alg and out
 * set; -ENOENT if the text is not exactly one digest or one GNU/BSD line
 * of SHA-256 or SHA-512 (comments and blank lines aside).
 */
int digest_single_in_sums(const char *text, enum digest_alg *alg, char out[DIGEST_HEX_MAX + 1]);

#endif
