/* SPDX-License-Identifier: MIT */
/* The long option names of the installed virt-install (vioptions.h).
 *
 * Why exact names: virt-install parses its command line with Python's
 * argparse, allow_abbrev on, so "--nam" is read as "--name" and "--dry" as
 * "--dry-run". A vm document key is passed as "--KEY": a key that is only
 * the start of an option would silently become another option. qvm takes a
 * key only when it is an option name spelled in full.
 *
 * Why an exact name is safe although argparse matches prefixes against all
 * its option strings, the hidden ones too: argparse (_parse_optional) first
 * looks the whole argument up - and, for "--KEY=VALUE", the part before
 * '=' - among its option strings, and returns that action; only when there
 * is no exact match does it look for options the argument is a prefix of.
 * So "--memory" is --memory, not an ambiguous prefix of --memorybacking and
 * --memtune, and "--cpu" is not --cputune.
 *
 * What --help lists: every option but those added with help=SUPPRESS. In
 * virt-install 4.1 those are back-compat and test options (--ram, --uuid,
 * --description, --livecd, --init, --os-type, --file, --file-size,
 * --nonsparse, --nodisks, --nonetworks, --bridge, --mac, --vnc, --vncport,
 * --vnclisten, --keymap, --sdl, --nographics, --accelerate, --noapic,
 * --noacpi, --check-cpu, --cpuset, --host-device, --soundhw, --prompt,
 * --force, --print-step, --test-media-detection, --test-stub-command, ...;
 * see virtinst/virtinstall.py and virtinst/cli.py). A key naming one of
 * them is refused as "not a virt-install option", and an abbreviation of a
 * hidden option is refused without naming it: both errs on the side of
 * refusing. --help, --version and the other listed options qvm refuses for
 * its own reasons are kept here; those checks live elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "dirs.h"
#include "fdio.h"
#include "msgtext.h"
#include "process.h"
#include "report.h"
#include "strv.h"
#include "vioptions.h"
#include "banned.h"

struct vi_options {
	char **names;                /* strv, in the order listed, no duplicates */
	unsigned n;
};

#define CACHE_DEFAULT_DIR "/var/cache/qvm"
#define CACHE_FILE "virt-install-options"
#define CACHE_MAGIC "qvm virt-install options 1"
#define CACHE_END "end"
/* magic + key (a path up to PATH_MAX) + every name on its own line */
#define CACHE_MAX (128u << 10)
/* no suggestion for a longer key: the distance table grows with it */
#define SUGGEST_MAX_LEN 128
_Static_assert(VI_OPTION_NAME_MAX <= SUGGEST_MAX_LEN, "edit_distance's rows hold a name");

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* The names believed from a help text or a cache file: what virt-install
 * spells (--os-variant, --launchSecurity), nothing that could break a line
 * of the cache or a message apart. */
static bool name_valid(const char *s, size_t len)
{
	if (len == 0 || len > VI_OPTION_NAME_MAX || !name_char(s[0]) || s[0] == '-' || s[0] == '_')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

static bool has_n(const struct vi_options *o, const char *s, size_t len)
{
	for (unsigned i = 0; i < o->n; i++)
		if (strlen(o->names[i]) == len && memcmp(o->names[i], s, len) == 0)
			return true;
	return false;
}

/* Adds a name unless invalid (ignored) or already there. */
static int add_name(struct vi_options *o, const char *s, size_t len)
{
	char *copy;

	if (!name_valid(s, len) || has_n(o, s, len))
		return 0;
	if (o->n >= VI_OPTIONS_MAX)
		return -E2BIG;
	copy = strndup(s, len);
	if (!copy || strv_consume(&o->names, copy) < 0)
		return -ENOMEM;
	o->n++;
	return 0;
}

void vi_options_free(struct vi_options *o)
{
	if (!o)
		return;
	strv_free(o->names);
	free(o);
}

unsigned vi_options_count(const struct vi_options *o)
{
	return o->n;
}

const char *vi_options_name(const struct vi_options *o, unsigned i)
{
	return i < o->n ? o->names[i] : NULL;
}

bool vi_options_has(const struct vi_options *o, const char *name)
{
	return has_n(o, name, strlen(name));
}

/* ---- the help text ---- */

/*
 * The option strings of one entry's option list, s[0..len): argparse
 * writes them joined with ", ", each long one as "--name", "--name METAVAR"
 * or "--name [METAVAR]" ("-x X" for short ones, skipped). *more: the list
 * ends with ',', so it goes on on the next line.
 */
static int take_list(struct vi_options *o, const char *s, size_t len, bool *more)
{
	size_t end = len;

	while (end > 0 && s[end - 1] == ' ')
		end--;
	*more = end > 0 && s[end - 1] == ',';
	for (size_t i = 0; i < end;) {
		size_t piece = i, stop, j;
		int r;

		while (piece < end && s[piece] != ',')
			piece++;
		j = i;
		while (j < piece && s[j] == ' ')
			j++;
		if (piece - j > 2 && s[j] == '-' && s[j + 1] == '-') {
			j += 2;
			stop = j;
			while (stop < piece && name_char(s[stop]))
				stop++;
			/* the name ends the piece or is followed by its metavar */
			if (stop == piece || s[stop] == ' ' || s[stop] == '=' || s[stop] == '[') {
				r = add_name(o, s + j, stop - j);
				if (r < 0)
					return r;
			}
		}
		i = piece + 1;
	}
	return 0;
}

/* Length of the option list at the start of s (a line without its
 * indentation, len bytes): argparse puts two or more spaces between the
 * option strings and the help text on the same line. */
static size_t list_length(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == ' ' && s[i + 1] == ' ')
			return i;
	return len;
}

/*
 * argparse's help, by its layout:
 *
 *   usage: virt-install --name NAME ...          <- column 0: skipped
 *                                                    (continuations too)
 *   General Options:                              <- section: column 0, ends with ':'
 *     -n NAME, --name NAME  Name of the guest     <- entry: first non-blank '-', at
 *                                                    the section's entry indent
 *     --memory MEMORY       Configure ... Ex:
 *                           --memory 1024         <- help text: indented to the help
 *                                                    column, deeper than entries
 *     --os-variant OS_VARIANT, --osinfo OS_VARIANT
 *                           The OS being ...      <- a long list alone on its line
 *
 * Only option lists are read: a "--word" in the help prose (the examples
 * above, "booted from --location") is at the help column, never at the
 * entry indent, or after two spaces on an entry's line. The entry indent is
 * that of the section's first line starting with '-' (argparse indents every
 * entry of a section alike, the help column always deeper). A list ending
 * with ',' goes on on the next, deeper line (argparse does not wrap lists,
 * other formatters may). The one layout this cannot tell from an entry is a
 * group description line starting with '-' (virt-install has none).
 */
int vi_options_parse(const char *help, struct vi_options **out)
{
	struct vi_options *o = calloc(1, sizeof(*o));
	bool in_section = false, more = false;
	size_t entry_indent = SIZE_MAX;
	int r = 0;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	for (const char *p = help; *p && r == 0;) {
		size_t len = strcspn(p, "\n"), indent = 0, rest;
		const char *line = p;

		p += len;
		if (*p)
			p++;
		while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
			len--;
		while (indent < len && line[indent] == ' ')
			indent++;
		if (indent == len) {
			more = false;
			continue;
		}
		if (indent == 0) {
			in_section = line[len - 1] == ':' && strncmp(line, "usage:", 6) != 0;
			entry_indent = SIZE_MAX;
			more = false;
			continue;
		}
		if (!in_section)
			continue;
		rest = len - indent;
		if (more && indent > entry_indent) {
			r = take_list(o, line + indent, list_length(line + indent, rest), &more);
			continue;
		}
		more = false;
		if (line[indent] != '-')
			continue;
		if (entry_indent == SIZE_MAX)
			entry_indent = indent;
		if (indent != entry_indent)
			continue;
		r = take_list(o, line + indent, list_length(line + indent, rest), &more);
	}
	if (r == 0 && o->n == 0)
		r = -ENODATA;
	if (r < 0) {
		vi_options_free(o);
		return r;
	}
	*out = o;
	return 0;
}

/* ---- the cache ---- */

static const char *cache_dir(void)
{
	const char *d = getenv("QVM_CACHE_DIR");

	return d && *d ? d : CACHE_DEFAULT_DIR;
}

/* What the cached names depend on: the program file, by path and by the
 * identity and times of its inode (a package upgrade replaces the file: a
 * new inode, new times). *key is NULL, with 0 returned, for a path that
 * cannot be one line of the cache (no caching then). */
static int cache_key(const char *exe, const struct stat *st, char **key)
{
	*key = NULL;
	if (strpbrk(exe, "\n\r"))
		return 0;
	if (asprintf(key, "dev=%ju ino=%ju size=%jd mtime=%jd.%09ld ctime=%jd.%09ld path=%s",
		     (uintmax_t)st->st_dev, (uintmax_t)st->st_ino, (intmax_t)st->st_size,
		     (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		     (intmax_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec, exe) < 0) {
		*key = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The next line of buf at *pos (without its '\n'); NULL at the end. The
 * buffer is known to end with '\n'. */
static const char *next_line(char *buf, size_t len, size_t *pos)
{
	char *line, *nl;

	if (*pos >= len)
		return NULL;
	line = buf + *pos;
	nl = memchr(line, '\n', len - *pos);
	*nl = '\0';
	*pos = (size_t)(nl - buf) + 1;
	return line;
}

/*
 * Reads the cache: "qvm virt-install options 1", the key, one name a line,
 * "end", nothing after. Believed only when it is a regular file of at most
 * CACHE_MAX bytes, owned by root or by us and writable by no one else, with
 * every name valid and at most VI_OPTIONS_MAX of them. Returns 0 with *out
 * set, -ESTALE for another key, or another -errno for a missing, foreign
 * or damaged file: all mean "run virt-install --help".
 */
static int cache_read(const char *file, const char *key, struct vi_options **out)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct vi_options *o = NULL;
	const char *line;
	struct stat st;
	size_t len = 0, pos = 0;
	bool ended = false;
	int r = 0;

	*out = NULL;
	/* O_NONBLOCK: a FIFO in its place must not hang qvm */
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CACHE_MAX)
		return -EBADMSG;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022))
		return -EPERM;
	buf = malloc(CACHE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	while (len <= CACHE_MAX) {
		ssize_t n = read(fd, buf + len, CACHE_MAX + 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == 0 || len > CACHE_MAX || buf[len - 1] != '\n' || memchr(buf, '\0', len))
		return -EBADMSG;
	buf[len] = '\0';

	line = next_line(buf, len, &pos);
	if (strcmp(line, CACHE_MAGIC) != 0)
		return -EBADMSG;
	line = next_line(buf, len, &pos);
	if (!line)
		return -EBADMSG;
	if (strcmp(line, key) != 0)
		return -ESTALE;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	while ((line = next_line(buf, len, &pos)) && r == 0) {
		size_t n = strlen(line);

		if (ended) {
			r = -EBADMSG;                 /* text after "end" */
		} else if (strcmp(line, CACHE_END) == 0) {
			ended = true;
		} else if (!name_valid(line, n) || has_n(o, line, n)) {
			r = -EBADMSG;
		} else {
			r = add_name(o, line, n);
			if (r == -E2BIG)
				r = -EBADMSG;
		}
	}
	if (r == 0 && (!ended || o->n == 0))
		r = -EBADMSG;
	if (r < 0) {
		vi_options_free(o);
		return r;
	}
	*out = o;
	return 0;
}

/* Replaces the cache file with o under key: a new file in the same
 * directory, renamed over the old one, so a reader sees the old file or
 * the new one, whole. Returns 0 or -errno (the caller goes on without). */
static int cache_write(const char *dir, const char *file, const char *key,
		       const struct vi_options *o)
{
	_cleanup_free_ char *text = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t size = 0;
	FILE *f;
	int r;

	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "%s\n%s\n", CACHE_MAGIC, key);
	for (unsigned i = 0; i < o->n; i++)
		fprintf(f, "%s\n", o->names[i]);
	fputs(CACHE_END "\n", f);
	if (fclose(f) != 0)
		return -ENOMEM;

	for (unsigned attempt = 0; fd < 0; attempt++) {
		struct timespec ts;

		free(tmp);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (asprintf(&tmp, "%s/.%s.%ld.%lx", dir, CACHE_FILE, (long)getpid(),
			     (unsigned long)ts.tv_nsec ^ attempt) < 0) {
			tmp = NULL;
			return -ENOMEM;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && (errno != EEXIST || attempt >= 16))
			return -errno;
	}
	r = write_full(fd, text, size);
	if (r == 0 && close(TAKE_FD(fd)) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, file) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

int vi_options_load(struct vi_options **out, char **err)
{
	_cleanup_free_ char *exe = NULL, *key = NULL, *file = NULL, *key2 = NULL;
	struct vi_options *o = NULL;
	struct spawn_result res;
	const char *dir = cache_dir();
	struct stat st;
	int r;

	*out = NULL;
	*err = NULL;
	r = program_find("virt-install", &exe);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return report_error(err, r, "cannot run virt-install --help: %s",
				    r == -ENOENT ? "virt-install not found on PATH" : strerror(-r));
	if (stat(exe, &st) < 0) {
		r = -errno;
		return report_error(err, r, "cannot run virt-install --help: %s", strerror(-r));
	}
	r = cache_key(exe, &st, &key);
	if (r < 0)
		return r;
	if (asprintf(&file, "%s/%s", dir, CACHE_FILE) < 0) {
		file = NULL;
		return -ENOMEM;
	}
	if (key && !strchr(exe, '=')) {
		r = cache_read(file, key, &o);
		if (r == 0) {
			*out = o;
			return 0;
		}
		if (r == -ENOMEM)
			return r;
	}

	/* The help text in English (SPAWN_C_LOCALE: LANGUAGE too, which
	 * Python's gettext reads before LC_ALL) at a fixed width ($COLUMNS
	 * sets argparse's), of the very file whose identity is the key: its
	 * absolute path, not a second lookup over $PATH. Except that env
	 * would take a path holding '=' for one more NAME=VALUE: then env
	 * looks "virt-install" up over the same $PATH, and what it finds is
	 * not cached. */
	bool by_name = strchr(exe, '=') != NULL;
	char *argv[] = { (char *)"env", (char *)"COLUMNS=80", by_name ? (char *)"virt-install" : exe,
			 (char *)"--help", NULL };
	_cleanup_free_ char *why = NULL;
	if (by_name) {
		free(key);
		key = NULL;
	}
	r = spawn_check(argv, SPAWN_CAPTURE_STDOUT | SPAWN_CAPTURE_STDERR | SPAWN_C_LOCALE, &res, &why);
	if (r < 0) {
		/* env started it, and it exited 127 without a word: not
		 * "cannot run env" */
		bool silent_127 = r == -ENOENT && res.status == 127;
		spawn_result_clear(&res);
		return r == -ENOMEM ? r : report_error(err, r, "cannot run virt-install --help: %s",
						      silent_127 ? "exit status 127" : why);
	}
	r = vi_options_parse(res.out ? res.out : "", &o);
	spawn_result_clear(&res);
	if (r == -ENOMEM)
		return r;
	if (r == -E2BIG)
		return report_error(err, -EPROTO, "virt-install --help listed more than %u options",
				    VI_OPTIONS_MAX);
	if (r < 0)
		return report_error(err, -EPROTO, "virt-install --help listed no options");

	/* cached only if the program did not change while it ran (the names
	 * are then those of the file the key describes) */
	if (key && stat(exe, &st) == 0 && cache_key(exe, &st, &key2) == 0 && key2 &&
	    strcmp(key, key2) == 0)
		(void)cache_write(dir, file, key, o);
	*out = o;
	return 0;
}

/* ---- checking a vm document ---- */

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent
 * transpositions, no substring edited twice). Both at most SUGGEST_MAX_LEN
 * (or VI_OPTION_NAME_MAX) bytes. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t rows[3][SUGGEST_MAX_LEN + 2];
	size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < d)
				d = pp[j - 2] + 1;
			cur[j] = d;
		}
		size_t *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/* The listed option closest to key, if close enough to be what was meant:
 * at most max(2, len/3) edits, and fewer than the key has characters (two
 * edits make "xy" anything of two letters). The first listed wins a tie. */
static const char *closest(const struct vi_options *o, const char *key, size_t len)
{
	size_t best = SIZE_MAX, limit = len / 3 > 2 ? len / 3 : 2;
	const char *found = NULL;

	if (len > SUGGEST_MAX_LEN)
		return NULL;
	for (unsigned i = 0; i < o->n; i++) {
		size_t d = edit_distance(key, len, o->names[i], strlen(o->names[i]));
		if (d < best) {
			best = d;
			found = o->names[i];
		}
	}
	return best <= limit && best < len ? found : NULL;
}

/* The message for a key that is not an option, without its position. */
static char *key_message(const struct vi_options *o, const struct ynode *k)
{
	_cleanup_free_ char *buf = NULL;
	const char *near;
	size_t size = 0, nprefix = 0;
	char t[96];
	FILE *f;

	f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	msg_text(t, sizeof(t), k->value, k->len);
	fprintf(f, "'%s' is not a virt-install option", t);
	/* what argparse's prefix matching would make of "--KEY" */
	if (k->len > 0 && strlen(k->value) == k->len)
		for (unsigned i = 0; i < o->n; i++)
			if (strncmp(o->names[i], k->value, k->len) == 0)
				nprefix++;
	if (nprefix > 0) {
		fputs(nprefix == 1 ? ": virt-install would read it as " :
		      ": virt-install would read it as one of ", f);
		for (unsigned i = 0, m = 0; i < o->n; i++)
			if (strncmp(o->names[i], k->value, k->len) == 0)
				fprintf(f, "%s--%s", m++ ? ", " : "", o->names[i]);
		fputs("; spell it in full", f);
	} else if ((near = closest(o, k->value, k->len))) {
		fprintf(f, " (did you mean '%s'?)", near);
	}
	if (fclose(f) != 0)
		return NULL;
	return TAKE_PTR(buf);
}

int vi_options_add(struct vi_options *o, const char *name)
{
	return add_name(o, name, strlen(name));
}

int vi_options_check_vm(const struct vi_options *o, const struct ynode *vm, char ***errors)
{
	bool added = false;

	if (!vm || vm->kind != YNODE_MAPPING)
		return 0;
	for (size_t i = 0; i < vm->n; i++) {
		const struct ynode *k = vm->keys[i];
		_cleanup_free_ char *msg = NULL;

		if (k->kind != YNODE_SCALAR)
			continue;
		if (strlen(k->value) == k->len && vi_options_has(o, k->value))
			continue;
		msg = key_message(o, k);
		if (!msg || strv_pushf(errors, "%u:%u: %s", k->line, k->col, msg) < 0)
			return -ENOMEM;
		added = true;
	}
	return added ? -EINVAL : 0;
}
