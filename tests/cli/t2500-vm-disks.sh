#!/bin/bash
# SPDX-License-Identifier: MIT
# Several zvol-backed disks in one VM: clones (base:) and new blank volumes
# (zvol: {volsize: ...} without base), created in file order after the boot
# disk, all rolled back together, all marked as the VM's disks.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

DATA=tank/images/data

setup() {
	base_image
	zfs create -s -V 1M $DATA
	zfs snapshot $DATA@v1
	zfs_log_reset
}

# disks_file FILE NAME: boot clone, a cdrom, a blank volume, a clone of $DATA@v1
disks_file() {
	cat >"$1" <<-EOF
	---
	qvm: vm
	name: $2
	connect: test:///default
	memory: 256
	import: true
	osinfo: detect=on,require=off
	graphics: none
	network: none
	disk:
	  - bus: virtio
	    zvol:
	      base: $BASE
	  - zvol:
	      volsize: 8M
	      volblocksize: 64K
	    bus: virtio
	  - zvol:
	      base: $DATA@v1
	      name: tank/images/$2-data
	---
	qvm: user-data
	---
	qvm: meta-data
	EOF
}

t_disks() {
	disks_file m1.yaml m1
	run_qvm vm m1.yaml
	expect_exit 0
	expect_lines_in_order out "^Cloning $BASE@base to tank/images/m1\.\.\. done$" \
		'^Creating zvol tank/images/m1-disk1 of 8M\.\.\. done$' \
		"^Cloning $DATA@v1 to tank/images/m1-data\.\.\. done$" '^VM m1 created$'
	zfs_mutations calls
	expect_lines_in_order calls "^clone .* $BASE@base tank/images/m1$" \
		"^create -V 8M -o volblocksize=64K -o qvm:kind=vm-disk -o qvm:vm=m1 .*-o qvm:disk=1 tank/images/m1-disk1$" \
		"^clone .*-o qvm:disk=2 $DATA@v1 tank/images/m1-data$" \
		'^set qvm:state=ready tank/images/m1-disk1$' '^set qvm:state=ready tank/images/m1-data$' \
		'^set qvm:state=ready tank/images/m1$'
	expect_eq 8388608 "$(zfs get -H -p -o value volsize tank/images/m1-disk1)" "blank volume size"
	expect_eq - "$(zfs get -H -o value qvm:disk tank/images/m1)" "the boot disk has no index"
	expect_match " --disk path=$QVM_ZVOL_DIR/tank/images/m1,bus=virtio --disk path=$QVM_ZVOL_DIR/tank/images/m1-disk1,bus=virtio --disk path=$QVM_ZVOL_DIR/tank/images/m1-data --uuid [0-9a-f-]{36} --noautoconsole " "$VIRT_INSTALL_LOG"
	run_qvm list --json
	json_check out 'd[0]["disk"] == "tank/images/m1" and sorted(d[0]["disks"]) == ["tank/images/m1", "tank/images/m1-data", "tank/images/m1-disk1"]'
	json_check out 'd[0]["disks"][0] == "tank/images/m1" and d[0]["base"] == "tank/images/debian12@base"'
	run_qvm destroy --yes m1
	expect_exit 0
	for ds in m1 m1-disk1 m1-data; do
		expect_eq '' "$(zfs list -H -o name tank/images/$ds 2>/dev/null)" "$ds destroyed"
	done
}
test_case 'clones and a blank volume: created in order, marked, listed, destroyed together' t_disks

t_rollback_create() {
	disks_file m2.yaml m2
	zfs_snapshot_state before
	ZFS_DOUBLE_FAIL=create run_qvm vm m2.yaml
	expect_exit 1
	expect_match "^Error provisioning virtual machine: cannot create zvol tank/images/m2-disk1: cannot create 'tank/images/m2-disk1': out of space$" err
	expect_match '^Rolling back: removing zvol tank/images/m2\.\.\. done$' out
	expect_state_unchanged before
	expect_file_absent "$QVM_STATE_DIR/m2"
}
test_case 'a later disk failing rolls back the boot clone too' t_rollback_create

t_rollback_virt_install() {
	disks_file m3.yaml m3
	zfs_snapshot_state before
	VIRT_INSTALL_FAIL=dry-run run_qvm vm m3.yaml
	expect_exit 1
	expect_lines_in_order out 'Rolling back: removing zvol tank/images/m3-data' \
		'Rolling back: removing zvol tank/images/m3-disk1' 'Rolling back: removing zvol tank/images/m3\.'
	expect_state_unchanged before
}
test_case 'virt-install failing rolls back every disk, newest first' t_rollback_virt_install

t_checks() {
	disks_file m4.yaml m4
	zfs create -V 1M tank/images/m4-disk1
	sed -i "s|base: $DATA@v1|base: $DATA@nope|" m4.yaml
	zfs_snapshot_state before
	run_qvm vm m4.yaml
	expect_exit 1
	expect_match '^Error validating virtual machine: zvol target tank/images/m4-disk1 already exists' err
	expect_match "^Error validating virtual machine: base snapshot $DATA@nope does not exist" err
	expect_state_unchanged before
}
test_case 'every disk is checked before any change' t_checks

t_dry_run() {
	disks_file m5.yaml m5
	zfs_snapshot_state before
	run_qvm vm --dry-run m5.yaml
	expect_exit 0
	expect_lines_in_order out "^  run: zfs clone .* $BASE@base tank/images/m5$" \
		'^  run: zfs create -V 8M -o volblocksize=64K .* tank/images/m5-disk1$' \
		"^  run: zfs clone .* $DATA@v1 tank/images/m5-data$" \
		'^  run: zfs set qvm:state=ready tank/images/m5$'
	expect_state_unchanged before
}
test_case '--dry-run shows every disk' t_dry_run

t_name_follows() {
	disks_file m6.yaml m6
	run_qvm vm --name m7 m6.yaml
	expect_exit 0
	zfs list -H -o name tank/images/m7 tank/images/m7-disk1 tank/images/m7-data >/dev/null
}
test_case '--name: every disk follows the name' t_name_follows

test_done
