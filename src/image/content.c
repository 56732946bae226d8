/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include <blkid/blkid.h>

#include "cleanup.h"
#include "content.h"
#include "fdio.h"
#include "source.h"
#include "banned.h"

/* "a", or "an" before a vowel sound, for "an ext4 file system". */
static const char *article(const char *word)
{
	return strchr("aeiouAEIOU", word[0]) ? "an" : "a";
}

int content_probe_fd(int fd, uint64_t size, char *what, size_t what_size)
{
	blkid_probe pr = blkid_new_probe();
	const char *v = NULL;
	int r;

	what[0] = '\0';
	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, (blkid_loff_t)size) != 0) {
		blkid_free_probe(pr);
		return -EIO;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	blkid_probe_enable_partitions(pr, 1);
	r = blkid_do_safeprobe(pr);
	if (r == 0 && blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL) == 0 && v) {
		snprintf(what, what_size, "%s %s partition table", article(v), v);
	} else if (r == 0 && blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0 && v) {
		const char *usage = NULL;
		(void)blkid_probe_lookup_value(pr, "USAGE", &usage, NULL);
		snprintf(what, what_size, "%s %s %s", article(v), v,
			 usage && strcmp(usage, "filesystem") == 0 ? "file system" : "signature");
	} else if (r == -2) {
		/* several signatures that contradict each other: still a disk */
		snprintf(what, what_size, "several disk signatures");
	}
	blkid_free_probe(pr);
	if (r == -1)
		return -EIO;
	return what[0] ? 1 : 0;
}

int content_probe_head(const void *head, size_t head_len, uint64_t size, char *what, size_t what_size)
{
	_cleanup_close_ int fd = memfd_create("qvm-probe", MFD_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	/* sparse: the disk's size costs nothing, and a prober that looks at
	 * the end (a GPT's backup header) sees zeros there */
	if (size < head_len)
		size = head_len;
	if (ftruncate(fd, (off_t)size) < 0)
		return -errno;
	r = pwrite_full(fd, head, head_len, 0);
	if (r < 0)
		return r;
	return content_probe_fd(fd, size, what, what_size);
}

/* ---- what it is if not a disk ---- */

static bool starts(const unsigned char *p, size_t len, const char *magic, size_t n)
{
	return len >= n && memcmp(p, magic, n) == 0;
}

/* Printable text: ASCII, tabs and line ends, and well-formed UTF-8 (a
 * sequence cut by the end of the buffer counts as well-formed). */
static bool is_text(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (n == 0 || (n == 1 && c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') ||
		    c == 0x7f)
			return false;
		for (size_t k = 1; k < n; k++)
			if (i + k < len && (p[i + k] & 0xc0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

static bool mem_icase(const unsigned char *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp((const char *)p + i, s, n) == 0)
			return true;
	return false;
}

/* A line of hex digits and a name: a SHA256SUMS file given as the image. */
static bool is_checksum_list(const unsigned char *p, size_t len)
{
	size_t h = 0;

	while (h < len && ((p[h] >= '0' && p[h] <= '9') || (p[h] >= 'a' && p[h] <= 'f') ||
			   (p[h] >= 'A' && p[h] <= 'F')))
		h++;
	return h >= 32 && h < len && p[h] == ' ';
}

const char *content_describe(const unsigned char *head, size_t len)
{
	static const struct { const char *magic; size_t n; const char *what; } magics[] = {
		{ "PK\x03\x04", 4, "a zip archive" },
		{ "7z\xbc\xaf\x27\x1c", 6, "a 7-Zip archive" },
		{ "Rar!\x1a\x07", 6, "a RAR archive" },
		{ "!<arch>\n", 8, "an ar archive (a .deb package?)" },
		{ "070701", 6, "a cpio archive" },
		{ "070707", 6, "a cpio archive" },
		{ "\x7f" "ELF", 4, "an ELF executable" },
		{ "%PDF-", 5, "a PDF document" },
		{ "MSCF", 4, "a Microsoft cabinet archive" },
		{ "\x5d\x00\x00", 3, "LZMA-compressed data qvm could not unpack" },
	};
	const unsigned char *p = head;
	size_t n = len;
	bool zeros = true;

	for (size_t i = 0; i < len && zeros; i++)
		zeros = head[i] == 0;
	if (zeros)
		return len ? "nothing but zeros" : NULL;
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (starts(head, len, magics[i].magic, magics[i].n))
			return magics[i].what;
	if (source_is_tar_header(head, len))
		return "a tar archive qvm could not read";
	if (!is_text(head, len))
		return NULL;
	/* text: what kind, after a byte order mark and white space */
	if (starts(p, n, "\xef\xbb\xbf", 3)) {
		p += 3;
		n -= 3;
	}
	while (n > 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
		p++;
		n--;
	}
	size_t window = n < 1024 ? n : 1024;
	if (n > 0 && *p == '<' && (mem_icase(p, window, "<!doctype html") || mem_icase(p, window, "<html") ||
				   mem_icase(p, window, "<head") || mem_icase(p, window, "<body")))
		return "an HTML page";
	if (starts(p, n, "<?xml", 5))
		return "an XML document";
	if (starts(p, n, "-----BEGIN PGP", 14))
		return "a PGP message (a signed checksum file?)";
	if (is_checksum_list(p, n))
		return "a checksum list (SHA256SUMS or the like)";
	return "text";
}
