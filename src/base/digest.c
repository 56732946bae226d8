/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>

#include "digest.h"
#include "banned.h"

struct digest {
	EVP_MD_CTX *md;
	enum digest_alg alg;
};

struct digest *digest_new(enum digest_alg alg)
{
	struct digest *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->alg = alg;
	d->md = EVP_MD_CTX_new();
	if (!d->md || EVP_DigestInit_ex(d->md, alg == DIGEST_SHA512 ? EVP_sha512() : EVP_sha256(), NULL) != 1) {
		digest_free(d);
		return NULL;
	}
	return d;
}

void digest_update(void *ctx, const void *buf, size_t len)
{
	struct digest *d = ctx;

	(void)EVP_DigestUpdate(d->md, buf, len);
}

void digest_hex(struct digest *d, char out[DIGEST_HEX_MAX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	size_t want = digest_hex_len(d->alg) / 2;

	if (EVP_DigestFinal_ex(d->md, md, &len) != 1 || len != want)
		memset(md, 0, sizeof(md));
	for (size_t i = 0; i < want; i++) {
		out[2 * i] = "0123456789abcdef"[md[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	out[2 * want] = '\0';
}

void digest_free(struct digest *d)
{
	if (d) {
		EVP_MD_CTX_free(d->md);
		free(d);
	}
}

const char *digest_name(enum digest_alg alg)
{
	return alg == DIGEST_SHA512 ? "sha512" : alg == DIGEST_SHA256 ? "sha256" : "none";
}

size_t digest_hex_len(enum digest_alg alg)
{
	return alg == DIGEST_SHA512 ? 128 : alg == DIGEST_SHA256 ? 64 : 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int parse_hex_n(enum digest_alg alg, const char *s, size_t n, char out[DIGEST_HEX_MAX + 1])
{
	if (alg == DIGEST_NONE || n != digest_hex_len(alg))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!is_hex(s[i]))
			return -EINVAL;
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
	}
	out[n] = '\0';
	return 0;
}

int digest_parse_hex(enum digest_alg alg, const char *s, char out[DIGEST_HEX_MAX + 1])
{
	return parse_hex_n(alg, s, strlen(s), out);
}

/* ---- checksum files ---- */

/* One entry: what it says of which file. */
struct entry {
	const char *alg_name;        /* "SHA256", "MD5"... */
	enum digest_alg alg;         /* DIGEST_NONE: an algorithm qvm does not take */
	const char *hex;
	size_t hex_len;
	char name[4096];
};

static const struct { const char *name; size_t hex_len; enum digest_alg alg; } algorithms[] = {
	{ "MD5", 32, DIGEST_NONE }, { "SHA1", 40, DIGEST_NONE }, { "SHA224", 56, DIGEST_NONE },
	{ "SHA256", 64, DIGEST_SHA256 }, { "SHA384", 96, DIGEST_NONE }, { "SHA512", 128, DIGEST_SHA512 },
};

/* "SHA256", "sha-256", "SHA2-256" (OpenSSL 3): the table's spelling. */
static bool bsd_algorithm(const char *s, size_t len, struct entry *e)
{
	char norm[16];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '-')
			continue;
		if (n + 1 >= sizeof(norm))
			return false;
		norm[n++] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
	}
	norm[n] = '\0';
	if (strncmp(norm, "SHA2", 4) == 0 && n == 7)       /* SHA2256 -> SHA256 */
		memmove(norm + 3, norm + 4, 4);
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (strcmp(norm, algorithms[i].name) == 0) {
			e->alg_name = algorithms[i].name;
			e->alg = algorithms[i].alg;
			return true;
		}
	e->alg_name = "another algorithm";
	e->alg = DIGEST_NONE;
	return n > 0;
}

static bool copy_name(struct entry *e, const char *s, size_t len)
{
	if (len == 0 || len >= sizeof(e->name))
		return false;
	memcpy(e->name, s, len);
	e->name[len] = '\0';
	return true;
}

/* ALG (NAME) = HEX, or OpenSSL's ALG(NAME)= HEX. */
static bool parse_bsd(const char *line, size_t len, struct entry *e)
{
	size_t a = 0;

	while (a < len && line[a] != ' ' && line[a] != '(')
		a++;
	size_t open = a + (a < len && line[a] == ' ');
	if (a == 0 || open >= len || line[open] != '(' || !bsd_algorithm(line, a, e))
		return false;
	/* the name may hold ") = " itself: the last one ends it */
	for (size_t i = len; i-- > open + 1;) {
		size_t sep = i + 2 < len && line[i] == ')' && line[i + 1] == ' ' && line[i + 2] == '=' ? 3
			     : i + 1 < len && line[i] == ')' && line[i + 1] == '=' ? 2 : 0;
		if (!sep)
			continue;
		size_t h = i + sep;
		while (h < len && line[h] == ' ')
			h++;
		e->hex = line + h;
		e->hex_len = len - h;
		return copy_name(e, line + open + 1, i - open - 1);
	}
	return false;
}

/* HEX  NAME, HEX *NAME (binary mode), \HEX  ESCAPED-NAME. */
static bool parse_gnu(const char *line, size_t len, struct entry *e)
{
	bool escaped = len > 0 && line[0] == '\\';
	size_t h = escaped, n;

	while (h < len && is_hex(line[h]))
		h++;
	if (h == escaped || h >= len || line[h] != ' ')
		return false;
	e->hex = line + escaped;
	e->hex_len = h - escaped;
	e->alg = DIGEST_NONE;
	e->alg_name = "another algorithm";
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (algorithms[i].hex_len == e->hex_len) {
			e->alg_name = algorithms[i].name;
			e->alg = algorithms[i].alg;
		}
	n = h + 1;
	if (n < len && (line[n] == ' ' || line[n] == '*'))
		n++;
	if (!escaped)
		return copy_name(e, line + n, len - n);
	/* sha256sum escapes names holding '\' or a line break */
	size_t o = 0;
	for (size_t i = n; i < len; i++) {
		char c = line[i];
		if (c == '\\' && i + 1 < len) {
			c = line[++i] == 'n' ? '\n' : line[i] == 'r' ? '\r' : line[i];
		}
		if (o + 1 >= sizeof(e->name))
			return false;
		e->name[o++] = c;
	}
	e->name[o] = '\0';
	return o > 0;
}

static const char *base_of(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

/* How well an entry names the file: 2 exactly, 1 by last component. */
static int match(const char *entry_name, const char *name)
{
	const char *e = strncmp(entry_name, "./", 2) == 0 ? entry_name + 2 : entry_name;

	if (strcmp(e, name) == 0)
		return 2;
	return strcmp(base_of(e), base_of(name)) == 0 ? 1 : 0;
}

static int rank(enum digest_alg alg)
{
	return alg == DIGEST_SHA512 ? 2 : alg == DIGEST_SHA256 ? 1 : 0;
}

#define PGP_BEGIN "-----BEGIN PGP SIGNED MESSAGE-----"
#define PGP_SIGNATURE "-----BEGIN PGP SIGNATURE-----"

int digest_find_in_sums(const char *text, const char *name, enum digest_alg *alg,
			char out[DIGEST_HEX_MAX + 1], const char **other)
{
	/* a clear-signed message: only its text between the armour headers
	 * and the signature counts, dash-escaped lines ("- ...") unescaped */
	enum { PLAIN, BEFORE, HEADERS, BODY, AFTER } state = strstr(text, PGP_BEGIN) ? BEFORE : PLAIN;
	/* (where the text holds a signed message, nothing outside it counts:
	 * not before it, and not after its signature begins, whatever follows) */
	int best_match = 0, best_rank = -1, other_match = 0;
	bool conflict = false;
	struct entry e, best = { 0 };

	*other = NULL;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		const char *line = p;

		p += len + (p[len] == '\n');
		while (len > 0 && line[len - 1] == '\r')
			len--;
		/* GnuPG takes armour lines with white space after them */
		size_t bare = len;
		while (bare > 0 && (line[bare - 1] == ' ' || line[bare - 1] == '\t' || line[bare - 1] == '\r'))
			bare--;
		if (state == BEFORE || state == AFTER || state == HEADERS) {
			if (state == BEFORE && bare == strlen(PGP_BEGIN) && memcmp(line, PGP_BEGIN, bare) == 0)
				state = HEADERS;
			else if (state == HEADERS && bare == 0)
				state = BODY;
			continue;
		}
		if (state == BODY && bare == strlen(PGP_SIGNATURE) && memcmp(line, PGP_SIGNATURE, bare) == 0) {
			state = AFTER;
			continue;
		}
		if (state == BODY && len >= 2 && line[0] == '-' && line[1] == ' ') {
			line += 2;
			len -= 2;
		}
		/* OpenPGP signs a line without its trailing white space: what
		 * follows the name there may be added without breaking the
		 * signature, so it is not part of the name */
		if (state == BODY)
			while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
				len--;
		if (len == 0 || line[0] == '#')
			continue;
		memset(&e, 0, sizeof(e));
		if (!parse_bsd(line, len, &e) && !parse_gnu(line, len, &e))
			continue;
		int m = match(e.name, name);
		if (m == 0)
			continue;
		if (e.alg == DIGEST_NONE) {
			if (m >= other_match) {
				other_match = m;
				*other = e.alg_name;
			}
			continue;
		}
		if (m > best_match || (m == best_match && rank(e.alg) > best_rank)) {
			best_match = m;
			best_rank = rank(e.alg);
			best = e;
			conflict = false;
		} else if (m == best_match && rank(e.alg) == best_rank &&
			   (e.hex_len != best.hex_len || strncasecmp(e.hex, best.hex, e.hex_len) != 0)) {
			/* two digests for one file: which is right cannot be told */
			conflict = true;
		}
	}
	if (!best_match)
		return *other ? -EPROTONOSUPPORT : -ENOENT;
	if (conflict)
		return -ENOTUNIQ;
	*alg = best.alg;
	return parse_hex_n(best.alg, best.hex, best.hex_len, out);
}

int digest_single_in_sums(const char *text, enum digest_alg *alg, char out[DIGEST_HEX_MAX + 1])
{
	struct entry e, one;
	size_t n = 0;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		const char *line = p;

		p += len + (p[len] == '\n');
		while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		if (len == 0 || line[0] == '#')
			continue;
		memset(&e, 0, sizeof(e));
		if (!parse_bsd(line, len, &e) && !parse_gnu(line, len, &e)) {
			/* a bare digest: hex digits alone on the line */
			size_t h = 0;
			while (h < len && is_hex(line[h]))
				h++;
			if (h != len)
				return -ENOENT;
			e.hex = line;
			e.hex_len = len;
			e.alg = len == 64 ? DIGEST_SHA256 : len == 128 ? DIGEST_SHA512 : DIGEST_NONE;
		}
		if (e.alg == DIGEST_NONE || ++n > 1)
			return -ENOENT;
		one = e;
	}
	if (n != 1 || parse_hex_n(one.alg, one.hex, one.hex_len, out) < 0)
		return -ENOENT;
	*alg = one.alg;
	return 0;
}
