# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# A private libvirt daemon for tests that need domains to outlive the
# process that made them (qvm list, qvm destroy, qvm vm --wait): libvirt's
# test:///default driver keeps its domains in the memory of the process
# that opened it, so virt-install's domains vanish when it exits. Here
# libvirtd runs in the foreground with its own socket under $TEST_ROOT, and
# a `virsh event --loop` client keeps the daemon's test:///default open (the
# driver forgets its domains when its last connection closes). Source after
# lib.sh, then:
#
#   libvirtd_for_cases                         # sets LV_URI, or LV_OK=0
#   ... a case that needs it calls need_libvirtd (skipped without it) and
#   uses connect: $LV_URI ...
#   (libvirtd_stop runs at exit)
# or libvirtd_start itself (returns 1 when the daemon cannot start).
#
# Both are stopped by their process ids, never by name.

LV_DIR=
LV_URI=
_lv_pid=
_lv_holder=

libvirtd_start() {
	local i
	command -v libvirtd >/dev/null 2>&1 || return 1
	command -v virsh >/dev/null 2>&1 || return 1
	LV_DIR=$TEST_ROOT/libvirtd
	mkdir -p "$LV_DIR"
	cat >"$LV_DIR/libvirtd.conf" <<-CONF
	unix_sock_dir = "$LV_DIR"
	unix_sock_rw_perms = "0700"
	unix_sock_ro_perms = "0700"
	auth_unix_rw = "none"
	auth_unix_ro = "none"
	log_outputs = "1:file:$LV_DIR/libvirtd.log"
	CONF
	# every driver module but QEMU's: the tests use the test driver, and
	# the QEMU driver refuses to start without libvirt-daemon-system's
	# libvirt-qemu user (which a test machine need not have)
	mkdir -p "$LV_DIR/drivers"
	for m in /usr/lib/*/libvirt/connection-driver/libvirt_driver_*.so; do
		case $m in */libvirt_driver_qemu.so) continue ;; esac
		[ -e "$m" ] && ln -sf "$m" "$LV_DIR/drivers/"
	done
	# in a mount namespace of its own, with empty /run/libvirt, /etc/libvirt,
	# /var/lib/libvirt and /var/cache/libvirt: nothing is shared with a
	# libvirtd the host may run (pid files, networks to autostart)
	if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
		unshare -m --propagation private true 2>/dev/null; then
		unshare -m --propagation private sh -c '
			for d in /run/libvirt /etc/libvirt /var/lib/libvirt /var/cache/libvirt; do
				[ -d "$d" ] && mount -t tmpfs tmpfs "$d"
			done
			exec "$@"' sh env LIBVIRT_DRIVER_DIR="$LV_DIR/drivers" \
			libvirtd -f "$LV_DIR/libvirtd.conf" -p "$LV_DIR/libvirtd.pid" \
			>"$LV_DIR/out" 2>&1 </dev/null &
	else
		LIBVIRT_DRIVER_DIR=$LV_DIR/drivers \
			libvirtd -f "$LV_DIR/libvirtd.conf" -p "$LV_DIR/libvirtd.pid" >"$LV_DIR/out" 2>&1 </dev/null &
	fi
	_lv_pid=$!
	trap libvirtd_stop EXIT
	LV_URI="test+unix:///default?socket=$LV_DIR/libvirt-sock"
	export LV_URI
	for i in $(seq 100); do
		[ -S "$LV_DIR/libvirt-sock" ] && virsh -c "$LV_URI" version >/dev/null 2>&1 && break
		kill -0 "$_lv_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	virsh -c "$LV_URI" event --all --loop >/dev/null 2>&1 </dev/null &
	_lv_holder=$!
	for i in $(seq 50); do
		virsh -c "$LV_URI" list --all >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# libvirtd_for_cases: start the daemon for a test file's cases; LV_OK=1
# if it runs. need_libvirtd: skip the current case when it does not.
LV_OK=0
libvirtd_for_cases() {
	LV_OK=0
	libvirtd_start && LV_OK=1
	return 0
}
need_libvirtd() { [ "$LV_OK" = 1 ] || skip "libvirtd could not be started"; }

libvirtd_stop() {
	if [ -n "$_lv_holder" ]; then
		kill "$_lv_holder" 2>/dev/null
		wait "$_lv_holder" 2>/dev/null
		_lv_holder=
	fi
	if [ -n "$_lv_pid" ]; then
		kill "$_lv_pid" 2>/dev/null
		wait "$_lv_pid" 2>/dev/null
		_lv_pid=
	fi
}

# libvirtd_clear_domains: stop and undefine every domain on the daemon but
# the test driver's own "test", so that what a failed case left does not
# fail the next. By UUID: virsh takes a name of digits for an ID.
libvirtd_clear_domains() {
	local uuid name
	[ -n "$LV_URI" ] || return 0
	virsh -c "$LV_URI" list --all --uuid --name | while read -r uuid name; do
		[ -n "$uuid" ] && [ "$name" != test ] || continue
		virsh -c "$LV_URI" destroy "$uuid" >/dev/null 2>&1 || true
		virsh -c "$LV_URI" undefine "$uuid" >/dev/null 2>&1 || true
	done
	return 0
}

# lv_domain_exists NAME: the daemon has a domain NAME.
lv_domain_exists() {
	virsh -c "$LV_URI" dominfo "$1" >/dev/null 2>&1
}
