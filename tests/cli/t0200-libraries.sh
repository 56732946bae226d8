#!/bin/bash
# SPDX-License-Identifier: MIT
# libvirt and libcurl are loaded when a command first needs them, not
# linked: qvm starts without them, works without them where they are not
# needed, and says which package is missing where they are.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"

setup() {
	# AddressSanitizer builds link both (see meson.build)
	! ldd "$QVM" 2>/dev/null | grep -q libasan || skip "an AddressSanitizer build"
	base_image
}

# without SONAME COMMAND...: runs COMMAND in a mount namespace where the
# library SONAME is an empty file, as if its package were broken or gone
without() {
	local lib=$1
	shift
	[ "$(id -u)" = 0 ] || skip "needs root (a private mount namespace)"
	local path
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|64bit/ {print $NF; exit}')
	[ -n "$path" ] || path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
	[ -n "$path" ] || skip "$lib is not installed"
	unshare -m true 2>/dev/null || skip "cannot make a mount namespace here"
	status=0
	unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$path" "$@" \
		>"$TEST_DIR/out" 2>"$TEST_DIR/err" </dev/null || status=$?
}

t_not_linked() {
	local bin=${QVM_REAL:-$QVM}
	ldd "$bin" >libs
	expect_no_match 'libvirt\.so|libcurl\.so' libs
}
test_case 'qvm is not linked with libvirt or libcurl' t_not_linked

t_no_libvirt() {
	make_image disk.raw 1M
	without libvirt.so.0 "$QVM" import disk.raw tank/images/other
	expect_exit 0
	# (qvm vm runs virt-install, which needs libvirt itself)
	vm_file web1.yaml web1
	run_qvm vm web1.yaml
	expect_exit 0
	without libvirt.so.0 "$QVM" list
	expect_exit 0
	expect_match '^web1 +unknown ' out
	expect_match "^Warning: VM web1: cannot load libvirt\.so\.0 \(install libvirt0\): .*libvirt\.so\.0: file too short$" err
	without libvirt.so.0 "$QVM" destroy --yes web1
	expect_exit 1
	expect_match "cannot load libvirt\.so\.0 \(install libvirt0\)" err
	expect_eq volume "$(zfs get -H -o value type tank/images/web1)" "the VM's disk is still there"
}
test_case 'without libvirt: import works, list warns, destroy refuses' t_no_libvirt

t_no_curl() {
	make_image disk.raw 1M
	zfs_snapshot_state before
	without libcurl.so.4 "$QVM" import http://127.0.0.1:9/disk.raw tank/images/url
	expect_exit 1
	expect_first_line "^Error importing cloud image: cannot download http://127\.0\.0\.1:9/disk\.raw: cannot load libcurl\.so\.4 \(install libcurl4\): .*: file too short$" err
	expect_state_unchanged before
	without libcurl.so.4 "$QVM" import disk.raw tank/images/local
	expect_exit 0
}
test_case 'without libcurl: a URL says what to install, a local file imports' t_no_curl

test_done
