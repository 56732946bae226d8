/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "sha256.h"
#include "banned.h"

struct sha256 {
	EVP_MD_CTX *md;
};

struct sha256 *sha256_new(void)
{
	struct sha256 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->md = EVP_MD_CTX_new();
	if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
		sha256_free(h);
		return NULL;
	}
	return h;
}

void sha256_update(void *ctx, const void *buf, size_t len)
{
	struct sha256 *h = ctx;

	(void)EVP_DigestUpdate(h->md, buf, len);
}

void sha256_hex(struct sha256 *h, char out[SHA256_HEX_LEN + 1])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (EVP_DigestFinal_ex(h->md, d, &len) != 1 || len != SHA256_HEX_LEN / 2)
		memset(d, 0, sizeof(d));
	for (unsigned i = 0; i < SHA256_HEX_LEN / 2; i++) {
		out[2 * i] = "0123456789abcdef"[d[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

void sha256_free(struct sha256 *h)
{
	if (h) {
		EVP_MD_CTX_free(h->md);
		free(h);
	}
}

static int parse_hex_n(const char *s, size_t n, char out[SHA256_HEX_LEN + 1])
{
	if (n != SHA256_HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -EINVAL;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

int sha256_parse_hex(const char *s, char out[SHA256_HEX_LEN + 1])
{
	return parse_hex_n(s, strlen(s), out);
}

static const char *last_component(const char *p, size_t len, size_t *out_len)
{
	const char *start = p;

	for (size_t i = 0; i < len; i++)
		if (p[i] == '/')
			start = p + i + 1;
	*out_len = len - (size_t)(start - p);
	return start;
}

/* Splits one line into its hash and name; 0 or -EINVAL if not an entry. */
static int split_line(const char *line, size_t len, const char **hash, size_t *hash_len,
		      const char **name, size_t *name_len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > 8 && memcmp(line, "SHA256 (", 8) == 0) {
		/* SHA256 (NAME) = HASH: the name may hold ") = " itself */
		for (size_t i = len; i-- > 8;) {
			if (i + 4 <= len && memcmp(line + i, ") = ", 4) == 0) {
				*name = line + 8;
				*name_len = i - 8;
				*hash = line + i + 4;
				*hash_len = len - i - 4;
				return 0;
			}
		}
		return -EINVAL;
	}
	size_t h = 0;
	while (h < len && line[h] != ' ' && line[h] != '\t')
		h++;
	if (h == 0 || h + 2 > len)
		return -EINVAL;
	*hash = line;
	*hash_len = h;
	/* "HASH  NAME" (text mode) or "HASH *NAME" (binary mode) */
	if (line[h] != ' ' || (line[h + 1] != ' ' && line[h + 1] != '*'))
		return -EINVAL;
	*name = line + h + 2;
	*name_len = len - h - 2;
	return *name_len > 0 ? 0 : -EINVAL;
}

int sha256_find_in_sums(const char *text, const char *name, char out[SHA256_HEX_LEN + 1])
{
	size_t want_base_len, want_len = strlen(name);
	const char *want_base = last_component(name, want_len, &want_base_len);
	const char *best_hash = NULL;
	size_t best_hash_len = 0;
	int best = 0;   /* 2: the exact name, 1: same last component */

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		const char *hash, *n;
		size_t hash_len, n_len;

		if (split_line(p, len, &hash, &hash_len, &n, &n_len) == 0) {
			size_t base_len;
			const char *base = last_component(n, n_len, &base_len);
			if (n_len > 2 && memcmp(n, "./", 2) == 0) {
				n += 2;
				n_len -= 2;
			}
			if (n_len == want_len && memcmp(n, name, n_len) == 0) {
				best = 2;
				best_hash = hash;
				best_hash_len = hash_len;
			} else if (best < 1 && base_len == want_base_len &&
				   memcmp(base, want_base, base_len) == 0) {
				best = 1;
				best_hash = hash;
				best_hash_len = hash_len;
			}
		}
		if (best == 2)
			break;
		p += len;
		if (*p)
			p++;
	}
	if (!best)
		return -ENOENT;
	return parse_hex_n(best_hash, best_hash_len, out);
}
