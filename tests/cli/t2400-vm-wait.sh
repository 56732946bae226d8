#!/bin/bash
# SPDX-License-Identifier: MIT
# qvm vm --wait[=SECONDS]: ready is cloud-init's final message in the
# console log libvirt writes for the serial console qvm gives the VM
# ($QVM_STATE_DIR/NAME/console.log). The test driver runs no guest: the
# cases write the console logs themselves, as a guest would. Needs a
# libvirt daemon: the domain must outlive virt-install.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=vmlib.sh
. "$(dirname "$0")/vmlib.sh"
# shellcheck source=libvirtd.sh
. "$(dirname "$0")/libvirtd.sh"

libvirtd_for_cases

setup() { base_image; libvirtd_clear_domains; }

FINAL='[   61.400000] cloud-init[512]: Cloud-init v. 22.4.2 finished at Sat, 05 Dec 2026 02:00:00 +0000. Datasource DataSourceNoCloud [seed=/dev/sr0][dsmode=net].  Up 61.32 seconds'
BOOT=('[    0.000000] Linux version 6.1.0-28-amd64' \
	"[  OK  ] Started cloud-init.service - Initial cloud-init job (metadata service crawler)." \
	"[   40.100000] cloud-init[480]: Cloud-init v. 22.4.2 running 'modules:config' at Sat, 05 Dec 2026 01:59:40 +0000. Up 40.00 seconds.")

# console_writer NAME LOG WHEN LINE...: in the background, once qvm made
# NAME's seed directory and WHEN holds (a shell condition), appends the
# lines (\r\n-terminated, as a serial console does) to LOG (default the
# console log qvm gives NAME).
console_writer() {
	local name=$1 log=$2 when=$3
	shift 3
	[ -n "$log" ] || log=$QVM_STATE_DIR/$name/console.log
	(
		for _ in $(seq 1200); do
			[ -d "$QVM_STATE_DIR/$name" ] && eval "$when" && break
			sleep 0.05
		done
		printf '%s\r\n' "$@" >>"$log"
	) &
}

# after_wait NAME [SECONDS]: a condition for console_writer: qvm says it
# waits for NAME, and SECONDS more have passed.
after_wait() {
	echo "grep -q 'Waiting up to .* VM $1[ ]' '$TEST_DIR/out' && sleep ${2:-0}"
}

t_ready() {
	need_libvirtd
	vm_file w1.yaml w1 "$LV_URI"
	console_writer w1 '' "$(after_wait w1 1)" "${BOOT[@]}" "$FINAL"
	run_qvm vm --wait w1.yaml
	wait
	expect_exit 0
	expect_lines_in_order out '^VM w1 created$' \
		"^Waiting up to 300 seconds for cloud-init to finish on VM w1 \\(console log $QVM_STATE_DIR/w1/console\\.log\\)$" \
		'^VM w1 ready in [0-9]+\.[0-9] s$' \
		'^VM w1 has address 192\.168\.[0-9]+\.[0-9]+; connect with: qvm ssh w1$'
	# the console qvm adds: a pty whose output libvirt logs into the seed directory
	expect_contains "--serial pty,log.file=$QVM_STATE_DIR/w1/console.log" "$VIRT_INSTALL_LOG"
	virsh -c "$LV_URI" dumpxml w1 >xml
	expect_contains "<log file='$QVM_STATE_DIR/w1/console.log'/>" xml
}
test_case '--wait: ready when cloud-init says it finished; the address and qvm ssh' t_ready

t_ready_no_network() {
	need_libvirtd
	vm_file w1n.yaml w1n "$LV_URI"
	sed -i 's/^network: .*/network: none/' w1n.yaml
	console_writer w1n '' "$(after_wait w1n)" "$FINAL"
	run_qvm vm --wait=30 w1n.yaml
	wait
	expect_exit 0
	expect_match '^VM w1n ready in [0-9]+\.[0-9] s$' out
	expect_no_match 'connect with' out
}
test_case '--wait: works with no network (no address: no ssh hint)' t_ready_no_network

t_huge_log() {
	need_libvirtd
	vm_file wh.yaml wh "$LV_URI"
	# 24 MiB of random bytes (NULs, escapes, endless lines), then the message
	head -c 25165824 /dev/urandom >garbage
	( for _ in $(seq 1200); do grep -q 'Waiting up to .* VM wh ' out 2>/dev/null && break; sleep 0.05; done
	  { cat garbage; printf '\r\n%s\r\n' "$FINAL"; } >>"$QVM_STATE_DIR/wh/console.log" ) &
	run_qvm vm --wait=60 wh.yaml
	wait
	expect_exit 0
	expect_match '^VM wh ready in ' out
}
test_case '--wait: a huge log of garbage is read through, bounded' t_huge_log

t_failures() {
	need_libvirtd
	vm_file w2.yaml w2 "$LV_URI"
	console_writer w2 '' "$(after_wait w2)" "${BOOT[@]}" \
		'[   58.100000] cloud-init[512]: /var/lib/cloud/instance/scripts/runcmd: 2: nosuchcmd: not found' \
		'[   58.200000] cloud-init[512]: 2026-12-05 02:00:00,100 - cc_scripts_user.py[WARNING]: Failed to run module scripts-user (scripts in /var/lib/cloud/instance/scripts)' \
		"[   58.300000] cloud-init[512]: 2026-12-05 02:00:00,200 - util.py[WARNING]: Running module scripts-user (<module 'cloudinit.config.cc_scripts_user'>) failed" \
		"$FINAL"
	run_qvm vm --wait=30 w2.yaml
	wait
	expect_exit 1
	expect_line 'VM w2 created' out
	expect_line 'Warning: VM w2: cloud-init: [   58.200000] cloud-init[512]: 2026-12-05 02:00:00,100 - cc_scripts_user.py[WARNING]: Failed to run module scripts-user (scripts in /var/lib/cloud/instance/scripts)' err
	expect_line "Warning: VM w2: cloud-init: [   58.300000] cloud-init[512]: 2026-12-05 02:00:00,200 - util.py[WARNING]: Running module scripts-user (<module 'cloudinit.config.cc_scripts_user'>) failed" err
	expect_line "Error waiting for virtual machine: VM w2: cloud-init finished with 2 failures (above; log $QVM_STATE_DIR/w2/console.log); the VM stays created" err
	expect_no_match 'ready' out
	# kept: it was made
	lv_domain_exists w2
	zfs list -H -o name tank/images/w2 >/dev/null
	expect_file_exists "$QVM_STATE_DIR/w2/seed.iso"
}
test_case '--wait: cloud-init failures are printed, exit 1, the VM stays' t_failures

t_timeout() {
	need_libvirtd
	vm_file w3.yaml w3 "$LV_URI"
	console_writer w3 '' "$(after_wait w3)" "${BOOT[@]}" "$(printf 'still booting \033]0;pwned\007 \033[2J')"
	run_qvm vm --wait=2 w3.yaml
	wait
	expect_exit 1
	expect_line 'VM w3 created' out
	expect_line "Error waiting for virtual machine: VM w3: cloud-init did not finish within 2 seconds; last line of its console: 'still booting \\x1b]0;pwned\\x07 \\x1b[2J' (log $QVM_STATE_DIR/w3/console.log); the VM stays created" err
	# no control character of the guest's reaches the terminal
	expect_no_match $'\033' err
	expect_no_match $'\033' out
	lv_domain_exists w3
	zfs list -H -o name tank/images/w3 >/dev/null
}
test_case '--wait=SECONDS: timeout says the last line (escaped) and the log; the VM stays' t_timeout

t_timeout_empty() {
	need_libvirtd
	vm_file w3e.yaml w3e "$LV_URI"
	run_qvm vm --wait=1 w3e.yaml
	expect_exit 1
	expect_line "Error waiting for virtual machine: VM w3e: cloud-init did not finish within 1 seconds; nothing on its console yet (log $QVM_STATE_DIR/w3e/console.log); the VM stays created" err
}
test_case '--wait: nothing on the console at all' t_timeout_empty

t_escaped_failure() {
	need_libvirtd
	vm_file w3f.yaml w3f "$LV_URI"
	console_writer w3f '' "$(after_wait w3f)" \
		"$(printf 'cloud-init[1]: util.py[WARNING]: Running module runcmd \033[31mred\033[0m failed\001')" "$FINAL"
	run_qvm vm --wait=30 w3f.yaml
	wait
	expect_exit 1
	expect_line 'Warning: VM w3f: cloud-init: cloud-init[1]: util.py[WARNING]: Running module runcmd \x1b[31mred\x1b[0m failed\x01' err
	expect_no_match $'\033' err
}
test_case '--wait: failure lines are printed escaped' t_escaped_failure

t_stopped() {
	need_libvirtd
	vm_file w6.yaml w6 "$LV_URI"
	# the guest powers off before cloud-init finishes
	( for _ in $(seq 600); do grep -q 'Waiting up to' "$TEST_DIR/out" 2>/dev/null && break; sleep 0.05; done
	  virsh -c "$LV_URI" destroy w6 >/dev/null ) &
	run_qvm vm --wait=60 w6.yaml
	wait
	expect_exit 1
	expect_line "Error waiting for virtual machine: VM w6 shut off before cloud-init finished; nothing on its console yet (log $QVM_STATE_DIR/w6/console.log); the VM stays created" err
	lv_domain_exists w6
}
test_case '--wait: the domain stopping ends the wait at once' t_stopped

t_interrupt() {
	need_libvirtd
	vm_file wi.yaml wi "$LV_URI"
	status=0
	"$QVM" vm --wait=60 wi.yaml >out 2>err </dev/null &
	pid=$!
	# once it waits (a signal before would roll the VM back)
	for _ in $(seq 1200); do grep -q 'Waiting up to' out && break; sleep 0.05; done
	kill -INT "$pid"
	wait "$pid" || status=$?
	expect_eq 130 "$status"
	expect_line 'VM wi created' out
	expect_line 'Error waiting for virtual machine: VM wi: interrupted by signal SIGINT; the VM stays created' err
	lv_domain_exists wi
	zfs list -H -o name tank/images/wi >/dev/null
}
test_case '--wait: SIGINT ends the wait; the VM stays' t_interrupt

t_own_serial() {
	need_libvirtd
	vm_file w7.yaml w7 "$LV_URI" "serial: {type: file, path: $TEST_DIR/own.log}"
	console_writer w7 "$TEST_DIR/own.log" "$(after_wait w7)" "${BOOT[@]}" "$FINAL"
	run_qvm vm --wait=30 w7.yaml
	wait
	expect_exit 0
	expect_line "Waiting up to 30 seconds for cloud-init to finish on VM w7 (console log $TEST_DIR/own.log)" out
	expect_match '^VM w7 ready in ' out
	# no second serial added
	expect_no_match 'log\.file' "$VIRT_INSTALL_LOG"
}
test_case "--wait follows the file's own serial console file" t_own_serial

t_own_serial_appended() {
	need_libvirtd
	# an earlier boot's final message in a log that is appended to is not
	# this boot's: the wait goes on until this boot's comes
	printf '%s\r\n' "${BOOT[@]}" "$FINAL" >"$TEST_DIR/old.log"
	vm_file w7a.yaml w7a "$LV_URI" "serial: {type: file, path: $TEST_DIR/old.log}"
	run_qvm vm --wait=2 w7a.yaml
	expect_exit 1
	expect_match "^Error waiting for virtual machine: VM w7a: cloud-init did not finish within 2 seconds; nothing on its console yet" err
	console_writer w7b "$TEST_DIR/old.log" "$(after_wait w7b)" 'second boot' "$FINAL"
	vm_file w7b.yaml w7b "$LV_URI" "serial: {type: file, path: $TEST_DIR/old.log}"
	run_qvm vm --wait=30 w7b.yaml
	wait
	expect_exit 0
	expect_match '^VM w7b ready in ' out
}
test_case "--wait on a log appended to: only what follows the domain's start counts" t_own_serial_appended

t_final_message() {
	need_libvirtd
	# a final_message of the user-data's own replaces cloud-init's: qvm
	# says so and waits for the address instead of timing out
	vm_file w10.yaml w10 "$LV_URI"
	sed -i 's/^qvm: user-data$/&\nfinal_message: "done: $UPTIME"/' w10.yaml
	run_qvm vm --wait=30 w10.yaml
	expect_exit 0
	expect_line "Waiting up to 30 seconds for VM w10's address: its user-data sets final_message, which replaces the message that tells cloud-init finished" out
	expect_match '^VM w10 has address ' out
}
test_case "--wait with the user-data's own final_message: the address, said why" t_final_message

t_unreadable() {
	need_libvirtd
	mkdir not-a-file
	vm_file wu.yaml wu "$LV_URI" "serial: {type: file, path: $TEST_DIR/not-a-file}"
	run_qvm vm --wait=30 wu.yaml
	expect_exit 1
	expect_line "Error waiting for virtual machine: VM wu: cannot read $TEST_DIR/not-a-file: not a regular file (the VM stays created)" err
	lv_domain_exists wu
}
test_case '--wait: a console log that cannot be read is an error; the VM stays' t_unreadable

t_unfollowable() {
	need_libvirtd
	vm_file w8.yaml w8 "$LV_URI" "serial: pty"
	run_qvm vm --wait=30 w8.yaml
	expect_exit 0
	expect_line "Waiting up to 30 seconds for VM w8's address: its serial console writes to no file" out
	expect_match '^VM w8 has address 192\.168\.[0-9]+\.[0-9]+ \(cloud-init may still be running\); connect with: qvm ssh w8$' out
	expect_no_match 'log\.file' "$VIRT_INSTALL_LOG"

	# ... and without an address, the address wait's timeout
	vm_file w9.yaml w9 "$LV_URI" "serial: pty"
	sed -i 's/^network: .*/network: none/' w9.yaml
	run_qvm vm --wait=1 w9.yaml
	expect_exit 1
	expect_line 'Error waiting for virtual machine: VM w9 has no IP address after 1 seconds (it stays created)' err
	lv_domain_exists w9
}
test_case "--wait: a console qvm cannot read falls back to the address, and says so" t_unfollowable

t_count_wait() {
	need_libvirtd
	vm_file w4.yaml w4 "$LV_URI"
	# the logs finish in reverse order of creation, each only once qvm
	# waits for all three: a wait one VM after another would report w4-1
	# first
	console_writer w4-1 '' "$(after_wait w4-3 2.4)" "${BOOT[@]}" "$FINAL"
	console_writer w4-2 '' "$(after_wait w4-3 1.6)" "${BOOT[@]}" "$FINAL"
	console_writer w4-3 '' "$(after_wait w4-3 0.8)" "${BOOT[@]}" "$FINAL"
	run_qvm vm --count 3 --wait=60 w4.yaml
	wait
	expect_exit 0
	expect_lines_in_order out '^VM w4-1 created$' '^VM w4-2 created$' '^VM w4-3 created$' \
		'^Waiting up to 60 seconds for cloud-init to finish on VM w4-1 ' \
		'^Waiting up to 60 seconds for cloud-init to finish on VM w4-3 ' \
		'^VM w4-3 ready in ' '^VM w4-2 ready in ' '^VM w4-1 ready in ' \
		'^Created 3 of 3 VMs: w4-1, w4-2, w4-3; ready: w4-1, w4-2, w4-3$'
	expect_no_match '^Error' err
}
test_case '--count with --wait: all created, then all waited for at once' t_count_wait

t_count_wait_mixed() {
	need_libvirtd
	vm_file w5.yaml w5 "$LV_URI"
	console_writer w5-1 '' "$(after_wait w5-3)" "$FINAL"
	console_writer w5-2 '' "$(after_wait w5-3)" 'cloud-init[1]: util.py[WARNING]: Running module runcmd (x) failed' "$FINAL"
	run_qvm vm --count 3 --wait=3 w5.yaml
	wait
	expect_exit 1
	expect_line 'Created 3 of 3 VMs: w5-1, w5-2, w5-3; ready: w5-1' out
	expect_contains 'Error waiting for virtual machine: VM w5-2: cloud-init finished with 1 failure' err
	expect_contains 'Error waiting for virtual machine: VM w5-3: cloud-init did not finish within 3 seconds' err
	expect_line 'Error waiting for virtual machine: 2 of 3 VMs not ready: w5-2 (cloud-init failed), w5-3 (timed out)' err
	lv_domain_exists w5-2
	lv_domain_exists w5-3
}
test_case '--count with --wait: the summary says which are ready and which not' t_count_wait_mixed

t_destroy() {
	need_libvirtd
	vm_file wd.yaml wd "$LV_URI"
	console_writer wd '' "$(after_wait wd)" "$FINAL"
	run_qvm vm --wait=30 wd.yaml
	wait
	expect_exit 0
	# what libvirt, virtlogd and qvm ssh leave there
	echo '127.0.0.1 ssh-ed25519 AAAA' >"$QVM_STATE_DIR/wd/known_hosts"
	echo old >"$QVM_STATE_DIR/wd/console.log.1"
	echo older >"$QVM_STATE_DIR/wd/console.log.2"
	run_qvm destroy --yes wd
	expect_exit 0
	expect_file_absent "$QVM_STATE_DIR/wd"
	! lv_domain_exists wd

	# a file of someone else's stays, with the directory, and is named
	vm_file we.yaml we "$LV_URI"
	run_qvm vm we.yaml
	expect_exit 0
	echo x >"$QVM_STATE_DIR/we/console.log"
	echo mine >"$QVM_STATE_DIR/we/notes.txt"
	run_qvm destroy --yes we
	expect_exit 1
	expect_contains "cannot remove $QVM_STATE_DIR/we: Directory not empty (it holds notes.txt)" err
	expect_file_absent "$QVM_STATE_DIR/we/console.log"
	expect_file_exists "$QVM_STATE_DIR/we/notes.txt"
}
test_case 'destroy removes the console logs and known_hosts with the seed directory' t_destroy

t_wait_bad() {
	vm_file w0.yaml w0
	run_qvm vm --wait=soon w0.yaml
	expect_exit 1
	expect_line "Error validating virtual machine: --wait must be a whole number from 0 to 86400, not 'soon'" err
	expect_file_absent "$QVM_STATE_DIR"
}
test_case '--wait with a bad number changes nothing' t_wait_bad

test_done
