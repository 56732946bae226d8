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
	json_check out 'd[0]["disks"][0] == "tank/images/m1" and sorted(d[0]["disks"]) == ["tank/images/m1", "tank/images/m1-data", "tank/images/m1-disk1"]'
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

# expect_nothing_made NAME: no dataset, no zfs change, no seed directory
expect_nothing_made() {
	expect_state_unchanged before
	expect_file_absent "$QVM_STATE_DIR/$1"
	zfs_mutations calls
	expect_eq '' "$(sed '/^create -n /d' calls)" "zfs changes"
}

t_bad_volume_before_change() {
	# a size zfs cannot read: refused with the file's line and column
	disks_file m8.yaml m8
	sed -i 's/volsize: 8M/volsize: 20X/' m8.yaml
	zfs_snapshot_state before
	run_qvm vm m8.yaml
	expect_exit 1
	expect_line "Error reading qvm file: m8.yaml:15:16: invalid volsize '20X': invalid numeric suffix 'X'" err
	expect_nothing_made m8
	sed -i 's/volsize: 20X/volsize: 0/' m8.yaml
	run_qvm vm m8.yaml
	expect_exit 1
	expect_line "Error reading qvm file: m8.yaml:15:16: invalid volsize '0': volume size cannot be zero" err
	expect_nothing_made m8

	# a property value only zfs can judge: its own dry run of the create
	disks_file m9.yaml m9
	sed -i 's/volblocksize: 64K/volblocksize: 3000/' m9.yaml
	zfs_log_reset
	run_qvm vm m9.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: zfs refuses zvol tank/images/m9-disk1: cannot verify 'tank/images/m9-disk1': 'volblocksize' must be power of 2 from 512B to 16M" err
	expect_nothing_made m9
	# the dry run was the exact create a real run makes, with -n
	expect_match "^create -n -V 8M -o volblocksize=3000 -o qvm:kind=vm-disk -o qvm:vm=m9 .*-o qvm:disk=1 tank/images/m9-disk1$" calls

	# a clone's new size: checked with the rest, before the first change
	disks_file m10.yaml m10
	sed -i "s|base: $BASE\$|base: $BASE\n      volsize: 1.5Q|" m10.yaml
	run_qvm vm m10.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: invalid volsize '1.5Q' for clone tank/images/m10: invalid numeric suffix 'Q'" err
	expect_nothing_made m10
	# a size zfs reads, but not a whole number of the base's blocks (16K)
	sed -i 's/volsize: 1.5Q/volsize: 1.3G/' m10.yaml
	zfs_log_reset
	run_qvm vm m10.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: invalid volsize '1.3G' for clone tank/images/m10: 'volsize' must be a multiple of volume block size (16K)" err
	expect_nothing_made m10
	expect_no_match '^(clone |create -V)' calls
	# a whole number of them is cloned
	sed -i 's/volsize: 1.3G/volsize: 1.25G/' m10.yaml
	run_qvm vm m10.yaml
	expect_exit 0
	expect_eq 1342177280 "$(zfs get -H -p -o value volsize tank/images/m10)" "the clone's size"
}
test_case 'a bad volsize or zvol property is refused before any change' t_bad_volume_before_change

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


t_signal_during_checks() {
	# a signal while zfs judges a new volume (create -n runs to its end):
	# qvm stops before its first change, and dies of the signal
	fault_shims
	disks_file m11.yaml m11
	zfs_snapshot_state before
	zfs_log_reset
	FAULT_DELAY=create:2 "$QVM" vm m11.yaml >out 2>err & pid=$!
	for _ in $(seq 100); do [ -e "$FAULT_MARK" ] && break; sleep 0.1; done
	expect_file_exists "$FAULT_MARK"
	kill -INT $pid
	status=0; wait $pid || status=$?
	expect_eq 130 "$status" "exit status"
	expect_match 'interrupted by signal SIGINT' err
	expect_no_match 'Creating cloud-init seed' out
	expect_nothing_made m11
}
test_case 'a signal during the checks: nothing made, qvm dies of it' t_signal_during_checks

t_base_not_volume() {
	# a snapshot of a filesystem clones, but is no disk: refused first
	zfs create tank/images/fs
	zfs snapshot tank/images/fs@base
	disks_file m12.yaml m12
	sed -i "s|base: $DATA@v1|base: tank/images/fs|" m12.yaml
	zfs_snapshot_state before
	zfs_log_reset
	run_qvm vm m12.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: base tank/images/fs@base is a snapshot of a filesystem, not of a volume" err
	expect_nothing_made m12
}
test_case 'a base that is a filesystem snapshot: refused before any change' t_base_not_volume

test_done
