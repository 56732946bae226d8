#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm vm --dry-run FILE: every check of a real run, virt-install
# --print-xml --dry-run against the base image's device (the XML checked as
# a real run checks it), the exact commands printed, nothing changed.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

setup() { base_image; }

t_dry() {
	vm_file n1.yaml n1
	zfs_snapshot_state before
	run_qvm vm --dry-run n1.yaml
	expect_exit 0
	expect_lines_in_order out '^Reading n1\.yaml\.\.\. VM n1' \
		"^Validating with virt-install --print-xml --dry-run against $QVM_ZVOL_DIR/$BASE\.\.\. done$" \
		'^A real run would:$' \
		"^  create $QVM_STATE_DIR/n1 \(mode 0711\) and $QVM_STATE_DIR/n1/seed\.iso \(0600\) holding user-data, meta-data$" \
		"^  run: zfs clone -o qvm:kind=vm-disk -o qvm:vm=n1 -o qvm:connect=test:///default -o qvm:uuid=[0-9a-f-]{36} -o qvm:state=creating -o qvm:run=[0-9]+-[0-9a-f]+(@[0-9a-f]{12}-[0-9a-f]+)? -o qvm:user=admin $BASE@base tank/images/n1$" \
		"^  run: virt-install --name n1 .* --disk path=$QVM_ZVOL_DIR/tank/images/n1,bus=virtio --uuid [0-9a-f-]{36} --noautoconsole --disk path=$QVM_STATE_DIR/n1/seed\.iso,device=cdrom --serial pty,log\.file=$QVM_STATE_DIR/n1/console\.log --print-xml --dry-run --debug$" \
		"^  define and start domain n1 \(UUID [0-9a-f-]{36}\) on test:///default through libvirt, with the XML it prints$" \
		"^  \\(libvirt then logs its serial console to $QVM_STATE_DIR/n1/console\\.log\\)$" \
		'^  run: zfs set qvm:state=ready tank/images/n1$' \
		'^Dry run: VM n1 checked; nothing was changed$'
	expect_state_unchanged before
	expect_file_absent "$QVM_STATE_DIR"
	zfs_mutations calls
	expect_empty calls
	# virt-install ran once, for the XML, on the base's device and a temporary seed
	expect_eq 1 "$(wc -l <"$VIRT_INSTALL_LOG")" "virt-install calls"
	expect_match " --disk path=$QVM_ZVOL_DIR/$BASE,bus=virtio " "$VIRT_INSTALL_LOG"
	expect_match " --print-xml --dry-run --debug$" "$VIRT_INSTALL_LOG"
	seed=$(sed -n 's/.* --disk path=\([^ ,]*\),device=cdrom.*/\1/p' "$VIRT_INSTALL_LOG")
	expect_file_absent "$seed"
}
test_case '--dry-run: checks, virt-install --dry-run on the base device, prints the commands, changes nothing' t_dry

t_same_commands() {
	vm_file n2.yaml n2
	run_qvm vm -n n2.yaml
	expect_exit 0
	# the UUID is made anew by each run (unless the file sets uuid:)
	sed -n 's/^  run: //p' out | sed 's/qvm:run=[^ ]*/qvm:run=X/; s/[0-9a-f]\{8\}-[0-9a-f-]\{27\}/UUID/g' >printed
	: >"$VIRT_INSTALL_LOG"
	zfs_log_reset
	run_qvm vm n2.yaml
	expect_exit 0
	# what the real run ran, in order (zfs's log lists, gets and sets too)
	{
		grep -E '^clone ' "$ZFS_DOUBLE_LOG" | sed 's/^/zfs /'
		sed 's/^/virt-install /' "$VIRT_INSTALL_LOG"
		grep -E '^set qvm:state=ready ' "$ZFS_DOUBLE_LOG" | sed 's/^/zfs /'
	} | sed 's/qvm:run=[^ ]*/qvm:run=X/; s/[0-9a-f]\{8\}-[0-9a-f-]\{27\}/UUID/g' >ran
	expect_same printed ran
	# with uuid: in the file, the very same commands
	vm_file n7.yaml n7 test:///default 'uuid: 4B7C5E2A-9D3F-4E1A-8C6B-2F0D1E3A5B7C'
	run_qvm vm -n n7.yaml
	expect_exit 0
	expect_match '^  run: zfs clone .*-o qvm:uuid=4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c ' out
	expect_match '^  define and start domain n7 \(UUID 4b7c5e2a-9d3f-4e1a-8c6b-2f0d1e3a5b7c\)' out
	expect_match ' --uuid 4B7C5E2A-9D3F-4E1A-8C6B-2F0D1E3A5B7C ' out
}
test_case '--dry-run prints exactly the commands the real run then runs' t_same_commands

t_dry_errors() {
	vm_file n3.yaml n3
	zfs clone $BASE@base tank/images/n3
	mkdir -p "$QVM_STATE_DIR/n3"
	zfs_snapshot_state before
	run_qvm vm --dry-run n3.yaml
	expect_exit 1
	expect_match '^Error validating virtual machine: clone target tank/images/n3 already exists' err
	expect_match '^Error validating virtual machine: VM n3 exists \(seed directory .*/n3\): qvm destroy n3, or pick another --name$' err
	expect_state_unchanged before
	expect_no_match 'would' out
}
test_case '--dry-run: name collisions are errors' t_dry_errors

t_dry_virt_install_fails() {
	vm_file n4.yaml n4
	zfs_snapshot_state before
	VIRT_INSTALL_FAIL=dry-run run_qvm vm --dry-run n4.yaml
	expect_exit 1
	expect_line 'Error validating virtual machine: virt-install --print-xml failed: ERROR    injected failure (dry-run)' err
	expect_state_unchanged before
	expect_file_absent "$QVM_STATE_DIR"
	# a real virt-install refusal: a value it does not know
	vm_file n5.yaml n5 test:///default 'sound: frobnicate=1'
	run_qvm vm --dry-run n5.yaml
	expect_exit 1
	expect_match '^Error validating virtual machine: virt-install --print-xml failed: .*frobnicate' err
	expect_state_unchanged before
}
test_case '--dry-run: virt-install --dry-run refusing is an error, nothing changed' t_dry_virt_install_fails

t_dry_base_missing() {
	vm_file n6.yaml n6
	sed -i "s|base: $BASE|base: tank/images/nope|" n6.yaml
	run_qvm vm --dry-run n6.yaml
	expect_exit 1
	expect_line 'Error validating virtual machine: base snapshot tank/images/nope@base does not exist' err
	expect_eq 0 "$(wc -l <"$VIRT_INSTALL_LOG" 2>/dev/null || echo 0)" "virt-install calls"
}
test_case '--dry-run: a missing base snapshot' t_dry_base_missing

test_done
