/* SPDX-License-Identifier: MIT */
/* The vm document -> virt-install argv (SPEC §3.1).
 *
 * Sub-option values: virt-install (virtinst/cli.py, parse_optstr_tuples)
 * splits "k1=v1,k2=v2" with Python's shlex in POSIX mode, whitespace set to
 * ",": a value holding ',' or a quote or a backslash would be cut or
 * changed. Such a value is wrapped in double quotes, with '"' and '\' escaped
 * by a backslash - the only escapes shlex honours inside double quotes - so
 * virt-install reads back exactly the text of the YAML value. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "msgtext.h"
#include "strv.h"
#include "virtargs.h"
#include "banned.h"

struct render {
	char **argv;                 /* NULL while only checking */
	bool build;
	char **errors;               /* "L:C: text" */
	const struct ynode *const *zdisks;  /* the zvol disks' mappings, boot disk first */
	char *const *zpaths;         /* "path=..." for each */
	size_t nz;
	int r;                       /* -ENOMEM sticks */
};

static void add_error(struct render *R, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_error(struct render *R, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = yerror_vformat(NULL, at->line, at->col, fmt, ap);
	va_end(ap);
	if (strv_consume(&R->errors, msg) < 0)
		R->r = -ENOMEM;
}

static void add_arg(struct render *R, const char *s)
{
	if (R->build && R->r == 0 && strv_push(&R->argv, s) < 0)
		R->r = -ENOMEM;
}

static void add_argf(struct render *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_argf(struct render *R, const char *fmt, ...)
{
	char *s;
	va_list ap;

	if (!R->build || R->r < 0)
		return;
	va_start(ap, fmt);
	s = vstrdupf(fmt, ap);
	va_end(ap);
	if (strv_consume(&R->argv, s) < 0)
		R->r = -ENOMEM;
}

/* Appends a sub-option value to f, quoted for virt-install when needed. */
static void put_subvalue(FILE *f, const char *v, size_t len)
{
	if (strcspn(v, ",\"'\\") >= len) {
		fwrite(v, 1, len, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '"' || v[i] == '\\')
			fputc('\\', f);
		fputc(v[i], f);
	}
	fputc('"', f);
}

/* Option names as virt-install spells them: --os-variant, --cloud-init. */
static bool option_name_valid(const struct ynode *k)
{
	if (k->len == 0 || strlen(k->value) != k->len)
		return false;
	for (size_t i = 0; i < k->len; i++) {
		char c = k->value[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '-' && c != '_')))
			return false;
	}
	return true;
}

/* Sub-option names: anything that cannot break "k=v,k=v" apart. */
static bool suboption_name_valid(const struct ynode *k)
{
	if (k->len == 0 || strlen(k->value) != k->len || k->value[0] == '-')
		return false;
	for (size_t i = 0; i < k->len; i++) {
		unsigned char c = (unsigned char)k->value[i];
		if (c <= ' ' || c == 0x7f || strchr("=,\"'\\", c))
			return false;
	}
	return true;
}

static bool has_nul(const struct ynode *n)
{
	return strlen(n->value) != n->len;
}

/* "disk.driver.cache=none,..." pairs of a mapping into f. */
static void flatten(struct render *R, FILE *f, bool *first, const char *prefix, const char *path,
		    const struct ynode *map)
{
	for (size_t i = 0; i < map->n && R->r == 0; i++) {
		const struct ynode *k = map->keys[i], *v = map->items[i];
		_cleanup_free_ char *kpath = NULL, *kprefix = NULL;
		char t[96];

		if (k->kind != YNODE_SCALAR) {
			add_error(R, k, "sub-option name in '%s' is not a scalar", path);
			continue;
		}
		msg_text(t, sizeof(t), k->value, k->len);
		if (!suboption_name_valid(k)) {
			add_error(R, k, "invalid sub-option name '%s' in '%s'", t, path);
			continue;
		}
		if (asprintf(&kpath, "%s.%s", path, k->value) < 0 ||
		    asprintf(&kprefix, "%s%s%s", prefix, *prefix ? "." : "", k->value) < 0) {
			kpath = kprefix = NULL;
			R->r = -ENOMEM;
			return;
		}
		if (v->kind == YNODE_SEQUENCE) {
			add_error(R, v, "'%s' is a sequence; sequences are not allowed inside a mapping",
				  kpath);
			continue;
		}
		if (v->kind == YNODE_MAPPING) {
			if (v->n == 0)
				add_error(R, v, "'%s' is an empty mapping", kpath);
			else
				flatten(R, f, first, kprefix, kpath, v);
			continue;
		}
		if (yscalar_is_null(v)) {
			add_error(R, v, "'%s' has no value; empty values are not allowed inside a mapping",
				  kpath);
			continue;
		}
		if (has_nul(v)) {
			add_error(R, v, "value of '%s' contains a NUL character", kpath);
			continue;
		}
		if (!*first)
			fputc(',', f);
		*first = false;
		fputs(kprefix, f);
		fputc('=', f);
		put_subvalue(f, v->value, v->len);
	}
}

static void render_mapping(struct render *R, const char *opt, const struct ynode *v)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	bool first = true;
	FILE *f;

	const char *zpath = NULL;

	for (size_t i = 0; i < R->nz; i++)
		if (v == R->zdisks[i])
			zpath = R->zpaths[i];
	if (v->n == 0 && !zpath) {
		add_error(R, v, "'%s' is an empty mapping", opt);
		return;
	}
	f = open_memstream(&buf, &size);
	if (!f) {
		R->r = -ENOMEM;
		return;
	}
	if (zpath) {
		fputs(zpath, f);
		first = false;
	}
	flatten(R, f, &first, "", opt, v);
	if (fclose(f) != 0) {
		R->r = -ENOMEM;
		return;
	}
	add_argf(R, "--%s", opt);
	add_arg(R, buf);
}

/* virt-install's options that take no value (argparse store_true and
 * store_const, virt-install 4.x): "import: 'true'" would pass "--import
 * true", and argparse would call "true" an unrecognized argument. */
static bool option_is_flag(const char *opt)
{
	static const char *const flags[] = {
		"import", "pxe", "livecd", "nodisks", "nonetworks", "vnc", "sdl", "nographics", "accelerate",
		"noapic", "noacpi", "autostart", "transient", "destroy-on-exit", "prompt", "force", "noreboot",
		"replace", "dry-run", "quiet", "debug", "check-cpu", "noautoconsole", "hvm", "paravirt",
		"container", "reinstall", NULL,
	};

	for (size_t i = 0; flags[i]; i++)
		if (strcmp(flags[i], opt) == 0)
			return true;
	return false;
}

/* A top-level value or one item of a top-level sequence. */
static void render_value(struct render *R, const char *opt, const struct ynode *v)
{
	if (v->kind == YNODE_MAPPING) {
		render_mapping(R, opt, v);
		return;
	}
	if (option_is_flag(opt) && !yscalar_is_true(v) && !yscalar_is_false(v) && !yscalar_is_null(v)) {
		add_error(R, v, "'%s' is a flag: write true or false without quotes", opt);
		return;
	}
	/* the name is a name, whatever it looks like: "off" as a boolean would
	 * drop --name, and virt-install would name the VM itself */
	bool is_name = strcmp(opt, "name") == 0;
	if (yscalar_is_false(v) && !is_name)
		return;
	if ((yscalar_is_true(v) || yscalar_is_null(v)) && !is_name) {
		add_argf(R, "--%s", opt);
		return;
	}
	if (has_nul(v)) {
		add_error(R, v, "value of '%s' contains a NUL character", opt);
		return;
	}
	/* argparse would take "-x" for an option: glue it to its option */
	if (v->value[0] == '-') {
		add_argf(R, "--%s=%s", opt, v->value);
		return;
	}
	add_argf(R, "--%s", opt);
	add_arg(R, v->value);
}

static void render_vm(struct render *R, const struct ynode *vm)
{
	for (size_t i = 0; i < vm->n && R->r == 0; i++) {
		const struct ynode *k = vm->keys[i], *v = vm->items[i];
		char t[96];

		if (k->kind != YNODE_SCALAR) {
			add_error(R, k, "option name is not a scalar");
			continue;
		}
		if (!option_name_valid(k)) {
			msg_text(t, sizeof(t), k->value, k->len);
			add_error(R, k, "invalid option name '%s'", t);
			continue;
		}
		if (v->kind != YNODE_SEQUENCE) {
			render_value(R, k->value, v);
			continue;
		}
		for (size_t j = 0; j < v->n && R->r == 0; j++) {
			if (v->items[j]->kind == YNODE_SEQUENCE)
				add_error(R, v->items[j], "'%s' has a sequence inside a sequence", k->value);
			else
				render_value(R, k->value, v->items[j]);
		}
	}
}

static char *subopt_path(const char *dir, const char *name, const char *extra)
{
	_cleanup_free_ char *path = NULL;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	if (name) {
		if (asprintf(&path, "%s/%s", dir, name) < 0)
			return NULL;
	} else if (!(path = strdup(dir))) {
		return NULL;
	}
	f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	fputs("path=", f);
	put_subvalue(f, path, strlen(path));
	if (extra)
		fputs(extra, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* virt-install's build_installer (virtinstall.py, 4.x): --install,
 * --location, --cdrom and --pxe each give the VM an install phase, and
 * --import says there is none. The other options it reads there (--boot,
 * --cloud-init, --unattended) lead to the same "no install" as --import,
 * so an --import qvm adds beside them changes nothing. */
bool virt_args_has_install(const struct ynode *vm)
{
	static const char *const keys[] = { "import", "install", "location", "cdrom", "pxe", NULL };

	for (size_t i = 0; keys[i]; i++)
		if (ymap_index(vm, keys[i]) >= 0)
			return true;
	return false;
}

bool virt_args_has_osinfo(const struct ynode *vm)
{
	return ymap_index(vm, "osinfo") >= 0 || ymap_index(vm, "os-variant") >= 0;
}

int virt_args_check(const struct ynode *vm, const struct ynode *const *zvol_disks, size_t n,
		    char ***errors)
{
	_cleanup_strv_free_ char **paths = NULL;
	struct render R = { .zdisks = zvol_disks, .nz = n };

	for (size_t i = 0; i < n; i++)
		if (strv_push(&paths, "path=/dev/zvol/x") < 0)
			return -ENOMEM;
	R.zpaths = paths;

	render_vm(&R, vm);
	if (R.r < 0) {
		strv_free(R.errors);
		return R.r;
	}
	if (!R.errors)
		return 0;
	if (strv_extend(errors, R.errors) < 0) {
		strv_free(R.errors);
		return -ENOMEM;
	}
	strv_free(R.errors);
	return -EINVAL;
}

int virt_install_argv(const struct qvm_file *f, const char *zvol_dir, const char *seed_path,
		      const struct vi_run *run, char ***argv, char **err)
{
	_cleanup_strv_free_ char **paths = NULL;

	*argv = NULL;
	if (err)
		*err = NULL;
	if (strv_pushf(&paths, "%s/%s", zvol_dir, f->clone) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < f->n_extra_disks; i++)
		if (strv_pushf(&paths, "%s/%s", zvol_dir, f->extra_disks[i].dataset) < 0)
			return -ENOMEM;
	return virt_install_argv_paths(f, paths, seed_path, run, argv, err);
}

int virt_install_argv_paths(const struct qvm_file *f, char *const *disk_paths, const char *seed_path,
			    const struct vi_run *run, char ***argv, char **err)
{
	_cleanup_free_ char *seed = NULL;
	_cleanup_free_ const struct ynode **maps = calloc(f->n_extra_disks + 1, sizeof(*maps));
	_cleanup_strv_free_ char **paths = NULL;
	struct render R = { .build = true };

	*argv = NULL;
	if (err)
		*err = NULL;
	if (!maps)
		return -ENOMEM;
	maps[0] = f->boot_disk;
	for (size_t i = 0; i < f->n_extra_disks; i++)
		maps[i + 1] = f->extra_disks[i].map;
	for (size_t i = 0; i <= f->n_extra_disks; i++) {
		char *p = subopt_path(disk_paths[i], NULL, NULL);
		if (!p || strv_consume(&paths, p) < 0)
			return -ENOMEM;
	}
	seed = subopt_path(seed_path, NULL, ",device=cdrom");
	if (!seed)
		return -ENOMEM;
	R.zdisks = maps;
	R.zpaths = paths;
	R.nz = f->n_extra_disks + 1;
	add_arg(&R, "virt-install");
	render_vm(&R, f->vm);
	/* a cloud image boots from its disk: no install phase (what --import
	 * says) unless the file names an install source */
	if (!virt_args_has_install(f->vm))
		add_arg(&R, "--import");
	if (run->osinfo && !virt_args_has_osinfo(f->vm)) {
		add_arg(&R, "--osinfo");
		add_arg(&R, run->osinfo);
	}
	/* the URI qvm itself talks to, and the UUID it knows the domain by */
	if (run->connect && !ymap_get(f->vm, "connect")) {
		add_arg(&R, "--connect");
		add_arg(&R, run->connect);
	}
	if (run->uuid && !ymap_get(f->vm, "uuid")) {
		add_arg(&R, "--uuid");
		add_arg(&R, run->uuid);
	}
	add_arg(&R, "--noautoconsole");
	add_arg(&R, "--disk");
	add_arg(&R, seed);
	/* a console libvirt (virtlogd) also writes to a file: virsh console
	 * keeps working, and qvm vm --wait reads cloud-init's progress */
	if (run->console_log) {
		_cleanup_free_ char *serial = subopt_path(run->console_log, NULL, NULL);
		add_arg(&R, "--serial");
		if (!serial)
			R.r = -ENOMEM;
		else
			add_argf(&R, "pty,log.file=%s", serial + strlen("path="));
	}
	/* the XML only, nothing made (storage included); --debug brings back
	 * the warnings --print-xml silences (see virtlog.h) */
	if (run->print_xml) {
		add_arg(&R, "--print-xml");
		add_arg(&R, "--dry-run");
		add_arg(&R, "--debug");
	}
	if (R.r == 0 && R.errors) {
		R.r = -EINVAL;
		if (err && !(*err = strdup(R.errors[0])))
			R.r = -ENOMEM;
	}
	strv_free(R.errors);
	if (R.r < 0) {
		strv_free(R.argv);
		return R.r;
	}
	*argv = R.argv;
	return 0;
}

/* One sub-option of a console's "k=v,..." text: its value, or NULL. A
 * text with quotes or backslashes is not read (virt-install's shlex
 * would): *quoted is set instead. */
static char *subopt_value(const char *text, const char *key, bool *quoted)
{
	size_t klen = strlen(key);

	if (strpbrk(text, "\"'\\")) {
		*quoted = true;
		return NULL;
	}
	for (const char *s = text; *s;) {
		size_t n = strcspn(s, ",");
		if (n > klen && strncmp(s, key, klen) == 0 && s[klen] == '=')
			return strndup(s + klen + 1, n - klen - 1);
		s += n + (s[n] == ',');
	}
	return NULL;
}

/* A scalar of the mapping m at key ("log.file" also as log: {file:}). */
static const char *map_scalar(const struct ynode *m, const char *key, const char *sub)
{
	const struct ynode *v = ymap_get(m, key);

	if (!v && sub) {
		const struct ynode *outer = ymap_get(m, sub);
		v = outer && outer->kind == YNODE_MAPPING ? ymap_get(outer, key + strlen(sub) + 1) : NULL;
	}
	return v && v->kind == YNODE_SCALAR && strlen(v->value) == v->len ? v->value : NULL;
}

int virt_args_console(const struct ynode *vm, char **path, const char **why)
{
	const struct ynode *c = ymap_get(vm, "serial");
	_cleanup_free_ char *type = NULL, *file = NULL, *log = NULL;
	bool quoted = false;

	*path = NULL;
	*why = NULL;
	if (!c)
		c = ymap_get(vm, "console");
	if (!c)
		return 0;
	if (c->kind == YNODE_SEQUENCE)
		c = c->n ? c->items[0] : NULL;
	if (c && c->kind == YNODE_MAPPING) {
		const char *t = map_scalar(c, "type", NULL), *p = map_scalar(c, "path", NULL);
		const char *l = map_scalar(c, "log.file", "log");
		if (!p)
			p = map_scalar(c, "source.path", "source");
		if ((t && !(type = strdup(t))) || (p && !(file = strdup(p))) || (l && !(log = strdup(l))))
			return -ENOMEM;
	} else if (c && c->kind == YNODE_SCALAR && strlen(c->value) == c->len && !yscalar_is_null(c)) {
		const char *v = c->value;
		size_t n = strcspn(v, ",");
		/* "file,path=X": the type first, or as type=file */
		type = memchr(v, '=', n) ? subopt_value(v, "type", &quoted) : strndup(v, n);
		file = subopt_value(v, "path", &quoted);
		if (!file)
			file = subopt_value(v, "source.path", &quoted);
		log = subopt_value(v, "log.file", &quoted);
		if (!type && !memchr(v, '=', n))
			return -ENOMEM;
	}
	if (quoted) {
		*why = "its serial console's options are quoted";
		return 2;
	}
	if (log || (type && strcmp(type, "file") == 0 && file)) {
		const char *p = log ? log : file;
		if (p[0] != '/') {
			*why = "its serial console's file is not an absolute path";
			return 2;
		}
		/* virt-install 4.1 escapes these twice in the XML: libvirt
		 * would write to a file of another name */
		if (strpbrk(p, "&<>'\"")) {
			*why = "its serial console's file name holds & < > ' or \" (which virt-install escapes twice)";
			return 2;
		}
		*path = strdup(p);
		return *path ? 1 : -ENOMEM;
	}
	*why = "its serial console writes to no file";
	return 2;
}
