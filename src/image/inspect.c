/* SPDX-License-Identifier: MIT */
/* Each format's header as its specification (and qemu's block drivers, which
 * decide what qemu-img opens) lays it out. Every offset read from the image
 * is checked against the file's size before it is used, and every table
 * read is capped, so a hostile header costs little and reads nothing past
 * the end. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "inspect.h"
#include "msgtext.h"
#include "size.h"
#include "banned.h"

/* Tables larger than this are not read whole (qemu's own cap on a qcow2
 * L1 table is 32 MiB). */
#define TABLE_MAX (32u << 20)
/* Bytes of a table read at a time. */
#define TABLE_STEP (64u << 10)

struct ins {
	source_read_at_fn read_at;
	void *ctx;
	uint64_t size;
	struct inspect_result *res;
	int err;                     /* a failed read's -errno */
};

static uint16_t be16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t be64(const unsigned char *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[1] << 8 | p[0]); }
static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static uint64_t le64(const unsigned char *p) { return (uint64_t)le32(p + 4) << 32 | le32(p); }

/* Sets the verdict (the first one stands) and returns 1: "stop here". */
static int verdict(struct ins *s, enum inspect_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int verdict(struct ins *s, enum inspect_verdict v, const char *fmt, ...)
{
	va_list ap;

	if (s->res->verdict != INSPECT_OK)
		return 1;
	s->res->verdict = v;
	va_start(ap, fmt);
	vsnprintf(s->res->why, sizeof(s->res->why), fmt, ap);
	va_end(ap);
	return 1;
}

#define external(s, ...) verdict((s), INSPECT_EXTERNAL, __VA_ARGS__)
#define damaged(s, ...) verdict((s), INSPECT_DAMAGED, __VA_ARGS__)
#define unsupported(s, ...) verdict((s), INSPECT_UNSUPPORTED, __VA_ARGS__)

/* Whether [off, off + len) lies inside the file. */
static bool inside(const struct ins *s, uint64_t off, uint64_t len)
{
	return off <= s->size && len <= s->size - off;
}

/* Reads len bytes at off. 0; 1 with a verdict when they lie past the end
 * (what is named by `what`); -1 when the read failed (s->err). */
static int get(struct ins *s, void *buf, size_t len, uint64_t off, const char *what)
{
	int r;

	if (!inside(s, off, len))
		return damaged(s, "its %s lies beyond the end of the file (%" PRIu64 " bytes): the file is "
			       "cut short or damaged", what, s->size);
	r = s->read_at(s->ctx, buf, len, off);
	if (r == -EINVAL)
		return damaged(s, "its %s cannot be read: the file is cut short", what);
	if (r < 0) {
		s->err = r;
		return -1;
	}
	return 0;
}

/* A name stored in the image (len bytes at off), printable, for a message. */
static int get_name(struct ins *s, char *out, size_t out_size, uint64_t off, uint64_t len)
{
	unsigned char raw[1024];
	size_t n = len < sizeof(raw) ? (size_t)len : sizeof(raw);

	snprintf(out, out_size, "(its name lies beyond the end of the file)");
	if (!inside(s, off, n))
		return 0;
	if (s->read_at(s->ctx, raw, n, off) < 0)
		return 0;
	msg_text(out, out_size, (const char *)raw, strnlen((const char *)raw, n));
	return 0;
}

/*
 * Reads a table of `count` entries of `width` bytes at off, in steps, and
 * calls check(s, entry, index, arg) for each; check returns nonzero to stop.
 */
typedef int (*entry_fn)(struct ins *s, const unsigned char *e, uint64_t i, void *arg);
static int each_entry(struct ins *s, uint64_t off, uint64_t count, size_t width, const char *what,
		      entry_fn check, void *arg)
{
	_cleanup_free_ unsigned char *buf = NULL;
	uint64_t bytes = count * width, done = 0;
	int r;

	if (count > TABLE_MAX / width)
		return unsupported(s, "its %s is larger than %u MiB", what, TABLE_MAX >> 20);
	if (!inside(s, off, bytes))
		return damaged(s, "its %s ends beyond the end of the file (%" PRIu64 " bytes): the file is "
			       "cut short or damaged", what, s->size);
	buf = malloc(TABLE_STEP);
	if (!buf) {
		s->err = -ENOMEM;
		return -1;
	}
	while (done < bytes) {
		size_t n = bytes - done < TABLE_STEP ? (size_t)(bytes - done) : TABLE_STEP;
		r = get(s, buf, n, off + done, what);
		if (r)
			return r;
		for (size_t i = 0; i < n; i += width)
			if ((r = check(s, buf + i, (done + i) / width, arg)) != 0)
				return r;
		done += n;
	}
	return 0;
}

/* ---- the L2 tables of an L1 table (qcow, qcow2) ---- */

/* The tables an L1 table names, each once: two entries naming one table
 * never occur in a sound image, and make qemu-img check (and a walk of
 * the tables) read it again and again - hours for a file of 1 MiB. */
struct tables {
	uint64_t mask;               /* the offset's bits in an entry */
	uint64_t len;                /* bytes of one table */
	uint64_t *off;
	size_t n, cap;
};

static int collect_table(struct ins *s, const unsigned char *e, uint64_t i, void *arg)
{
	struct tables *t = arg;
	uint64_t off = be64(e) & t->mask;

	if (!off)
		return 0;
	if (!inside(s, off, t->len))
		return damaged(s, "L1 entry %" PRIu64 " points beyond the end of the file (%" PRIu64
			       " bytes): the file is cut short or damaged", i, s->size);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		uint64_t *n = realloc(t->off, cap * sizeof(*n));
		if (!n) {
			s->err = -ENOMEM;
			return -1;
		}
		t->off = n;
		t->cap = cap;
	}
	t->off[t->n++] = off;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Reads the L1 table (count entries at off) into t, every table once. */
static int read_tables(struct ins *s, uint64_t off, uint64_t count, struct tables *t)
{
	int r = each_entry(s, off, count, 8, "L1 table", collect_table, t);

	if (r)
		return r;
	if (t->n > 1)
		qsort(t->off, t->n, sizeof(*t->off), cmp_u64);
	for (size_t i = 1; i < t->n; i++)
		if (t->off[i] == t->off[i - 1])
			return damaged(s, "two entries of its L1 table name the same L2 table (at %" PRIu64 ")",
				       t->off[i]);
	return 0;
}

/* ---- qcow2 ---- */

#define QCOW2_EXT_DATA_FILE 0x44415441u      /* "DATA": external data file name */
#define QCOW2_INCOMPAT_CORRUPT (1u << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1u << 2)
#define QCOW2_INCOMPAT_EXTL2 (1u << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1fu
#define QCOW2_L1_OFFSET_MASK UINT64_C(0x00fffffffffffe00)

static int inspect_qcow2(struct ins *s)
{
	unsigned char h[104];
	char name[300];
	uint32_t version, cluster_bits, hdr_len, l1_size;
	uint64_t incompat = 0, cluster, vsize, l1_off, ext, ext_end;
	int r;

	if ((r = get(s, h, 72, 0, "header")))
		return r;
	version = be32(h + 4);
	if (version != 2 && version != 3)
		return unsupported(s, "it is qcow2 version %" PRIu32 " (qvm reads versions 2 and 3)", version);
	cluster_bits = be32(h + 20);
	if (cluster_bits < 9 || cluster_bits > 21)
		return damaged(s, "its header gives an invalid cluster size (2^%" PRIu32 " bytes)", cluster_bits);
	cluster = UINT64_C(1) << cluster_bits;

	/* what it refers to first: that is the danger */
	if (be64(h + 8)) {
		get_name(s, name, sizeof(name), be64(h + 8), be32(h + 16));
		return external(s, "a qcow2 backing file '%s'", name);
	}
	hdr_len = 72;
	if (version == 3) {
		if ((r = get(s, h + 72, 32, 72, "header")))
			return r;
		incompat = be64(h + 72);
		hdr_len = be32(h + 100);
		if (hdr_len < 104 || hdr_len > cluster)
			return damaged(s, "its header length (%" PRIu32 " bytes) is invalid", hdr_len);
	}
	/* header extensions, up to the end of the first cluster as qemu reads them */
	ext_end = s->size < cluster ? s->size : cluster;
	for (ext = hdr_len; ext + 8 <= ext_end;) {
		unsigned char eh[8];
		if ((r = get(s, eh, 8, ext, "header extension")))
			return r;
		uint32_t type = be32(eh), len = be32(eh + 4);
		if (type == 0)
			break;
		if (len > ext_end - ext - 8)
			return damaged(s, "a header extension runs past the first cluster");
		if (type == QCOW2_EXT_DATA_FILE) {
			get_name(s, name, sizeof(name), ext + 8, len);
			return external(s, "a qcow2 external data file '%s'", name);
		}
		ext += 8 + (((uint64_t)len + 7) & ~UINT64_C(7));
	}
	if (incompat & QCOW2_INCOMPAT_DATA_FILE)
		return external(s, "a qcow2 external data file (the data_file feature is set)");
	if (incompat & QCOW2_INCOMPAT_CORRUPT)
		return damaged(s, "qemu marked it corrupt (the corrupt bit of its header is set)");
	if (incompat & ~(uint64_t)QCOW2_INCOMPAT_KNOWN)
		return unsupported(s, "its header sets incompatible features qvm does not know (0x%" PRIx64 ")",
				   incompat & ~(uint64_t)QCOW2_INCOMPAT_KNOWN);
	if (be32(h + 32))
		return unsupported(s, "it is encrypted");

	/* the tables lie inside the file, and the L1 table covers the disk */
	vsize = be64(h + 24);
	l1_size = be32(h + 36);
	l1_off = be64(h + 40);
	uint64_t per_l2 = cluster / ((incompat & QCOW2_INCOMPAT_EXTL2) ? 16 : 8);
	uint64_t span = cluster * per_l2;
	uint64_t need = vsize / span + (vsize % span != 0);
	if (l1_size < need)
		return damaged(s, "its L1 table (%" PRIu32 " entries) is too small for its virtual size", l1_size);
	if (l1_size && l1_off % cluster)
		return damaged(s, "its L1 table is not aligned to a cluster");
	uint64_t rt_off = be64(h + 48), rt_clusters = be32(h + 56);
	if (rt_off % cluster || !inside(s, rt_off, rt_clusters * cluster))
		return damaged(s, "its refcount table lies beyond the end of the file (%" PRIu64 " bytes): the "
			       "file is cut short or damaged", s->size);
	if (be32(h + 60) && (be64(h + 64) % cluster || !inside(s, be64(h + 64), 1)))
		return damaged(s, "its snapshot table lies beyond the end of the file");
	struct tables t = { .mask = QCOW2_L1_OFFSET_MASK, .len = cluster };
	r = read_tables(s, l1_off, l1_size, &t);
	free(t.off);
	return r;
}

/* ---- qcow (version 1) ---- */

struct qcow1 {
	unsigned cluster_bits, l2_bits;
	uint64_t l2_entries;
};

static int qcow1_l2_entry(struct ins *s, const unsigned char *e, uint64_t i, void *arg)
{
	const struct qcow1 *q = arg;
	uint64_t v = be64(e);

	(void)i;
	if (!v)
		return 0;
	if (v >> 63) {
		/* compressed: offset in the low bits, its size above them */
		unsigned shift = 63 - q->cluster_bits;
		uint64_t off = v & ((UINT64_C(1) << shift) - 1);
		uint64_t len = (v >> shift) & ((UINT64_C(1) << q->cluster_bits) - 1);
		if (!inside(s, off, len))
			return damaged(s, "a compressed cluster lies beyond the end of the file (%" PRIu64
				       " bytes): the file is cut short or damaged", s->size);
	} else if (!inside(s, v, UINT64_C(1) << q->cluster_bits)) {
		return damaged(s, "a data cluster lies beyond the end of the file (%" PRIu64
			       " bytes): the file is cut short or damaged", s->size);
	}
	return 0;
}


static int inspect_qcow(struct ins *s)
{
	unsigned char h[48];
	char name[300];
	struct qcow1 q;
	int r;

	if ((r = get(s, h, sizeof(h), 0, "header")))
		return r;
	if (be64(h + 8)) {
		get_name(s, name, sizeof(name), be64(h + 8), be32(h + 16));
		return external(s, "a qcow backing file '%s'", name);
	}
	if (be32(h + 36))
		return unsupported(s, "it is encrypted");
	q.cluster_bits = h[32];
	q.l2_bits = h[33];
	if (q.cluster_bits < 9 || q.cluster_bits > 16 || q.l2_bits < 6 || q.l2_bits > 16)
		return damaged(s, "its header gives an invalid cluster or table size");
	q.l2_entries = UINT64_C(1) << q.l2_bits;
	unsigned shift = q.cluster_bits + q.l2_bits;
	uint64_t vsize = be64(h + 24);
	uint64_t l1_size = (vsize >> shift) + ((vsize & ((UINT64_C(1) << shift) - 1)) != 0);
	/* qemu-img check knows nothing of this format: every cluster is
	 * checked here (the tables are small: 8 bytes per cluster), each
	 * table once */
	struct tables t = { .mask = UINT64_MAX, .len = q.l2_entries * 8 };
	r = read_tables(s, be64(h + 40), l1_size, &t);
	for (size_t i = 0; r == 0 && i < t.n; i++)
		r = each_entry(s, t.off[i], q.l2_entries, 8, "L2 table", qcow1_l2_entry, &q);
	free(t.off);
	return r;
}

/* ---- qed ---- */

#define QED_F_BACKING_FILE 0x01u
#define QED_F_NEED_CHECK 0x02u
#define QED_F_BACKING_FORMAT_NO_PROBE 0x04u

static int inspect_qed(struct ins *s)
{
	unsigned char h[64];
	char name[300];
	int r;

	if ((r = get(s, h, sizeof(h), 0, "header")))
		return r;
	uint64_t features = le64(h + 16);
	if ((features & (QED_F_BACKING_FILE | QED_F_BACKING_FORMAT_NO_PROBE)) || le32(h + 56)) {
		get_name(s, name, sizeof(name), le32(h + 56), le32(h + 60));
		return external(s, "a qed backing file '%s'", name);
	}
	if (features & ~(uint64_t)(QED_F_BACKING_FILE | QED_F_NEED_CHECK | QED_F_BACKING_FORMAT_NO_PROBE))
		return unsupported(s, "its header sets features qvm does not know (0x%" PRIx64 ")", features);
	uint32_t cluster = le32(h + 4), table = le32(h + 8);
	if (cluster < 4096 || cluster > (64u << 20) || (cluster & (cluster - 1)) || table < 1 || table > 16 ||
	    (table & (table - 1)))
		return damaged(s, "its header gives an invalid cluster or table size");
	if (!inside(s, le64(h + 40), (uint64_t)table * cluster))
		return damaged(s, "its L1 table lies beyond the end of the file (%" PRIu64 " bytes): the file "
			       "is cut short or damaged", s->size);
	return 0;
}

/* ---- vmdk ---- */

#define VMDK_GD_AT_END UINT64_C(0xffffffffffffffff)
/* A descriptor is text; qemu reads at most 1 MiB of it. */
#define VMDK_DESC_MAX (1u << 20)

/*
 * The value qemu's vmdk driver reads for key: the text after the first
 * occurrence of key anywhere in the descriptor, `skip` characters on (`="`
 * or `=`), up to the next '"' or line end. qemu finds keys with strstr, so
 * this does too: a key inside another word counts.
 */
static bool desc_find(const char *d, const char *key, size_t skip, char *out, size_t out_size)
{
	const char *p = strstr(d, key), *end;

	if (!p)
		return false;
	p += strlen(key);
	p += strnlen(p, skip);
	end = p + strcspn(p, "\"\n");
	msg_text(out, out_size, p, end ? (size_t)(end - p) : strlen(p));
	return true;
}

/* An extent line: ACCESS SECTORS TYPE "FILE" [OFFSET]. Any line that
 * starts with an access word counts, whatever follows. */
static bool desc_extent(const char *line, size_t len, char *type, size_t type_size, char *file,
			size_t file_size)
{
	static const char *const access[] = { "RW", "RDONLY", "NOACCESS" };
	size_t i = 0, a;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	for (a = 0; a < 3; a++) {
		size_t n = strlen(access[a]);
		if (len - i > n && strncmp(line + i, access[a], n) == 0 &&
		    (line[i + n] == ' ' || line[i + n] == '\t'))
			break;
	}
	if (a == 3)
		return false;
	i += strlen(access[a]);
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	size_t t = i;
	while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '"')
		i++;
	msg_text(type, type_size, line + t, i - t);
	while (i < len && line[i] != '"')
		i++;
	size_t f = i < len ? i + 1 : len, fe = f;
	while (fe < len && line[fe] != '"')
		fe++;
	msg_text(file, file_size, line + f, fe - f);
	return true;
}

/*
 * A descriptor's references (d is NUL-terminated where qemu stops reading).
 * embedded: inside a sparse extent, whose one SPARSE extent is the file
 * itself; otherwise a descriptor file, whose extents are other files.
 */
static int check_descriptor(struct ins *s, const char *d, bool embedded)
{
	char value[300], type[32], file[300];
	unsigned extents = 0;

	if (desc_find(d, "parentFileNameHint", 2, value, sizeof(value)))
		return external(s, "a vmdk parent disk '%s' (parentFileNameHint)", value);
	if (desc_find(d, "parentCID", 1, value, sizeof(value)) && strtoul(value, NULL, 16) != 0xffffffffu)
		return external(s, "a vmdk parent disk (parentCID %s: a differencing disk)", value);
	for (const char *line = d; *line;) {
		size_t n = strcspn(line, "\n");
		if (desc_extent(line, n, type, sizeof(type), file, sizeof(file))) {
			extents++;
			if (!embedded || strcmp(type, "SPARSE") != 0 || strchr(file, '/') || extents > 1)
				return external(s, "a vmdk extent file '%s' (%s)", file, type);
		}
		line += n + (line[n] == '\n');
	}
	if (desc_find(d, "createType", 2, value, sizeof(value)) && strcmp(value, "monolithicSparse") != 0 &&
	    strcmp(value, "streamOptimized") != 0)
		return external(s, "a vmdk of createType '%s', whose data is in other files (qvm imports "
				"monolithicSparse and streamOptimized vmdk images)", value);
	if (!embedded)
		return external(s, "a vmdk descriptor file, which names other files as its extents");
	return 0;
}

/* The descriptor text at off as qemu reads it: up to 1 MiB, to the first
 * NUL or the end of the file. */
static int read_descriptor(struct ins *s, uint64_t off, bool embedded)
{
	_cleanup_free_ char *d = NULL;
	uint64_t len;
	int r;

	if (off >= s->size)
		return damaged(s, "its descriptor lies beyond the end of the file");
	len = s->size - off < VMDK_DESC_MAX ? s->size - off : VMDK_DESC_MAX;
	d = malloc((size_t)len + 1);
	if (!d) {
		s->err = -ENOMEM;
		return -1;
	}
	if ((r = get(s, d, (size_t)len, off, "descriptor")))
		return r;
	d[len] = '\0';
	return check_descriptor(s, d, embedded);
}

static int inspect_vmdk(struct ins *s)
{
	unsigned char h[80];
	int r;

	if ((r = get(s, h, 4, 0, "header")))
		return r;
	if (memcmp(h, "COWD", 4) == 0)
		return unsupported(s, "it is a VMware ESX 2 sparse (COWD) vmdk, a format qvm does not import");
	if (memcmp(h, "KDMV", 4) != 0)
		return read_descriptor(s, 0, false);   /* "# Disk DescriptorFile" */
	if ((r = get(s, h, sizeof(h), 0, "header")))
		return r;
	uint32_t version = le32(h + 4);
	uint64_t capacity = le64(h + 12), desc_off = le64(h + 28), desc_len = le64(h + 36);
	uint64_t gd = le64(h + 56), grains = le64(h + 64);
	if (version > 3)
		return unsupported(s, "it is vmdk version %" PRIu32, version);
	if (desc_off > s->size / 512)
		return damaged(s, "its descriptor lies beyond the end of the file");
	/* a sparse header without a disk: qemu opens its descriptor as a
	 * descriptor file, whose extents can be any file */
	if (capacity == 0 && desc_off)
		return read_descriptor(s, desc_off * 512, false);
	/* qemu looks for a parent in the text at byte 512, whatever the header
	 * says; the header's descriptor, if elsewhere, is checked too */
	if (s->size > 512 && (r = read_descriptor(s, 512, true)))
		return r;
	if (desc_off && desc_len && desc_off != 1 && (r = read_descriptor(s, desc_off * 512, true)))
		return r;
	if (grains > s->size / 512)
		return damaged(s, "it ends before its first grain (%" PRIu64 " bytes): the file is cut short",
			       s->size);
	if (gd == VMDK_GD_AT_END) {
		unsigned char m[4];
		if (s->size < 1536)
			return damaged(s, "it is too short for its footer");
		if ((r = get(s, m, 4, s->size - 1024, "footer")))
			return r;
		if (memcmp(m, "KDMV", 4) != 0)
			return damaged(s, "its footer is missing: the file is cut short or damaged");
	} else if (gd > s->size / 512) {
		return damaged(s, "its grain directory lies beyond the end of the file (%" PRIu64 " bytes): the "
			       "file is cut short or damaged", s->size);
	}
	return 0;
}

/* ---- vhdx ---- */

#define VHDX_REGION_TABLE 0x30000u
#define VHDX_MB (UINT64_C(1) << 20)

static const unsigned char VHDX_METADATA_REGION[16] = {
	0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e };
static const unsigned char VHDX_BAT_REGION[16] = {
	0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08 };
static const unsigned char VHDX_FILE_PARAMETERS[16] = {
	0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d, 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b };
static const unsigned char VHDX_PARENT_LOCATOR[16] = {
	0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c };
static const unsigned char VHDX_LOGICAL_SECTOR[16] = {
	0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47, 0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f };

/* UTF-16LE text, ASCII kept, anything else as '?', for a message. */
static void utf16le_text(char *out, size_t out_size, const unsigned char *p, size_t len)
{
	char tmp[256];
	size_t n = 0;

	for (size_t i = 0; i + 1 < len && n < sizeof(tmp); i += 2) {
		uint16_t c = le16(p + i);
		if (c == 0)
			break;
		tmp[n++] = c < 0x80 ? (char)c : '?';
	}
	msg_text(out, out_size, tmp, n);
}

/* The parent's path in a parent locator (relative_path, absolute_win32_path,
 * ...), for the message; "" when none can be read. */
static void vhdx_parent_path(struct ins *s, uint64_t off, uint32_t len, char *out, size_t out_size)
{
	_cleanup_free_ unsigned char *loc = NULL;

	out[0] = '\0';
	if (len < 20 || len > (64u << 10) || !inside(s, off, len) || !(loc = malloc(len)) ||
	    s->read_at(s->ctx, loc, len, off) < 0)
		return;
	uint16_t count = le16(loc + 18);
	for (uint32_t i = 0; i < count && 20 + (uint64_t)(i + 1) * 12 <= len; i++) {
		const unsigned char *e = loc + 20 + i * 12;
		uint32_t ko = le32(e), vo = le32(e + 4);
		uint16_t kl = le16(e + 8), vl = le16(e + 10);
		char key[64];
		if ((uint64_t)ko + kl > len || (uint64_t)vo + vl > len)
			continue;
		utf16le_text(key, sizeof(key), loc + ko, kl);
		if (strstr(key, "path")) {
			utf16le_text(out, out_size, loc + vo, vl);
			return;
		}
	}
}

struct vhdx_bat {
	uint64_t block_size;
	uint64_t chunk_ratio;        /* payload blocks per sector bitmap block */
};

static int vhdx_bat_entry(struct ins *s, const unsigned char *e, uint64_t i, void *arg)
{
	const struct vhdx_bat *b = arg;
	uint64_t v = le64(e), state = v & 7, off = (v >> 20) * VHDX_MB;
	bool bitmap = (i + 1) % (b->chunk_ratio + 1) == 0;

	/* 6: block fully present (or a present sector bitmap), 7: partially */
	if ((state == 6 || state == 7) && !inside(s, off, bitmap ? VHDX_MB : b->block_size))
		return damaged(s, "block %" PRIu64 " of its table lies beyond the end of the file (%" PRIu64
			       " bytes): the file is cut short or damaged", i, s->size);
	return 0;
}

static int inspect_vhdx(struct ins *s)
{
	unsigned char rt[16], e[32], mh[32];
	uint64_t meta_off = 0, bat_off = 0;
	uint32_t meta_len = 0, bat_len = 0, block_size = 0, sector = 512;
	int r;

	if ((r = get(s, rt, sizeof(rt), VHDX_REGION_TABLE, "region table")))
		return r;
	if (memcmp(rt, "regi", 4) != 0)
		return damaged(s, "its region table is missing");
	uint32_t regions = le32(rt + 8);
	if (regions > 2047)
		return damaged(s, "its region table is invalid");
	for (uint32_t i = 0; i < regions; i++) {
		if ((r = get(s, e, sizeof(e), VHDX_REGION_TABLE + 16 + (uint64_t)i * 32, "region table")))
			return r;
		if (memcmp(e, VHDX_METADATA_REGION, 16) == 0) {
			meta_off = le64(e + 16);
			meta_len = le32(e + 24);
		} else if (memcmp(e, VHDX_BAT_REGION, 16) == 0) {
			bat_off = le64(e + 16);
			bat_len = le32(e + 24);
		}
	}
	if (!meta_len || !bat_len)
		return damaged(s, "its region table has no %s region", meta_len ? "BAT" : "metadata");
	if (!inside(s, meta_off, meta_len) || !inside(s, bat_off, bat_len))
		return damaged(s, "its %s region lies beyond the end of the file (%" PRIu64 " bytes): the "
			       "file is cut short or damaged", inside(s, meta_off, meta_len) ? "BAT" : "metadata",
			       s->size);
	if (meta_len < 32 || (r = get(s, mh, sizeof(mh), meta_off, "metadata table")))
		return meta_len < 32 ? damaged(s, "its metadata region is too small") : r;
	if (memcmp(mh, "metadata", 8) != 0)
		return damaged(s, "its metadata table is missing");
	uint16_t items = le16(mh + 10);
	if (items > 2047 || 32 + (uint32_t)items * 32 > meta_len)
		return damaged(s, "its metadata table is invalid");
	for (uint16_t i = 0; i < items; i++) {
		unsigned char v[8];
		if ((r = get(s, e, sizeof(e), meta_off + 32 + (uint64_t)i * 32, "metadata table")))
			return r;
		uint32_t off = le32(e + 16), len = le32(e + 20);
		if (len && (off > meta_len || len > meta_len - off))
			return damaged(s, "a metadata item lies outside its metadata region");
		if (memcmp(e, VHDX_PARENT_LOCATOR, 16) == 0) {
			char path[300];
			vhdx_parent_path(s, meta_off + off, len, path, sizeof(path));
			if (path[0])
				return external(s, "a vhdx parent disk '%s' (a differencing disk)", path);
			return external(s, "a vhdx parent disk (it has a parent locator: a differencing disk)");
		}
		if (memcmp(e, VHDX_FILE_PARAMETERS, 16) == 0 && len >= 8) {
			if ((r = get(s, v, 8, meta_off + off, "file parameters")))
				return r;
			block_size = le32(v);
			if (le32(v + 4) & 2)
				return external(s, "a vhdx parent disk (HasParent is set: a differencing disk)");
		}
		if (memcmp(e, VHDX_LOGICAL_SECTOR, 16) == 0 && len >= 4) {
			if ((r = get(s, v, 4, meta_off + off, "logical sector size")))
				return r;
			sector = le32(v);
		}
	}
	if (block_size < VHDX_MB || block_size > (256u << 20) || (block_size & (block_size - 1)) ||
	    (sector != 512 && sector != 4096))
		return damaged(s, "its block or sector size is invalid");
	struct vhdx_bat b = { .block_size = block_size,
			      .chunk_ratio = (UINT64_C(1) << 23) * sector / block_size };
	return each_entry(s, bat_off, bat_len / 8, 8, "block table", vhdx_bat_entry, &b);
}

/* ---- vdi ---- */

#define VDI_SIGNATURE 0xbeda107fu
#define VDI_UNALLOCATED 0xfffffffeu     /* and above: not in the file */

struct vdi_map {
	uint32_t allocated;
};

static int vdi_map_entry(struct ins *s, const unsigned char *e, uint64_t i, void *arg)
{
	const struct vdi_map *m = arg;
	uint32_t v = le32(e);

	if (v < VDI_UNALLOCATED && v >= m->allocated)
		return damaged(s, "block %" PRIu64 " of its map points past its last allocated block", i);
	return 0;
}

static bool zero16(const unsigned char *p)
{
	for (int i = 0; i < 16; i++)
		if (p[i])
			return false;
	return true;
}

static void uuid_text(char out[37], const unsigned char *u)
{
	/* as VirtualBox writes it: the first three fields little-endian */
	snprintf(out, 37, "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", le32(u), le16(u + 4),
		 le16(u + 6), u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static int inspect_vdi(struct ins *s)
{
	unsigned char h[0x1c8];
	char uuid[37];
	int r;

	if ((r = get(s, h, sizeof(h), 0, "header")))
		return r;
	uint32_t type = le32(h + 0x4c);
	if (type == 3 || type == 4 || !zero16(h + 0x1a8)) {
		uuid_text(uuid, h + 0x1a8);
		return external(s, "a vdi parent disk {%s} (a %s image)", uuid,
				type == 3 ? "undo" : type == 4 ? "differencing" : "linked");
	}
	if (type != 1 && type != 2)
		return unsupported(s, "it is a vdi image of type %" PRIu32, type);
	uint32_t bmap = le32(h + 0x154), data = le32(h + 0x158), block = le32(h + 0x178);
	uint32_t extra = le32(h + 0x17c), blocks = le32(h + 0x180), allocated = le32(h + 0x184);
	if (block == 0 || allocated > blocks)
		return damaged(s, "its header gives an invalid block size or count");
	uint64_t bytes;
	if (__builtin_mul_overflow((uint64_t)allocated, (uint64_t)block + extra, &bytes) ||
	    !inside(s, data, bytes))
		return damaged(s, "its %" PRIu32 " allocated blocks end beyond the end of the file (%" PRIu64
			       " bytes): the file is cut short or damaged", allocated, s->size);
	struct vdi_map m = { .allocated = allocated };
	return each_entry(s, bmap, blocks, 4, "block map", vdi_map_entry, &m);
}

/* ---- vpc (VHD) ---- */

#define VHD_FIXED 2u
#define VHD_DYNAMIC 3u
#define VHD_DIFFERENCING 4u

struct vhd_bat {
	uint64_t span;               /* bitmap + block, in bytes */
	uint64_t end;                /* where the data may end: the footer */
};

static int vhd_bat_entry(struct ins *s, const unsigned char *e, uint64_t i, void *arg)
{
	const struct vhd_bat *b = arg;
	uint32_t v = be32(e);

	if (v != 0xffffffffu && ((uint64_t)v * 512 > b->end || b->span > b->end - (uint64_t)v * 512))
		return damaged(s, "block %" PRIu64 " of its table lies beyond the end of the file (%" PRIu64
			       " bytes): the file is cut short or damaged", i, s->size);
	return 0;
}

static int inspect_vpc(struct ins *s)
{
	unsigned char f[512], d[1024];
	char name[300];
	bool fixed_tail = false;
	int r;

	/* a dynamic disk has a copy of its footer first; a fixed one only the
	 * footer at its end */
	if ((r = get(s, f, 512, 0, "footer")))
		return r;
	if (memcmp(f, "conectix", 8) != 0) {
		if (s->size < 1024 || (r = get(s, f, 512, s->size - 512, "footer")))
			return s->size < 1024 ? damaged(s, "it is too short for a VHD footer") : r;
		if (memcmp(f, "conectix", 8) != 0 && (r = get(s, f, 511, s->size - 511, "footer")))
			return r;
		if (memcmp(f, "conectix", 8) != 0)
			return damaged(s, "its VHD footer is missing");
		fixed_tail = true;
	}
	uint32_t type = be32(f + 60);
	if (type == VHD_FIXED) {
		uint64_t vsize = be64(f + 48);
		if (!fixed_tail || s->size - 512 < vsize)
			return damaged(s, "its data (%" PRIu64 " bytes) does not fit before its footer: the file "
				       "is cut short or damaged", vsize);
		return 0;
	}
	if (type != VHD_DYNAMIC && type != VHD_DIFFERENCING)
		return unsupported(s, "it is a VHD of disk type %" PRIu32, type);
	if ((r = get(s, d, sizeof(d), be64(f + 16), "dynamic disk header")))
		return r;
	if (memcmp(d, "cxsparse", 8) != 0)
		return damaged(s, "its dynamic disk header is missing");
	/* a parent: by type, by name, or by any of its eight locators */
	bool locator = false;
	for (int i = 0; i < 8; i++)
		locator |= be32(d + 576 + i * 24) != 0;
	if (type == VHD_DIFFERENCING || locator || be16(d + 64) != 0) {
		char utf16[512];
		for (size_t i = 0; i < sizeof(utf16); i += 2) {
			/* the parent's name is UTF-16 big-endian */
			utf16[i] = (char)d[64 + i + 1];
			utf16[i + 1] = (char)d[64 + i];
		}
		utf16le_text(name, sizeof(name), (const unsigned char *)utf16, sizeof(utf16));
		if (name[0])
			return external(s, "a VHD parent disk '%s' (a differencing disk)", name);
		return external(s, "a VHD parent disk (a differencing disk)");
	}
	uint32_t block = be32(d + 32), entries = be32(d + 28);
	if (block < 512 || (block & 511))
		return damaged(s, "its block size (%" PRIu32 ") is invalid", block);
	uint64_t bitmap = (((uint64_t)block / 512 + 7) / 8 + 511) & ~UINT64_C(511);
	struct vhd_bat b = { .span = bitmap + block, .end = s->size - 512 };
	return each_entry(s, be64(d + 16), entries, 4, "block table", vhd_bat_entry, &b);
}

int image_inspect(enum source_format fmt, source_read_at_fn read_at, void *ctx, uint64_t file_size,
		  struct inspect_result *res)
{
	struct ins s = { .read_at = read_at, .ctx = ctx, .size = file_size, .res = res };
	int r;

	res->verdict = INSPECT_OK;
	res->why[0] = '\0';
	switch (fmt) {
	case SOURCE_QCOW2: r = inspect_qcow2(&s); break;
	case SOURCE_QCOW: r = inspect_qcow(&s); break;
	case SOURCE_QED: r = inspect_qed(&s); break;
	case SOURCE_VMDK: r = inspect_vmdk(&s); break;
	case SOURCE_VHDX: r = inspect_vhdx(&s); break;
	case SOURCE_VDI: r = inspect_vdi(&s); break;
	case SOURCE_VPC: r = inspect_vpc(&s); break;
	default: r = 0; break;
	}
	return r < 0 ? s.err : 0;
}

int inspect_mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct inspect_mem *m = ctx;

	if (off > m->len || len > m->len - off)
		return -EINVAL;
	memcpy(buf, m->data + off, len);
	return 0;
}
