#!/bin/bash
# SPDX-License-Identifier: MIT
# Only qvm's own marks count: ZFS user properties inherit, so a user who
# sets qvm:* on a parent (by mistake, or to trick qvm) makes every volume
# below carry them. Such a volume is never listed, cleaned up, destroyed or
# called a leftover; only marks set on the volume itself are qvm's.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

setup() {
	base_image
	# marks on two filesystems, and a user's volume below each
	zfs create -o qvm:kind=vm-disk -o qvm:vm=ghost -o qvm:state=creating -o qvm:run=1-00 tank/other
	zfs create -V 1M tank/other/uservol
	printf 'user data' | dd of="$QVM_ZVOL_DIR/tank/other/uservol" conv=notrunc status=none
	zfs create -o qvm:kind=image -o qvm:state=ready tank/imgs
	zfs create -V 1M tank/imgs/notmine
	zfs_log_reset
}

t_inherited() {
	expect_eq 'vm-disk	inherited from tank/other' \
		"$(zfs get -H -o value,source qvm:kind tank/other/uservol)" "the mark is there, inherited"
	zfs_snapshot_state before
	run_qvm cleanup --yes
	expect_exit 0
	expect_line 'No leftovers of interrupted qvm runs found' out
	run_qvm list
	expect_exit 0
	expect_no_match 'ghost|uservol' out
	run_qvm images
	expect_exit 0
	expect_no_match 'notmine|uservol' out
	run_qvm destroy --yes ghost
	expect_exit 1
	expect_state_unchanged before
	zfs_mutations calls
	expect_empty calls
}
test_case 'cleanup, list, images, destroy: a volume that only inherits marks is not qvm'"'"'s' t_inherited

t_not_a_leftover() {
	make_image disk.raw 1M
	run_qvm import disk.raw tank/other/uservol
	expect_exit 1
	expect_first_line '^Error importing cloud image: zvol tank/other/uservol already exists$' err
	vm_file g.yaml ghost test:///default
	sed -i 's|    base: .*|    base: tank/images/debian12\n    name: tank/other/uservol|' g.yaml
	run_qvm vm g.yaml
	expect_exit 1
	expect_match 'clone target tank/other/uservol already exists \(qvm never replaces a dataset\)' err
	expect_no_match 'left over' err
}
test_case 'import and vm: a volume with inherited marks is not called a leftover of qvm' t_not_a_leftover

t_local_marks() {
	# the same marks set on a volume itself are qvm's: cleanup removes it
	zfs create -V 1M -o qvm:kind=vm-disk -o qvm:vm=dead -o qvm:state=creating -o qvm:run=1-00 tank/images/dead
	run_qvm cleanup --yes
	expect_exit 0
	expect_match '^  zvol tank/images/dead \(vm-disk of VM dead\)$' out
	expect_eq "" "$(zfs list -H -o name tank/images/dead 2>/dev/null)" "tank/images/dead"
	expect_eq "tank/other/uservol" "$(zfs list -H -o name tank/other/uservol)" "the user's volume"
}
test_case 'marks set on the volume itself still count' t_local_marks

t_forged_lines() {
	# a path whose tabs and line breaks would read as marks of another
	# volume in zfs get's output: qvm:source is recorded escaped
	zfs create -V 1M tank/important
	d=$(printf 'a\tlocal\ntank/important\tqvm:kind\tvm-disk\tlocal\ntank/important\tqvm:vm\tvictim\tlocal\t')
	mkdir -p "$d"
	make_image "$d/img.raw" 1M
	run_qvm import "$TEST_DIR/$d/img.raw" tank/images/x
	expect_exit 0
	expect_match '^/.*/a\\x09local\\x0atank/important' <(zfs get -H -o value qvm:source tank/images/x)
	run_qvm destroy --yes victim
	expect_exit 1
	expect_eq "tank/important" "$(zfs list -H -o name tank/important)" "tank/important"
	run_qvm images
	expect_exit 0
	expect_no_match $'\t|\x1b' <(sed 's/  */ /g' out)
	# a value set by someone else that holds a line break: refused, not misread
	zfs set qvm:source="$(printf 'y\ntank/important\tqvm:kind\tvm-disk\tlocal')" tank/images/x
	run_qvm list
	expect_exit 1
	expect_match '^Error listing virtual machines: cannot list zvols: unexpected output of zfs get' err
	run_qvm cleanup --yes
	expect_exit 1
	expect_eq "tank/important" "$(zfs list -H -o name tank/important)" "tank/important"
}
test_case 'a mark value cannot forge lines of zfs get: escaped when qvm sets it, refused when read' t_forged_lines

t_forged_volume() {
	# the last property asked for holds a whole volume's lines, in order,
	# for a filesystem qvm never made: the volumes read are not the
	# volumes zfs lists, and nothing is done
	zfs create tank/precious
	zfs create -V 1M tank/precious/data
	zfs create -V 1M tank/images/vol
	local v=tank/precious t=$'\t' val p
	val="x${t}local"
	for p in "volsize${t}1048576" "used${t}1" "origin${t}-" "qvm:kind${t}image" "qvm:vm${t}-" \
		"qvm:connect${t}-" "qvm:state${t}creating" "qvm:source${t}-" "qvm:sha256${t}-" \
		"qvm:sha512${t}-" "qvm:disk${t}-"; do
		val+=$'\n'"$v${t}$p${t}local"
	done
	val+=$'\n'"$v${t}qvm:run${t}x"
	zfs set "qvm:run=$val" tank/images/vol
	zfs_snapshot_state before
	for cmd in images list "cleanup --yes" "destroy --yes web"; do
		# shellcheck disable=SC2086
		run_qvm $cmd
		expect_exit 1
		expect_match 'unexpected output of zfs get' err
	done
	expect_state_unchanged before
}
test_case 'a mark value holding a whole volume'"'"'s lines for another dataset: refused, nothing done' t_forged_volume

test_done
