#!/bin/bash
# SPDX-License-Identifier: MIT
# Each VM known by its UUID, on a libvirt that remembers (a private libvirtd
# serving the test driver, where domains outlive the process that made them
# as on a real host): exact option names, names and UUIDs checked up front,
# rollback and destroy by UUID and exact disk paths, the URI recorded,
# signals during the rollback, runs in progress left alone.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"
# shellcheck source=libvirtd.sh
. "$(dirname "$0")/libvirtd.sh"

libvirtd_for_cases
INJECT=${QVM_FAULT_LIB:-$TEST_REPO/build/tests/inject.so}
need_inject() { [ -e "$INJECT" ] || skip "no fault shim at $INJECT (QVM_FAULT_LIB)"; }

setup() {
	base_image
	# what a failed test left on the shared daemon must not fail the next
	if [ "$LV_OK" = 1 ]; then libvirtd_clear_domains; fi
}

# lv_has NAME: the daemon has a domain of that name (virsh would take a
# NAME of digits for an ID, as lv_domain_exists does).
lv_has() { virsh -c "$LV_URI" list --all --name | grep -Fxq -- "$1"; }
# lv_uuid NAME: the UUID of domain NAME on the daemon.
lv_uuid() { virsh -c "$LV_URI" domuuid "$1" 2>/dev/null | sed '/^$/d'; }
# lv_state NAME: its state ("running", "shut off").
lv_state() { virsh -c "$LV_URI" domstate "$1" 2>/dev/null | sed '/^$/d'; }
# foreign NAME DISK [ID-GETTER]: a domain qvm did not make, running, on DISK.
foreign() {
	mkdir -p "$(dirname "$2")"
	[ -e "$2" ] || truncate -s 1M "$2"
	virt-install --connect "$LV_URI" --name "$1" --memory 128 --import --osinfo detect=on,require=off \
		--graphics none --network none --disk "path=$2" --noautoconsole >/dev/null 2>&1
	lv_domain_exists "$1" || { echo "could not define foreign domain $1"; return 1; }
}
# two_disks FILE NAME DISK: a VM file whose disks are DISK (a flow
# mapping or "path: ...") and then the clone.
two_disks() {
	cat >"$1" <<-EOF
	qvm: vm
	name: $2
	connect: $LV_URI
	memory: 128
	import: true
	osinfo: detect=on,require=off
	graphics: none
	network: none
	disk:
	  - $3
	  - zvol: {base: $BASE}
	---
	qvm: user-data
	---
	qvm: meta-data
	EOF
}
# start_fails ARGS: run_qvm with libvirt's virDomainCreate failing (the
# domain is defined, its start fails).
start_fails() {
	QVM_FAULT_LIBVIRT=virDomainCreate:fail LD_PRELOAD=$INJECT \
		ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 run_qvm "$@"
}

t_abbreviations() {
	zfs_snapshot_state before
	# virt-install's argparse would expand each of these
	vm_file a.yaml a1 test:///default $'dry: true\nnam: hidden1\nconn: test:///default\nprint-x: 1\nmemroy: 64\nfrobnicate: 1'
	run_qvm vm a.yaml
	expect_exit 1
	expect_line "Error reading qvm file: a.yaml:15:1: 'dry' is not a virt-install option: virt-install would read it as --dry-run; spell it in full" err
	expect_match "^Error reading qvm file: a\.yaml:16:1: 'nam' .*--name" err
	expect_match "^Error reading qvm file: a\.yaml:17:1: 'conn' .*--connect" err
	expect_match "^Error reading qvm file: a\.yaml:18:1: 'print-x' .*--print-xml" err
	expect_match "^Error reading qvm file: a\.yaml:19:1: 'memroy' is not a virt-install option \(did you mean 'memory'\?\)$" err
	expect_line "Error reading qvm file: a.yaml:20:1: 'frobnicate' is not a virt-install option" err
	expect_state_unchanged before
	expect_file_absent "$QVM_STATE_DIR"
	expect_file_absent "$VIRT_INSTALL_LOG"
	# --dry-run refuses them the same way; an ambiguous one names every option
	vm_file b.yaml b1 test:///default 'mem: 64'
	run_qvm vm --dry-run b.yaml
	expect_exit 1
	expect_match "'mem' is not a virt-install option: virt-install would read it as one of --memory, .*--memballoon" err
	# a key a --set adds is named by its --set
	vm_file c.yaml c1
	run_qvm vm --set vm.nam=x c.yaml
	expect_exit 1
	expect_match "^Error reading qvm file: --set vm\.nam=x: 'nam' is not a virt-install option" err
	expect_state_unchanged before
}
test_case 'keys are virt-install options spelled in full: abbreviations and typos refused before any change' t_abbreviations

t_name_taken() {
	need_libvirtd
	foreign web1 "$TEST_DIR/other.raw"
	zfs_snapshot_state before
	vm_file w.yaml web1 "$LV_URI"
	for dry in --dry-run ''; do
		run_qvm vm $dry w.yaml
		expect_exit 1
		expect_match "^Error validating virtual machine: a domain named web1 already exists on test\+unix:///default\?socket=.* \(UUID $(lv_uuid web1)\), which is not qvm's: pick another --name$" err
		expect_state_unchanged before
		expect_file_absent "$QVM_STATE_DIR/web1"
	done
	expect_eq running "$(lv_state web1)" "the foreign domain"
	# qvm's own VM of that name: said so, with the way to remove it
	vm_file q.yaml q1 "$LV_URI"
	run_qvm vm q.yaml
	expect_exit 0
	run_qvm vm --name q1 w.yaml
	expect_exit 1
	expect_match "^Error validating virtual machine: VM q1 exists \(domain on test\+unix:///default\?socket=[^ ]*, clone tank/images/q1, seed directory $QVM_STATE_DIR/q1\): qvm destroy q1, or pick another --name$" err
	expect_eq 1 "$(grep -c . err)" "one message for the VM"
	# --count: a domain of an instance's name that is not qvm's is no
	# instance that exists (qvm destroy could not remove it): that
	# instance fails saying whose the domain is, the others are made,
	# also with --skip-existing
	run_qvm vm --count 2 --name 'web{n}' --skip-existing w.yaml
	expect_exit 1
	expect_match "^Error validating virtual machine: a domain named web1 already exists on .*, which is not qvm's: pick another --name$" err
	expect_line "Error provisioning virtual machine: 1 of 2 VMs not created: web1" err
	expect_no_match 'Skipping VM web1' out
	expect_eq web2 "$(zfs get -H -o value qvm:vm tank/images/web2)" "web2 made"
	expect_eq running "$(lv_state web1)" "the foreign domain"
	# qvm's own VM of an instance's name stops --count before any change
	run_qvm vm --count 2 --name 'q{n}' w.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: 1 of 2 VMs exist: q1; nothing made (qvm destroy them, or add --skip-existing to make only the others)" err
	expect_eq '' "$(zfs list -H -o name tank/images/q2 2>/dev/null)" "q2 not made"
	run_qvm vm --count 2 --name 'q{n}' --skip-existing w.yaml
	expect_exit 0
	expect_line 'Created 1 of 2 VMs: q2; skipped 1 that exists: q1' out
	expect_eq q2 "$(zfs get -H -o value qvm:vm tank/images/q2)" "q2 made"
	# a UUID in use, by another name
	vm_file u.yaml u1 "$LV_URI" "uuid: $(lv_uuid web1)"
	run_qvm vm u.yaml
	expect_exit 1
	expect_match "a domain with UUID $(lv_uuid web1) already exists on .* \(named web1\), which is not qvm's" err
	vm_file u.yaml u1 "$LV_URI" 'uuid: not-a-uuid'
	run_qvm vm u.yaml
	expect_exit 1
	expect_match "u\.yaml:15:7: 'uuid' must be a UUID" err
}
test_case 'a domain name or UUID in use is an error before any change, also in --dry-run, saying whose' t_name_taken

t_uuid_recorded() {
	need_libvirtd
	# no connect: in the file: qvm records the URI libvirt resolved
	vm_file n.yaml n1
	sed -i '/^connect:/d' n.yaml
	LIBVIRT_DEFAULT_URI=$LV_URI run_qvm vm n.yaml
	expect_exit 0
	uuid=$(lv_uuid n1)
	expect_eq "$uuid" "$(zfs get -H -o value qvm:uuid tank/images/n1)" "qvm:uuid"
	expect_eq "$LV_URI" "$(zfs get -H -o value qvm:connect tank/images/n1)" "qvm:connect"
	expect_match " --connect '?test\+unix:///default\?socket=[^ ]*'? --uuid $uuid " "$VIRT_INSTALL_LOG"
	expect_eq running "$(lv_state n1)" "started"
	# renamed behind qvm's back: still the same VM for list and destroy
	virsh -c "$LV_URI" destroy n1 >/dev/null 2>&1
	virsh -c "$LV_URI" domrename n1 renamed >/dev/null 2>&1
	expect_eq "$uuid" "$(lv_uuid renamed)" "renamed"
	# the default URI changed since: the recorded one is used
	LIBVIRT_DEFAULT_URI=test:///default run_qvm list --json
	expect_exit 0
	json_check out "[v for v in d if v['name'] == 'n1'][0]['state'] == 'shut off' and [v for v in d if v['name'] == 'n1'][0]['uuid'] == '$uuid'"
	LIBVIRT_DEFAULT_URI=test:///default run_qvm destroy --yes n1
	expect_exit 0
	expect_match "^  domain renamed \(UUID $uuid\) on test\+unix" out
	expect_fails lv_has renamed
	expect_file_absent "$QVM_ZVOL_DIR/tank/images/n1"
}
test_case 'the UUID and the resolved URI are recorded; list and destroy find the domain by them' t_uuid_recorded

t_numeric_name() {
	need_libvirtd
	need_inject
	# domain ID 1 is the test driver's own "test"; a VM named 1 is not it
	id=$(virsh -c "$LV_URI" domid test | sed '/^$/d')
	expect_eq 1 "$id" "ID of test"
	vm_file one.yaml 1 "$LV_URI"
	zfs_snapshot_state before
	start_fails vm one.yaml
	expect_exit 1
	expect_match 'cannot start the domain' err
	expect_match '^Rolling back: removing libvirt domain 1\.\.\. done$' out
	expect_eq running "$(lv_state test)" "domain ID 1"
	expect_fails lv_has 1
	expect_state_unchanged before
	run_qvm vm one.yaml
	expect_exit 0
	run_qvm destroy --yes 1
	expect_exit 0
	expect_eq running "$(lv_state test)" "domain ID 1 after destroy"
	expect_fails lv_has 1
}
test_case 'a VM named like another domain'"'"'s ID: rollback and destroy never touch that one' t_numeric_name

t_prefix_rollback() {
	need_libvirtd
	need_inject
	# a foreign domain on a disk whose path starts with the clone's path
	foreign other "$QVM_ZVOL_DIR/tank/images/p1-data"
	vm_file p.yaml p1 "$LV_URI"
	start_fails vm p.yaml
	expect_exit 1
	expect_fails lv_has p1
	expect_eq running "$(lv_state other)" "the foreign domain"
}
test_case 'rollback: a foreign domain on a disk path with the clone'"'"'s as prefix stays running' t_prefix_rollback

t_virt_install_defines_then_fails() {
	need_libvirtd
	# an install virt-install runs itself (cdrom): it defines the domain by
	# qvm's UUID, then fails; the rollback removes that domain
	truncate -s 1M install.iso
	vm_file i.yaml i1 "$LV_URI" "cdrom: $TEST_DIR/install.iso"
	sed -i '/^import: true$/d' i.yaml
	zfs_snapshot_state before
	VIRT_INSTALL_FAIL=after-real run_qvm vm i.yaml
	expect_exit 1
	expect_match '^Error provisioning virtual machine: virt-install failed: .*injected failure after the real run' err
	expect_eq 2 "$(wc -l <"$VIRT_INSTALL_LOG")" "virt-install: --print-xml, then the install"
	expect_match ' --print-xml --dry-run --debug$' <(sed -n 1p "$VIRT_INSTALL_LOG")
	expect_no_match ' --dry-run' <(sed -n 2p "$VIRT_INSTALL_LOG")
	expect_match '^Rolling back: removing libvirt domain i1\.\.\. done$' out
	expect_fails lv_has i1
	expect_state_unchanged before
	# and when it succeeds: the domain by qvm's UUID
	run_qvm vm i.yaml
	expect_exit 0
	expect_match 'Creating VM i1 \(UUID [0-9a-f-]{36}\) with virt-install, which runs its install' out
	expect_eq "$(zfs get -H -o value qvm:uuid tank/images/i1)" "$(lv_uuid i1)" "UUID"
}
test_case 'an install virt-install runs itself (cdrom): by qvm'"'"'s UUID; defined then failed: removed' t_virt_install_defines_then_fails

t_flags() {
	need_libvirtd
	# what virt-install would do after the XML, done through the API
	vm_file f1.yaml f1 "$LV_URI" $'autostart: true'
	run_qvm vm f1.yaml
	expect_exit 0
	expect_match 'Autostart: +enable' <(virsh -c "$LV_URI" dominfo f1)
	expect_eq running "$(lv_state f1)" "f1"
	vm_file f2.yaml f2 "$LV_URI" $'noreboot: true'
	run_qvm vm f2.yaml
	expect_exit 0
	expect_match '^Defining VM f2 ' out
	expect_eq 'shut off' "$(lv_state f2)" "f2 (noreboot)"
	vm_file f3.yaml f3 "$LV_URI" $'transient: true'
	run_qvm vm f3.yaml
	expect_exit 0
	expect_match 'Persistent: +no' <(virsh -c "$LV_URI" dominfo f3)
	run_qvm destroy --yes f3
	expect_exit 0
	expect_fails lv_has f3
	# refused: a console qvm never attaches
	vm_file f4.yaml f4 "$LV_URI" $'destroy-on-exit: true'
	run_qvm vm f4.yaml
	expect_exit 1
	expect_match "'destroy-on-exit' is not allowed in the vm document" err
}
test_case 'autostart, noreboot, transient carried out through libvirt; destroy-on-exit refused' t_flags

t_uefi() {
	need_libvirtd
	need_inject
	# a domain with NVRAM: undefined with it (the test driver keeps none,
	# and takes the flags it knows)
	vm_file e.yaml e1 "$LV_URI" \
		"boot: {loader: /usr/share/OVMF/OVMF_CODE.fd, loader.readonly: 'yes', loader.type: pflash, nvram: $TEST_DIR/e1_VARS.fd}"
	zfs_snapshot_state before
	start_fails vm e.yaml
	expect_exit 1
	expect_match '^Rolling back: removing libvirt domain e1\.\.\. done$' out
	expect_fails lv_has e1
	expect_state_unchanged before
}
test_case 'a UEFI domain (loader and NVRAM) is rolled back' t_uefi

t_other_disk() {
	need_libvirtd
	# storage the file does not name is refused, after virt-install wrote it
	vm_file x.yaml x1 "$LV_URI" "xml: ./devices/disk[1]/source/@file=/etc/shadow"
	zfs_snapshot_state before
	run_qvm vm x.yaml
	expect_exit 1
	expect_match "refusing the domain virt-install wrote: the domain would use /etc/shadow, which is neither" err
	expect_fails lv_has x1
	expect_state_unchanged before
	# a disk the file names itself, that exists: fine
	truncate -s 1M data.raw
	two_disks y.yaml y1 "path: $TEST_DIR/data.raw"
	run_qvm vm y.yaml
	expect_exit 0
	expect_match "<source file=.$TEST_DIR/data\.raw" <(virsh -c "$LV_URI" dumpxml y1)
	# a new file virt-install would have to create: nobody creates it
	two_disks z.yaml z1 "{path: $TEST_DIR/new.qcow2, size: 1}"
	run_qvm vm z.yaml
	expect_exit 1
	expect_match "would use $TEST_DIR/new\.qcow2, which is neither" err
	expect_file_absent new.qcow2
}
test_case 'the domain'"'"'s disks are exactly qvm'"'"'s and the existing ones the file names' t_other_disk

# signalled_rollback SECONDS N: qvm vm s.yaml fails at the domain's start,
# its rollback's zfs destroy takes SECONDS; N SIGINTs from then on, 0.2 s
# apart. Sets status.
signalled_rollback() {
	local pid i
	rm -f mark
	FAULT_DELAY=destroy:$1 FAULT_MARK=$TEST_DIR/mark FAULT_NEXT_ZFS=$(command -v zfs) \
		FAULT_NEXT_VIRT_INSTALL=$(command -v virt-install) PATH=$TEST_REPO/tests/faults/bin:$PATH \
		QVM_FAULT_LIBVIRT=virDomainCreate:fail LD_PRELOAD=$INJECT \
		ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 "$QVM" vm s.yaml >out 2>err &
	pid=$!
	for _ in $(seq 100); do [ -e mark ] && break; sleep 0.05; done
	for ((i = 1; i <= $2; i++)); do
		[ "$i" = 1 ] || sleep 0.2
		kill -INT $pid
	done
	status=0
	wait $pid || status=$?
}

t_rollback_signals() {
	need_libvirtd
	need_inject
	# the rollback's zfs destroy takes 2 s; INT twice meanwhile: it goes on
	vm_file s.yaml s1 "$LV_URI"
	zfs_snapshot_state before
	signalled_rollback 2 2
	expect_eq 130 "$status" "exit status"
	expect_no_match '^Error rolling back' err
	expect_fails lv_has s1
	expect_state_unchanged before
	# a third one gives up after the step it interrupts (zfs is never cut
	# short): what is left and how to remove it
	signalled_rollback 3 3
	expect_eq 130 "$status" "exit status"
	expect_match '^Rolling back: removing zvol tank/images/s1\.\.\. done$' out
	expect_match "^Error rolling back: stopped by a third signal; left behind: seed directory $QVM_STATE_DIR/s1; remove it with: rm -r $QVM_STATE_DIR/s1\$" err
	expect_file_exists "$QVM_STATE_DIR/s1/seed.iso"
}
test_case 'signals during the rollback: a second does not cut it short, a third says what is left' t_rollback_signals

t_destroy_during_run() {
	need_libvirtd
	# qvm destroy while qvm vm of that name waits in virt-install --print-xml
	vm_file r.yaml r1 "$LV_URI"
	rm -f mark
	FAULT_DELAY=dry-run:3 FAULT_MARK=$TEST_DIR/mark FAULT_NEXT_VIRT_INSTALL=$(command -v virt-install) \
		FAULT_NEXT_ZFS=$(command -v zfs) PATH=$TEST_REPO/tests/faults/bin:$PATH "$QVM" vm r.yaml >vm.out 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -e mark ] && break; sleep 0.05; done
	run_qvm destroy --yes r1
	expect_exit 1
	expect_match 'being created by a qvm still running' err
	run_qvm cleanup --yes
	expect_exit 0
	expect_match 'No leftovers' out
	wait $pid
	expect_match '^VM r1 created$' vm.out
	expect_eq running "$(lv_state r1)" "r1"
}
test_case 'destroy and cleanup during a run of the same VM: refused, left alone' t_destroy_during_run

t_cdrom_disk_tricks() {
	need_libvirtd
	# a source with two paths: libvirt reads the one the disk's type says
	truncate -s 1M allowed.img hostsecret install.iso
	cat >t.yaml <<-EOF
	qvm: vm
	name: t1
	connect: $LV_URI
	memory: 128
	osinfo: detect=on,require=off
	graphics: none
	network: none
	cdrom: $TEST_DIR/install.iso
	disk:
	  - bus: virtio
	    zvol: {base: $BASE}
	  - path: $TEST_DIR/allowed.img
	xml:
	  - ./devices/disk[2]/@type=block
	  - ./devices/disk[2]/source/@dev=$TEST_DIR/hostsecret
	---
	qvm: user-data
	---
	qvm: meta-data
	EOF
	zfs_snapshot_state before
	run_qvm vm t.yaml
	expect_exit 1
	expect_match "refusing the domain virt-install wrote for its install: the domain would use $TEST_DIR/hostsecret, which is neither" err
	expect_fails lv_has t1
	expect_state_unchanged before
	# virt-install defining more than it printed: the defined domain is
	# checked after the install, and removed
	sed -i '/^xml:/,/hostsecret$/d' t.yaml
	mkdir sneaky
	printf '#!/bin/sh
for a; do [ "$a" = --dry-run ] && exec "%s" "$@"; done
exec "%s" "$@" --disk "path=%s/hostsecret"
' \
		"$(command -v virt-install)" "$(command -v virt-install)" "$TEST_DIR" >sneaky/virt-install
	chmod +x sneaky/virt-install
	PATH=$TEST_DIR/sneaky:$PATH run_qvm vm t.yaml
	expect_exit 1
	expect_match "refusing the domain virt-install defined: the domain would use $TEST_DIR/hostsecret" err
	expect_match '^Rolling back: removing libvirt domain t1\.\.\. done$' out
	expect_fails lv_has t1
	expect_state_unchanged before
}
test_case 'a source naming two paths, and a virt-install defining more than it printed: refused, removed' t_cdrom_disk_tricks

t_destroy_two_domains() {
	need_libvirtd
	# a disk kept by destroy --keep-disks, then a new VM of the same name
	vm_file k.yaml k1 "$LV_URI"
	run_qvm vm k.yaml
	expect_exit 0
	run_qvm destroy --yes --keep-disks k1
	expect_exit 0
	sed -i "s|    base: $BASE|    base: $BASE\n    name: tank/images/new-k1|" k.yaml
	run_qvm vm k.yaml
	expect_exit 0
	zfs_snapshot_state before
	run_qvm destroy --yes k1
	expect_exit 1
	expect_match "^Error destroying VM: k1: its disks belong to more than one domain: .*; nothing of VM k1 was destroyed" err
	expect_eq running "$(lv_state k1)" "the running VM"
	expect_state_unchanged before
	expect_file_exists "$QVM_STATE_DIR/k1/seed.iso"
}
test_case 'destroy: disks of two domains under one name (kept disks, forged marks): refused' t_destroy_two_domains

t_cleanup_domain_first() {
	need_libvirtd
	# a run killed after its domain started, before it marked its disk ready
	vm_file l.yaml l1 "$LV_URI"
	run_qvm vm l.yaml
	expect_exit 0
	uuid=$(zfs get -H -o value qvm:uuid tank/images/l1)
	zfs set qvm:state=creating qvm:run=1-00 tank/images/l1
	echo 1-00 >"$QVM_STATE_DIR/l1/.qvm-creating"
	run_qvm cleanup --yes
	expect_exit 0
	expect_match "^    and its domain, if one of UUID $uuid on test\+unix.* uses it$" out
	expect_no_match '\(null\)' out
	expect_lines_in_order out '^Removing libvirt domain l1\.\.\. done$' \
		'^Removing seed directory ' '^Removing zvol tank/images/l1\.\.\. done$'
	expect_no_match 'Rolling back' out
	expect_fails lv_has l1
}
test_case 'cleanup: a leftover'"'"'s domain is listed and removed before its disk and seed' t_cleanup_domain_first

t_list_forged() {
	need_libvirtd
	# marks someone else set: a name with escape sequences is not qvm's
	zfs clone -o qvm:kind=vm-disk -o $'qvm:vm=x\e[31mRED' -o qvm:state=ready $BASE@base tank/images/forged
	run_qvm list
	expect_exit 0
	expect_no_match $'\e' out
	expect_no_match $'\e' err
	# a domain of the recorded UUID that uses none of the VM's disks is not shown as it
	foreign alien "$TEST_DIR/alien.raw"
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=m1 -o qvm:state=ready -o "qvm:connect=$LV_URI" \
		-o "qvm:uuid=$(lv_uuid alien)" $BASE@base tank/images/m1
	run_qvm list
	expect_exit 0
	expect_match '^m1 +undefined ' out
	expect_match "uses none of its disks" err
}
test_case 'list: forged names are not listed; a domain by the UUID but not on the disks is not shown' t_list_forged

t_second_name() {
	need_libvirtd
	# a <qemu:uuid> and <qemu:name> before the real ones, which name a
	# domain that is not qvm's: refused before virt-install runs the install
	foreign victim "$TEST_DIR/victim.raw"
	virsh -c "$LV_URI" destroy victim >/dev/null
	vuuid=$(lv_uuid victim)
	truncate -s 1M inst.iso
	for how in "cdrom: $TEST_DIR/inst.iso" $'import: true\ntransient: true'; do
		vm_file n.yaml n2 "$LV_URI" "$how
uuid: 33333333-2222-4333-8444-555555555555
xml: [./qemu:name=n2, xpath.delete=./name, ./name=victim, ./qemu:uuid=33333333-2222-4333-8444-555555555555, xpath.delete=./uuid, ./uuid=$vuuid]"
		sed -i '0,/^import: true$/{/^import: true$/d}' n.yaml
		zfs_snapshot_state before
		run_qvm vm n.yaml
		expect_exit 1
		expect_match 'the domain XML has 2 <name> and 2 <uuid> elements, not one each' err
		expect_eq 'shut off' "$(lv_state victim)" "the foreign domain"
		expect_match "<source file=.$TEST_DIR/victim\.raw" <(virsh -c "$LV_URI" dumpxml victim)
		expect_state_unchanged before
	done
	# a relative path the file names: libvirt would resolve it elsewhere
	mkdir etc
	echo secret >etc/shadow
	two_disks r.yaml r2 "{path: etc/shadow, bus: virtio}"
	sed -i "s|^network: none|network: none\nxml: [\"./devices/disk[1]/source/@file=etc/shadow\"]|" r.yaml
	run_qvm vm r.yaml
	expect_exit 1
	expect_match 'would use etc/shadow, a relative path' err
	expect_fails lv_has r2
}
test_case 'a second <name>/<uuid> (another namespace) and relative disk paths: refused' t_second_name

test_done
