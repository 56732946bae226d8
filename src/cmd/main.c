/* SPDX-License-Identifier: MIT */
/* qvm: command table, argument checks, exit status. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "log.h"
#include "remote.h"
#include "strv.h"
#include "signals.h"
#include "banned.h"

#ifndef QVM_VERSION
#define QVM_VERSION "unknown"
#endif

enum {
	MUTATES = 1u << 0,   /* changes the host: roll back on signals */
	ALIAS = 1u << 1,     /* accepted, but not listed in the usage */
	/* options only before the first operand: what follows it is another
	 * program's (qvm ssh NAME ls -l), whether or not "--" comes first */
	OPTIONS_FIRST = 1u << 2,
	/* qvm's own, run by qvm (a child per host): not in the usage */
	INTERNAL = 1u << 3,
	/* with operands it changes a host (qvm images copy IMAGE HOST) and
	 * names the host itself */
	OPERANDS_MUTATE = 1u << 4,
};

/* An option a command accepts. */
struct option_def {
	const char *long_name;
	char short_name;              /* 0 for none */
	enum { OPT_FLAG, OPT_VALUE, OPT_OPTIONAL } arg;   /* OPT_OPTIONAL: --opt or --opt=V */
	enum opt_id id;
};

struct command {
	const char *name;
	int (*run)(int argc, char **argv, const struct cmd_opts *opts);
	int min_args, max_args;       /* operands; max -1 for no limit */
	unsigned flags;
	const char *args;
	const char *summary;
	const struct option_def *options;   /* ends with a NULL long_name */
};

static const struct option_def cleanup_options[] = {
	{ "yes", 'y', OPT_FLAG, OPT_YES },
	{ "quiet", 'q', OPT_FLAG, OPT_QUIET },
	{ "host", 0, OPT_VALUE, OPT_HOST },
	{ NULL, 0, 0, 0 },
};

static const struct option_def import_options[] = {
	{ "sha256", 0, OPT_VALUE, OPT_SHA256 },
	{ "sha512", 0, OPT_VALUE, OPT_SHA512 },
	{ "checksum-file", 0, OPT_VALUE, OPT_CHECKSUM_FILE },
	{ "force", 0, OPT_FLAG, OPT_FORCE },
	{ "size", 0, OPT_VALUE, OPT_SIZE },
	{ "osinfo", 0, OPT_VALUE, OPT_OSINFO },
	{ "user", 0, OPT_VALUE, OPT_USER },
	{ "quiet", 'q', OPT_FLAG, OPT_QUIET },
	{ NULL, 0, 0, 0 },
};

static const struct option_def images_options[] = {
	{ "json", 0, OPT_FLAG, OPT_JSON },
	{ "available", 0, OPT_FLAG, OPT_AVAILABLE },
	{ "host", 0, OPT_VALUE, OPT_HOST },
	{ "all-hosts", 0, OPT_FLAG, OPT_ALL_HOSTS },
	{ "quiet", 'q', OPT_FLAG, OPT_QUIET },
	{ NULL, 0, 0, 0 },
};

static const struct option_def vm_options[] = {
	{ "dry-run", 'n', OPT_FLAG, OPT_DRY_RUN },
	{ "name", 0, OPT_VALUE, OPT_NAME },
	{ "set", 0, OPT_VALUE, OPT_SET },
	{ "count", 0, OPT_VALUE, OPT_COUNT },
	{ "wait", 0, OPT_OPTIONAL, OPT_WAIT },
	{ "quiet", 'q', OPT_FLAG, OPT_QUIET },
	{ "skip-existing", 0, OPT_FLAG, OPT_SKIP_EXISTING },
	{ "host", 0, OPT_VALUE, OPT_HOST },
	{ NULL, 0, 0, 0 },
};

static const struct option_def destroy_options[] = {
	{ "yes", 'y', OPT_FLAG, OPT_YES },
	{ "keep-disks", 0, OPT_FLAG, OPT_KEEP_DISKS },
	{ "quiet", 'q', OPT_FLAG, OPT_QUIET },
	{ "host", 0, OPT_VALUE, OPT_HOST },
	{ NULL, 0, 0, 0 },
};

static const struct option_def ssh_options[] = {
	{ "user", 0, OPT_VALUE, OPT_USER },
	{ NULL, 0, 0, 0 },
};

static const struct option_def list_options[] = {
	{ "json", 0, OPT_FLAG, OPT_JSON },
	{ "host", 0, OPT_VALUE, OPT_HOST },
	{ "all-hosts", 0, OPT_FLAG, OPT_ALL_HOSTS },
	{ NULL, 0, 0, 0 },
};

static const struct option_def probe_options[] = {
	{ "host", 0, OPT_VALUE, OPT_HOST },
	{ NULL, 0, 0, 0 },
};

static const struct command commands[] = {
	{ "import", cmd_import, 2, 2, MUTATES, "IMAGE ZVOL",
	  "import a cloud image (a catalog name such as debian-12,\n"
	  "                             a file or a URL; raw, qcow2, vmdk, vhdx, vdi, vhd,\n"
	  "                             xz/zstd/gzip/bzip2, tar) into a new zvol and ZVOL@base;\n"
	  "                             options: --sha256 HEX, --sha512 HEX, --checksum-file SUMS,\n"
	  "                             --size SIZE, --force, --osinfo NAME, --user NAME, -q/--quiet",
	  import_options },
	{ "image", cmd_import, 2, 2, MUTATES | ALIAS, "IMAGE ZVOL", "alias of import", import_options },
	{ "vm", cmd_vm, 1, 1, MUTATES, "FILE", "provision a new VM from a qvm file;\n"
	  "                             options: -n/--dry-run, --name NAME, --set PATH=VALUE,\n"
	  "                             --count N, --skip-existing, --wait[=SECONDS]", vm_options },
	{ "destroy", cmd_destroy, 1, -1, MUTATES, "NAME...",
	  "stop and undefine VMs qvm made, destroy their disks and seeds;\n"
	  "                             options: -y/--yes, --keep-disks", destroy_options },
	{ "ssh", cmd_ssh, 1, -1, OPTIONS_FIRST, "NAME [-- COMMAND...]",
	  "log in to a VM qvm made, or run COMMAND there, with ssh (its address,\n"
	  "                             user and host keys found by qvm); options: --user NAME", ssh_options },
	{ "list", cmd_list, 0, 0, 0, "[--json]", "list the VMs qvm made; --all-hosts: of every host", list_options },
	{ "images", cmd_images, 0, 3, OPERANDS_MUTATE, "[--available] | copy IMAGE [USER@]HOST[:DATASET]",
	  "list the images qvm imported, or the catalog's (qvm import\n"
	  "                             NAME ZVOL); options: --json, --all-hosts;\n"
	  "                             copy: replicate IMAGE@base to HOST with zfs send/recv\n"
	  "                             (resumable), as DATASET; option: -q/--quiet", images_options },
	{ "cleanup", cmd_cleanup, 0, 0, MUTATES, "[--yes]",
	  "list and remove leftovers of interrupted runs", cleanup_options },
	{ "probe-host", cmd_probe_host, 1, -1, INTERNAL, "SNAPSHOT...",
	  "qvm's own (qvm vm --host auto): whether the host has the snapshots, and its free memory",
	  probe_options },
};

const char *opt_last(const struct cmd_opts *o, enum opt_id id)
{
	size_t n = strv_length(o->values[id]);

	return n ? o->values[id][n - 1] : NULL;
}

/* The definition matching argument a ("--name", "--name=V", "-n"), or NULL. */
static const struct option_def *find_option(const struct command *cmd, const char *a,
					    const char **inline_value)
{
	*inline_value = NULL;
	for (const struct option_def *o = cmd->options; o && o->long_name; o++) {
		size_t len = strlen(o->long_name);
		if (a[1] == '-' && strncmp(a + 2, o->long_name, len) == 0) {
			if (a[2 + len] == '\0')
				return o;
			if (a[2 + len] == '=') {
				*inline_value = a + 3 + len;
				return o;
			}
		}
		if (o->short_name && a[1] == o->short_name && a[2] == '\0')
			return o;
	}
	return NULL;
}

static void usage(FILE *f)
{
	fputs("Usage: qvm COMMAND [ARGS]\n\nCommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		char left[64];
		if (c->flags & (ALIAS | INTERNAL))
			continue;
		snprintf(left, sizeof(left), "%s %s", c->name, c->args);
		/* a synopsis wider than its column: the summary below it */
		if (strlen(left) > 22)
			fprintf(f, "  qvm %s\n  %-26s %s\n", left, "", c->summary);
		else
			fprintf(f, "  qvm %-22s %s\n", left, c->summary);
	}
	fprintf(f, "  qvm %-22s %s\n", "help COMMAND", "show a command's options");
	fprintf(f, "  qvm %-22s %s\n", "--help | -h", "show this help");
	fprintf(f, "  qvm %-22s %s\n", "--version", "show the version");
	fputs("\nEnvironment: QVM_ZVOL_DIR (default /dev/zvol), QVM_STATE_DIR (default\n"
	      "/var/lib/qvm), QVM_DEVICE_TIMEOUT (seconds, default 30), QVM_CACHE_DIR\n"
	      "(default /var/cache/qvm), QVM_IMAGES (the image catalog's files and directories,\n"
	      "':'-separated).\n"
	      "Exit status: 0 on success, 1 on any error; 128+N if stopped by signal N.\n", f);
}

/* What qvm help COMMAND says of each option: its value's name and what it
 * does. Kept apart from the option tables, keyed by the long name (an
 * option means the same for every command that takes it). */
static const struct option_help {
	const char *long_name, *value, *text;
} option_help[] = {
	{ "sha256", "HEX", "the image's expected SHA-256 digest" },
	{ "sha512", "HEX", "the image's expected SHA-512 digest" },
	{ "checksum-file", "SUMS", "a checksum file (path or URL) that names the image" },
	{ "force", NULL, "import a raw image in which no disk is recognised" },
	{ "size", "SIZE", "the zvol's size, where the image's is not known beforehand" },
	{ "quiet", NULL, "no progress or step lines (errors and warnings still)" },
	{ "dry-run", NULL, "check everything, print the commands, change nothing" },
	{ "name", "NAME", "the VM's name instead of the file's" },
	{ "set", "PATH=VALUE", "set a key of a document of the file (repeatable)" },
	{ "count", "N", "make NAME-1 ... NAME-N" },
	{ "wait", "SECONDS", "then wait for the VM (default 300 s); a value only as --wait=N" },
	{ "yes", NULL, "do not ask for confirmation" },
	{ "keep-disks", NULL, "keep the VMs' zvols" },
	{ "json", NULL, "a JSON array instead of the table" },
	/* issue 14: catalog, templates, ssh */
	{ "skip-existing", NULL, "with --count: make only the VMs whose names are free" },
	{ "osinfo", "NAME", "the image's osinfo name (recorded as qvm:osinfo)" },
	{ "user", "NAME", "a login user (import: recorded as qvm:user; ssh: the one to log in as)" },
	{ "available", NULL, "the images the catalog offers, not the imported ones" },
	/* issue 15: many hosts */
	{ "host", "HOST", "work on another host over ssh: [USER@]HOST[:PORT] or a name of /etc/qvm/hosts "
	  "(vm: auto picks one)" },
	{ "all-hosts", NULL, "this host and every host of the hosts file, asked side by side" },
};

static const struct option_help *find_option_help(const char *long_name)
{
	for (size_t i = 0; i < sizeof(option_help) / sizeof(option_help[0]); i++)
		if (strcmp(option_help[i].long_name, long_name) == 0)
			return &option_help[i];
	return NULL;
}

/* qvm help COMMAND, qvm COMMAND --help: its synopsis, summary and options. */
static void command_help(const struct command *c, FILE *f)
{
	fprintf(f, "Usage: qvm %s %s\n  ", c->name, c->args);
	/* the summary's continuation lines are indented for the usage table */
	for (const char *p = c->summary; *p; p++) {
		fputc(*p, f);
		if (*p == '\n') {
			p += strspn(p + 1, " ");
			fputs("  ", f);
		}
	}
	fputc('\n', f);
	if (c->options && c->options->long_name) {
		fputs("Options:\n", f);
		for (const struct option_def *o = c->options; o->long_name; o++) {
			const struct option_help *h = find_option_help(o->long_name);
			const char *value = h && h->value ? h->value : "VALUE";
			char left[64];
			int n = 0;

			if (o->short_name)
				n = snprintf(left, sizeof(left), "-%c, ", o->short_name);
			snprintf(left + n, sizeof(left) - (size_t)n, "--%s%s%s%s", o->long_name,
				 o->arg == OPT_VALUE ? " " : o->arg == OPT_OPTIONAL ? "[=" : "",
				 o->arg == OPT_FLAG ? "" : value, o->arg == OPT_OPTIONAL ? "]" : "");
			if (h)
				fprintf(f, "  %-24s %s\n", left, h->text);
			else
				fprintf(f, "  %s\n", left);
		}
	}
	fputs("See qvm(1) and qvm-file(5).\n", f);
}

static const struct command *find_command(const char *name);

/* A mistake on the command line: an error in the form every error has,
 * then the usage. */
#define TASK_USAGE "reading the command line"

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verror(TASK_USAGE, fmt, ap);
	va_end(ap);
	usage(stderr);
	return 1;
}

/* "--wait 30": an option whose value is optional, followed by a number
 * that then counts as an operand. Its name and the number, "wait\0" "30"
 * (static), or NULL. */
static const char *optional_value_hint(const struct command *cmd, int argc, char **argv)
{
	static char buf[96];

	for (int i = 2; i + 1 < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *value;
		const struct option_def *o = argv[i][0] == '-' ? find_option(cmd, argv[i], &value) : NULL;
		const char *next = argv[i + 1];

		if (!o || o->arg != OPT_OPTIONAL || value || !*next || strspn(next, "0123456789") != strlen(next) ||
		    strlen(o->long_name) + strlen(next) + 2 > sizeof(buf))
			continue;
		memcpy(buf, o->long_name, strlen(o->long_name) + 1);
		memcpy(buf + strlen(o->long_name) + 1, next, strlen(next) + 1);
		return buf;
	}
	return NULL;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* git's run_builtin: output that could not be written is an error too. */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno != EPIPE)
			log_output_failed(errno);
		return 1;
	}
	return status;
}

/* fds 0-2 closed by whoever started qvm would be the next files it opens
 * (libvirt's socket as "stderr"): each one is /dev/null instead. */
static void std_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(1);
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	char **operands = NULL;
	struct cmd_opts opts = { 0 };
	int nargs, r;
	int dashdash = 0;

	std_fds_open();
	/* qvm as the ssh libvirt runs for a remote host (remote.h) */
	remote_ssh_shim(argc, argv);
	if (argc < 2)
		return usage_error("%s", "no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			cmd = find_command(argv[2]);
			/* "help" is no entry of the table, but a command all the same */
			if (!cmd && strcmp(argv[2], "help") != 0)
				return usage_error("unknown command '%s'", argv[2]);
			if (argc > 3)
				return usage_error("%s", "'help' takes one command");
			if (cmd)
				command_help(cmd, stdout);
			else
				fputs("Usage: qvm help COMMAND\n  show a command's synopsis and options\n"
				      "See qvm(1) and qvm-file(5).\n", stdout);
			return finish_stdout(0);
		}
		usage(stdout);
		return finish_stdout(0);
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("qvm %s\n", QVM_VERSION);
		return finish_stdout(0);
	}
	if (argv[1][0] == '-')
		return usage_error("unknown option '%s'", argv[1]);
	cmd = find_command(argv[1]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[1]);

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *value;
		const struct option_def *o;

		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			command_help(cmd, stdout);
			r = finish_stdout(0);
			goto out;
		}
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (strv_push(&operands, a) < 0) {
				r = usage_error("%s", strerror(ENOMEM));
				goto out;
			}
			if ((cmd->flags & OPTIONS_FIRST) && !dashdash) {
				dashdash = 1;
				if (i + 1 < argc && strcmp(argv[i + 1], "--") == 0)
					i++;
			}
			continue;
		}
		o = find_option(cmd, a, &value);
		if (!o) {
			/* the option, not what was given with it: --sett=user-data.x=S3CRET */
			r = usage_error("unknown option '%.*s' for '%s'", (int)strcspn(a, "="), a, cmd->name);
			goto out;
		}
		if (o->arg == OPT_OPTIONAL && !value)
			value = "";
		if (o->arg == OPT_FLAG && value) {
			r = usage_error("option '--%s' takes no value", o->long_name);
			goto out;
		}
		if (o->arg == OPT_VALUE && !value) {
			if (i + 1 >= argc) {
				r = usage_error("option '%s' needs a value", a);
				goto out;
			}
			value = argv[++i];
		}
		if (strv_push(&opts.values[o->id], value ? value : "") < 0) {
			r = usage_error("%s", strerror(ENOMEM));
			goto out;
		}
	}
	nargs = (int)strv_length(operands);
	if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args)) {
		const char *hint = optional_value_hint(cmd, argc, argv);
		if (hint) {
			log_error(TASK_USAGE, "'%s' takes %d argument%s (%s); '--%s' takes its value only after "
				  "'=': --%s=%s", cmd->name, cmd->min_args, cmd->min_args == 1 ? "" : "s",
				  cmd->args, hint, hint, hint + strlen(hint) + 1);
			r = 1;
		} else if (cmd->min_args == cmd->max_args)
			r = usage_error("'%s' takes %d argument%s (%s)", cmd->name, cmd->min_args,
					cmd->min_args == 1 ? "" : "s", cmd->args);
		else
			r = usage_error("wrong number of arguments for '%s' (%s)", cmd->name, cmd->args);
		goto out;
	}

	if ((cmd->flags & MUTATES) || ((cmd->flags & OPERANDS_MUTATE) && nargs > 0))
		signals_install();
	else {
		/* a reader gone away is EPIPE, not death (libvirt's own pipes too) */
		signal(SIGPIPE, SIG_IGN);
		/* a signal stops the program it runs and closes its ssh master
		 * (a remote command that never ends keeps that alive): what
		 * qvm list --all-hosts ends a host's qvm with after its time.
		 * qvm ssh hands the terminal to ssh (exec): nothing to stop */
		if (cmd->run != cmd_ssh)
			signals_install_readonly();
	}
	/* one host, or all of them */
	if (opt_has(&opts, OPT_HOST) && opt_has(&opts, OPT_ALL_HOSTS)) {
		r = usage_error("%s", "--host and --all-hosts exclude each other");
		goto out;
	}
	/* vm opens its host itself: --host auto, or the file's host: */
	r = 0;
	if (opt_has(&opts, OPT_HOST) && cmd->run != cmd_vm && !((cmd->flags & OPERANDS_MUTATE) && nargs > 0))
		r = cmd_host_open(opt_last(&opts, OPT_HOST)) == 0 ? 0 : 1;
	if (r == 0)
		r = cmd->run(nargs, operands ? operands : (char *[]){ NULL }, &opts) == 0 ? 0 : 1;
	remote_close();
	r = finish_stdout(r);
	/* rolled back already (or the work was done before it was noticed):
	 * now let the caller see how qvm was stopped, as a shell expects */
	signals_reraise();
out:
	strv_free(operands);
	for (int i = 0; i < OPT__MAX; i++)
		strv_free(opts.values[i]);
	return r;
}
