/* SPDX-License-Identifier: MIT */
/* The subcommands. Each returns 0 on success or -1 after printing its
 * error; main() turns that into the exit status. */
#ifndef QVM_COMMANDS_H
#define QVM_COMMANDS_H

int cmd_import(int argc, char **argv);
int cmd_vm(int argc, char **argv);

#endif
