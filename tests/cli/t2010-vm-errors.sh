#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm vm FILE when things go wrong: every problem of §3.4 step 1 is reported
# before any change; a failure after a change undoes everything (§5); an
# undo that fails says what is left and how to remove it.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BASE=tank/images/debian12

setup() {
	zfs_pool
	zfs create -s -V 2M $BASE
	zfs snapshot $BASE@base
	zfs_log_reset
}

dev() { echo "$QVM_ZVOL_DIR/$1"; }

# vm_file FILE NAME [DISK-YAML [EXTRA-VM-LINES]]
vm_file() {
	local file=$1 name=$2 disk=${3:-} extra=${4:-}
	[ -n "$disk" ] || disk="disk:
  zvol:
    base: $BASE"
	{
		printf -- '---\nqvm: vm\nname: %s\nconnect: test:///default\nmemory: 256\n' "$name"
		printf 'import: true\nosinfo: detect=on,require=off\ngraphics: none\nnetwork: none\n'
		[ -z "$extra" ] || printf '%s\n' "$extra"
		printf '%s\n' "$disk"
		printf -- '...\n---\nqvm: user-data\nusers:\n  - name: admin\n...\n---\nqvm: meta-data\n'
	} >"$file"
}

# expect_nothing_done BEFORE: nothing changed in ZFS (datasets, properties,
# devices) and no seed directory is left.
expect_nothing_done() {
	expect_state_unchanged "$1"
	[ ! -d "$QVM_STATE_DIR" ] || expect_eq '' "$(ls -A "$QVM_STATE_DIR")" "seed directories"
}

# expect_checked_only BEFORE: like expect_nothing_done, and not even a zfs
# change was tried nor virt-install run.
expect_checked_only() {
	expect_nothing_done "$1"
	zfs_mutations calls
	expect_empty calls
	expect_file_absent "$VIRT_INSTALL_LOG"
}

# --- problems with the file (§3.4 step 1) -----------------------------------

t_file_missing() {
	zfs_snapshot_state before
	run_qvm vm nosuch.yaml
	expect_exit 1
	expect_first_line "^Error reading qvm file: .*nosuch\.yaml.*No such file or directory" err
	expect_checked_only before
}
test_case 'qvm file not found' t_file_missing

t_bad_yaml() {
	zfs_snapshot_state before
	printf -- '---\nqvm: vm\nname: [web1\n' >bad.yaml
	run_qvm vm bad.yaml
	expect_exit 1
	# with line and column
	expect_first_line '^Error reading qvm file: bad\.yaml:[0-9]+:[0-9]+: invalid YAML' err
	printf -- '- a\n- b\n' >seq.yaml
	run_qvm vm seq.yaml
	expect_exit 1
	expect_contains 'seq.yaml:1:1: document is not a mapping' err
	printf -- 'qvm: vm\nname: a\nname: b\n' >dup.yaml
	run_qvm vm dup.yaml
	expect_exit 1
	expect_match '^Error reading qvm file: dup\.yaml:[0-9]+:[0-9]+: .*(duplicate|twice|more than once).*name' err
	expect_checked_only before
}
test_case 'not YAML (with line and column), not a mapping, duplicate keys' t_bad_yaml

t_documents() {
	zfs_snapshot_state before
	vm_file ok.yaml web1
	# no qvm key; unknown qvm value; duplicate vm; user-data/meta-data missing
	{ echo '---'; echo 'name: x'; } >noqvm.yaml
	run_qvm vm noqvm.yaml
	expect_exit 1
	expect_contains "noqvm.yaml:2:1: document has no 'qvm' key" err
	sed 's/^qvm: meta-data$/qvm: metadataz/' ok.yaml >unknown.yaml
	run_qvm vm unknown.yaml
	expect_exit 1
	expect_contains "unknown document type 'metadataz'" err
	expect_no_match 'missing meta-data document' err
	{ cat ok.yaml; printf -- '---\nqvm: vm\nname: again\n'; } >twice.yaml
	run_qvm vm twice.yaml
	expect_exit 1
	expect_match 'twice\.yaml:[0-9]+:[0-9]+: duplicate vm document \(first at line 2\)' err
	sed '/^qvm: user-data$/,/^\.\.\.$/d' ok.yaml >nouser.yaml
	run_qvm vm nouser.yaml
	expect_exit 1
	expect_contains "missing user-data document (an empty one is enough: a document holding only 'qvm: user-data')" err
	expect_checked_only before
}
test_case 'documents: no qvm key, unknown kind, duplicate or missing documents' t_documents

t_vm_doc() {
	zfs_snapshot_state before
	vm_file ok.yaml web1
	sed '/^name: /d' ok.yaml >noname.yaml
	run_qvm vm noname.yaml
	expect_exit 1
	expect_contains "vm document has no 'name'" err
	for name in .web -web 'a b' 'we/b' "$(printf 'x%.0s' $(seq 65))" 'wéb'; do
		vm_file bad.yaml "$name"
		run_qvm vm bad.yaml
		expect_exit 1
		expect_contains "invalid VM name '$name'" err
	done
	vm_file nodisk.yaml web1 'other: 1'
	run_qvm vm nodisk.yaml
	expect_exit 1
	expect_contains "vm document has no 'disk'" err
	vm_file nozvol.yaml web1 'disk:
  bus: virtio'
	run_qvm vm nozvol.yaml
	expect_exit 1
	expect_match "(no 'disk' has a 'zvol'|'disk' has no 'zvol')" err
	vm_file nobase.yaml web1 'disk:
  zvol:
    volsize: 2G'
	run_qvm vm nobase.yaml
	expect_exit 1
	expect_contains "'zvol' has no 'base'" err
	vm_file badbase.yaml web1 'disk:
  zvol:
    base: tank/images/a b'
	run_qvm vm badbase.yaml
	expect_exit 1
	expect_contains "invalid base dataset 'tank/images/a b'" err
	vm_file badclone.yaml web1 "disk:
  zvol:
    base: $BASE
    name: tank//web1"
	run_qvm vm badclone.yaml
	expect_exit 1
	expect_contains "invalid clone name 'tank//web1'" err
	for key in dry-run print-xml; do
		vm_file dry.yaml web1 '' "$key: true"
		run_qvm vm dry.yaml
		expect_exit 1
		expect_contains "'$key' is not allowed in the vm document" err
	done
	vm_file empty.yaml web1 'disk:
  bus:
  zvol:
    base: '"$BASE"
	run_qvm vm empty.yaml
	expect_exit 1
	expect_first_line '^Error reading qvm file: empty\.yaml:[0-9]+:[0-9]+: ' err
	vm_file seqin.yaml web1 'disk:
  bus: [virtio, scsi]
  zvol:
    base: '"$BASE"
	run_qvm vm seqin.yaml
	expect_exit 1
	expect_first_line '^Error reading qvm file: seqin\.yaml:[0-9]+:[0-9]+: ' err
	expect_checked_only before
}
test_case 'vm document: name, VM name rules, disk/zvol/base, refused keys, bad values' t_vm_doc

t_many_errors() {
	printf -- '---\nqvm: vm\nname: .x\ndry-run: true\ndisk:\n  zvol: {volsize: 1G}\n' >many.yaml
	run_qvm vm many.yaml
	expect_exit 1
	expect_contains "invalid VM name '.x'" err
	expect_contains "'dry-run' is not allowed" err
	expect_contains "'zvol' has no 'base'" err
	expect_contains 'missing user-data document' err
	expect_no_match '^[^E]' err
}
test_case 'all the problems of a file are reported, not just the first' t_many_errors

# --- problems on the host (§3.4 step 1) -------------------------------------

t_base_missing() {
	zfs_snapshot_state before
	vm_file vm.yaml web1 'disk:
  zvol:
    base: tank/images/nosuch'
	run_qvm vm vm.yaml
	expect_exit 1
	expect_first_line '^Error validating virtual machine: base snapshot tank/images/nosuch@base does not exist$' err
	vm_file vm.yaml web1 "disk:
  zvol:
    base: $BASE@nosuch"
	run_qvm vm vm.yaml
	expect_exit 1
	expect_contains "base snapshot $BASE@nosuch does not exist" err
	expect_checked_only before
}
test_case 'base snapshot does not exist' t_base_missing

t_clone_exists() {
	zfs create -V 1M tank/images/web1
	printf 'precious' | dd of="$(dev tank/images/web1)" conv=notrunc status=none
	zfs_snapshot_state before
	zfs_log_reset
	vm_file vm.yaml web1
	run_qvm vm vm.yaml
	expect_exit 1
	expect_first_line '^Error validating virtual machine: clone target tank/images/web1 already exists' err
	expect_eq precious "$(head -c 8 "$(dev tank/images/web1)")" "the existing zvol's data"
	expect_checked_only before
}
test_case 'clone target exists: an error before any change, the dataset left alone' t_clone_exists

t_seed_exists() {
	mkdir -p "$QVM_STATE_DIR/web1"
	echo keep >"$QVM_STATE_DIR/web1/note"
	zfs_snapshot_state before
	vm_file vm.yaml web1
	run_qvm vm vm.yaml
	expect_exit 1
	expect_first_line "^Error validating virtual machine: VM web1 exists \\(seed directory $QVM_STATE_DIR/web1\\): qvm destroy web1, or pick another --name\$" err
	expect_eq keep "$(cat "$QVM_STATE_DIR/web1/note")" "the directory is left alone"
	expect_state_unchanged before
	zfs_mutations calls
	expect_empty calls
}
test_case 'seed directory exists: VM NAME exists, and how to remove it' t_seed_exists

t_host_errors_together() {
	mkdir -p "$QVM_STATE_DIR/web1"
	zfs_snapshot_state before
	vm_file vm.yaml web1 'disk:
  zvol:
    base: tank/images/nosuch
    name: tank/nosuch/web1'
	run_qvm vm vm.yaml
	expect_exit 1
	expect_contains 'base snapshot tank/images/nosuch@base does not exist' err
	expect_contains 'tank/nosuch' err
	expect_contains 'seed directory' err
	expect_state_unchanged before
}
test_case 'host problems are reported together' t_host_errors_together

# --- failures after a change: everything undone -------------------------------

t_clone_fails() {
	zfs_snapshot_state before
	vm_file vm.yaml web1
	ZFS_DOUBLE_FAIL=clone run_qvm vm vm.yaml
	expect_exit 1
	expect_first_line "^Error provisioning virtual machine: cannot clone $BASE@base to tank/images/web1: cannot create 'tank/images/web1': out of space$" err
	expect_nothing_done before
	expect_file_absent "$VIRT_INSTALL_LOG"
}
test_case 'zfs clone fails: the seed is removed' t_clone_fails

t_clone_refused() {
	zfs_snapshot_state before
	vm_file vm.yaml web1 "disk:
  zvol:
    base: $BASE
    volblocksize: 8K"
	run_qvm vm vm.yaml
	expect_exit 1
	expect_contains "cannot create 'tank/images/web1': 'volblocksize' is readonly" err
	vm_file vm.yaml web1 "disk:
  zvol:
    base: $BASE
    volsize: 1000"
	run_qvm vm vm.yaml
	expect_exit 1
	expect_contains "'volsize' must be a multiple of volume block size (16K)" err
	vm_file vm.yaml web1 "disk:
  zvol:
    base: $BASE
    nosuchprop: 1"
	run_qvm vm vm.yaml
	expect_exit 1
	expect_contains "invalid property 'nosuchprop'" err
	expect_nothing_done before
}
test_case 'zfs refuses a clone property: its own message is shown, all undone' t_clone_refused

t_device_never() {
	zfs_snapshot_state before
	vm_file vm.yaml web1
	QVM_DEVICE_TIMEOUT=1 ZFS_DOUBLE_DEVICE=never run_qvm vm vm.yaml
	expect_exit 1
	expect_first_line "^Error provisioning virtual machine: device $(dev tank/images/web1) did not appear within 1 seconds?$" err
	expect_nothing_done before
	expect_match '^destroy( -r)? tank/images/web1$' "$ZFS_DOUBLE_LOG"
}
test_case 'the clone'"'"'s device never appears: clone and seed removed' t_device_never

t_device_late() {
	vm_file vm.yaml web1
	QVM_DEVICE_TIMEOUT=3 ZFS_DOUBLE_DEVICE=late:1 run_qvm vm vm.yaml
	expect_exit 0
	expect_eq 1 "$(wc -l <"$VIRT_INSTALL_LOG")" "virt-install calls"
}
test_case 'the clone'"'"'s device appears late: waited for' t_device_late

t_dry_run_fails() {
	zfs_snapshot_state before
	vm_file vm.yaml web1
	VIRT_INSTALL_FAIL=dry-run run_qvm vm vm.yaml
	expect_exit 1
	expect_first_line '^Error provisioning virtual machine: virt-install --print-xml failed: ' err
	expect_contains 'ERROR    injected failure (dry-run)' err
	expect_nothing_done before
	expect_eq 1 "$(wc -l <"$VIRT_INSTALL_LOG")" "virt-install ran once"
	# virt-install's own reason, without its --debug lines
	vm_file vm.yaml web1 '' 'vcpus: many'
	run_qvm vm vm.yaml
	expect_exit 1
	expect_first_line '^Error provisioning virtual machine: virt-install --print-xml failed: ' err
	expect_contains 'many' err
	expect_no_match 'DEBUG|Traceback' err
	expect_nothing_done before
}
test_case 'virt-install --print-xml fails: its message shown (no debug lines), all undone' t_dry_run_fails

t_virt_install_words() {
	# several lines of virt-install's stay lines, not joined with "; "
	# (no osinfo at all is qvm's own error now: the file asks virt-install
	# to detect one, which it cannot for an imported disk)
	vm_file vm.yaml web1
	sed -i 's/^osinfo:.*/osinfo: detect=on,require=on/' vm.yaml
	run_qvm vm -n vm.yaml
	expect_exit 1
	expect_first_line '^Error validating virtual machine: virt-install --print-xml failed: ERROR +--os-variant/--osinfo OS name is required' err
	expect_no_match '; ' err
	expect_line '  set or detected.' err
	# an option that a key gave: where the key is
	vm_file vm.yaml web1 '' 'sound: frobnicate=1'
	sed -i 's/^osinfo:.*/osinfo: nosuchos99/' vm.yaml
	run_qvm vm -n vm.yaml
	expect_exit 1
	expect_first_line "^Error validating virtual machine: virt-install --print-xml failed: ERROR +Unknown OS name 'nosuchos99'" err
	expect_line "  vm.yaml:7:1: virt-install's --osinfo comes from this key" err
	# the same from a --set
	vm_file vm.yaml web1
	run_qvm vm -n --set vm.osinfo=nosuchos99 vm.yaml
	expect_exit 1
	expect_line "  virt-install's --osinfo comes from a --set" err
}
test_case "virt-install's own lines stay lines; the key an option it names came from" t_virt_install_words

t_real_fails() {
	zfs_snapshot_state before
	vm_file vm.yaml web1
	vm_file vm.yaml web1 '' 'xml: ./memory=abc'
	run_qvm vm vm.yaml
	expect_exit 1
	expect_match "^Error provisioning virtual machine: cannot create VM web1: cannot define the domain: .*'abc'.*; .*" err
	expect_eq 1 "$(grep -vc '^WARNING ' err)" "one line of error"
	expect_nothing_done before
}
test_case 'libvirt refuses the definition: its message shown, all undone' t_real_fails

t_undo_fails() {
	zfs_snapshot_state before
	vm_file vm.yaml web1
	vm_file vm.yaml web1 '' 'xml: ./memory=abc'
	ZFS_DOUBLE_FAIL=destroy run_qvm vm vm.yaml
	expect_exit 1
	expect_match '^Error provisioning virtual machine: cannot create VM web1: ' err
	expect_match '^Error rolling back: .*tank/images/web1.*dataset is busy' err
	expect_match 'left behind: zvol tank/images/web1' err
	expect_contains 'zfs destroy tank/images/web1' err
	expect_file_absent "$QVM_STATE_DIR/web1"
	expect_eq volume "$(zfs get -H -o value type tank/images/web1)" "the leftover"
	zfs destroy tank/images/web1
	expect_state_unchanged before
}
test_case 'undo fails: says what is left behind and how to remove it' t_undo_fails

t_fault_matrix() {
	vm_file probe.yaml probe
	run_qvm vm probe.yaml
	expect_exit 0
	calls=$(wc -l <"$ZFS_DOUBLE_LOG")
	vm_file vm.yaml web1
	for n in $(seq 1 "$calls"); do
		zfs_snapshot_state before
		zfs_calls_reset
		ZFS_DOUBLE_FAIL_CALL=$n run_qvm vm vm.yaml
		echo "zfs call $n failing"
		expect_exit 1
		expect_match '^Error (validating|provisioning) virtual machine: ' err
		expect_state_unchanged before
		expect_file_absent "$QVM_STATE_DIR/web1"
	done
}
test_case 'fault matrix: whichever zfs call fails, nothing is left' t_fault_matrix

t_signals() {
	vm_file vm.yaml web1
	zfs_snapshot_state before
	for sig in INT TERM; do
		QVM_DEVICE_TIMEOUT=30 ZFS_DOUBLE_DEVICE=never "$QVM" vm vm.yaml >out 2>err &
		pid=$!
		for _ in $(seq 50); do grep -q '^clone' "$ZFS_DOUBLE_LOG" && break; sleep 0.1; done
		sleep 0.3
		kill -s "$sig" "$pid"
		status=0
		wait "$pid" || status=$?
		expect_eq $((128 + $(kill -l "$sig"))) "$status" "exit status after SIG$sig"
		expect_state_unchanged before
		expect_file_absent "$QVM_STATE_DIR/web1"
		zfs_log_reset
	done
}
test_case 'SIGINT/SIGTERM while waiting for the device: rolled back, dies of the signal' t_signals

t_no_zfs() {
	vm_file vm.yaml web1
	mkdir bin
	for tool in virt-install xorriso; do ln -s "$(command -v $tool)" bin/; done
	run env PATH="$TEST_DIR/bin" "$QVM" vm vm.yaml
	expect_exit 1
	expect_contains 'zfs' err
	expect_no_match 'does not exist' err
}
test_case 'zfs is not on PATH: said so, not mistaken for a missing dataset' t_no_zfs

t_dev_null_disk() {
	# /dev/null is what virt-install gets in the seed's place
	printf '%s\n' 'qvm: vm' 'name: n1' 'connect: test:///default' 'import: true' 'disk:' \
		"  - zvol: {base: $BASE}" '  - path: /dev/./null' '---' 'qvm: user-data' >n.yaml
	run_qvm vm n.yaml
	expect_exit 1
	expect_match "a disk of /dev/null is refused: qvm gives it to virt-install in place of the seed" err
	expect_file_absent "$QVM_STATE_DIR/n1"
}
test_case 'vm: a disk of /dev/null (the seed stand-in) is refused' t_dev_null_disk

test_done
