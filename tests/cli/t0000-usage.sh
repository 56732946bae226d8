#!/bin/bash
# SPDX-License-Identifier: MIT
# The command line (SPEC §1): mistakes print a specific first line and the
# usage on stderr, exit 1, and nothing on stdout; --help/-h and --version
# print on stdout and exit 0.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# usage_error FIRST-LINE-REGEX ARGS...: qvm ARGS is a usage mistake.
usage_error() {
	local first=$1
	shift
	run_qvm "$@"
	expect_exit 1
	expect_empty out
	expect_first_line "$first" err
	expect_match '^Usage:' err
	expect_match 'import IMAGE ZVOL' err
	expect_match 'vm FILE' err
}

test_case 'no arguments' '
	usage_error "^Error reading the command line: " 
'

test_case 'unknown command' '
	usage_error "^Error reading the command line: unknown command .foo.$" foo
	usage_error "^Error reading the command line: unknown (command|option) .--frobnicate.$" --frobnicate
	usage_error "^Error reading the command line: unknown command .IMPORT.$" IMPORT tank/images/a
'

test_case 'import with too few or too many arguments' '
	usage_error "^Error reading the command line: .import. takes 2 arguments" import
	usage_error "^Error reading the command line: .import. takes 2 arguments" import image.raw
	usage_error "^Error reading the command line: .import. takes 2 arguments" import image.raw tank/images/a extra
'

test_case 'image (the original tool'"'"'s spelling) checks its arguments like import' '
	usage_error "^Error reading the command line: .image. takes 2 arguments" image
	usage_error "^Error reading the command line: .image. takes 2 arguments" image a b c
'

test_case 'vm with too few or too many arguments' '
	usage_error "^Error reading the command line: .vm. takes 1 argument" vm
	usage_error "^Error reading the command line: .vm. takes 1 argument" vm a.yaml b.yaml
'

test_case 'a usage mistake changes nothing and runs no zfs' '
	zpool create tank
	zfs_log_reset
	usage_error "^Error reading the command line: " import only-one
	expect_empty "$ZFS_DOUBLE_LOG"
'

test_case '--help and -h print the usage on stdout and exit 0' '
	for opt in --help -h; do
		run_qvm $opt
		expect_exit 0
		expect_empty err
		expect_match "^Usage:" out
		expect_match "import IMAGE ZVOL" out
		expect_match "vm FILE" out
		expect_match "--version" out
	done
'

test_case '--version prints the version on stdout and exits 0' '
	run_qvm --version
	expect_exit 0
	expect_empty err
	expect_match "^qvm [0-9]+\.[0-9]+" out
	expect_eq 1 "$(wc -l <out)" "lines"
'

test_case 'image is an alias of import' '
	zfs_pool
	make_image disk.raw 2M
	run_qvm image disk.raw tank/images/viaalias
	expect_exit 0
	expect_empty err
	expect_match "^Imported" out
	expect_eq snapshot "$(zfs get -H -o value type tank/images/viaalias@base)" "the @base snapshot"
	# and fails like import
	run_qvm image nosuch.raw tank/images/other
	expect_exit 1
	expect_first_line "^Error importing cloud image: cannot open image .nosuch\.raw.: No such file or directory$" err
'

test_case '--wait 30: a hint at --wait=30, not the whole usage' '
	run_qvm vm -n --wait 30 web.yaml
	expect_exit 1
	expect_line "Error reading the command line: '"'"'vm'"'"' takes 1 argument (FILE); '"'"'--wait'"'"' takes its value only after '"'"'='"'"': --wait=30" err
	expect_eq 1 "$(wc -l <err)" "lines on stderr"
	expect_empty out
	# a word that is no number gets the usage as before
	run_qvm vm --wait web.yaml other.yaml
	expect_exit 1
	expect_match "^Usage:" err
'

test_done
