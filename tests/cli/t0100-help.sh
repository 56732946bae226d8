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
	expect_match '^  -y, --yes  +do not ask' out
	expect_match '^  --keep-disks  +keep' out
	run_qvm help vm
	expect_match '^  -n, --dry-run  +check everything' out
	expect_match '^  --set PATH=VALUE  +set a key' out
	expect_match '^  --count N  +make' out
	expect_match '^  --wait\[=SECONDS\]  +.*--wait=N' out
	run_qvm help list
	expect_match '^  --json  +a JSON array' out
	run_qvm help ssh
	expect_first_line '^Usage: qvm ssh NAME \[-- COMMAND\.\.\.\]$' out
	expect_match '^  --user NAME  +' out
}
test_case 'help COMMAND = COMMAND --help: synopsis and options' t_help

t_help_descriptions() {
	# every option of every command says what it does
	for c in import vm destroy list images cleanup; do
		run_qvm help $c
		sed -n '/^Options:$/,/^See /p' out | sed '1d;$d' >opts
		expect_nonempty opts
		if grep -Ev '^  -[^ ]+( [^ ]+)?,? .*  +[a-z]' opts | grep -Ev '^  -., --[^ ]+( [^ ]+)?  +[a-z]' >bare; then
			cat bare
			_fail "options of $c without a description"
			return 1
		fi
	done
}
test_case 'help COMMAND: each option with a description' t_help_descriptions

t_help_help() {
	run_qvm help help
	expect_exit 0
	expect_empty err
	expect_first_line '^Usage: qvm help COMMAND$' out
}
test_case 'help help: the help command is a command too' t_help_help

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
