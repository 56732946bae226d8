#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm help COMMAND and qvm COMMAND --help: the command's synopsis and options.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

t_help() {
	for c in import vm destroy ssh list images cleanup; do
		run_qvm help $c
		expect_exit 0
		expect_empty err
		expect_first_line "^Usage: qvm $c " out
		cp out help-$c
		run_qvm $c --help
		expect_exit 0
		expect_same help-$c out
	done
	run_qvm help destroy
	expect_line '  -y, --yes' out
	expect_line '  --keep-disks' out
	run_qvm help vm
	expect_line '  -n, --dry-run' out
	expect_line '  --set VALUE' out
	expect_line '  --wait[=VALUE]' out
	run_qvm help list
	expect_line '  --json' out
	run_qvm help ssh
	expect_first_line '^Usage: qvm ssh NAME \[-- COMMAND\.\.\.\]$' out
	expect_line '  --user VALUE' out
}
test_case 'help COMMAND = COMMAND --help: synopsis and options' t_help

t_usage_lists() {
	run_qvm --help
	expect_exit 0
	for c in import vm destroy ssh list images cleanup 'help COMMAND'; do
		expect_match "^  qvm $c" out
	done
}
test_case 'the usage lists every command' t_usage_lists

t_help_errors() {
	run_qvm help nope
	expect_exit 1
	expect_first_line "^Error reading the command line: unknown command 'nope'$" err
	run_qvm help vm destroy
	expect_exit 1
	expect_first_line "^Error reading the command line: 'help' takes one command$" err
}
test_case 'help with an unknown command or too many' t_help_errors

test_done
