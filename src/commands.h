/* SPDX-License-Identifier: MIT */
/* The subcommands. Each returns 0 on success or -1 after printing its
 * error; main() turns that into the exit status. */
#ifndef QVM_COMMANDS_H
#define QVM_COMMANDS_H

/* Option bits main() sets from the command line. */
enum {
	OPT_YES = 1u << 0,    /* cleanup: remove without asking */
};

int cmd_import(int argc, char **argv, unsigned opts);
int cmd_vm(int argc, char **argv, unsigned opts);
int cmd_cleanup(int argc, char **argv, unsigned opts);

#endif
