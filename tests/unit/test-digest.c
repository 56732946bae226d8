/* SPDX-License-Identifier: MIT */
/* SHA-256/512 and checksum files as distributions publish them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "digest.h"

#define ABC256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC512 "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" \
	       "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

static void test_hash(void **state)
{
	char hex[DIGEST_HEX_MAX + 1];
	struct digest *d;

	(void)state;
	d = digest_new(DIGEST_SHA256);
	digest_update(d, "ab", 2);
	digest_update(d, "c", 1);
	digest_hex(d, hex);
	assert_string_equal(hex, ABC256);
	digest_free(d);
	d = digest_new(DIGEST_SHA512);
	digest_update(d, "abc", 3);
	digest_hex(d, hex);
	assert_string_equal(hex, ABC512);
	digest_free(d);
	digest_free(NULL);

	assert_string_equal(digest_name(DIGEST_SHA512), "sha512");
	assert_int_equal(digest_hex_len(DIGEST_SHA256), 64);
	assert_int_equal(digest_parse_hex(DIGEST_SHA256, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", hex), 0);
	assert_string_equal(hex, ABC256);
	assert_int_equal(digest_parse_hex(DIGEST_SHA512, ABC256, hex), -EINVAL);
	assert_int_equal(digest_parse_hex(DIGEST_SHA512, ABC512, hex), 0);
	assert_int_equal(digest_parse_hex(DIGEST_SHA256, "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex), -EINVAL);
	assert_int_equal(digest_parse_hex(DIGEST_SHA256, "", hex), -EINVAL);
}

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define S5 H1 H1
#define S6 H2 H2

/* Finds name in text: the return value, and the digest as "ALG:HEX". */
static int find(const char *text, const char *name, char *out)
{
	enum digest_alg alg = DIGEST_NONE;
	char hex[DIGEST_HEX_MAX + 1];
	const char *other = NULL;
	int r = digest_find_in_sums(text, name, &alg, hex, &other);

	if (r == 0)
		strcpy(out, digest_name(alg)), strcat(out, ":"), strcat(out, hex);
	else
		strcpy(out, other ? other : "");
	return r;
}

static void test_sums(void **state)
{
	char got[300];

	(void)state;
	/* sha256sum / sha512sum, text and binary mode, CRLF */
	assert_int_equal(find(H1 "  other.raw\n" H2 "  disk.raw\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H2);
	assert_int_equal(find(H1 " *other.raw\r\n" H2 " *disk.raw\r\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H2);
	assert_int_equal(find(S5 "  disk.raw\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha512:" S5);
	/* BSD lines, OpenSSL's forms */
	assert_int_equal(find("SHA256 (other.raw) = " H1 "\nSHA256 (disk.raw) = " H2 "\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H2);
	assert_int_equal(find("SHA512 (disk.raw) = " S6 "\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha512:" S6);
	assert_int_equal(find("SHA256(disk.raw)= " H3 "\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H3);
	assert_int_equal(find("SHA2-512(disk.raw)= " S5 "\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha512:" S5);
	/* a name holding ") = " */
	assert_int_equal(find("SHA256 (a) = b.raw) = " H1 "\n", "a) = b.raw", got), 0);
	assert_string_equal(got, "sha256:" H1);
	/* the exact name wins over a path ending in it; a path matches alone */
	assert_int_equal(find(H3 "  sub/disk.raw\n" H2 "  ./disk.raw\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H2);
	assert_int_equal(find(H3 "  sub/disk.raw\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H3);
	/* both algorithms: SHA-512, in either order */
	assert_int_equal(find(H1 "  disk.raw\nSHA512 (disk.raw) = " S6 "\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha512:" S6);
	assert_int_equal(find(S6 "  disk.raw\n" H1 "  disk.raw\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha512:" S6);
	/* sha256sum's escaped names: a backslash, a line break */
	assert_int_equal(find("\\" H1 "  a\\\\b\\nc.raw\n", "a\\b\nc.raw", got), 0);
	assert_string_equal(got, "sha256:" H1);
	/* names with spaces, comments */
	assert_int_equal(find("# disk.raw: 123 bytes\n" H1 "  my disk.raw\n", "my disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H1);
	/* not there; only another algorithm; not a valid digest */
	assert_int_equal(find(H1 "  other.raw\n", "disk.raw", got), -ENOENT);
	assert_int_equal(find("", "disk.raw", got), -ENOENT);
	assert_int_equal(find("garbage\n\n-----\n", "disk.raw", got), -ENOENT);
	assert_int_equal(find("0123456789abcdef0123456789abcdef  disk.raw\n", "disk.raw", got), -EPROTONOSUPPORT);
	assert_string_equal(got, "MD5");
	assert_int_equal(find("SHA1 (disk.raw) = 0123456789abcdef0123456789abcdef01234567\n", "disk.raw", got),
			 -EPROTONOSUPPORT);
	assert_string_equal(got, "SHA1");
	assert_int_equal(find("SHA256 (disk.raw) = 12zz\n", "disk.raw", got), -EINVAL);
	/* two different digests of one algorithm for the file: neither is
	 * taken, in either order, also under a stronger one; the same one
	 * twice (GNU and BSD lines, either case) is no conflict */
	assert_int_equal(find(H1 "  disk.raw\n" H2 "  disk.raw\n", "disk.raw", got), -ENOTUNIQ);
	assert_int_equal(find(S5 "  disk.raw\n" S6 "  disk.raw\n" H1 "  disk.raw\n", "disk.raw", got), -ENOTUNIQ);
	assert_int_equal(find(H1 "  disk.raw\nSHA256 (disk.raw) = " H1 "\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H1);
	/* a conflict among weaker matches does not count against the exact one */
	assert_int_equal(find(H1 "  sub/disk.raw\n" H2 "  other/disk.raw\n" H3 "  disk.raw\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H3);
	/* a SHA-256 disagreeing with a SHA-512 cannot be told apart: the SHA-512 wins */
	assert_int_equal(find(H1 "  disk.raw\n" H2 "  disk.raw\n" S5 "  disk.raw\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha512:" S5);
}

static void test_pgp(void **state)
{
	char got[300];
	/* as Fedora, AlmaLinux and Rocky publish CHECKSUM: clear-signed */
	const char *fedora =
		"SHA256 (disk.raw) = " H3 "\n"       /* not signed: does not count */
		"-----BEGIN PGP SIGNED MESSAGE-----\n"
		"Hash: SHA256\n"
		"\n"
		"# Fedora-Cloud-Base.x86_64.qcow2: 1234 bytes\n"
		"SHA256 (disk.raw) = " H1 "\n"
		"- -not a digest, dash-escaped\n"
		"-----BEGIN PGP SIGNATURE-----\n"
		"\n"
		"iQIzBAEBCAAdFiEE\n"
		H2 "  disk.raw\n"                    /* inside the signature: not signed text */
		"-----END PGP SIGNATURE-----\n";

	(void)state;
	assert_int_equal(find(fedora, "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H1);
	/* a dash-escaped line of digest */
	assert_int_equal(find("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n- " S5 "  disk.raw\n"
			      "-----BEGIN PGP SIGNATURE-----\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha512:" S5);
	/* armour lines with white space after them, as GnuPG takes them: the
	 * signature still ends the signed text */
	assert_int_equal(find("-----BEGIN PGP SIGNED MESSAGE----- \r\nHash: SHA256\n \t\nSHA256 (disk.raw) = " H1 "\n"
			      "-----BEGIN PGP SIGNATURE-----\t \n\nxx\n-----END PGP SIGNATURE-----\n"
			      "SHA512 (disk.raw) = " S5 "\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H1);
	/* white space after a signed line is not signed: not part of the name */
	assert_int_equal(find("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" H1 "  disk.raw \t\n"
			      H2 "  old/disk.raw\n-----BEGIN PGP SIGNATURE-----\n", "disk.raw", got), 0);
	assert_string_equal(got, "sha256:" H1);
	/* a signed message naming nothing: unsigned lines do not make up for it */
	assert_int_equal(find(H1 "  disk.raw\n-----BEGIN PGP SIGNED MESSAGE-----\n\n"
			      "-----BEGIN PGP SIGNATURE-----\n", "disk.raw", got), -ENOENT);
}

/* A checksum file published for one file: its one digest, whatever name. */
static void test_single(void **state)
{
	char hex[DIGEST_HEX_MAX + 1];
	enum digest_alg alg = DIGEST_NONE;

	(void)state;
	assert_int_equal(digest_single_in_sums(ABC512 "\n", &alg, hex), 0);
	assert_int_equal(alg, DIGEST_SHA512);
	assert_string_equal(hex, ABC512);
	assert_int_equal(digest_single_in_sums(ABC256 "  Arch-Linux-x86_64-cloudimg-20260101.1.qcow2\n", &alg, hex), 0);
	assert_int_equal(alg, DIGEST_SHA256);
	assert_string_equal(hex, ABC256);
	assert_int_equal(digest_single_in_sums("# c\n\nSHA256 (x.qcow2) = " ABC256 "\r\n", &alg, hex), 0);
	assert_int_equal(alg, DIGEST_SHA256);
	/* two digests, an MD5, a word, nothing: not one digest */
	assert_int_equal(digest_single_in_sums(ABC256 "  a\n" ABC256 "  b\n", &alg, hex), -ENOENT);
	assert_int_equal(digest_single_in_sums("900150983cd24fb0d6963f7d28e17f72  a\n", &alg, hex), -ENOENT);
	assert_int_equal(digest_single_in_sums("<html>\n", &alg, hex), -ENOENT);
	assert_int_equal(digest_single_in_sums("", &alg, hex), -ENOENT);
	assert_int_equal(digest_single_in_sums("SHA512 (x) = " ABC256 "\n", &alg, hex), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_pgp),
		cmocka_unit_test(test_single),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
