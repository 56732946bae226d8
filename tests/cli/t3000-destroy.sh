#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm destroy NAME...: the domain (on the URI in qvm:connect), the disks
# found by their qvm:* marks, the seed directory; confirmation; partial
# failures; nothing without qvm's marks is ever destroyed.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"
# shellcheck source=libvirtd.sh
. "$(dirname "$0")/libvirtd.sh"

libvirtd_for_cases

setup() { base_image; }

t_full() {
	need_libvirtd
	vm_file d1.yaml d1 "$LV_URI"
	run_qvm vm d1.yaml
	expect_exit 0
	lv_domain_exists d1
	# the seed is a file CD-ROM of the domain; virt-install made no storage
	# pool of its directory (it is given a stand-in for the seed)
	virsh -c "$LV_URI" dumpxml d1 | grep -q "<source file=.$QVM_STATE_DIR/d1/seed.iso./>" ||
		{ _fail "the domain's seed: $(virsh -c "$LV_URI" dumpxml d1 | grep -A2 cdrom)"; return 1; }
	expect_eq '' "$(virsh -c "$LV_URI" pool-list --all --name | grep -x ' *d1 *')" "storage pool d1"
	run_qvm destroy --yes d1
	expect_exit 0
	expect_empty err
	expect_lines_in_order out '^VM d1:$' "^  domain d1 \(UUID [0-9a-f-]{36}\) on test\+unix.* \(running\)$" \
		'^  zvol tank/images/d1$' "^  seed directory $QVM_STATE_DIR/d1$" \
		'^Stopping and undefining domain d1\.\.\. done$' \
		'^Destroying zvol tank/images/d1\.\.\. done$' \
		"^Removing seed directory $QVM_STATE_DIR/d1\.\.\. done$" '^VM d1 destroyed$'
	! lv_domain_exists d1
	expect_eq '' "$(zfs list -H -o name tank/images/d1 2>/dev/null)" "the clone"
	expect_file_absent "$QVM_STATE_DIR/d1"
	expect_file_absent "$QVM_ZVOL_DIR/tank/images/d1"
	# the image and its snapshot stay
	zfs list -H -o name $BASE@base >/dev/null
}
test_case 'destroy: stops and undefines the domain, destroys the clone, removes the seed' t_full

t_keep() {
	need_libvirtd
	vm_file d2.yaml d2 "$LV_URI"
	run_qvm vm d2.yaml
	expect_exit 0
	run_qvm destroy -y --keep-disks d2
	expect_exit 0
	expect_line '  zvol tank/images/d2 (kept)' out
	expect_line 'VM d2 destroyed; kept zvol tank/images/d2' out
	expect_no_match '^Destroying zvol' out
	! lv_domain_exists d2
	expect_file_absent "$QVM_STATE_DIR/d2"
	expect_eq tank/images/d2 "$(zfs list -H -o name tank/images/d2)" "kept disk"
	# still qvm's: listed without a domain, and a second destroy removes it
	run_qvm list
	expect_match '^d2 +undefined ' out
	run_qvm destroy --yes d2
	expect_exit 0
	expect_line 'Destroying zvol tank/images/d2... done' out
	expect_eq '' "$(zfs list -H -o name tank/images/d2 2>/dev/null)" "the clone"
}
test_case 'destroy --keep-disks keeps the zvol; a later destroy removes it' t_keep

t_no_domain() {
	# test:///default forgets the domain when virt-install exits
	vm_file d3.yaml d3
	run_qvm vm d3.yaml
	expect_exit 0
	zfs_log_reset
	run_qvm destroy --yes d3
	expect_exit 0
	expect_no_match 'domain' out
	zfs_mutations calls
	expect_eq 'destroy tank/images/d3' "$(cat calls)" "zfs changes"
	expect_file_absent "$QVM_STATE_DIR/d3"
}
test_case 'destroy without a domain: the disk and the seed' t_no_domain

t_confirm() {
	vm_file d4.yaml d4
	run_qvm vm d4.yaml
	expect_exit 0
	zfs_snapshot_state before
	run_qvm destroy d4
	expect_exit 1
	expect_line 'Error destroying VM: not destroying anything without confirmation: standard input is not a terminal (use --yes)' err
	expect_line '  zvol tank/images/d4' out
	expect_state_unchanged before
	expect_file_exists "$QVM_STATE_DIR/d4/seed.iso"
}
test_case 'destroy asks for confirmation: without a terminal it needs --yes' t_confirm

t_tty() {
	command -v script >/dev/null || skip "no script(1) for a terminal"
	vm_file d5.yaml d5
	run_qvm vm d5.yaml
	expect_exit 0
	zfs_snapshot_state before
	# answering no on a terminal
	status=0
	echo n | script -qec "$QVM destroy d5" /dev/null >out 2>&1 || status=$?
	expect_match 'Destroy 1 VM\? \[y/N\]' out
	# what was asked was not done: exit 1 with an error, as apt does
	expect_match 'Error destroying VM: not confirmed: nothing destroyed' out
	expect_exit 1
	expect_state_unchanged before
	echo y | script -qec "$QVM destroy d5" /dev/null >out 2>&1
	expect_match 'VM d5 destroyed' out
	expect_eq '' "$(zfs list -H -o name tank/images/d5 2>/dev/null)" "the clone"
}
test_case 'destroy on a terminal: n keeps everything, y destroys' t_tty

t_unmarked() {
	# no qvm:kind: not qvm's, whatever else it says
	zfs clone -o qvm:vm=x1 $BASE@base tank/images/x1
	zfs create -s -V 1M tank/images/x2
	mkdir -p "$QVM_STATE_DIR"
	zfs_log_reset
	zfs_snapshot_state before
	run_qvm destroy --yes x1 x2
	expect_exit 1
	expect_line "Error destroying VM: x1: no VM of that name was made by qvm (no zvol marked qvm:vm=x1, no seed directory $QVM_STATE_DIR/x1)" err
	expect_match '^Error destroying VM: x2: no VM of that name' err
	expect_line 'Error destroying VMs: 2 of 2 VMs not destroyed: x1, x2' err
	expect_state_unchanged before
	zfs_mutations calls
	expect_empty calls
}
test_case 'a dataset without qvm:kind=vm-disk is never destroyed' t_unmarked

t_image_name() {
	# an image is qvm's, but not a VM disk: destroy NAME never touches it
	zfs_snapshot_state before
	run_qvm destroy --yes debian12
	expect_exit 1
	expect_match 'no VM of that name was made by qvm' err
	expect_state_unchanged before
}
test_case 'an image named like the VM is not a VM disk' t_image_name

t_foreign_domain() {
	need_libvirtd
	# a domain d6 that qvm did not make (another disk), and a disk marked for d6
	truncate -s 1M other.raw
	virt-install --connect "$LV_URI" --name d6 --memory 128 --import --osinfo detect=on,require=off \
		--graphics none --network none --disk "path=$TEST_DIR/other.raw" --noautoconsole >/dev/null 2>&1
	lv_domain_exists d6
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=d6 -o "qvm:connect=$LV_URI" -o qvm:state=ready $BASE@base tank/images/d6
	zfs_snapshot_state before
	run_qvm destroy --yes d6
	expect_exit 1
	expect_match "^Error destroying VM: d6: domain d6 on test\+unix.* uses none of qvm's disks for it nor its seed: it is not qvm's, so nothing of VM d6 was destroyed$" err
	lv_domain_exists d6
	expect_state_unchanged before
}
test_case "a domain of that name that uses none of qvm's disks is left alone, and so is the disk" t_foreign_domain

t_prefix_domain() {
	need_libvirtd
	# a foreign domain db whose disk path has the path of qvm's leftover disk
	# as its start: cleanup removes the leftover, never the domain
	mkdir -p "$QVM_ZVOL_DIR/tank/images"
	truncate -s 1M "$QVM_ZVOL_DIR/tank/images/db-data"
	virt-install --connect "$LV_URI" --name db --memory 128 --import --osinfo detect=on,require=off \
		--graphics none --network none --disk "path=$QVM_ZVOL_DIR/tank/images/db-data" \
		--noautoconsole >/dev/null 2>&1
	lv_domain_exists db
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=db -o "qvm:connect=$LV_URI" -o qvm:state=creating \
		-o qvm:run=1-00 $BASE@base tank/images/db
	run_qvm cleanup --yes
	expect_exit 0
	expect_match '^Removed tank/images/db$' out
	lv_domain_exists db
}
test_case "cleanup: a foreign domain whose disk path starts with the leftover's is left alone" t_prefix_domain

t_destroy_during_vm() {
	# qvm destroy while qvm vm of the same name has made only its seed
	mkdir slow
	printf '#!/bin/sh\n[ "$1" = clone ] && sleep 4\nexec "%s" "$@"\n' "$(command -v zfs)" >slow/zfs
	chmod +x slow/zfs
	vm_file r1.yaml r1
	PATH=$TEST_DIR/slow:$PATH "$QVM" vm r1.yaml >vm.out 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -e "$QVM_STATE_DIR/r1/seed.iso" ] && break; sleep 0.05; done
	run_qvm destroy --yes r1
	expect_exit 1
	expect_match "seed directory .*/r1 is being created by a qvm still running" err
	wait $pid
	expect_match '^VM r1 created$' vm.out
	expect_file_exists "$QVM_STATE_DIR/r1/seed.iso"
}
test_case 'destroy while qvm vm of the same name runs: its seed directory is left alone' t_destroy_during_vm

t_partial() {
	vm_file d7.yaml d7
	run_qvm vm d7.yaml
	expect_exit 0
	run_qvm destroy --yes nope d7
	expect_exit 1
	expect_match '^Error destroying VM: nope: no VM of that name' err
	expect_line 'VM d7 destroyed' out
	expect_line 'Error destroying VMs: 1 of 2 VMs not destroyed: nope' err
	expect_eq '' "$(zfs list -H -o name tank/images/d7 2>/dev/null)" "d7's clone"
}
test_case 'partial failure: each VM on its own, exit 1, a summary' t_partial

t_zfs_fails() {
	vm_file d8.yaml d8
	run_qvm vm d8.yaml
	expect_exit 0
	ZFS_DOUBLE_FAIL=destroy run_qvm destroy --yes d8
	expect_exit 1
	expect_line "Error destroying VM: d8: cannot destroy zvol tank/images/d8: cannot destroy 'tank/images/d8': dataset is busy" err
	expect_match '^Destroying zvol tank/images/d8\.\.\. failed$' out
	# the seed stays with the disk, so a second try finds both
	expect_file_exists "$QVM_STATE_DIR/d8/seed.iso"
	run_qvm destroy --yes d8
	expect_exit 0
	expect_file_absent "$QVM_STATE_DIR/d8"
}
test_case 'zfs destroy failing: reported with zfs message; the rest stays for a second try' t_zfs_fails

t_several_disks_seed_only() {
	# a run interrupted before its clone left only the seed directory
	mkdir -p "$QVM_STATE_DIR/d9"
	: >"$QVM_STATE_DIR/d9/seed.iso"
	run_qvm destroy --yes d9
	expect_exit 0
	expect_file_absent "$QVM_STATE_DIR/d9"
}
test_case 'a seed directory alone is removed' t_several_disks_seed_only

t_in_progress() {
	# a disk of a run still going on (a process named qvm holds its run id)
	mkdir bin && cp "$(command -v sleep)" bin/qvm
	bin/qvm 60 &
	pid=$!
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=d10 -o qvm:state=creating -o "qvm:run=$pid-00" \
		$BASE@base tank/images/d10
	zfs_snapshot_state before
	run_qvm destroy --yes d10
	kill "$pid"
	expect_exit 1
	expect_line "Error destroying VM: d10: zvol tank/images/d10 is being created by a qvm still running (qvm:run=$pid-00); nothing of VM d10 was destroyed" err
	expect_state_unchanged before
	# once that run is over, its leftovers can go
	wait "$pid" 2>/dev/null || true
	run_qvm destroy --yes d10
	expect_exit 0
}
test_case 'a VM still being created by a running qvm is not destroyed' t_in_progress

t_usage() {
	run_qvm destroy
	expect_exit 1
	expect_match "^Error reading the command line: wrong number of arguments for 'destroy'" err
	run_qvm destroy --yes 'bad/name'
	expect_exit 1
	expect_match "^Error destroying VM: invalid VM name 'bad/name'" err
}
test_case 'destroy: usage and invalid names' t_usage

# Answers a question on a pseudo-terminal with ^C (the terminal sends
# SIGINT to qvm): qvm must not sit at the prompt until Enter.
t_prompt_interrupted() {
	need_libvirtd
	vm_file d9.yaml d9 "$LV_URI"
	run_qvm vm d9.yaml
	expect_exit 0
	/usr/bin/python3 - "$QVM" destroy d9 >"$TEST_DIR/out" 2>&1 <<'PY' || true
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen, deadline = b'', time.time() + 30
while b'[y/N]' not in seen and time.time() < deadline:
    if select.select([fd], [], [], 1)[0]:
        seen += os.read(fd, 4096)
os.write(fd, b'\x03')                  # ^C, as a user types it
status = None
while time.time() < deadline + 10:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        break
    if select.select([fd], [], [], 0.2)[0]:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            pass
if status is None:
    os.kill(pid, 9)
    print('still waiting at the prompt')
else:
    print('signal', os.WTERMSIG(status) if os.WIFSIGNALED(status) else 'none', 'exit',
          os.WEXITSTATUS(status) if os.WIFEXITED(status) else '-')
sys.stdout.write(seen.decode(errors='replace'))
PY
	expect_match '^signal 2 exit -' "$TEST_DIR/out"
	expect_match 'Error destroying VM: interrupted by signal SIGINT: nothing destroyed' "$TEST_DIR/out"
	lv_domain_exists d9
	zfs list -H -o name tank/images/d9 >/dev/null
}
test_case 'destroy: ^C at the question ends qvm at once, nothing destroyed' t_prompt_interrupted

t_quiet() {
	vm_file q1.yaml q1
	run_qvm vm -q q1.yaml
	expect_exit 0
	expect_empty out
	# warnings still show
	expect_no_match '^Error' err
	zfs list tank/images/q1 >/dev/null
	# without --yes the list the question is about still shows
	run_qvm destroy -q q1
	expect_exit 1
	expect_line '  zvol tank/images/q1' out
	run_qvm destroy -q --yes q1
	expect_exit 0
	expect_empty out
	expect_empty err
	expect_file_absent "$QVM_STATE_DIR/q1"
	# errors still print
	run_qvm destroy -q --yes q1
	expect_exit 1
	expect_empty out
	expect_match '^Error destroying VM' err
	# cleanup: quiet removal, but listing without --yes is what it shows
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=ghost -o qvm:state=creating -o qvm:run=1-dead \
		$BASE@base tank/images/ghost
	run_qvm cleanup -q
	expect_exit 0
	expect_match 'tank/images/ghost' out
	run_qvm cleanup -q --yes
	expect_exit 0
	expect_empty out
	expect_empty err
	expect_file_absent "$QVM_ZVOL_DIR/tank/images/ghost"
}
test_case 'vm, destroy and cleanup -q: no step lines, errors still' t_quiet

test_done
