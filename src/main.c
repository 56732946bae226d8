/* SPDX-License-Identifier: MIT */
/* qvm: command table, argument checks, exit status. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "signals.h"
#include "banned.h"

#ifndef QVM_VERSION
#define QVM_VERSION "unknown"
#endif

enum {
	MUTATES = 1u << 0,   /* changes the host: roll back on signals */
	ALIAS = 1u << 1,     /* accepted, but not listed in the usage */
};

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	int nargs;
	unsigned flags;
	const char *args;
	const char *summary;
};

static const struct command commands[] = {
	{ "import", cmd_import, 2, MUTATES, "IMAGE ZVOL", "import a raw cloud image into a new zvol and ZVOL@base" },
	{ "image", cmd_import, 2, MUTATES | ALIAS, "IMAGE ZVOL", "alias of import" },
	{ "vm", cmd_vm, 1, MUTATES, "FILE", "provision a new VM from a qvm file" },
};

static void usage(FILE *f)
{
	fputs("Usage: qvm COMMAND [ARGS]\n\nCommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		char left[64];
		if (c->flags & ALIAS)
			continue;
		snprintf(left, sizeof(left), "%s %s", c->name, c->args);
		fprintf(f, "  qvm %-22s %s\n", left, c->summary);
	}
	fprintf(f, "  qvm %-22s %s\n", "--help | -h", "show this help");
	fprintf(f, "  qvm %-22s %s\n", "--version", "show the version");
	fputs("\nEnvironment: QVM_ZVOL_DIR (default /dev/zvol), QVM_STATE_DIR (default\n"
	      "/var/lib/qvm), QVM_DEVICE_TIMEOUT (seconds, default 30).\n"
	      "Exit status: 0 on success, 1 on any error; 128+N if stopped by signal N.\n", f);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("qvm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	usage(stderr);
	return 1;
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
			fprintf(stderr, "Error writing output: %s\n", strerror(errno));
		return 1;
	}
	return status;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	char *args[8];
	int nargs = 0, r;
	int dashdash = 0;

	if (argc < 2)
		return usage_error("%s", "no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
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
		const char *a = argv[i];
		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			printf("Usage: qvm %s %s\n  %s\n", cmd->name, cmd->args, cmd->summary);
			return finish_stdout(0);
		}
		if (!dashdash && a[0] == '-' && a[1] != '\0')
			return usage_error("unknown option '%s'", a);
		if (nargs == cmd->nargs) {
			fprintf(stderr, "qvm: '%s' takes %d argument%s (%s)\n", cmd->name,
				cmd->nargs, cmd->nargs == 1 ? "" : "s", cmd->args);
			usage(stderr);
			return 1;
		}
		args[nargs++] = argv[i];
	}
	if (nargs != cmd->nargs) {
		fprintf(stderr, "qvm: '%s' takes %d argument%s (%s)\n", cmd->name, cmd->nargs,
			cmd->nargs == 1 ? "" : "s", cmd->args);
		usage(stderr);
		return 1;
	}
	args[nargs] = NULL;

	if (cmd->flags & MUTATES)
		signals_install();
	r = cmd->run(nargs, args) == 0 ? 0 : 1;
	r = finish_stdout(r);
	/* rolled back already; now let the caller see how qvm was stopped */
	if (r != 0)
		signals_reraise();
	return r;
}
