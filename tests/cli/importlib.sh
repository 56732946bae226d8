# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Helpers for the tests of qvm import: a pool, a private TMPDIR, and what a
# finished or refused import leaves. Source after lib.sh.

ERR='Error importing cloud image: '
ZV=tank/images/deb

setup() {
	zfs_pool
	export TMPDIR=$TEST_DIR/tmp
	mkdir -p "$TMPDIR"
}

dev() { echo "$QVM_ZVOL_DIR/$1"; }

# expect_holds IMAGE ZVOL: the device and ZVOL@base hold IMAGE, zeros after.
expect_holds() {
	local image=$1 zvol=$2 size devsize
	size=$(stat -c %s "$image")
	devsize=$(stat -c %s "$(dev "$zvol")")
	[ "$devsize" -ge "$size" ] || { _fail "device is $devsize bytes, image $size"; return 1; }
	cmp -n "$size" "$image" "$(dev "$zvol")" || { _fail "device differs from $image"; return 1; }
	if [ "$devsize" -gt "$size" ]; then
		cmp -i "$size:0" -n $((devsize - size)) "$(dev "$zvol")" /dev/zero ||
			{ _fail "device tail is not zeros"; return 1; }
	fi
	expect_eq snapshot "$(zfs get -H -o value type "$zvol@base")" "$zvol@base"
	expect_eq ready "$(zfs get -H -o value qvm:state "$zvol")" "qvm:state"
}

# expect_failed REGEX: exit 1, REGEX after the prefix on stderr's first line.
expect_failed() {
	expect_exit 1
	expect_first_line "^${ERR}$1" err
}

# expect_rolled_back BEFORE: nothing is left, no temporary file either.
expect_rolled_back() {
	expect_state_unchanged "$1"
	expect_eq "" "$(ls -A "$TMPDIR")" "files left in TMPDIR"
}

# A 3 MiB image shaped like a cloud image (data, holes, zero runs).
image() { make_image disk.raw 3M "${1:-1}"; }

