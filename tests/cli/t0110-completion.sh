#!/bin/bash
# SPDX-License-Identifier: MIT
# bash completion (completion/qvm): commands, options, qvm files, VM names,
# the catalog's image names and osinfo names.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

# complete WORDS...: the completions of the last word, one a line, in ./out
complete_words() {
	(
		PATH=$(dirname "$QVM"):$PATH
		# shellcheck disable=SC1091
		. "$TEST_REPO/completion/qvm"
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_qvm
		printf '%s\n' "${COMPREPLY[@]}" | sort
	) >out
}

t_commands() {
	complete_words qvm ''
	for c in import vm destroy ssh list images cleanup help; do
		expect_line "$c" out
	done
	complete_words qvm de
	expect_eq destroy "$(cat out)" "de<TAB>"
	complete_words qvm help v
	expect_eq vm "$(cat out)" "help v<TAB>"
}
test_case 'commands' t_commands

t_options() {
	complete_words qvm vm --
	expect_line --dry-run out
	expect_line --set out
	complete_words qvm destroy --k
	expect_eq --keep-disks "$(cat out)" "--k<TAB>"
	complete_words qvm list -
	expect_line --json out
	for c in vm destroy cleanup; do
		complete_words qvm $c --q
		expect_eq --quiet "$(cat out)" "$c --q<TAB>"
	done
}
test_case 'options of each command' t_options

t_wait() {
	# two candidates: bash stops at "--wait" with no space after it
	complete_words qvm vm --wa
	expect_eq "--wait --wait=" "$(tr '\n' ' ' <out | sed 's/ $//')" "--wa<TAB>"
	complete_words qvm vm --wait=
	expect_eq --wait= "$(cat out)" "--wait=<TAB>"
}
test_case '--wait completes without a space after it' t_wait

t_files() {
	: >web.yaml
	: >notes.txt
	complete_words qvm vm w
	expect_line web.yaml out
}
test_case 'qvm vm completes files' t_files

t_vm_names() {
	base_image
	vm_file c1.yaml comp1
	run_qvm vm c1.yaml
	expect_exit 0
	vm_file c2.yaml comp2
	run_qvm vm c2.yaml
	expect_exit 0
	complete_words qvm destroy comp
	expect_eq $'comp1\ncomp2' "$(cat out)" "VM names"
	complete_words qvm destroy --yes comp2
	expect_eq comp2 "$(cat out)" "after an option"
}
test_case 'qvm destroy completes the names of the VMs qvm made' t_vm_names

t_import() {
	printf 'images:\n  debian-12:\n    url: /d.raw\n    checksum: /SUMS\n    osinfo: linux2022\n    user: debian\n    arch: x86_64\n' >cat.yaml
	: >debian.raw
	QVM_IMAGES=$TEST_DIR/cat.yaml complete_words qvm import deb
	expect_eq $'debian-12\ndebian.raw' "$(cat out)" "catalog names and files"
	complete_words qvm import --osinfo linux20
	expect_line linux2022 out
	complete_words qvm import --os
	expect_eq --osinfo "$(cat out)" "--os<TAB>"
	complete_words qvm images --av
	expect_eq --available "$(cat out)" "--av<TAB>"
	complete_words qvm list --all
	expect_eq --all-hosts "$(cat out)" "list --all<TAB>"
	complete_words qvm images --all
	expect_eq --all-hosts "$(cat out)" "images --all<TAB>"
	printf 'alpha:\n  ssh: root@10.0.0.1\n' >hosts.yaml
	QVM_HOSTS=$TEST_DIR/hosts.yaml complete_words qvm vm --host ''
	expect_eq $'alpha\nauto' "$(cat out)" "vm --host <TAB>"
	QVM_HOSTS=$TEST_DIR/hosts.yaml complete_words qvm list --host ''
	expect_eq alpha "$(cat out)" "list --host <TAB>"
}
test_case 'qvm import completes catalog names, files and osinfo names' t_import

t_images_copy() {
	base_image
	complete_words qvm images c
	expect_eq copy "$(cat out)" "images c<TAB>"
	complete_words qvm images copy tank/images/deb
	expect_eq "$BASE" "$(cat out)" "the images imported here"
	complete_words qvm images copy --q
	expect_eq --quiet "$(cat out)" "copy --q<TAB>"
}
test_case 'qvm images copy completes the images imported here' t_images_copy

t_ssh() {
	base_image
	vm_file c1.yaml comp1
	run_qvm vm c1.yaml
	expect_exit 0
	complete_words qvm ssh co
	expect_eq comp1 "$(cat out)" "VM names"
	complete_words qvm ssh --user admin co
	expect_eq comp1 "$(cat out)" "after --user USER"
	complete_words qvm ssh --u
	expect_eq --user "$(cat out)" "--u<TAB>"
	complete_words qvm ssh --user ''
	expect_eq '' "$(cat out)" "--user <TAB>"
	# after the name: the remote command's words, not qvm's
	complete_words qvm ssh comp1 -- co
	expect_eq '' "$(cat out)" "after --"
	complete_words qvm ssh comp1 co
	expect_eq '' "$(cat out)" "after the name"
}
test_case 'qvm ssh completes VM names and --user, nothing after the name' t_ssh

test_done
