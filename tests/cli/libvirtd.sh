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
# or libvirtd_start itself (returns 1 when the daemon cannot start), or
# libvirtd_launch DIR for more daemons than one (hosts.sh: one per test
# host).
#
# All are stopped by their process ids, never by name: at exit (lib.sh's
# at_exit), or by libvirtd_stop. Each runs with PR_SET_PDEATHSIG (setpriv),
# so a test file killed outright does not leave it behind.

LV_DIR=
LV_URI=
# shellcheck disable=SC2034 # set for hosts.sh
LV_LAUNCHED_PID=
LV_LAUNCHED_URI=
_lv_prefix=()
# "OWNER DAEMON HOLDER" per daemon: OWNER is the $BASHPID of the shell that
# started it (a case's subshell must not stop the test file's daemons)
_lv_daemons=()

# _lv_pdeathsig: setpriv's prefix that makes the kernel send SIGTERM to the
# command when this shell exits, if setpriv can.
_lv_pdeathsig() {
	_lv_prefix=()
	if command -v setpriv >/dev/null 2>&1 && setpriv --pdeathsig TERM true 2>/dev/null; then
		_lv_prefix=(setpriv --pdeathsig TERM)
	fi
}

# libvirtd_launch DIR: a libvirtd serving the test driver on the socket
# DIR/libvirt-sock, with its configuration, pid file and log in DIR, and a
# client holding its test:///default open. Sets LV_LAUNCHED_URI (the
# test+unix URI) and LV_LAUNCHED_PID; returns 1 when it cannot start.
libvirtd_launch() {
	local dir=$1 i pid holder uri m
	LV_LAUNCHED_PID=
	LV_LAUNCHED_URI=
	command -v libvirtd >/dev/null 2>&1 || return 1
	command -v virsh >/dev/null 2>&1 || return 1
	mkdir -p "$dir"
	cat >"$dir/libvirtd.conf" <<-CONF
	unix_sock_dir = "$dir"
	unix_sock_rw_perms = "0700"
	unix_sock_ro_perms = "0700"
	auth_unix_rw = "none"
	auth_unix_ro = "none"
	log_outputs = "1:file:$dir/libvirtd.log"
	CONF
	# every driver module but QEMU's: the tests use the test driver, and
	# the QEMU driver refuses to start without libvirt-daemon-system's
	# libvirt-qemu user (which a test machine need not have)
	mkdir -p "$dir/drivers"
	for m in /usr/lib/*/libvirt/connection-driver/libvirt_driver_*.so; do
		case $m in */libvirt_driver_qemu.so) continue ;; esac
		[ -e "$m" ] && ln -sf "$m" "$dir/drivers/"
	done
	_lv_pdeathsig
	# in a mount namespace of its own, with empty /run/libvirt, /etc/libvirt,
	# /var/lib/libvirt and /var/cache/libvirt: nothing is shared with a
	# libvirtd the host may run (pid files, networks to autostart)
	if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
		unshare -m --propagation private true 2>/dev/null; then
		"${_lv_prefix[@]}" unshare -m --propagation private sh -c '
			for d in /run/libvirt /etc/libvirt /var/lib/libvirt /var/cache/libvirt; do
				[ -d "$d" ] && mount -t tmpfs tmpfs "$d"
			done
			exec "$@"' sh env LIBVIRT_DRIVER_DIR="$dir/drivers" \
			libvirtd -f "$dir/libvirtd.conf" -p "$dir/libvirtd.pid" \
			>"$dir/out" 2>&1 </dev/null &
	else
		LIBVIRT_DRIVER_DIR=$dir/drivers "${_lv_prefix[@]}" \
			libvirtd -f "$dir/libvirtd.conf" -p "$dir/libvirtd.pid" >"$dir/out" 2>&1 </dev/null &
	fi
	pid=$!
	_lv_daemons+=("$BASHPID $pid -")
	at_exit libvirtd_stop
	uri="test+unix:///default?socket=$dir/libvirt-sock"
	for i in $(seq 100); do
		[ -S "$dir/libvirt-sock" ] && virsh -c "$uri" version >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	"${_lv_prefix[@]}" virsh -c "$uri" event --all --loop >/dev/null 2>&1 </dev/null &
	holder=$!
	_lv_daemons[${#_lv_daemons[@]} - 1]="$BASHPID $pid $holder"
	for i in $(seq 50); do
		if virsh -c "$uri" list --all >/dev/null 2>&1; then
			LV_LAUNCHED_PID=$pid
			LV_LAUNCHED_URI=$uri
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# libvirtd_start: the test file's daemon, in $TEST_ROOT/libvirtd; sets
# LV_DIR and LV_URI.
libvirtd_start() {
	LV_DIR=$TEST_ROOT/libvirtd
	LV_URI="test+unix:///default?socket=$LV_DIR/libvirt-sock"
	export LV_URI
	libvirtd_launch "$LV_DIR"
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

# libvirtd_stop [PID]: stop the daemon PID (as libvirtd_launch set
# LV_LAUNCHED_PID), or every daemon this shell started, and their holders.
libvirtd_stop() {
	local i owner pid holder keep=()
	for i in "${!_lv_daemons[@]}"; do
		read -r owner pid holder <<<"${_lv_daemons[$i]}"
		if [ "$owner" != "$BASHPID" ] || { [ $# -gt 0 ] && [ "$1" != "$pid" ]; }; then
			keep+=("${_lv_daemons[$i]}")
			continue
		fi
		if [ "$holder" != - ]; then
			kill "$holder" 2>/dev/null
			wait "$holder" 2>/dev/null
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	_lv_daemons=("${keep[@]}")
	return 0
}

# libvirtd_clear_domains [URI]: stop and undefine every domain on the
# daemon ($LV_URI by default) but the test driver's own "test", so that what
# a failed case left does not fail the next. By UUID: virsh takes a name of
# digits for an ID.
libvirtd_clear_domains() {
	local uuid name uri=${1:-$LV_URI}
	[ -n "$uri" ] || return 0
	virsh -c "$uri" list --all --uuid --name | while read -r uuid name; do
		[ -n "$uuid" ] && [ "$name" != test ] || continue
		virsh -c "$uri" destroy "$uuid" >/dev/null 2>&1 || true
		virsh -c "$uri" undefine "$uuid" >/dev/null 2>&1 || true
	done
	return 0
}

# lv_domain_exists NAME: the daemon has a domain NAME.
lv_domain_exists() {
	virsh -c "$LV_URI" dominfo "$1" >/dev/null 2>&1
}
