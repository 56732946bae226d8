#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm vm FILE as a template: --name NAME, --set PATH=VALUE, --count N.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

setup() { base_image; }

# meta NAME KEY: a meta-data value of VM NAME's seed.
meta() {
	extract_seed "$1" "seed-$1"
	python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))[sys.argv[2]])' \
		"seed-$1/meta-data" "$2"
}

t_name() {
	vm_file web.yaml web
	# values written equal to the old name follow it; others stay
	cat >>web.yaml <<-EOF
	instance-id: web
	local-hostname: web
	EOF
	sed -i 's/^  - name: admin/  - name: admin\nhostname: web\nfqdn: web.example.com\ntimezone: web/' web.yaml
	run_qvm vm --name db1 web.yaml
	expect_exit 0
	expect_line 'VM db1 created' out
	expect_eq tank/images/db1 "$(zfs list -H -o name tank/images/db1)" "clone named after --name"
	expect_eq db1 "$(zfs get -H -o value qvm:vm tank/images/db1)" "qvm:vm"
	expect_match '^--name db1 ' "$VIRT_INSTALL_LOG"
	expect_eq db1 "$(meta db1 instance-id)" instance-id
	expect_eq db1 "$(meta db1 local-hostname)" local-hostname
	expect_match '^hostname: db1$' seed-db1/user-data
	expect_match '^fqdn: db1\.example\.com$' seed-db1/user-data
	expect_match '^timezone: web$' seed-db1/user-data
	expect_file_exists "$QVM_STATE_DIR/db1/seed.iso"
	expect_file_absent "$QVM_STATE_DIR/web"
}
test_case '--name: the VM, its clone, seed, hostname and instance-id follow the new name' t_name

t_name_kept() {
	vm_file web.yaml web '' ''
	sed -i 's|^    base: .*|&\n    name: tank/images/fixed-disk|' web.yaml
	cat >>web.yaml <<-EOF
	instance-id: i-0001
	local-hostname: frontend
	EOF
	run_qvm vm --name db2 web.yaml
	expect_exit 0
	# not derived from the old name: kept as written
	expect_eq tank/images/fixed-disk "$(zfs list -H -o name tank/images/fixed-disk)" "explicit clone name"
	expect_eq i-0001 "$(meta db2 instance-id)" instance-id
	expect_eq frontend "$(meta db2 local-hostname)" local-hostname
}
test_case '--name: values not derived from the old name are kept' t_name_kept

t_zvol_name() {
	vm_file web.yaml web
	sed -i 's|^    base: .*|&\n    name: tank/images/web|' web.yaml
	run_qvm vm --name db3 web.yaml
	expect_exit 0
	expect_eq tank/images/db3 "$(zfs list -H -o name tank/images/db3)" "clone"
}
test_case "--name: a zvol name ending in the old name follows it" t_zvol_name

t_set() {
	vm_file s1.yaml s1
	run_qvm vm --set vm.memory=4096 --set meta-data.local-hostname=db1 \
		--set vm.disk.zvol.volsize=4M --set 'user-data.users.0.name=bob' \
		--set 'user-data.write_files=[{path: /x, content: "y"}]' \
		--set "vm.metadata.description='007'" --set vm.memory=512 s1.yaml
	expect_exit 0
	expect_match '^--name s1 --connect test:///default --memory 512 ' "$VIRT_INSTALL_LOG"
	expect_match " --metadata description=007 " "$VIRT_INSTALL_LOG"
	expect_eq 4194304 "$(zfs get -H -p -o value volsize tank/images/s1)" "volsize from --set"
	expect_eq db1 "$(meta s1 local-hostname)" local-hostname
	expect_match '^- name: bob$' seed-s1/user-data
	expect_match '^- path: /x$' seed-s1/user-data
}
test_case '--set PATH=VALUE: replaces and adds keys of any document, last one wins' t_set

t_set_errors() {
	vm_file s2.yaml s2
	zfs_snapshot_state before
	run_qvm vm --set nokey --set vm=1 --set foo.bar=1 --set vm.memory.x=1 \
		--set user-data.users.5.name=x --set network-config.version=2 --set 'vm.x=[a' s2.yaml
	expect_exit 1
	# a --set that names no document qvm knows, or a secret one, by its number
	expect_line 'Error reading qvm file: --set #1: expected PATH=VALUE' err
	expect_line 'Error reading qvm file: --set #2: PATH must name a document and a key, e.g. vm.memory' err
	expect_match "^Error reading qvm file: --set #3: unknown document" err
	expect_line "Error reading qvm file: --set vm.memory.x=1: 'x' is inside a scalar" err
	expect_line "Error reading qvm file: --set #5 (user-data): key 2 of the path is not an index of a sequence of 1 items" err
	expect_line 'Error reading qvm file: --set #6 (network-config): the file has no such document' err
	expect_match "^Error reading qvm file: --set vm\.x=\[a: the value is not valid YAML: line 2" err
	expect_state_unchanged before
	expect_file_absent "$QVM_STATE_DIR/s2"
}
test_case '--set mistakes: each reported, nothing changed' t_set_errors

t_set_checked() {
	vm_file s3.yaml s3
	run_qvm vm --set vm.name=bad/name --set 'vm.disk.zvol.base=' s3.yaml
	expect_exit 1
	expect_match "invalid VM name 'bad/name'" err
	expect_match "'base' is empty" err
}
test_case '--set results go through every check of the file' t_set_checked

t_count() {
	vm_file c.yaml web
	run_qvm vm --count 3 --name node c.yaml
	expect_exit 0
	expect_lines_in_order out 'VM node-1 created' 'VM node-2 created' 'VM node-3 created' \
		'^Created 3 of 3 VMs: node-1, node-2, node-3$'
	for i in 1 2 3; do
		expect_eq "node-$i" "$(zfs get -H -o value qvm:vm tank/images/node-$i)" "qvm:vm of node-$i"
		expect_eq "node-$i" "$(meta node-$i local-hostname)" "hostname of node-$i"
	done
}
test_case '--count N: NAME-1..NAME-N, a summary' t_count

t_instance_values() {
	vm_file c.yaml web
	run_qvm vm --count 2 --name 'node{n}' --set 'meta-data.local-hostname={name}.lan' \
		--set 'vm.metadata.description=VM {n} of 2 {{n}' --set 'user-data.x={a: {b: c}}' c.yaml
	expect_exit 0
	expect_line 'Created 2 of 2 VMs: node1, node2' out
	for i in 1 2; do
		expect_eq "node$i.lan" "$(meta node$i local-hostname)" "hostname of node$i"
		expect_eq "node$i" "$(zfs get -H -o value qvm:vm tank/images/node$i)" "clone of node$i"
	done
	expect_contains "--metadata 'description=VM 2 of 2 {n}' " "$VIRT_INSTALL_LOG"
	# without --count: {n} is 1
	run_qvm vm --name 'solo{n}' --set 'user-data.hostname={name}' c.yaml
	expect_exit 0
	expect_line 'VM solo1 created' out
	# mistakes: said before anything is read, naming the option
	zfs_snapshot_state before
	run_qvm vm --name 'a{name}' c.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: --name: {name} is the VM's final name: it cannot be part of that name" err
	run_qvm vm --count 2 --name 'a{x}' c.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: --name: unknown placeholder (expected {n} or {name}; {{ for a literal brace)" err
	run_qvm vm --set 'vm.memory={mem}' c.yaml
	expect_exit 1
	expect_line "Error reading qvm file: --set vm.memory={mem}: unknown placeholder (expected {n} or {name}; {{ for a literal brace)" err
	# a secret document's value is not quoted
	run_qvm vm --set 'user-data.password=s3cret{x}' c.yaml
	expect_exit 1
	expect_line "Error reading qvm file: --set #1 (user-data): unknown placeholder (expected {n} or {name}; {{ for a literal brace)" err
	expect_no_match s3cret err
	run_qvm vm --set 'vm.name=x{name}' c.yaml
	expect_exit 1
	expect_contains "--set vm.name=x{name}: {name} is the VM's final name" err
	expect_state_unchanged before
}
test_case '{n} and {name}: per-instance values in --name and --set' t_instance_values

t_count_partial() {
	vm_file c.yaml web
	# instance 4's copies=4 is refused by zfs clone: that VM alone fails
	run_qvm vm --count 4 --name y --set 'vm.disk.zvol.copies={n}' c.yaml
	expect_exit 1
	expect_match "^Error provisioning virtual machine: .*copies" err
	expect_line 'Created 3 of 4 VMs: y-1, y-2, y-3' out
	expect_line 'Error provisioning virtual machine: 1 of 4 VMs not created: y-4' err
	expect_eq 3 "$(zfs get -H -o value copies tank/images/y-3)" "y-3's copies={n}"
	expect_eq '' "$(zfs list -H -o name tank/images/y-4 2>/dev/null)" "y-4 rolled back"
	expect_file_absent "$QVM_STATE_DIR/y-4"
	# each all or nothing: web-2's failure left nothing of web-2
	VIRT_INSTALL_FAIL=dry-run run_qvm vm --count 2 --name x c.yaml
	expect_exit 1
	expect_line 'Created 0 of 2 VMs' out
	expect_eq '' "$(zfs list -H -o name tank/images/x-1 tank/images/x-2 2>/dev/null)" "rolled back"
}
test_case '--count: each VM all or nothing, failures summed up, exit 1' t_count_partial

t_count_existing() {
	vm_file c.yaml web
	run_qvm vm --name web-2 c.yaml
	expect_exit 0
	uuid2=$(zfs get -H -o value qvm:uuid tank/images/web-2)
	mkdir -p "$QVM_STATE_DIR/web-3"
	zfs_snapshot_state before
	run_qvm vm --count 3 c.yaml
	expect_exit 1
	expect_line 'Error validating virtual machine: 2 of 3 VMs exist: web-2, web-3; nothing made (qvm destroy them, or add --skip-existing to make only the others)' err
	expect_state_unchanged before
	expect_file_absent "$QVM_STATE_DIR/web-1"
	# a dry run says the same
	run_qvm vm --count 3 --dry-run c.yaml
	expect_exit 1
	expect_contains '2 of 3 VMs exist: web-2, web-3' err
	# --skip-existing: the rest made, the others left alone
	run_qvm vm --count 3 --skip-existing c.yaml
	expect_exit 0
	expect_lines_in_order out 'VM web-1 created' 'Skipping VM web-2: it exists' 'Skipping VM web-3: it exists' \
		'^Created 1 of 3 VMs: web-1; skipped 2 that exist: web-2, web-3$'
	expect_eq "$uuid2" "$(zfs get -H -o value qvm:uuid tank/images/web-2)" "web-2 left as it was"
	expect_file_absent "$QVM_STATE_DIR/web-3/seed.iso"
	# again: all exist now, nothing to make, still a success
	run_qvm vm --count 3 --skip-existing c.yaml
	expect_exit 0
	expect_line 'Created 0 of 3 VMs; skipped 3 that exist: web-1, web-2, web-3' out
	# an interrupted run's seed directory is a leftover, not a VM: that
	# instance is tried, and fails saying what it is
	mkdir -p "$QVM_STATE_DIR/lo-2"
	echo 999999-0123456789abcdef >"$QVM_STATE_DIR/lo-2/.qvm-creating"
	run_qvm vm --count 2 --name lo --skip-existing c.yaml
	expect_exit 1
	expect_match "^Error validating virtual machine: seed directory .*/lo-2 is left over from an interrupted qvm run; remove what such runs left with: qvm cleanup --yes" err
	expect_line 'Created 1 of 2 VMs: lo-1' out
	# a dataset of an instance's name that qvm did not make is no VM that
	# exists (qvm destroy would not remove it): not skipped, and that
	# instance fails saying what is in its way
	zfs clone $BASE@base tank/images/f-2
	run_qvm vm --count 2 --name f --skip-existing c.yaml
	expect_exit 1
	expect_line 'Created 1 of 2 VMs: f-1' out
	expect_match 'tank/images/f-2' err
	expect_no_match 'Skipping VM f-2' out
	run_qvm vm --count 2 --name f c.yaml
	expect_exit 1
	expect_line 'Error validating virtual machine: 1 of 2 VMs exist: f-1; nothing made (qvm destroy them, or add --skip-existing to make only the others)' err
	# --skip-existing alone
	run_qvm vm --skip-existing c.yaml
	expect_exit 1
	expect_contains '--skip-existing goes with --count' err
}
test_case '--count: instances that exist stop it before any change, --skip-existing makes the rest' t_count_existing

t_option_errors() {
	vm_file o.yaml o
	run_qvm vm --count 0 o.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: --count must be a whole number from 1 to 1000, not '0'" err
	run_qvm vm --count x o.yaml
	expect_exit 1
	run_qvm vm --name '-x' o.yaml
	expect_exit 1
	expect_match "^Error validating virtual machine: invalid VM name '-x' for --name" err
	run_qvm vm --name
	expect_exit 1
	expect_match "^Error reading the command line: option '--name' needs a value" err
	expect_file_absent "$QVM_STATE_DIR/o"
}
test_case 'option mistakes are reported before anything is read' t_option_errors

test_done
