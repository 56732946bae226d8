#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm images copy IMAGE [USER@]HOST[:DATASET]: an image of this host sent
# with zfs send into zfs recv -s on a test host (hosts.sh: real ssh, the
# ZFS double's send and receive), its marks kept, its data the same;
# progress on a terminal; an interrupted copy resumed from the host's
# receive_resume_token; every refusal before anything changes.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=hosts.sh
. "$(dirname "$0")/hosts.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

hosts_for_cases A B

# Every case: empty hosts with a pool each (tank, tank/images), and here
# image tank/images/deb imported from a 3 MiB raw disk with an osinfo name
# and a user.
setup() {
	hosts_reset
	zfs_pool
	make_image disk.raw 3M 5
	run_qvm import -q --osinfo linux2022 --user debian disk.raw tank/images/deb
	expect_exit 0
	on_host A zfs_pool
	on_host B zfs_pool
}

# host_state N FILE: what host N's ZFS double knows (zfs_snapshot_state there).
host_state() {
	on_host "$1" zfs_snapshot_state "$2"
}

# marks N DATASET: its qvm:* properties set on it, "PROP=VALUE" sorted.
marks_of() {
	on_host "$1" zfs get -H -s local,received -o property,value all "$2" | grep '^qvm:' |
		grep -v '^qvm:run' | tr '\t' = | sort
}

t_copy() {
	need_hosts
	run_qvm images copy tank/images/deb A
	expect_exit 0
	expect_empty err
	expect_match '^Copying tank/images/deb to A:tank/images/deb\.\.\. [0-9.]+ [KM]iB in [0-9.]+ s$' out
	expect_match '^Copied tank/images/deb to A as tank/images/deb$' out
	# the volume and its @base there, the data the same, byte for byte
	on_host A zfs list -H -o name,type -t all -r tank/images >list
	expect_line "tank/images/deb	volume" list
	expect_line "tank/images/deb@base	snapshot" list
	cmp "$QVM_ZVOL_DIR/tank/images/deb" "$HOST_A_ZVOL_DIR/tank/images/deb" ||
		{ _fail "the copy's data differs"; return 1; }
	expect_eq 3145728 "$(stat -c %s "$HOST_A_ZVOL_DIR/tank/images/deb")" "device size"
	# qvm's marks: the same as here, ready
	marks_of A tank/images/deb >there
	zfs get -H -s local -o property,value all tank/images/deb | grep '^qvm:' | grep -v '^qvm:run' |
		tr '\t' = | sort >here
	expect_same here there
	expect_line qvm:state=ready there
	expect_line qvm:osinfo=linux2022 there
	expect_line qvm:user=debian there
	expect_line qvm:kind=image there
	# qvm images on A lists it
	run_qvm images --host A
	expect_exit 0
	expect_match '^tank/images/deb +3\.0 MiB .* linux2022 +debian ' out
	# and B has nothing
	on_host B zfs list -H -o name -t volume >b
	expect_empty b
}
test_case 'copy: IMAGE@base on the host, its data and qvm marks the same, listed by qvm images --host' t_copy

t_vm_hint() {
	need_hosts
	BASE=tank/images/deb vm_file web.yaml web "$HOST_A_URI"
	on_host A zfs_snapshot_state "$TEST_DIR/a.before"
	run_qvm vm --host A web.yaml
	expect_exit 1
	expect_match 'base snapshot tank/images/deb@base does not exist on A; image tank/images/deb is on this host: copy it with: qvm images copy tank/images/deb A' err
	cp "$TEST_DIR/a.before" a.before
	on_host A zfs_snapshot_state "$TEST_DIR/a.after"
	expect_same a.before "$TEST_DIR/a.after"
	# copied, the same file gets past that check
	run_qvm images copy -q tank/images/deb A
	expect_exit 0
	run_qvm vm --host A --dry-run web.yaml
	expect_no_match 'does not exist' err
}
test_case 'qvm vm --host of a base that is only here says how to copy it' t_vm_hint

test_done
