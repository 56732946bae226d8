/* SPDX-License-Identifier: MIT */
/* The qvm file: split into its documents and checked (SPEC §3, §3.4 step 1). */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "msgtext.h"
#include "names.h"
#include "qvmfile.h"
#include "hosts.h"
#include "signals.h"
#include "size.h"
#include "strv.h"
#include "template.h"
#include "virtargs.h"
#include "banned.h"

/* Room for a dataset name (255) in a message. */
#define MSG_TEXT 300

#define OPTIONAL_DOCS "; optional: network-config, vendor-data"

struct check {
	struct qvm_file *f;
	const struct qvm_template *t;    /* --set nodes are named by their argument */
	char **errors;
	int r;                       /* -ENOMEM sticks */
};

static void err_at(struct check *c, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void err_at(struct check *c, unsigned line, unsigned col, const char *fmt, ...)
{
	char label[300];
	const char *where = NULL;
	va_list ap;
	char *msg;

	/* a node a --set made: name the argument, not a line of the file */
	if (line == 0 && col > 0 && c->t)
		where = template_set_label(c->t, col, label, sizeof(label));
	va_start(ap, fmt);
	msg = yerror_vformat(where, line, col, fmt, ap);
	va_end(ap);
	if (strv_consume(&c->errors, msg) < 0)
		c->r = -ENOMEM;
}

#define err_node(c, n, ...) err_at((c), (n)->line, (n)->col, __VA_ARGS__)

void qvm_file_free(struct qvm_file *f)
{
	if (!f)
		return;
	ystream_free(f->stream);
	ynode_free(f->own_meta_data);
	free(f->own_first_user);
	free(f->base_snapshot);
	free(f->clone);
	free(f->host);
	strv_free(f->clone_props);
	for (size_t i = 0; i < f->n_extra_disks; i++) {
		free(f->extra_disks[i].base_snapshot);
		free(f->extra_disks[i].dataset);
		free(f->extra_disks[i].volsize);
		strv_free(f->extra_disks[i].props);
	}
	free(f->extra_disks);
	free(f);
}

/* The scalar's text for a message. */
static const char *text(char buf[static MSG_TEXT], const struct ynode *n)
{
	msg_text(buf, MSG_TEXT, n->value, n->len);
	return buf;
}

static bool scalar_has_nul(const struct ynode *n)
{
	return strlen(n->value) != n->len;
}

/* ---- documents ---- */

/* The documents whose text qvm never prints: cloud-init reads passwords,
 * keys and tokens from them. */
static const char *const secret_docs[] = { "user-data", "userdata", "vendor-data", "network-config", NULL };
const struct yparse_secrecy qvm_file_secrecy = { .label_key = "qvm", .secret_labels = secret_docs };

enum doc_type { DOC_VM, DOC_USER_DATA, DOC_META_DATA, DOC_NETWORK_CONFIG, DOC_VENDOR_DATA,
	N_DOC_TYPES };
/* vm and user-data are required; a file without meta-data gets an empty
 * one (cloudinit_meta_data fills in instance-id and local-hostname) */

static const char *const doc_names[N_DOC_TYPES] = { "vm", "user-data", "meta-data",
						    "network-config", "vendor-data" };

static int doc_type(const struct ynode *v)
{
	static const struct { const char *name; enum doc_type type; } types[] = {
		{ "vm", DOC_VM },
		{ "user-data", DOC_USER_DATA }, { "userdata", DOC_USER_DATA },
		{ "meta-data", DOC_META_DATA }, { "metadata", DOC_META_DATA },
		{ "network-config", DOC_NETWORK_CONFIG }, { "vendor-data", DOC_VENDOR_DATA },
	};

	if (v->kind != YNODE_SCALAR)
		return -1;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (v->len == strlen(types[i].name) && strcmp(v->value, types[i].name) == 0)
			return (int)types[i].type;
	return -1;
}

static void split_documents(struct check *c)
{
	struct qvm_file *f = c->f;
	struct ynode *docs[N_DOC_TYPES] = { 0 };
	const struct ynode *first_key[N_DOC_TYPES] = { 0 };
	char t[MSG_TEXT];

	for (size_t i = 0; i < f->stream->n; i++) {
		struct ynode *root = f->stream->docs[i].root;
		const struct ynode *qk, *qv;
		long q;
		int type;

		if (!root)
			continue;        /* an empty document, e.g. a trailing "---" */
		if (root->kind != YNODE_MAPPING) {
			err_node(c, root, "document is not a mapping");
			continue;
		}
		q = ymap_index(root, "qvm");
		if (q < 0) {
			err_node(c, root, "document has no 'qvm' key (expected qvm: vm, user-data or meta-data%s)",
				 OPTIONAL_DOCS);
			continue;
		}
		qk = root->keys[q];
		qv = root->items[q];
		type = doc_type(qv);
		if (type < 0) {
			if (qv->kind == YNODE_SCALAR)
				err_node(c, qv, "unknown document type '%s' (expected qvm: vm, user-data or meta-data%s)",
					 text(t, qv), OPTIONAL_DOCS);
			else
				err_node(c, qv, "'qvm' is not a scalar (expected qvm: vm, user-data or meta-data%s)",
					 OPTIONAL_DOCS);
			continue;
		}
		if (docs[type]) {
			err_node(c, qk, "duplicate %s document (first at line %u)", doc_names[type],
				 first_key[type]->line);
			continue;
		}
		docs[type] = root;
		first_key[type] = qk;
	}
	if (!docs[DOC_VM])
		err_at(c, 1, 1, "missing vm document");
	if (!docs[DOC_USER_DATA])
		err_at(c, 1, 1, "missing user-data document (an empty one is enough: a document holding "
		       "only 'qvm: user-data')");
	if (!docs[DOC_META_DATA]) {
		f->own_meta_data = calloc(1, sizeof(*f->own_meta_data));
		if (!f->own_meta_data) {
			c->r = -ENOMEM;
			return;
		}
		f->own_meta_data->kind = YNODE_MAPPING;
		docs[DOC_META_DATA] = f->own_meta_data;
	}
	for (int i = 0; i < N_DOC_TYPES; i++)
		ymap_remove(docs[i], "qvm");
	f->vm = docs[DOC_VM];
	f->user_data = docs[DOC_USER_DATA];
	f->meta_data = docs[DOC_META_DATA];
	f->network_config = docs[DOC_NETWORK_CONFIG];
	f->vendor_data = docs[DOC_VENDOR_DATA];
}

/* ---- the vm document ---- */

static void check_name(struct check *c, const struct ynode *vm)
{
	const struct ynode *v = ymap_get(vm, "name");
	const char *why = NULL;
	char t[MSG_TEXT];

	if (ymap_index(vm, "name") < 0) {
		err_node(c, vm, "vm document has no 'name'");
		return;
	}
	if (v->kind != YNODE_SCALAR) {
		err_node(c, v, "'name' is not a scalar");
		return;
	}
	/* a NUL is reported by the render check, for every value alike */
	if (scalar_has_nul(v))
		return;
	if (!vm_name_valid(v->value, &why)) {
		err_node(c, v, "invalid VM name '%s': %s", text(t, v), why);
		return;
	}
	c->f->name = v->value;
}

static void check_refused(struct check *c, const struct ynode *vm)
{
	static const struct { const char *key, *why; } refused[] = {
		{ "dry-run", "qvm runs virt-install --dry-run itself" },
		{ "print-xml", "qvm creates the VM itself" },
		{ "print-step", "qvm creates the VM itself" },
		/* virt-install would print and stop, and qvm call it a VM */
		{ "help", "virt-install would print its help and create nothing" },
		{ "version", "virt-install would print its version and create nothing" },
		{ "wait", "virt-install would wait until the guest shuts down; qvm vm --wait waits for its address" },
		{ "autoconsole", "qvm runs virt-install without a console" },
		{ "destroy-on-exit", "qvm attaches no console, so virt-install would stop the VM as soon as it started it" },
		{ "reinstall", "qvm makes new VMs; it does not reinstall existing ones" },
		{ "test-stub-command", "it is virt-install's test hook" },
		{ "test-media-detection", "it is virt-install's test hook" },
	};
	/* keys virt-install's parser would take in part ("conn", "nam",
	 * "dry-ru") are refused against its installed option list
	 * (vioptions.c), which the command checks */
	char t[MSG_TEXT];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		long k = ymap_index(vm, refused[i].key);
		if (k >= 0)
			err_node(c, vm->keys[k], "'%s' is not allowed in the vm document (%s)",
				 refused[i].key, refused[i].why);
	}
	for (size_t i = 0; i < vm->n; i++) {
		const struct ynode *k = vm->keys[i], *v = vm->items[i];
		if (k->kind != YNODE_SCALAR || k->len < 2)
			continue;
		/* "--osinfo list", "--disk help", "--network ?": virt-install
		 * prints what it knows and stops, having created nothing; each
		 * item of a sequence is an option of its own */
		size_t n = v->kind == YNODE_SEQUENCE ? v->n : 1;
		for (size_t j = 0; j < n; j++) {
			const struct ynode *o = v->kind == YNODE_SEQUENCE ? v->items[j] : v;
			if (o->kind == YNODE_SCALAR &&
			    (strcmp(o->value, "help") == 0 || strcmp(o->value, "?") == 0 ||
			     (strcmp(o->value, "list") == 0 && (strcmp(k->value, "osinfo") == 0 ||
								  strcmp(k->value, "os-variant") == 0))))
				err_node(c, o, "'%s: %s' would make virt-install print what it knows and create "
					 "nothing", text(t, k), o->value);
		}
	}
}

/* zfs property names: native ones are lower case and '_', user properties
 * add ':' '-' '.' and digits. */
static bool prop_name_valid(const struct ynode *k)
{
	if (k->kind != YNODE_SCALAR || k->len == 0 || scalar_has_nul(k) || k->value[0] == '-')
		return false;
	for (size_t i = 0; i < k->len; i++) {
		char ch = k->value[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == ':' || ch == '-'))
			return false;
	}
	return true;
}

/* The snapshot a disk's "base" names: "<base>@base" unless it names one. */
static char *base_snapshot_name(const char *base)
{
	char *snap;

	if (strchr(base, '@'))
		return strdup(base);
	return asprintf(&snap, "%s@base", base) < 0 ? NULL : snap;
}

const char *qvm_volsize_why(const char *s, uint64_t *bytes, char *buf, size_t size)
{
	const char *why = NULL;

	if (size_parse(s, bytes, &why) < 0) {
		/* zfs names the suffix: what follows the number strtod reads */
		char *end = (char *)s;
		if (strcmp(why, "invalid numeric suffix") != 0)
			return why;
		if (strchr(s, '.'))
			(void)strtod(s, &end);
		else
			end += strspn(s, "0123456789");
		snprintf(buf, size, "%s '%s'", why, end);
		return buf;
	}
	/* zfs's words, which it says only once it creates the volume */
	return *bytes ? NULL : "volume size cannot be zero";
}

/* A blank volume's volsize, checked here so that a bad one stops qvm
 * before any change. */
static void check_volsize(struct check *c, const struct ynode *v, uint64_t *bytes)
{
	char t[MSG_TEXT], buf[MSG_TEXT + 32];
	const char *why = qvm_volsize_why(v->value, bytes, buf, sizeof(buf));

	if (why) {
		*bytes = 0;
		err_node(c, v, "invalid volsize '%s': %s", text(t, v), why);
	}
}

/* The zfs properties of a zvol mapping into *props; *volsize: the bytes
 * of a blank volume's volsize, 0 when it has none or a bad one (reported). */
static void check_props(struct check *c, const struct ynode *zvol, char ***props, bool blank,
			uint64_t *volsize)
{
	char t[MSG_TEXT];

	*volsize = 0;

	for (size_t i = 0; i < zvol->n; i++) {
		const struct ynode *k = zvol->keys[i], *v = zvol->items[i];

		if (k->kind == YNODE_SCALAR && (strcmp(k->value, "base") == 0 || strcmp(k->value, "name") == 0))
			continue;
		if (!prop_name_valid(k)) {
			if (k->kind == YNODE_SCALAR)
				err_node(c, k, "invalid zfs property name '%s'", text(t, k));
			else
				err_node(c, k, "zfs property name is not a scalar");
			continue;
		}
		if (strncmp(k->value, "qvm:", 4) == 0) {
			err_node(c, k, "zfs property '%s' is reserved for qvm", k->value);
			continue;
		}
		if (v->kind != YNODE_SCALAR) {
			err_node(c, v, "zfs property '%s' is not a scalar", k->value);
			continue;
		}
		if (yscalar_is_null(v)) {
			err_node(c, v, "zfs property '%s' has no value", k->value);
			continue;
		}
		if (scalar_has_nul(v)) {
			err_node(c, v, "zfs property '%s' contains a NUL character", k->value);
			continue;
		}
		/* a new volume's size goes to zfs create -V */
		if (blank && strcmp(k->value, "volsize") == 0) {
			check_volsize(c, v, volsize);
			continue;
		}
		if (strv_pushf(props, "%s=%s", k->value, v->value) < 0)
			c->r = -ENOMEM;
	}
}

static void check_zvol(struct check *c, const struct ynode *zvol)
{
	struct qvm_file *f = c->f;
	const struct ynode *base, *zname;
	_cleanup_free_ char *dataset = NULL, *parent = NULL, *pool = NULL, *clone_pool = NULL;
	uint64_t volsize;
	const char *why;
	char t[MSG_TEXT];

	if (zvol->kind != YNODE_MAPPING) {
		err_node(c, zvol, "'zvol' is not a mapping");
		return;
	}
	base = ymap_get(zvol, "base");
	zname = ymap_get(zvol, "name");
	check_props(c, zvol, &f->clone_props, false, &volsize);

	if (ymap_index(zvol, "base") < 0) {
		err_node(c, zvol, "'zvol' has no 'base'");
	} else if (base->kind != YNODE_SCALAR) {
		err_node(c, base, "'base' is not a scalar");
	} else if (base->len == 0 || yscalar_is_null(base)) {
		err_node(c, base, "'base' is empty");
	} else if (scalar_has_nul(base)) {
		err_node(c, base, "invalid base dataset '%s': contains a NUL character", text(t, base));
	} else {
		_cleanup_free_ char *snap = base_snapshot_name(base->value);
		if (!snap) {
			c->r = -ENOMEM;
			return;
		}
		if (!dataset_name_valid(snap, true, &why)) {
			err_node(c, base, "invalid base dataset '%s': %s", text(t, base), why);
		} else {
			dataset = strndup(snap, strcspn(snap, "@"));
			if (!dataset) {
				c->r = -ENOMEM;
				return;
			}
			f->base_snapshot = TAKE_PTR(snap);
		}
	}

	if (ymap_index(zvol, "name") >= 0) {
		if (zname->kind != YNODE_SCALAR) {
			err_node(c, zname, "'name' in 'zvol' is not a scalar");
			return;
		}
		if (scalar_has_nul(zname) || !dataset_name_valid(zname->value, false, &why)) {
			if (scalar_has_nul(zname))
				why = "contains a NUL character";
			err_node(c, zname, "invalid clone name '%s': %s", text(t, zname), why);
			return;
		}
		if (!(f->clone = strdup(zname->value))) {
			c->r = -ENOMEM;
			return;
		}
	} else {
		/* the default needs a good base and a good VM name */
		if (!dataset || !f->name)
			return;
		parent = dataset_parent(dataset);
		if (!parent) {
			err_node(c, base, "base '%s' has no parent dataset to put the clone in "
				 "(give the clone a 'name' in 'zvol')", dataset);
			return;
		}
		if (asprintf(&f->clone, "%s/%s", parent, f->name) < 0) {
			f->clone = NULL;
			c->r = -ENOMEM;
			return;
		}
		if (!dataset_name_valid(f->clone, false, &why)) {
			err_node(c, base, "invalid clone name '%s': %s", f->clone, why);
			return;
		}
	}
	if (!dataset)
		return;
	pool = dataset_pool(dataset);
	clone_pool = dataset_pool(f->clone);
	if (!pool || !clone_pool) {
		c->r = -ENOMEM;
		return;
	}
	const struct ynode *at = zname ? zname : base;
	if (strcmp(pool, clone_pool) != 0)
		err_node(c, at, "clone '%s' is not in the pool of its base '%s' (zfs clones stay in their pool)",
			 f->clone, f->base_snapshot);
	else if (strcmp(dataset, f->clone) == 0)
		err_node(c, at, "clone '%s' would be the base dataset itself (give the clone a 'name' in 'zvol')",
			 f->clone);
}

/* Is this dataset already one of the VM's disks? */
static bool disk_taken(const struct qvm_file *f, const char *name)
{
	if (f->clone && strcmp(f->clone, name) == 0)
		return true;
	for (size_t i = 0; i < f->n_extra_disks; i++)
		if (strcmp(f->extra_disks[i].dataset, name) == 0)
			return true;
	return false;
}

/* A zvol disk after the boot disk: "base" clones like the boot disk's, no
 * "base" makes a new volume of "volsize". */
static bool check_extra_disk(struct check *c, struct ynode *map)
{
	struct qvm_file *f = c->f;
	const struct ynode *zvol = ymap_get(map, "zvol"), *base, *zname, *vs;
	struct qvm_disk d = { .map = map };
	struct qvm_disk *nd;
	const char *why;
	char t[MSG_TEXT];

	if (zvol->kind != YNODE_MAPPING) {
		err_node(c, zvol, "'zvol' is not a mapping");
		return false;
	}
	base = ymap_get(zvol, "base");
	zname = ymap_get(zvol, "name");
	vs = ymap_get(zvol, "volsize");
	check_props(c, zvol, &d.props, !base, &d.volsize_bytes);
	if (base) {
		if (base->kind != YNODE_SCALAR || base->len == 0 || yscalar_is_null(base) || scalar_has_nul(base)) {
			err_node(c, base, "'base' must be a dataset name");
			goto out;
		}
		if (!(d.base_snapshot = base_snapshot_name(base->value))) {
			c->r = -ENOMEM;
			goto out;
		}
		if (!dataset_name_valid(d.base_snapshot, true, &why)) {
			err_node(c, base, "invalid base dataset '%s': %s", text(t, base), why);
			goto out;
		}
	} else if (!vs) {
		err_node(c, zvol, "'zvol' needs 'base' (a clone) or 'volsize' (a new volume)");
		goto out;
	} else if (vs->kind != YNODE_SCALAR || yscalar_is_null(vs) || scalar_has_nul(vs) || !d.volsize_bytes) {
		goto out;    /* reported by check_props */
	} else if (!(d.volsize = strdup(vs->value))) {
		c->r = -ENOMEM;
		goto out;
	}
	if (zname) {
		if (zname->kind != YNODE_SCALAR || scalar_has_nul(zname) ||
		    !dataset_name_valid(zname->value, false, &why)) {
			err_node(c, zname, "invalid zvol name '%s': %s", zname->kind == YNODE_SCALAR ?
				 text(t, zname) : "", zname->kind == YNODE_SCALAR ? why : "not a scalar");
			goto out;
		}
		if (!(d.dataset = strdup(zname->value))) {
			c->r = -ENOMEM;
			goto out;
		}
	} else {
		_cleanup_free_ char *parent = NULL;
		if (!f->clone || !f->name)
			goto out;    /* the boot disk's problem is reported */
		parent = dataset_parent(f->clone);
		if (!parent || asprintf(&d.dataset, "%s/%s-disk%zu", parent, f->name, f->n_extra_disks + 1) < 0) {
			d.dataset = NULL;
			c->r = -ENOMEM;
			goto out;
		}
		if (!dataset_name_valid(d.dataset, false, &why)) {
			err_node(c, zvol, "invalid zvol name '%s': %s", d.dataset, why);
			goto out;
		}
	}
	if (disk_taken(f, d.dataset)) {
		err_node(c, zname ? zname : zvol, "two disks would be the same zvol %s (give each a 'name')",
			 d.dataset);
		goto out;
	}
	if (d.base_snapshot) {
		_cleanup_free_ char *p1 = dataset_pool(d.base_snapshot), *p2 = dataset_pool(d.dataset);
		if (!p1 || !p2) {
			c->r = -ENOMEM;
			goto out;
		}
		if (strcmp(p1, p2) != 0) {
			err_node(c, zname ? zname : base, "clone '%s' is not in the pool of its base '%s' "
				 "(zfs clones stay in their pool)", d.dataset, d.base_snapshot);
			goto out;
		}
	}
	nd = realloc(f->extra_disks, (f->n_extra_disks + 1) * sizeof(*nd));
	if (!nd) {
		c->r = -ENOMEM;
		goto out;
	}
	f->extra_disks = nd;
	f->extra_disks[f->n_extra_disks++] = d;
	return true;
out:
	free(d.base_snapshot);
	free(d.dataset);
	free(d.volsize);
	strv_free(d.props);
	return false;
}

/* /dev/null however written (/dev//null, /dev/./null, a link to it). */
static bool stand_in_path(const char *p)
{
	char *real = realpath(p, NULL);
	bool is = real && strcmp(real, "/dev/null") == 0;

	free(real);
	return is;
}

static void check_disks(struct check *c, struct ynode *vm)
{
	struct ynode *disk = ymap_get(vm, "disk");
	struct ynode **maps;
	struct ynode *boot = NULL;
	const struct ynode *boot_zvol = NULL;
	size_t n;

	if (ymap_index(vm, "disk") < 0) {
		err_node(c, vm, "vm document has no 'disk'");
		return;
	}
	if (disk->kind == YNODE_MAPPING) {
		maps = &disk;
		n = 1;
	} else if (disk->kind == YNODE_SEQUENCE) {
		maps = disk->items;
		n = disk->n;
	} else {
		err_node(c, disk, "'disk' must be a mapping or a sequence of mappings");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ynode *path;
		long z;

		if (maps[i]->kind != YNODE_MAPPING) {
			err_node(c, maps[i], "'disk' must be a mapping or a sequence of mappings");
			continue;
		}
		/* what virt-install gets in the seed's place (vm_print_xml): a disk
		 * of it would also make virt-install refuse later VMs on that
		 * libvirt ("in use by other guests") */
		path = ymap_get(maps[i], "path");
		if (path && path->kind == YNODE_SCALAR && stand_in_path(path->value))
			err_node(c, path, "a disk of /dev/null is refused: qvm gives it to virt-install in place of "
				 "the seed");
		z = ymap_index(maps[i], "zvol");
		if (z < 0)
			continue;
		if (boot)
			continue;    /* a later zvol disk: checked once the boot disk is */
		boot = maps[i];
		boot_zvol = maps[i]->items[z];
	}
	if (!boot) {
		err_node(c, disk, disk->kind == YNODE_MAPPING ? "'disk' has no 'zvol'" : "no 'disk' has a 'zvol'");
		return;
	}
	check_zvol(c, boot_zvol);
	/* zvol is for qvm, not for virt-install (boot_zvol is freed here) */
	ymap_remove(boot, "zvol");
	c->f->boot_disk = boot;
	for (size_t i = 0; i < n && c->r == 0; i++) {
		if (maps[i] == boot || maps[i]->kind != YNODE_MAPPING || ymap_index(maps[i], "zvol") < 0)
			continue;
		/* a disk in error keeps its zvol: no follow-on errors */
		if (check_extra_disk(c, maps[i]))
			ymap_remove(maps[i], "zvol");
	}
}

/* uuid: the domain's UUID, which qvm otherwise makes up; kept in the
 * canonical form libvirt prints, so it compares with what libvirt says. */
static void check_uuid(struct check *c, const struct ynode *vm)
{
	const struct ynode *v = ymap_get(vm, "uuid");
	char t[MSG_TEXT];

	if (!v)
		return;
	if (v->kind != YNODE_SCALAR || yscalar_is_null(v) || scalar_has_nul(v) ||
	    uuid_canonical(v->value, c->f->uuid) < 0)
		err_node(c, v, "'uuid' must be a UUID such as 4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c, not '%s'",
			 v->kind == YNODE_SCALAR ? text(t, v) : "a collection");
}

/* host: where the VM is made (qvm's, not virt-install's: taken out) */
static void check_host(struct check *c, struct ynode *vm)
{
	const struct ynode *v = ymap_get(vm, "host");
	struct host_spec h = { 0 };
	_cleanup_free_ char *why = NULL;

	if (!v)
		return;
	if (v->kind != YNODE_SCALAR || yscalar_is_null(v) || scalar_has_nul(v) || !v->len)
		err_node(c, v, "'host' must be one host: [USER@]HOST[:PORT] or a name of the hosts file");
	else if (host_spec_parse(v->value, &h, &why) == -EINVAL)
		err_node(c, v, "%s", why);
	else if (!(c->f->host = strdup(v->value)))
		c->r = -ENOMEM;
	host_spec_clear(&h);
	ymap_remove(vm, "host");
}

static void check_vm(struct check *c)
{
	struct ynode *vm = c->f->vm;
	const struct ynode *conn;

	check_name(c, vm);
	check_refused(c, vm);
	conn = ymap_get(vm, "connect");
	if (conn && conn->kind != YNODE_SCALAR)
		err_node(c, conn, "'connect' must be one URI (virt-install would take the last of several)");
	if (conn && conn->kind == YNODE_SCALAR && !yscalar_is_null(conn) && !scalar_has_nul(conn)) {
		const char *why;
		char t[MSG_TEXT];
		if (libvirt_uri_safe(conn->value, &why))
			c->f->connect = conn->value;
		else
			err_node(c, conn, "connect URI '%s' is refused: %s", text(t, conn), why);
	}
	check_host(c, vm);
	check_uuid(c, vm);
	check_disks(c, vm);
	if (c->r == 0) {
		_cleanup_free_ const struct ynode **maps = calloc(c->f->n_extra_disks + 1, sizeof(*maps));
		int r = -ENOMEM;

		if (maps) {
			maps[0] = c->f->boot_disk;
			for (size_t i = 0; i < c->f->n_extra_disks; i++)
				maps[i + 1] = c->f->extra_disks[i].map;
			_cleanup_strv_free_ char **errors = NULL;
			r = virt_args_check(vm, maps, c->f->n_extra_disks + 1, &errors);
			/* "LINE:COL: text", through err_at: a --set's node is named by its --set */
			for (size_t i = 0; errors && errors[i]; i++) {
				unsigned line = 0, col = 0;
				int n = 0;
				if (sscanf(errors[i], "%u:%u: %n", &line, &col, &n) == 2 && n > 0)
					err_at(c, line, col, "%s", errors[i] + n);
				else
					err_at(c, 0, 0, "%s", errors[i]);
			}
		}
		if (r == -ENOMEM)
			c->r = r;
	}
}

/* NoCloud network config: version 1 or 2, at the top or under 'network'. */
static void check_network_config(struct check *c)
{
	const struct ynode *nc = c->f->network_config, *net, *v;

	if (!nc)
		return;
	net = ymap_get(nc, "network");
	v = ymap_get(net && net->kind == YNODE_MAPPING ? net : nc, "version");
	if (!v) {
		err_node(c, nc, "network-config has no 'version' (NoCloud network config is version 1 or 2)");
		return;
	}
	if (v->kind != YNODE_SCALAR || (strcmp(v->value, "1") != 0 && strcmp(v->value, "2") != 0))
		err_node(c, v, "network-config 'version' must be 1 or 2");
}

/* The first user of user-data's 'users' (cloud-init's list: a name, a
 * mapping with 'name', or "default", the image's own user; a string may
 * list several, comma-separated): the user qvm ssh logs in as. user-data
 * is secret: messages name positions, never its text. */
static void check_first_user(struct check *c)
{
	struct qvm_file *f = c->f;
	const struct ynode *users = f->user_data && f->user_data->kind == YNODE_MAPPING ?
				    ymap_get(f->user_data, "users") : NULL;
	const struct ynode *first = users, *name;
	static char *const msg = "the first user in user-data's 'users' is not a login name qvm ssh can use "
				 "(letters, digits, '.', '_', '-', not starting with '-' or '.'; at most 32)";

	if (!users || yscalar_is_null(users))
		return;
	if (users->kind == YNODE_SEQUENCE) {
		if (users->n == 0)
			return;
		first = users->items[0];
	}
	if (first->kind == YNODE_MAPPING) {
		name = ymap_get(first, "name");
		if (!name || name->kind != YNODE_SCALAR || scalar_has_nul(name) || !login_name_valid(name->value, NULL)) {
			err_node(c, name && name->kind == YNODE_SCALAR ? name : first, "%s", msg);
			return;
		}
		f->first_user = name->value;
		return;
	}
	if (first->kind != YNODE_SCALAR || scalar_has_nul(first)) {
		err_node(c, first, "%s", msg);
		return;
	}
	/* "default" or "default, ops": the first name, spaces around it dropped */
	const char *v = first->value + strspn(first->value, " ");
	size_t len = strcspn(v, ",");
	while (len && v[len - 1] == ' ')
		len--;
	if (len == 7 && strncmp(v, "default", 7) == 0) {
		f->first_user_default = true;
		return;
	}
	if (!(f->own_first_user = strndup(v, len))) {
		c->r = -ENOMEM;
		return;
	}
	if (!login_name_valid(f->own_first_user, NULL)) {
		err_node(c, first, "%s", msg);
		return;
	}
	f->first_user = f->own_first_user;
}

/* "line L, column C: text" from the YAML reader -> "L:C: invalid YAML: text" */
static int yaml_error(char ***errors, const char *msg)
{
	unsigned line, col;
	int n = 0;

	if (sscanf(msg, "line %u, column %u: %n", &line, &col, &n) == 2 && n > 0)
		return strv_pushf(errors, "%u:%u: invalid YAML: %s", line, col, msg + n);
	return strv_pushf(errors, "invalid YAML: %s", msg);
}

int qvm_file_parse(const char *buf, size_t len, struct qvm_file **out, char ***errors)
{
	return qvm_file_parse_template(buf, len, NULL, out, errors);
}

static void apply_template(struct check *c, const struct qvm_template *t)
{
	struct qvm_file *f = c->f;
	struct template_docs d = { f->vm, f->user_data, f->meta_data, f->network_config, f->vendor_data };
	int r = template_apply(&d, t, &c->errors);

	if (r == -ENOMEM)
		c->r = r;
}

int qvm_file_parse_template(const char *buf, size_t len, const struct qvm_template *t,
			    struct qvm_file **out, char ***errors)
{
	_cleanup_(qvm_file_freep) struct qvm_file *f = NULL;
	struct check c = { 0 };
	_cleanup_free_ char *yerr = NULL;
	int r;

	*out = NULL;
	*errors = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	r = ystream_parse_secret(buf, len, &qvm_file_secrecy, &f->stream, &yerr);
	if (r == -EINVAL) {
		if (yaml_error(errors, yerr ? yerr : "cannot parse") < 0)
			return -ENOMEM;
		return -EINVAL;
	}
	if (r < 0)
		return r;

	c.f = f;
	c.t = t;
	split_documents(&c);
	if (c.r == 0 && t && !c.errors)
		apply_template(&c, t);
	if (c.r == 0 && f->vm)
		check_vm(&c);
	if (c.r == 0)
		check_network_config(&c);
	if (c.r == 0)
		check_first_user(&c);
	if (c.r < 0) {
		strv_free(c.errors);
		return c.r;
	}
	if (c.errors) {
		*errors = c.errors;
		return -EINVAL;
	}
	*out = TAKE_PTR(f);
	return 0;
}

static int load_error(char ***errors, int r, const char *what, const char *path)
{
	if (strv_pushf(errors, "cannot %s '%s': %s", what, path, strerror(-r)) < 0)
		return -ENOMEM;
	return r;
}

int qvm_file_load(const char *path, struct qvm_file **out, char ***errors)
{
	return qvm_file_load_template(path, NULL, out, errors);
}

int qvm_file_read_fd(int fd, const char *shown, char **text, size_t *text_len, char ***errors)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = YAML_MAX_INPUT + 1;
	struct stat st;

	*text = NULL;
	*text_len = 0;
	if (fstat(fd, &st) < 0)
		return load_error(errors, -errno, "read", shown);
	if (S_ISDIR(st.st_mode))
		return load_error(errors, -EISDIR, "read", shown);
	if (S_ISREG(st.st_mode) && st.st_size > (off_t)YAML_MAX_INPUT)
		goto too_big;
	/* one byte more than allowed tells a too big pipe from a full one */
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		/* poll first, with a bound: a read on a pipe or terminal is
		 * restarted after a signal (SA_RESTART), so ^C would wait for
		 * the writer; and a non-blocking stdin (left so by the shell's
		 * last program) is waited for as a blocking read would be */
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (signal_pending())
			return load_error(errors, -EINTR, "read", shown);
		if (poll(&pfd, 1, 200) == 0 || (pfd.revents == 0))
			continue;
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return load_error(errors, -errno, "read", shown);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > YAML_MAX_INPUT)
			goto too_big;
	}
	*text = TAKE_PTR(buf);
	*text_len = len;
	return 0;

too_big:
	if (strv_pushf(errors, "cannot read '%s': file larger than %u bytes", shown, YAML_MAX_INPUT) < 0)
		return -ENOMEM;
	return -EFBIG;
}

int qvm_file_load_template(const char *path, const struct qvm_template *t, struct qvm_file **out,
			   char ***errors)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	*out = NULL;
	*errors = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return load_error(errors, -errno, "open", path);
	r = qvm_file_read_fd(fd, path, &buf, &len, errors);
	if (r < 0)
		return r;
	return qvm_file_parse_template(buf, len, t, out, errors);
}
