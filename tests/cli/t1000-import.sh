#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm import IMAGE ZVOL (SPEC §2): the zfs calls it makes, the device
# content, progress output, and every error case of §2, each of which must
# leave nothing behind (§5).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ERR='Error importing cloud image: '
ZV=tank/images/deb

setup() {
	zfs_pool
}

dev() { echo "$QVM_ZVOL_DIR/$1"; }

# expect_imported IMAGE ZVOL: the device holds IMAGE, then zeros up to the
# next MiB; ZVOL@base exists and holds the same.
expect_imported() {
	local image=$1 zvol=$2 size rounded
	size=$(stat -c %s "$image")
	rounded=$(( (size + 1048575) / 1048576 * 1048576 ))
	expect_eq "$rounded" "$(stat -c %s "$(dev "$zvol")")" "device size"
	expect_eq $'volume\t'"$rounded" "$(zfs get -H -p -o value type,volsize "$zvol" | paste -s)" \
		"type and volsize"
	cmp -n "$size" "$image" "$(dev "$zvol")" || { _fail "device differs from $image"; return 1; }
	if [ "$rounded" -gt "$size" ]; then
		cmp -i "$size:0" -n $((rounded - size)) "$(dev "$zvol")" /dev/zero ||
			{ _fail "device tail after the image is not zeros"; return 1; }
	fi
	expect_eq snapshot "$(zfs get -H -o value type "$zvol@base")" "$zvol@base"
	# the snapshot was taken after the write: a clone of it holds the image
	zfs clone "$zvol@base" "$zvol-check"
	cmp -n "$size" "$image" "$(dev "$zvol-check")" ||
		{ _fail "$zvol@base does not hold the image"; return 1; }
	zfs destroy "$zvol-check"
}

# expect_failed REGEX: qvm exited 1 with REGEX (after the error prefix) on
# the first line of stderr.
expect_failed() {
	expect_exit 1
	expect_first_line "^${ERR}$1" err
}

# --- success -----------------------------------------------------------------

t_success() {
	make_image disk.raw 3000000
	zfs_snapshot_state before
	run_qvm import disk.raw $ZV
	expect_exit 0
	expect_empty err
	zfs_mutations calls
	# exactly: create (with qvm:* marks at most), snapshot, then qvm:* sets
	expect_first_line "^create -V 3145728 -o volblocksize=16K -o refreservation=none( -o '?qvm:[a-z_.-]+=[^ ]*)* $ZV\$" calls
	expect_eq "snapshot $ZV@base" "$(sed -n 2p calls)" "second zfs change"
	expect_no_match "^(destroy|clone|create)" <(tail -n +2 calls)
	expect_no_match "^set (.* )?[^q ][^ ]*=|^set .* [^ ]+ [^ ]+$" <(grep '^set' calls || true)
	expect_imported disk.raw $ZV
	expect_eq $'16K\t-' "$(zfs get -H -o value,source volblocksize $ZV)" "volblocksize"
	expect_eq $'none\tlocal' "$(zfs get -H -o value,source refreservation $ZV)" "refreservation"
	# progress: each step announced, a final line
	expect_lines_in_order out "Creating zvol $ZV" "Writing image" "Creating snapshot $ZV@base"
	expect_match '^Imported' <(tail -n 1 out)
}
test_case 'success: zfs create + snapshot, device holds the image, progress on stdout' t_success

# locale_recorder PROG REAL: a PROG first on PATH that appends
# "SUBCOMMAND|$LC_ALL|$LANGUAGE" to ./PROG.locale, then runs REAL.
locale_recorder() {
	mkdir -p bin
	cat >"bin/$1" <<-EOF
	#!/bin/sh
	printf '%s|%s|%s\\n' "\$1" "\${LC_ALL-unset}" "\${LANGUAGE-unset}" >>'$TEST_DIR/$1.locale'
	exec '$2' "\$@"
	EOF
	chmod +x "bin/$1"
}

t_locale() {
	make_image disk.raw 3M
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	locale_recorder zfs "$TEST_REPO/tests/zfs-double/zfs"
	locale_recorder qemu-img "$(command -v qemu-img)"
	PATH=$TEST_DIR/bin:$PATH LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 LANGUAGE=de:en run_qvm import disk.qcow2 $ZV
	expect_exit 0
	expect_imported disk.raw $ZV
	# what qvm reads is in English: zfs's messages and tables, qemu-img's
	# JSON and check report
	expect_match '^create\|' zfs.locale
	expect_no_match . <(grep -v '|C|C$' zfs.locale || true)
	expect_eq 'check|C|C info|C|C' "$(grep -E '^(info|check)\|' qemu-img.locale | sort | paste -sd ' ')" \
		"qemu-img info and check"
	# what the user reads is in the user's language: the conversion
	expect_eq 'convert|de_DE.UTF-8|de:en' "$(grep '^convert|' qemu-img.locale)" "qemu-img convert"
}
test_case "zfs and qemu-img info/check run in the C locale, qemu-img convert in the user's" t_locale

t_mib_multiple() {
	make_image disk.raw 2M
	run_qvm import disk.raw $ZV
	expect_exit 0
	expect_match "^create -V 2097152 .* $ZV\$" "$ZFS_DOUBLE_LOG"
	expect_imported disk.raw $ZV
	printf 'x' >one.raw       # no disk to libblkid: imported with --force
	run_qvm import --force one.raw tank/images/one
	expect_exit 0
	expect_match "^create -V 1048576 .* tank/images/one\$" "$ZFS_DOUBLE_LOG"
	expect_imported one.raw tank/images/one
}
test_case 'image sizes: a whole number of MiB, and 1 byte (rounded to 1 MiB)' t_mib_multiple

t_sparse() {
	make_image sparse.raw 96M 7
	expect_eq 1 "$(test "$(du -k sparse.raw | cut -f1)" -lt 4096 && echo 1)" "the image is sparse"
	run_qvm import sparse.raw $ZV
	expect_exit 0
	expect_empty err
	expect_imported sparse.raw $ZV
}
test_case 'sparse image with holes and zero runs: device content identical' t_sparse

t_loop() {
	make_image disk.raw 5M 3
	loopdev=$(losetup --find --show disk.raw 2>/dev/null) || skip "no loop devices here"
	trap 'losetup -d "$loopdev"' EXIT
	run_qvm import "$loopdev" $ZV
	expect_exit 0
	expect_imported disk.raw $ZV
	# a qcow2 on a block device: inspected and converted from the device
	qemu-img convert -f raw -O qcow2 disk.raw disk.qcow2
	qdev=$(losetup --find --show disk.qcow2)
	trap 'losetup -d "$loopdev" "$qdev"' EXIT
	run_qvm import "$qdev" tank/images/q
	expect_exit 0
	expect_imported disk.raw tank/images/q
}
test_case 'a block device as the image (raw, and a qcow2)' t_loop

t_sigpipe() {
	make_image disk.raw 2M
	zfs_snapshot_state before
	# the reader of qvm's output goes away: rolled back, as for ^C
	status=0
	"$QVM" import disk.raw $ZV 2>err | head -n 1 >/dev/null || true
	status=${PIPESTATUS[0]}
	expect_eq 141 "$status" "exit status"
	expect_first_line "^Error importing cloud image: interrupted by signal SIGPIPE$" err
	expect_state_unchanged before
}
test_case 'output cut off (qvm import | head -n 1): rolled back, dies of SIGPIPE' t_sigpipe

# --- errors before any change ------------------------------------------------

# before_nothing CMD...: the state before, qvm fails, nothing changed and
# no zfs change was even tried.
t_image_missing() {
	zfs_snapshot_state before
	run_qvm import nosuch.raw $ZV
	expect_failed "cannot open image 'nosuch\.raw': No such file or directory$"
	expect_state_unchanged before
	zfs_mutations calls
	expect_empty calls
}
test_case 'image not found' t_image_missing

t_unknown_scheme() {
	zfs_snapshot_state before
	# a typo'd scheme reads as neither a missing file nor a download
	run_qvm import htps://example.com/a.raw $ZV
	expect_failed "cannot open image 'htps://example\.com/a\.raw': no such file, and not a URL qvm fetches: unknown scheme 'htps' \(only http:// and https://\)$"
	make_image disk.raw 1M
	run_qvm import --checksum-file ftp://example.com/SHA256SUMS disk.raw $ZV
	expect_failed "cannot read checksum file 'ftp://example\.com/SHA256SUMS': no such file, and not a URL qvm fetches: unknown scheme 'ftp' .*$"
	expect_state_unchanged before
	# a local file of that name is still a file
	mkdir -p htps:/example.com
	make_image htps:/example.com/a.raw 1M
	run_qvm import htps://example.com/a.raw $ZV
	expect_exit 0
}
test_case 'a source with a scheme qvm does not fetch: said so' t_unknown_scheme

t_image_kinds() {
	zfs_snapshot_state before
	mkdir adir
	run_qvm import adir $ZV
	expect_failed "image 'adir' is not a regular file or block device$"
	run_qvm import /dev/null $ZV
	expect_failed "image '/dev/null' is not a regular file or block device$"
	: >empty.raw
	run_qvm import empty.raw $ZV
	expect_failed "image 'empty\.raw' is empty$"
	ln -s nowhere dangling.raw
	run_qvm import dangling.raw $ZV
	expect_failed "cannot open image 'dangling\.raw': No such file or directory$"
	ln -s loop.raw loop.raw
	run_qvm import loop.raw $ZV
	expect_failed "cannot open image 'loop\.raw': Too many levels of symbolic links$"
	expect_state_unchanged before
	zfs_mutations calls
	expect_empty calls
}
test_case 'image is a directory, a character device, empty, or a bad link' t_image_kinds

t_image_fifo() {
	zfs_snapshot_state before
	mkfifo fifo
	# opening a FIFO for reading blocks until a writer comes: qvm must not
	TEST_TIMEOUT=5 run_qvm import fifo $ZV
	expect_failed "image 'fifo' is not a regular file or block device$"
	expect_state_unchanged before
}
test_case 'image is a FIFO: refused at once, not waited on' t_image_fifo

t_image_unreadable() {
	[ "$(id -u)" != 0 ] || command -v setpriv >/dev/null || skip "root without setpriv"
	make_image disk.raw 1M
	chmod 000 disk.raw
	zfs_snapshot_state before
	if [ "$(id -u)" = 0 ]; then
		# as an unprivileged user root's checks do not apply
		chmod 755 "$TEST_DIR"
		run setpriv --reuid=65534 --regid=65534 --clear-groups "$QVM" import disk.raw $ZV
	else
		run_qvm import disk.raw $ZV
	fi
	expect_failed "cannot open image 'disk\.raw': Permission denied$"
	expect_state_unchanged before
}
test_case 'image not readable' t_image_unreadable

t_zvol_exists() {
	make_image disk.raw 1M
	zfs create -V 1M $ZV
	zfs create tank/images/fs
	zfs_snapshot_state before
	zfs_log_reset
	run_qvm import disk.raw $ZV
	expect_failed "zvol $ZV already exists"
	run_qvm import disk.raw tank/images/fs
	expect_failed ".*tank/images/fs already exists"
	expect_state_unchanged before
	zfs_mutations calls
	expect_empty calls
}
test_case 'zvol (or another dataset) already exists: left alone' t_zvol_exists

t_parent_missing() {
	make_image disk.raw 1M
	zfs create -V 1M tank/images/vol
	zfs_snapshot_state before
	zfs_log_reset
	run_qvm import disk.raw tank/nosuch/deb
	expect_failed "parent dataset tank/nosuch does not exist$"
	run_qvm import disk.raw nopool/images/deb
	expect_failed "pool nopool does not exist$"
	run_qvm import disk.raw nopool/deb
	expect_failed "pool nopool does not exist$"
	run_qvm import disk.raw tank/images/vol/deb
	expect_failed ".*tank/images/vol.*(not a filesystem|volume)"
	expect_state_unchanged before
	zfs_mutations calls
	expect_empty calls
}
test_case 'parent dataset missing, no such pool, parent is a volume' t_parent_missing

t_invalid_names() {
	make_image disk.raw 1M
	zfs_snapshot_state before
	long=tank/images/$(printf 'x%.0s' $(seq 260))
	for name in tank/images/-deb tank/images/.. tank/images/. tank//deb \
		tank/images/deb@base 'tank/images/a b' "tank/images/a'b" 'tank/images/a;b' \
		"$long" /tank/images/deb tank/images/deb/ deb '' 'tank/images/a%b' 'tank/images/ä'; do
		run_qvm import disk.raw "$name"
		expect_exit 1
		expect_contains "${ERR}invalid zvol name '$name': " err
		expect_eq 1 "$(wc -l <err)" "one line of stderr for '$name'"
	done
	# a leading '-' on the whole argument reads as an option: refused too
	run_qvm import disk.raw -tank/deb
	expect_exit 1
	expect_state_unchanged before
	zfs_mutations calls
	expect_empty calls
}
test_case 'invalid zvol names: leading -, . and .., empty component, @, space, too long' t_invalid_names

# --- zfs create fails -------------------------------------------------------

t_perm_denied() {
	make_image disk.raw 1M
	zfs_snapshot_state before
	ZFS_DOUBLE_PERM_DENIED=1 run_qvm import disk.raw $ZV
	expect_failed "cannot create zvol $ZV: .*permission denied"
	expect_state_unchanged before
}
test_case 'permission denied by zfs create' t_perm_denied

t_create_fails() {
	make_image disk.raw 1M
	zfs_snapshot_state before
	ZFS_DOUBLE_FAIL=create run_qvm import disk.raw $ZV
	expect_failed "cannot create zvol $ZV: cannot create '$ZV': out of space$"
	expect_state_unchanged before
	expect_no_match '^destroy' "$ZFS_DOUBLE_LOG"
}
test_case 'zfs create fails (out of space): zfs'"'"'s message, nothing to undo' t_create_fails

# --- after zfs create: everything is undone ------------------------------------

t_device_never() {
	make_image disk.raw 1M
	zfs_snapshot_state before
	QVM_DEVICE_TIMEOUT=1 ZFS_DOUBLE_DEVICE=never run_qvm import disk.raw $ZV
	expect_failed "device $(dev $ZV) did not appear within 1 seconds?$"
	expect_state_unchanged before
	expect_match "^destroy (-r )?$ZV\$" "$ZFS_DOUBLE_LOG"
}
test_case 'device never appears: the zvol is destroyed' t_device_never

t_device_late() {
	make_image disk.raw 3000000
	QVM_DEVICE_TIMEOUT=3 ZFS_DOUBLE_DEVICE=late:1 run_qvm import disk.raw $ZV
	expect_exit 0
	expect_empty err
	expect_imported disk.raw $ZV
}
test_case 'device appears after a second (like udev): import succeeds' t_device_late

t_device_unopenable() {
	make_image disk.raw 1M
	zfs_snapshot_state before
	ZFS_DOUBLE_DEVICE=unopenable run_qvm import disk.raw $ZV
	expect_failed "cannot open device $(dev $ZV): "
	expect_state_unchanged before
	expect_match "^destroy (-r )?$ZV\$" "$ZFS_DOUBLE_LOG"
}
test_case 'device cannot be opened: the zvol is destroyed' t_device_unopenable

t_no_space() {
	yes 'qvm image data' | head -c 3000000 >disk.raw    # 3 MB, no zeros
	make_mbr disk.raw                                   # a disk all the same
	mount -t tmpfs -o size=1M qvm-test "$QVM_ZVOL_DIR" 2>mount.err ||
		skip "cannot mount a tmpfs: $(head -n 1 mount.err)"
	trap 'umount "$QVM_ZVOL_DIR"' EXIT
	zfs_snapshot_state before
	run_qvm import disk.raw $ZV
	expect_failed "cannot write to device $(dev $ZV): No space left on device$"
	expect_state_unchanged before
	expect_match "^destroy (-r )?$ZV\$" "$ZFS_DOUBLE_LOG"
}
test_case 'write fails with no space left: the zvol is destroyed' t_no_space

t_snapshot_fails() {
	make_image disk.raw 1M
	zfs_snapshot_state before
	ZFS_DOUBLE_FAIL=snapshot run_qvm import disk.raw $ZV
	expect_failed "cannot create snapshot $ZV@base: cannot create snapshot '$ZV@base': out of space$"
	expect_state_unchanged before
	expect_match "^destroy (-r )?$ZV\$" "$ZFS_DOUBLE_LOG"
}
test_case 'zfs snapshot fails: the zvol is destroyed' t_snapshot_fails

t_undo_fails() {
	make_image disk.raw 1M
	zfs_snapshot_state before
	ZFS_DOUBLE_FAIL=snapshot,destroy run_qvm import disk.raw $ZV
	expect_failed "cannot create snapshot $ZV@base: "
	expect_match "^Error rolling back: cannot (destroy|remove) zvol $ZV: .*dataset is busy" err
	expect_match "left behind: zvol $ZV" err
	expect_contains "zfs destroy -r $ZV" err
	# it is really left behind, and the command given removes it
	expect_eq volume "$(zfs get -H -o value type $ZV)" "the leftover"
	cmd=$(grep -o "zfs destroy -r $ZV" err | head -n 1)
	$cmd
	expect_state_unchanged before
}
test_case 'undo fails too: says what is left behind and how to remove it' t_undo_fails

t_fault_matrix() {
	make_image disk.raw 2M
	run_qvm import disk.raw tank/images/probe
	expect_exit 0
	calls=$(wc -l <"$ZFS_DOUBLE_LOG")
	zfs destroy -r tank/images/probe
	expect_eq 1 "$([ "$calls" -ge 2 ] && echo 1)" "zfs calls in an import ($calls)"
	for n in $(seq 1 "$calls"); do
		zfs_snapshot_state before
		zfs_calls_reset
		ZFS_DOUBLE_FAIL_CALL=$n run_qvm import disk.raw $ZV
		echo "zfs call $n failing: $(sed -n "${n}p" "$ZFS_DOUBLE_LOG" | tail -n 1)"
		expect_exit 1
		expect_first_line "^$ERR" err
		expect_state_unchanged before
	done
}
test_case 'fault matrix: whichever zfs call fails, qvm fails and leaves nothing' t_fault_matrix

t_signals() {
	make_image disk.raw 1M
	zfs_snapshot_state before
	for sig in INT TERM HUP; do
		QVM_DEVICE_TIMEOUT=30 ZFS_DOUBLE_DEVICE=never "$QVM" import disk.raw $ZV >out 2>err &
		pid=$!
		for _ in $(seq 50); do grep -q '^create' "$ZFS_DOUBLE_LOG" && break; sleep 0.1; done
		sleep 0.3
		kill -s "$sig" "$pid"
		status=0
		wait "$pid" || status=$?
		expect_eq $((128 + $(kill -l "$sig"))) "$status" "exit status after SIG$sig"
		expect_state_unchanged before
		zfs_log_reset
	done
}
test_case 'SIGINT, SIGTERM, SIGHUP while waiting for the device: rolled back, dies of the signal' t_signals

t_no_zfs() {
	make_image disk.raw 1M
	mkdir bin
	run env PATH="$TEST_DIR/bin" "$QVM" import disk.raw $ZV
	expect_exit 1
	expect_first_line "^${ERR}.*zfs" err
	expect_no_match 'does not exist' err
}
test_case 'zfs is not on PATH: said so, not mistaken for a missing dataset' t_no_zfs

test_done
