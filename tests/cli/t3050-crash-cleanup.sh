#!/bin/bash
# SPDX-License-Identifier: MIT
# Crashes leave discoverable state (issue: atomicity): qvm killed with
# SIGKILL at each step leaves only datasets marked qvm:state=creating (and
# seed directories marked .qvm-creating); a later run of the same name says
# what is left and how to remove it; `qvm cleanup --yes` removes exactly
# those leftovers and never a dataset without qvm's marks.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

setup() {
	fault_shims
	zfs_pool
	# a dataset qvm did not make, also "creating" by its own user's marks:
	# cleanup must leave it alone since qvm:kind is not qvm's
	zfs create -s -V 1M -o qvm:state=creating tank/images/not-qvms
	make_image "$TEST_DIR/img" 4M
	cat >"$TEST_DIR/web.yaml" <<'EOT'
---
qvm: vm
name: web1
memory: 256
vcpus: 1
import: true
osinfo: linux2022
graphics: none
network: none
disk: {bus: virtio, zvol: {base: tank/images/deb}}
---
qvm: user-data
runcmd: [[sh, -c, "echo ok"]]
---
qvm: meta-data
EOT
}

# kill9_at STEP-ENV...: run CMD (global array) with the environment given,
# SIGKILL qvm once $FAULT_MARK appears, then let any child finish.
kill9() {
	local pid i
	rm -f "$FAULT_MARK"
	env "$@" "${CMD[@]}" >"$TEST_DIR/out" 2>"$TEST_DIR/err" </dev/null &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[ -e "$FAULT_MARK" ] && break
		sleep 0.05
	done
	[ -e "$FAULT_MARK" ] || { echo "step never started"; cat "$TEST_DIR/err"; return 1; }
	kill -KILL "$pid"
	wait "$pid" || true
	sleep 2.5   # a delayed child (zfs, virt-install) finishes on its own
}

# Every dataset that exists now and did not before is marked creating.
expect_only_marked_leftovers() {
	local before=$1 ds
	zfs list -H -o name -t volume | sort >"$TEST_DIR/now"
	comm -13 "$before" "$TEST_DIR/now" >"$TEST_DIR/new"
	while read -r ds; do
		expect_eq creating "$(zfs get -H -o value qvm:state "$ds")" "qvm:state of $ds"
		expect_match '^(image|vm-disk)$' <(zfs get -H -o value qvm:kind "$ds")
	done <"$TEST_DIR/new"
}

cleanup_restores() {
	run_qvm cleanup --yes
	expect_exit 0
	expect_state_unchanged "$TEST_DIR/state.before"
	expect_eq "" "$(ls -A "$QVM_STATE_DIR" 2>/dev/null | grep -v '^\.' || true)" "seed directories left"
	zfs list tank/images/not-qvms >/dev/null
}

import_killed_at() {	# import_killed_at ENV...
	zfs_snapshot_state "$TEST_DIR/state.before"
	zfs list -H -o name -t volume | sort >"$TEST_DIR/before"
	CMD=("$QVM" import "$TEST_DIR/img" tank/images/deb)
	kill9 "$@"
	expect_only_marked_leftovers "$TEST_DIR/before"
	if zfs list tank/images/deb >/dev/null 2>&1; then
		run_qvm import "$TEST_DIR/img" tank/images/deb
		expect_exit 1
		expect_match "left over from an interrupted qvm run.*: qvm cleanup --yes$" err
	fi
	cleanup_restores
}

for step in create snapshot; do
	test_case "import killed (SIGKILL) during zfs $step: only marked leftovers, cleanup removes them" \
		"import_killed_at FAULT_DELAY=$step:2"
done
test_case 'import killed while waiting for the device node' \
	'import_killed_at ZFS_DOUBLE_DEVICE=never QVM_DEVICE_TIMEOUT=30 FAULT_DELAY=create:0'
test_case 'import killed while writing the image' '
	import_killed_at LD_PRELOAD=$TEST_REPO/build/tests/inject.so \
		ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 QVM_FAULT_PWRITE_DELAY=500 \
		QVM_FAULT_PATH=/zvol/ QVM_FAULT_MARK=$FAULT_MARK
'

vm_killed_at() {	# vm_killed_at ENV...
	"$QVM" import "$TEST_DIR/img" tank/images/deb >/dev/null
	zfs_snapshot_state "$TEST_DIR/state.before"
	zfs list -H -o name -t volume | sort >"$TEST_DIR/before"
	CMD=("$QVM" vm "$TEST_DIR/web.yaml")
	kill9 "$@"
	expect_only_marked_leftovers "$TEST_DIR/before"
	run_qvm vm "$TEST_DIR/web.yaml"
	expect_exit 1
	if zfs list tank/images/web1 >/dev/null 2>&1; then
		expect_match "clone target tank/images/web1 already exists: it is left over from an interrupted qvm run.*: qvm cleanup --yes$" err
	fi
	expect_match "seed directory .* is left over from an interrupted qvm run; remove what such runs left with: qvm cleanup --yes$" err
	expect_no_match "zfs destroy|rm -r" err
	run_qvm cleanup
	expect_exit 0
	expect_match "Leftovers of interrupted qvm runs" out
	expect_match "qvm cleanup --yes" out
	cleanup_restores
	# and the VM can now be made
	run_qvm vm "$TEST_DIR/web.yaml"
	expect_exit 0
}

test_case 'import killed while zfs marks it ready: the set completes, the image is whole' '
	CMD=("$QVM" import "$TEST_DIR/img" tank/images/deb)
	kill9 FAULT_DELAY=set:2
	expect_eq ready "$(zfs get -H -o value qvm:state tank/images/deb)"
	zfs list tank/images/deb@base >/dev/null
	cmp -n 4194304 "$TEST_DIR/img" "$QVM_ZVOL_DIR/tank/images/deb"
	zfs_snapshot_state before
	run_qvm cleanup --yes
	expect_match "No leftovers" out
	expect_state_unchanged before
'

test_case 'vm killed while zfs marks its disk ready: cleanup keeps the VM, drops the marker' '
	"$QVM" import "$TEST_DIR/img" tank/images/deb >/dev/null
	CMD=("$QVM" vm "$TEST_DIR/web.yaml")
	kill9 FAULT_DELAY=set:2
	expect_eq ready "$(zfs get -H -o value qvm:state tank/images/web1)"
	expect_file_exists "$QVM_STATE_DIR/web1/.qvm-creating"
	run_qvm cleanup --yes
	expect_exit 0
	expect_match "Kept seed directory .*/web1 of VM web1" out
	expect_file_exists "$QVM_STATE_DIR/web1/seed.iso"
	expect_file_absent "$QVM_STATE_DIR/web1/.qvm-creating"
	zfs list tank/images/web1 >/dev/null
'

for step in clone; do
	test_case "vm killed (SIGKILL) during zfs $step: only marked leftovers, cleanup removes them" \
		"vm_killed_at FAULT_DELAY=$step:2"
done
test_case 'vm killed before its clone existed: the seed directory alone is cleaned up' \
	'vm_killed_at FAULT_DELAY=clone:2 ZFS_DOUBLE_FAIL=clone'
test_case 'vm killed while waiting for the device node' \
	'vm_killed_at ZFS_DOUBLE_DEVICE=never QVM_DEVICE_TIMEOUT=30 FAULT_DELAY=clone:0'
# one virt-install run (--print-xml --dry-run); qvm defines the domain itself
test_case "vm killed during virt-install --print-xml" "vm_killed_at FAULT_DELAY=dry-run:2"

test_case 'cleanup leaves a run still in progress alone' '
	"$QVM" import "$TEST_DIR/img" tank/images/deb >/dev/null
	rm -f "$FAULT_MARK"
	FAULT_DELAY=dry-run:6 "$QVM" vm "$TEST_DIR/web.yaml" >"$TEST_DIR/vm.out" 2>&1 &
	pid=$!
	for ((i = 0; i < 100; i++)); do [ -e "$FAULT_MARK" ] && break; sleep 0.05; done
	run_qvm cleanup --yes
	expect_exit 0
	expect_match "No leftovers" out
	zfs list tank/images/web1 >/dev/null
	wait $pid
	cat "$TEST_DIR/vm.out"
	expect_eq ready "$(zfs get -H -o value qvm:state tank/images/web1)"
	expect_file_absent "$QVM_STATE_DIR/web1/.qvm-creating"
'

test_case 'cleanup without --yes and without a terminal removes nothing' '
	"$QVM" import "$TEST_DIR/img" tank/images/deb >/dev/null
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=ghost -o qvm:state=creating -o qvm:run=1-dead \
		tank/images/deb@base tank/images/ghost
	zfs_snapshot_state before
	run_qvm cleanup
	expect_exit 0
	expect_match "zvol tank/images/ghost \(vm-disk of VM ghost\)" out
	expect_state_unchanged before
	run_qvm cleanup -y
	expect_exit 0
	expect_match "Removed tank/images/ghost" out
	expect_file_absent "$QVM_ZVOL_DIR/tank/images/ghost"
	zfs list tank/images/not-qvms >/dev/null
	zfs list tank/images/deb@base >/dev/null
'

test_case 'an extra disk marked ready by a run that did not finish goes with its leftover boot clone; a finished VM of the same run stays' '
	"$QVM" import "$TEST_DIR/img" tank/images/deb >/dev/null
	# run 1-dead made VMs ok (finished) and ghost (its extra disk ready,
	# its boot clone not yet: the last step never came)
	for d in ok ok-disk1; do
		zfs create -s -V 1M -o qvm:kind=vm-disk -o qvm:vm=ok -o qvm:state=ready -o qvm:run=1-dead tank/images/$d
	done
	zfs create -s -V 1M -o qvm:kind=vm-disk -o qvm:vm=ghost -o qvm:state=ready -o qvm:run=1-dead \
		tank/images/ghost-disk1
	zfs clone -o qvm:kind=vm-disk -o qvm:vm=ghost -o qvm:state=creating -o qvm:run=1-dead \
		tank/images/deb@base tank/images/ghost
	# a ready disk of ghost from another run is not this one'"'"'s
	zfs create -s -V 1M -o qvm:kind=vm-disk -o qvm:vm=ghost -o qvm:state=ready -o qvm:run=2-other \
		tank/images/ghost-old
	run_qvm cleanup --yes
	expect_exit 0
	expect_match "Removed tank/images/ghost-disk1" out
	expect_match "Removed tank/images/ghost$" out
	expect_eq "tank/images/ghost-old tank/images/ok tank/images/ok-disk1" \
		"$(zfs list -H -o name -t volume | grep -E "^tank/images/(ok|ghost)" | sort | xargs)" "volumes left"
'

test_case 'cleanup stopped by a signal between leftovers: dies of it, says what is left' '
	for i in 1 2 3; do
		zfs create -s -V 1M -o qvm:kind=image -o qvm:state=creating -o qvm:run=1-dead tank/images/left$i
	done
	rm -f "$FAULT_MARK"
	FAULT_DELAY=destroy:1 "$QVM" cleanup --yes >out 2>err & pid=$!
	for ((i = 0; i < 100; i++)); do [ -e "$FAULT_MARK" ] && break; sleep 0.05; done
	kill -TERM $pid
	status=0; wait $pid || status=$?
	cat out err
	expect_eq 143 "$status" "exit status"
	expect_match "^Error cleaning up: interrupted by signal SIGTERM: 2 leftovers not removed; run .qvm cleanup. again$" err
	expect_eq 2 "$(zfs list -H -o name -t volume | grep -c "^tank/images/left")" "leftovers left"
	run_qvm cleanup --yes
	expect_exit 0
	expect_eq 0 "$(zfs list -H -o name -t volume | grep -c "^tank/images/left" || true)" "leftovers left"
	zfs list tank/images/not-qvms >/dev/null
'

test_done
